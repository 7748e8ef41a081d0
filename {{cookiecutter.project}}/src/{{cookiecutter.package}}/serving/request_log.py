"""What the API answered, and the labels that came back, as Parquet parts beside the incoming batches.

Rows are buffered in memory and written as one Parquet part when `rows` have gathered or `seconds` have
passed since the first of them, never as one growing file; closing the log writes what is left, so a
clean shutdown loses nothing and a crash at most the part not yet written. Parts go under
`<incoming.location>/log/` and `/feedback/` (a folder or an S3 prefix, like the batches), named by the
UTC time they were written (so they sort by time) and the process that wrote them (one of serve.workers):
one log, whatever the number of workers. `collect` turns them into the next batch.
"""

import io
import os
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd

from ..config import Params
from ..data.incoming import location_fs

LOG, FEEDBACK = "log", "feedback"


def part_name() -> str:
    """A name that sorts by the time it was made (to the microsecond), names the process that wrote it (one
    of serve.workers) and is unique across servers."""
    return f"{datetime.now(UTC):%Y-%m-%dT%H%M%S.%f}-pid{os.getpid()}-{uuid.uuid4().hex[:8]}.parquet"


class PartWriter:
    """Rows appended from any thread, written as Parquet parts to `folder` of the file system `fs`."""

    def __init__(self, fs, folder: str, rows: int, seconds: float):
        self.fs, self.folder, self.rows, self.seconds = fs, folder.rstrip("/"), rows, seconds
        self.buffer: list[dict] = []
        self.lock = threading.Lock()
        self.wake, self.closing = threading.Event(), False
        self.written = 0  # parts
        # Parts are written by this thread, never by a request's: a full buffer only wakes it.
        self.thread = threading.Thread(target=self._write_parts, daemon=True)
        self.thread.start()

    def append(self, rows: list[dict]) -> None:
        with self.lock:
            self.buffer += rows
            if len(self.buffer) >= self.rows:
                self.wake.set()

    def flush(self) -> None:
        """Write the buffered rows as one part (the buffer is swapped under the lock, written outside it)."""
        with self.lock:
            rows, self.buffer = self.buffer, []
        if not rows:
            return
        data = io.BytesIO()
        pd.DataFrame.from_records(rows).to_parquet(data, index=False)
        self.fs.makedirs(self.folder, exist_ok=True)
        with self.fs.open(f"{self.folder}/{part_name()}", "wb") as stream:
            stream.write(data.getvalue())
        self.written += 1

    def _write_parts(self) -> None:
        """A part when the buffer is full or `seconds` have passed, until the log is closed."""
        while not self.closing:
            self.wake.wait(self.seconds)
            self.wake.clear()
            self.flush()

    def close(self) -> None:
        """Write what is buffered and stop."""
        self.closing = True
        self.wake.set()
        self.thread.join()
        self.flush()


def read_parts(fs, folder: str, after: str = "") -> tuple[pd.DataFrame, str]:
    """The rows of the parts in `folder` whose names sort after `after`, and the last such name."""
    folder = folder.rstrip("/")
    names = sorted(path.rsplit("/", 1)[-1] for path in fs.ls(folder, detail=False)) if fs.isdir(folder) else []
    names = [name for name in names if name.endswith(".parquet") and name > after]
    frames = []
    for name in names:
        with fs.open(f"{folder}/{name}", "rb") as stream:
            frames.append(pd.read_parquet(io.BytesIO(stream.read())))
    # A part whose rows all missed a value holds that column as nulls; joined to the others, the column
    # would be objects, and drift-check would take numbers for text. infer_objects types it again.
    rows = pd.concat(frames, ignore_index=True).infer_objects() if frames else pd.DataFrame()
    return rows, (names[-1] if names else after)


def read_labels(fs, root: str) -> pd.Series:
    """The label that came back for each answered record, by request id and record (the last one sent)."""
    feedback, _ = read_parts(fs, f"{root}/{FEEDBACK}")
    if feedback.empty:  # no label came back yet
        feedback = pd.DataFrame({"request_id": pd.Series(dtype=object), "record": pd.Series(dtype="int64"),
                                 "label": pd.Series(dtype=object)})
    return feedback.drop_duplicates(["request_id", "record"], keep="last").set_index(["request_id", "record"])["label"]


MARK = ".collected"  # in the log folder: the name of the last part collected
# What the log adds to a record: the answer, and with a challenger the shadow's (serving/rollout.py).
LOGGED = ("request_id", "record", "time", "model_version", "model_md5", "prediction", "latency_ms", "answered_by",
          "shadow_version", "shadow_md5", "shadow_prediction", "shadow_ms", "shadow_error")


@dataclass
class Collected:
    name: str  # the batch's file name in incoming.location
    batch: pd.DataFrame
    after: str  # the last part collected before, "" for the start of the log


def collect(params: Params) -> Collected | None:
    """Write the batch of the traffic not collected yet; what it wrote, or None when there was none."""
    fs, root = location_fs(params.incoming.location)
    mark = f"{root}/{LOG}/{MARK}"
    after = fs.cat_file(mark).decode().strip() if fs.exists(mark) else ""
    log, last = read_parts(fs, f"{root}/{LOG}", after)
    if log.empty:
        return None
    labels = read_labels(fs, root).rename(params.target)
    batch = log.drop(columns=[params.target], errors="ignore").join(labels, on=["request_id", "record"])
    batch = batch.drop(columns=list(LOGGED), errors="ignore")
    name = last  # named by its newest part: batches sort by time
    with fs.open(f"{root}/{name}", "wb") as stream:
        batch.to_parquet(stream, index=False)
    fs.pipe(mark, last.encode())
    return Collected(name, batch, after)
