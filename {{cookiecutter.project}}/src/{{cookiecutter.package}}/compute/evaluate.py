"""evaluate on the dask engine: the model predicts the test split partition by partition on the workers,
and only each row's label, prediction and class probabilities come back to be scored, so the scores are
those of the whole split. The slices, latency and plots' tables come from a sample (stages/evaluate.py)."""

import numpy as np
import pandas as pd

from ..data.features import feature_columns
from ..model.metrics import Predictions, compute, metric_names, predictions
from .cluster import read_parts


def _predict(part: pd.DataFrame, model, target: str, task: str) -> Predictions:
    return predictions(model, part[feature_columns(part, target)], part[target], task)


def scores_by_partition(model, path: str, target: str, task: str) -> tuple[dict[str, float], int]:
    """Every metric of the task for `model` on the dataset at `path`, and its number of rows."""
    import dask

    parts = [part for part in dask.compute(*[dask.delayed(_predict)(part, model, target, task)
                                             for part in read_parts(path).to_delayed()]) if len(part.y_true)]
    merged = Predictions(pd.concat([part.y_true for part in parts], ignore_index=True),
                         np.concatenate([part.y_pred for part in parts]),
                         None if parts[0].proba is None else np.vstack([part.proba for part in parts]),
                         parts[0].classes)
    return compute(metric_names(task), merged), len(merged.y_true)
