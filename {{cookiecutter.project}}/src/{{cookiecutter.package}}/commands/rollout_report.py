"""`make rollout-report`: the challenger against the champion on the live traffic both scored.

Writes paths.rollout (the numbers, with the gate's verdict) and paths.rollout_report (the Markdown), and
prints the gate's checks (monitoring/rollout.py). It fails only when there is nothing to report; a failed
gate is a verdict, which `make promote` enforces when rollout.gate.required is true.
"""

from pathlib import Path

from ..config import load_params
from ..console import text_table
from ..errors import run
from ..monitoring.rollout import markdown_report, rollout_report
from ..records import write_json


def main() -> None:
    params = load_params()
    report = rollout_report(params)
    write_json(report, params.paths.rollout)
    Path(params.paths.rollout_report).write_text(markdown_report(report), encoding="utf-8")
    checks = report["gate"]["checks"]
    print(text_table([("check", "value", "threshold", "verdict")] + [
        (c["name"], c["value"], c["threshold"], "pass" if c["passed"] else "FAIL") for c in checks]))
    print(f"rollout: challenger {report['challenger']} against champion {report['champion']} on "
          f"{report['records']} records: gate {'passed' if report['gate']['passed'] else 'failed'}; "
          f"wrote {params.paths.rollout_report}")


if __name__ == "__main__":
    run(main)
