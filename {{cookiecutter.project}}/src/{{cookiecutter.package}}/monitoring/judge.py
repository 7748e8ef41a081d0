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
    return table, batch_verdict(params, model, table, prediction, current)


def batch_verdict(params: Params, model, table: pd.DataFrame, prediction: dict,
                  labelled: pd.DataFrame) -> DriftSummary:
    """The batch's verdict from its drift table and its predictions' row, with the model's quality on the
    batch's `labelled` rows against its test metrics, and evaluate's importance when it draws it."""
    decay = performance_decay(model, labelled, params, read_json(params.paths.metrics))
    importance = params.paths.plots.get("importance")
    shares = importance_shares(read_table(importance) if importance else None)
    return summarize(table, params.drift, prediction, decay, shares)
