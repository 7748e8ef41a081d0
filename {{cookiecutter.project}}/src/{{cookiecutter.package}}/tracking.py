"""MLflow: where runs are recorded, and the tags that tie a run to its code and data."""

import logging
import os
import subprocess
from typing import Any

from .tables import file_md5


def tracking_uri(configured: str) -> str:
    """`MLFLOW_TRACKING_URI` from the environment wins over `mlflow.tracking_uri` in params.yaml."""
    return os.environ.get("MLFLOW_TRACKING_URI") or configured


def connect(configured_uri: str, experiment: str):
    """Import MLflow (slow, so only stages that log pay for it), point it at the store, pick the experiment."""
    import mlflow

    # MLflow sets its loggers to INFO on import; the stages print their own summary instead.
    for noisy in ("alembic", "mlflow"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    mlflow.set_tracking_uri(tracking_uri(configured_uri))
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
