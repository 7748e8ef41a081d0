"""train: fit the declared pipeline on the train split, save it, and record the run in MLflow."""

import dataclasses
import re
import time
from collections.abc import Collection
from importlib.metadata import version
from pathlib import Path

import joblib
import pandas as pd
from sklearn.pipeline import Pipeline

from .contract import load_contract
from .errors import UserError, run
from .model import build_pipeline, build_search
from .params import Params, load_params
from .tables import feature_columns, read_table, write_json
from .tracking import connect, flatten, lineage_tags

# Declared rather than inferred: MLflow's inference starts a subprocess and adds seconds to every run.
MODEL_REQUIREMENTS = ("scikit-learn", "pandas", "numpy", "scipy")


def fit(features: pd.DataFrame, labels: pd.Series, params: Params,
        categorical: Collection[str] = ()) -> tuple[Pipeline, dict]:
    """Build the pipeline declared in params and fit it, through the declared search if any.

    Returns the fitted pipeline and, after a search, its best arguments and cross-validated score.
    """
    pipeline = build_pipeline(features, params.train.model, params.train.preprocessing, params.seed, categorical)
    search = params.train.search
    fitting = pipeline if search.kind == "none" else build_search(pipeline, search, params.task, params.seed)
    try:
        fitted = fitting.fit(features, labels)
    except (TypeError, ValueError) as error:
        raise UserError(_fit_error(error, params.train.model.estimator)) from None
    if search.kind == "none":
        return fitted, {}
    best = {name.removeprefix("estimator__"): value for name, value in fitted.best_params_.items()}
    return fitted.best_estimator_, {"best_params": best, "cv_best_score": float(fitted.best_score_)}


def _fit_error(error: Exception, estimator: str) -> str:
    """One line naming the params key: scikit-learn names the argument it rejected, when it was one."""
    message = " ".join(str(error).split())
    rejected = re.match(r"The '(\w+)' parameter of (\w+) must be (.+?)\. Got (.+) instead\.", message)
    if rejected and estimator.endswith(f".{rejected[2]}"):
        return f"params.yaml: key 'train.model.params.{rejected[1]}': expected {rejected[3]}, found {rejected[4]}"
    return f"params.yaml: key 'train.model': fitting {estimator} failed: {message}"


def log_run(pipeline: Pipeline, features: pd.DataFrame, params: Params, metrics: dict, best: dict) -> dict:
    """Record params, metrics, lineage tags and the model in MLflow; return where the run lives."""
    mlflow = connect(params.mlflow.tracking_uri, params.mlflow.experiment, params.mlflow.fallback_uri)
    import skops.io
    from mlflow.models import infer_signature

    example = features.head(5)
    with mlflow.start_run() as active:
        mlflow.log_params(flatten({key: dataclasses.asdict(getattr(params, key)) for key in ("prepare", "train")}))
        mlflow.log_params({"seed": params.seed, "task": params.task, "target": params.target})
        mlflow.log_metrics(metrics)
        if best:
            mlflow.log_params({f"best.{name}": value for name, value in best.items()})
        mlflow.set_tags(lineage_tags({"train": params.paths.train}))
        logged = mlflow.sklearn.log_model(
            pipeline,
            name="model",
            signature=infer_signature(example, pipeline.predict(example)),
            input_example=example,
            pip_requirements=[f"{name}=={version(name)}" for name in MODEL_REQUIREMENTS],
            # MLflow stores the model with skops, which loads only types it is told to trust: those of
            # the model this process has just trained.
            skops_trusted_types=skops.io.get_untrusted_types(data=skops.io.dumps(pipeline)),
        )
        return {"run_id": active.info.run_id, "experiment_id": active.info.experiment_id,
                "model_id": logged.model_id, "model_uri": logged.model_uri, "tracking_uri": mlflow.get_tracking_uri()}


def main() -> None:
    params = load_params()
    train = read_table(params.paths.train)
    features, labels = train[feature_columns(train, params.target)], train[params.target]
    started = time.perf_counter()
    pipeline, search = fit(features, labels, params, load_contract(params.paths.contract).categorical)
    fit_seconds = time.perf_counter() - started
    metrics = {"train_score": float(pipeline.score(features, labels)), "fit_seconds": fit_seconds}
    if search:
        metrics["cv_best_score"] = search["cv_best_score"]
        print(f"train: {params.train.search.kind} search chose {search['best_params']} "
              f"(cross-validated score {search['cv_best_score']:.3f})")
    model_path = Path(params.paths.model)
    model_path.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(pipeline, model_path)
    started = time.perf_counter()
    run_info = log_run(pipeline, features, params, metrics, search.get("best_params", {}))
    write_json(run_info, params.paths.run_info)
    print(f"train: fit {params.train.model.estimator} on {len(train)} rows in {fit_seconds:.2f}s "
          f"(train score {metrics['train_score']:.3f}); wrote {model_path}; "
          f"MLflow run {run_info['run_id']} logged in {time.perf_counter() - started:.1f}s")


if __name__ == "__main__":
    run(main)
