"""Gates: is the challenger good enough to serve, is the data still what it learned from? The commands CI runs.

evaluate judges the gates declared under `gates:` in params.yaml and writes the report; it never
fails on them, so `dvc repro` still records the metrics. `python -m <package>.gates` (`make gates`)
prints that report as a table and exits non-zero naming each failed gate. `python -m <package>.gates
drift` (`make drift-gate`) does the same with drift-check's verdict.
"""

import argparse
import csv
import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from .errors import UserError, run
from .params import LOWER_IS_BETTER, Gates, load_params
from .tables import text_table


@dataclass(frozen=True)
class Gate:
    name: str
    value: float | None
    threshold: float | None
    passed: bool
    detail: str = ""


def judge(gates: Gates, scores: dict, latency: dict, slices: dict, champion: dict | None) -> list[Gate]:
    """Every gate's verdict. `champion` is None, or the champion's version and its score on the same test split."""
    verdicts = []
    for bound, limits in (("minimum", gates.minimum), ("maximum", gates.maximum)):
        for metric, threshold in limits.items():
            value = scores.get(metric)
            if value is None:
                verdicts.append(Gate(f"{bound} {metric}", None, threshold, False,
                                     f"evaluate could not compute {metric} on this test split"))
            else:
                passed = value >= threshold if bound == "minimum" else value <= threshold
                verdicts.append(Gate(f"{bound} {metric}", value, threshold, passed))
    if gates.max_latency_p95_ms is not None:
        verdicts.append(Gate("latency p95 ms", latency["p95_ms"], gates.max_latency_p95_ms,
                             latency["p95_ms"] <= gates.max_latency_p95_ms))
    if gates.max_slice_gap is not None and slices:
        verdicts.append(Gate(f"slice gap {slices['metric']} by {slices['column']}", slices["gap"],
                             gates.max_slice_gap, slices["gap"] <= gates.max_slice_gap))
    verdicts.append(_champion_gate(gates, scores, champion))
    return verdicts


def _champion_gate(gates: Gates, scores: dict, champion: dict | None) -> Gate:
    metric, tolerance = gates.champion.metric, gates.champion.tolerance
    name = f"champion {metric}"
    if champion is None:
        return Gate(name, scores.get(metric), None, True,
                    "no champion yet: the first model that passes the other gates becomes it")
    if champion.get("score") is None:
        return Gate(name, scores.get(metric), None, True, f"champion version {champion['version']} cannot score "
                    f"this test split ({champion['error']}); nothing to compare")
    best = champion["score"]
    lower = metric in LOWER_IS_BETTER
    threshold = round(best + tolerance if lower else best - tolerance, 6)
    value = scores.get(metric)
    passed = value is not None and (value <= threshold if lower else value >= threshold)
    return Gate(name, value, threshold, passed,
                f"champion version {champion['version']} scores {best} on the same split; tolerance {tolerance}")


def report(verdicts: list[Gate], model: dict, champion: dict | None) -> dict:
    """The gate report: the verdicts, the model judged (train's run record) and the champion it met."""
    return {"passed": all(gate.passed for gate in verdicts),
            "model": {key: model[key] for key in ("run_id", "model_id", "model_uri")},
            "champion": {k: v for k, v in (champion or {}).items() if k != "error"} or None,
            "gates": [asdict(gate) for gate in verdicts]}


def format_table(gates: list[dict]) -> str:
    """Gate, value, threshold and verdict, aligned for a terminal and a CI log."""
    rows = [("gate", "value", "threshold", "verdict", "detail")]
    rows += [(g["name"], _number(g["value"]), _number(g["threshold"]), "pass" if g["passed"] else "FAIL", g["detail"])
             for g in gates]
    return text_table(rows)


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


def read_report(path: str, stage: str) -> dict:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{path}: file not found; run `dvc repro {stage}` first") from None


def drift_gate(params) -> None:
    """Fail on a drift verdict or on concept drift, naming the features that moved."""
    summary = read_report(params.paths.drift_metrics, "drift-check")
    with open(params.paths.drift_table, newline="", encoding="utf-8") as stream:
        moved = [row for row in csv.DictReader(stream) if row["verdict"] in ("drift", "warn")]
    for row in moved:
        print(f"{row['verdict']:<6} {row['feature']}: {row['moved']} (PSI {float(row['psi']):.3g}, "
              f"p-value {float(row['pvalue']):.3g})")
    performance = summary.get("performance") or {}
    if summary["verdict"] == "drift" or performance.get("concept_drift"):
        drifted = [row["feature"] for row in moved if row["verdict"] == "drift"]
        decay = (f"; {performance['metric']} fell from {performance['test']} to {performance['current']}"
                 if performance.get("concept_drift") else "")
        raise UserError(f"{params.paths.drift_metrics}: drift (recommendation: {summary['recommendation']}): "
                        f"{', '.join(drifted) or 'no feature alone'}{decay}; see {params.paths.drift_report}")
    print(f"drift gate: {summary['verdict']} (recommendation: {summary['recommendation']})")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m <package>.gates", description=__doc__.splitlines()[0])
    parser.add_argument("which", nargs="?", choices=("model", "drift"), default="model",
                        help="the model's gates (default) or the drift verdict")
    params = load_params()
    if parser.parse_args(argv).which == "drift":
        return drift_gate(params)
    path = Path(params.paths.gates)
    gate_report = read_report(params.paths.gates, "evaluate")
    print(format_table(gate_report["gates"]))
    failed = [gate["name"] for gate in gate_report["gates"] if not gate["passed"]]
    if failed:
        raise UserError(f"{path}: {len(failed)} gate(s) failed: {', '.join(failed)}")
    print(f"gates: all {len(gate_report['gates'])} passed")


if __name__ == "__main__":
    run(lambda: main(sys.argv[1:]))
