"""`make metrics`: what the last run found, in a few lines a person reads in a terminal: the model's
quality, its gates, the drift verdict, and where to look next."""

from pathlib import Path

from ..config import load_params
from ..errors import run
from ..model.gates import GateReport
from ..monitoring.verdict import DriftSummary
from ..records import read_json


def main() -> None:
    params = load_params()
    paths = params.paths
    lines = []
    if Path(paths.metrics).is_file():
        scores = read_json(paths.metrics)
        shown = [f"{name} {value:.3f}" for name, value in scores.items()]
        lines += ["quality  " + ", ".join(shown[:4])] + (["         " + ", ".join(shown[4:])] if shown[4:] else [])
    if Path(paths.slices).is_file() and (slices := read_json(paths.slices)):
        lines.append(f"slices   {slices['metric']} by {slices['column']}: largest gap {slices['gap']:.3f}")
    if Path(paths.latency).is_file():
        latency = read_json(paths.latency)
        lines.append(f"latency  one row p95 {latency['p95_ms']:.1f} ms; "
                     f"{latency['rows_per_second']:,.0f} rows/s in a batch")
    if Path(paths.gates).is_file():
        report = GateReport.load(paths.gates)
        verdict = f"FAILED: {', '.join(report.failed)}" if report.failed else f"all {len(report.gates)} passed"
        verdict += f" (the champion's: `make gates` against {params.gates.champion.base}'s model)"
        lines.append(f"gates    {verdict}")
    if Path(paths.drift_metrics).is_file():
        drift = DriftSummary.load(paths.drift_metrics)
        worst = f"; largest PSI {drift.max_psi:.3f} ({drift.max_psi_feature})" if drift.max_psi is not None else ""
        lines.append(f"drift    {drift.verdict}, recommendation {drift.recommendation}{worst}")
    if not lines:
        lines.append("nothing measured yet: `make repro` runs the pipeline")
    else:
        lines.append(f"next     make gates; make plots (the plots); {paths.drift_report}; make exps; "
                     "`dvc metrics diff` (against the last commit)")
    print("\n".join(lines))


if __name__ == "__main__":
    run(main)
