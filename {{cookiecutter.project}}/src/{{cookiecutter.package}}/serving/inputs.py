"""A request's records checked against the data contract, the rules validate applies to a batch.

Only the rules about single values and rows apply to a request (a row count or a share of duplicates
says nothing of one call); the target may be absent. A broken error rule refuses the request with one
problem per record and column; a rule the contract says only warns serves the request with a warning.
"""

from dataclasses import replace

import pandas as pd

from ..data.checks import Failure, check_frame
from ..data.contract import Contract

BODY = "body"


class BadRequest(Exception):
    """A request the API refuses: its problems, each naming where it is, what was expected and found;
    the HTTP status (422 unless the refusal is another kind) and any headers the answer needs."""

    def __init__(self, problems: list[dict], status: int = 422, headers: dict | None = None):
        super().__init__(problems)
        self.problems, self.status, self.headers = problems, status, headers


def request_records(body) -> list[dict]:
    """The `records` of a request body, or BadRequest saying what the body should be."""
    records = body.get("records") if isinstance(body, dict) else None
    if not isinstance(records, list) or not records or not all(isinstance(record, dict) for record in records):
        found = type(records).__name__ if isinstance(body, dict) else type(body).__name__
        raise BadRequest([{"field": f"{BODY}.records" if isinstance(body, dict) else BODY,
                           "expected": '{"records": [{<feature>: <value>, ...}, ...]}: a non-empty list of objects',
                           "found": found}])
    return records


def request_contract(contract: Contract) -> Contract:
    """The rules that judge records one by one: a column that may miss some values may miss any one
    (the model imputes it); one that may miss none needs a value in every record."""
    columns = {name: replace(rule, max_missing=1.0) if rule.max_missing > 0 else rule
               for name, rule in contract.columns.items()}
    return replace(contract, columns=columns, min_rows=1, max_duplicate_share=None, key=None)


def check_records(frame: pd.DataFrame, contract: Contract) -> list[str]:
    """The warnings of the records that pass; BadRequest naming each record that breaks an error rule."""
    failures = check_frame(frame, contract, "request", optional=(contract.target,) if contract.target else ())
    errors = [failure for failure in failures if failure.severity == "error"]
    if errors:
        raise BadRequest([problem for failure in errors for problem in problems(failure, len(frame))])
    return [f"{failure.column}: {failure.rule}: expected {failure.expected}, found {failure.found}"
            for failure in failures]


def problems(failure: Failure, records: int) -> list[dict]:
    """One problem per failing record (a rule of the whole request: one for all of them)."""
    base = {"column": failure.column, "rule": failure.rule, "expected": failure.expected}
    if not failure.rows:
        return [{"record": None if records > 1 else 0, **base, "found": failure.found}]
    return [{"record": row, **base, "found": example} for row, example in zip(failure.rows, failure.examples)]


def check_label(label, contract: Contract) -> None:
    """BadRequest when `label` is no value the contract allows for the target."""
    target = contract.target
    if isinstance(label, dict | list):
        raise BadRequest([{"field": f"{BODY}.label", "column": target, "expected": "a value (a number, a string, "
                           "true or false)", "found": "an object" if isinstance(label, dict) else "a list"}])
    rule = contract.columns.get(target) if target else None
    if rule is None:
        return
    failures = check_frame(pd.DataFrame({target: [label]}), replace(contract, columns={target: rule}, rules=()),
                           "feedback")
    errors = [failure for failure in failures if failure.severity == "error"]
    if errors or label is None:
        expected = errors[0].expected if errors else "a value"
        raise BadRequest([{"field": f"{BODY}.label", "column": target, "expected": expected, "found": label}])
