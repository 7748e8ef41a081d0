"""The MLflow model registry: the champion (the version holding the `champion` alias) and its successor."""

from dataclasses import dataclass
from typing import Any

from .runs import RunInfo

ALIAS = "champion"


@dataclass(frozen=True)
class Champion:
    version: str
    run_id: str
    model: Any  # the scikit-learn pipeline, ready to predict


def champion_version(mlflow, name: str):
    """The registry entry holding the alias, or None while there is no champion yet."""
    try:
        return mlflow.MlflowClient().get_model_version_by_alias(name, ALIAS)
    except mlflow.exceptions.MlflowException as error:
        # No registered model yet, or one whose alias was never set.
        if error.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
            return None
        raise


def load_champion(mlflow, name: str) -> Champion | None:
    """The champion, loaded to be scored again on today's test split."""
    version = champion_version(mlflow, name)
    if version is None:
        return None
    # Stored with skops by train, which loads only the types recorded as trusted when it was logged.
    model = mlflow.sklearn.load_model(f"models:/{name}/{version.version}")
    return Champion(str(version.version), version.run_id, model)


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
