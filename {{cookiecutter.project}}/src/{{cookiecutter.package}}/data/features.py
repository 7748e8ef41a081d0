"""Which columns are features, which of them are numbers, and the derived feature columns.

`add_derived_features` is the one place to compute a column from others (a ratio, a date part, a
flag). The model pipeline applies it as its first step (model/pipeline.py), so training, evaluation,
drift-check's predictions and anything serving the model compute it the same way from the same raw
columns: no copy of this logic can drift apart from another. drift-check compares derived columns too.
"""

import pandas as pd


def add_derived_features(features: pd.DataFrame) -> pd.DataFrame:
    """The raw feature columns plus the derived ones; none by default. For example:

        return features.assign(bill_ratio=features["bill_length_mm"] / features["bill_depth_mm"])
    """
    return features


def feature_columns(frame: pd.DataFrame, target: str) -> list[str]:
    """Every column except the target."""
    return [column for column in frame.columns if column != target]


def is_numeric(series: pd.Series) -> bool:
    """Numeric features are scaled and binned; everything else (text, booleans) is categorical."""
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)
