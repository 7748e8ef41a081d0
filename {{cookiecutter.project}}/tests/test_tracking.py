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
