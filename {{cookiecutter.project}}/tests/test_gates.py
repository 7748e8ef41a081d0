"""The gates judged from scores: each threshold alone, and the champion rule."""

import pytest

from {{ cookiecutter.package }}.config import ChampionGate, Gates
from {{ cookiecutter.package }}.model.gates import ChampionScore, champion_gate, judge

GATES = Gates(minimum={"balanced_accuracy": 0.8}, maximum={"log_loss": 0.5}, max_latency_p95_ms=20.0,
              max_slice_gap=0.1, champion=ChampionGate(base="main", metric="balanced_accuracy", tolerance=0.02))
SCORES = {"balanced_accuracy": 0.9, "log_loss": 0.3}
LATENCY = {"p95_ms": 5.0}
SLICES = {"column": "island", "metric": "accuracy", "gap": 0.05}


def verdicts(scores=SCORES, latency=LATENCY, slices=SLICES, champion=None, gates=GATES):
    gates_judged = [*judge(gates, scores, latency, slices), champion_gate(gates, scores, champion)]
    return {gate.name: gate for gate in gates_judged}


def test_a_model_that_meets_every_gate_passes_and_says_there_is_no_champion_yet():
    found = verdicts()
    assert all(gate.passed for gate in found.values()) and len(found) == 5
    assert "no champion yet: main records no model" in found["champion balanced_accuracy"].detail


@pytest.mark.parametrize(
    ("change", "failed"),
    [
        ({"scores": {**SCORES, "balanced_accuracy": 0.7}}, "minimum balanced_accuracy"),
        ({"scores": {**SCORES, "log_loss": 0.9}}, "maximum log_loss"),
        ({"latency": {"p95_ms": 25.0}}, "latency p95 ms"),
        ({"slices": {**SLICES, "gap": 0.3}}, "slice gap accuracy by island"),
    ],
)
def test_each_kind_of_threshold_fails_alone(change, failed):
    found = verdicts(**change)
    assert [name for name, gate in found.items() if not gate.passed] == [failed]
    assert found[failed].threshold is not None and found[failed].value is not None


def test_a_better_champion_fails_the_challenger_and_a_worse_one_does_not():
    better = ChampionScore(source="main@1a2b3c4", metric="balanced_accuracy", score=0.95)
    gate = verdicts(champion=better)["champion balanced_accuracy"]
    assert not gate.passed and gate.threshold == 0.93 and "champion main@1a2b3c4 scores 0.95" in gate.detail
    within_tolerance = better.model_copy(update={"score": 0.91})
    assert verdicts(champion=within_tolerance)["champion balanced_accuracy"].passed
    lower_is_better = GATES.model_copy(update={"champion": ChampionGate(base="main", metric="log_loss",
                                                                        tolerance=0.0)})
    lower = better.model_copy(update={"metric": "log_loss", "score": 0.2})
    assert not verdicts(champion=lower, gates=lower_is_better)["champion log_loss"].passed
    assert verdicts(champion=lower.model_copy(update={"score": 0.4}), gates=lower_is_better)["champion log_loss"].passed


def test_a_champion_that_cannot_score_the_new_data_is_no_obstacle():
    unable = ChampionScore(source="main@1a2b3c4", metric="balanced_accuracy", score=None, error="columns differ")
    gate = verdicts(champion=unable)["champion balanced_accuracy"]
    assert gate.passed and "cannot score this test split (columns differ)" in gate.detail
