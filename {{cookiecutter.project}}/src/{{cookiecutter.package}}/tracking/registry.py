"""The MLflow model registry: the champion (the version holding the `champion` alias) and its successor.

A `challenger` alias, set by hand (MLflow's UI or client), names a model the API scores beside the
champion on live traffic (serving/rollout.py)."""

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import UserError
from ..model.artifact import load_recorded_bytes
from .runs import MODEL_FILE, MODEL_MD5_TAG, RunInfo

ALIAS = "champion"
CHALLENGER_ALIAS = "challenger"


@dataclass(frozen=True)
class Champion:
    version: str
    run_id: str
    model: Any  # the scikit-learn pipeline, ready to predict


def champion_version(mlflow, name: str, alias: str = ALIAS):
    """The registry entry holding the alias, or None while no version holds it."""
    try:
        return mlflow.MlflowClient().get_model_version_by_alias(name, alias)
    except mlflow.exceptions.MlflowException as error:
        # No registered model yet, or one whose alias was never set.
        if error.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
            return None
        raise


def load_champion(mlflow, name: str) -> Champion | None:
    """The champion, or None while there is none."""
    version = champion_version(mlflow, name)
    return None if version is None else Champion(str(version.version), version.run_id, load_version(mlflow, version))


def load_version(mlflow, version) -> Any:
    """A registry version's model: the model file its training run kept, loaded only when its MD5 is the
    one recorded with the run and git recorded it too (model/artifact.py)."""
    origin = f"{version.name} version {version.version}"
    md5 = mlflow.MlflowClient().get_run(version.run_id).data.tags.get(MODEL_MD5_TAG)
    if md5 is None:
        raise UserError(f"{origin}: its run records no model MD5 ({MODEL_MD5_TAG}), so it is not loaded")
    with tempfile.TemporaryDirectory() as folder:
        try:
            downloaded = mlflow.artifacts.download_artifacts(run_id=version.run_id, artifact_path=MODEL_FILE,
                                                             dst_path=folder)
        except (mlflow.exceptions.MlflowException, OSError) as error:
            raise UserError(f"{origin}: its model file cannot be fetched ({error})") from None
        files = list(Path(downloaded).glob("*"))
        data = files[0].read_bytes() if len(files) == 1 else b""
    return load_recorded_bytes(data, md5, origin)


def promote(mlflow, name: str, model: RunInfo, reason: str) -> str:
    """Register the logged model as a new version, move the alias to it, record why; return the version."""
    client = mlflow.MlflowClient()
    try:
        client.create_registered_model(name)
    except mlflow.exceptions.MlflowException as error:
        if error.error_code != "RESOURCE_ALREADY_EXISTS":
            raise
    version = client.create_model_version(name, source=model.model_uri, run_id=model.run_id,
                                          model_id=model.model_id).version
    client.set_registered_model_alias(name, ALIAS, version)
    client.set_model_version_tag(name, version, "promoted_because", reason)
    return str(version)
