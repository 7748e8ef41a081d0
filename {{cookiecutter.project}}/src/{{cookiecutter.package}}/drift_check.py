"""drift-check: has the data the model now sees (the current batch) moved away from what it learned from?

Per feature: PSI, Jensen-Shannon distance, the change in missing values, and a test (two-sample KS
for numbers, chi-square for categories) whose p-value is Bonferroni-corrected for the number of
features; for numbers also the Wasserstein distance in reference standard deviations. `drift.statistic`
says which one decides the verdict (PSI by default). The same comparison is made for the model's
predictions, and, when the batch carries labels, its metrics are compared with the test metrics.
Writes metrics, a per-feature table (plotted with its bands) and a Markdown report. It records and
does not fail, unless `drift.fail_stage` says so: `make drift-gate` is what fails CI on drift.
"""

import json
from pathlib import Path

import joblib
import numpy as np
import pandas as pd

from . import drift_stats as ds
from .errors import UserError, run
from .metrics import score
from .params import DRIFT_OVERRIDES, LOWER_IS_BETTER, Drift, Params, load_params
from .tables import feature_columns, is_numeric, read_table, write_json, write_table

ORDER = {"drift": 0, "warn": 1, "stable": 2, "insufficient_data": 3}


def thresholds(policy: Drift, name: str) -> dict:
    """The policy for one feature: the defaults, with its `drift.overrides` entry on top."""
    limits = {key: getattr(policy, key) for key in DRIFT_OVERRIDES} | policy.overrides.get(name, {})
    return limits | {"min_samples": int(limits["min_samples"])}


def compare_feature(name: str, reference: pd.Series, current: pd.Series, policy: Drift, tests: int = 1) -> dict:
    """One row of the drift table. `tests` is how many features are tested at once (for the correction)."""
    limits = thresholds(policy, name)
    ref, cur = reference.dropna(), current.dropna()
    numeric = is_numeric(reference)
    row = {"feature": name, "kind": "numeric" if numeric else "categorical", "n_reference": len(ref),
           "n_current": len(cur), "missing_reference": _share(reference.isna().mean()),
           "missing_current": _share(current.isna().mean()) if len(current) else None,
           "psi": None, "js_distance": None, "pvalue": None, "ks_statistic": None, "wasserstein": None,
           "psi_warn": limits["psi_warn"], "psi_drift": limits["psi_drift"]}
    if numeric and len(cur) and not is_numeric(cur):
        raise UserError(f"current batch: column '{name}': expected numbers as in the training data, "
                        f"found {current.dtype} values such as {cur.iloc[0]!r}")
    if min(len(ref), len(cur)) < limits["min_samples"]:
        return row | {"verdict": "insufficient_data",
                      "moved": f"{min(len(ref), len(cur))} values, fewer than {limits['min_samples']} to judge"}
    if numeric:
        ref_values, cur_values = ref.to_numpy(float), cur.to_numpy(float)
        # Fewer bins for small batches: PSI's noise grows with the number of bins per row.
        bins = int(np.clip(min(len(ref), len(cur)) // policy.min_rows_per_bin, 2, policy.bins))
        edges = ds.quantile_edges(ref_values, bins)
        ref_counts, cur_counts = ds.numeric_counts(ref_values, edges), ds.numeric_counts(cur_values, edges)
        statistic, pvalue = ds.ks_pvalue(ref_values, cur_values)
        row |= {"ks_statistic": round(statistic, 6),
                "wasserstein": round(ds.wasserstein_normed(ref_values, cur_values), 6)}
    else:
        categories, ref_counts, cur_counts = ds.categorical_counts(ref, cur)
        pvalue = ds.chi_square_pvalue(ref_counts, cur_counts)
    ref_share, cur_share = ref_counts / ref_counts.sum(), cur_counts / cur_counts.sum()
    moved = (_numeric_move(ref_values, cur_values) if numeric
             else _category_move(categories, ref_share, cur_share))
    value = ds.psi(ref_share, cur_share)
    row |= {"psi": round(value, 6), "js_distance": round(ds.js_distance(ref_share, cur_share), 6), "pvalue": pvalue}
    if policy.statistic == "psi":
        verdict = "drift" if value >= limits["psi_drift"] else "warn" if value >= limits["psi_warn"] else "stable"
    else:  # Bonferroni: each of `tests` features is tested at pvalue / tests. No warn band: a test says yes or no.
        verdict = "drift" if pvalue < limits["pvalue"] / tests else "stable"
    change = (row["missing_current"] or 0) - row["missing_reference"]
    if abs(change) >= 0.01:
        moved += f"; missing {row['missing_reference']:.0%} -> {row['missing_current']:.0%}"
    return row | {"verdict": verdict, "moved": moved}


def _share(value: float) -> float:
    return round(float(value), 6)


def _numeric_move(reference: np.ndarray, current: np.ndarray) -> str:
    spread = reference.std()
    shift = current.mean() - reference.mean()
    if spread == 0:
        return f"mean {reference.mean():.4g} -> {current.mean():.4g}"
    ratio = current.std() / spread
    return f"mean {shift / spread:+.1f} sd" + (f", spread x{ratio:.1f}" if abs(ratio - 1) >= 0.25 else "")


def _category_move(categories: pd.Index, reference: np.ndarray, current: np.ndarray) -> str:
    changes = np.abs(current - reference)
    if changes[-1] > 0:  # the unseen bucket
        return f"categories unseen in training {current[-1]:.0%} of rows"
    biggest = int(np.argmax(changes[:-1]))
    return f"share of {categories[biggest]} {reference[biggest]:.0%} -> {current[biggest]:.0%}"


def compare(reference: pd.DataFrame, current: pd.DataFrame, features: list[str], policy: Drift) -> pd.DataFrame:
    """The drift table, drifted features first, then by PSI."""
    absent = [name for name in features if name not in current.columns]
    if absent:
        raise UserError(f"current batch: expected the training features, found no column {', '.join(absent)}")
    rows = [compare_feature(name, reference[name], current[name], policy, len(features)) for name in features]
    table = pd.DataFrame(rows)
    table["rank"] = table["verdict"].map(ORDER)
    return table.sort_values(["rank", "psi"], ascending=[True, False]).drop(columns="rank").reset_index(drop=True)


def prediction_drift(pipeline, reference: pd.DataFrame, current: pd.DataFrame, policy: Drift) -> dict:
    """The model's predictions on the current batch against those on the training data."""
    predicted = pd.Series(pipeline.predict(current)) if len(current) else pd.Series(dtype=float)
    return compare_feature("prediction", pd.Series(pipeline.predict(reference)), predicted, policy)


def performance_decay(pipeline, current: pd.DataFrame, params: Params, test_metrics: dict) -> dict | None:
    """With labels in the current batch: the metric there against the test metric (concept drift)."""
    if params.target not in current.columns:
        return None
    labelled = current.dropna(subset=[params.target])
    metric = params.gates.champion.metric
    if len(labelled) < params.drift.min_samples or metric not in test_metrics:
        return None
    features = labelled[feature_columns(labelled, params.target)]
    now = score(pipeline, features, labelled[params.target], params.task).get(metric)
    if now is None:
        return None
    tested = test_metrics[metric]
    worse = (now - tested) if metric in LOWER_IS_BETTER else (tested - now)
    # Relative, so one setting serves an accuracy near 1 and an RMSE in the data's own units.
    decay = worse / abs(tested) if tested else worse
    return {"metric": metric, "test": tested, "current": now, "rows": len(labelled),
            "decay": round(float(decay), 6), "concept_drift": bool(decay > params.drift.max_decay)}


def summarize(table: pd.DataFrame, policy: Drift, prediction: dict | None = None, decay: dict | None = None) -> dict:
    """The batch verdict (stable, warn, drift, insufficient_data) and what to do about it."""
    counts = table["verdict"].value_counts()
    judged = len(table) - int(counts.get("insufficient_data", 0))
    drifted = int(counts.get("drift", 0))
    share = drifted / judged if judged else 0.0
    if not judged:
        verdict = "insufficient_data"
    elif drifted and share >= policy.dataset_drift_share:
        verdict = "drift"
    elif drifted or counts.get("warn", 0):
        verdict = "warn"
    else:
        verdict = "stable"
    concept = bool(decay and decay["concept_drift"])
    recommendation = "retrain" if verdict == "drift" or concept else "watch" if verdict == "warn" else "none"
    scored = table.dropna(subset=["psi"])
    worst = scored.loc[scored["psi"].idxmax()] if len(scored) else None
    return {
        "verdict": verdict, "recommendation": recommendation, "statistic": policy.statistic,
        "features": len(table), "drifted_features": drifted, "warned_features": int(counts.get("warn", 0)),
        "insufficient_features": int(counts.get("insufficient_data", 0)), "drift_share": round(share, 4),
        "max_psi": None if worst is None else float(worst["psi"]),
        "max_psi_feature": None if worst is None else str(worst["feature"]),
        "prediction_psi": None if prediction is None else prediction["psi"],
        "prediction_verdict": None if prediction is None else prediction["verdict"],
        "performance": decay,
    }


def markdown_report(table: pd.DataFrame, summary: dict, current_rows: int, reference_rows: int) -> str:
    """The report a person reads (and CI shows in its job summary): the verdict, then drifted features first."""
    lines = [f"# Drift: {summary['verdict']} (recommendation: {summary['recommendation']})", "",
             f"{current_rows} current rows against {reference_rows} training rows; decided by "
             f"{summary['statistic']}. {summary['drifted_features']} of {summary['features']} features drifted, "
             f"{summary['warned_features']} warn, {summary['insufficient_features']} with too little data.", ""]
    if summary["prediction_verdict"] is not None:
        lines += [f"Predictions: {summary['prediction_verdict']} (PSI {summary['prediction_psi']}).", ""]
    if summary["performance"]:
        p = summary["performance"]
        lines += [f"Labelled current rows: {p['metric']} {p['current']:.4g} against {p['test']:.4g} on the test split "
                  f"({'concept drift' if p['concept_drift'] else 'within the allowed decay'}).", ""]
    lines += ["| feature | verdict | how it moved | PSI | JS distance | p-value | Wasserstein (sd) |",
              "|---|---|---|---|---|---|---|"]
    for row in table.to_dict("records"):
        cells = [_cell(row[key]) for key in ("psi", "js_distance", "pvalue", "wasserstein")]
        lines.append(f"| {row['feature']} | {row['verdict']} | {row['moved']} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _cell(value) -> str:
    return "-" if value is None or (isinstance(value, float) and np.isnan(value)) else f"{value:.3g}"


def main() -> None:
    params = load_params()
    reference = read_table(params.paths.train)
    current = read_table(params.paths.current)
    features = feature_columns(reference, params.target)
    table = compare(reference, current, features, params.drift)
    # The model file is the train stage's own output, never a file from elsewhere.
    pipeline = joblib.load(params.paths.model)
    prediction = prediction_drift(pipeline, reference[features], current[features], params.drift)
    test_metrics = json.loads(Path(params.paths.metrics).read_text(encoding="utf-8"))
    decay = performance_decay(pipeline, current, params, test_metrics)
    summary = summarize(table, params.drift, prediction, decay)
    write_table(table, params.paths.drift_table)
    write_json(summary, params.paths.drift_metrics)
    report = markdown_report(table, summary, len(current), len(reference))
    Path(params.paths.drift_report).write_text(report, encoding="utf-8")
    shown = table[["feature", "verdict", "moved", "psi", "pvalue"]]
    print(shown.to_string(index=False, na_rep="-", float_format=lambda v: f"{v:.4g}"))
    print(f"drift-check: {len(current)} current rows against {len(reference)} training rows: {summary['verdict']} "
          f"({summary['drifted_features']} of {summary['features']} features drifted, max PSI "
          f"{summary['max_psi']} on {summary['max_psi_feature']}; predictions {summary['prediction_verdict']}); "
          f"recommendation: {summary['recommendation']}; wrote {params.paths.drift_report}")
    if params.drift.fail_stage and summary["verdict"] == "drift":
        raise UserError(f"drift-check: the current batch has drifted and drift.fail_stage is true; "
                        f"see {params.paths.drift_report}")


if __name__ == "__main__":
    run(main)
