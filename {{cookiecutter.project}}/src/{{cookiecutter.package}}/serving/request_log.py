"""What the API answered, and the labels that came back, as Parquet parts beside the incoming batches.

Rows are buffered in memory and written as one Parquet part when `rows` have gathered or `seconds` have
passed, never as one growing file; closing the log writes what is left. Each row is on local disk in
the spool (serving/spool.py) before the API answers, so a killed server loses nothing: the next start
writes what it left. Parts go under
`<incoming.location>/log/` and `/feedback/` (a folder or an S3 prefix, like the batches), named by the
UTC time they were written (so they sort by time) and the process that wrote them (one of serve.workers):
one log, whatever the number of workers. `collect` turns them into the next batch.
"""

import io
import os
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from ..config import Params
from ..data.incoming import location_fs
from .spool import Segment, orphans

LOG, FEEDBACK = "log", "feedback"


def part_name(segment: str) -> str:
    """A name that sorts by the time it was made (to the microsecond), names the process that wrote it (one
    of serve.workers) and the spool segment its rows came from (serving/spool.py): unique across servers."""
    return f"{datetime.now(UTC):%Y-%m-%dT%H%M%S.%f}-pid{os.getpid()}-{segment}.parquet"


class PartWriter:
    """Rows appended from any thread, spooled to local disk at once and written as Parquet parts to
    `folder` of the file system `fs` by a thread of the log's own.

    When the spool or the parts cannot be written (a full disk, a folder that is not writable, an object
    store that does not answer), answers go on: the rows wait in memory (at most `MEMORY_PARTS` parts'
    worth, the oldest dropped beyond that and counted), `failure` says why for /health, and one line says
    so when it starts and one when it ends."""

    MEMORY_PARTS = 10

    def __init__(self, fs, folder: str, rows: int, seconds: float, spool: str | Path, fsync_seconds: float):
        self.fs, self.folder, self.rows, self.seconds = fs, folder.rstrip("/"), rows, seconds
        self.spool, self.fsync_seconds = Path(spool), fsync_seconds
        self.buffer: list[dict] = []
        self.lock, self.flushing = threading.Lock(), threading.Lock()
        self.wake, self.closing = threading.Event(), False
        self.dropped = 0  # rows given up for lack of memory while failing
        self.failure: str | None = None
        self.failure_lock = threading.Lock()  # one line when the log starts failing, whichever thread sees it
        self.segment, self.unwritten = self._new_segment(), []  # spool segments whose rows are in no part yet
        self._recover()
        # Parts are written by this thread, never by a request's: a full buffer only wakes it.
        self.thread = threading.Thread(target=self._write_parts, daemon=True)
        self.thread.start()

    def append(self, rows: list[dict]) -> None:
        with self.lock:
            self.buffer += rows
            if self.segment:
                try:
                    self.segment.append(rows)
                except OSError as error:
                    self.segment = None  # a new one is tried at the next part
                    self._failed(f"the spool {self.spool}", error)
            if len(self.buffer) >= self.rows:
                self.wake.set()

    def flush(self) -> None:
        """Write the buffered rows as one part, one flush at a time (the log's thread's, close's): the buffer
        is swapped under the lock, so no request waits for a part to be written."""
        with self.flushing:
            self._flush()

    def _flush(self) -> None:
        with self.lock:
            rows, self.buffer = self.buffer, []
            spooled, self.segment = self.segment, self._new_segment()
        if spooled:
            spooled.close()
            self.unwritten.append(spooled.path)
        if rows:
            try:
                self._write_part(rows, spooled.id if spooled else uuid.uuid4().hex[:12])
            except Exception as error:  # OSError, or what an object store's client raises
                self._failed(self.folder, error)
                with self.lock:
                    self.buffer = rows + self.buffer
                    extra = len(self.buffer) - self.MEMORY_PARTS * self.rows
                    if extra > 0:
                        self.buffer, self.dropped = self.buffer[extra:], self.dropped + extra
                return
        for path in self.unwritten:
            path.unlink(missing_ok=True)
        self.unwritten = []
        if self.segment is None:
            return  # the spool still fails
        with self.failure_lock:
            again, self.failure = self.failure is not None, None
        if again:
            print(f"request log: writing again ({self.folder}){f'; {self.dropped} rows were dropped' if self.dropped else ''}",
                  flush=True)

    def _write_part(self, rows: list[dict], segment: str) -> None:
        data = io.BytesIO()
        frame = pd.DataFrame.from_records(rows)
        if "time" in frame:  # a datetime, or its text from the spool
            frame["time"] = pd.to_datetime(frame["time"], utc=True)
        frame.to_parquet(data, index=False)
        self.fs.makedirs(self.folder, exist_ok=True)
        path = f"{self.folder}/{part_name(segment)}"
        # An object store shows an object once it is whole; on a disk a part is written under another name
        # and renamed, so a full disk or a crash never leaves a part cut short under a name collect reads.
        local = "file" in (self.fs.protocol if isinstance(self.fs.protocol, tuple) else (self.fs.protocol,))
        writing = f"{path}.partial" if local else path
        try:
            with self.fs.open(writing, "wb") as stream:
                stream.write(data.getvalue())
            if local:
                self.fs.mv(writing, path)
        except Exception:
            if local and self.fs.exists(writing):
                self.fs.rm(writing)
            raise

    def _new_segment(self) -> Segment | None:
        try:
            self.spool.mkdir(parents=True, exist_ok=True)
            return Segment(self.spool)
        except OSError as error:
            self._failed(f"the spool {self.spool}", error)
            return None

    def _failed(self, where: str, error: Exception) -> None:
        """Note a failure; print it once, when the log starts failing."""
        with self.failure_lock:
            first, self.failure = self.failure is None, f"cannot write {where}: {type(error).__name__}"
        if first:
            print(f"request log: cannot write {where} ({type(error).__name__}: {' '.join(str(error).split())[:200]}); "
                  f"answers go on, their rows kept in memory (at most {self.MEMORY_PARTS * self.rows}) until it can",
                  flush=True)

    def _recover(self) -> None:
        """Parts for the segments a server that stopped without closing its log left in the spool (one
        that cannot be written now stays there for the next start)."""
        if not self.spool.is_dir():
            return
        recovered, written = 0, None
        for segment, rows, delete in orphans(self.spool):
            try:
                if written is None:  # the parts already written, each naming its segment
                    written = {name.rsplit("-", 1)[-1].removesuffix(".parquet")
                               for name in self.fs.ls(self.folder, detail=False)} if self.fs.isdir(self.folder) else set()
                if rows and segment not in written:
                    self._write_part(rows, segment)
                    recovered += len(rows)
            except Exception as error:  # OSError, or what an object store's client raises
                self._failed(self.folder, error)
                continue
            delete()
        if recovered:
            print(f"request log: {recovered} rows a stopped server had not written are now a part of {self.folder}",
                  flush=True)

    def _write_parts(self) -> None:
        """fsync the spool every fsync_seconds; a part when the buffer is full or `seconds` have passed."""
        last_part = time.monotonic()
        while not self.closing:
            full = self.wake.wait(min(self.seconds, self.fsync_seconds))
            self.wake.clear()
            segment = self.segment  # synced outside the lock: a request never waits for the disk
            try:
                if segment:
                    segment.sync()
            except ValueError:
                pass  # closed meanwhile by a part: its rows are in that part
            except OSError as error:
                self._failed(f"the spool {self.spool}", error)
            if full or time.monotonic() - last_part >= self.seconds:
                self.flush()
                last_part = time.monotonic()

    def close(self) -> None:
        """Write what is buffered and stop."""
        self.closing = True
        self.wake.set()
        self.thread.join()
        self.flush()
        if self.segment:
            self.segment.close()
            self.segment.path.unlink(missing_ok=True)


def read_parts(fs, folder: str, after: str = "", columns: list[str] | None = None) -> tuple[pd.DataFrame, str]:
    """The rows (those `columns`, if given) of the parts in `folder` whose names sort after `after`, and
    the last such name."""
    folder = folder.rstrip("/")
    names = sorted(path.rsplit("/", 1)[-1] for path in fs.ls(folder, detail=False)) if fs.isdir(folder) else []
    names = [name for name in names if name.endswith(".parquet") and name > after]
    frames = []
    for name in names:
        with fs.open(f"{folder}/{name}", "rb") as stream:
            frames.append(pd.read_parquet(io.BytesIO(stream.read()), columns=columns))
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
KEY = ("request_id", "record")  # a logged answer's record, and the label that came back for it
# What the log adds to a record: the answer, and with a challenger the shadow's (serving/rollout.py).
LOGGED = ("request_id", "record", "time", "model_version", "model_md5", "prediction", "latency_ms", "answered_by",
          "shadow_version", "shadow_md5", "shadow_prediction", "shadow_ms", "shadow_error")


@dataclass
class Collected:
    name: str  # the batch's file name in incoming.location
    batch: pd.DataFrame
    after: str  # the last part collected before, "" for the start of the log
    replaced: int  # labels a later label for the same record replaced
    unanswered: int  # labels for a record no logged answer holds (yet): left out


def collect(params: Params) -> Collected | None:
    """Write the batch of the traffic not collected yet; what it wrote, or None when there was none.

    Only labels for a record a logged answer holds join it: the API refuses others (serving/request_ids.py),
    and this counts any that reached the log by another way."""
    fs, root = location_fs(params.incoming.location)
    mark = f"{root}/{LOG}/{MARK}"
    after = fs.cat_file(mark).decode().strip() if fs.exists(mark) else ""
    log, last = read_parts(fs, f"{root}/{LOG}", after)
    if log.empty:
        return None
    feedback, _ = read_parts(fs, f"{root}/{FEEDBACK}", columns=["request_id", "record"])
    answered, _ = read_parts(fs, f"{root}/{LOG}", columns=["request_id", "record"])
    labelled = pd.MultiIndex.from_frame(feedback) if len(feedback) else pd.MultiIndex.from_tuples([], names=KEY)
    unique = labelled.unique()
    unanswered = len(unique.difference(pd.MultiIndex.from_frame(answered[list(KEY)])))
    labels = read_labels(fs, root).rename(params.target)
    batch = log.drop(columns=[params.target], errors="ignore").join(labels, on=list(KEY))
    batch = batch.drop(columns=list(LOGGED), errors="ignore")
    name = last  # named by its newest part: batches sort by time
    with fs.open(f"{root}/{name}", "wb") as stream:
        batch.to_parquet(stream, index=False)
    fs.pipe(mark, last.encode())
    return Collected(name, batch, after, len(labelled) - len(unique), unanswered)
