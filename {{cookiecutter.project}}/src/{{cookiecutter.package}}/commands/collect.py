"""`make collect`: the API's traffic since the last collect becomes the next batch, then the current one.

The answers logged under `<incoming.location>/log/` since the last collect, each joined with the label
`/feedback` recorded for it (where one came back), are written as one batch file in incoming.location,
the place any new data lands; then `make intake`'s step makes it the current batch (dvc add), so
`make repro` runs validate and drift-check on real traffic and the monitor takes it the same way.
"""

import pandas as pd

from ..config import Params, load_params
from ..data.incoming import location_fs, take_newest
from ..errors import run
from ..serving.request_log import FEEDBACK, LOG, read_parts

MARK = ".collected"  # in the log folder: the name of the last part collected
LOGGED = ("request_id", "record", "time", "model_version", "prediction")  # what the log adds to a record


def collect(params: Params) -> str | None:
    """Write the batch of the traffic not collected yet; its name, or None when there was none."""
    fs, root = location_fs(params.incoming.location)
    mark = f"{root}/{LOG}/{MARK}"
    after = fs.cat_file(mark).decode().strip() if fs.exists(mark) else ""
    log, last = read_parts(fs, f"{root}/{LOG}", after)
    if log.empty:
        return None
    feedback, _ = read_parts(fs, f"{root}/{FEEDBACK}")
    labels = pd.Series(dtype=object, name=params.target)
    if not feedback.empty:  # the last label sent for a record is the one kept
        labels = feedback.drop_duplicates(["request_id", "record"], keep="last").set_index(["request_id", "record"])
        labels = labels["label"].rename(params.target)
    batch = log.drop(columns=[params.target], errors="ignore").join(labels, on=["request_id", "record"])
    batch = batch.drop(columns=list(LOGGED))
    name = last  # named by its newest part: batches sort by time
    with fs.open(f"{root}/{name}", "wb") as stream:
        batch.to_parquet(stream, index=False)
    fs.pipe(mark, last.encode())
    print(f"collect: {len(batch)} answered records ({batch[params.target].notna().sum()} labelled) since "
          f"{after or 'the start of the log'} -> {params.incoming.location}/{name}")
    return name


def main() -> None:
    params = load_params()
    if collect(params) is None:
        print(f"collect: no traffic logged in {params.incoming.location}/{LOG} since the last collect; "
              "the current batch stays")
        return
    unchanged = take_newest(params)
    if unchanged:
        print(f"collect: {unchanged}")


if __name__ == "__main__":
    run(main)
