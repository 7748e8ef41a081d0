"""The quality gates: is the challenger good enough to serve? evaluate judges them and writes the report;
`make gates` prints it and fails on a failed gate; `make promote` promotes only when all passed.
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
    """The champion (the registry version holding the alias) scored again on the challenger's test split."""

    version: str
    run_id: str
    metric: str
    score: float | None  # None: it could not score this split (see `error`)
    error: str | None = None


class GateReport(Record):
    stage = "evaluate"
    passed: bool
    model: RunInfo  # train's record of the model judged
    champion: ChampionScore | None
    gates: list[Gate]

    @property
    def failed(self) -> list[str]:
        return [gate.name for gate in self.gates if not gate.passed]


def judge(gates: Gates, scores: dict, latency: dict, slices: dict, champion: ChampionScore | None) -> list[Gate]:
    """Every gate's verdict. `champion` is None while there is no champion yet."""
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
    verdicts.append(champion_gate(gates, scores, champion))
    return verdicts


def champion_gate(gates: Gates, scores: dict, champion: ChampionScore | None) -> Gate:
    """The challenger may be worse than the champion on the rule's metric by at most the tolerance."""
    metric, tolerance = gates.champion.metric, gates.champion.tolerance
    name, value = f"champion {metric}", scores.get(metric)
    if champion is None:
        return Gate(name=name, value=value, threshold=None, passed=True,
                    detail="no champion yet: the first model that passes the other gates becomes it")
    if champion.score is None:
        return Gate(name=name, value=value, threshold=None, passed=True, detail=f"champion version "
                    f"{champion.version} cannot score this test split ({champion.error}); nothing to compare")
    best, higher = champion.score, METRICS[metric].higher_is_better
    threshold = round(best - tolerance if higher else best + tolerance, 6)
    passed = value is not None and (value >= threshold if higher else value <= threshold)
    return Gate(name=name, value=value, threshold=threshold, passed=passed,
                detail=f"champion version {champion.version} scores {best} on the same split; tolerance {tolerance}")


def gates_table(gates: list[Gate]) -> str:
    """Gate, value, threshold and verdict, aligned for a terminal and a CI log."""
    rows = [("gate", "value", "threshold", "verdict", "detail")]
    rows += [(g.name, short_number(g.value), short_number(g.threshold), "pass" if g.passed else "FAIL", g.detail)
             for g in gates]
    return text_table(rows)
