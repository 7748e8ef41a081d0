"""Check a data frame against the data contract, collecting every broken rule.

Never only the first: each failure carries the number and share of failing rows and a few example
values and row numbers, so one run tells the whole story. Checks are vectorised over columns.
"""

import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import pandas as pd

from .contract import ColumnRule, Contract, CrossRule

EXAMPLES = 5


@dataclass
class Failure:
    """One broken rule in one file."""

    file: str
    column: str
    rule: str
    expected: str
    found: str
    failing_rows: int = 0
    share: float = 0.0
    examples: list = field(default_factory=list)
    rows: list = field(default_factory=list)
    severity: str = "error"

    def to_dict(self) -> dict:
        return asdict(self)


def check_frame(frame: pd.DataFrame, contract: Contract, file: str, optional: tuple[str, ...] = ()) -> list[Failure]:
    """Every way `frame` breaks `contract`; columns in `optional` may be absent or have missing values."""
    failures = [*_check_dataset(frame, contract, file)]
    for rule in contract.columns.values():
        if rule.name in optional:
            rule = replace(rule, max_missing=1.0)
        if rule.name in frame.columns:
            failures += _check_column(frame[rule.name], rule, file)
        elif rule.required and rule.name not in optional:
            failures += _mark_warnings([Failure(file, rule.name, "required", "the column to be present",
                                                "no such column")], rule.warn)
    for rule in contract.rules:
        if all(name in frame.columns for name in rule.columns):
            failures += _check_cross_rule(frame, rule, contract.columns, file)
    return failures


def _check_dataset(frame: pd.DataFrame, contract: Contract, file: str) -> list[Failure]:
    failures = []
    if len(frame) < contract.min_rows:
        failures.append(Failure(file, "*", "min_rows", f">= {contract.min_rows} rows", f"{len(frame)} rows"))
    if contract.max_duplicate_share is not None:
        duplicated = frame.duplicated()
        if duplicated.mean() > contract.max_duplicate_share:
            failures.append(_failure(file, "*", "max_duplicate_share",
                                     f"at most {contract.max_duplicate_share:.0%} duplicate rows",
                                     pd.Series("duplicate row", index=frame.index[duplicated]), len(frame)))
    for name in frame.columns:
        if name not in contract.columns:
            failures.append(Failure(file, str(name), "unexpected_columns", "a column named in the contract",
                                    "a column the contract does not name"))
    return _mark_warnings(failures, contract.warn)


def _check_column(series: pd.Series, rule: ColumnRule, file: str) -> list[Failure]:
    total = len(series)
    missing = series.isna()
    failures = []
    if missing.mean() > rule.max_missing:
        failures.append(_failure(file, rule.name, "max_missing", f"at most {rule.max_missing:.0%} missing",
                                 series[missing], total))
    present = series[~missing]
    wrong_type = ~_type_mask(present, rule.type)
    if wrong_type.any():
        # Range and category checks mean nothing on values of the wrong type.
        failures.append(_failure(file, rule.name, "type", f"{rule.type} values", present[wrong_type], total))
        return _mark_warnings(failures, rule.warn)
    if rule.type in ("integer", "float") and not pd.api.types.is_numeric_dtype(present):
        present = pd.to_numeric(present)  # numbers held as text or objects: compare them as numbers
    broken = {}  # (rule, expected) -> which present values break it
    if rule.min is not None:
        broken["min", f">= {rule.min}"] = present < rule.min
    if rule.max is not None:
        broken["max", f"<= {rule.max}"] = present > rule.max
    if rule.allowed is not None:
        broken["allowed", f"one of {rule.allowed}"] = ~present.isin(rule.allowed)
    if rule.pattern is not None:
        broken["pattern", f"text matching {rule.pattern}"] = ~present.astype(str).str.fullmatch(rule.pattern)
    if rule.unique:
        broken["unique", "no value twice"] = present.duplicated(keep=False)
    for (name, expected), mask in broken.items():
        if mask.any():
            failures.append(_failure(file, rule.name, name, expected, present[mask], total))
    return _mark_warnings(failures, rule.warn)


def _mark_warnings(failures: list[Failure], warn: tuple[str, ...]) -> list[Failure]:
    """Failures of the rules named in a `warn:` list are reported, not fatal."""
    for failure in failures:
        if failure.rule in warn:
            failure.severity = "warn"
    return failures


def _check_cross_rule(frame: pd.DataFrame, rule: CrossRule, columns: dict[str, ColumnRule],
                      file: str) -> list[Failure]:
    """Rows where the expression is false, each column read as its declared type.

    Rows missing a value the expression reads, or holding one of the wrong type, are left to the
    column's own rules (max_missing, type), which report them already.
    """
    rows = frame[list(rule.columns)].copy()
    for name in rule.columns:
        if columns[name].type == "datetime":
            rows[name] = pd.to_datetime(rows[name].astype("string"), errors="coerce", format="mixed")
        elif columns[name].type in ("integer", "float"):
            rows[name] = pd.to_numeric(rows[name], errors="coerce")
    rows = rows.dropna()
    expected = rule.message or rule.expr
    try:
        holds = rows.eval(rule.expr, engine="python") if len(rows) else pd.Series(dtype=bool)
    except Exception as error:  # the data decides whether an expression can be evaluated at all
        return [Failure(file, ", ".join(rule.columns), rule.name, expected,
                        f"an expression that cannot be evaluated on this data ({error})", severity=rule.severity)]
    if not isinstance(holds, pd.Series) or not pd.api.types.is_bool_dtype(holds):
        return [Failure(file, ", ".join(rule.columns), rule.name, expected,
                        f"a value that is not true or false per row ({rule.expr})", severity=rule.severity)]
    broken = rows[~holds]
    if broken.empty:
        return []
    examples = frame.loc[broken.index, list(rule.columns)].astype(str).agg(", ".join, axis=1)
    failure = _failure(file, ", ".join(rule.columns), rule.name, expected, examples, len(frame))
    failure.severity = rule.severity
    return [failure]


def _type_mask(values: pd.Series, kind: str) -> pd.Series:
    """Which non-missing values are of the declared kind."""
    if kind == "datetime":
        if pd.api.types.is_datetime64_any_dtype(values):
            return pd.Series(True, index=values.index)
        if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            return pd.Series(False, index=values.index)
        return pd.to_datetime(values.astype(str), errors="coerce", format="mixed").notna()
    if pd.api.types.is_bool_dtype(values):
        return pd.Series(kind == "boolean", index=values.index)
    if pd.api.types.is_numeric_dtype(values):
        return values % 1 == 0 if kind == "integer" else pd.Series(kind == "float", index=values.index)
    if isinstance(values.dtype, pd.StringDtype):  # text only, checked at once
        if kind in ("integer", "float"):
            # Numbers read as text because of a few values that are not numbers ("unknown", "12,5"):
            # those few are what is wrong, and what the report should show.
            numbers = pd.to_numeric(values, errors="coerce")
            not_numbers = numbers.isna()
            return ~not_numbers if not_numbers.any() else pd.Series(False, index=values.index)
        return pd.Series(kind == "string", index=values.index)
    return values.map(lambda value: _is_kind(value, kind)).astype(bool)


def _is_kind(value: Any, kind: str) -> bool:
    if kind in ("string", "boolean"):
        return isinstance(value, str if kind == "string" else bool)
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    return is_number and (kind == "float" or float(value).is_integer())


def _plain(value: Any) -> Any:
    """An example value as plain JSON: missing as null, infinities as text (JSON has no infinity)."""
    if pd.isna(value):
        return None
    value = value.item() if hasattr(value, "item") else value
    return str(value) if isinstance(value, float) and not math.isfinite(value) else value


def _failure(file: str, column: str, rule: str, expected: str, failing: pd.Series, total: int) -> Failure:
    count = len(failing)
    share = count / max(total, 1)
    examples = [_plain(value) for value in failing.head(EXAMPLES)]
    return Failure(file, column, rule, expected, f"{count} of {total} rows ({share:.1%})", count,
                   round(share, 4), examples, [int(i) for i in failing.index[:EXAMPLES]])
