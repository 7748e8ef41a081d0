"""The data contract file: its rules, read and checked. checks.py applies them to a data frame; infer.py
writes a starting contract from a data file.
"""

import ast
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..errors import ConfigError, UserError

TYPES = ("integer", "float", "string", "category", "boolean", "datetime")
# Each column rule, and each dataset rule, may be named in a `warn:` list to report without failing.
COLUMN_RULES = ("required", "type", "max_missing", "min", "max", "allowed", "pattern", "unique")
COLUMN_KEYS = {*COLUMN_RULES, "required", "nullable", "description", "warn"}
DATASET_RULES = ("min_rows", "max_duplicate_share", "unexpected_columns", "labels", "key")
DATASET_KEYS = {*DATASET_RULES, "target", "warn"}
CROSS_RULE_KEYS = {"name", "expr", "message", "severity"}


@dataclass(frozen=True)
class ColumnRule:
    name: str
    type: str
    max_missing: float = 0.0
    min: float | None = None
    max: float | None = None
    allowed: list | None = None
    pattern: str | None = None
    unique: bool = False
    required: bool = True
    description: str = ""
    warn: tuple[str, ...] = ()  # rules of this column that only warn


@dataclass(frozen=True)
class CrossRule:
    """A named expression over columns that every row must satisfy, e.g. `end_date >= start_date`."""

    name: str
    expr: str
    columns: tuple[str, ...]
    message: str = ""
    severity: str = "error"


@dataclass(frozen=True)
class Contract:
    columns: dict[str, ColumnRule]
    min_rows: int = 1
    max_duplicate_share: float | None = None
    warn: tuple[str, ...] = ()  # dataset rules that only warn (`unexpected_columns: warn` is one)
    rules: tuple[CrossRule, ...] = ()
    target: str | None = None  # the column a model learns to predict
    labels: list | None = None  # classification: the labels the target may hold
    key: str | None = None  # a column that identifies each row, so no value may repeat

    @property
    def categorical(self) -> set[str]:
        """Columns whose values are labels, not quantities, whatever their dtype."""
        return {name for name, rule in self.columns.items() if rule.type in ("category", "string", "boolean")}


def load_contract(path: str | Path) -> Contract:
    """Read the contract file; a `UserError` names the file, the key and what is wrong with it."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{path}: file not found") from None
    except yaml.YAMLError as error:
        raise UserError(f"{path}: not valid YAML: {' '.join(str(error).split())}") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("columns"), dict) or not raw["columns"]:
        raise UserError(f"{path}: expected a mapping with a non-empty 'columns' mapping, found {type(raw).__name__}")
    _reject_unknown(path, "", raw, {"dataset", "columns", "rules"})
    columns = {str(name): _column_rule(path, str(name), spec or {}) for name, spec in raw["columns"].items()}
    dataset = raw.get("dataset") or {}
    _reject_unknown(path, "dataset", dataset, DATASET_KEYS)
    unexpected = dataset.get("unexpected_columns", "error")
    if unexpected not in ("error", "warn"):
        _fail(path, "dataset.unexpected_columns", "error or warn", unexpected)
    min_rows = dataset.get("min_rows", 1)
    if not isinstance(min_rows, int) or isinstance(min_rows, bool) or min_rows < 1:
        _fail(path, "dataset.min_rows", "a positive integer", min_rows)
    duplicates = dataset.get("max_duplicate_share")
    if duplicates is not None and not _is_share(duplicates):
        _fail(path, "dataset.max_duplicate_share", "a share between 0 and 1", duplicates)
    rules = raw.get("rules") or []
    if not isinstance(rules, list):
        _fail(path, "rules", "a list of rules with name, expr and message", rules)
    for name in ("target", "key"):
        if dataset.get(name) is not None and dataset[name] not in columns:
            _fail(path, f"dataset.{name}", "a column named under 'columns'", dataset[name])
    labels = dataset.get("labels")
    if labels is not None and (not isinstance(labels, list) or not labels or dataset.get("target") is None):
        _fail(path, "dataset.labels", "a non-empty list of labels, with dataset.target set", labels)
    warn = _warn_list(path, "dataset", dataset, DATASET_RULES)
    if unexpected == "warn":
        warn += ("unexpected_columns",)
    return Contract(
        columns=columns, min_rows=min_rows, max_duplicate_share=duplicates, warn=warn,
        rules=tuple(_cross_rule(path, f"rules[{i}]", spec, columns) for i, spec in enumerate(rules)),
        target=dataset.get("target"), labels=labels, key=dataset.get("key"),
    )


def _fail(path: Path, key: str, expected: str, found: Any) -> None:
    raise ConfigError(key, expected, found, file=str(path))


def _is_share(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 1


def _reject_unknown(path: Path, key: str, spec: Any, known: set) -> None:
    if not isinstance(spec, dict):
        _fail(path, key, "a mapping", spec)
    for name in spec:
        if name not in known:
            where = f"{key}.{name}" if key else str(name)
            raise UserError(f"{path}: key '{where}': unknown rule (known: {', '.join(sorted(known))})")


def _warn_list(path: Path, key: str, spec: dict, rules: tuple[str, ...]) -> tuple[str, ...]:
    """The `warn:` list: names of rules, each of which must be one this column or dataset can have."""
    warn = spec.get("warn", [])
    if not isinstance(warn, list) or any(name not in rules for name in warn):
        _fail(path, f"{key}.warn", f"a list of rule names from {', '.join(rules)}", warn)
    return tuple(warn)


def _column_rule(path: Path, name: str, spec: dict) -> ColumnRule:
    key = f"columns.{name}"
    _reject_unknown(path, key, spec, COLUMN_KEYS)
    if spec.get("type") not in TYPES:
        _fail(path, f"{key}.type", f"one of {', '.join(TYPES)}", spec.get("type"))
    max_missing = 1.0 if spec.get("nullable") is True else spec.get("max_missing", 0.0)
    if not _is_share(max_missing):
        _fail(path, f"{key}.max_missing", "a share between 0 and 1", max_missing)
    low, high = spec.get("min"), spec.get("max")
    for bound, value in (("min", low), ("max", high)):
        if value is not None and (not isinstance(value, int | float) or isinstance(value, bool)):
            _fail(path, f"{key}.{bound}", "a number", value)
    if low is not None and high is not None and low > high:
        _fail(path, f"{key}.min", f"at most max ({high})", low)
    allowed = spec.get("allowed")
    if allowed is not None and (not isinstance(allowed, list) or not allowed):
        _fail(path, f"{key}.allowed", "a non-empty list", allowed)
    pattern = spec.get("pattern")
    if pattern is not None:
        try:
            re.compile(str(pattern))
        except re.error as error:
            _fail(path, f"{key}.pattern", f"a regular expression ({error})", pattern)
    unique, required = spec.get("unique", False), spec.get("required", True)
    for flag, value in (("unique", unique), ("required", required)):
        if not isinstance(value, bool):
            _fail(path, f"{key}.{flag}", "true or false", value)
    return ColumnRule(name, spec["type"], float(max_missing), low, high, allowed,
                      None if pattern is None else str(pattern), unique, required,
                      str(spec.get("description", "")), _warn_list(path, key, spec, COLUMN_RULES))


def _cross_rule(path: Path, key: str, spec: Any, columns: dict) -> CrossRule:
    _reject_unknown(path, key, spec, CROSS_RULE_KEYS)
    for required in ("name", "expr"):
        if not isinstance(spec.get(required), str) or not spec[required].strip():
            _fail(path, f"{key}.{required}", "a non-empty string", spec.get(required))
    try:
        tree = ast.parse(spec["expr"], mode="eval")
    except SyntaxError as error:
        _fail(path, f"{key}.expr", f"a Python-style expression ({error.msg})", spec["expr"])
    names = tuple(dict.fromkeys(node.id for node in ast.walk(tree) if isinstance(node, ast.Name)))
    unknown = [name for name in names if name not in columns and name not in ("True", "False")]
    if unknown:
        _fail(path, f"{key}.expr", f"only columns the contract names ({', '.join(unknown)} is not one)", spec["expr"])
    severity = spec.get("severity", "error")
    if severity not in ("error", "warn"):
        _fail(path, f"{key}.severity", "error or warn", severity)
    return CrossRule(spec["name"], spec["expr"], names, str(spec.get("message", "")), severity)
