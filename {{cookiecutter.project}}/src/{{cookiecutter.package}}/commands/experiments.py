"""`make exps`: every experiment with the params it changed and the metrics the gates judge, in at most
120 columns (`dvc exp show` alone shows a column for every metric, param and dependency)."""

import os
import re
import subprocess
import sys

from ..config import Params, load_params
from ..errors import UserError, run

WIDTH = 120


def main() -> None:
    params = load_params()
    judged = sorted({*params.gates.minimum, *params.gates.maximum, params.gates.champion.metric})
    metrics = "|".join(map(re.escape, judged))
    # Drop every column but the experiment's name and date, those metrics and the params (`--only-changed`
    # then drops the params no experiment changed); keep those metrics even where none changed.
    drop = rf"^(?!(Experiment|Created|{metrics})$|({'|'.join(Params.model_fields)})(\.|$))"
    shown = subprocess.run([sys.executable, "-m", "dvc", "exp", "show", "--no-pager", "--only-changed",
                            "--drop", drop, "--keep", rf"^({metrics})$"], env=dict(os.environ, COLUMNS=str(WIDTH)))
    if shown.returncode != 0:
        raise UserError("dvc exp show failed (above)")


if __name__ == "__main__":
    run(main)
