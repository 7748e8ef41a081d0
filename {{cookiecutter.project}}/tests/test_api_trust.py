"""The API as an attacker and a careless client would try it: who may send labels, which labels it takes,
what a request may be. A real uvicorn server on a free loopback port, spoken to over HTTP."""

import http.client
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import {{ cookiecutter.package }}
from {{ cookiecutter.package }}.serving.access import Tokens
from {{ cookiecutter.package }}.serving.request_ids import RequestIds

from api import FEEDBACK_TOKEN, GOOD, call, start_api


@pytest.fixture
def api(champion, tmp_path):
    api = start_api(champion, tmp_path, max_body_bytes=300_000, max_records=50)
    yield api
    api.stop()


def answered(api, records: int = 2) -> str:
    status, answer = call(api.url, "/predict", {"records": [GOOD] * records})
    assert status == 200, answer
    return answer["request_id"]


def refused(answer: dict, field: str) -> dict:
    """The one problem of a refusal, in the API's one error format, about `field`."""
    [problem] = answer["detail"]
    assert problem["field"] == field and problem["expected"] and "found" in problem, answer
    return problem


def test_feedback_needs_the_token_401_without_it_403_with_another(api):
    body = {"request_id": answered(api), "record": 0, "label": "big"}
    status, answer = call(api.url, "/feedback", body, token=None)
    assert status == 401 and refused(answer, "header.Authorization")["found"] == "no bearer token"
    status, answer = call(api.url, "/feedback", body, token="guessed")
    assert status == 403 and refused(answer, "header.Authorization")["found"] == "another token"
    assert call(api.url, "/feedback", body) == (200, {"recorded": True})
    assert call(api.url, "/predict", {"records": [GOOD]}, token=None)[0] == 200  # no PREDICT_TOKEN: open


def test_a_predict_token_guards_predict_too(champion, tmp_path):
    api = start_api(champion, tmp_path, tokens=Tokens(FEEDBACK_TOKEN, "predict-token"))
    try:
        assert call(api.url, "/predict", {"records": [GOOD]}, token=None)[0] == 401
        assert call(api.url, "/predict", {"records": [GOOD]}, token=FEEDBACK_TOKEN)[0] == 403
        assert call(api.url, "/predict", {"records": [GOOD]}, token="predict-token")[0] == 200
    finally:
        api.stop()


def test_feedback_takes_a_label_only_for_a_record_the_api_answered(api):
    request_id = answered(api)
    forged = request_id[:-1] + ("0" if request_id[-1] != "0" else "1")
    old = RequestIds(b"key of the tests", 3600)
    text = f"{'ab' * 8}.{int(time.time()) - 7200}.2"
    for body, field in [
        ({"request_id": "f" * 32, "record": 0, "label": "big"}, "body.request_id"),  # never answered
        ({"request_id": forged, "record": 0, "label": "big"}, "body.request_id"),  # its signature changed
        ({"request_id": f"{text}.{old.sign(text)}", "record": 0, "label": "big"}, "body.request_id"),  # 2 h ago
        ({"request_id": request_id, "record": 99, "label": "big"}, "body.record"),  # past the request's end
        ({"request_id": request_id, "record": 10**30, "label": "big"}, "body.record"),  # huge
        ({"request_id": request_id, "label": "big"}, "body.record"),  # missing, of a request of two
        ({"request_id": request_id, "record": True, "label": "big"}, "body.record"),
        ({"request_id": request_id, "record": 1, "label": "huge"}, "body.label"),  # no label the contract allows
        ({"request_id": request_id, "record": 1, "label": ["big"]}, "body.label"),
        ({"request_id": request_id, "record": 1}, "body.label"),
    ]:
        status, answer = call(api.url, "/feedback", body)
        assert status == 422, (body, answer)
        refused(answer, field)
    one = answered(api, records=1)
    assert call(api.url, "/feedback", {"request_id": one, "label": "small"})[0] == 200  # one record: it is 0
    # A second label for a record replaces the first: both are logged, `make collect` keeps the last.
    assert call(api.url, "/feedback", {"request_id": request_id, "record": 1, "label": "small"})[0] == 200
    assert call(api.url, "/feedback", {"request_id": request_id, "record": 1, "label": "big"})[0] == 200


def test_two_hundred_poisoned_labels_are_refused(api):
    statuses = set()
    for _ in range(200):
        statuses.add(call(api.url, "/feedback", {"request_id": os.urandom(16).hex(), "record": 0, "label": "big"})[0])
        statuses.add(call(api.url, "/feedback", {"request_id": answered(api, 1), "label": "enormous"})[0])
    assert statuses == {422}


@pytest.mark.parametrize(("raw", "field", "found"), [
    (b"[" * 200_000, "body", "far deeper nesting"),
    (b'{"records": [{"size": [[[1]]]}]}', "body.records[0].size", "a list"),
    (b'{"records": [{"size": NaN}]}', "body.records[0].size", "NaN"),
    (b'{"records": [{"size": -Infinity}]}', "body.records[0].size", "-Infinity"),
    (b'{"records": [{"size": 1e400}]}', "body.records[0].size", "inf"),
    (b'{"records": [{"size": 1' + b"0" * 30 + b'}]}', "body.records[0].size", "an integer of 31 digits"),
    (b'{"records": [{"size": 1' + b"0" * 5000 + b'}]}', "body", None),
    (b'{"records": [{"color": "' + b"x" * 101 + b'"}]}', "body.records[0].color", "101 characters"),
    (b'{"records": [{"' + b"x" * 101 + b'": 1}]}', "body.records[0]", "a name of 101 characters"),
    (b'\xff\xfe', "body", None),
])
def test_a_body_no_request_needs_is_422_naming_the_field(api, raw, field, found):
    status, answer = call(api.url, "/predict", raw=raw)
    assert status == 422, answer
    problem = refused(answer, field)
    assert found is None or problem["found"] == found, problem


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_a_body_not_sent_as_json_is_415(api, content_type):
    connection = http.client.HTTPConnection("127.0.0.1", int(api.url.rsplit(":", 1)[1]), timeout=10)
    connection.request("POST", "/predict", json.dumps({"records": [GOOD]}),
                       {"Content-Type": content_type} if content_type else {})  # None: no Content-Type at all
    answer = connection.getresponse()
    assert answer.status == 415 and refused(json.loads(answer.read()), "header.Content-Type")["found"] == content_type
    assert call(api.url, "/predict", {"records": [GOOD]}, content_type="application/json; charset=utf-8")[0] == 200


def test_an_unknown_path_or_method_is_answered_in_the_one_error_format(api):
    assert refused(call(api.url, "/nowhere", {"records": [GOOD]})[1], "path")["found"] == "POST /nowhere"
    status, answer = call(api.url, "/predict")
    assert status == 405 and refused(answer, "path")["found"] == "GET /predict"


def test_per_client_limits_are_429(champion, tmp_path):
    api = start_api(champion, tmp_path, client_requests_per_second=2, max_records=3, max_body_bytes=100_000)
    try:
        status, answer = call(api.url, "/predict", {"records": [GOOD] * 4})
        assert status == 429 and refused(answer, "body.records")["found"] == "4 records"
        statuses = [call(api.url, "/predict", {"records": [GOOD]})[0] for _ in range(6)]
        assert statuses.count(429) >= 3 and statuses[0] == 200, statuses  # a burst of two a second at most
        time.sleep(1.1)
        assert call(api.url, "/predict", {"records": [GOOD]})[0] == 200  # the bucket refilled
    finally:
        api.stop()


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=150),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                    max_leaves=20)
VALUE = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20) | JSON
RECORD = st.fixed_dictionaries({}, optional={"size": VALUE, "weight": VALUE, "color": VALUE | st.sampled_from(
    ["red", "blue"]), "label": VALUE, "note": VALUE})
BODIES = st.one_of(
    JSON,
    st.fixed_dictionaries({"records": st.lists(RECORD, max_size=5) | JSON}, optional={"key": VALUE}),
    st.fixed_dictionaries({}, optional={"request_id": st.text(max_size=60) | JSON, "record": VALUE,
                                        "label": VALUE | st.sampled_from(["big", "small"])}),
)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(body=BODIES, path=st.sampled_from(["/predict", "/feedback"]))
def test_no_body_of_any_shape_gets_a_5xx(api, body, path):
    raw = json.dumps(body, allow_nan=True).encode()
    status, answer = call(api.url, path, raw=raw)
    assert status == 200 or 400 <= status < 500, (status, answer, raw[:300])
    if status != 200:
        assert isinstance(answer["detail"], list) and answer["detail"], answer
        assert all({"expected", "found"} <= set(problem) for problem in answer["detail"]), answer


def test_without_a_feedback_token_the_api_refuses_to_listen_beyond_loopback(tmp_path):
    """Checked before anything loads: one line naming FEEDBACK_TOKEN and HOST, a non-zero exit."""
    env = {key: value for key, value in os.environ.items() if key not in ("FEEDBACK_TOKEN", "PREDICT_TOKEN")}
    source = str(Path({{ cookiecutter.package }}.__file__).parents[1])
    done = subprocess.run([sys.executable, "-m", "{{ cookiecutter.package }}.commands.serve"], cwd=tmp_path,
                          env=env | {"HOST": "0.0.0.0", "PYTHONPATH": source}, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and done.stderr.count("error:") == 1, done.stderr
    assert "FEEDBACK_TOKEN" in done.stderr and "HOST=0.0.0.0" in done.stderr
