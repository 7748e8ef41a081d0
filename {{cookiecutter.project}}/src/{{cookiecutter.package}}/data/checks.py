"""Check a data frame against the data contract with pandera, collecting every broken rule.

Never only the first: each failure carries the number and share of failing rows and a few example
values and row numbers, so one run tells the whole story. The contract is turned into two pandera
schemas: one for the shape of the table and the type of each value, run on the data as read, and
one for the values themselves, run on a typed copy in which values of the wrong type are missing
(the type rule reports them already; a range means nothing on "N/A"). A frame that breaks no rule is
confirmed by the rules' tests alone, without pandera's bookkeeping per check (_Schemas.pass_all).
"""

import math
import warnings
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

with warnings.catch_warnings():  # pandera warns about its own import path on some versions
    warnings.simplefilter("ignore")
    import pandera.pandas as pa

from ..console import text_table
from .contract import ColumnRule, Contract, CrossRule
from .rules import cross_test, duplicates_test, missing_test, or_missing, type_test, typed

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


@dataclass(frozen=True)
class _Rule:
    """What the report says about a pandera check; pandera knows it by `key`."""

    key: str
    column: str
    rule: str
    expected: str
    severity: str


class _Schemas:
    """The contract as pandera schemas, and the report line behind each of their checks."""

    def __init__(self, contract: Contract, columns: pd.Index, optional: tuple[str, ...]):
        self.contract, self.optional, self.rules, self.tests = contract, optional, {}, {}
        present = [rule for rule in contract.columns.values() if rule.name in columns]
        self.shape = pa.DataFrameSchema(
            {rule.name: self._shape_column(rule) for rule in contract.columns.values()},
            checks=self._dataset_checks(), strict=True)
        self.values = pa.DataFrameSchema(
            {rule.name: pa.Column(checks=self._value_checks(rule), nullable=True) for rule in present},
            checks=[self._cross_check(rule) for rule in contract.rules
                    if all(name in columns for name in rule.columns)])

    def _rule(self, key: str, column: str, rule: str, expected: str, warn: tuple[str, ...] = (),
              severity: str = "error") -> str:
        self.rules[key] = _Rule(key, column, rule, expected, "warn" if rule in warn else severity)
        return key

    def _check(self, test, key: str, column: str, rule: str, expected: str, warn: tuple[str, ...] = (),
               severity: str = "error") -> pa.Check:
        # Missing values are each test's to judge (most let them pass: max_missing is about them);
        # pandera's own way of skipping them copies every column first.
        self.tests[key] = test
        return pa.Check(test, name=self._rule(key, column, rule, expected, warn, severity), ignore_na=False)

    def pass_all(self, frame: pd.DataFrame, typed_frame: pd.DataFrame) -> bool:
        """Whether no check fails, found by running the tests themselves.

        pandera's bookkeeping costs about 0.3 ms a check whatever the rows: most of the time of a frame
        of a few rows, such as a request to the API. Only a frame that breaks a rule needs its failure
        cases; a test that raises is left to pandera to report too."""
        if not set(frame.columns) <= set(self.shape.columns):
            return False
        for schema, data in ((self.shape, frame), (self.values, typed_frame)):
            if any(column.required and name not in data for name, column in schema.columns.items()):
                return False
            targets = [(data, schema.checks)] + [(data[name], column.checks)
                                                 for name, column in schema.columns.items() if name in data]
            for target, checks in targets:
                for check in checks:
                    try:
                        passed = self.tests[check.name](target)
                    except Exception:
                        return False
                    if not (passed.all() if isinstance(passed, pd.Series) else passed):
                        return False
        return True

    def _shape_column(self, rule: ColumnRule) -> pa.Column:
        key, optional = f"columns.{rule.name}", rule.name in self.optional
        self._rule(f"{key}.required", rule.name, "required", "the column to be present", rule.warn)
        max_missing = 1.0 if optional else rule.max_missing
        checks = [self._check(or_missing(type_test(rule.type)), f"{key}.type", rule.name, "type",
                              "finite numbers" if rule.type == "float" else f"{rule.type} values", rule.warn)]
        if max_missing < 1:
            checks.append(self._check(missing_test(max_missing), f"{key}.max_missing", rule.name, "max_missing",
                                      f"at most {max_missing:.0%} missing", rule.warn))
        return pa.Column(checks=checks, nullable=True, required=rule.required and not optional)

    def _value_checks(self, rule: ColumnRule) -> list[pa.Check]:
        """Range, allowed values, pattern, uniqueness; missing values pass (max_missing judges them)."""
        dataset, key = self.contract, f"columns.{rule.name}"
        tests = []  # (test, contract key, rule, expected, rules that only warn)
        if rule.min is not None:
            tests.append((lambda s: s >= rule.min, f"{key}.min", "min", f">= {rule.min}", rule.warn))
        if rule.max is not None:
            tests.append((lambda s: s <= rule.max, f"{key}.max", "max", f"<= {rule.max}", rule.warn))
        if rule.allowed is not None:
            tests.append((lambda s: s.isin(rule.allowed), f"{key}.allowed", "allowed", f"one of {rule.allowed}",
                          rule.warn))
        if rule.pattern is not None:
            tests.append((lambda s: s.astype(str).str.fullmatch(rule.pattern), f"{key}.pattern", "pattern",
                          f"text matching {rule.pattern}", rule.warn))
        if rule.unique:
            tests.append((lambda s: ~s.duplicated(keep=False), f"{key}.unique", "unique", "no value twice", rule.warn))
        if rule.name == dataset.target and dataset.labels is not None:
            tests.append((lambda s: s.isin(dataset.labels), "dataset.labels", "labels",
                          f"a label from {dataset.labels}", dataset.warn))
        if rule.name == dataset.key:
            tests.append((lambda s: ~s.duplicated(keep=False), "dataset.key", "key", "a key: no value twice",
                          dataset.warn))
        return [self._check(or_missing(test), contract_key, rule.name, name, expected, warn)
                for test, contract_key, name, expected, warn in tests]

    def _dataset_checks(self) -> list[pa.Check]:
        contract, warn = self.contract, self.contract.warn
        self._rule("dataset.unexpected_columns", "", "unexpected_columns", "a column named in the contract", warn)
        checks = [self._check(lambda frame: len(frame) >= contract.min_rows, "dataset.min_rows", "*", "min_rows",
                              f">= {contract.min_rows} rows", warn)]
        if contract.max_duplicate_share is not None:
            checks.append(self._check(duplicates_test(contract.max_duplicate_share), "dataset.max_duplicate_share",
                                      "*", "max_duplicate_share",
                                      f"at most {contract.max_duplicate_share:.0%} duplicate rows", warn))
        return checks

    def _cross_check(self, rule: CrossRule) -> pa.Check:
        return self._check(cross_test(rule), f"rules.{rule.name}", ", ".join(rule.columns), rule.name,
                           rule.message or rule.expr, severity=rule.severity)


def check_frame(frame: pd.DataFrame, contract: Contract, file: str, optional: tuple[str, ...] = ()) -> list[Failure]:
    """Every way `frame` breaks `contract`; columns in `optional` may be absent or have missing values."""
    frame = frame.set_axis([str(name) for name in frame.columns], axis=1)
    schemas, typed_frame = _Schemas(contract, frame.columns, optional), typed(frame, contract)
    if schemas.pass_all(frame, typed_frame):
        return []
    cases = pd.concat([_failure_cases(schemas.shape, frame), _failure_cases(schemas.values, typed_frame)])
    failures = []
    for key, group in cases.groupby("check", sort=False):
        failures += _failures(schemas.rules, str(key), group, frame, file)
    return failures


def rule_texts(contract: Contract, columns: pd.Index, optional: tuple[str, ...] = ()) -> dict[str, _Rule]:
    """What the report says of each rule of `contract` on a table with these columns, by its contract key
    (such as columns.bill_length_mm.max_missing or dataset.min_rows)."""
    return _Schemas(contract, columns, optional).rules


def failures_table(failures: list[Failure]) -> str:
    """The broken rules as a compact table for a terminal and a CI log."""
    header = ("severity", "file", "column", "rule", "expected", "found", "examples")
    rows = [header] + [(f.severity, f.file, f.column, f.rule, f.expected, f.found,
                        ", ".join(map(repr, f.examples))[:40]) for f in failures]
    return text_table(rows)


def _failure_cases(schema: pa.DataFrameSchema, frame: pd.DataFrame) -> pd.DataFrame:
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as errors:
        return errors.failure_cases
    return pd.DataFrame(columns=["column", "check", "failure_case", "index"])


def _failures(rules: dict[str, _Rule], key: str, cases: pd.DataFrame, frame: pd.DataFrame, file: str) -> list[Failure]:
    """The report lines for one pandera check's failure cases."""
    if key in ("column_in_schema", "column_in_dataframe"):  # an unexpected or a missing column, one line each
        kind = "dataset.unexpected_columns" if key == "column_in_schema" else None
        failures = []
        for name in cases["failure_case"]:
            rule = rules[kind or f"columns.{name}.required"]
            found = "a column the contract does not name" if kind else "no such column"
            failures.append(Failure(file, str(name), rule.rule, rule.expected, found, severity=rule.severity))
        return failures
    rule = rules[key]
    rows = cases["index"].dropna()
    if rows.empty:  # a check on the whole table failed, or could not run on this data
        case = cases["failure_case"].iloc[0]
        found = f"{len(frame)} rows" if rule.rule == "min_rows" else _could_not_check(case)
        return [Failure(file, rule.column, rule.rule, rule.expected, found, severity=rule.severity)]
    rows = pd.Index(rows.unique())
    if rule.column in frame.columns:
        examples = frame.loc[rows[:EXAMPLES], rule.column]
    else:  # several columns (a rule across columns) or the whole row (a duplicate)
        shown = [name for name in rule.column.split(", ") if name in frame.columns] or list(frame.columns)
        examples = frame.loc[rows[:EXAMPLES], shown].apply(lambda row: ", ".join(map(str, row)), axis=1)
    count = len(rows)
    return [Failure(file, rule.column, rule.rule, rule.expected, *rows_found(count, len(frame)),
                    [plain(value) for value in examples], [plain(row) for row in rows[:EXAMPLES]], rule.severity)]


def rows_found(count: int, total: int) -> tuple[str, int, float]:
    """A failure's found text, failing rows and share, for `count` rows of `total`."""
    share = count / max(total, 1)
    return f"{count} of {total} rows ({share:.1%})", count, round(share, 4)


def _could_not_check(case: Any) -> str:
    return f"a rule that cannot be checked on this data ({case})"


def plain(value: Any) -> Any:
    """An example value as plain JSON: missing as null, infinities as text (JSON has no infinity)."""
    if pd.isna(value):
        return None
    value = value.item() if hasattr(value, "item") else value
    return str(value) if isinstance(value, float) and not math.isfinite(value) else value
