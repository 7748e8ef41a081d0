"""The request log's write-ahead file: every answer is on local disk before the caller has it.

Each log (answers, feedback) of each worker process appends its rows as JSON lines to a segment of its
own in the spool folder (serve.log_spool), handed to the operating system at once (so `kill -9` of the
server loses nothing) and fsync'd every serve.log_fsync_seconds (so a crash of the machine loses at most
that). When the log writes a Parquet part, the segment behind it is closed and a new one begun; the
closed one is deleted once its part is written. A segment whose process died (no lock held on it) is
made a part at the next start: the part carries the segment's id, so none is written twice.
"""

import fcntl
import json
import os
import uuid
from pathlib import Path


class Segment:
    """One segment, open for appending, locked by this process for as long as it lives."""

    def __init__(self, folder: Path):
        self.id = uuid.uuid4().hex[:12]
        self.path = folder / f"{self.id}.jsonl"
        self.file = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 (open until closed)
        fcntl.flock(self.file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self.dirty = False

    def append(self, rows: list[dict]) -> None:
        self.file.write("".join(json.dumps(row, default=str) + "\n" for row in rows))
        self.file.flush()  # to the operating system: a killed process loses nothing
        self.dirty = True

    def sync(self) -> None:
        if self.dirty:
            self.dirty = False
            os.fsync(self.file.fileno())

    def close(self) -> None:
        self.file.close()


def orphans(folder: Path):
    """(id, rows, delete) for each segment no live process holds, oldest first: `delete()` once its rows
    are safe. A segment another starting worker took first is passed over."""
    for path in sorted(folder.glob("*.jsonl"), key=lambda path: path.stat().st_mtime if path.exists() else 0):
        try:
            stream = open(path, encoding="utf-8")  # noqa: SIM115 (closed below)
        except FileNotFoundError:
            continue
        with stream:
            try:
                fcntl.flock(stream, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # its process is alive
            if not path.exists() or os.stat(path).st_ino != os.fstat(stream.fileno()).st_ino:
                continue  # recovered and deleted by another worker meanwhile
            rows = []
            for line in stream:
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError:
                    pass  # the last line, cut short by the crash: never answered whole
            yield path.stem, rows, path.unlink
