import json
import shutil
from pathlib import Path

import pytest
import yaml
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression

from {{ cookiecutter.package }}.commands.gates import main as gates_main
from {{ cookiecutter.package }}.config import ChampionGate, Gates
from {{ cookiecutter.package }}.errors import UserError
from {{ cookiecutter.package }}.model.gates import ChampionScore, GateReport, judge
from {{ cookiecutter.package }}.tracking.runs import RunInfo

GATES = Gates(minimum={"balanced_accuracy": 0.8}, maximum={"log_loss": 0.5}, max_latency_p95_ms=20.0,
              max_slice_gap=0.1, champion=ChampionGate(metric="balanced_accuracy", tolerance=0.02))
SCORES = {"balanced_accuracy": 0.9, "log_loss": 0.3}
LATENCY = {"p95_ms": 5.0}
SLICES = {"column": "island", "metric": "accuracy", "gap": 0.05}
MODEL = RunInfo(run_id="r1", experiment_id="1", model_id="m-1", model_uri="models:/m-1", tracking_uri="sqlite://")


def verdicts(scores=SCORES, latency=LATENCY, slices=SLICES, champion=None, gates=GATES):
    return {gate.name: gate for gate in judge(gates, scores, latency, slices, champion)}


def test_a_model_that_meets_every_gate_passes_and_says_there_is_no_champion_yet():
    found = verdicts()
    assert all(gate.passed for gate in found.values()) and len(found) == 5
    assert "no champion yet" in found["champion balanced_accuracy"].detail


@pytest.mark.parametrize(
    ("change", "failed"),
    [
        ({"scores": {**SCORES, "balanced_accuracy": 0.7}}, "minimum balanced_accuracy"),
        ({"scores": {**SCORES, "log_loss": 0.9}}, "maximum log_loss"),
        ({"latency": {"p95_ms": 25.0}}, "latency p95 ms"),
        ({"slices": {**SLICES, "gap": 0.3}}, "slice gap accuracy by island"),
    ],
)
def test_each_kind_of_threshold_fails_alone(change, failed):
    found = verdicts(**change)
    assert [name for name, gate in found.items() if not gate.passed] == [failed]
    assert found[failed].threshold is not None and found[failed].value is not None


def test_a_better_champion_fails_the_challenger_and_a_worse_one_does_not():
    better = ChampionScore(version="3", run_id="r0", metric="balanced_accuracy", score=0.95)
    gate = verdicts(champion=better)["champion balanced_accuracy"]
    assert not gate.passed and gate.threshold == 0.93 and "version 3 scores 0.95" in gate.detail
    within_tolerance = better.model_copy(update={"score": 0.91})
    assert verdicts(champion=within_tolerance)["champion balanced_accuracy"].passed
    lower_is_better = GATES.model_copy(update={"champion": ChampionGate(metric="log_loss", tolerance=0.0)})
    lower = better.model_copy(update={"metric": "log_loss", "score": 0.2})
    assert not verdicts(champion=lower, gates=lower_is_better)["champion log_loss"].passed
    assert verdicts(champion=lower.model_copy(update={"score": 0.4}), gates=lower_is_better)["champion log_loss"].passed


def test_a_champion_that_cannot_score_the_new_data_is_no_obstacle():
    unable = ChampionScore(version="2", run_id="r0", metric="balanced_accuracy", score=None, error="columns differ")
    gate = verdicts(champion=unable)["champion balanced_accuracy"]
    assert gate.passed and "cannot score this test split (columns differ)" in gate.detail


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A copy of the project's params.yaml in a temporary folder, the commands' working directory."""
    shutil.copy(Path(__file__).resolve().parents[1] / "params.yaml", tmp_path)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write_report(project, scores, champion=None):
    from {{ cookiecutter.package }}.config import load_params

    params = load_params()
    gates = judge(params.gates.model_copy(update={"minimum": {"balanced_accuracy": 0.8}, "maximum": {}}),
                  scores, LATENCY, {}, champion)
    path = project / params.paths.gates
    GateReport(passed=all(gate.passed for gate in gates), model=MODEL, champion=champion, gates=gates).save(path)
    return path


def test_the_gate_command_prints_the_table_and_fails_naming_each_failed_gate(project, capsys):
    write_report(project, {"balanced_accuracy": 0.9})
    gates_main()
    assert "all 3 passed" in capsys.readouterr().out
    write_report(project, {"balanced_accuracy": 0.5})
    with pytest.raises(UserError, match=r"gates.json: 1 gate\(s\) failed: minimum balanced_accuracy"):
        gates_main()
    assert "FAIL" in capsys.readouterr().out


def test_promotion_moves_the_alias_only_when_every_gate_passed(project, frame, monkeypatch):
    """Against a real MLflow store (SQLite in the temporary folder)."""
    from {{ cookiecutter.package }}.commands.promote import main as promote_main
    from {{ cookiecutter.package }}.config import load_params
    from {{ cookiecutter.package }}.model.artifact import save_model
    from {{ cookiecutter.package }}.tracking.connection import connect
    from {{ cookiecutter.package }}.tracking.registry import load_champion
    from {{ cookiecutter.package }}.tracking.runs import log_training_run

    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{project / 'mlflow.db'}")
    params = load_params()
    mlflow = connect(params.mlflow.tracking_uri, "gates-test")
    features, labels = frame[["size", "weight"]].fillna(30), frame["label"]

    def logged(model) -> dict:
        """Train's record of a model: the file (which dvc.lock records, as after `dvc repro train`) and its run."""
        md5 = save_model(model.fit(features, labels), params.paths.model)
        lock = {"schema": "2.0", "stages": {"train": {"outs": [{"path": params.paths.model, "md5": md5}]}}}
        (project / "dvc.lock").write_text(yaml.safe_dump(lock))
        return log_training_run(mlflow, model, params.paths.model, features, {}, {}, {}).model_dump()

    name = params.mlflow.model_name
    assert load_champion(mlflow, name) is None
    first = logged(DummyClassifier(strategy="most_frequent"))
    path = write_report(project, {"balanced_accuracy": 0.5})
    with pytest.raises(UserError, match="promotion refused: 1 gate"):
        promote_main()
    assert load_champion(mlflow, name) is None

    gate_report = json.loads(path.read_text())
    gate_report["passed"], gate_report["model"] = True, first
    for gate in gate_report["gates"]:
        gate["passed"] = True
    path.write_text(json.dumps(gate_report))
    promote_main()
    champion = load_champion(mlflow, name)
    assert champion.version == "1" and champion.run_id == first["run_id"]
    assert list(champion.model.predict(features.head(2))) == list(DummyClassifier(strategy="most_frequent")
                                                                .fit(features, labels).predict(features.head(2)))
    version = mlflow.MlflowClient().get_model_version(name, "1")
    assert version.tags["promoted_because"].startswith("every gate passed")
    # The gates were judged with no champion; now there is one, so that verdict is out of date.
    with pytest.raises(UserError, match="judged against champion version None, but the champion is now version 1"):
        promote_main()
    second = logged(LogisticRegression())
    # A gate report judging a model other than the one dvc.lock records promotes nothing.
    gate_report |= {"model": first, "champion": {"version": "1", "run_id": first["run_id"],
                                                 "metric": "balanced_accuracy", "score": 0.5}}
    path.write_text(json.dumps(gate_report))
    with pytest.raises(UserError, match=f"MLflow run {first['run_id']} logged model MD5 \\w+, but dvc.lock records"):
        promote_main()
    gate_report |= {"model": second, "champion": {"version": "1", "run_id": first["run_id"],
                                                  "metric": "balanced_accuracy", "score": 0.5}}
    path.write_text(json.dumps(gate_report))
    promote_main()
    assert load_champion(mlflow, name).version == "2"
