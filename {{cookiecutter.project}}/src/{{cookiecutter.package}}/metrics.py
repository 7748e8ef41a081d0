"""Quality metrics of predictions: for the whole test split and per group of one column (slices)."""

import warnings

import numpy as np
import pandas as pd
from sklearn import metrics as sk

# A numeric slice column with more distinct values than this is cut into quartiles.
MAX_GROUPS = 10


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
        "r2": sk.r2_score(y_true, y_pred) if len(y_true) > 1 else float("nan"),
    }
    return {name: round(float(value), 6) for name, value in scores.items()}


def score(pipeline, features: pd.DataFrame, y_true: pd.Series, task: str) -> dict[str, float]:
    """Every metric of `pipeline`'s predictions on `features` against `y_true`."""
    y_pred = pipeline.predict(features)
    if task == "regression":
        return regression_metrics(y_true, y_pred)
    proba = pipeline.predict_proba(features) if hasattr(pipeline, "predict_proba") else None
    return classification_metrics(y_true, y_pred, proba, pipeline.classes_)


def slice_metrics(pipeline, features: pd.DataFrame, y_true: pd.Series, groups: pd.Series, task: str,
                  metric: str, min_rows: int) -> dict:
    """`metric` per group, the group sizes, and the largest gap between groups of at least `min_rows`.

    A group may lack what a metric needs (ROC AUC with one class present): its value is null.
    """
    if pd.api.types.is_numeric_dtype(groups) and groups.nunique() > MAX_GROUPS:
        groups = pd.qcut(groups, 4, duplicates="drop")
    groups = groups.astype("string").fillna("(missing)")
    table = {}
    for group, rows in groups.groupby(groups, sort=True).groups.items():
        with warnings.catch_warnings():  # a group holding one class is expected; scikit-learn warns about it
            warnings.simplefilter("ignore", UserWarning)
            value = score(pipeline, features.loc[rows], y_true.loc[rows], task).get(metric, float("nan"))
        table[str(group)] = {"rows": len(rows), metric: None if np.isnan(value) else value}
    counted = [entry[metric] for entry in table.values() if entry["rows"] >= min_rows and entry[metric] is not None]
    gap = round(max(counted) - min(counted), 6) if len(counted) > 1 else 0.0
    return {"column": str(groups.name), "metric": metric, "min_rows": min_rows, "gap": gap, "groups": table}
