"""Data larger than memory: a baked project's pipeline on a Dask cluster of separate processes on
127.0.0.1 (a scheduler and two workers with a memory limit each), against the pandas engine."""

import json
import re

import pytest

from conftest import Session, bake, params_edit
from dask_cluster import dask_cluster, generate_parts

WORKER_MEMORY = "800MiB"
# The generated raw data: 2.9 million rows in parts small enough for a worker to read, with an
# 800-character text column that prepare drops: about 2.4 GB in pandas, three times a worker's memory.
PARTS, ROWS_PER_PART, COMMENT = 72, 40_000, 800
RUN_TAGS = """
import json, mlflow
run = json.load(open("models/mlflow_run.json"))
mlflow.set_tracking_uri("sqlite:///mlflow.db")
print(json.dumps(mlflow.get_run(run["run_id"]).data.tags))
"""
CHAMPION_GATE = """
from my_ml_project.config import load_params
from my_ml_project.model.champion import judged_gates
print(judged_gates(load_params()).gates[-1].model_dump_json())
"""


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A baked project after its first `make repro` (pandas), and a Dask cluster beside it."""
    project = bake(tmp_path_factory.mktemp("scale-out"))
    session = Session.for_project(project)
    session.run("setup", "make", "setup")
    session.run("repro", "make", "repro")
    session.run("stage", "git", "add", "--all")  # the sample's model becomes main's: the champion
    session.run("commit", "git", "commit", "--quiet", "--message", "The pipeline on the sample")
    with dask_cluster(project, project.parent / "dask.log", memory=WORKER_MEMORY) as address:
        yield session, address


def set_compute(session: Session, **compute) -> None:
    def change(params):
        params["compute"] |= compute
    params_edit(session.project, change)


@pytest.mark.slow
def test_on_the_sample_drift_check_on_the_cluster_writes_the_pandas_engines_drift_table(cluster):
    session, address = cluster
    by_pandas = (session.project / "reports/drift_features.csv").read_text()
    set_compute(session, engine="dask", scheduler=address)
    output = session.run("drift on dask", "dvc", "repro", "--single-item", "drift-check")
    assert "Running stage 'drift-check'" in output
    # Every number: PSI and chi-square from counts per partition, KS and the rest from all the values.
    assert (session.project / "reports/drift_features.csv").read_text() == by_pandas


@pytest.mark.slow
def test_data_three_times_a_workers_memory_runs_on_the_cluster_where_pandas_refuses_it(cluster):
    session, address = cluster
    generate_parts(session.project, PARTS, ROWS_PER_PART, COMMENT)

    def big_data(params):
        params["paths"] |= {"raw": "data/raw/parts", "current": "data/current/parts"}
        params["prepare"]["drop_columns"] += ["comment"]
        params["compute"] |= {"engine": "pandas", "scheduler": None, "memory_limit": WORKER_MEMORY,
                              "sample_rows": 50_000}
    params_edit(session.project, big_data)
    session.fail("pandas", "dvc", "repro")
    errors = [line for line in session.outputs["pandas"].splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "data/raw/parts: about" in errors[0], session.outputs["pandas"]
    assert "compute.memory_limit" in errors[0] and "compute.engine: dask" in errors[0]

    set_compute(session, engine="dask")
    session.env["DASK_SCHEDULER_ADDRESS"] = address  # the environment's address, as on a user's cluster
    output = session.run("dask", "dvc", "repro")
    assert all(f"Running stage '{stage}'" in output for stage in ("prepare", "validate", "train", "evaluate",
                                                                  "drift-check")), output
    rows = json.loads((session.project / "reports/validation.json").read_text())["rows"]
    assert rows["train"] + rows["test"] == PARTS * ROWS_PER_PART and rows["current"] == PARTS // 6 * ROWS_PER_PART
    assert 0.2 < rows["test"] / (rows["train"] + rows["test"]) < 0.3
    assert len(list((session.project / "data/prepared/train.parquet").glob("*.parquet"))) > 1
    scores = json.loads((session.project / "metrics/evaluate.json").read_text())
    assert scores["balanced_accuracy"] > 0.9, scores
    tags = json.loads(session.run("tags", str(session.project / ".venv/bin/python"), "-c", RUN_TAGS))
    assert tags["compute.engine"] == "dask" and tags["compute.workers"] == "2", tags
    assert int(tags["data.train.parts"]) > 1 and int(tags["compute.rows"]) == rows["train"]
    assert json.loads((session.project / "metrics/drift.json").read_text())["verdict"] in ("stable", "warn", "drift")
    # The champion, main's model, scored on the same test split partition by partition, as evaluate scores it.
    gate = json.loads(session.run("champion gate", str(session.project / ".venv/bin/python"), "-c", CHAMPION_GATE))
    assert re.fullmatch(r"champion main@\w{7} scores [\d.]+ on the same split; .*", gate["detail"]), gate
