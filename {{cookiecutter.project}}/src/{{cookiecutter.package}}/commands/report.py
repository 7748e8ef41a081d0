"""report: the Markdown a CI run shows (job summary, pull request comment).

`python -m <package>.commands.report BASE` (`make report BASE=origin/main`): metrics and params against the
git revision BASE (`dvc metrics diff`, `dvc params diff`), the gate verdicts and the drift report,
each section saying so when this run did not get that far.
"""

import subprocess
import sys
from pathlib import Path

from ..config import Params, load_params
from ..errors import UserError, run
from ..model.champion import judged_gates
from ..model.gates import GateReport


def dvc_diff(kind: str, base: str) -> str:
    """`dvc metrics diff` or `dvc params diff` as Markdown, or why there is none."""
    result = subprocess.run(["dvc", kind, "diff", "--md", base], capture_output=True, text=True)
    if result.returncode != 0:
        return f"_not available: {' '.join(result.stderr.split())[:200]}_"
    return result.stdout.strip() or f"_no {kind} changed_"


def gates_section(params: Params) -> str:
    """evaluate's gates and the champion's, or evaluate's alone and why the champion's was not judged."""
    path = params.paths.gates
    if not Path(path).is_file():
        return "_the gates were not judged in this run_"
    try:
        gates, note = judged_gates(params).gates, ""
    except UserError as problem:
        gates, note = GateReport.load(path).gates, f"\n\n_the champion gate was not judged: {problem}_"
    rows = ["| gate | value | threshold | verdict | detail |", "|---|---|---|---|---|"]
    rows += [f"| {g.name} | {g.value} | {g.threshold} | {'pass' if g.passed else '**FAIL**'} | {g.detail} |"
             for g in gates]
    return "\n".join(rows) + note


def main(argv: list[str]) -> None:
    params = load_params()
    base = argv[0] if argv else "HEAD"
    drift = Path(params.paths.drift_report)
    print("\n\n".join([
        f"## Metrics against {base}", dvc_diff("metrics", base),
        f"## Params against {base}", dvc_diff("params", base),
        "## Gates", gates_section(params),
        drift.read_text(encoding="utf-8").replace("# Drift", "## Drift", 1) if drift.is_file()
        else "## Drift\n\n_drift-check did not run in this run_",
    ]))


if __name__ == "__main__":
    run(lambda: main(sys.argv[1:]))
