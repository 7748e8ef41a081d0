"""The prediction API as a client sees it: a real uvicorn server on a free loopback port, spoken to over HTTP."""

import json
import socket
import threading
import time
import urllib.error
import urllib.request

import pytest
import uvicorn

from {{ cookiecutter.package }}.config import Model, Preprocessing
from {{ cookiecutter.package }}.data.contract import load_contract
from {{ cookiecutter.package }}.model.pipeline import build_pipeline
from {{ cookiecutter.package }}.serving.app import create_app
from {{ cookiecutter.package }}.serving.model import Served

CONTRACT = """
dataset: {target: label}
columns:
  size: {type: float, min: 0, max: 30}
  weight: {type: float, max_missing: 0.1}
  color: {type: category, allowed: [red, blue]}
  label: {type: category, allowed: [big, small]}
"""
GOOD = {"size": 12.5, "weight": 37.0, "color": "red"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def fitted(frame):
    features = frame.drop(columns="label")
    model = build_pipeline(features, Model(estimator="sklearn.linear_model.LogisticRegression", params={}),
                           Preprocessing(numeric_imputer="median", scale_numeric=True, categorical_encoder="onehot"), 0)
    return model.fit(features, frame["label"]), features


@pytest.fixture
def api(fitted, tmp_path):
    """The API on 127.0.0.1, serving `fitted`; its base URL."""
    (tmp_path / "contract.yaml").write_text(CONTRACT)
    served = Served(fitted[0], "md5:0123456789ab", "0123456789ab" * 2, "run", "commit", {"train": "md5"})
    app = create_app(lambda: served, load_contract(tmp_path / "contract.yaml"), max_body_bytes=2000)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.config.port}"
    deadline = time.monotonic() + 30
    while call(url, "/health")[0] != 200:
        assert time.monotonic() < deadline, "the API did not become ready"
        time.sleep(0.05)
    yield url
    server.should_exit = True
    thread.join(10)


def call(url: str, path: str, body=None, raw: bytes | None = None) -> tuple[int, dict]:
    data = raw if raw is not None else None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url + path, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")
    except OSError:
        return 0, {}


def test_predict_answers_what_the_model_predicts_with_each_class_probability(api, fitted):
    model, features = fitted
    rows = features.head(5).to_dict(orient="records")
    status, answer = call(api, "/predict", {"records": [{k: (None if v != v else v) for k, v in row.items()}
                                                        for row in rows]})
    assert status == 200, answer
    assert answer["predictions"] == model.predict(features.head(5)).tolist()
    expected = model.predict_proba(features.head(5))
    for given, row in zip(answer["probabilities"], expected):
        assert [given[label] for label in ("big", "small")] == pytest.approx(row.tolist())
    assert answer["model_version"] == "md5:0123456789ab" and len(answer["request_id"]) == 32


def test_health_and_version_name_the_model_and_what_it_was_made_from(api):
    assert call(api, "/health") == (200, {"status": "ready", "model_version": "md5:0123456789ab"})
    status, version = call(api, "/version")
    assert status == 200 and version["mlflow_run_id"] == "run" and version["git_commit"] == "commit"
    assert version["trained_on"] == {"train": "md5"}


@pytest.mark.parametrize(
    ("records", "column", "found"),
    [
        ([GOOD, {**GOOD, "color": "green"}], "color", "green"),  # a category the contract does not allow
        ([{**GOOD, "size": "big"}], "size", "big"),  # a wrong type
        ([GOOD, GOOD, {**GOOD, "size": 99.0}], "size", 99.0),  # outside the contract's range
        ([GOOD, {"weight": 30.0, "color": "red"}], "size", None),  # a missing value
    ],
)
def test_a_record_that_breaks_the_contract_is_refused_naming_the_record_and_the_column(api, records, column, found):
    status, answer = call(api, "/predict", {"records": records})
    assert status == 422, answer
    [problem] = answer["detail"]
    assert problem["record"] == len(records) - 1 and problem["column"] == column and problem["found"] == found
    assert problem["expected"]
    assert call(api, "/health")[0] == 200  # still up


@pytest.mark.parametrize(
    ("raw", "field"),
    [(b"{not json", "body"), (b"[1, 2]", "body"), (b'{"records": []}', "body.records"),
     (b'{"records": [1]}', "body.records"), (b'{"rows": [{}]}', "body.records")],
)
def test_a_body_that_is_no_request_is_refused_saying_what_a_request_is(api, raw, field):
    status, answer = call(api, "/predict", raw=raw)
    assert status == 422 and answer["detail"][0]["field"] == field and answer["detail"][0]["expected"], answer


def test_a_body_over_the_limit_is_refused_with_413(api):
    status, answer = call(api, "/predict", {"records": [GOOD] * 100})
    assert status == 413 and answer["detail"][0]["expected"] == "at most 2000 bytes"
    assert call(api, "/predict", {"records": [GOOD]})[0] == 200
