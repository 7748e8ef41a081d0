"""Tiny in-memory data shared by the unit tests, a model fitted on it, and the project's settings made to fit it."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from {{ cookiecutter.package }}.config import Model, Preprocessing
from {{ cookiecutter.package }}.model.pipeline import build_pipeline
from {{ cookiecutter.package }}.serving.model import Watched


@pytest.fixture
def frame() -> pd.DataFrame:
    """60 rows: two numeric features, one categorical, a binary label they predict, a few gaps."""
    rng = np.random.default_rng(0)
    size = rng.normal(10, 2, 60)
    color = rng.choice(["red", "blue"], 60)
    label = np.where(size + (color == "red") * 2 > 11, "big", "small")
    weight = size * 3 + rng.normal(0, 1, 60)
    weight[[3, 17]] = np.nan
    return pd.DataFrame({"size": size, "weight": weight, "color": color, "label": label})


@pytest.fixture
def fitted(frame):
    """A pipeline fitted on `frame` to predict `label`, and the features it was fitted on."""
    features = frame.drop(columns="label")
    model = build_pipeline(features, Model(estimator="sklearn.linear_model.LogisticRegression", params={}),
                           Preprocessing(numeric_imputer="median", scale_numeric=True, categorical_encoder="onehot"), 0)
    return model.fit(features, frame["label"]), features


@pytest.fixture
def frame_params(tmp_path, monkeypatch) -> dict:
    """The project's params.yaml, set for `frame` (a classification of `label`), written in a temporary
    folder that becomes the working directory; returned as a dict to change and write again."""
    params = yaml.safe_load((Path(__file__).resolve().parents[1] / "params.yaml").read_text())
    params.update(task="classification", target="label")
    params["evaluate"].update(slice_column=None, slice_metric="accuracy")
    params["gates"] = {"minimum": {}, "maximum": {}, "max_latency_p95_ms": None, "max_slice_gap": None,
                       "champion": {"base": "main", "metric": "balanced_accuracy", "tolerance": 0.02}}
    monkeypatch.chdir(tmp_path)
    Path("params.yaml").write_text(yaml.safe_dump(params))
    return params


@pytest.fixture
def champion(fitted) -> Watched:
    """`fitted` as the champion; `champion.wanted["md5"]` and `champion.models` say what it should serve."""
    from api import served  # the API's test helpers: imported by the tests that serve only

    models = {"0123456789ab" * 2: fitted[0]}
    wanted = {"md5": "0123456789ab" * 2}
    champion = Watched(lambda: wanted["md5"], lambda: served(models[wanted["md5"]], wanted["md5"]), 0.05)
    champion.wanted, champion.models = wanted, models
    return champion
