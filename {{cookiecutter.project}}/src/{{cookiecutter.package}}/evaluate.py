"""evaluate: score the model on the test split; write DVC metrics, predictions for plots, and log to MLflow."""

import json
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
from sklearn import metrics as sk

from .errors import UserError, run
from .params import load_params
from .tables import feature_columns, read_table, write_json, write_table
from .tracking import connect


def classification_metrics(y_true: pd.Series, y_pred: np.ndarray, proba: np.ndarray | None,
                           classes: np.ndarray) -> dict[str, float]:
    """Accuracy, balanced accuracy, macro precision/recall/F1, and ROC AUC and log loss from probabilities."""
    scores = {
        "accuracy": sk.accuracy_score(y_true, y_pred),
        "balanced_accuracy": sk.balanced_accuracy_score(y_true, y_pred),
        "precision_macro": sk.precision_score(y_true, y_pred, average="macro", zero_division=0),
        "recall_macro": sk.recall_score(y_true, y_pred, average="macro", zero_division=0),
        "f1_macro": sk.f1_score(y_true, y_pred, average="macro", zero_division=0),
    }
    if proba is not None:
        scores["log_loss"] = sk.log_loss(y_true, proba, labels=classes)
        # ROC AUC needs every class in the test split; a tiny split may lack one.
        if set(classes) <= set(y_true):
            if len(classes) == 2:
                scores["roc_auc"] = sk.roc_auc_score(y_true == classes[1], proba[:, 1])
            else:
                scores["roc_auc"] = sk.roc_auc_score(y_true, proba, multi_class="ovr", labels=classes)
    return {name: round(float(value), 6) for name, value in scores.items()}


def regression_metrics(y_true: pd.Series, y_pred: np.ndarray) -> dict[str, float]:
    """RMSE, MAE and R²."""
    scores = {
        "rmse": sk.root_mean_squared_error(y_true, y_pred),
        "mae": sk.mean_absolute_error(y_true, y_pred),
        "r2": sk.r2_score(y_true, y_pred),
    }
    return {name: round(float(value), 6) for name, value in scores.items()}


def evaluate(pipeline, test: pd.DataFrame, target: str, task: str) -> tuple[dict, pd.DataFrame]:
    """Metrics on the test split, and a table of actual versus predicted values for the plots."""
    features, y_true = test[feature_columns(test, target)], test[target]
    y_pred = pipeline.predict(features)
    if task == "classification":
        proba = pipeline.predict_proba(features) if hasattr(pipeline, "predict_proba") else None
        scores = classification_metrics(y_true, y_pred, proba, pipeline.classes_)
    else:
        scores = regression_metrics(y_true, y_pred)
    return scores, pd.DataFrame({"actual": y_true.to_numpy(), "predicted": y_pred})


def log_to_training_run(run_info_path: str, scores: dict, configured_uri: str, experiment: str) -> None:
    """Add the test metrics to the MLflow run that trained the model."""
    run_info = json.loads(Path(run_info_path).read_text(encoding="utf-8"))
    mlflow = connect(configured_uri, experiment)
    try:
        with mlflow.start_run(run_id=run_info["run_id"]):
            mlflow.log_metrics({f"test_{name}": value for name, value in scores.items()})
    except mlflow.exceptions.MlflowException as error:
        raise UserError(f"{run_info_path}: MLflow run {run_info['run_id']} not found at "
                        f"{mlflow.get_tracking_uri()} ({error.message}); re-run train with this tracking URI") from None


def main() -> None:
    params = load_params()
    test = read_table(params.paths.test)
    # The model file is the train stage's own output, never a file from elsewhere.
    pipeline = joblib.load(params.paths.model)
    scores, predictions = evaluate(pipeline, test, params.target, params.task)
    write_json(scores, params.paths.metrics)
    write_table(predictions, params.paths.predictions)
    log_to_training_run(params.paths.run_info, scores, params.mlflow.tracking_uri, params.mlflow.experiment)
    summary = ", ".join(f"{name} {value:.3f}" for name, value in scores.items())
    print(f"evaluate: {len(test)} test rows: {summary}; wrote {params.paths.metrics}")


if __name__ == "__main__":
    run(main)
