import pandas as pd
import pytest
import yaml

from {{ cookiecutter.package }}.contract import check_frame, infer_contract, load_contract
from {{ cookiecutter.package }}.contract import main as contract_main
from {{ cookiecutter.package }}.errors import UserError
from {{ cookiecutter.package }}.tables import read_table
from {{ cookiecutter.package }}.validate import format_table

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
                               ("color", "allowed"), ("extra", "unexpected_column"), ("count", "required")}
    allowed = next(f for f in failures if f.rule == "allowed")
    assert (allowed.failing_rows, allowed.share, allowed.examples, allowed.rows) == (2, 0.5, ["green", "purple"], [1, 3])
    assert "color" in format_table(failures) and "allowed" in format_table(failures)


def test_numbers_stored_as_text_break_the_type_rule(tmp_path):
    bad = good_frame().astype({"size": object})
    bad.loc[2, "size"] = "N/A"
    failures = check_frame(bad, load_contract(contract_file(tmp_path)), "train")
    assert [(f.rule, f.examples) for f in failures] == [("type", ["N/A"])]


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
    spec = infer_contract(frame)
    assert spec["columns"]["count"] == {"type": "integer", "min": 0, "max": 65, "description": ""}
    assert spec["columns"]["color"]["allowed"] == ["blue", "red"]
    assert spec["columns"]["weight"]["max_missing"] == 0.08  # 2 of 60 missing: 3.3% * 1.5 + 2 points
    assert spec["columns"]["flag"]["type"] == "boolean"
    assert check_frame(frame, load_contract(contract_file(tmp_path, spec)), "train") == []


def test_infer_prints_a_contract_that_loads(tmp_path, frame, capsys):
    data = tmp_path / "data.csv"
    frame.to_csv(data, index=False)
    contract_main(["infer", str(data)])
    path = tmp_path / "contract.yaml"
    path.write_text(capsys.readouterr().out)
    assert set(load_contract(path).columns) == set(frame.columns)


def test_a_number_column_read_as_text_names_the_values_that_are_not_numbers(tmp_path):
    csv = tmp_path / "data.csv"
    csv.write_text("size,count,color,label\n1.5,1,red,a\nunknown,2,blue,b\n19,3,red,a\n4.0,4,red,b\n")
    failures = check_frame(read_table(csv), load_contract(contract_file(tmp_path)), "data.csv")
    assert [(f.column, f.rule, f.examples, f.rows) for f in failures] == [("size", "type", ["unknown"], [1])]
