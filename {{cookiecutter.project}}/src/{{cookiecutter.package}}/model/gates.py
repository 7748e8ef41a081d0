"""The quality gates: is the challenger good enough to serve? evaluate judges the absolute ones and
writes the report; `make gates` adds the champion gate (model/champion.py: the base branch's model moves
without evaluate's inputs changing), prints them and fails on a failed gate; `make promote` promotes only
when all passed.
"""

from pydantic import BaseModel

from ..config import Gates
from ..console import short_number, text_table
from ..records import Record
from ..tracking.runs import RunInfo
from .metrics import METRICS


class Gate(BaseModel):
    name: str
    value: float | None
    threshold: float | None
    passed: bool
    detail: str = ""


class ChampionScore(BaseModel):
    """The champion (the base branch's model) scored again on the challenger's test split."""

    source: str  # branch@commit
    metric: str
    score: float | None  # None: it could not score this split (see `error`)
    error: str | None = None


class GateReport(Record):
    stage = "evaluate"
    passed: bool
    model: RunInfo  # train's record of the model judged
    gates: list[Gate]

    @property
    def failed(self) -> list[str]:
        return [gate.name for gate in self.gates if not gate.passed]


def judge(gates: Gates, scores: dict, latency: dict, slices: dict) -> list[Gate]:
    """The verdict of every gate but the champion's."""
    verdicts = []
    for bound, limits in (("minimum", gates.minimum), ("maximum", gates.maximum)):
        for metric, threshold in limits.items():
            value = scores.get(metric)
            if value is None:
                verdicts.append(Gate(name=f"{bound} {metric}", value=None, threshold=threshold, passed=False,
                                     detail=f"evaluate could not compute {metric} on this test split"))
            else:
                passed = value >= threshold if bound == "minimum" else value <= threshold
                verdicts.append(Gate(name=f"{bound} {metric}", value=value, threshold=threshold, passed=passed))
    if gates.max_latency_p95_ms is not None:
        verdicts.append(Gate(name="latency p95 ms", value=latency["p95_ms"], threshold=gates.max_latency_p95_ms,
                             passed=latency["p95_ms"] <= gates.max_latency_p95_ms))
    if gates.max_slice_gap is not None and slices:
        verdicts.append(Gate(name=f"slice gap {slices['metric']} by {slices['column']}", value=slices["gap"],
                             threshold=gates.max_slice_gap, passed=slices["gap"] <= gates.max_slice_gap))
    return verdicts


def champion_gate(gates: Gates, scores: dict, champion: ChampionScore | None) -> Gate:
    """The challenger may be worse than the champion on the rule's metric by at most the tolerance."""
    metric, tolerance = gates.champion.metric, gates.champion.tolerance
    name, value = f"champion {metric}", scores.get(metric)
    if champion is None:
        return Gate(name=name, value=value, threshold=None, passed=True,
                    detail=f"no champion yet: {gates.champion.base} records no model; the first that passes becomes it")
    if champion.score is None:
        return Gate(name=name, value=value, threshold=None, passed=True, detail=f"champion "
                    f"{champion.source} cannot score this test split ({champion.error}); nothing to compare")
    best, higher = champion.score, METRICS[metric].higher_is_better
    threshold = round(best - tolerance if higher else best + tolerance, 6)
    passed = value is not None and (value >= threshold if higher else value <= threshold)
    return Gate(name=name, value=value, threshold=threshold, passed=passed,
                detail=f"champion {champion.source} scores {best} on the same split; tolerance {tolerance}")


def gates_table(gates: list[Gate]) -> str:
    """Gate, value, threshold and verdict, aligned for a terminal and a CI log."""
    rows = [("gate", "value", "threshold", "verdict", "detail")]
    rows += [(g.name, short_number(g.value), short_number(g.threshold), "pass" if g.passed else "FAIL", g.detail)
             for g in gates]
    return text_table(rows)
