"""Data larger than memory: a baked project's pipeline on a Dask cluster of separate processes on
127.0.0.1 (a scheduler and two workers with a memory limit each), against the pandas engine."""

import json
import os
import signal
import socket
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from conftest import Session, bake, free_port, params_edit

WORKER_MEMORY = "800MiB"
# The generated raw data: parts of the sample's rows drawn again, with a free-text column of 800
# characters that prepare drops (as raw data often has): about 2.4 GB in pandas, three times a worker's
# memory, 2.9 million rows, in parts small enough for a worker to read. The current batch is a sixth of it.
PARTS, ROWS_PER_PART = 72, 40_000
GENERATE = """
import sys
from pathlib import Path
import numpy as np, pandas as pd
parts, rows = int(sys.argv[1]), int(sys.argv[2])
sample = pd.read_csv("data/raw/penguins.csv")
rng = np.random.default_rng(0)
for name, count in (("raw", parts), ("current", parts // 6)):
    folder = Path("data", name, "parts")
    folder.mkdir(parents=True, exist_ok=True)
    for index in range(count):
        part = sample.sample(rows, replace=True, random_state=int(rng.integers(2**31))).reset_index(drop=True)
        part["bill_length_mm"] = (part["bill_length_mm"] + rng.normal(0, 0.3, rows)).round(1)
        part["comment"] = pd.Series(rng.integers(0, 10**9, rows)).astype(str).str.pad(800, fillchar="x")
        part.to_parquet(folder / f"part.{index}.parquet", index=False)
"""
RUN_TAGS = """
import json, mlflow
run = json.load(open("models/mlflow_run.json"))
mlflow.set_tracking_uri("sqlite:///mlflow.db")
print(json.dumps(mlflow.get_run(run["run_id"]).data.tags))
"""


def listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@contextmanager
def dask_cluster(project: Path, log: Path):
    """`dask scheduler` and two `dask worker`s (one thread and WORKER_MEMORY each) on loopback; its address."""
    port, dask = free_port(), str(project / ".venv/bin/dask")
    address = f"tcp://127.0.0.1:{port}"
    commands = [[dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"]]
    commands += [[dask, "worker", address, "--host", "127.0.0.1", "--nthreads", "1", "--memory-limit", WORKER_MEMORY,
                  "--no-dashboard", "--name", f"worker-{index}"] for index in (1, 2)]
    processes = []
    with open(log, "w") as stream:
        try:
            for command in commands:
                processes.append(subprocess.Popen(command, cwd=project, stdout=stream, stderr=subprocess.STDOUT,
                                                  start_new_session=True))
                deadline = time.monotonic() + 60
                while command[1] == "scheduler" and not listening(port):
                    assert time.monotonic() < deadline and processes[-1].poll() is None, log.read_text()
                    time.sleep(0.3)
            wait = f"from dask.distributed import Client; Client({address!r}).wait_for_workers(2, timeout=120)"
            subprocess.run([str(project / ".venv/bin/python"), "-c", wait], check=True, cwd=project)
            yield address
        finally:
            for process in reversed(processes):
                os.killpg(process.pid, signal.SIGTERM)
            for process in processes:
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A baked project after its first `make repro` (pandas), and a Dask cluster beside it."""
    project = bake(tmp_path_factory.mktemp("scale-out"))
    session = Session.for_project(project)
    session.run("setup", "make", "setup")
    session.run("repro", "make", "repro")
    with dask_cluster(project, project.parent / "dask.log") as address:
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
    session.run("generate", str(session.project / ".venv/bin/python"), "-c", GENERATE, str(PARTS), str(ROWS_PER_PART))

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
