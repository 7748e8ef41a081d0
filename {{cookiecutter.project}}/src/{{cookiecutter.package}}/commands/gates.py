"""`make gates`: print the gate report evaluate wrote, and fail naming each failed gate (CI runs this)."""

from ..config import load_params
from ..errors import UserError, run
from ..model.gates import GateReport, gates_table
from ..outputs import require_current


def main() -> None:
    params = load_params()
    require_current("evaluate", params.paths.gates)
    report = GateReport.load(params.paths.gates)
    print(gates_table(report.gates))
    if report.failed:
        raise UserError(f"{params.paths.gates}: {len(report.failed)} gate(s) failed: {', '.join(report.failed)}")
    print(f"gates: all {len(report.gates)} passed")


if __name__ == "__main__":
    run(main)
