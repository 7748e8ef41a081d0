"""What a crash or a failing disk may cost the request log: a killed process loses no row it spooled, a
log folder that cannot be written costs no answer, and says so once."""

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import fsspec

from {{ cookiecutter.package }}.serving.request_log import PartWriter, read_parts

from api import GOOD, call, start_api

# A process that logs 50 rows in 5 calls, as 5 answers would, says so, then waits to be killed.
LOGGING_PROCESS = """
import sys, time
from datetime import UTC, datetime
import fsspec
from {{ cookiecutter.package }}.serving.request_log import PartWriter
writer = PartWriter(fsspec.filesystem("file"), sys.argv[1], 1000, 3600, sys.argv[2], 1)
for call in range(5):
    writer.append([{"request_id": f"r{call}", "record": i, "time": datetime.now(UTC), "x": i * 0.5} for i in range(10)])
print("logged", flush=True)
time.sleep(600)
"""


def writer(tmp_path, rows: int = 1000) -> PartWriter:
    return PartWriter(fsspec.filesystem("file"), str(tmp_path / "log"), rows, 3600, tmp_path / "spool", 1)


def rows(tmp_path):
    return read_parts(fsspec.filesystem("file"), str(tmp_path / "log"))[0]


def test_the_rows_of_a_killed_process_are_a_part_at_the_next_start(tmp_path, capsys):
    process = subprocess.Popen([sys.executable, "-c", LOGGING_PROCESS, str(tmp_path / "log"), str(tmp_path / "spool")],
                               stdout=subprocess.PIPE, text=True, env=os.environ | {"PYTHONPATH": os.pathsep.join(sys.path)})
    assert process.stdout.readline().strip() == "logged"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert not (tmp_path / "log").exists()  # no part was written before the kill
    next_start = writer(tmp_path)
    assert "50 rows a stopped server had not written" in capsys.readouterr().out
    next_start.close()
    log = rows(tmp_path)
    assert len(log) == 50 and log["request_id"].value_counts().to_dict() == {f"r{call}": 10 for call in range(5)}
    assert str(log["time"].dtype).startswith("datetime64") and log["x"].sum() == 5 * 22.5
    assert list((tmp_path / "spool").iterdir()) == []


def test_a_segment_whose_part_was_written_before_the_crash_is_not_written_again(tmp_path):
    first = writer(tmp_path)
    first.append([{"request_id": "a", "record": 0, "time": datetime.now(UTC)}])
    spooled = first.segment.path
    kept = spooled.read_text()
    first.flush()  # the part is written, and its segment deleted: a crash just before that deletion ...
    first.close()
    spooled.write_text(kept)  # ... leaves the segment beside its part
    writer(tmp_path).close()
    assert len(rows(tmp_path)) == 1 and not spooled.exists()


def test_a_log_folder_that_cannot_be_written_costs_no_row_it_can_keep_and_says_so_once(tmp_path, capsys):
    (tmp_path / "log").write_text("a file where the log's folder should be")
    log = writer(tmp_path, rows=2)
    for number in range(30):
        log.append([{"request_id": f"r{number}", "record": 0, "time": datetime.now(UTC)}])
        log.flush()
    assert log.failure.startswith(f"cannot write {tmp_path / 'log'}") and log.dropped == 10  # 10 parts of 2 kept
    assert capsys.readouterr().out.count("request log: cannot write") == 1
    (tmp_path / "log").unlink()
    log.flush()
    assert log.failure is None and "writing again" in capsys.readouterr().out
    log.close()
    assert rows(tmp_path)["request_id"].tolist() == [f"r{number}" for number in range(10, 30)]


def test_the_api_answers_while_its_log_fails_and_health_says_so(champion, tmp_path):
    (tmp_path / "incoming").mkdir()
    (tmp_path / "incoming/log").write_text("a file where the log's folder should be")
    api = start_api(champion, tmp_path)
    try:
        assert [call(api.url, "/predict", {"records": [GOOD]})[0] for _ in range(6)] == [200] * 6
        deadline = time.monotonic() + 10
        while call(api.url, "/health")[1]["log"] == "ok":  # the log's thread tries a part of 4 rows
            assert time.monotonic() < deadline
            time.sleep(0.05)
        health = call(api.url, "/health")
        assert health[0] == 200 and health[1]["log"].startswith(f"answers: cannot write {tmp_path / 'incoming/log'}")
    finally:
        api.stop()
    assert Path(tmp_path / "incoming/log").is_file()
