"""New data in, through DVC:

    python -m <package>.commands.intake batch     # `make intake`: the newest batch becomes paths.current
    python -m <package>.commands.intake labelled  # `make intake-labels`: the labelled rows train adds

Both write DVC-tracked data files (`dvc add`), so the next `dvc repro` runs exactly the stages they
feed and `git` records which data a model saw. The drift monitor takes the batch, checks drift against
the data the champion learned from, and only on drift gathers the labelled rows and retrains. In CI,
`batch` says in the step's outputs whether the batch is new (`new=true|false`).
"""

import sys
from pathlib import Path

import pandas as pd

from ..config import Params, load_params
from ..console import to_github
from ..data.incoming import Incoming, take_newest, track
from ..data.tables import write_table
from ..errors import UserError, run
from ..outputs import dvc

WINDOW_FILE = "window.parquet"


def gather_labelled(params: Params) -> int:
    """Write the labelled rows of the newest `incoming.window` batches for train; return how many."""
    incoming, window = Incoming(params.incoming.location), params.incoming.window
    names = incoming.names[-window:] if window else []
    frames = [frame[frame[params.target].notna()] for frame in map(incoming.read, names)
              if params.target in frame.columns]
    rows = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    path = Path(params.paths.labelled) / WINDOW_FILE
    if rows.empty:
        if Path(f"{path}.dvc").is_file():
            dvc("remove", f"{path}.dvc")
        path.unlink(missing_ok=True)
    else:
        write_table(rows, path)
        track(path)
    print(f"intake-labels: {len(rows)} labelled rows from the newest {len(names)} batch(es) of {incoming.location}"
          f"{f' in {path}' if len(rows) else ''}; the next `dvc repro` trains on them too")
    return len(rows)


def main(argv: list[str]) -> None:
    params = load_params()
    if argv == ["batch"]:
        unchanged = take_newest(params)
        if unchanged:
            print(f"intake: {unchanged}")
        to_github("GITHUB_OUTPUT", f"new={str(unchanged is None).lower()}\n")
        if unchanged:
            to_github("GITHUB_STEP_SUMMARY", f"### No new batch\n\nThe monitor found {unchanged}: nothing to check.\n")
    elif argv == ["labelled"]:
        gather_labelled(params)
    else:
        raise UserError(f"intake: expected one argument, batch or labelled; found {' '.join(argv) or 'none'}")


if __name__ == "__main__":
    run(lambda: main(sys.argv[1:]))
