"""drift-check: compare the current batch with the training data, feature by feature.

PSI (population stability index) decides each feature's verdict; the two-sample KS test is reported
alongside for numeric features. Missing values are left out of both and reported as a change in share.
"""

import numpy as np
import pandas as pd
from scipy import stats

from .errors import UserError, run
from .params import Drift, load_params
from .tables import feature_columns, is_numeric, read_table, write_json, write_table

# Added to every bin's share so an empty bin gives a large but finite PSI term, not infinity.
EPSILON = 1e-4
UNSEEN = "<unseen>"


def psi(reference_share: np.ndarray, current_share: np.ndarray) -> float:
    """PSI = sum((current - reference) * ln(current / reference)) over bins."""
    ref = np.asarray(reference_share, dtype=float) + EPSILON
    cur = np.asarray(current_share, dtype=float) + EPSILON
    return float(np.sum((cur - ref) * np.log(cur / ref)))


def numeric_shares(reference: np.ndarray, current: np.ndarray, bins: int) -> tuple[np.ndarray, np.ndarray]:
    """Shares of each batch in quantile bins of the reference; ties merge bins instead of making empty ones."""
    edges = np.unique(np.quantile(reference, np.linspace(0, 1, bins + 1))[1:-1])

    def shares(values: np.ndarray) -> np.ndarray:
        counts = np.bincount(np.searchsorted(edges, values, side="right"), minlength=len(edges) + 1)
        return counts / max(len(values), 1)

    return shares(reference), shares(current)


def categorical_shares(reference: pd.Series, current: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Shares per reference category, plus one bucket for categories the reference never had."""
    categories = sorted(reference.astype(str).unique())
    ref = reference.astype(str).value_counts(normalize=True).reindex(categories, fill_value=0)
    cur_counts = current.astype(str).value_counts(normalize=True)
    cur = cur_counts.reindex(categories, fill_value=0)
    unseen = cur_counts.drop(categories, errors="ignore").sum()
    return np.append(ref.to_numpy(), 0.0), np.append(cur.to_numpy(), unseen)


def compare_feature(name: str, reference: pd.Series, current: pd.Series, policy: Drift) -> dict:
    """One row of the drift table: sizes, PSI, KS (numeric only), change in missing share, verdict."""
    ref, cur = reference.dropna(), current.dropna()
    numeric = is_numeric(reference)
    row = {"feature": name, "kind": "numeric" if numeric else "categorical",
           "n_reference": len(ref), "n_current": len(cur),
           "missing_change": round(float(current.isna().mean() - reference.isna().mean()), 6),
           "psi": None, "ks_statistic": None, "ks_pvalue": None}
    if min(len(ref), len(cur)) < policy.min_samples:
        return {**row, "verdict": "insufficient_data"}
    if numeric:
        if not is_numeric(current):
            raise UserError(f"column '{name}': expected numbers in the current batch as in the training data, "
                            f"found {current.dtype} values")
        ref_share, cur_share = numeric_shares(ref.to_numpy(float), cur.to_numpy(float), policy.bins)
        ks = stats.ks_2samp(ref.to_numpy(float), cur.to_numpy(float))
        row.update(ks_statistic=round(float(ks.statistic), 6), ks_pvalue=float(ks.pvalue))
    else:
        ref_share, cur_share = categorical_shares(ref, cur)
    value = psi(ref_share, cur_share)
    verdict = "drift" if value >= policy.psi_drift else "warn" if value >= policy.psi_warn else "stable"
    return {**row, "psi": round(value, 6), "verdict": verdict}


def compare(reference: pd.DataFrame, current: pd.DataFrame, features: list[str], policy: Drift) -> pd.DataFrame:
    """The drift table, drifted features first, then by PSI."""
    absent = [name for name in features if name not in current.columns]
    if absent:
        raise UserError(f"current batch: expected the training features, found no column {', '.join(absent)}")
    rows = [compare_feature(name, reference[name], current[name], policy) for name in features]
    order = {"drift": 0, "warn": 1, "stable": 2, "insufficient_data": 3}
    table = pd.DataFrame(rows)
    table["rank"] = table["verdict"].map(order)
    return table.sort_values(["rank", "psi"], ascending=[True, False]).drop(columns="rank").reset_index(drop=True)


def summarize(table: pd.DataFrame, policy: Drift) -> dict:
    """The batch verdict: drift when the share of drifted features reaches the policy's threshold."""
    drifted = int((table["verdict"] == "drift").sum())
    share = drifted / len(table) if len(table) else 0.0
    scored = table.dropna(subset=["psi"])
    worst = scored.loc[scored["psi"].idxmax()] if len(scored) else None
    return {
        "verdict": "drift" if drifted and share >= policy.dataset_drift_share else "stable",
        "features": len(table),
        "drifted_features": drifted,
        "warned_features": int((table["verdict"] == "warn").sum()),
        "drift_share": round(share, 4),
        "max_psi": None if worst is None else float(worst["psi"]),
        "max_psi_feature": None if worst is None else str(worst["feature"]),
    }


def main() -> None:
    params = load_params()
    reference = read_table(params.paths.train)
    current = read_table(params.paths.current)
    table = compare(reference, current, feature_columns(reference, params.target), params.drift)
    summary = summarize(table, params.drift)
    write_table(table, params.paths.drift_table)
    write_json(summary, params.paths.drift_metrics)
    print(table.to_string(index=False, na_rep="-", float_format=lambda v: f"{v:.4f}"))
    print(f"drift-check: {len(current)} current rows against {len(reference)} training rows: {summary['verdict']} "
          f"({summary['drifted_features']} of {summary['features']} features drifted, max PSI "
          f"{summary['max_psi']} on {summary['max_psi_feature']}); wrote {params.paths.drift_metrics}")


if __name__ == "__main__":
    run(main)
