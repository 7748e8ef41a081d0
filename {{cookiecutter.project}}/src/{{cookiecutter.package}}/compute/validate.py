"""validate on the dask engine: each partition checked against the contract as the pandas engine checks
a file, and the rules that need the whole data as reductions over every partition, so each broken rule
is reported once per dataset with its rows counted over the whole of it.

The rules that need the whole data: min_rows (a count), max_missing (missing values per column),
unique and dataset.key (value counts), max_duplicate_share (counts of whole-row hashes). Every other
rule judges one row at a time, so its failing rows are the sum of each partition's.
"""

from dataclasses import replace

import pandas as pd

from ..data.checks import EXAMPLES, Failure, check_frame, plain, rows_found, rule_texts
from ..data.contract import Contract
from ..data.rules import typed


def row_rules_only(contract: Contract) -> Contract:
    """The contract without its whole-data rules: what one partition can be checked against alone."""
    columns = {name: replace(rule, max_missing=1.0, unique=False) for name, rule in contract.columns.items()}
    return replace(contract, columns=columns, min_rows=0, max_duplicate_share=None, key=None)


def _row_hashes(part: pd.DataFrame) -> pd.Series:
    return pd.util.hash_pandas_object(part, index=False)


def check_parts(frame, contract: Contract, file: str, optional: tuple[str, ...] = ()) -> tuple[list[Failure], int]:
    """Every way the dask data frame `frame` breaks `contract`, and its number of rows."""
    import dask

    frame = frame.rename(columns=str)
    texts = rule_texts(contract, frame.columns, optional)
    # Each partition's rows numbered from 0 (the offsets below number them in the whole dataset).
    per_part = frame.map_partitions(lambda part: pd.Series([check_frame(part.reset_index(drop=True),
                                                                        row_rules_only(contract), file, optional)]),
                                    meta=(None, object))
    lengths = frame.map_partitions(len)
    whole = {"missing": frame.isna().sum()}
    values = frame.map_partitions(typed, contract)
    unique = [name for name, rule in contract.columns.items() if name in frame.columns
              and (rule.unique or name == contract.key)]
    for name in unique:
        counts = values[name].value_counts(split_out=1)
        whole[f"repeated.{name}"] = counts[counts > 1]
    if contract.max_duplicate_share is not None:
        whole["repeated_rows"] = (frame.map_partitions(_row_hashes).value_counts(split_out=1) - 1).sum()
    per_part, lengths, whole = dask.compute(per_part, lengths, whole)
    total = int(lengths.sum())
    offsets = lengths.cumsum().shift(fill_value=0).tolist()
    per_part = per_part.tolist()
    failures = _merge(per_part, offsets, total)
    failures += _whole_data_failures(contract, texts, whole, unique, file, total)
    return failures, total


def _merge(per_part: list[list[Failure]], offsets: list[int], total: int) -> list[Failure]:
    """One failure per rule from each partition's: rows numbered in the whole dataset, counted over it."""
    merged: dict[tuple[str, str], Failure] = {}
    for offset, failures in zip(offsets, per_part):
        for failure in failures:
            rows = [row + offset for row in failure.rows]
            known = merged.get((failure.column, failure.rule))
            if known is None:
                merged[(failure.column, failure.rule)] = replace(failure, rows=rows)
                continue
            known.failing_rows += failure.failing_rows
            known.examples = (known.examples + failure.examples)[:EXAMPLES]
            known.rows = (known.rows + rows)[:EXAMPLES]
    for failure in merged.values():
        if failure.failing_rows:  # a rule on rows, not one on the table's shape (a missing column, say)
            failure.found, _, failure.share = rows_found(failure.failing_rows, total)
    return list(merged.values())


def _whole_data_failures(contract: Contract, texts: dict, whole: dict, unique: list[str], file: str,
                         total: int) -> list[Failure]:
    def failure(key: str, count: int, examples: list = ()) -> Failure:
        text = texts[key]
        return Failure(file, text.column, text.rule, text.expected, *rows_found(count, total),
                       list(examples)[:EXAMPLES], [], text.severity)

    failures = []
    if total < contract.min_rows:
        text = texts["dataset.min_rows"]
        failures.append(Failure(file, text.column, text.rule, text.expected, f"{total} rows", severity=text.severity))
    for name, missing in whole["missing"].items():
        key = f"columns.{name}.max_missing"
        if key in texts and missing / max(total, 1) > contract.columns[name].max_missing:
            failures.append(failure(key, int(missing)))
    for name in unique:
        repeated = whole[f"repeated.{name}"]
        keys = [f"columns.{name}.unique"] * contract.columns[name].unique + ["dataset.key"] * (name == contract.key)
        failures += [failure(key, int(repeated.sum()), [plain(value) for value in repeated.index])
                     for key in keys if len(repeated)]
    repeated_rows = int(whole.get("repeated_rows", 0))
    if contract.max_duplicate_share is not None and repeated_rows / max(total, 1) > contract.max_duplicate_share:
        failures.append(failure("dataset.max_duplicate_share", repeated_rows))
    return failures

