"""A starting data contract inferred from a data file, for a person to review and commit."""

import math
from typing import Any

import pandas as pd

from ..errors import UserError

# String columns with at most this many distinct values become categories with an `allowed` list.
MAX_ALLOWED_VALUES = 20
# Ranges are widened by this share of the observed range on each side, so that new data slightly
# beyond what the file shows does not fail at once.
RANGE_MARGIN = 0.1


def infer_contract(frame: pd.DataFrame, target: str | None = None) -> dict:
    """A starting contract describing `frame`: types, missing shares, widened ranges, small value sets."""
    if target is not None and target not in frame.columns:
        raise UserError(f"--target: expected a column of the data ({', '.join(map(str, frame.columns))}), "
                        f"found {target!r}")
    columns = {}
    for name in frame.columns:
        series = frame[name]
        present = series.dropna()
        kind = _infer_kind(present)
        spec: dict[str, Any] = {"type": kind}
        missing = float(series.isna().mean())
        if missing:
            # Room for half as much again plus two points (shares from a few hundred rows are noisy),
            # rounded up to a whole percent.
            spec["max_missing"] = min(1.0, math.ceil((missing * 1.5 + 0.02) * 100) / 100)
        if kind in ("integer", "float") and len(present):
            low, high = float(present.min()), float(present.max())
            margin = (high - low) * RANGE_MARGIN
            # A quantity that is never negative in the data (a count, a price) stays so.
            floor = low - margin if low < 0 else max(0.0, low - margin)
            spec["min"], spec["max"] = _round_bound(floor, kind), _round_bound(high + margin, kind)
        elif kind == "string" and 0 < present.nunique() <= MAX_ALLOWED_VALUES:
            spec["type"] = "category"
            spec["allowed"] = sorted(map(str, present.unique()))
        spec["description"] = ""
        columns[str(name)] = spec
    # A floor against empty or truncated files, low enough for small batches.
    dataset: dict[str, Any] = {"min_rows": min(30, len(frame)), "unexpected_columns": "error"}
    if target is not None:
        dataset["target"] = str(target)
        labels = columns[str(target)].pop("allowed", None)
        if labels is not None:  # a classification target: its classes are the labels
            dataset["labels"] = labels
    return {"dataset": dataset, "columns": columns}


def _infer_kind(present: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(present):
        return "boolean"
    if pd.api.types.is_numeric_dtype(present):
        return "integer" if len(present) and bool((present % 1 == 0).all()) else "float"
    return "string"


def _round_bound(value: float, kind: str) -> float | int:
    return int(round(value)) if kind == "integer" else round(value, 6)
