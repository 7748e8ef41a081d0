"""A baked project, per task, installed from its lock and driven through a user's first hour.

The slow part (install, pipeline runs, an experiment, the project's own tests) runs once per task in
`session`; the tests then read what each step printed and left behind.
"""

import csv
import hashlib
import io
import json
import os
import re
import shutil
import signal
import subprocess
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement

from conftest import (LOOP, TEST_SPLIT, Session, bake, free_port, mlflow_server, params_edit, post, serve, start_server,
                      states, stop_server)
from stack import stack

STAGES = ("prepare", "validate", "train", "evaluate", "drift-check")
# The train parameter each sample's experiments vary, and the value they try.
EXPERIMENT = {"classification": ("train.model.params.C", "0.5"), "regression": ("train.model.params.alpha", "10")}
# What a pipeline run may change in git: the lock of the pipeline and the small outputs kept in git.
EXPECTED_CHANGES = {"dvc.lock", "metrics/", "reports/"}
# The metric each sample's quality gates judge first.
QUALITY = {"classification": "balanced_accuracy", "regression": "r2"}
# How the simulated drifted batch moves each sample: enough features for the batch to count as drifted.
DRIFT = {"classification": ["--shift", "bill_length_mm=1.5", "--mix", "island=Dream:0.8"],
         "regression": ["--shift", "acceleration=1.5", "--mix", "origin=Japan:0.8", "--mix", "cylinders=4:0.9"]}
# A category each sample's contract does not allow, for a current batch that breaks the contract.
UNSEEN = {"classification": ("island", "Atlantis"), "regression": ("origin", "Mars")}


@pytest.fixture(scope="module", params=["classification", "regression"])
def first_run(request, tmp_path_factory) -> Session:
    """A baked project, installed, after its first `make repro`: all the fast tier needs of it."""
    task = request.param
    project = bake(tmp_path_factory.mktemp(task), task=task)
    session = Session.for_project(project)
    session.run("setup", "make", "setup")
    session.run("versions", str(project / ".venv/bin/python"), "-c",
                "import json, importlib.metadata as m; "
                "print(json.dumps({d.metadata['Name'].lower(): d.version for d in m.distributions()}))")
    session.locked = (project / "requirements.lock").read_text()
    # The project's metrics table, the one place that names the metrics of each task.
    session.run("metric table", str(project / ".venv/bin/python"), "-c",
                f"import json; from my_ml_project.model.metrics import metric_names; "
                f"print(json.dumps(metric_names({task!r})))")
    session.run("repro", "make", "repro")
    return session


@pytest.fixture(scope="module")
def session(first_run) -> Session:
    """The same project driven on through the rest of a user's first hour."""
    session, project = first_run, first_run.project
    task = yaml.safe_load((project / "params.yaml").read_text())["task"]
    session.run("gates", "make", "gates")
    session.run("promote", "make", "promote")
    session.run("status", "git", "status", "--porcelain")
    session.run("repro again", "dvc", "repro")

    raw = project / yaml.safe_load((project / "params.yaml").read_text())["paths"]["raw"]
    good = raw.read_bytes()
    raw.write_bytes(good + b'"an unbalanced quote,1\n')
    session.fail("repro on malformed data", "make", "repro")
    session.kept_after_failure = sorted(str(p.relative_to(project)) for p in (project / "data/prepared").iterdir())
    raw.write_bytes(good)
    session.run("repro after fixing the data", "dvc", "repro")

    current = project / yaml.safe_load((project / "params.yaml").read_text())["paths"]["current"]
    good = current.read_bytes()
    current.write_bytes(good + unseen_category_row(good.decode(), *UNSEEN[task]).encode())
    model = project / "models/model.joblib"
    session.files["model before"] = hashlib.md5(model.read_bytes()).hexdigest()
    session.fail("repro on a contract-breaking batch", "make", "repro")
    session.files["validation report"] = (project / "reports/validation.json").read_text()
    session.files["model after"] = hashlib.md5(model.read_bytes()).hexdigest()
    current.write_bytes(good)
    session.run("repro after fixing the batch", "dvc", "repro")

    session.run("drift gate", "make", "drift-gate")
    session.run("simulate drift", str(project / ".venv/bin/python"), "-m", "my_ml_project.commands.simulate_drift",
                "--seed", "7", *DRIFT[task])
    session.run("repro on a drifted batch", "dvc", "repro")
    session.fail("drift gate on a drifted batch", "make", "drift-gate")
    session.files["drift report"] = (project / "reports/drift.md").read_text()
    # The README's command that brings the real batch back (`dvc repro` recorded the simulated one).
    restore = next(line for line in (project / "README.md").read_text().splitlines() if "# the real batch back" in line)
    session.run("the real batch back", "sh", "-c", restore.split("#")[0])
    session.files["current batch back"] = hashlib.md5(current.read_bytes()).hexdigest()
    session.files["current batch"] = hashlib.md5(good).hexdigest()
    session.run("repro after the drifted batch", "dvc", "repro")

    key, value = EXPERIMENT[task]
    params = yaml.safe_load((project / "params.yaml").read_text())
    *parents, leaf = key.split(".")
    param(params, ".".join(parents))[leaf] = float(value)
    original = (project / "params.yaml").read_text()
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    session.run("repro after param change", "dvc", "repro")
    (project / "params.yaml").write_text(original)
    session.run("repro restored", "dvc", "repro")

    params = yaml.safe_load(original)
    params["gates"]["minimum"][QUALITY[task]] = 0.999
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    session.run("repro with a gate out of reach", "dvc", "repro")
    session.fail("gates out of reach", "make", "gates")
    session.fail("promote out of reach", "make", "promote")
    (project / "params.yaml").write_text(original)
    session.run("repro with the gates restored", "dvc", "repro")

    failures(session, task, original)
    if task == "classification":
        session.run("project tests", "make", "test")
    else:  # the unit tests are the same in every bake (their data is their own): the sample's end-to-end run
        session.run("project tests", "python", "-m", "pytest", "-m", "e2e")
    session.run("exp run", "make", "exp", f"SET={key}={value}")
    session.run("exp show", "dvc", "exp", "show", "--json")
    session.run("exps", "make", "exps")
    session.run("metrics", "make", "metrics")
    # The remaining everyday commands, so none of them is left untried.
    session.run("help", "make", "help")
    session.run("plots", "make", "plots")
    session.run("push", "make", "push")
    session.run("pull", "make", "pull")
    session.run("lock", "make", "lock")

    # A shared tracking server instead of the local SQLite file: only the environment changes.
    with mlflow_server(project.parent / "mlflow-server", project / ".venv/bin/mlflow") as uri:
        session.env["MLFLOW_TRACKING_URI"] = uri
        session.run("train on the server", "dvc", "repro", "--force", "--single-item", "train")
        session.run("evaluate on the server", "dvc", "repro", "--force", "--single-item", "evaluate")
        session.run("promote on the server", "make", "promote")
        session.run("registry on the server", str(project / ".venv/bin/python"), "-c", REGISTRY_SUMMARY)
        del session.env["MLFLOW_TRACKING_URI"]
    # The server gone: train stops at once; with a fallback store named in params.yaml, it records there.
    session.env["MLFLOW_TRACKING_URI"] = f"http://127.0.0.1:{free_port()}"
    session.fail("train with the server down", "dvc", "repro", "--force", "--single-item", "train")
    session.run("restore after the server was down", "dvc", "checkout")
    params = yaml.safe_load(original)
    params["mlflow"]["fallback_uri"] = "sqlite:///offline.db"
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    session.run("train with a fallback store", "dvc", "repro", "--force", "--single-item", "train")
    (project / "params.yaml").write_text(original)
    del session.env["MLFLOW_TRACKING_URI"]
    session.run("clean", "make", "clean")
    session.files["virtualenv after clean"] = str((project / ".venv").exists())
    session.run("setup after clean", "make", "setup")  # the virtualenv back for the servers' tests
    return session


def failures(session: Session, task: str, params_text: str) -> None:
    """Runs that stop part way, and what each leaves behind: nothing claimed that did not happen, nothing lost."""
    project = session.project
    params_file, contract = project / "params.yaml", project / "contract.yaml"

    def with_params(change) -> None:
        params = yaml.safe_load(params_text)
        change(params)
        params_file.write_text(yaml.safe_dump(params, sort_keys=False))

    # Train fails after a params change (its tracking server is down): the last good model comes back.
    # (A value no run has used, or DVC's run cache would restore its outputs instead of running train.)
    key, value = EXPERIMENT[task]
    *parents, leaf = key.split(".")
    with_params(lambda params: param(params, ".".join(parents)).update({leaf: float(value) + 0.27}))
    session.env["MLFLOW_TRACKING_URI"] = f"http://127.0.0.1:{free_port()}"
    session.fail("repro with the tracking server down", "make", "repro")
    del session.env["MLFLOW_TRACKING_URI"]
    session.files["outputs after train failed"] = json.dumps(outputs_as_recorded(project))
    # evaluate fails on a typo: its metrics (kept in git, not in DVC's cache) come back too, and the gates
    # refuse to judge outputs that are not those of the current inputs.
    with_params(lambda params: params["evaluate"].update(slice_column="no_such_column"))
    session.fail("repro with a typo in evaluate.slice_column", "make", "repro")
    session.files["outputs after evaluate failed"] = json.dumps(outputs_as_recorded(project))
    session.fail("gates after a failed run", "make", "gates")
    params_file.write_text(params_text)
    # A contract file that is not YAML: validate's report says so; the drift gate will not judge old outputs.
    good_contract = contract.read_text()
    contract.write_text(good_contract + "columns: [\n")
    session.fail("repro with a broken contract", "make", "repro")
    session.files["validation report after a broken contract"] = (project / "reports/validation.json").read_text()
    session.fail("drift gate after a failed run", "make", "drift-gate")
    contract.write_text(good_contract)
    current = project / yaml.safe_load(params_text)["paths"]["current"]
    current.rename(current.with_suffix(".away"))
    session.fail("repro without a current batch", "make", "repro")
    current.with_suffix(".away").rename(current)
    # A key no stage reads: DVC would run nothing and say nothing; make repro checks params.yaml whole first.
    params_file.write_text(params_text + "unknown_setting: 1\n")
    session.fail("repro with an unknown setting", "make", "repro")
    params_file.write_text(params_text)
    session.run("repro after the failures", "make", "repro")
    # A file of one's own among the plot tables outlives evaluate; a gate report edited by hand promotes nothing.
    (project / "reports/plots/my-notes.txt").write_text("mine")
    session.run("evaluate again", "dvc", "repro", "--force", "--single-item", "evaluate")
    gates = project / "reports/gates.json"
    gates.write_text(gates.read_text().replace('"detail": ""', '"detail": "looks fine to me"', 1))
    session.fail("promote a hand-edited gate report", "make", "promote")
    session.run("gate report back", "dvc", "checkout", "--force", "reports/gates.json")
    full_disk(session)


def full_disk(session: Session) -> None:
    """A real full disk: a small tmpfs holding the tracking store, filled to the last byte."""
    disk = session.project.parent / "small-disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(disk)], capture_output=True,
                             text=True)
    if mounted.returncode != 0:
        session.files["no small disk"] = f"a small tmpfs cannot be mounted here ({mounted.stderr.strip()}): it takes root"
        return
    try:
        session.env["MLFLOW_TRACKING_URI"] = f"sqlite:///{disk / 'mlflow.db'}"
        session.run("train with a store on a small disk", "dvc", "repro", "--force", "--single-item", "train")
        fill(disk)
        session.fail("train with the disk full", "dvc", "repro", "--force", "--single-item", "train")
    finally:
        del session.env["MLFLOW_TRACKING_URI"]
        subprocess.run(["umount", str(disk)], check=True)
    session.run("outputs back after the full disk", "dvc", "checkout", "--force", "train")


def fill(disk: Path) -> None:
    """A file taking every byte left on `disk`."""
    with open(disk / "filler", "wb") as filler:
        try:
            while True:
                filler.write(b"\0" * 65536)
                filler.flush()
        except OSError:
            pass


def outputs_as_recorded(project) -> dict[str, bool]:
    """For each output dvc.lock records: whether the file is there with that MD5."""
    lock = yaml.safe_load((project / "dvc.lock").read_text())
    return {out["path"]: (project / out["path"]).is_file()
            and hashlib.md5((project / out["path"]).read_bytes()).hexdigest() == out["md5"]
            for stage in lock["stages"].values() for out in stage.get("outs", [])}


# What the tracking server holds for the champion: its version, and its run's tags and metrics.
REGISTRY_SUMMARY = """
import json, mlflow, yaml
name = yaml.safe_load(open("params.yaml"))["mlflow"]["model_name"]
client = mlflow.MlflowClient()
version = client.get_model_version_by_alias(name, "champion")
run = client.get_run(version.run_id)
print(json.dumps({"version": version.version, "run_id": version.run_id, "tags": run.data.tags,
                  "metrics": sorted(run.data.metrics), "run_file": json.load(open("models/mlflow_run.json"))}))
"""


def unseen_category_row(csv_text: str, column: str, value: str) -> str:
    """The last row of `csv_text` again, with `value` in `column`, as a CSV line."""
    header, *_, last = list(csv.reader(io.StringIO(csv_text)))
    last[header.index(column)] = value
    line = io.StringIO()
    csv.writer(line, lineterminator="\n").writerow(last)
    return line.getvalue()


def param(params: dict, key: str):
    """The value at a dotted params key such as `train.model.params.C`."""
    for part in key.split("."):
        params = params[part]
    return params


def ran(output: str) -> set[str]:
    return {stage for stage in STAGES if f"Running stage '{stage}'" in output}


@pytest.mark.slow
def test_the_project_installs_exactly_the_locked_versions(first_run):
    session = first_run
    pins = {}
    for line in session.locked.splitlines():
        if line and not line.startswith("#"):
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate():
                pins[requirement.name] = str(requirement.specifier).removeprefix("==")
    versions = json.loads(session.stdout["versions"])
    for name in ("dvc", "dvc-s3", "mlflow", "scikit-learn", "pandas", "numpy", "pyarrow", "pyyaml", "pytest"):
        assert versions[name] == pins[name], name


@pytest.mark.slow
def test_repro_runs_the_five_stages_and_writes_the_metrics(first_run):
    session = first_run
    assert ran(session.outputs["repro"]) == set(STAGES)
    task = yaml.safe_load((session.project / "params.yaml").read_text())["task"]
    metrics = json.loads((session.project / "metrics/evaluate.json").read_text())
    assert set(metrics) == set(json.loads(session.stdout["metric table"]))
    quality = metrics["balanced_accuracy"] if task == "classification" else metrics["r2"]
    assert quality > 0.7, "the sample model should learn something real"
    drift = json.loads((session.project / "metrics/drift.json").read_text())
    # The sample's real current batch may warn on a feature, but has not drifted.
    assert drift["verdict"] in ("stable", "warn") and drift["recommendation"] != "retrain" and drift["features"] >= 5
    for line in ("prepare:", "validate:", "train:", "evaluate:", "drift-check:"):
        assert line in session.outputs["repro"]


@pytest.mark.slow
def test_a_second_repro_does_nothing(session):
    assert ran(session.outputs["repro again"]) == set()
    assert "Data and pipelines are up to date" in session.outputs["repro again"]


@pytest.mark.slow
def test_malformed_data_stops_with_one_line_and_loses_no_earlier_output(session):
    output = session.outputs["repro on malformed data"]
    raw = yaml.safe_load((session.project / "params.yaml").read_text())["paths"]["raw"]
    assert f"error: {raw}: malformed CSV" in output
    assert "Traceback" not in output
    assert session.kept_after_failure == ["data/prepared/test.parquet", "data/prepared/train.parquet"]
    assert ran(session.outputs["repro after fixing the data"]) == set()


@pytest.mark.slow
def test_a_contract_breaking_batch_stops_at_validate_with_its_report(session):
    output = session.outputs["repro on a contract-breaking batch"]
    column, value = UNSEEN[yaml.safe_load((session.project / "params.yaml").read_text())["task"]]
    assert "ERROR: failed to reproduce 'validate'" in output and "Running stage 'train'" not in output
    assert "Traceback" not in output and value in output  # the table names the value that broke the rule
    report = json.loads(session.files["validation report"])
    assert report["passed"] is False
    assert [(f["column"], f["rule"], f["examples"]) for f in report["failures"]] == [(column, "allowed", [value])]
    assert session.files["model before"] == session.files["model after"]
    assert ran(session.outputs["repro after fixing the batch"]) == {"validate"}


@pytest.mark.slow
def test_the_sample_model_passes_every_gate_and_becomes_the_first_champion(session):
    assert "gates: all" in session.outputs["gates"] and "FAIL" not in session.outputs["gates"]
    assert "version 1 is now the champion (was none)" in session.outputs["promote"]
    declared = yaml.safe_load((session.project / "params.yaml").read_text())["paths"]["plots"]
    task = yaml.safe_load((session.project / "params.yaml").read_text())["task"]
    assert set(declared) == {"predictions", "importance"} | (
        {"roc", "precision_recall"} if task == "classification" else {"residuals"})
    assert all((session.project / path).is_file() for path in declared.values())


@pytest.mark.slow
def test_a_tracking_server_named_by_the_environment_records_the_run_and_the_champion(session):
    found = json.loads(session.stdout["registry on the server"])
    assert found["version"] == "1" and found["run_id"] == found["run_file"]["run_id"]
    assert found["run_file"]["tracking_uri"].startswith("http://127.0.0.1:")
    assert {"git.commit", "git.dirty", "data.train.md5"} <= set(found["tags"])
    task = yaml.safe_load((session.project / "params.yaml").read_text())["task"]
    assert f"test_{QUALITY[task]}" in found["metrics"] and "latency_p95_ms" in found["metrics"]
    assert "version 1 is now the champion (was none)" in session.outputs["promote on the server"]


@pytest.mark.slow
def test_a_tracking_server_that_is_down_stops_train_at_once_unless_a_fallback_store_is_named(session):
    output = session.outputs["train with the server down"]
    assert "error: MLflow tracking server http://127.0.0.1:" in output and "unreachable" in output
    assert "Traceback" not in output
    fallback = session.outputs["train with a fallback store"]
    assert "recording in sqlite:///offline.db instead" in fallback and (session.project / "offline.db").is_file()


@pytest.mark.slow
def test_a_gate_out_of_reach_fails_the_gate_command_and_refuses_promotion(session):
    task = yaml.safe_load((session.project / "params.yaml").read_text())["task"]
    assert ran(session.outputs["repro with a gate out of reach"]) == {"evaluate"}
    output = session.outputs["gates out of reach"]
    assert f"1 gate(s) failed: minimum {QUALITY[task]}" in output and "FAIL" in output and "0.999" in output
    assert "promotion refused" in session.outputs["promote out of reach"]
    assert "Traceback" not in output + session.outputs["promote out of reach"]


@pytest.mark.slow
def test_a_drifted_batch_fails_the_drift_gate_naming_the_features_that_moved(session):
    assert re.search(r"drift gate: (stable|warn)", session.outputs["drift gate"])
    assert ran(session.outputs["repro on a drifted batch"]) == {"validate", "drift-check"}
    output = session.outputs["drift gate on a drifted batch"]
    task = yaml.safe_load((session.project / "params.yaml").read_text())["task"]
    shifted = DRIFT[task][1].split("=")[0]
    assert f"drift  {shifted}: mean +1." in output and "recommendation: retrain" in output
    assert "Traceback" not in output
    report = session.files["drift report"]
    assert report.startswith("# Drift: drift (recommendation: retrain)") and "| drift |" in report
    # The real batch back: validate checks it again; drift-check's outputs come from DVC's run cache.
    assert ran(session.outputs["repro after the drifted batch"]) == {"validate"}


@pytest.mark.slow
def test_a_train_param_change_reruns_only_what_depends_on_it(session):
    # drift-check compares the new model's predictions too.
    assert ran(session.outputs["repro after param change"]) == {"train", "evaluate", "drift-check"}
    # Back to the old value: DVC's run cache restores the old outputs instead of running the stages again.
    assert ran(session.outputs["repro restored"]) == set()


@pytest.mark.slow
def test_an_experiment_is_listed_with_its_param_and_metrics(session):
    key, value = EXPERIMENT[yaml.safe_load((session.project / "params.yaml").read_text())["task"]]
    rows = json.loads(session.stdout["exp show"])
    experiments = [rev for row in rows for exp in (row.get("experiments") or []) for rev in exp["revs"]]
    assert len(experiments) == 1
    data = experiments[0]["data"]
    assert param(data["params"]["params.yaml"]["data"], key) == float(value)
    assert set(data["metrics"]) == {"metrics/evaluate.json", "metrics/slices.json", "metrics/latency.json",
                                    "metrics/drift.json"}


@pytest.mark.slow
def test_push_fills_the_default_remote_beside_the_project(session):
    store = session.project.parent / f"{session.project.name}-dvc-store"
    pushed = [path for path in store.rglob("*") if path.is_file()]
    # The raw data, the current batch, both splits, the model and its run file, the gate report, the plot tables.
    assert len(pushed) >= 8, session.outputs["push"]


@pytest.mark.slow
def test_the_everyday_commands_work(session):
    for target in ("setup", "repro", "gates", "drift-gate", "promote", "metrics", "exp", "exps", "plots", "test",
                   "push", "pull", "remote-s3", "lock", "clean", "serve", "collect", "rollout-report", "image",
                   "simulate"):
        assert f"make {target}" in session.outputs["help"]
    assert "dvc_plots/index.html" in session.outputs["plots"]  # the file itself goes with make clean
    assert "Everything is up to date" in session.outputs["pull"]
    lock = (session.project / "requirements.lock").read_text()
    for name in ("dvc==", "mlflow==", "scikit-learn==", "pandas==", "pytest=="):
        assert name in lock, f"make lock lost {name}"
    assert session.files["virtualenv after clean"] == "False"


@pytest.mark.slow
def test_the_project_tests_pass(session):
    # pytest's summary line counts them ("209 passed, 3 warnings in 1.2s"); test names may say "failed"
    # elsewhere in the output (pytest --durations lists them).
    output = session.outputs["project tests"]
    counts = [line for line in output.splitlines() if re.search(r"\d+ passed", line)]
    assert counts and not re.search(r"failed|error", counts[-1]), output[-3000:]


@pytest.mark.slow
def test_a_failed_run_puts_back_the_last_good_outputs_and_says_so(session):
    output = session.outputs["repro with the tracking server down"]
    assert "error: MLflow tracking server http://127.0.0.1:" in output and "Traceback" not in output
    recorded = json.loads(session.files["outputs after train failed"])
    assert recorded["models/model.joblib"] and recorded["models/mlflow_run.json"], recorded
    assert "Back as dvc.lock records them (the last good run): models/model.joblib, models/mlflow_run.json" in output
    output = session.outputs["repro with a typo in evaluate.slice_column"]
    assert "key 'evaluate.slice_column': expected a feature of the test split, found 'no_such_column'" in output
    recorded = json.loads(session.files["outputs after evaluate failed"])
    assert all(recorded.values()), recorded  # metrics/*.json included, though DVC does not cache them
    assert "metrics/evaluate.json" in output.split("Back as dvc.lock records them")[1]


@pytest.mark.slow
def test_every_failure_of_validate_is_in_its_report_and_the_gates_judge_only_current_outputs(session):
    report = json.loads(session.files["validation report after a broken contract"])
    assert report["passed"] is False and report["error"].startswith("contract.yaml: not valid YAML")
    # A data file missing altogether stops DVC before any stage runs; make repro names it and the fix.
    current = yaml.safe_load((session.project / "params.yaml").read_text())["paths"]["current"]
    assert (f"Missing data: {current} (`dvc checkout {current}.dvc` or `dvc pull` brings it back)"
            in session.outputs["repro without a current batch"])
    for step, output in [("gates after a failed run", "reports/gates.json"),
                         ("drift gate after a failed run", "metrics/drift.json")]:
        assert f"error: {output}: not the output of the current inputs (" in session.outputs[step], step
    assert "Traceback" not in session.outputs["drift gate after a failed run"]
    assert ("error: params.yaml: key 'unknown_setting': expected one of the known keys"
            in session.outputs["repro with an unknown setting"])


@pytest.mark.slow
def test_own_files_among_the_plots_stay_and_a_hand_edited_gate_report_promotes_nothing(session):
    assert (session.project / "reports/plots/my-notes.txt").read_text() == "mine"
    output = session.outputs["promote a hand-edited gate report"]
    assert "error: reports/gates.json: not the output of the current inputs (reports/gates.json (modified out))" in output


@pytest.mark.slow
def test_the_readme_brings_the_real_batch_back_after_the_drift_demo(session):
    assert session.files["current batch back"] == session.files["current batch"]


@pytest.mark.slow
def test_the_summaries_fit_a_terminal(session):
    for step in ("metrics", "exps"):
        lines = session.stdout[step].splitlines()
        assert lines and max(map(len, lines)) <= 120, session.stdout[step]
    assert len(session.stdout["metrics"].splitlines()) <= 8 and "gates    all" in session.stdout["metrics"]
    key, _ = EXPERIMENT[yaml.safe_load((session.project / "params.yaml").read_text())["task"]]
    assert key in session.stdout["exps"]


@pytest.mark.slow
def test_git_status_shows_only_the_pipeline_outputs(session):
    changed = {line[3:] for line in session.outputs["status"].splitlines()}
    assert changed == EXPECTED_CHANGES


@pytest.mark.slow
def test_a_full_disk_under_the_tracking_store_is_one_line_naming_it(session):
    if "train with the disk full" not in session.outputs:
        pytest.skip(session.files["no small disk"])
    output = session.outputs["train with the disk full"]
    errors = [line for line in output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and errors[0].startswith("error: MLflow store sqlite:///"), output
    assert errors[0].endswith("/mlflow.db: the disk is full (database or disk is full); free some space, then run again")
    assert "Traceback" not in output


# The test split's features, labels and the model's predictions on them, as evaluate computes them.
@pytest.mark.slow
def test_make_serve_answers_as_evaluate_predicts_and_collect_makes_its_traffic_the_current_batch(session, tmp_path):
    project = session.project
    params = yaml.safe_load((project / "params.yaml").read_text())
    evaluated = json.loads(session.run("evaluated", str(project / ".venv/bin/python"), "-c", TEST_SPLIT))
    records, labels = evaluated["records"], evaluated["labels"]
    with serve(["make", "-C", str(project), "serve", "PORT={port}"], tmp_path / "serve", "/health", session.env) as uri:
        status, answer = post(uri, "/predict", {"records": records})
        assert status == 200 and answer["predictions"] == evaluated["predictions"], answer  # no train/serve skew
        assert ("probabilities" in answer) == (params["task"] == "classification")
        for record, label in list(enumerate(labels))[:10]:
            feedback = {"request_id": answer["request_id"], "record": record, "label": label}
            assert post(uri, "/feedback", feedback)[0] == 200
        column, value = UNSEEN[params["task"]]
        status, refused = post(uri, "/predict", {"records": [records[0], {**records[1], column: value}]})
        assert status == 422 and refused["detail"][0]["record"] == 1 and refused["detail"][0]["column"] == column
    # Stopped: the log holds every answer; collect makes them the current batch, labelled where feedback came.
    current = params["paths"]["current"]
    try:
        output = session.run("collect", "make", "collect")
        assert f"{len(records)} answered records (10 labelled)" in output, output
        assert "is now the current batch" in output and (project / f"{current}.dvc").is_file()
        # No challenger scored this traffic: the rollout report has nothing to compare, and says so.
        report = subprocess.run(["make", "rollout-report"], cwd=project, env=session.env, capture_output=True, text=True)
        assert report.returncode != 0 and "no request was scored by a challenger yet" in report.stderr, report
    finally:  # the sample's batch back, and no traffic left for later tests
        session.run("batch back", "git", "checkout", "--", f"{current}.dvc")
        session.run("batch back in the workspace", "dvc", "checkout", "--force", f"{current}.dvc")
        subprocess.run(["rm", "-rf", str(project / "data/incoming")], check=True)


@pytest.mark.slow
def test_make_serve_with_two_workers_answers_on_one_address_into_one_log(session, tmp_path):
    """serve.workers: 2 is two processes answering on one port, each with its model and log parts; collect
    takes every part as one log."""
    project = session.project
    if yaml.safe_load((project / "params.yaml").read_text())["task"] != "regression":
        pytest.skip("one sample runs two workers: the regression one")
    records = json.loads(session.run("evaluated", str(project / ".venv/bin/python"), "-c", TEST_SPLIT))["records"]
    original, log = (project / "params.yaml").read_text(), project / "data/incoming/log"
    params_edit(project, lambda params: params["serve"].update(workers=2))
    current = yaml.safe_load(original)["paths"]["current"]
    try:
        with serve(["make", "-C", str(project), "serve", "PORT={port}"], tmp_path / "serve", "/health", session.env) as uri:
            deadline, server_log = time.monotonic() + 120, tmp_path / "serve/server.log"
            while server_log.read_text().count("serve: champion now") < 2:  # each worker loaded the model
                assert time.monotonic() < deadline, server_log.read_text()
                time.sleep(0.2)
            with ThreadPoolExecutor(16) as clients:  # 16 at once, one record each: both workers take some
                answers = list(clients.map(lambda record: post(uri, "/predict", {"records": [record]}), records * 2))
        assert [status for status, _ in answers] == [200] * len(answers), answers
        assert "2 worker processes" in server_log.read_text()
        writers = {re.search(r"-pid(\d+)-", part.name)[1] for part in log.glob("*.parquet")}
        assert len(writers) == 2, sorted(log.iterdir())
        output = session.run("collect", "make", "collect")
        assert f"{len(answers)} answered records (0 labelled)" in output, output
    finally:  # the settings and the sample's batch back, and no traffic left for later tests
        (project / "params.yaml").write_text(original)
        session.run("batch back", "git", "checkout", "--", f"{current}.dvc")
        session.run("batch back in the workspace", "dvc", "checkout", "--force", f"{current}.dvc")
        subprocess.run(["rm", "-rf", str(project / "data/incoming")], check=True)


# In a project's folder: each logged row's request id and record, as JSON.
LOGGED_ROWS = """
import json, sys
import fsspec
from my_ml_project.serving.request_log import read_parts
rows, _ = read_parts(fsspec.filesystem("file"), sys.argv[1], columns=["request_id", "record"])
print(json.dumps(rows.values.tolist()))
"""


def ask_all(uri: str, records: list[dict], clients: int = 8, after=None) -> list[str | None]:
    """Each record as a one-record /predict from `clients` at once: the request ids answered (None where
    no answer came); `after(answered so far)` is called after each answer."""
    answered = []

    def ask(record: dict) -> str | None:
        try:
            status, answer = post(uri, "/predict", {"records": [record]})
        except OSError:  # the server is gone
            return None
        request_id = answer["request_id"] if status == 200 else None
        answered.append(request_id)
        if after:
            after(answered)
        return request_id

    with ThreadPoolExecutor(clients) as pool:
        return list(pool.map(ask, records))


def clean_traffic(session: Session, params_text: str) -> None:
    """The settings and the sample's batch back, and no traffic or spool left for later tests."""
    (session.project / "params.yaml").write_text(params_text)
    current = yaml.safe_load(params_text)["paths"]["current"]
    session.run("batch back", "git", "checkout", "--", f"{current}.dvc")
    session.run("batch back in the workspace", "dvc", "checkout", "--force", f"{current}.dvc")
    subprocess.run(["rm", "-rf", str(session.project / "data/incoming"), str(session.project / ".serve")], check=True)


@pytest.mark.slow
def test_a_server_killed_under_load_loses_no_answer_it_sent(session, tmp_path):
    """kill -9 of `make serve` while 8 clients ask: every answer a client received is in the request log
    once the server has started again (serving/spool.py), none twice."""
    project = session.project
    original = (project / "params.yaml").read_text()
    if yaml.safe_load(original)["task"] != "classification":
        pytest.skip("one sample kills the server: the classification one")
    records = json.loads(session.run("evaluated", str(project / ".venv/bin/python"), "-c", TEST_SPLIT))["records"]
    command = ["make", "-C", str(project), "serve", "PORT={port}"]
    try:
        server, uri = start_server(command, tmp_path / "first", "/health", session.env)

        def kill_at_150(answered: list) -> None:
            if len(answered) == 150:
                os.killpg(server.pid, signal.SIGKILL)

        # No FEEDBACK_TOKEN in this environment: the API says so, and listens on loopback only.
        assert "serve: no FEEDBACK_TOKEN set" in (tmp_path / "first/server.log").read_text()
        sent = ask_all(uri, (records * 8)[:400], after=kill_at_150)
        server.wait()
        received = [request_id for request_id in sent if request_id]
        assert 150 <= len(received) < 400, len(received)
        assert not (project / "data/incoming/log").exists()  # no part was written before the kill: 1,000 rows
        again, _ = start_server(command, tmp_path / "again", "/health", session.env)
        stop_server(again)
        restarted = (tmp_path / "again/server.log").read_text()
        assert re.search(r"request log: \d+ rows a stopped server had not written", restarted), restarted
        logged = json.loads(session.run("logged", str(project / ".venv/bin/python"), "-c", LOGGED_ROWS,
                                        str(project / "data/incoming/log")))
        assert set(received) <= {request_id for request_id, _ in logged}
        assert len(logged) == len({tuple(row) for row in logged}) <= 400  # none twice
        print(f"kill -9 after {len(received)} answers: {len(logged)} rows logged, "
              f"{len(logged) - len(received)} of them answers the killed server sent no client")
    finally:
        clean_traffic(session, original)


@pytest.mark.slow
def test_a_full_disk_under_the_request_log_costs_no_answer_and_health_says_so(session, tmp_path):
    """The spool and the log's folder on a small tmpfs, filled to the last byte while the API serves: every
    request is answered, /health reports the log failing, one line says so; once space is freed the rows
    kept meanwhile are written."""
    project = session.project
    original = (project / "params.yaml").read_text()
    if yaml.safe_load(original)["task"] != "classification":
        pytest.skip("one sample fills the log's disk: the classification one")
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(disk)], capture_output=True,
                             text=True)
    if mounted.returncode != 0:
        pytest.skip(f"a small tmpfs cannot be mounted here ({mounted.stderr.strip()}): it takes root")
    records = json.loads(session.run("evaluated", str(project / ".venv/bin/python"), "-c", TEST_SPLIT))["records"]

    def on_the_small_disk(params: dict) -> None:
        params["incoming"]["location"] = str(disk / "incoming")
        params["serve"].update(log_spool=str(disk / "spool"), log_rows=20, log_seconds=1)

    try:
        params_edit(project, on_the_small_disk)
        with serve(["make", "-C", str(project), "serve", "PORT={port}"], tmp_path / "serve", "/health", session.env) as uri:
            fill(disk)
            sent = ask_all(uri, records[:60])
            assert all(sent), sent
            health = json.loads(urllib.request.urlopen(f"{uri}/health", timeout=10).read())
            assert health["status"] == "ready" and health["log"].startswith("answers: cannot write"), health
            (disk / "filler").unlink()
            deadline = time.monotonic() + 30
            while json.loads(urllib.request.urlopen(f"{uri}/health", timeout=10).read())["log"] != "ok":
                assert time.monotonic() < deadline, "the log did not write again once the disk had room"
                time.sleep(0.5)
        output = (tmp_path / "serve/server.log").read_text()
        assert output.count("request log: cannot write") == 1 and "request log: writing again" in output, output
        logged = json.loads(session.run("logged", str(project / ".venv/bin/python"), "-c", LOGGED_ROWS,
                                        str(disk / "incoming/log")))
        assert sorted(request_id for request_id, _ in logged) == sorted(sent)
    finally:
        subprocess.run(["umount", str(disk)], check=False)
        clean_traffic(session, original)


@pytest.mark.slow
def test_the_api_image_builds_and_answers_from_a_container_as_a_user_without_privileges(session, docker, tmp_path):
    if yaml.safe_load((session.project / "params.yaml").read_text())["task"] != "classification":
        pytest.skip("one sample builds the image: the classification one")
    (engine, base), project, image = docker, session.project, "my-ml-project-api:test"
    # The engine's builds have no network of their own: they take the host's, to download the lock.
    build = ("make", "image", f"IMAGE={image}", f"DOCKER_BUILD_ARGS=--network host --build-arg BASE_IMAGE={base}")

    def make_image() -> tuple[str, float]:
        started = time.monotonic()
        built = subprocess.run(build, cwd=project, env={**session.env, **engine.env, "PATH": session.env["PATH"]},
                               capture_output=True, text=True)
        assert built.returncode == 0, built.stdout[-3000:] + built.stderr
        return built.stdout, time.monotonic() - started

    _, cold = make_image()
    module = project / "src/my_ml_project/serving/app.py"
    original = module.read_text()
    module.write_text(original + "\n# a change of code\n")
    try:
        rebuilt, warm = make_image()
    finally:
        module.write_text(original)
    dependencies = re.search(r"Step \d+/\d+ : RUN [^\n]*-r /build/requirements.lock[^\n]*\n ---> ([^\n]*)", rebuilt)
    assert dependencies and dependencies[1] == "Using cache", rebuilt  # a change of code installs nothing

    evaluated = json.loads(session.run("evaluated", str(project / ".venv/bin/python"), "-c", TEST_SPLIT))
    port = free_port()
    started = time.monotonic()
    container = engine.run("run", "--detach", "--network", "host", "--env", "HOST=127.0.0.1", "--env", f"PORT={port}",
                           image).stdout.strip()
    try:
        while True:
            try:
                status, answer = post(f"http://127.0.0.1:{port}", "/predict", {"records": evaluated["records"]})
                if status == 200:
                    break
            except OSError:  # not listening yet
                pass
            assert time.monotonic() - started < 120, engine.run("logs", container).stdout
            time.sleep(0.2)
        first_answer = time.monotonic() - started
        assert answer["predictions"] == evaluated["predictions"], answer
        assert engine.run("exec", container, "id", "-u").stdout.strip() == "10001"
        while engine.run("inspect", "--format", "{{.State.Health.Status}}", container).stdout.strip() != "healthy":
            assert time.monotonic() - started < 120, engine.run("inspect", container).stdout
            time.sleep(1)
        # Stopped as an orchestrator stops it, it writes its request log, in the one folder it may write.
        engine.run("stop", container)
        engine.run("cp", f"{container}:/home/app/data/incoming/log", str(tmp_path / "log"))
        assert list((tmp_path / "log").glob("*.parquet")), "the container logged no answer"
        size = int(engine.run("image", "inspect", "--format", "{{.Size}}", image).stdout)
        print(f"image {size / 1e6:.0f} MB on the test base; built in {cold:.0f} s, {warm:.1f} s after a change of "
              f"code; first answer {first_answer:.1f} s after docker run")
    finally:  # the image stays, for the stack's build to start from its layers
        engine.run("rm", "--force", container, check=False)


@pytest.mark.slow
def test_the_compose_stack_serves_the_champion_and_runs_the_loop_against_its_object_store(session, docker, tmp_path):
    """compose.yaml's stack (tests/stack.py), with the project pointed at it as the README says: the API's
    two replicas, behind the proxy, answer with the registry's champion, take each other's labels and log
    to the bucket, one log; the monitor makes that traffic the current batch and checks it for drift;
    retrained on its labels and promoted, the new champion is what the API, built again, serves."""
    if yaml.safe_load((session.project / "params.yaml").read_text())["task"] != "classification":
        pytest.skip("one sample runs the stack: the classification one")
    (engine, base), image, bucket = docker, "my-ml-project-api:test", "stack-data"
    # A copy of the project, on the same virtualenv: the shared one stays as the later tests expect it.
    project = tmp_path / "my-ml-project"
    shutil.copytree(session.project, project, symlinks=True, ignore=shutil.ignore_patterns(".venv"))
    (project / ".venv").symlink_to(session.project / ".venv")
    user = Session.for_project(project)
    user.env |= {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "FEEDBACK_TOKEN": "stack-token"}
    build = ("make", "image", f"IMAGE={image}", f"DOCKER_BUILD_ARGS=--network host --build-arg BASE_IMAGE={base}")
    user.env |= {key: engine.env[key] for key in ("DOCKER_HOST", "DOCKER_BUILDKIT")}
    user.run("image", *build)  # the object store's stand-in is built on it
    started = time.monotonic()
    with stack(engine, project, image, bucket, tmp_path, user.env) as running:
        running.compose("up", "--detach", "mlflow")  # and what it depends on: the object store, the bucket
        running.wait(f"{running.mlflow}/health")
        up = time.monotonic() - started
        user.run("remote", "make", "remote-s3", f"BUCKET={bucket}", f"ENDPOINT={running.s3}")

        def at_the_stack(params: dict) -> None:
            params["mlflow"]["tracking_uri"] = running.mlflow
            params["incoming"]["location"] = f"s3://{bucket}/my-ml-project/incoming"

        params_edit(project, at_the_stack)
        user.run("repro", "make", "repro")  # the run is recorded by the stack's tracking server
        user.run("push", "make", "push")
        assert "version 1 is now the champion" in user.run("promote", "make", "promote")
        user.run("image with these settings", *build)

        running.compose("up", "--detach", "proxy")  # and the API's replicas behind it
        running.wait(f"{running.api}/health")
        evaluated = json.loads(user.run("evaluated", "python", "-c", TEST_SPLIT))
        status, answer = post(running.api, "/predict", {"records": evaluated["records"]})
        assert status == 200 and answer["model_version"] == "my-ml-project/1", answer
        assert answer["predictions"] == evaluated["predictions"], answer
        assert post(running.api, "/predict", {"records": evaluated["records"][:3]})[0] == 200
        labels = [{"request_id": answer["request_id"], "record": record, "label": label}
                  for record, label in enumerate(evaluated["labels"])]
        assert post(running.api, "/feedback", labels[0])[0] == 401  # compose.yaml's API asks for the token
        for feedback in labels:
            assert post(running.api, "/feedback", feedback, token="stack-token")[0] == 200
        # The proxy's log names the replica of each request: the answers came from both, and so did the
        # labels' acceptance, for answers one of them gave.
        served = re.findall(r'"POST (/\w+) HTTP/1.1" (\d+) .* replica=(\S+)', running.compose("logs", "proxy"))
        replicas = {path: {replica for logged, status, replica in served if logged == path and status == "200"}
                    for path in ("/predict", "/feedback")}
        expected = {replica.removeprefix("http://") for replica in running.replicas}
        assert replicas == {"/predict": expected, "/feedback": expected}, served
        running.compose("stop", "api", "api-2")  # each writes its part of the log to the bucket as it stops

        # The monitor, on this checkout as its owner: the traffic becomes the current batch, checked for drift.
        current = project / yaml.safe_load((project / "params.yaml").read_text())["paths"]["current"]
        before = current.read_bytes()
        running.env["PROJECT_USER"] = f"{os.getuid()}:{os.getgid()}"
        monitored = running.compose("run", "--rm", "monitor")
        records = len(evaluated["records"]) + 3
        assert f"collect: {records} answered records ({len(labels)} labelled)" in monitored, monitored
        assert f"drift-check: {records} current rows" in monitored and "drift gate: " in monitored, monitored
        assert current.read_bytes() != before

        # Retrained on the labels that came back and promoted, the new champion ships in a new image: the
        # API loads only a model whose MD5 its own dvc.lock records.
        assert f"{len(labels)} labelled rows" in user.run("intake-labels", "make", "intake-labels")
        user.run("retrain", "make", "repro")
        assert "version 2 is now the champion (was 1)" in user.run("promote again", "make", "promote")
        user.run("image with the new champion", *build)
        running.compose("up", "--detach", "proxy")
        running.wait(f"{running.api}/health")
        status, answer = post(running.api, "/predict", {"records": evaluated["records"][:3]})
        assert status == 200 and answer["model_version"] == "my-ml-project/2", answer
    print(f"stack: object store, bucket and tracking server up in {up:.0f} s; the whole loop "
          f"{time.monotonic() - started:.0f} s")


def workspace(project: Path) -> dict[str, str]:
    """Every file of the project but its virtualenv and git's own folder, with its MD5."""
    return {str(path.relative_to(project)): hashlib.md5(path.read_bytes()).hexdigest()
            for path in project.rglob("*") if path.is_file()
            and not {".venv", ".git", "__pycache__"} & set(path.relative_to(project).parts)}


@pytest.mark.slow
def test_make_simulate_goes_round_the_loop_and_leaves_the_project_as_it_was(session):
    before = workspace(session.project)
    output = session.run("simulate", "make", "simulate")
    assert states(output) == LOOP, output
    # In the shadow, the challenger scored the window's requests beside the champion, answering none.
    shadowed = re.search(r"shadow traffic: (\d+) requests .*?, 0 failed, answered by (\S+) .*?"
                         r"rollout report: (\d+) records both scored.*rollout gate passed", output)
    assert shadowed and shadowed[1] == shadowed[3] and "," not in shadowed[2], output
    switch = re.search(r"switched from (\S+) to (\S+) under traffic: (\d+) requests .*?, (\d+) failed", output)
    assert switch and switch[1] != switch[2] and int(switch[3]) > 0 and switch[4] == "0", output
    assert workspace(session.project) == before


@pytest.mark.slow
def test_make_simulate_with_a_shift_the_gates_refuse_goes_back_to_degraded_and_keeps_the_champion(session):
    if yaml.safe_load((session.project / "params.yaml").read_text())["task"] != "classification":
        pytest.skip("one sample shows the refusal: the classification one")
    output = session.run("simulate a shift", "make", "simulate", "DRIFT=shift")
    assert states(output) == ["Healthy", "Degraded", "Retraining", "Validating", "Degraded"], output
    assert re.search(r"champion \w+ [\d.]+ [\d.]+ FAIL", output) and "stays the champion" in output, output
