"""Where MLflow records: the tracking URI, a server that does not answer, and the experiment."""

import logging
import os
import sys
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from ..config import CREDENTIALS_IN_URI
from ..errors import UserError


def tracking_uri(configured: str) -> str:
    """`MLFLOW_TRACKING_URI` from the environment wins over `mlflow.tracking_uri` in params.yaml."""
    return in_project(os.environ.get("MLFLOW_TRACKING_URI") or configured)


def in_project(uri: str) -> str:
    """A relative SQLite store is the project's own. A queued experiment runs in a copy of the project
    under .dvc/tmp (deleted afterwards), and DVC_ROOT names the project itself, so every experiment
    records in the one store."""
    path = uri.removeprefix("sqlite:///")
    root = os.environ.get("DVC_ROOT")
    if root and uri.startswith("sqlite:///") and not Path(path).is_absolute():
        return f"sqlite:///{Path(root, path)}"
    return uri


def shown(uri: str) -> str:
    """The URI as it may be printed or written down: a user name and password before the host left out."""
    return CREDENTIALS_IN_URI.sub(r"\1", uri)


def unreachable(uri: str, timeout: float = 5.0) -> str | None:
    """Why a tracking server is unreachable, or None when it answers (even refusing): MLflow itself
    would retry for minutes before giving up."""
    try:
        with urllib.request.urlopen(f"{uri.rstrip('/')}/health", timeout=timeout):
            pass
    except urllib.error.HTTPError:
        pass
    except OSError as error:
        return str(getattr(error, "reason", error))
    return None


def connect(configured_uri: str, experiment: str, fallback_uri: str | None = None):
    """Import MLflow (slow, so only stages that log pay for it), point it at the store, pick the experiment.

    A tracking server that does not answer stops the stage at once with one line, unless `fallback_uri`
    is given: then the run is recorded there instead, with a warning.
    """
    uri = tracking_uri(configured_uri)
    problem = unreachable(uri) if uri.startswith(("http://", "https://")) else None
    if problem and fallback_uri is None:
        raise UserError(f"MLflow tracking server {shown(uri)}: unreachable ({problem}); start it, point "
                        "MLFLOW_TRACKING_URI elsewhere, or name a local store in params.yaml mlflow.fallback_uri")
    if problem:
        print(f"warning: MLflow tracking server {shown(uri)}: unreachable ({problem}); recording in {fallback_uri} "
              "instead (params.yaml: mlflow.fallback_uri)", file=sys.stderr)
        uri = in_project(fallback_uri)
    import mlflow

    # MLflow sets its loggers to INFO on import; the stages print their own summary instead. A store error
    # it also logs, traceback and all, before raising it: store_errors says it in one line.
    for noisy in ("alembic", "mlflow"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    logging.getLogger("mlflow.store.db.utils").setLevel(logging.CRITICAL)
    mlflow.set_tracking_uri(uri)
    with store_errors(uri):
        if uri.startswith("sqlite:"):
            # Artifacts in the project's mlruns/, not in the folder of whichever run came first (a queued
            # experiment's copy is deleted). Two queued experiments may both get here: the second finds it made.
            artifacts = (Path(os.environ.get("DVC_ROOT", ".")).resolve() / "mlruns").as_uri()
            found = mlflow.get_experiment_by_name(experiment)
            if found is None:
                try:
                    mlflow.create_experiment(experiment, artifact_location=artifacts)
                except mlflow.exceptions.MlflowException:
                    pass
            elif found.artifact_location != artifacts and is_project_store(uri):
                relocate(uri, found.artifact_location, artifacts)
        mlflow.set_experiment(experiment)
    return mlflow


def is_project_store(uri: str) -> bool:
    """Whether a SQLite store is the project's own file (beside dvc.yaml), not one shared from elsewhere."""
    path = Path(uri.removeprefix("sqlite:///")).resolve()
    return path.parent == Path(os.environ.get("DVC_ROOT", ".")).resolve()


# The columns of MLflow's tables that hold where artifacts are.
ARTIFACT_COLUMNS = {"experiments": ["artifact_location"], "runs": ["artifact_uri"],
                    "logged_models": ["artifact_location"], "model_versions": ["source", "storage_location"]}


def relocate(uri: str, old: str, new: str) -> None:
    """The project's own SQLite store, moved (or copied) with the project, still names the artifact folder of
    the old place, where runs would go on writing. MLflow offers no way to change it, so the store's own
    file is rewritten: every artifact location under the old folder moves under the new one."""
    import sqlite3

    with sqlite3.connect(uri.removeprefix("sqlite:///")) as store:
        tables = {name for (name,) in store.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        for table, columns in ARTIFACT_COLUMNS.items():
            for column in columns if table in tables else []:
                store.execute(f"UPDATE {table} SET {column} = ? || substr({column}, ?) WHERE {column} = ? "
                              f"OR {column} LIKE ? ESCAPE '\\'", (new, len(old) + 1, old, _like_prefix(old)))
    print(f"MLflow store {shown(uri)}: artifacts were in {old}, now in {new} (the project moved)", file=sys.stderr)


def _like_prefix(prefix: str) -> str:
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"{escaped}/%"


@contextmanager
def store_errors(uri: str):
    """What goes wrong in the store itself (a corrupt SQLite file, a full disk) as one line naming it."""
    from mlflow.exceptions import MlflowException
    from sqlalchemy.exc import SQLAlchemyError

    try:
        yield
    except (MlflowException, SQLAlchemyError, OSError) as error:
        raise UserError(store_problem(uri, error)) from None


def store_problem(uri: str, error: BaseException) -> str:
    # The first cause says it best ("database or disk is full"); MLflow and SQLAlchemy wrap it twice over.
    while getattr(error, "orig", None) or error.__cause__:
        error = getattr(error, "orig", None) or error.__cause__
    reason = " ".join(str(getattr(error, "message", None) or error).split())[:200]
    where = f"MLflow store {shown(uri)}"
    if "disk is full" in reason or "No space left" in reason:
        return f"{where}: the disk is full ({reason}); free some space, then run again"
    if uri.startswith("sqlite:") and ("not a database" in reason or "malformed" in reason):
        path = uri.removeprefix("sqlite:///")
        return (f"{where}: {path} is not a readable SQLite database ({reason}); move it aside "
                f"(`mv {path} {path}.broken`) to start a new store, or put back a copy you trust")
    return f"{where}: {reason}"
