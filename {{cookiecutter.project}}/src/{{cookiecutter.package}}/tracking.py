"""MLflow: where runs are recorded, and the tags that tie a run to its code and data."""

import logging
import os
import subprocess
import urllib.error
import urllib.request
from typing import Any

from .errors import UserError
from .tables import file_md5


def tracking_uri(configured: str) -> str:
    """`MLFLOW_TRACKING_URI` from the environment wins over `mlflow.tracking_uri` in params.yaml."""
    return os.environ.get("MLFLOW_TRACKING_URI") or configured


def check_server(uri: str, timeout: float = 5.0) -> None:
    """Fail at once with one line when a tracking server does not answer: MLflow itself would retry
    for minutes before giving up. A server that answers at all, even refusing, is reachable."""
    try:
        with urllib.request.urlopen(f"{uri.rstrip('/')}/health", timeout=timeout):
            pass
    except urllib.error.HTTPError:
        pass
    except OSError as error:
        reason = getattr(error, "reason", error)
        raise UserError(f"MLflow tracking server {uri}: unreachable ({reason}); start it, or unset "
                        "MLFLOW_TRACKING_URI to record runs in the local store") from None


def connect(configured_uri: str, experiment: str):
    """Import MLflow (slow, so only stages that log pay for it), point it at the store, pick the experiment."""
    uri = tracking_uri(configured_uri)
    if uri.startswith(("http://", "https://")):
        check_server(uri)
    import mlflow

    # MLflow sets its loggers to INFO on import; the stages print their own summary instead.
    for noisy in ("alembic", "mlflow"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment(experiment)
    return mlflow


def flatten(mapping: dict, prefix: str = "") -> dict[str, Any]:
    """{'a': {'b': 1}} -> {'a.b': 1}: MLflow params are flat."""
    flat = {}
    for key, value in mapping.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def _git(*args: str) -> str:
    try:
        result = subprocess.run(["git", *args], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return ""
    return result.stdout.strip()


def lineage_tags(data_files: dict[str, str]) -> dict[str, str]:
    """Git commit and dirtiness, the MD5 of each data file read, and the DVC experiment name if any."""
    tags = {f"data.{name}.md5": file_md5(path) for name, path in data_files.items()}
    commit = _git("rev-parse", "HEAD")
    if commit:
        tags["git.commit"] = commit
        tags["git.dirty"] = str(bool(_git("status", "--porcelain", "--untracked-files=no"))).lower()
    if os.environ.get("DVC_EXP_NAME"):
        tags["dvc.experiment"] = os.environ["DVC_EXP_NAME"]
    return tags
