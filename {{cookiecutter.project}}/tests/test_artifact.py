"""A model file is unpickled only when git recorded it: a replaced file runs none of its code."""

import os
import pickle
import subprocess

import pytest
from sklearn.dummy import DummyClassifier

from {{ cookiecutter.package }}.errors import UserError
from {{ cookiecutter.package }}.model.artifact import load_model, load_recorded_bytes, save_model


class Payload:
    """What an attacker would put in a model file: unpickling it writes a marker file."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.fixture
def project(tmp_path, monkeypatch, frame):
    """A git repository with a model file and the dvc.lock that records it."""
    monkeypatch.chdir(tmp_path)
    subprocess.run(["git", "init", "--quiet"], check=True)
    model = DummyClassifier().fit(frame[["size"]], frame["label"])
    md5 = save_model(model, "models/model.joblib")
    (tmp_path / "dvc.lock").write_text(f"schema: '2.0'\nstages:\n  train:\n    outs:\n"
                                       f"    - path: models/model.joblib\n      md5: {md5}\n")
    return tmp_path


def test_the_recorded_model_loads(project):
    assert load_model("models/model.joblib").predict([[1.0]]).shape == (1,)


def test_a_replaced_model_file_is_refused_before_any_of_it_runs(project):
    marker = project / "marker"
    (project / "models/model.joblib").write_bytes(pickle.dumps(Payload(marker)))
    with pytest.raises(UserError, match=r"^models/model.joblib: MD5 \w+ is not the \w+ dvc.lock records"):
        load_model("models/model.joblib")
    assert not marker.exists()


def test_a_model_dvc_lock_does_not_record_is_refused(project):
    (project / "dvc.lock").write_text("schema: '2.0'\nstages: {}\n")
    with pytest.raises(UserError, match="is not recorded in dvc.lock"):
        load_model("models/model.joblib")


def test_registry_bytes_load_only_when_they_match_their_md5_and_git_recorded_it(project):
    import hashlib

    marker = project / "marker"
    good = (project / "models/model.joblib").read_bytes()
    md5 = hashlib.md5(good).hexdigest()
    assert load_recorded_bytes(good, md5, "champion version 1").predict([[1.0]]).shape == (1,)
    evil = pickle.dumps(Payload(marker))
    with pytest.raises(UserError, match="champion version 1: the model file's MD5 is not the"):
        load_recorded_bytes(evil, md5, "champion version 1")
    with pytest.raises(UserError, match="is in no dvc.lock of this repository"):
        load_recorded_bytes(evil, hashlib.md5(evil).hexdigest(), "champion version 1")
    assert not marker.exists()
