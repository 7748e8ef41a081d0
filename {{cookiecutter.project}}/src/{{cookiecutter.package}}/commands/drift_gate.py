"""`make drift-gate`: fail on a drift verdict or on concept drift, naming the features that moved."""

from ..config import load_params
from ..errors import UserError, run
from ..monitoring.verdict import DriftSummary
from ..outputs import require_current


def main() -> None:
    params = load_params()
    require_current("drift-check", params.paths.drift_metrics)
    summary = DriftSummary.load(params.paths.drift_metrics)
    for feature in summary.moved:
        print(f"{feature.verdict:<6} {feature.feature}: {feature.moved} (PSI {feature.psi:.3g}, "
              f"p-value {feature.pvalue:.3g})")
    if summary.retrain:
        raise UserError(f"{params.paths.drift_metrics}: {summary.verdict} (recommendation: {summary.recommendation}): "
                        f"{'; '.join(summary.reasons)}; see {params.paths.drift_report}")
    print(f"drift gate: {summary.verdict} (recommendation: {summary.recommendation})")


if __name__ == "__main__":
    run(main)
