"""promote: make the evaluated model the champion, only when every gate passed.

`python -m <package>.promote` (`make promote`) registers the model of the run that evaluate judged
as a new version of `mlflow.model_name`, moves the `champion` alias to it, and tags the version with
the gate verdicts that allowed it. With any gate failed, it refuses and names them.
"""

from pathlib import Path

from .errors import UserError, run
from .gates import format_table, read_report
from .params import load_params
from .registry import champion_version, promote
from .tracking import connect


def main() -> None:
    params = load_params()
    path = Path(params.paths.gates)
    gate_report = read_report(params.paths.gates, "evaluate")
    failed = [gate["name"] for gate in gate_report["gates"] if not gate["passed"]]
    if failed:
        print(format_table(gate_report["gates"]))
        raise UserError(f"{path}: promotion refused: {len(failed)} gate(s) failed: {', '.join(failed)}")
    # No fallback store here: a champion promoted elsewhere than the team's registry would serve no one.
    mlflow = connect(params.mlflow.tracking_uri, params.mlflow.experiment)
    name = params.mlflow.model_name
    current = champion_version(mlflow, name)
    recorded = (gate_report["champion"] or {}).get("version")
    if (str(current.version) if current else None) != recorded:
        # The champion moved after evaluate compared against it: that comparison no longer holds.
        raise UserError(f"{path}: the gates were judged against champion version {recorded}, but the champion "
                        f"is now version {current.version if current else None}; run `dvc repro --force evaluate`")
    reason = "; ".join(f"{g['name']} {g['value']} (threshold {g['threshold']})" for g in gate_report["gates"])
    version = promote(mlflow, name, gate_report["model"], f"every gate passed: {reason}")
    print(f"promote: {name} version {version} is now the champion (was {recorded or 'none'}); "
          f"MLflow run {gate_report['model']['run_id']}")


if __name__ == "__main__":
    run(main)
