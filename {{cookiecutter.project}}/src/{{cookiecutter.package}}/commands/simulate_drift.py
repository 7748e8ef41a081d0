"""Write a simulated current batch: rows drawn from the training data, with declared shifts.

    python -m <package>.commands.simulate_drift --rows 500 --shift bill_length_mm=1.5 --mix island=Dream:0.7 \\
        --flip 0.1 --seed 7

then `dvc repro drift-check` and read reports/drift.md: the healthy -> degraded story, reproducible
from the seed. It writes `paths.current` unless `--out` says otherwise (`dvc checkout --force`
brings the real batch back).
"""

import argparse
import sys

import numpy as np

from ..config import load_params
from ..data.tables import read_table, write_table
from ..errors import UserError, run
from ..monitoring.simulate import simulate


def _pairs(values: list[str], option: str) -> dict[str, str]:
    pairs = {}
    for value in values:
        name, sep, setting = value.partition("=")
        if not sep or not name or not setting:
            raise UserError(f"{option}: expected COLUMN=VALUE, found {value!r}")
        pairs[name] = setting
    return pairs


def _parse_number(text: str, option: str, low: float = -np.inf, high: float = np.inf) -> float:
    try:
        value = float(text)
    except ValueError:
        raise UserError(f"{option}: expected a number, found {text!r}") from None
    if not low <= value <= high:
        raise UserError(f"{option}: expected a number between {low} and {high}, found {value}")
    return value


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog=f"python -m {__spec__.name}", description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=500, help="rows in the batch (default 500)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--shift", action="append", default=[], metavar="COLUMN=SDS",
                        help="move a numeric column's mean by SDS reference standard deviations")
    parser.add_argument("--mix", action="append", default=[], metavar="COLUMN=CATEGORY:SHARE",
                        help="set a share of the rows of a column to one category")
    parser.add_argument("--missing", action="append", default=[], metavar="COLUMN=SHARE",
                        help="blank a share of a column's values")
    parser.add_argument("--flip", type=float, default=0.0, help="share of target labels changed to another")
    parser.add_argument("--out", help="where to write the batch (default: paths.current)")
    args = parser.parse_args(argv)
    params = load_params()
    if args.rows < 1:
        raise UserError(f"--rows: expected a positive number of rows, found {args.rows}")
    shift = {k: _parse_number(v, f"--shift {k}") for k, v in _pairs(args.shift, "--shift").items()}
    mix = {}
    for name, setting in _pairs(args.mix, "--mix").items():
        category, sep, share = setting.rpartition(":")
        if not sep or not category:
            raise UserError(f"--mix {name}: expected CATEGORY:SHARE, found {setting!r}")
        mix[name] = (category, _parse_number(share, f"--mix {name}", 0, 1))
    missing = {k: _parse_number(v, f"--missing {k}", 0, 1) for k, v in _pairs(args.missing, "--missing").items()}
    flip = _parse_number(str(args.flip), "--flip", 0, 1)
    # The raw data whole (not only the train split): the current batch arrives raw, columns and all.
    reference = read_table(params.paths.raw)
    batch = simulate(reference, args.rows, args.seed, params.target, shift, mix, missing, flip)
    out = args.out or params.paths.current
    write_table(batch, out)
    print(f"simulate_drift: wrote {len(batch)} rows to {out} (seed {args.seed}); now `dvc repro drift-check`")


if __name__ == "__main__":
    run(lambda: main(sys.argv[1:]))
