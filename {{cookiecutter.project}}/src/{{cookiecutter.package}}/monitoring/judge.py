"""The monitor's judgement of one batch: how each feature, the predictions and, where labels came back,
the model's quality moved from what the model learned from, and what to do about it. drift-check runs
it on the current batch; `make simulate` on each window of the API's traffic."""

import pandas as pd

from ..config import Params
from ..data.features import add_derived_features, feature_columns
from ..data.tables import read_table
from ..model.artifact import load_model
from ..records import read_json
from .drift import check_overrides, compare, prediction_drift, require_features
from .verdict import DriftSummary, importance_shares, performance_decay, summarize


def judge_batch(params: Params, reference: pd.DataFrame, current: pd.DataFrame) -> tuple[pd.DataFrame, DriftSummary]:
    """The per-feature table and the verdict of `current` against `reference` (the training data), for
    the workspace's model, its test metrics and its importance (evaluate's, when it draws it)."""
    features = feature_columns(reference, params.target)
    require_features(current, features)
    check_overrides(params.drift, features)
    # Derived columns drift too: compared as the model sees them.
    seen, now = add_derived_features(reference[features]), add_derived_features(current[features])
    table = compare(seen, now, list(seen.columns), params.drift)
    model = load_model(params.paths.model)
    prediction = prediction_drift(model, reference[features], current[features], params.drift)
    decay = performance_decay(model, current, params, read_json(params.paths.metrics))
    importance = params.paths.plots.get("importance")
    shares = importance_shares(read_table(importance) if importance else None)
    return table, summarize(table, params.drift, prediction, decay, shares)
