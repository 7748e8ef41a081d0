"""The batch's drift verdict (stable, warn, drift, insufficient_data), what to do about it, and the
summary record drift-check writes for DVC's metrics and for `make drift-gate`.
"""

import pandas as pd
from pydantic import BaseModel

from ..config import Drift, Params
from ..data.features import feature_columns
from ..model.metrics import score, worse_by
from ..records import Record


class Decay(BaseModel):
    """Labelled current rows scored against the test split's score: concept drift when much worse."""

    metric: str
    test: float
    current: float
    rows: int
    decay: float  # relative: how much worse than the test score, as a share of it
    concept_drift: bool

    @property
    def change(self) -> str:
        """How the metric moved, in words that follow the numbers."""
        way = "fell" if self.current < self.test else "rose" if self.current > self.test else "stayed"
        return f"{self.metric} {way} from {self.test:.4g} on the test split to {self.current:.4g}"


class MovedFeature(BaseModel):
    """A feature whose verdict is drift or warn, and how it moved."""

    feature: str
    verdict: str
    moved: str
    psi: float | None
    pvalue: float | None


class DriftSummary(Record):
    stage = "drift-check"
    verdict: str
    recommendation: str  # retrain, watch or none
    reasons: list[str]  # why the recommendation is retrain (empty otherwise)
    statistic: str
    features: int
    drifted_features: int
    warned_features: int
    insufficient_features: int
    drift_share: float
    max_psi: float | None
    max_psi_feature: str | None
    prediction_psi: float | None
    prediction_verdict: str | None
    performance: Decay | None
    moved: list[MovedFeature]  # a list: `dvc metrics show` leaves it out of its table

    @property
    def retrain(self) -> bool:
        return self.recommendation == "retrain"


def performance_decay(model, current: pd.DataFrame, params: Params, test_metrics: dict) -> Decay | None:
    """With labels in the current batch: the champion rule's metric there against the test split's."""
    if params.target not in current.columns:
        return None
    labelled = current.dropna(subset=[params.target])
    metric = params.gates.champion.metric
    if len(labelled) < params.drift.min_samples or metric not in test_metrics:
        return None
    features = labelled[feature_columns(labelled, params.target)]
    now = score(model, features, labelled[params.target], params.task).get(metric)
    if now is None:
        return None
    tested = test_metrics[metric]
    worse = worse_by(metric, now, tested)
    # Relative, so one setting serves an accuracy near 1 and an RMSE in the data's own units.
    relative = worse / abs(tested) if tested else worse
    return Decay(metric=metric, test=tested, current=now, rows=len(labelled), decay=round(float(relative), 6),
                 concept_drift=bool(relative > params.drift.max_decay))


def summarize(table: pd.DataFrame, policy: Drift, prediction: dict | None = None, performance: Decay | None = None,
              importance: dict[str, float] | None = None) -> DriftSummary:
    """The batch verdict, every reason for it, and what to do about it.

    The batch drifts when a share of its features drift (`drift.dataset_drift_share`), when one that
    carries much of the model's permutation importance drifts (`drift.important_share`), or when the
    predictions themselves drift (`drift.prediction_counts`). `importance` is each feature's share of it.
    """
    counts = table["verdict"].value_counts()
    judged = len(table) - int(counts.get("insufficient_data", 0))
    drifted = table.loc[table["verdict"] == "drift", "feature"].tolist()
    share = len(drifted) / judged if judged else 0.0
    reasons = []
    if drifted and share >= policy.dataset_drift_share:
        reasons.append(f"{len(drifted)} of {judged} features drifted ({', '.join(drifted)})")
    if policy.important_share is not None:
        reasons += [f"{name} drifted, and carries {importance[name]:.0%} of the model's importance"
                    for name in drifted if (importance or {}).get(name, 0) >= policy.important_share]
    if policy.prediction_counts and prediction and prediction["verdict"] == "drift":
        reasons.append(f"the predictions drifted (PSI {prediction['psi']:.3g})")
    if not judged:
        verdict = "insufficient_data"
    elif reasons:
        verdict = "drift"
    elif drifted or counts.get("warn", 0):
        verdict = "warn"
    else:
        verdict = "stable"
    if performance and performance.concept_drift:
        reasons.append(f"on {performance.rows} labelled current rows {performance.change} "
                       f"({performance.decay:.0%} worse)")
    recommendation = "retrain" if reasons else "watch" if verdict == "warn" else "none"
    scored = table.dropna(subset=["psi"])
    worst = scored.loc[scored["psi"].idxmax()] if len(scored) else None
    moved = table[table["verdict"].isin(("drift", "warn"))]
    return DriftSummary(
        verdict=verdict, recommendation=recommendation, reasons=reasons, statistic=policy.statistic,
        features=len(table), drifted_features=len(drifted), warned_features=int(counts.get("warn", 0)),
        insufficient_features=int(counts.get("insufficient_data", 0)), drift_share=round(share, 4),
        max_psi=None if worst is None else float(worst["psi"]),
        max_psi_feature=None if worst is None else str(worst["feature"]),
        prediction_psi=None if prediction is None else prediction["psi"],
        prediction_verdict=None if prediction is None else prediction["verdict"],
        performance=performance,
        moved=[MovedFeature(**{key: row[key] for key in MovedFeature.model_fields})
               for row in moved.to_dict("records")],
    )


def importance_shares(table: pd.DataFrame | None) -> dict[str, float]:
    """Each feature's share of the model's permutation importance (evaluate's table), negatives as none."""
    if table is None or table.empty:
        return {}
    positive = table.set_index("feature")["importance"].clip(lower=0)
    total = positive.sum()
    return {str(name): float(value / total) for name, value in positive.items()} if total > 0 else {}
