"""The metrics table: every test metric by name, with its task, its direction and how it is computed.

evaluate writes these, the gates and the slices name them, drift-check compares them, and the settings
check refuses a name that is not here. To add a metric, add a row to METRICS; a gate on it is then one
line of params.yaml (`gates.minimum.<name>` or `gates.maximum.<name>`).
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported for the annotations only: every stage reads this table through the settings check
    import numpy as np
    import pandas as pd


@dataclass(frozen=True)
class Predictions:
    """What a model said about some rows, next to the truth: all any metric needs."""

    y_true: "pd.Series"
    y_pred: "np.ndarray"
    proba: "np.ndarray | None" = None  # classification: one column per class, in the order of `classes`
    classes: "np.ndarray | None" = None


@dataclass(frozen=True)
class Metric:
    task: str  # classification or regression
    higher_is_better: bool
    compute: Callable[[Predictions], float | None]  # None: these predictions cannot give it


def _sk():
    """scikit-learn's metrics, imported on first use (they take a second to import)."""
    from sklearn import metrics

    return metrics


def _log_loss(p: Predictions) -> float | None:
    return None if p.proba is None else _sk().log_loss(p.y_true, p.proba, labels=p.classes)


def _roc_auc(p: Predictions) -> float | None:
    # ROC AUC needs every class among the true labels; a small split or a slice may lack one.
    if p.proba is None or not set(p.classes) <= set(p.y_true):
        return None
    if len(p.classes) == 2:
        return _sk().roc_auc_score(p.y_true == p.classes[1], p.proba[:, 1])
    return _sk().roc_auc_score(p.y_true, p.proba, multi_class="ovr", labels=p.classes)


def _macro(name: str) -> Callable[[Predictions], float]:
    return lambda p: getattr(_sk(), f"{name}_score")(p.y_true, p.y_pred, average="macro", zero_division=0)


METRICS: dict[str, Metric] = {
    "accuracy": Metric("classification", True, lambda p: _sk().accuracy_score(p.y_true, p.y_pred)),
    "balanced_accuracy": Metric("classification", True, lambda p: _sk().balanced_accuracy_score(p.y_true, p.y_pred)),
    "precision_macro": Metric("classification", True, _macro("precision")),
    "recall_macro": Metric("classification", True, _macro("recall")),
    "f1_macro": Metric("classification", True, _macro("f1")),
    "log_loss": Metric("classification", False, _log_loss),
    "roc_auc": Metric("classification", True, _roc_auc),
    "rmse": Metric("regression", False, lambda p: _sk().root_mean_squared_error(p.y_true, p.y_pred)),
    "mae": Metric("regression", False, lambda p: _sk().mean_absolute_error(p.y_true, p.y_pred)),
    "r2": Metric("regression", True, lambda p: _sk().r2_score(p.y_true, p.y_pred) if len(p.y_true) > 1 else None),
}


def metric_names(task: str) -> list[str]:
    return [name for name, metric in METRICS.items() if metric.task == task]


def predictions(model, features: "pd.DataFrame", y_true: "pd.Series", task: str) -> Predictions:
    """`model`'s predictions on `features`, with class probabilities when it gives them."""
    if task == "classification" and hasattr(model, "predict_proba"):
        return Predictions(y_true, model.predict(features), model.predict_proba(features), model.classes_)
    return Predictions(y_true, model.predict(features))


def compute(names: list[str], predicted: Predictions) -> dict[str, float]:
    """The named metrics of these predictions, rounded; those they cannot give are left out."""
    values = {name: METRICS[name].compute(predicted) for name in names}
    return {name: round(float(value), 6) for name, value in values.items() if value is not None}


def score(model, features: "pd.DataFrame", y_true: "pd.Series", task: str) -> dict[str, float]:
    """Every metric of the task for `model` on `features` against `y_true`."""
    return compute(metric_names(task), predictions(model, features, y_true, task))


def worse_by(name: str, value: float, reference: float) -> float:
    """How much worse `value` is than `reference` on metric `name` (negative: better)."""
    return reference - value if METRICS[name].higher_is_better else value - reference
