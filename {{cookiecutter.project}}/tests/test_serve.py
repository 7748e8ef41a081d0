"""The prediction API as a client sees it: a real uvicorn server on a free loopback port, spoken to over HTTP."""

import threading
import time

import fsspec
import pytest
from sklearn.dummy import DummyClassifier

from {{ cookiecutter.package }}.serving.request_log import read_parts

from api import GOOD, call, start_api


@pytest.fixture
def api(champion, tmp_path):
    """The API on 127.0.0.1, serving `champion`, logging under tmp_path/incoming (a part per 4 rows)."""
    api = start_api(champion, tmp_path)
    yield api
    api.stop()


def test_predict_answers_what_the_model_predicts_with_each_class_probability(api, fitted):
    model, features = fitted
    rows = features.head(5).to_dict(orient="records")
    status, answer = call(api.url, "/predict", {"records": [{k: (None if v != v else v) for k, v in row.items()}
                                                        for row in rows]})
    assert status == 200, answer
    assert answer["predictions"] == model.predict(features.head(5)).tolist()
    expected = model.predict_proba(features.head(5))
    for given, row in zip(answer["probabilities"], expected):
        assert [given[label] for label in ("big", "small")] == pytest.approx(row.tolist())
    assert answer["model_version"] == "md5:0123456789ab" and answer["request_id"].count(".") == 3


def test_health_and_version_name_the_model_and_what_it_was_made_from(api):
    assert call(api.url, "/health") == (200, {"status": "ready", "model_version": "md5:0123456789ab", "log": "ok"})
    status, version = call(api.url, "/version")
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
    status, answer = call(api.url, "/predict", {"records": records})
    assert status == 422, answer
    [problem] = answer["detail"]
    assert problem["record"] == len(records) - 1 and problem["column"] == column and problem["found"] == found
    assert problem["expected"]
    assert call(api.url, "/health")[0] == 200  # still up


@pytest.mark.parametrize(
    ("raw", "field"),
    [(b"{not json", "body"), (b"[1, 2]", "body"), (b'{"records": []}', "body.records"),
     (b'{"records": [1]}', "body.records"), (b'{"rows": [{}]}', "body.records")],
)
def test_a_body_that_is_no_request_is_refused_saying_what_a_request_is(api, raw, field):
    status, answer = call(api.url, "/predict", raw=raw)
    assert status == 422 and answer["detail"][0]["field"] == field and answer["detail"][0]["expected"], answer


def test_a_body_over_the_limit_is_refused_with_413(api):
    status, answer = call(api.url, "/predict", {"records": [GOOD] * 100})
    assert status == 413 and answer["detail"][0]["expected"] == "at most 2000 bytes"
    assert call(api.url, "/predict", {"records": [GOOD]})[0] == 200


def test_every_answer_and_each_label_is_logged_in_parts_and_nothing_is_lost_at_shutdown(api, tmp_path):
    answered = [call(api.url, "/predict", {"records": [{**GOOD, "size": float(size)}, {**GOOD, "note": "dropped"}]})
                for size in range(3)]
    assert all(status == 200 for status, _ in answered)
    first = answered[0][1]["request_id"]
    assert call(api.url, "/feedback", {"request_id": first, "record": 1, "label": "big"})[0] == 200
    status, refused = call(api.url, "/feedback", {"request_id": first, "record": 0, "label": "huge"})
    assert status == 422 and refused["detail"][0]["field"] == "body.label" and refused["detail"][0]["found"] == "huge"
    assert call(api.url, "/feedback", {"request_id": "nope", "label": "big"})[0] == 422
    fs = fsspec.filesystem("file")
    deadline = time.monotonic() + 10  # 6 rows: one part of 4 written as soon as it filled
    while not fs.isdir(str(tmp_path / "incoming/log")):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    api.stop()  # what was buffered is written
    log, _ = read_parts(fs, str(tmp_path / "incoming/log"))
    assert len(fs.ls(str(tmp_path / "incoming/log"))) == 2 and len(log) == 6  # a part of 4 rows, then of 2
    assert list(log["request_id"]) == [answer["request_id"] for _, answer in answered for _ in (0, 1)]
    assert list(log["record"]) == [0, 1] * 3 and "note" not in log.columns
    assert list(log["size"][::2]) == [0.0, 1.0, 2.0] and set(log["model_version"]) == {"md5:0123456789ab"}
    assert list(log["prediction"]) == [p for _, answer in answered for p in answer["predictions"]]
    feedback, _ = read_parts(fs, str(tmp_path / "incoming/feedback"))
    assert feedback[["request_id", "record", "label"]].values.tolist() == [[first, 1, "big"]]


def test_a_new_champion_is_served_without_one_failed_request(api, champion, frame):
    """Eight clients ask without pause while the champion changes; every answer is a 200, from one model
    or the other, and the new one answers from the switch on."""
    features = frame.drop(columns="label")
    flipped = DummyClassifier(strategy="constant", constant="small").fit(features, frame["label"])
    champion.models["fedcba987654" * 2] = flipped
    answers, stop = [], threading.Event()

    def client() -> None:
        while not stop.is_set():
            started = time.monotonic()
            answers.append((started, *call(api.url, "/predict", {"records": [GOOD]})))

    clients = [threading.Thread(target=client) for _ in range(8)]
    for thread in clients:
        thread.start()
    time.sleep(1)
    champion.wanted["md5"] = "fedcba987654" * 2
    deadline = time.monotonic() + 20
    while champion.current.md5 != "fedcba987654" * 2:
        assert time.monotonic() < deadline, "the new champion was not loaded"
        time.sleep(0.01)
    switched = time.monotonic()
    while sum(started > switched for started, _, _ in answers) < 16:  # requests sent after the switch
        assert time.monotonic() < deadline, "no answers after the switch"
        time.sleep(0.05)
    stop.set()
    for thread in clients:
        thread.join()
    assert all(status == 200 for _, status, _ in answers), [a for a in answers if a[1] != 200][:3]
    # A request is answered by the model being served when its turn comes: before the switch, the old one.
    assert {answer["model_version"] for _, _, answer in answers} == {"md5:0123456789ab", "md5:fedcba987654"}
    after = [answer for started, _, answer in answers if started > switched]
    assert {answer["model_version"] for answer in after} == {"md5:fedcba987654"}
    assert all(answer["predictions"] == ["small"] for answer in after)


def test_a_look_that_fails_as_the_model_file_is_replaced_keeps_the_old_model_and_the_next_one_loads(champion,
                                                                                                      frame):
    """A load failing as `dvc checkout` replaces the file (FileNotFoundError, not a UserError) leaves the old
    model serving, said once; the next look loads the new one. It used to end the watcher: no switch, ever."""
    features = frame.drop(columns="label")
    champion.models["fedcba987654" * 2] = DummyClassifier(strategy="constant", constant="small").fit(
        features, frame["label"])
    load, looks = champion.load, []

    def load_while_replaced():
        looks.append(champion.wanted["md5"])
        if looks.count("fedcba987654" * 2) == 1:
            raise FileNotFoundError("models/model.joblib")
        return load()

    champion.load = load_while_replaced
    watcher = threading.Thread(target=champion.watch, daemon=True)
    watcher.start()
    try:
        deadline = time.monotonic() + 20
        while champion.current is None:
            assert time.monotonic() < deadline, "the first champion was not loaded"
            time.sleep(0.01)
        champion.wanted["md5"] = "fedcba987654" * 2
        while champion.current.md5 != "fedcba987654" * 2:
            assert watcher.is_alive() and time.monotonic() < deadline, "the new champion was not loaded"
            time.sleep(0.01)
        assert looks.count("fedcba987654" * 2) == 2 and champion.error is None
    finally:
        champion.stop.set()


def test_requests_answered_together_each_get_their_own_answer_or_refusal(api, fitted):
    """Good and bad requests at once: the batch they share is answered request by request."""
    model, features = fitted
    rows = [{key: (None if value != value else value) for key, value in row.items()}
            for row in features.head(24).to_dict(orient="records")]
    bodies = [{"records": [row]} for row in rows] + [{"records": [{**GOOD, "color": "green"}]}]
    answers = [None] * len(bodies)

    def client(index: int) -> None:
        answers[index] = call(api.url, "/predict", bodies[index])

    threads = [threading.Thread(target=client, args=(index,)) for index in range(len(bodies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [status for status, _ in answers] == [200] * 24 + [422]
    assert [answer["predictions"][0] for _, answer in answers[:24]] == model.predict(features.head(24)).tolist()
    assert answers[-1][1]["detail"][0]["column"] == "color"
