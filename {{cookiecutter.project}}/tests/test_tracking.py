import socket
from pathlib import Path

import pytest

from {{ cookiecutter.package }}.errors import UserError
from {{ cookiecutter.package }}.tracking.connection import connect, tracking_uri


@pytest.fixture
def closed_port_uri(monkeypatch) -> str:
    """MLFLOW_TRACKING_URI naming a loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        uri = f"http://127.0.0.1:{probe.getsockname()[1]}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    return uri


def test_an_unreachable_tracking_server_fails_at_once_with_one_line(closed_port_uri):
    with pytest.raises(UserError, match=f"MLflow tracking server {closed_port_uri}: unreachable"):
        connect("sqlite:///mlflow.db", "any")


def test_with_a_fallback_store_an_unreachable_server_warns_and_records_there(closed_port_uri, tmp_path,
                                                                             monkeypatch, capsys):
    monkeypatch.setenv("DVC_ROOT", str(tmp_path))
    mlflow = connect("sqlite:///mlflow.db", "offline", fallback_uri="sqlite:///fallback.db")
    assert mlflow.get_tracking_uri() == f"sqlite:///{tmp_path / 'fallback.db'}"
    with mlflow.start_run():
        mlflow.log_text("recorded offline", "note.txt")
    assert "unreachable" in capsys.readouterr().err and (tmp_path / "fallback.db").exists()
    # Artifacts in the project's mlruns/, whatever the working folder.
    assert [path.read_text() for path in (tmp_path / "mlruns").rglob("note.txt")] == ["recorded offline"]


def test_a_relative_sqlite_store_is_the_projects_even_from_a_queued_experiments_copy(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.setenv("DVC_ROOT", str(tmp_path))  # set by DVC for every stage; the project, not the copy
    assert tracking_uri("sqlite:///mlflow.db") == f"sqlite:///{Path(tmp_path, 'mlflow.db')}"
    assert tracking_uri("sqlite:////srv/mlflow.db") == "sqlite:////srv/mlflow.db"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://mlflow.internal:5000")
    assert tracking_uri("sqlite:///mlflow.db") == "http://mlflow.internal:5000"


def test_a_corrupt_store_stops_with_one_line_naming_it_and_what_to_do(tmp_path, monkeypatch):
    store = tmp_path / "mlflow.db"
    store.write_bytes(bytes(range(256)) * 200)  # not an SQLite file
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{store}")
    with pytest.raises(UserError) as error:
        connect("sqlite:///mlflow.db", "any")
    message = str(error.value)
    assert f"MLflow store sqlite:///{store}: {store} is not a readable SQLite database" in message
    assert f"`mv {store} {store}.broken`" in message and "\n" not in message


# A process that starts a run, says which, and waits to be killed.
STARTS_A_RUN = """
import os, socket, sys, time
from {{ cookiecutter.package }}.tracking.connection import connect
from {{ cookiecutter.package }}.tracking.runs import PROCESS_TAG
mlflow = connect(sys.argv[1], "orphans")
run = mlflow.start_run(tags={PROCESS_TAG: f"{socket.gethostname()}:{os.getpid()}"})
print(run.info.run_id, flush=True)
time.sleep(600)
"""


def test_a_run_left_running_by_a_killed_process_is_marked_failed_and_a_live_one_is_not(tmp_path):
    import os
    import signal
    import socket
    import subprocess
    import sys

    from {{ cookiecutter.package }}.tracking.runs import PROCESS_TAG, fail_orphaned_runs

    store = f"sqlite:///{tmp_path / 'mlflow.db'}"
    killed = subprocess.Popen([sys.executable, "-c", STARTS_A_RUN, store], stdout=subprocess.PIPE, text=True)
    orphan = killed.stdout.readline().strip()
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    mlflow = connect(store, "orphans")
    live = mlflow.start_run(tags={PROCESS_TAG: f"{socket.gethostname()}:{os.getpid()}"}).info.run_id
    fail_orphaned_runs(mlflow)
    client = mlflow.MlflowClient()
    assert client.get_run(orphan).info.status == "FAILED"
    assert client.get_run(live).info.status == "RUNNING"
    mlflow.end_run()


# A run logged in the project's own store, from the project's folder, in a process of its own.
LOGS_A_NOTE = """
import sys
from {{ cookiecutter.package }}.tracking.connection import connect
mlflow = connect("sqlite:///mlflow.db", "moving")
with mlflow.start_run() as run:
    mlflow.log_text(sys.argv[1], "note.txt")
print(run.info.run_id)
"""


def test_after_the_project_moves_its_store_keeps_the_artifacts_in_the_project(tmp_path, monkeypatch):
    """A store made in one folder, then the folder moved: no run writes into the old place."""
    import subprocess
    import sys

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("DVC_ROOT", raising=False)
    old, new = tmp_path / "old", tmp_path / "new"
    old.mkdir()
    first = subprocess.run([sys.executable, "-c", LOGS_A_NOTE, "before the move"], cwd=old, check=True,
                           capture_output=True, text=True).stdout.strip()
    old.rename(new)
    moved = subprocess.run([sys.executable, "-c", LOGS_A_NOTE, "after the move"], cwd=new, check=True,
                           capture_output=True, text=True)
    assert f"artifacts were in {(old / 'mlruns').as_uri()}, now in {(new / 'mlruns').as_uri()}" in moved.stderr
    assert not old.exists()
    monkeypatch.chdir(new)
    mlflow = connect("sqlite:///mlflow.db", "moving")
    assert mlflow.get_experiment_by_name("moving").artifact_location == (new / "mlruns").as_uri()
    assert mlflow.artifacts.load_text(f"runs:/{first}/note.txt") == "before the move"
    assert sorted(path.read_text() for path in (new / "mlruns").rglob("note.txt")) == ["after the move",
                                                                                      "before the move"]


# A process that starts a run as train does (stopped by SIGTERM, it ends the run) and waits.
STOPPED_BY_SIGTERM = """
import signal, sys, time
from {{ cookiecutter.package }}.tracking.connection import connect
from {{ cookiecutter.package }}.tracking.runs import _raise_on_sigterm
mlflow = connect(sys.argv[1], "stopped")
signal.signal(signal.SIGTERM, _raise_on_sigterm)
with mlflow.start_run() as run:
    print(run.info.run_id, flush=True)
    time.sleep(600)
"""


def test_a_run_stopped_by_sigterm_ends_as_failed(tmp_path):
    import signal
    import subprocess
    import sys

    store = f"sqlite:///{tmp_path / 'mlflow.db'}"
    stopped = subprocess.Popen([sys.executable, "-c", STOPPED_BY_SIGTERM, store], stdout=subprocess.PIPE, text=True)
    run_id = stopped.stdout.readline().strip()
    stopped.send_signal(signal.SIGTERM)
    assert stopped.wait(timeout=60) != 0
    assert connect(store, "stopped").MlflowClient().get_run(run_id).info.status == "FAILED"


def test_a_training_run_logs_integer_columns_without_mlflows_warning(tmp_path, monkeypatch, frame):
    import warnings

    from sklearn.dummy import DummyClassifier

    from {{ cookiecutter.package }}.model.artifact import save_model
    from {{ cookiecutter.package }}.tracking.runs import log_training_run

    monkeypatch.chdir(tmp_path)
    features = frame[["size"]].assign(count=range(len(frame)))  # an integer column
    model = DummyClassifier().fit(features, frame["label"])
    save_model(model, "model.joblib")
    mlflow = connect(f"sqlite:///{tmp_path / 'mlflow.db'}", "integers")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        log_training_run(mlflow, model, "model.joblib", features, {}, {}, {})
    assert not [w for w in caught if "integer column" in str(w.message)], [str(w.message) for w in caught]
