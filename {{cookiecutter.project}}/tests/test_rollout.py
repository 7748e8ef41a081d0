"""A challenger beside the champion: canary routing, a shadow that never reaches the answer, and the
rollout report's numbers against a log built by hand."""

import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import fsspec
import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.dummy import DummyClassifier

from {{ cookiecutter.package }}.commands.promote import require_rollout
from {{ cookiecutter.package }}.commands.rollout_report import main as rollout_report_main
from {{ cookiecutter.package }}.config import load_params
from {{ cookiecutter.package }}.errors import UserError
from {{ cookiecutter.package }}.monitoring.rollout import rollout_report
from {{ cookiecutter.package }}.monitoring.statistics import EPSILON
from {{ cookiecutter.package }}.records import write_json
from {{ cookiecutter.package }}.serving.model import Watched
from {{ cookiecutter.package }}.serving.request_log import PartWriter, read_parts
from {{ cookiecutter.package }}.serving.rollout import Challenger, answered_by_challenger

from api import GOOD, call, served, start_api

CHAMPION, CHALLENGER = "0123456789ab" * 2, "fedcba987654" * 2


def test_the_canary_is_chosen_by_key_the_same_way_every_time_and_near_its_share():
    keys = [f"caller-{number}" for number in range(20_000)]
    chosen = [answered_by_challenger(key, 0.1) for key in keys]
    assert chosen == [answered_by_challenger(key, 0.1) for key in keys]
    assert 0.09 < np.mean(chosen) < 0.11
    # A larger share keeps every key it had: a caller moved to the challenger stays there as the share grows.
    assert all(answered_by_challenger(key, 0.3) for key, was in zip(keys, chosen) if was)
    assert not any(answered_by_challenger(key, 0.0) for key in keys)
    assert all(answered_by_challenger(key, 1.0) for key in keys)


class Failing:
    """A challenger that raises on every call."""

    def predict(self, features):
        raise RuntimeError("this challenger is broken")


class Sleeping:
    """A challenger that takes `seconds` over every prediction, and says when the first one ends."""

    def __init__(self, model, seconds: float):
        self.model, self.seconds, self.first_done = model, seconds, threading.Event()

    def predict(self, features):
        time.sleep(self.seconds)
        self.first_done.set()
        return self.model.predict(features)


@pytest.fixture
def serve_beside(fitted, tmp_path):
    """Starts the API with `fitted` as the champion beside a challenger model; stops it at the end."""
    started = []

    def start(model, share: float = 0.0, timeout: float = 0.5):
        champion = Watched(lambda: CHAMPION, lambda: served(fitted[0], CHAMPION), 0.05)
        challenger = Challenger(Watched(lambda: CHALLENGER, lambda: served(model, CHALLENGER), 0.05,
                                        role="challenger"), share, timeout)
        api = start_api(champion, tmp_path, challenger)
        deadline = time.monotonic() + 10
        while challenger.watched.current is None:
            assert time.monotonic() < deadline, "the challenger was not loaded"
            time.sleep(0.01)
        started.append(api)
        return api, challenger

    yield start
    for api in started:
        api.stop()


def logged(tmp_path):
    return read_parts(fsspec.filesystem("file"), str(tmp_path / "incoming/log"))[0]


def test_a_challenger_that_fails_every_call_changes_no_answer(serve_beside, fitted, tmp_path):
    api, _ = serve_beside(Failing())
    model, features = fitted
    rows = [{key: (None if value != value else value) for key, value in row.items()}
            for row in features.head(10).to_dict(orient="records")]
    answers = [call(api.url, "/predict", {"records": [row]}) for row in rows]
    assert [status for status, _ in answers] == [200] * 10
    assert [answer["predictions"][0] for _, answer in answers] == model.predict(features.head(10)).tolist()
    assert {answer["model_version"] for _, answer in answers} == {"md5:0123456789ab"}
    api.stop()
    log = logged(tmp_path)
    assert len(log) == 10 and set(log["answered_by"]) == {"champion"}
    assert set(log["shadow_version"]) == {"md5:fedcba987654"} and log["shadow_prediction"].isna().all()
    assert set(log["shadow_error"]) == {"RuntimeError: this challenger is broken"}


def test_a_slow_challenger_holds_up_no_answer_and_falls_behind_without_piling_up(serve_beside, fitted, tmp_path):
    model, features = fitted
    sleeping = Sleeping(model, seconds=2.0)
    api, _ = serve_beside(sleeping, timeout=0.5)
    answers = [call(api.url, "/predict", {"records": [GOOD]}) for _ in range(10)]
    # Every answer came while the shadow was still busy with the first request.
    assert not sleeping.first_done.is_set()
    assert [status for status, _ in answers] == [200] * 10
    assert all(answer["predictions"] == model.predict(pd.DataFrame([GOOD])).tolist() for _, answer in answers)
    api.stop()  # the shadow finishes what it started; what waited too long is logged as skipped
    log = logged(tmp_path)
    assert len(log) == 10 and log["shadow_prediction"].notna().sum() >= 1
    assert (log["shadow_error"] == "skipped: not started in time").sum() >= 8
    assert log["latency_ms"].notna().all()


def test_a_canary_answers_its_keys_every_time_and_the_champion_scores_them_in_the_shadow(serve_beside, frame,
                                                                                        tmp_path):
    constant = DummyClassifier(strategy="constant", constant="small").fit(frame.drop(columns="label"),
                                                                          frame["label"])
    api, challenger = serve_beside(constant, share=0.5)
    keys = [f"caller-{number}" for number in range(20)]
    versions = {key: {call(api.url, "/predict", {"key": key, "records": [GOOD]})[1]["model_version"]
                      for _ in range(3)} for key in keys}
    assert all(len(seen) == 1 for seen in versions.values())  # one model per caller
    canary = {key for key, seen in versions.items() if seen == {"md5:fedcba987654"}}
    assert canary == {key for key in keys if answered_by_challenger(key, 0.5)} and 0 < len(canary) < 20
    status, refused = call(api.url, "/predict", {"key": 7, "records": [GOOD]})
    assert status == 422 and refused["detail"][0]["field"] == "body.key"
    challenger.share = 0.0  # what a running server does when params.yaml says 0
    assert {call(api.url, "/predict", {"key": key, "records": [GOOD]})[1]["model_version"] for key in canary} \
        == {"md5:0123456789ab"}
    api.stop()
    log = logged(tmp_path)
    by_canary = log[log["answered_by"] == "challenger"]
    assert len(by_canary) == 3 * len(canary) and set(by_canary["prediction"]) == {"small"}
    assert set(by_canary["shadow_version"]) == {"md5:0123456789ab"} and by_canary["shadow_prediction"].notna().all()


def test_a_canary_that_fails_fails_only_its_own_requests_and_a_share_of_0_ends_it(serve_beside):
    api, challenger = serve_beside(Failing(), share=1.0)
    status, answer = call(api.url, "/predict", {"key": "caller", "records": [GOOD]})
    assert status == 500 and answer["detail"][0]["model_version"] == "md5:fedcba987654", answer
    assert "this challenger is broken" in answer["detail"][0]["error"]
    assert call(api.url, "/health")[0] == 200
    challenger.share = 0.0
    assert call(api.url, "/predict", {"key": "caller", "records": [GOOD]})[0] == 200


def write_log(rows: list[dict], feedback: list[dict]) -> None:
    for folder, part in (("incoming/log", rows), ("incoming/feedback", feedback)):
        writer = PartWriter(fsspec.filesystem("file"), str(Path(folder).resolve()), 1000, 3600, f"{folder}.spool", 1)
        writer.append(part)
        writer.close()


def row(number: int, champion, challenger, answered_by="champion", latency=10.0, shadow_ms=4.0, error=None,
        pair=("md5:aaa", "md5:bbb")) -> dict:
    """A log row as the API writes it with a challenger: `champion` and `challenger` are the two predictions."""
    answering, shadowing = (champion, challenger) if answered_by == "champion" else (challenger, champion)
    versions = pair if answered_by == "champion" else pair[::-1]
    return {"request_id": f"{number:032x}", "record": 0, "time": datetime.now(UTC) + timedelta(seconds=number),
            "model_version": versions[0], "model_md5": versions[0][4:] * 8, "size": 1.0, "prediction": answering,
            "latency_ms": latency, "answered_by": answered_by, "shadow_version": versions[1],
            "shadow_md5": versions[1][4:] * 8,
            "shadow_prediction": None if error else shadowing, "shadow_ms": None if error else shadow_ms,
            "shadow_error": error}


def psi_by_hand(reference: list[float], current: list[float]) -> float:
    ref, cur = np.array(reference) + EPSILON, np.array(current) + EPSILON
    return float(np.sum((cur - ref) * np.log(cur / ref)))


def test_the_rollout_report_counts_what_a_log_built_by_hand_holds(frame_params, capsys):
    frame_params["incoming"] = {"location": "incoming", "window": 2}
    frame_params["gates"]["champion"]["metric"] = "accuracy"
    frame_params["rollout"]["gate"].update(min_requests=10, min_labelled=50, min_agreement=0.9)
    frame_params["drift"]["min_samples"] = 10  # PSI on the 10 records
    Path("params.yaml").write_text(yaml.safe_dump(frame_params))
    champion = ["big"] * 4 + ["small"] * 6
    challenger = ["big"] * 3 + ["small"] * 7
    rows = [row(-1, "big", "big", pair=("md5:aaa", "md5:old"))]  # an earlier challenger: left out
    rows += [row(n, champion[n], challenger[n], answered_by="challenger" if n in (8, 9) else "champion",
                 latency=20.0 if n in (8, 9) else 10.0, shadow_ms=6.0 if n in (8, 9) else 4.0) for n in range(10)]
    rows += [row(n, "big", None, error="skipped: not started in time") for n in (10, 11)]
    truth = ["big", "small", "big", "small", "small", "small"]  # records 0-5: the champion right 4 times, the other 5
    feedback = [{"request_id": f"{n:032x}", "record": 0, "time": datetime.now(UTC), "label": label}
                for n, label in enumerate(truth)]
    write_log(rows, feedback)

    report = rollout_report(load_params())
    assert (report["champion"], report["challenger"], report["records"], report["unscored"]) == \
        ("md5:aaa", "md5:bbb", 10, 2)
    assert report["canary_share"] == 0.2
    assert report["agreement"] == {"agreement": 0.9, "per_class": {"big": {"records": 4, "agreement": 0.75},
                                                                   "small": {"records": 6, "agreement": 1.0}}}
    assert report["prediction_psi"] == pytest.approx(psi_by_hand([0.4, 0.6, 0.0], [0.3, 0.7, 0.0]), abs=1e-4)
    assert report["latency"]["champion"] == {"answer_ms_p50": 10.0, "answer_ms_p95": 10.0, "answered": 8,
                                                  "shadow_ms_p50": 6.0, "shadow_ms_p95": 6.0, "shadowed": 2}
    assert report["latency"]["challenger"]["answer_ms_p50"] == 20.0
    assert report["latency"]["challenger"]["shadow_ms_p50"] == 4.0
    quality = report["quality"]
    assert quality["labelled"] == 6
    assert quality["champion"]["accuracy"] == pytest.approx(4 / 6, abs=1e-4)
    assert quality["challenger"]["accuracy"] == pytest.approx(5 / 6, abs=1e-4)
    assert quality["worse_by"] == pytest.approx(-1 / 6, abs=1e-4)
    low, high = quality["interval_95"]["champion"]
    assert low <= 4 / 6 <= high and low < high
    # Too few labels for quality: agreement (0.9, enough) and PSI judge; 10 records are enough.
    assert report["gate"]["passed"] and [c["name"] for c in report["gate"]["checks"]] == \
        ["records", "agreement", "prediction PSI"]

    frame_params["rollout"]["gate"].update(min_labelled=5, min_requests=11)
    Path("params.yaml").write_text(yaml.safe_dump(frame_params))
    rollout_report_main()
    written = yaml.safe_load(Path(frame_params["paths"]["rollout"]).read_text())
    assert not written["gate"]["passed"]
    assert [(c["name"], c["passed"]) for c in written["gate"]["checks"]] == [("records", False),
                                                                            ("accuracy worse by", True)]
    assert "Gate: FAIL" in Path(frame_params["paths"]["rollout_report"]).read_text()
    assert "gate failed" in capsys.readouterr().out


def test_the_rollout_report_of_a_regression_gives_the_differences(frame_params):
    frame_params.update(task="regression", target="size")
    frame_params["incoming"] = {"location": "incoming", "window": 2}
    frame_params["gates"]["champion"]["metric"] = frame_params["evaluate"]["slice_metric"] = "rmse"
    Path("params.yaml").write_text(yaml.safe_dump(frame_params))
    write_log([row(n, a, b) for n, (a, b) in enumerate([(1.0, 1.5), (2.0, 2.0), (3.0, 2.0), (4.0, 5.0)])], [])
    report = rollout_report(load_params())
    assert report["agreement"] == {"mean_difference": 0.125, "mean_absolute_difference": 0.625,
                                   "p5_difference": pytest.approx(-0.85), "p50_difference": 0.25,
                                   "p95_difference": pytest.approx(0.925)}
    assert report["quality"] == {"labelled": 0, "metric": "rmse"}
    assert [c["name"] for c in report["gate"]["checks"]] == ["records", "prediction PSI"]


def test_no_shadow_traffic_or_none_scored_is_one_clear_error(frame_params):
    frame_params["incoming"] = {"location": "incoming", "window": 2}
    Path("params.yaml").write_text(yaml.safe_dump(frame_params))
    with pytest.raises(UserError, match="no request was scored by a challenger yet"):
        rollout_report(load_params())
    write_log([row(n, "big", None, error="RuntimeError: broken") for n in range(2)], [])
    with pytest.raises(UserError, match="the shadow scored none of the 2 newest records"):
        rollout_report(load_params())


def test_promotion_can_require_a_passing_rollout_report_of_this_very_model(frame_params):
    params, md5 = load_params(), "fedcba987654" + "0" * 20
    with pytest.raises(UserError, match="no rollout report was written"):
        require_rollout(params, md5)
    passed = {"challenger": "md5:fedcba987654", "challenger_md5": md5, "gate": {"passed": True, "checks": []}}
    write_json({**passed, "challenger": "md5:0123456789ab", "challenger_md5": "0123456789ab" + "0" * 20},
               params.paths.rollout)
    with pytest.raises(UserError, match="judged challenger md5:0123456789ab, not this model"):
        require_rollout(params, md5)
    write_json({**passed, "gate": {"passed": False, "checks": [{"name": "agreement", "passed": False}]}},
               params.paths.rollout)
    with pytest.raises(UserError, match="the rollout gate failed: agreement"):
        require_rollout(params, md5)
    write_json(passed, params.paths.rollout)
    require_rollout(params, md5)
