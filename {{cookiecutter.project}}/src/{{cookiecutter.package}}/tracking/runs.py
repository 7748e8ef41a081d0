"""MLflow runs: the training run (params, metrics, lineage tags, the model) and what evaluate adds to it."""

import os
import signal
import socket
from importlib.metadata import version
from typing import TYPE_CHECKING, Any

from ..data.tables import file_md5
from ..errors import UserError
from ..records import Record
from .connection import shown, store_errors

if TYPE_CHECKING:
    import pandas as pd

# Declared rather than inferred: MLflow's inference starts a subprocess and adds seconds to every run.
MODEL_REQUIREMENTS = ("scikit-learn", "pandas", "numpy", "scipy")
# The model file as train wrote it, kept in the run beside MLflow's own copy, with its MD5 as a tag: the
# registry's champion is loaded from it only when that MD5 is one git recorded (model/artifact.py).
MODEL_FILE = "model_file"
MODEL_MD5_TAG = "model.md5"
# The machine and process that logs a run, so a run it leaves RUNNING can be told from a live one.
PROCESS_TAG = "process"


class RunInfo(Record):
    """Where train's MLflow run and its logged model live."""

    stage = "train"
    run_id: str
    experiment_id: str
    model_id: str
    model_uri: str
    tracking_uri: str


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


def log_training_run(mlflow, model, model_file: str, features: "pd.DataFrame", params: dict, metrics: dict,
                     tags: dict, documents: dict[str, dict] | None = None) -> RunInfo:
    """Record params, metrics, tags, `documents` (artifact name -> JSON) and the model (the file, and
    MLflow's model with its signature and an input example) in a new run."""
    with store_errors(mlflow.get_tracking_uri()):
        fail_orphaned_runs(mlflow)
        return _log(mlflow, model, model_file, features, params, metrics, tags, documents or {})


def _log(mlflow, model, model_file: str, features: "pd.DataFrame", params: dict, metrics: dict, tags: dict,
         documents: dict[str, dict]) -> RunInfo:
    import skops.io
    from mlflow.models import infer_signature

    # Integer columns as floats, as MLflow advises: an integer column cannot hold a missing value, and a
    # signature that says "integer" refuses one (MLflow warns about it in as many lines).
    example = features.head(5)
    example = example.astype({column: "float64" for column in example.select_dtypes("integer").columns})
    # A run stopped by a signal ends as FAILED: `start_run` marks it so when the block raises.
    signal.signal(signal.SIGTERM, _raise_on_sigterm)
    with mlflow.start_run(tags={PROCESS_TAG: f"{socket.gethostname()}:{os.getpid()}"}) as active:
        mlflow.log_params(flatten(params))
        mlflow.log_metrics(metrics)
        mlflow.set_tags(tags | {MODEL_MD5_TAG: file_md5(model_file)})
        for name, document in documents.items():
            mlflow.log_dict(document, name)
        mlflow.log_artifact(model_file, artifact_path=MODEL_FILE)
        logged = mlflow.sklearn.log_model(
            model,
            name="model",
            signature=infer_signature(example, model.predict(example)),
            input_example=example,
            pip_requirements=[f"{name}=={version(name)}" for name in MODEL_REQUIREMENTS],
            # MLflow stores the model with skops, which loads only types it is told to trust: those of
            # the model this process has just trained.
            skops_trusted_types=skops.io.get_untrusted_types(data=skops.io.dumps(model)),
        )
    return RunInfo(run_id=active.info.run_id, experiment_id=active.info.experiment_id, model_id=logged.model_id,
                   model_uri=logged.model_uri, tracking_uri=shown(mlflow.get_tracking_uri()))


def add_to_run(mlflow, run: RunInfo, run_file: str, metrics: dict, artifacts: list[str], folder: str) -> None:
    """Add metrics, and files under `folder` in its artifacts, to the run that trained the model."""
    try:
        mlflow.MlflowClient().get_run(run.run_id)
    except mlflow.exceptions.MlflowException as error:
        raise UserError(f"{run_file}: MLflow run {run.run_id} not found at {shown(mlflow.get_tracking_uri())} "
                        f"({error.message}); re-run train with this tracking URI") from None
    with store_errors(mlflow.get_tracking_uri()), mlflow.start_run(run_id=run.run_id):
        mlflow.log_metrics(metrics)
        for path in artifacts:
            mlflow.log_artifact(path, artifact_path=folder)


def _raise_on_sigterm(signum, frame):
    raise SystemExit(f"stopped by signal {signum}")


def fail_orphaned_runs(mlflow) -> None:
    """Mark FAILED the runs of this experiment left RUNNING by a process of this machine that is gone
    (killed, or stopped by a full disk or a broken store before it could end its run)."""
    host = socket.gethostname()
    for run in mlflow.search_runs(filter_string="attributes.status = 'RUNNING'", output_format="list"):
        owner, _, pid = run.data.tags.get(PROCESS_TAG, "").rpartition(":")
        if owner == host and pid.isdigit() and not _alive(int(pid)):
            mlflow.MlflowClient().set_terminated(run.info.run_id, status="FAILED")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
