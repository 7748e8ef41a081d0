import json
import re

import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.pandas import column, data_frames, range_indexes

from {{ cookiecutter.package }}.commands.infer_contract import main as infer_main
from {{ cookiecutter.package }}.data.checks import _failure_cases, _Schemas, check_frame, failures_table
from {{ cookiecutter.package }}.data.contract import load_contract
from {{ cookiecutter.package }}.data.infer import infer_contract
from {{ cookiecutter.package }}.data.rules import typed
from {{ cookiecutter.package }}.data.tables import read_table
from {{ cookiecutter.package }}.errors import UserError

CONTRACT = {
    "dataset": {"min_rows": 3, "unexpected_columns": "error"},
    "columns": {
        "size": {"type": "float", "min": 0, "max": 20, "max_missing": 0.1},
        "count": {"type": "integer", "min": 0},
        "color": {"type": "string", "allowed": ["red", "blue"]},
        "label": {"type": "string"},
    },
}


def contract_file(tmp_path, spec=CONTRACT):
    path = tmp_path / "contract.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def good_frame():
    return pd.DataFrame({"size": [1.0, 2.5, 19.0, 4.0], "count": [1, 2, 3, 4],
                         "color": ["red", "blue", "red", "red"], "label": ["a", "b", "a", "b"]})


def rules(failures):
    return {(f.column, f.rule) for f in failures}


def test_good_data_passes(tmp_path):
    assert check_frame(good_frame(), load_contract(contract_file(tmp_path)), "train") == []


def test_every_broken_rule_is_reported_with_counts_and_examples(tmp_path):
    bad = good_frame()
    bad["size"] = [1.0, None, 25.0, -1.0]
    bad["color"] = ["red", "green", "red", "purple"]
    bad["extra"] = 1
    bad = bad.drop(columns="count")
    failures = check_frame(bad, load_contract(contract_file(tmp_path)), "train")
    assert rules(failures) == {("size", "max_missing"), ("size", "max"), ("size", "min"),
                               ("color", "allowed"), ("extra", "unexpected_columns"), ("count", "required")}
    allowed = next(f for f in failures if f.rule == "allowed")
    assert (allowed.failing_rows, allowed.share, allowed.examples, allowed.rows) == (2, 0.5, ["green", "purple"], [1, 3])
    assert "color" in failures_table(failures) and "allowed" in failures_table(failures)


def test_numbers_stored_as_text_break_the_type_rule(tmp_path):
    bad = good_frame().astype({"size": object})
    bad.loc[2, "size"] = "N/A"
    failures = check_frame(bad, load_contract(contract_file(tmp_path)), "train")
    assert [(f.rule, f.examples) for f in failures] == [("type", ["N/A"])]


def test_an_infinity_breaks_the_type_rule_of_a_column_with_no_range(tmp_path):
    spec = {"columns": {**CONTRACT["columns"], "ratio": {"type": "float"}}}
    data = good_frame().assign(ratio=[0.5, float("inf"), 1.5, float("-inf")])
    failures = check_frame(data, load_contract(contract_file(tmp_path, spec)), "train")
    assert [(f.column, f.rule, f.expected, f.examples) for f in failures] == [
        ("ratio", "type", "finite numbers", ["inf", "-inf"])]
    csv = tmp_path / "ratios.csv"  # as a CSV file gives it: pandas reads "inf" as a number
    csv.write_text("size,count,color,label,ratio\n1,1,red,a,0.5\n2,2,blue,b,inf\n3,3,red,a,1\n")
    assert [(f.rule, f.examples) for f in check_frame(read_table(csv), load_contract(contract_file(tmp_path, spec)),
                                                       "ratios.csv")] == [("type", ["inf"])]


def test_an_optional_column_may_be_absent_or_have_gaps(tmp_path):
    contract = load_contract(contract_file(tmp_path))
    assert check_frame(good_frame().drop(columns="label"), contract, "current", optional=("label",)) == []
    gaps = good_frame().assign(label=["a", None, None, "b"])
    assert check_frame(gaps, contract, "current", optional=("label",)) == []
    assert rules(check_frame(gaps, contract, "train")) == {("label", "max_missing")}


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"columns": {"size": {"type": "decimal"}}}, "key 'columns.size.type': expected one of"),
        ({"columns": {"size": {"type": "float", "minimum": 1}}}, "key 'columns.size.minimum': unknown rule"),
        ({"columns": {"size": {"type": "float", "min": 5, "max": 1}}}, "key 'columns.size.min': expected at most max"),
        ({"columns": {}}, "expected a mapping with a non-empty 'columns' mapping"),
    ],
)
def test_a_broken_contract_file_is_named(tmp_path, spec, message):
    path = contract_file(tmp_path, spec)
    with pytest.raises(UserError, match=message):
        load_contract(path)


def test_an_inferred_contract_accepts_the_data_it_came_from(tmp_path, frame):
    frame = frame.assign(count=range(len(frame)), flag=[True, False] * 30)
    spec = infer_contract(frame, target="label")
    assert spec["columns"]["count"] == {"type": "integer", "min": 0, "max": 65, "description": ""}
    assert spec["columns"]["color"] == {"type": "category", "allowed": ["blue", "red"], "description": ""}
    assert spec["dataset"]["target"] == "label" and spec["dataset"]["labels"] == ["big", "small"]
    assert spec["columns"]["weight"]["max_missing"] == 0.08  # 2 of 60 missing: 3.3% * 1.5 + 2 points
    assert spec["columns"]["flag"]["type"] == "boolean"
    assert check_frame(frame, load_contract(contract_file(tmp_path, spec)), "train") == []


def test_infer_prints_a_contract_that_loads(tmp_path, frame, capsys):
    data = tmp_path / "data.csv"
    frame.to_csv(data, index=False)
    infer_main([str(data)])
    path = tmp_path / "contract.yaml"
    path.write_text(capsys.readouterr().out)
    assert set(load_contract(path).columns) == set(frame.columns)


def test_a_number_column_read_as_text_names_the_values_that_are_not_numbers(tmp_path):
    csv = tmp_path / "data.csv"
    csv.write_text("size,count,color,label\n1.5,1,red,a\nunknown,2,blue,b\n19,3,red,a\n4.0,4,red,b\n")
    failures = check_frame(read_table(csv), load_contract(contract_file(tmp_path)), "data.csv")
    assert [(f.column, f.rule, f.examples, f.rows) for f in failures] == [("size", "type", ["unknown"], [1])]


RICH = {
    "dataset": {"min_rows": 1, "max_duplicate_share": 0.1, "warn": ["max_duplicate_share"]},
    "columns": {
        "id": {"type": "string", "pattern": r"[A-Z]\d{3}", "unique": True},
        "start": {"type": "datetime"},
        "end": {"type": "datetime"},
        "amount": {"type": "float", "min": 0, "warn": ["min"]},
    },
    "rules": [{"name": "ends_after_start", "expr": "end >= start", "message": "a booking ends after it starts"}],
}


def rich_frame():
    return pd.DataFrame({"id": ["A001", "B002", "C003", "D004"],
                         "start": ["2024-01-01", "2024-02-01", "2024-03-01", "2024-04-01"],
                         "end": ["2024-01-05", "2024-02-03", "2024-03-09", "2024-04-02"],
                         "amount": [10.0, 20.0, 30.0, 40.0]})


def test_rich_rules_pass_on_good_data(tmp_path):
    assert check_frame(rich_frame(), load_contract(contract_file(tmp_path, RICH)), "bookings") == []


def test_rich_rules_report_each_break_with_its_severity(tmp_path):
    bad = rich_frame()
    bad.loc[1, "id"] = "b2"                 # pattern
    bad.loc[2, "id"] = "A001"               # unique (with row 0)
    bad.loc[3, "start"] = "not a date"      # type
    bad.loc[0, "end"] = "2023-12-31"        # ends before it starts
    bad.loc[1, "amount"] = -5.0             # min, a warning only
    bad = pd.concat([bad, bad.iloc[[1]]], ignore_index=True)  # one duplicate row of five, a warning
    failures = check_frame(bad, load_contract(contract_file(tmp_path, RICH)), "bookings")
    found = {(f.column, f.rule, f.severity) for f in failures}
    assert found == {("id", "pattern", "error"), ("id", "unique", "error"), ("start", "type", "error"),
                     ("end, start", "ends_after_start", "error"), ("amount", "min", "warn"),
                     ("*", "max_duplicate_share", "warn")}
    unique = next(f for f in failures if f.rule == "unique")
    assert unique.examples == ["A001", "b2", "A001", "b2"] and unique.rows == [0, 1, 2, 4]
    cross = next(f for f in failures if f.rule == "ends_after_start")
    assert cross.expected == "a booking ends after it starts" and cross.rows == [0]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s: s["rules"][0].update(expr="end >= begin"), "key 'rules[0].expr': expected only columns the contract names (begin is not one)"),
        (lambda s: s["rules"][0].update(expr="end >="), "key 'rules[0].expr': expected a Python-style expression"),
        (lambda s: s["rules"][0].update(severity="fatal"), "key 'rules[0].severity': expected error or warn"),
        (lambda s: s["columns"]["id"].update(pattern="[A-"), "key 'columns.id.pattern': expected a regular expression"),
        (lambda s: s["columns"]["amount"].update(warn=["maximum"]), "key 'columns.amount.warn': expected a list of rule names"),
        (lambda s: s["dataset"].update(max_duplicate_share=2), "key 'dataset.max_duplicate_share': expected a share"),
        (lambda s: s["columns"]["start"].update(type="date"), "key 'columns.start.type': expected one of integer, float, string, category, boolean, datetime"),
    ],
)
def test_a_mistake_in_the_rich_contract_is_named(tmp_path, change, message):
    import copy

    spec = copy.deepcopy(RICH)
    change(spec)
    with pytest.raises(UserError, match=re.escape(message)):
        load_contract(contract_file(tmp_path, spec))


ANY_VALUE = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.text(max_size=8),
                      st.floats(allow_nan=True, allow_infinity=True), st.sampled_from(["2024-01-01", "A001", "N/A"]))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(frame=data_frames([column(name, dtype=object, elements=ANY_VALUE) for name in RICH["columns"]]),
       extra=st.booleans())
def test_random_frames_pass_or_fail_with_a_report_never_a_traceback(tmp_path, frame, extra):
    if extra:
        frame["surprise"] = 1
    failures = check_frame(frame, load_contract(contract_file(tmp_path, RICH)), "random")
    report = json.dumps([f.to_dict() for f in failures], default=str, allow_nan=False)
    assert all(0 <= f.failing_rows <= max(len(frame), 1) and f.severity in ("error", "warn") for f in failures)
    assert ("surprise" in report) == extra


# Cells that pass RICH's rules, mostly, and a few kinds that break one: so that some frames pass every
# rule and the others break a few.
CELLS = {"id": [f"{letter}00{digit}" for letter in "ABCD" for digit in range(4)] + ["a01", None, 7],
         "start": ["2024-01-01"] * 16 + ["N/A", None, 3],
         "end": ["2024-01-01", "2024-03-01"] * 8 + ["2023-12-31", "soon", None],
         "amount": [float(value) for value in range(16)] + [-1.0, "12", float("inf")]}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(frame=data_frames([column(name, dtype=object, elements=st.sampled_from(cells)) for name, cells in CELLS.items()],
                         index=range_indexes(min_size=1, max_size=4)),
       extra=st.sampled_from([False, False, True]), dropped=st.sampled_from([None] * 6 + list(RICH["columns"])))
def test_a_frame_is_passed_without_pandera_only_when_pandera_finds_nothing(tmp_path, frame, extra, dropped):
    # check_frame skips pandera when every rule's test passes (the API checks every request this way).
    if extra:
        frame["surprise"] = 1
    if dropped:
        frame = frame.drop(columns=dropped)
    contract = load_contract(contract_file(tmp_path, RICH))
    schemas, typed_frame = _Schemas(contract, frame.columns, ()), typed(frame, contract)
    found = pd.concat([_failure_cases(schemas.shape, frame), _failure_cases(schemas.values, typed_frame)])
    assert schemas.pass_all(frame, typed_frame) == found.empty


def test_a_column_that_is_not_required_may_be_absent_but_is_checked_when_present(tmp_path):
    spec = {"columns": {**CONTRACT["columns"], "note": {"type": "string", "required": False, "pattern": "ok.*"}}}
    contract = load_contract(contract_file(tmp_path, spec))
    assert check_frame(good_frame(), contract, "train") == []
    noted = good_frame().assign(note=["ok", "ok then", "bad", "ok"])
    assert rules(check_frame(noted, contract, "train")) == {("note", "pattern")}


def test_unexpected_columns_can_be_a_warning(tmp_path):
    spec = {**CONTRACT, "dataset": {"unexpected_columns": "warn"}}
    failures = check_frame(good_frame().assign(extra=1), load_contract(contract_file(tmp_path, spec)), "train")
    assert [(f.column, f.rule, f.severity) for f in failures] == [("extra", "unexpected_columns", "warn")]


def test_the_dataset_rules_name_the_target_its_labels_and_the_key(tmp_path):
    spec = {"dataset": {"target": "color", "labels": ["red", "blue"], "key": "count"},
            "columns": {**CONTRACT["columns"], "color": {"type": "category"}}}
    contract = load_contract(contract_file(tmp_path, spec))
    assert (contract.target, contract.labels, contract.key) == ("color", ["red", "blue"], "count")
    assert check_frame(good_frame(), contract, "train") == []
    bad = good_frame().assign(count=[1, 2, 2, 4], color=["red", "green", "blue", "red"])
    failures = check_frame(bad, contract, "train")
    assert {(f.column, f.rule, tuple(f.rows)) for f in failures} == {("count", "key", (1, 2)),
                                                                     ("color", "labels", (1,))}


def test_a_category_may_hold_numbers_and_an_unseen_one_can_only_warn(tmp_path):
    spec = {"columns": {**CONTRACT["columns"], "count": {"type": "category", "allowed": [1, 2, 3, 4],
                                                          "warn": ["allowed"]}}}
    contract = load_contract(contract_file(tmp_path, spec))
    assert check_frame(good_frame(), contract, "train") == []
    failures = check_frame(good_frame().assign(count=[1, 2, 3, 9]), contract, "train")
    assert [(f.rule, f.examples, f.severity) for f in failures] == [("allowed", [9], "warn")]


@pytest.mark.parametrize(
    ("dataset", "message"),
    [
        ({"target": "colour"}, "key 'dataset.target': expected a column named under 'columns', found 'colour'"),
        ({"key": "id"}, "key 'dataset.key': expected a column named under 'columns', found 'id'"),
        ({"labels": ["a"]}, "key 'dataset.labels': expected a non-empty list of labels, with dataset.target set"),
        ({"target": "label", "labels": "a"}, "key 'dataset.labels': expected a non-empty list"),
    ],
)
def test_a_mistake_in_the_dataset_rules_is_named(tmp_path, dataset, message):
    with pytest.raises(UserError, match=re.escape(message)):
        load_contract(contract_file(tmp_path, {**CONTRACT, "dataset": dataset}))
