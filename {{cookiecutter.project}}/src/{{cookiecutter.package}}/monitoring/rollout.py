"""The rollout report: the challenger against the champion on the live traffic both scored.

It reads the request log (serving/rollout.py logs both predictions of every request while a challenger
is served) and the feedback, keeps the records of the newest pair of models, and tells: how often the
two agree (per class for classification, the distribution of the differences for regression), each
model's latency (answering, and scoring in the shadow), the PSI of the challenger's predictions against
the champion's, and, on the labelled records, each model's quality with a 95% bootstrap interval.

The gate (`rollout.gate`) needs enough records both scored; then, with enough labels, the challenger's
`gates.champion.metric` no worse than the champion's beyond `gates.champion.tolerance`, on the same
records (the champion gate's rule, on live traffic); with fewer, predictions alike: agreement
(classification) and PSI.
"""

import numpy as np
import pandas as pd

from ..config import Params
from ..data.incoming import location_fs
from ..errors import UserError
from ..model.metrics import Predictions, compute, metric_names, worse_by
from ..serving.request_log import LOG, read_labels, read_parts
from .drift import compare_feature

ROLES = ("champion", "challenger")
RESAMPLES = 500  # bootstrap resamples for the quality intervals (each scores both models once)


def scored_by_both(log: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """The records of the newest champion and challenger pair that both scored, one row each with the
    two predictions, versions and times; and how many of that pair's records the shadow did not score
    (skipped, or the shadow model failed: the log's shadow_error says which)."""
    if "shadow_version" not in log:
        return pd.DataFrame(), 0
    log = log[log["shadow_version"].notna()].sort_values("time", kind="stable")
    if log.empty:
        return pd.DataFrame(), 0
    by_champion = log["answered_by"] == "champion"
    pairs = pd.DataFrame({
        "request_id": log["request_id"], "record": log["record"], "answered_by": log["answered_by"],
        "champion_version": log["model_version"].where(by_champion, log["shadow_version"]),
        "challenger_version": log["shadow_version"].where(by_champion, log["model_version"]),
        "challenger_md5": log["shadow_md5"].where(by_champion, log["model_md5"]),
        "champion": log["prediction"].where(by_champion, log["shadow_prediction"]),
        "challenger": log["shadow_prediction"].where(by_champion, log["prediction"]),
        "latency_ms": log["latency_ms"], "shadow_ms": log["shadow_ms"], "shadow_error": log["shadow_error"]})
    newest = pairs.iloc[-1]
    pairs = pairs[(pairs["champion_version"] == newest["champion_version"])
                  & (pairs["challenger_version"] == newest["challenger_version"])]
    unscored = pairs["shadow_error"].notna()
    return pairs[~unscored].reset_index(drop=True), int(unscored.sum())


def agreement(pairs: pd.DataFrame, task: str) -> dict:
    if task == "regression":
        difference = pairs["challenger"].astype(float) - pairs["champion"].astype(float)
        return {"mean_difference": _round(difference.mean()),
                "mean_absolute_difference": _round(difference.abs().mean()),
                **{f"p{q}_difference": _round(difference.quantile(q / 100)) for q in (5, 50, 95)}}
    alike = pairs["champion"].astype(str) == pairs["challenger"].astype(str)
    per_class = {str(label): {"records": int(len(group)), "agreement": _round(alike[group.index].mean())}
                 for label, group in pairs.groupby(pairs["champion"].astype(str))}
    return {"agreement": _round(alike.mean()), "per_class": per_class}


def latency(pairs: pd.DataFrame) -> dict:
    """Per model: the time to answer a request (as its caller saw it, less the network), and the time its
    shadow predictions took (one batch of records each)."""
    result = {}
    for role in ROLES:
        answered = pairs.loc[pairs["answered_by"] == role, "latency_ms"].dropna()
        shadowed = pairs.loc[pairs["answered_by"] != role, "shadow_ms"].dropna()
        result[role] = {f"{kind}_{stat}": _round(values.quantile(q)) if len(values) else None
                        for kind, values in (("answer_ms", answered), ("shadow_ms", shadowed))
                        for stat, q in (("p50", 0.5), ("p95", 0.95))}
        result[role] |= {"answered": int(len(answered)), "shadowed": int(len(shadowed))}
    return result


def quality(pairs: pd.DataFrame, labels: pd.Series, task: str, metric: str, seed: int) -> dict:
    """Each model's metrics on the labelled records; for `metric`, 95% bootstrap intervals for each model
    and for how much worse the challenger is (the same resampled records for both)."""
    labelled = pairs.join(labels, on=["request_id", "record"]).dropna(subset=["label"])
    result = {"labelled": int(len(labelled)), "metric": metric}
    if labelled.empty:
        return result
    truth = labelled["label"] if task == "regression" else labelled["label"].astype(str)

    def values(rows: np.ndarray, names: list[str]) -> dict[str, dict[str, float]]:
        y = truth.iloc[rows]
        return {role: compute(names, Predictions(y, _as_task(labelled[role].iloc[rows], task).to_numpy()))
                for role in ROLES}

    point = values(np.arange(len(labelled)), metric_names(task))
    result |= {role: point[role] for role in ROLES}
    if metric not in point["champion"] or metric not in point["challenger"]:
        return result | {"note": f"{metric} needs what the log does not keep (class probabilities)"}
    generator = np.random.default_rng(seed)
    draws = [values(generator.integers(0, len(labelled), len(labelled)), [metric]) for _ in range(RESAMPLES)]
    samples = {role: np.array([draw[role].get(metric, np.nan) for draw in draws]) for role in ROLES}
    samples["worse_by"] = np.array([worse_by(metric, challenger, champion) for champion, challenger
                                    in zip(samples["champion"], samples["challenger"])])
    result["interval_95"] = {name: [_round(np.nanquantile(draw, 0.025)), _round(np.nanquantile(draw, 0.975))]
                             for name, draw in samples.items()}
    result["worse_by"] = _round(worse_by(metric, point["challenger"][metric], point["champion"][metric]))
    return result


def judge(report: dict, params: Params) -> dict:
    """The rollout gate: each check with its value, threshold and verdict, and whether all passed."""
    gate, checks = params.rollout.gate, []
    records = report["records"]
    checks.append(_check("records", records, f">= {gate.min_requests}", records >= gate.min_requests))
    judged = report["quality"]
    if judged["labelled"] >= gate.min_labelled and "worse_by" in judged:
        tolerance = params.gates.champion.tolerance
        checks.append(_check(f"{judged['metric']} worse by", judged["worse_by"], f"<= {tolerance}",
                             judged["worse_by"] <= tolerance))
    else:
        if params.task == "classification":
            alike = report["agreement"]["agreement"]
            checks.append(_check("agreement", alike, f">= {gate.min_agreement}", alike >= gate.min_agreement))
        psi = report["prediction_psi"]  # None: too few records to bin (drift.min_samples)
        checks.append(_check("prediction PSI", psi, f"<= {gate.max_prediction_psi}",
                             psi is not None and psi <= gate.max_prediction_psi))
    return {"passed": all(check["passed"] for check in checks), "checks": checks}


def rollout_report(params: Params) -> dict:
    """The report of the newest champion and challenger pair in the request log, with the gate's verdict."""
    fs, root = location_fs(params.incoming.location)
    log, _ = read_parts(fs, f"{root}/{LOG}")
    pairs, unscored = scored_by_both(log)
    if pairs.empty and unscored:
        raise UserError(f"{root}/{LOG}: the shadow scored none of the {unscored} newest records (shadow_error in "
                        "the log says why: skipped, or the shadow model failed)")
    if pairs.empty:
        raise UserError(f"{root}/{LOG}: no request was scored by a challenger yet; name one in params.yaml "
                        "(rollout.challenger) and send traffic to `make serve`")
    labels = read_labels(fs, root)
    report = {"champion": pairs["champion_version"].iloc[0], "challenger": pairs["challenger_version"].iloc[0],
              "challenger_md5": pairs["challenger_md5"].iloc[0],
              "records": int(len(pairs)), "unscored": unscored,
              "canary_share": _round((pairs["answered_by"] == "challenger").mean()),
              "agreement": agreement(pairs, params.task),
              # As drift-check compares predictions: the same bins, and no PSI on too few records.
              "prediction_psi": compare_feature("prediction", _as_task(pairs["champion"], params.task),
                                                _as_task(pairs["challenger"], params.task), params.drift)["psi"],
              "latency": latency(pairs),
              "quality": quality(pairs, labels, params.task, params.gates.champion.metric, params.seed)}
    return report | {"gate": judge(report, params)}


def markdown_report(report: dict) -> str:
    lines = [f"# Rollout: challenger {report['challenger']} against champion {report['champion']}", "",
             f"{report['records']} records scored by both ({report['unscored']} not scored by the shadow); the "
             f"challenger answered {report['canary_share']:.1%} of them.", "",
             f"**Gate: {'pass' if report['gate']['passed'] else 'FAIL'}**", "",
             "| check | value | threshold | verdict |", "|---|---|---|---|"]
    lines += [f"| {c['name']} | {c['value']} | {c['threshold']} | {'pass' if c['passed'] else '**FAIL**'} |"
              for c in report["gate"]["checks"]]
    lines += ["", "## Agreement", "", "| measure | value |", "|---|---|"]
    lines += [f"| {name} | {value} |" for name, value in report["agreement"].items() if name != "per_class"]
    for label, numbers in report["agreement"].get("per_class", {}).items():
        lines.append(f"| champion said {label} ({numbers['records']} records) | {numbers['agreement']} |")
    lines += [f"| prediction PSI | {report['prediction_psi']} |", "", "## Latency (ms)", "",
              "| model | answered | answer p50 | answer p95 | shadowed | shadow p50 | shadow p95 |",
              "|---|---|---|---|---|---|---|"]
    lines += [f"| {role} | {t['answered']} | {t['answer_ms_p50']} | {t['answer_ms_p95']} | {t['shadowed']} | "
              f"{t['shadow_ms_p50']} | {t['shadow_ms_p95']} |" for role, t in report["latency"].items()]
    judged = report["quality"]
    lines += ["", "## Quality on labelled records", "", f"{judged['labelled']} labelled records."]
    if "interval_95" in judged:
        metric, interval = judged["metric"], judged["interval_95"]
        lines += ["", "| model | " + metric + " | 95% interval |", "|---|---|---|"]
        lines += [f"| {role} | {judged[role][metric]} | {interval[role]} |" for role in ROLES]
        lines += [f"| challenger worse by | {judged['worse_by']} | {interval['worse_by']} |"]
    elif "note" in judged:
        lines += ["", judged["note"]]
    return "\n".join(lines) + "\n"


def _check(name: str, value, threshold: str, passed: bool) -> dict:
    return {"name": name, "value": value, "threshold": threshold, "passed": bool(passed)}


def _as_task(values: pd.Series, task: str) -> pd.Series:
    return values.astype(float) if task == "regression" else values.astype(str)


def _round(value) -> float | None:
    return None if value is None or pd.isna(value) else round(float(value), 4)

