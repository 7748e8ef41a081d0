"""The data contract: load the declarative YAML file and check a data frame against it.

Every broken rule is collected (never only the first), with the number and share of failing rows and
a few example values and row numbers, so one run tells the whole story.

`python -m <package>.contract infer data/raw/mydata.csv > contract.yaml` writes a starting contract
from a data file, for you to review and commit.
"""

import argparse
import math
import sys
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from .errors import UserError

TYPES = ("integer", "float", "string", "boolean")
COLUMN_KEYS = {"type", "nullable", "max_missing", "min", "max", "allowed", "description"}
DATASET_KEYS = {"min_rows", "unexpected_columns"}
EXAMPLES = 5
# infer: string columns with at most this many distinct values get an `allowed` list.
MAX_ALLOWED_VALUES = 20
# infer: ranges are widened by this share of the observed range on each side, so that new data
# slightly beyond what the file shows does not fail at once.
RANGE_MARGIN = 0.1


@dataclass(frozen=True)
class ColumnRule:
    name: str
    type: str
    max_missing: float = 0.0
    min: float | None = None
    max: float | None = None
    allowed: list | None = None
    description: str = ""


@dataclass(frozen=True)
class Contract:
    columns: dict[str, ColumnRule]
    min_rows: int = 1
    unexpected_columns: str = "error"


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


def load_contract(path: str | Path) -> Contract:
    """Read the contract file, rejecting unknown keys, unknown types and impossible ranges."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{path}: file not found") from None
    except yaml.YAMLError as error:
        raise UserError(f"{path}: not valid YAML: {' '.join(str(error).split())}") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("columns"), dict) or not raw["columns"]:
        raise UserError(f"{path}: expected a mapping with a non-empty 'columns' mapping, found {type(raw).__name__}")
    _reject_unknown(path, "", raw, {"dataset", "columns"})
    dataset = raw.get("dataset") or {}
    _reject_unknown(path, "dataset", dataset, DATASET_KEYS)
    columns = {str(name): _column_rule(path, str(name), spec or {}) for name, spec in raw["columns"].items()}
    unexpected = dataset.get("unexpected_columns", "error")
    if unexpected not in ("error", "warn"):
        raise UserError(f"{path}: key 'dataset.unexpected_columns': expected error or warn, found {unexpected!r}")
    min_rows = dataset.get("min_rows", 1)
    if not isinstance(min_rows, int) or isinstance(min_rows, bool) or min_rows < 1:
        raise UserError(f"{path}: key 'dataset.min_rows': expected a positive integer, found {min_rows!r}")
    return Contract(columns=columns, min_rows=min_rows, unexpected_columns=unexpected)


def _reject_unknown(path: Path, key: str, spec: Any, known: set) -> None:
    if not isinstance(spec, dict):
        raise UserError(f"{path}: key '{key}': expected a mapping, found {spec!r}")
    for name in spec:
        if name not in known:
            where = f"{key}.{name}" if key else name
            raise UserError(f"{path}: key '{where}': unknown rule (known: {', '.join(sorted(known))})")


def _column_rule(path: Path, name: str, spec: dict) -> ColumnRule:
    key = f"columns.{name}"
    _reject_unknown(path, key, spec, COLUMN_KEYS)
    if spec.get("type") not in TYPES:
        raise UserError(f"{path}: key '{key}.type': expected one of {', '.join(TYPES)}, found {spec.get('type')!r}")
    max_missing = 1.0 if spec.get("nullable") is True else spec.get("max_missing", 0.0)
    if not isinstance(max_missing, int | float) or not 0 <= max_missing <= 1:
        raise UserError(f"{path}: key '{key}.max_missing': expected a share between 0 and 1, found {max_missing!r}")
    low, high = spec.get("min"), spec.get("max")
    for bound, value in (("min", low), ("max", high)):
        if value is not None and (not isinstance(value, int | float) or isinstance(value, bool)):
            raise UserError(f"{path}: key '{key}.{bound}': expected a number, found {value!r}")
    if low is not None and high is not None and low > high:
        raise UserError(f"{path}: key '{key}.min': expected at most max ({high}), found {low}")
    allowed = spec.get("allowed")
    if allowed is not None and (not isinstance(allowed, list) or not allowed):
        raise UserError(f"{path}: key '{key}.allowed': expected a non-empty list, found {allowed!r}")
    return ColumnRule(name, spec["type"], float(max_missing), low, high, allowed, str(spec.get("description", "")))


def check_frame(frame: pd.DataFrame, contract: Contract, file: str, optional: tuple[str, ...] = ()) -> list[Failure]:
    """Every way `frame` breaks `contract`; columns in `optional` may be absent or have missing values."""
    failures = []
    if len(frame) < contract.min_rows:
        failures.append(Failure(file, "*", "min_rows", f">= {contract.min_rows} rows", f"{len(frame)} rows"))
    for name in frame.columns:
        if name not in contract.columns:
            failures.append(Failure(file, str(name), "unexpected_column", "a column named in the contract",
                                    "a column the contract does not name", severity=contract.unexpected_columns))
    for rule in contract.columns.values():
        if rule.name in optional:
            rule = replace(rule, max_missing=1.0)
        if rule.name in frame.columns:
            failures.extend(_check_column(frame[rule.name], rule, file))
        elif rule.name not in optional:
            failures.append(Failure(file, rule.name, "required", "the column to be present", "no such column"))
    return failures


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
        return [*failures, _failure(file, rule.name, "type", f"{rule.type} values", present[wrong_type], total)]
    broken = {}  # (rule, expected) -> which present values break it
    if rule.min is not None:
        broken["min", f">= {rule.min}"] = present < rule.min
    if rule.max is not None:
        broken["max", f"<= {rule.max}"] = present > rule.max
    if rule.allowed is not None:
        broken["allowed", f"one of {rule.allowed}"] = ~present.isin(rule.allowed)
    for (name, expected), mask in broken.items():
        if mask.any():
            failures.append(_failure(file, rule.name, name, expected, present[mask], total))
    return failures


def _type_mask(values: pd.Series, kind: str) -> pd.Series:
    """Which non-missing values are of the declared kind."""
    if pd.api.types.is_bool_dtype(values):
        return pd.Series(kind == "boolean", index=values.index)
    if pd.api.types.is_numeric_dtype(values):
        return values % 1 == 0 if kind == "integer" else pd.Series(kind == "float", index=values.index)
    if isinstance(values.dtype, pd.StringDtype):  # text only, checked at once
        if kind in ("integer", "float"):
            # Numbers read as text because of a few values that are not numbers ("N/A", "12,5"):
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


def _failure(file: str, column: str, rule: str, expected: str, failing: pd.Series, total: int) -> Failure:
    count = len(failing)
    share = count / max(total, 1)
    examples = [None if pd.isna(v) else (v.item() if hasattr(v, "item") else v) for v in failing.head(EXAMPLES)]
    return Failure(file, column, rule, expected, f"{count} of {total} rows ({share:.1%})", count,
                   round(share, 4), examples, [int(i) for i in failing.index[:EXAMPLES]])


def infer_contract(frame: pd.DataFrame) -> dict:
    """A starting contract describing `frame`: types, missing shares, widened ranges, small value sets."""
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
            spec["allowed"] = sorted(map(str, present.unique()))
        spec["description"] = ""
        columns[str(name)] = spec
    # A floor against empty or truncated files, low enough for small batches.
    return {"dataset": {"min_rows": min(30, len(frame)), "unexpected_columns": "error"}, "columns": columns}


def _infer_kind(present: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(present):
        return "boolean"
    if pd.api.types.is_numeric_dtype(present):
        return "integer" if len(present) and bool((present % 1 == 0).all()) else "float"
    return "string"


def _round_bound(value: float, kind: str) -> float | int:
    return int(round(value)) if kind == "integer" else round(value, 6)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m <package>.contract", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    infer = commands.add_parser("infer", help="print a starting contract for a CSV or Parquet file")
    infer.add_argument("data", help="the data file to describe")
    args = parser.parse_args(argv)
    from .tables import read_table

    contract = infer_contract(read_table(args.data))
    print(f"# Data contract inferred from {args.data}.\n"
          "# Review every rule, fill in the descriptions, then commit it. Ranges are widened by 10%\n"
          "# and missing shares by half plus two points, to leave room for new data.")
    print(yaml.safe_dump(contract, sort_keys=False, allow_unicode=True, width=100), end="")


if __name__ == "__main__":
    from .errors import run

    run(lambda: main(sys.argv[1:]))
