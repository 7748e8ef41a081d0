"""Bring your own data: the README's steps, on real datasets unlike the samples, with no Python edited."""

import csv
import json
from pathlib import Path

import pytest
import yaml

from conftest import Session, bake

DATA = Path(__file__).parent / "data"
# What a user edits in params.yaml for each dataset: its target, columns the model must not see
# (identifiers, dates, free text), and the column whose groups evaluate compares.
DATASETS = {
    "seattle_weather": {"target": "weather", "labels": 5, "drop_columns": ["date"], "slice_column": "wind"},
    "penguins_raw": {"target": "Species", "labels": 3, "slice_column": "Island",
                     "drop_columns": ["studyName", "Sample Number", "Individual ID", "Date Egg", "Comments"]},
}


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Session:
    session = Session.for_project(bake(tmp_path_factory.mktemp("own-data")))
    session.run("setup", "make", "setup")
    return session


@pytest.mark.slow
@pytest.mark.parametrize("name", DATASETS)
def test_a_new_dataset_runs_after_infer_and_a_params_edit(project, name):
    root = project.project
    # 1. The data: every fourth row is the current batch (penguins_raw is sorted by species, so a
    #    plain cut would give the current batch a species training never saw), the rest is raw.
    with open(DATA / f"{name}.csv", newline="", encoding="utf-8") as stream:
        header, *rows = list(csv.reader(stream))
    raw, current = root / f"data/raw/{name}.csv", root / f"data/current/{name}.csv"
    parts = [row for i, row in enumerate(rows) if i % 4], rows[::4]
    for path, part in zip((raw, current), parts):
        with open(path, "w", newline="", encoding="utf-8") as stream:
            csv.writer(stream).writerows([header, *part])
    project.run(f"{name}: dvc add", "dvc", "add", str(raw.relative_to(root)), str(current.relative_to(root)))

    # 2. params.yaml: where the data is, what to predict, what to leave out.
    params = yaml.safe_load((root / "params.yaml").read_text())
    params["paths"].update(raw=str(raw.relative_to(root)), current=str(current.relative_to(root)))
    params.update(task="classification", target=DATASETS[name]["target"])
    params["prepare"]["drop_columns"] = DATASETS[name]["drop_columns"]
    params["evaluate"]["slice_column"] = DATASETS[name]["slice_column"]
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))

    # 3. The contract, inferred from the data, as the README says.
    contract = project.run(f"{name}: infer", "python", "-m", "my_ml_project.commands.infer_contract",
                           str(raw.relative_to(root)), "--target", DATASETS[name]["target"])
    (root / "contract.yaml").write_text(contract)

    # 4. The pipeline.
    output = project.run(f"{name}: repro", "make", "repro")
    for stage in ("prepare", "validate", "train", "evaluate", "drift-check"):
        assert f"Running stage '{stage}'" in output
    metrics = json.loads((root / "metrics/evaluate.json").read_text())
    # Balanced accuracy by chance is 1/labels; a model that learned something is well above it.
    assert metrics["balanced_accuracy"] > 1.5 / DATASETS[name]["labels"], metrics
    assert json.loads((root / "reports/validation.json").read_text())["passed"] is True
    assert project.run(f"{name}: git diff src", "git", "diff", "--stat", "src") == "", "no Python was edited"
