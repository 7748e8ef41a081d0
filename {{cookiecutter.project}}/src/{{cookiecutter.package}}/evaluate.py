"""evaluate: score the model on the test split, per slice and for speed; judge the gates; log it all.

Writes DVC metrics (quality, slices, latency), the tables behind the plots, and the gate report. It
never fails on a gate: `python -m <package>.gates` does, so the metrics are recorded either way.
"""

import json
from pathlib import Path

import joblib
import pandas as pd

from .errors import UserError, run
from .gates import format_table, judge, report
from .latency import measure_latency
from .metrics import score, slice_metrics
from .params import Params, load_params
from .plots import write_plots
from .registry import load_champion
from .tables import feature_columns, read_table, write_json
from .tracking import connect


def rescore_champion(mlflow, params: Params, features: pd.DataFrame, y_true: pd.Series) -> dict | None:
    """The champion's version and its score on this test split, or None when there is no champion yet."""
    champion = load_champion(mlflow, params.mlflow.model_name)
    if champion is None:
        return None
    metric = params.gates.champion.metric
    entry = {"version": champion.version, "run_id": champion.run_id, "metric": metric}
    try:
        entry["score"] = score(champion.model, features, y_true, params.task).get(metric)
    except (KeyError, ValueError, TypeError) as error:  # trained on other columns or labels
        entry |= {"score": None, "error": str(error).splitlines()[0]}
    return entry


def log_to_training_run(mlflow, run_id: str, run_info_path: str, values: dict, plots_dir: str) -> None:
    """Add the test metrics and plots to the MLflow run that trained the model."""
    try:
        with mlflow.start_run(run_id=run_id):
            mlflow.log_metrics(values)
            mlflow.log_artifacts(plots_dir, artifact_path="plots")
    except mlflow.exceptions.MlflowException as error:
        raise UserError(f"{run_info_path}: MLflow run {run_id} not found at {mlflow.get_tracking_uri()} "
                        f"({error.message}); re-run train with this tracking URI") from None


def main() -> None:
    params = load_params()
    test = read_table(params.paths.test)
    features, y_true = test[feature_columns(test, params.target)], test[params.target]
    # The model file is the train stage's own output, never a file from elsewhere.
    pipeline = joblib.load(params.paths.model)
    model = json.loads(Path(params.paths.run_info).read_text(encoding="utf-8"))  # train's MLflow record

    scores = score(pipeline, features, y_true, params.task)
    settings = params.evaluate
    slices = {}
    if settings.slice_column is not None:
        if settings.slice_column not in features.columns:
            raise UserError(f"params.yaml: key 'evaluate.slice_column': expected a feature of the test split, "
                            f"found {settings.slice_column!r}")
        slices = slice_metrics(pipeline, features, y_true, features[settings.slice_column], params.task,
                               settings.slice_metric, settings.slice_min_rows)
    latency = measure_latency(pipeline, features, settings.latency_rows)
    plots = write_plots(params.paths.plots, pipeline, features, y_true, params.task, settings.importance_repeats,
                        params.seed)

    mlflow = connect(params.mlflow.tracking_uri, params.mlflow.experiment, params.mlflow.fallback_uri)
    champion = rescore_champion(mlflow, params, features, y_true)
    verdicts = judge(params.gates, scores, latency, slices, champion)
    gate_report = report(verdicts, model, champion)
    write_json(scores, params.paths.metrics)
    write_json(slices, params.paths.slices)
    write_json(latency, params.paths.latency)
    write_json(gate_report, params.paths.gates)
    logged = {f"test_{name}": value for name, value in scores.items()}
    logged |= {f"latency_{name}": value for name, value in latency.items()} | {"gates_passed": gate_report["passed"]}
    if slices:
        logged["slice_gap"] = slices["gap"]
    log_to_training_run(mlflow, model["run_id"], params.paths.run_info, logged, params.paths.plots)

    summary = ", ".join(f"{name} {value:.3f}" for name, value in scores.items())
    print(f"evaluate: {len(test)} test rows: {summary}; one-row latency p95 {latency['p95_ms']:.1f} ms; "
          f"wrote {params.paths.metrics} and {len(plots)} plot tables")
    print(format_table(gate_report["gates"]))
    failed = sum(not gate.passed for gate in verdicts)
    print(f"gates: {'all passed' if not failed else f'{failed} failed'} (`make gates` fails on a failed gate)")


if __name__ == "__main__":
    run(main)
