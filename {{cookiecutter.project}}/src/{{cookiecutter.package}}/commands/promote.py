"""`make promote`: make the evaluated model the registry's champion, only when every gate passed.

The champion gate compares it with the base branch's model (model/champion.py), so on the base branch,
after a merge, this mirrors what git holds: it registers the model of the run that evaluate judged as a
new version of `mlflow.model_name`, moves the `champion` alias to it, and tags the version with the gate
verdicts that allowed it. With any gate failed, it refuses and names them. With rollout.gate.required,
the rollout report (`make rollout-report`) must also have judged this model, on live traffic, and passed.
"""

from pathlib import Path

from ..config import load_params
from ..errors import UserError, run
from ..model.champion import judged_gates
from ..model.gates import GateReport, gates_table
from ..outputs import recorded_md5
from ..records import read_json
from ..tracking.connection import connect, store_errors
from ..tracking.registry import champion_version, promote
from ..tracking.runs import MODEL_MD5_TAG


def main() -> None:
    params = load_params()
    report = judged_gates(params)
    if report.failed:
        print(gates_table(report.gates))
        raise UserError(f"{params.paths.gates}: promotion refused: {len(report.failed)} gate(s) failed: "
                        f"{', '.join(report.failed)}")
    # No fallback store here: a champion promoted elsewhere than the team's registry would serve no one.
    mlflow = connect(params.mlflow.tracking_uri, params.mlflow.experiment)
    with store_errors(mlflow.get_tracking_uri()):
        promote_checked(mlflow, params, report)


def promote_checked(mlflow, params, report: GateReport) -> None:
    """Promote the judged model, when it is the workspace's and not the champion already."""
    path, name, client = params.paths.gates, params.mlflow.model_name, mlflow.MlflowClient()
    # The model judged must be the workspace's: the run's model file is the one dvc.lock records.
    logged = client.get_run(report.model.run_id).data.tags.get(MODEL_MD5_TAG)
    recorded_model = recorded_md5(params.paths.model)
    if logged != recorded_model:
        raise UserError(f"{path}: MLflow run {report.model.run_id} logged model MD5 {logged}, but dvc.lock records "
                        f"{recorded_model} for {params.paths.model}; run `dvc repro` first")
    current = champion_version(mlflow, name)
    was = current.version if current else "none"
    if current is not None and client.get_run(current.run_id).data.tags.get(MODEL_MD5_TAG) == recorded_model:
        print(f"promote: {name} version {current.version} holds this model already: it stays the champion")
        return
    if params.rollout.gate.required:
        require_rollout(params, recorded_model)
    reason = "; ".join(f"{g.name} {g.value} (threshold {g.threshold})" for g in report.gates)
    version = promote(mlflow, name, report.model, f"every gate passed: {reason}")
    print(f"promote: {name} version {version} is now the champion (was {was}); MLflow run {report.model.run_id}")


def require_rollout(params, md5: str) -> None:
    """The rollout report judged this model (by its MD5) as the challenger, and passed."""
    path = params.paths.rollout
    if not Path(path).is_file():
        raise UserError(f"{path}: promotion refused: rollout.gate.required is true and no rollout report was "
                        "written; serve this model as the challenger, then run `make rollout-report`")
    report = read_json(path)
    if report.get("challenger_md5") != md5:
        raise UserError(f"{path}: promotion refused: the rollout report judged challenger {report.get('challenger')}, "
                        f"not this model (MD5 {md5}); serve it as the challenger and run `make rollout-report`")
    if not report["gate"]["passed"]:
        failed = [check["name"] for check in report["gate"]["checks"] if not check["passed"]]
        raise UserError(f"{path}: promotion refused: the rollout gate failed: {', '.join(failed)}")


if __name__ == "__main__":
    run(main)
