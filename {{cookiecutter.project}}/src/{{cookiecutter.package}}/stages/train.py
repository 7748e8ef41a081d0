"""train: fit the declared pipeline on the train split, save it, and record the run in MLflow."""

import re
import time
from collections.abc import Collection
from contextlib import nullcontext

import pandas as pd
from sklearn.pipeline import Pipeline

from ..compute.memory import read_whole
from ..config import Params, load_params
from ..data.contract import load_contract
from ..data.features import feature_columns
from ..errors import ConfigError, run
from ..model.artifact import save_model
from ..model.pipeline import build_pipeline, build_search, check_task
from ..tracking.connection import connect
from ..tracking.lineage import lineage
from ..tracking.runs import log_training_run


def fit(features: pd.DataFrame, labels: pd.Series, params: Params,
        categorical: Collection[str] = ()) -> tuple[Pipeline, dict]:
    """Build the pipeline declared in params and fit it, through the declared search if any.

    Returns the fitted pipeline and, after a search, its best arguments and cross-validated score.
    """
    check_task(params.train.model, params.task)
    pipeline = build_pipeline(features, params.train.model, params.train.preprocessing, params.seed, categorical)
    search = params.train.search
    fitting = pipeline if search.kind == "none" else build_search(pipeline, search, params.task, params.seed)
    try:
        fitted = fitting.fit(features, labels)
    except (TypeError, ValueError) as error:
        raise _fit_error(error, params.train.model.estimator) from None
    if search.kind == "none":
        return fitted, {}
    best = {name.removeprefix("estimator__"): value for name, value in fitted.best_params_.items()}
    return fitted.best_estimator_, {"best_params": best, "cv_best_score": float(fitted.best_score_)}


def _fit_error(error: Exception, estimator: str) -> ConfigError:
    """The params key to blame: scikit-learn names the argument it rejected, when it was one."""
    message = " ".join(str(error).split())
    rejected = re.match(r"The '(\w+)' parameter of (\w+) must be (.+?)\. Got (.+) instead\.", message)
    if rejected and estimator.endswith(f".{rejected[2]}"):
        return ConfigError(f"train.model.params.{rejected[1]}", rejected[3], found_text=rejected[4])
    return ConfigError("train.model", "an estimator that fits this data", found_text=f"{estimator} failing: {message}")


def main() -> None:
    params = load_params()
    if params.compute.engine == "dask":
        from ..compute.cluster import cluster_size, dask_client, sample_parts
        from ..compute.train import fits_on_cluster

        with dask_client(params.compute) as client:
            train, rows = sample_parts(params.paths.train, params.compute.sample_rows, params.seed)
            return train_and_log(params, train, fits_on_cluster(), {"engine": "dask", "rows": rows}
                                 | cluster_size(client))
    return train_and_log(params, read_whole(params.paths.train, params.compute), nullcontext(), {"engine": "pandas"})


def train_and_log(params: Params, train: pd.DataFrame, fitting, compute: dict) -> None:
    """Fit on `train` (inside the engine's `fitting` context), save the model, log the run and its lineage;
    `compute` says where it ran."""
    features, labels = train[feature_columns(train, params.target)], train[params.target]
    started = time.perf_counter()
    with fitting:
        pipeline, search = fit(features, labels, params, load_contract(params.paths.contract).categorical)
    fit_seconds = time.perf_counter() - started
    metrics = {"train_score": float(pipeline.score(features, labels)), "fit_seconds": fit_seconds}
    logged = {"seed": params.seed, "task": params.task, "target": params.target,
              "prepare": params.prepare.model_dump(), "train": params.train.model_dump()}
    if search:
        metrics["cv_best_score"] = search["cv_best_score"]
        logged["best"] = search["best_params"]
        print(f"train: {params.train.search.kind} search chose {search['best_params']} "
              f"(cross-validated score {search['cv_best_score']:.3f})")
    save_model(pipeline, params.paths.model)
    started = time.perf_counter()
    mlflow = connect(params.mlflow.tracking_uri, params.mlflow.experiment, params.mlflow.fallback_uri)
    tags, datasets = lineage({"train": params.paths.train}, compute)
    run_info = log_training_run(mlflow, pipeline, params.paths.model, features, logged, metrics, tags,
                                {"lineage/datasets.json": datasets})
    run_info.save(params.paths.run_info)
    sampled = f" (a sample of the {compute['rows']})" if compute.get("rows", len(train)) > len(train) else ""
    print(f"train: fit {params.train.model.estimator} on {len(train)} rows{sampled} in {fit_seconds:.2f}s "
          f"(train score {metrics['train_score']:.3f}); wrote {params.paths.model}; "
          f"MLflow run {run_info.run_id} logged in {time.perf_counter() - started:.1f}s")


if __name__ == "__main__":
    run(main)
