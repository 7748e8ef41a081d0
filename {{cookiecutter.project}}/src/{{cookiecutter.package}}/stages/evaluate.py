"""evaluate: score the model on the test split, per slice and for speed; judge the gates; log it all.

Writes DVC metrics (quality, slices, latency), the tables behind the plots, and the gate report. It
never fails on a gate: `make gates` does, so the metrics are recorded either way. The champion gate is
`make gates`'s too: the champion is the base branch's model, which moves while evaluate's inputs do not.
"""

import pandas as pd

from ..compute.memory import read_whole
from ..config import Params, load_params
from ..data.features import feature_columns
from ..errors import ConfigError, run
from ..model.artifact import load_model
from ..model.gates import GateReport, gates_table, judge
from ..model.latency import measure_latency
from ..model.metrics import score
from ..model.plots import plot_tables, write_plots
from ..model.slices import slice_metrics
from ..records import write_json
from ..tracking.connection import connect
from ..tracking.runs import RunInfo, add_to_run


def evaluate(model, features: pd.DataFrame, y_true: pd.Series, params: Params) -> dict:
    """The model's slices, latency and plot tables on the test split (or the dask engine's sample of it)."""
    settings = params.evaluate
    slices = {}
    if settings.slice_column is not None:
        if settings.slice_column not in features.columns:
            raise ConfigError("evaluate.slice_column", "a feature of the test split", settings.slice_column)
        slices = slice_metrics(model, features, y_true, features[settings.slice_column], params.task,
                               settings.slice_metric, settings.slice_min_rows)
    return {"slices": slices, "latency": measure_latency(model, features, settings.latency_rows),
            "plots": plot_tables(model, features, y_true, params.task, settings.importance_repeats, params.seed)}


def main() -> None:
    params = load_params()
    model, run_info = load_model(params.paths.model), RunInfo.load(params.paths.run_info)
    if params.compute.engine == "dask":
        from ..compute.cluster import dask_client, sample_parts
        from ..compute.evaluate import scores_by_partition

        with dask_client(params.compute):
            test, _ = sample_parts(params.paths.test, params.compute.sample_rows, params.seed)
            scores, rows = scores_by_partition(model, params.paths.test, params.target, params.task)
    else:
        test = read_whole(params.paths.test, params.compute)
    features, y_true = test[feature_columns(test, params.target)], test[params.target]
    if params.compute.engine == "pandas":
        scores, rows = score(model, features, y_true, params.task), len(test)
    results = evaluate(model, features, y_true, params)
    slices, latency = results["slices"], results["latency"]
    write_plots(params.paths.plots, results["plots"])

    verdicts = judge(params.gates, scores, latency, slices)
    report = GateReport(passed=all(gate.passed for gate in verdicts), model=run_info, gates=verdicts)
    write_json(scores, params.paths.metrics)
    write_json(slices, params.paths.slices)
    write_json(latency, params.paths.latency)
    report.save(params.paths.gates)
    logged = {f"test_{name}": value for name, value in scores.items()}
    logged |= {f"latency_{name}": value for name, value in latency.items()} | {"gates_passed": report.passed}
    if slices:
        logged["slice_gap"] = slices["gap"]
    mlflow = connect(params.mlflow.tracking_uri, params.mlflow.experiment, params.mlflow.fallback_uri)
    add_to_run(mlflow, run_info, params.paths.run_info, logged, list(params.paths.plots.values()), "plots")

    summary = ", ".join(f"{name} {value:.3f}" for name, value in scores.items())
    print(f"evaluate: {rows} test rows: {summary}; one-row latency p95 {latency['p95_ms']:.1f} ms; "
          f"wrote {params.paths.metrics} and {len(params.paths.plots)} plot tables")
    print(gates_table(report.gates))
    failed = len(report.failed)
    print(f"gates: {'all passed' if not failed else f'{failed} failed'} (`make gates` adds the champion gate and "
          "fails on a failed gate)")


if __name__ == "__main__":
    run(main)
