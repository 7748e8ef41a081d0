"""End to end: the whole DVC pipeline on the sample data, in a copy of the project."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]
# Left out of the copy: the environment, caches and the local MLflow store.
NOT_COPIED = shutil.ignore_patterns(".venv", "mlruns", "mlflow.db", "cache", "tmp", ".pytest_cache", ".hypothesis",
                                    "__pycache__")


def dvc(*args: str, cwd: Path, env: dict) -> str:
    result = subprocess.run([sys.executable, "-m", "dvc", *args], cwd=cwd, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.mark.e2e
def test_the_pipeline_runs_and_a_second_run_does_nothing(tmp_path):
    copy = tmp_path / "project"
    shutil.copytree(PROJECT, copy, ignore=NOT_COPIED)
    env = dict(os.environ, MLFLOW_TRACKING_URI=f"sqlite:///{tmp_path / 'mlflow.db'}")
    # The stages run as `python -m ...`: this interpreter's environment must come first.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"

    dvc("repro", "--force", cwd=copy, env=env)

    metrics = json.loads((copy / "metrics/evaluate.json").read_text())
    assert metrics and all(isinstance(value, float) for value in metrics.values())
    drift = json.loads((copy / "metrics/drift.json").read_text())
    assert drift["verdict"] in ("stable", "warn") and drift["recommendation"] != "retrain", "no drift in the sample"
    assert json.loads((copy / "reports/validation.json").read_text())["passed"] is True
    assert json.loads((copy / "reports/gates.json").read_text())["passed"] is True, "the sample meets every gate"
    assert "Data and pipelines are up to date" in dvc("repro", cwd=copy, env=env)
