"""`make gates` and `make promote` in a real git and DVC repository: the champion is the base branch's
model, fetched by DVC; the registry (a real MLflow store) mirrors it."""

import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression

from {{ cookiecutter.package }}.commands.gates import main as gates_main
from {{ cookiecutter.package }}.commands.promote import main as promote_main
from {{ cookiecutter.package }}.config import Gates, load_params
from {{ cookiecutter.package }}.data.tables import write_table
from {{ cookiecutter.package }}.errors import ConfigError, UserError
from {{ cookiecutter.package }}.model.artifact import save_model
from {{ cookiecutter.package }}.model.champion import judged_gates
from {{ cookiecutter.package }}.model.gates import GateReport, judge
from {{ cookiecutter.package }}.model.metrics import score
from {{ cookiecutter.package }}.records import write_json
from {{ cookiecutter.package }}.serving.model import registry_model, revision_model
from {{ cookiecutter.package }}.tracking.connection import connect
from {{ cookiecutter.package }}.tracking.registry import load_champion
from {{ cookiecutter.package }}.tracking.runs import RunInfo, log_training_run

RUN = RunInfo(run_id="r1", experiment_id="1", model_id="m-1", model_uri="models:/m-1", tracking_uri="sqlite://")
# Two stages standing for train and evaluate: DVC records their outputs in dvc.lock and caches them.
PIPELINE = {"stages": {"train": {"cmd": "true", "outs": ["models/model.joblib"]},
                       "evaluate": {"cmd": "true", "deps": ["models/model.joblib"], "outs": ["reports/gates.json"]}}}


class Payload:
    """A model file replaced by an attacker: unpickling it writes a marker file."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def run(*command: str) -> str:
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def repo(tmp_path, frame_params, frame):
    """A git repository on `main` with DVC, the project's params set for `frame`, and its test split."""
    Path("dvc.yaml").write_text(yaml.safe_dump(PIPELINE))
    write_table(frame, load_params().paths.test)
    run("git", "init", "--quiet", "--initial-branch=main")
    run(sys.executable, "-m", "dvc", "init", "--quiet")
    commit("The project, no model yet")
    return tmp_path


def commit(message: str) -> None:
    run("git", "add", "--all")
    run("git", "-c", "user.name=t", "-c", "user.email=t@localhost", "commit", "--quiet", "-m", message)


def evaluated(model, frame, minimum: float = 0.0, logged_in=None) -> float:
    """What train and evaluate leave: the model file, its metrics, a gate report (one gate: the minimum
    balanced accuracy), dvc.lock recording them; and the training run when given an MLflow to log in."""
    params = load_params()
    features, labels = frame[["size", "weight"]].fillna(30), frame["label"]
    save_model(model.fit(features, labels), params.paths.model)
    training_run = RUN if logged_in is None else log_training_run(logged_in, model, params.paths.model,
                                                                   features, {}, {}, {})
    scores = score(model, frame.drop(columns="label"), labels, "classification")
    write_json(scores, params.paths.metrics)
    gates = judge(Gates(minimum={"balanced_accuracy": minimum}, maximum={}, max_latency_p95_ms=None,
                        max_slice_gap=None, champion=params.gates.champion), scores, {}, {})
    GateReport(passed=all(gate.passed for gate in gates), model=training_run, gates=gates).save(params.paths.gates)
    run(sys.executable, "-m", "dvc", "commit", "--force", "--quiet")
    return scores["balanced_accuracy"]


class SizeAndWeight(LogisticRegression):
    """A model that takes the test split's columns and uses two of them."""

    def _columns(self, features):
        return features[["size", "weight"]].fillna(30)

    def predict(self, features):
        return super().predict(self._columns(features))

    def predict_proba(self, features):
        return super().predict_proba(self._columns(features))


def test_the_first_model_passes_with_a_note_then_each_challenger_meets_mains_model(repo, frame):
    evaluated(DummyClassifier(strategy="most_frequent"), frame)
    first = judged_gates(load_params()).gates[-1]
    assert first.passed and "no champion yet: main records no model" in first.detail
    dummy = evaluated(DummyClassifier(strategy="most_frequent"), frame)
    commit("A first model")
    on_main = judged_gates(load_params()).gates[-1]
    assert on_main.passed and on_main.value == dummy and "champion main@" in on_main.detail  # itself

    run("git", "switch", "--quiet", "--create", "better")
    better = evaluated(SizeAndWeight(), frame)
    gate = judged_gates(load_params()).gates[-1]
    main = run("git", "rev-parse", "--short=7", "main")
    assert gate.passed and gate.value == better > dummy and f"champion main@{main} scores {dummy}" in gate.detail
    commit("A better model")
    run("git", "switch", "--quiet", "main")
    run("git", "merge", "--quiet", "better")

    run("git", "switch", "--quiet", "--create", "worse")
    evaluated(DummyClassifier(strategy="most_frequent"), frame)
    report = judged_gates(load_params())
    main = run("git", "rev-parse", "--short=7", "main")
    assert report.failed == ["champion balanced_accuracy"]
    assert f"champion main@{main} scores {better}" in report.gates[-1].detail and report.gates[-1].value == dummy


def test_a_champion_replaced_in_the_cache_is_refused_before_it_runs_and_a_missing_one_is_named(repo, frame):
    champion_md5 = save_model_on_main(frame)
    run("git", "switch", "--quiet", "--create", "change")
    evaluated(DummyClassifier(strategy="most_frequent"), frame)
    cached = Path(".dvc/cache/files/md5") / champion_md5[:2] / champion_md5[2:]
    marker = repo / "marker"
    cached.chmod(0o644)
    cached.write_bytes(pickle.dumps(Payload(marker)))
    with pytest.raises(UserError, match=rf"champion main@\w+: the model file's MD5 is not the {champion_md5}"):
        judged_gates(load_params())
    assert not marker.exists()
    cached.unlink()
    with pytest.raises(UserError, match=rf"champion main@\w+: models/model.joblib \(MD5 {champion_md5}\) cannot be "
                                        "fetched by DVC"):
        judged_gates(load_params())


def save_model_on_main(frame) -> str:
    evaluated(SizeAndWeight(), frame)
    commit("The champion")
    return yaml.safe_load(Path("dvc.lock").read_text())["stages"]["train"]["outs"][0]["md5"]


def test_a_base_branch_git_does_not_know_is_named(repo, frame, frame_params):
    evaluated(DummyClassifier(strategy="most_frequent"), frame)
    frame_params["gates"]["champion"]["base"] = "trunk"
    Path("params.yaml").write_text(yaml.safe_dump(frame_params))
    with pytest.raises(UserError, match="params.yaml: key 'gates.champion.base': expected a branch of this git "
                                        "repository .*, found 'trunk'"):
        judged_gates(load_params())


def test_the_gate_command_prints_every_gate_and_fails_naming_each_failed_one(repo, frame, capsys):
    evaluated(DummyClassifier(strategy="most_frequent"), frame, minimum=0.4)
    gates_main()
    assert "all 2 passed" in capsys.readouterr().out
    evaluated(DummyClassifier(strategy="most_frequent"), frame, minimum=0.9)
    with pytest.raises(UserError, match=r"gates.json: 1 gate\(s\) failed: minimum balanced_accuracy"):
        gates_main()
    assert "FAIL" in capsys.readouterr().out


def test_promotion_moves_the_alias_once_and_only_when_every_gate_passed(repo, frame, monkeypatch, capsys):
    """Against a real MLflow store (SQLite in the temporary folder)."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{repo / 'mlflow.db'}")
    mlflow, name = connect(load_params().mlflow.tracking_uri, "gates-test"), load_params().mlflow.model_name
    evaluated(DummyClassifier(strategy="most_frequent"), frame, minimum=0.9, logged_in=mlflow)
    with pytest.raises(UserError, match="promotion refused: 1 gate"):
        promote_main()
    assert load_champion(mlflow, name) is None

    evaluated(DummyClassifier(strategy="most_frequent"), frame, logged_in=mlflow)
    first = GateReport.load(load_params().paths.gates)
    promote_main()
    champion = load_champion(mlflow, name)
    assert champion.version == "1" and champion.run_id == first.model.run_id
    assert set(champion.model.predict(frame[["size", "weight"]].fillna(30))) == {frame["label"].mode()[0]}
    version = mlflow.MlflowClient().get_model_version(name, "1")
    assert version.tags["promoted_because"].startswith("every gate passed")
    promote_main()  # the same model again: it stays the champion, as one version
    assert "version 1 holds this model already" in capsys.readouterr().out
    assert len(mlflow.MlflowClient().search_model_versions(f"name='{name}'")) == 1

    evaluated(SizeAndWeight(), frame, logged_in=mlflow)
    # A gate report judging a model other than the one dvc.lock records promotes nothing.
    second = Path(load_params().paths.gates)
    judged_second = second.read_text()
    second.write_text(judged_second.replace(GateReport.load(second).model.run_id, first.model.run_id))
    run(sys.executable, "-m", "dvc", "commit", "--force", "--quiet")
    with pytest.raises(UserError, match=f"MLflow run {first.model.run_id} logged model MD5 \\w+, but dvc.lock records"):
        promote_main()
    second.write_text(judged_second)
    run(sys.executable, "-m", "dvc", "commit", "--force", "--quiet")
    promote_main()
    assert load_champion(mlflow, name).version == "2"


def test_the_server_takes_the_registrys_champion_when_there_is_one(repo, frame, monkeypatch):
    """The source `make serve` uses with a tracking server (here a real SQLite store stands for it)."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{repo / 'mlflow.db'}")
    params = load_params()
    fingerprint, load = registry_model(params, "champion")
    assert fingerprint() is None
    with pytest.raises(UserError, match="has no champion yet; `make promote` registers one"):
        load()
    evaluated(DummyClassifier(strategy="most_frequent"), frame, logged_in=connect(params.mlflow.tracking_uri, "x"))
    promote_main()
    served = load()
    recorded = yaml.safe_load(Path("dvc.lock").read_text())["stages"]["train"]["outs"][0]["md5"]
    assert served.version == f"{params.mlflow.model_name}/1" and fingerprint() == served.md5 == recorded
    assert served.run_id == GateReport.load(params.paths.gates).model.run_id
    assert set(served.model.predict(frame[["size", "weight"]].fillna(30))) == {frame["label"].mode()[0]}
    # A version given the `challenger` alias by hand is the API's challenger, loaded the same way.
    challenger, load_challenger = registry_model(params, "challenger")
    assert challenger() is None
    connect(params.mlflow.tracking_uri, "x").MlflowClient().set_registered_model_alias(
        params.mlflow.model_name, "challenger", "1")
    assert challenger() == served.md5 and load_challenger().version == served.version


def test_a_challenger_named_by_a_git_revision_is_the_model_its_dvc_lock_records(repo, frame):
    with pytest.raises(ConfigError, match="rollout.challenger.*a branch, tag or commit"):
        revision_model(load_params(), "no-such-branch")
    with pytest.raises(UserError, match="records no models/model.joblib"):
        revision_model(load_params(), "main")
    evaluated(DummyClassifier(strategy="most_frequent"), frame)
    commit("A first model")
    run("git", "switch", "--quiet", "--create", "better")
    evaluated(SizeAndWeight(), frame)
    commit("A better model")
    recorded = yaml.safe_load(Path("dvc.lock").read_text())["stages"]["train"]["outs"][0]["md5"]
    run("git", "switch", "--quiet", "main")
    md5, load = revision_model(load_params(), "better")
    served = load()
    assert md5 == served.md5 == recorded and served.version == f"md5:{recorded[:12]}"
    assert served.commit == run("git", "rev-parse", "better") and isinstance(served.model, SizeAndWeight)
