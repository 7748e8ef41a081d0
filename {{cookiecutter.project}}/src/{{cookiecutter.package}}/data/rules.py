"""The test behind each contract rule: which values of a column (or rows of a table) pass it.

checks.py turns each into a pandera check. Missing values are each test's to judge: most let them pass,
since `max_missing` is the rule about them.
"""

import math
from typing import Any

import numpy as np
import pandas as pd

from .contract import Contract, CrossRule


def typed(frame: pd.DataFrame, contract: Contract) -> pd.DataFrame:
    """The contract's columns as their declared types; values of another type become missing."""
    columns = {}
    for rule in contract.columns.values():
        if rule.name not in frame.columns:
            continue
        values = frame[rule.name]
        if rule.type == "datetime" and not pd.api.types.is_datetime64_any_dtype(values):
            values = pd.to_datetime(values.astype("string"), errors="coerce", format="mixed")
        elif rule.type in ("integer", "float") and not pd.api.types.is_numeric_dtype(values):
            values = pd.to_numeric(values.where(type_test(rule.type)(values)), errors="coerce")
        columns[rule.name] = values
    return pd.DataFrame(columns, index=frame.index)


def type_test(kind: str):
    """A test of which values are of the declared kind (what it says of missing values is moot)."""
    return lambda values: _type_mask(values, kind)


def or_missing(test):
    """The test, passing every missing value: the max_missing rule is the one that judges them."""
    return lambda values: test(values) | values.isna()


def missing_test(max_missing: float):
    """A pandera check that fails the missing values, only when there are more than allowed."""
    def test(values: pd.Series) -> pd.Series:
        missing = values.isna()
        return ~missing if missing.mean() > max_missing else pd.Series(True, index=values.index)
    return test


def duplicates_test(max_share: float):
    """A pandera check that fails the repeated rows, only when there are more than allowed."""
    def test(frame: pd.DataFrame) -> pd.Series:
        repeated = frame.duplicated()
        return ~repeated if repeated.mean() > max_share else pd.Series(True, index=frame.index)
    return test


def cross_test(rule: CrossRule):
    """A pandera check: rows where the expression holds, or that miss a value it reads.

    Rows missing a value, or holding one of the wrong type (missing in the typed copy), are left to
    the column's own rules, which report them already.
    """
    def test(frame: pd.DataFrame) -> pd.Series:
        rows = frame[list(rule.columns)]
        incomplete = rows.isna().any(axis=1)
        holds = rows[~incomplete].eval(rule.expr, engine="python") if (~incomplete).any() else pd.Series(dtype=bool)
        if not isinstance(holds, pd.Series) or not pd.api.types.is_bool_dtype(holds):
            raise TypeError(f"a value that is not true or false per row ({rule.expr})")
        return holds.reindex(frame.index, fill_value=True).astype(bool) | incomplete
    return test


def _type_mask(values: pd.Series, kind: str) -> pd.Series:
    """Which values are of the declared kind (missing ones may be either)."""
    if kind == "category":
        return pd.Series(True, index=values.index)  # a label may be text or a number; `allowed` says which
    if kind == "datetime":
        if pd.api.types.is_datetime64_any_dtype(values):
            return pd.Series(True, index=values.index)
        if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            return pd.Series(False, index=values.index)
        return pd.to_datetime(values.astype(str), errors="coerce", format="mixed").notna()
    if pd.api.types.is_bool_dtype(values):
        return pd.Series(kind == "boolean", index=values.index)
    if pd.api.types.is_numeric_dtype(values):
        # An infinity is no number a model can learn from: it breaks the type rule, range or not.
        finite = pd.Series(np.isfinite(values.to_numpy(float, na_value=np.nan)), index=values.index)
        return finite & (values % 1 == 0) if kind == "integer" else finite & (kind == "float")
    if isinstance(values.dtype, pd.StringDtype):  # text only, checked at once
        if kind in ("integer", "float"):
            # Numbers read as text because of a few values that are not numbers ("unknown", "12,5"):
            # those few are what is wrong, and what the report should show.
            numbers = pd.to_numeric(values, errors="coerce")
            not_numbers = numbers.isna() & values.notna()
            if not not_numbers.any():
                return pd.Series(False, index=values.index)
            finite = numbers.abs() != np.inf
            return ~not_numbers & finite if kind == "float" else ~not_numbers & finite & (numbers % 1 == 0)
        return pd.Series(kind == "string", index=values.index)
    return values.map(lambda value: _is_kind(value, kind)).astype(bool)


def _is_kind(value: Any, kind: str) -> bool:
    if kind in ("string", "boolean"):
        return isinstance(value, str if kind == "string" else bool)
    is_number = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    return is_number and (kind == "float" or float(value).is_integer())
