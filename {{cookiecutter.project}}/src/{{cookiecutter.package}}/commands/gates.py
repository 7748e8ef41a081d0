"""`make gates`: every gate of the model evaluate scored, the champion's among them; fail naming each
failed one (CI runs this)."""

from ..config import load_params
from ..errors import UserError, run
from ..model.champion import judged_gates
from ..model.gates import gates_table


def main() -> None:
    params = load_params()
    report = judged_gates(params)
    print(gates_table(report.gates))
    if report.failed:
        raise UserError(f"{params.paths.gates}: {len(report.failed)} gate(s) failed: {', '.join(report.failed)}")
    print(f"gates: all {len(report.gates)} passed")


if __name__ == "__main__":
    run(main)
