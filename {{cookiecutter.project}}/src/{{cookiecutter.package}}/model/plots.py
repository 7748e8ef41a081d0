"""The tables behind `dvc plots show`: predictions, curves and feature importance, for people to read.

The evaluate stage's `plots:` in dvc.yaml say how each is drawn; `dvc plots diff` compares them across runs.
"""


import numpy as np
import pandas as pd
from sklearn import metrics as sk
from sklearn.inspection import permutation_importance
from sklearn.preprocessing import label_binarize

from ..data.tables import write_table
from ..errors import ConfigError

# Curves are thinned to this many points: enough to draw, small enough to keep in git.
MAX_POINTS = 500
# Permutation importance predicts (features x repeats) times; a sample of this many rows keeps it quick.
IMPORTANCE_ROWS = 10_000


def _thin(frame: pd.DataFrame) -> pd.DataFrame:
    if len(frame) <= MAX_POINTS:
        return frame
    return frame.iloc[np.unique(np.linspace(0, len(frame) - 1, MAX_POINTS).round().astype(int))]


def curves(y_true: pd.Series, proba: np.ndarray, classes: np.ndarray) -> dict[str, pd.DataFrame]:
    """ROC and precision-recall curves; with more than two classes, micro-averaged over one-vs-rest."""
    if len(classes) == 2:
        truth, scores = (y_true.to_numpy() == classes[1]).astype(int), proba[:, 1]
    else:
        truth, scores = label_binarize(y_true, classes=classes).ravel(), proba.ravel()
    fpr, tpr, _ = sk.roc_curve(truth, scores)
    precision, recall, _ = sk.precision_recall_curve(truth, scores)
    return {"roc": _thin(pd.DataFrame({"fpr": fpr, "tpr": tpr}).round(6)),
            "precision_recall": _thin(pd.DataFrame({"recall": recall, "precision": precision}).round(6))}


def importance(model, features: pd.DataFrame, y_true: pd.Series, repeats: int, seed: int) -> pd.DataFrame:
    """Permutation importance of each feature on the test split: how much the score drops when it is shuffled."""
    if len(features) > IMPORTANCE_ROWS:
        features = features.sample(IMPORTANCE_ROWS, random_state=seed)
        y_true = y_true.loc[features.index]
    result = permutation_importance(model, features, y_true, n_repeats=repeats, random_state=seed)
    return pd.DataFrame({"feature": features.columns, "importance": result.importances_mean.round(6),
                         "std": result.importances_std.round(6)}).sort_values("importance", ascending=False)


def plot_tables(model, features: pd.DataFrame, y_true: pd.Series, task: str, repeats: int,
                seed: int) -> dict[str, pd.DataFrame]:
    """Every table evaluate can draw for `task`, by plot name."""
    y_pred = model.predict(features)
    tables = {"predictions": pd.DataFrame({"actual": y_true.to_numpy(), "predicted": y_pred})}
    if task == "regression":
        tables["residuals"] = pd.DataFrame({"predicted": y_pred, "residual": y_true.to_numpy() - y_pred}).round(6)
    elif hasattr(model, "predict_proba"):
        tables |= curves(y_true, model.predict_proba(features), model.classes_)
    tables["importance"] = importance(model, features, y_true, repeats, seed)
    return tables


def write_plots(paths: dict[str, str], tables: dict[str, pd.DataFrame]) -> None:
    """Write the table of each plot named in `paths.plots` to its file; every name must be one evaluate draws."""
    for name, path in paths.items():
        if name not in tables:
            raise ConfigError(f"paths.plots.{name}", f"one of the plots evaluate draws here ({', '.join(tables)})",
                              name)
        write_table(tables[name], path)
