"""Slices: one metric per group of a column, and the largest gap between groups that are big enough."""

import warnings

import numpy as np
import pandas as pd

from .metrics import METRICS, predictions

# A numeric slice column with more distinct values than this is cut into quartiles.
MAX_GROUPS = 10


def slice_metrics(model, features: pd.DataFrame, y_true: pd.Series, groups: pd.Series, task: str,
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
            value = METRICS[metric].compute(predictions(model, features.loc[rows], y_true.loc[rows], task))
        known = value is not None and not np.isnan(value)
        table[str(group)] = {"rows": len(rows), metric: round(float(value), 6) if known else None}
    counted = [entry[metric] for entry in table.values() if entry["rows"] >= min_rows and entry[metric] is not None]
    gap = round(max(counted) - min(counted), 6) if len(counted) > 1 else 0.0
    return {"column": str(groups.name), "metric": metric, "min_rows": min_rows, "gap": gap, "groups": table}
