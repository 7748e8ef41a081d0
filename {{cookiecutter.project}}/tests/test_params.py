from pathlib import Path

import pytest
import yaml

from {{ cookiecutter.package }}.config import load_params
from {{ cookiecutter.package }}.errors import UserError

PROJECT_PARAMS = Path(__file__).resolve().parents[1] / "params.yaml"


def write_params(tmp_path: Path, change) -> Path:
    data = yaml.safe_load(PROJECT_PARAMS.read_text())
    change(data)
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_the_project_params_load():
    params = load_params(PROJECT_PARAMS)
    assert 0 < params.prepare.test_size < 1
    assert params.task in ("classification", "regression")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["prepare"].update(test_size=1.5), "key 'prepare.test_size': expected a number between 0 and 1, found 1.5"),
        (lambda d: d["prepare"].update(test_size="big"), "key 'prepare.test_size': expected a number, found 'big'"),
        (lambda d: d.update(task="clustering"), "key 'task': expected one of classification, regression, found 'clustering'"),
        (lambda d: d["train"].update(modle=1), "key 'train.modle': expected one of the known keys"),
        (lambda d: d.update(seeds=[1, 2]), "key 'seeds': expected one of the known keys (compute, drift, evaluate, experiments, gates"),
        (lambda d: d["drift"].update(overrides={"x": {"psi_warn": 0.5}}),
         "key 'drift.overrides.x.psi_warn': expected at most the feature's psi_drift (0.2), found 0.5"),
        (lambda d: d["mlflow"].update(tracking_uri="https://me:secret@mlflow.internal"),
         "key 'mlflow.tracking_uri': expected a URI without a user name or password"),
        (lambda d: d["drift"].pop("bins"), "key 'drift.bins': expected a value, found nothing"),
        (lambda d: d.update(seed=True), "key 'seed': expected an integer, found True"),
        (lambda d: d.update(seed=-1), "key 'seed': expected a whole number from 0 to 4294967295, found -1"),
        (lambda d: d["drift"].update(psi_drift=float("nan")), "key 'drift.psi_drift': expected a finite number, found nan"),
        (lambda d: d["gates"]["minimum"].update(accuracy=float("inf")), "expected a finite number, found inf"),
        (lambda d: d["drift"].update(psi_warn=0.5, psi_drift=0.2), "key 'drift.psi_warn': expected at most drift.psi_drift"),
        (lambda d: d["gates"]["minimum"].update(acuracy=0.9), "key 'gates.minimum.acuracy': expected a"),
        (lambda d: d["gates"]["maximum"].update({d["gates"]["champion"]["metric"]: "low"}), "expected a number, found 'low'"),
        (lambda d: d["gates"]["champion"].update(tolerance=-1), "key 'gates.champion.tolerance': expected a number of at least 0"),
        (lambda d: d["train"]["search"].update(kind="bayes"), "key 'train.search.kind': expected one of none, grid, random"),
        (lambda d: d["train"]["search"].update(grid={"C": 1}), "expected a list, found 1"),
    ],
)
def test_a_bad_value_names_the_file_and_the_key(tmp_path, change, message):
    path = write_params(tmp_path, change)
    with pytest.raises(UserError) as error:
        load_params(path)
    assert str(error.value).startswith(f"{path}: ")
    assert message in str(error.value)


def test_optional_settings_may_be_null(tmp_path):
    def change(data):
        data["evaluate"]["slice_column"] = None
        data["gates"].update(max_latency_p95_ms=None, max_slice_gap=None)

    params = load_params(write_params(tmp_path, change))
    assert params.evaluate.slice_column is None and params.gates.max_slice_gap is None


def test_a_missing_or_broken_file_is_named(tmp_path):
    with pytest.raises(UserError, match="params.yaml: file not found"):
        load_params(tmp_path / "params.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("seed: [1\n")
    with pytest.raises(UserError, match="broken.yaml: not valid YAML"):
        load_params(broken)
