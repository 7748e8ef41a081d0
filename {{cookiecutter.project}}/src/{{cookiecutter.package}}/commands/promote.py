"""`make promote`: make the evaluated model the champion, only when every gate passed.

Registers the model of the run that evaluate judged as a new version of `mlflow.model_name`, moves the
`champion` alias to it, and tags the version with the gate verdicts that allowed it. With any gate
failed, it refuses and names them.
"""

from ..config import load_params
from ..errors import UserError, run
from ..model.gates import GateReport, gates_table
from ..outputs import recorded_md5, require_current
from ..tracking.connection import connect, store_errors
from ..tracking.registry import champion_version, promote
from ..tracking.runs import MODEL_MD5_TAG


def main() -> None:
    params = load_params()
    path = params.paths.gates
    # The report must be evaluate's for the current inputs, as dvc.lock records it (not one edited by hand).
    require_current("evaluate", path)
    report = GateReport.load(path)
    if report.failed:
        print(gates_table(report.gates))
        raise UserError(f"{path}: promotion refused: {len(report.failed)} gate(s) failed: {', '.join(report.failed)}")
    # No fallback store here: a champion promoted elsewhere than the team's registry would serve no one.
    mlflow = connect(params.mlflow.tracking_uri, params.mlflow.experiment)
    with store_errors(mlflow.get_tracking_uri()):
        promote_checked(mlflow, params, report)


def promote_checked(mlflow, params, report: GateReport) -> None:
    """Promote the judged model, if the champion it was judged against is still the champion."""
    path, name = params.paths.gates, params.mlflow.model_name
    current = champion_version(mlflow, name)
    recorded = report.champion.version if report.champion else None
    if (str(current.version) if current else None) != recorded:
        # The champion moved after evaluate compared against it: that comparison no longer holds.
        raise UserError(f"{path}: the gates were judged against champion version {recorded}, but the champion "
                        f"is now version {current.version if current else None}; run `dvc repro --force evaluate`")
    # And the model it judged must be the workspace's: the run's model file is the one dvc.lock records.
    logged = mlflow.MlflowClient().get_run(report.model.run_id).data.tags.get(MODEL_MD5_TAG)
    recorded_model = recorded_md5(params.paths.model)
    if logged != recorded_model:
        raise UserError(f"{path}: MLflow run {report.model.run_id} logged model MD5 {logged}, but dvc.lock records "
                        f"{recorded_model} for {params.paths.model}; run `dvc repro` first")
    reason = "; ".join(f"{g.name} {g.value} (threshold {g.threshold})" for g in report.gates)
    version = promote(mlflow, name, report.model, f"every gate passed: {reason}")
    print(f"promote: {name} version {version} is now the champion (was {recorded or 'none'}); "
          f"MLflow run {report.model.run_id}")


if __name__ == "__main__":
    run(main)
