"""A Dask cluster of separate processes on 127.0.0.1 beside a baked project, and data made for it: the
scale-out test and the scale-out benchmark share both."""

import os
import signal
import socket
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

from conftest import free_port

# Raw data for the dask engine: the sample's rows drawn again, in Parquet parts (`parts` × `rows`), with
# bill_length_mm moved by a little noise (so rows are rarely repeats) and, when `comment` is above 0, a
# free-text column of that many characters (raw data often has one that prepare drops). The current
# batch is a sixth of the parts.
GENERATE = """
import sys
from pathlib import Path
import numpy as np, pandas as pd
parts, rows, comment = (int(arg) for arg in sys.argv[1:4])
sample = pd.read_csv("data/raw/penguins.csv")
rng = np.random.default_rng(0)
for name, count in (("raw", parts), ("current", parts // 6)):
    folder = Path("data", name, "parts")
    folder.mkdir(parents=True, exist_ok=True)
    for index in range(count):
        part = sample.sample(rows, replace=True, random_state=int(rng.integers(2**31))).reset_index(drop=True)
        part["bill_length_mm"] = (part["bill_length_mm"] + rng.normal(0, 0.3, rows)).round(1)
        if comment:
            part["comment"] = pd.Series(rng.integers(0, 10**9, rows)).astype(str).str.pad(comment, fillchar="x")
        part.to_parquet(folder / f"part.{index}.parquet", index=False)
"""


def generate_parts(project: Path, parts: int, rows: int, comment: int = 0) -> None:
    """GENERATE run with the project's interpreter: data/raw/parts and data/current/parts."""
    subprocess.run([str(project / ".venv/bin/python"), "-c", GENERATE, str(parts), str(rows), str(comment)],
                   cwd=project, check=True)


def listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@contextmanager
def dask_cluster(project: Path, log: Path, workers: int = 2, memory: str = "800MiB"):
    """`dask scheduler` and `workers` × `dask worker` (one thread and `memory` each) on loopback; its address."""
    port, dask = free_port(), str(project / ".venv/bin/dask")
    address = f"tcp://127.0.0.1:{port}"
    commands = [[dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"]]
    commands += [[dask, "worker", address, "--host", "127.0.0.1", "--nthreads", "1", "--memory-limit", memory,
                  "--no-dashboard", "--name", f"worker-{index}"] for index in range(1, workers + 1)]
    processes = []
    with open(log, "w") as stream:
        try:
            for command in commands:
                processes.append(subprocess.Popen(command, cwd=project, stdout=stream, stderr=subprocess.STDOUT,
                                                  start_new_session=True))
                deadline = time.monotonic() + 60
                while command[1] == "scheduler" and not listening(port):
                    assert time.monotonic() < deadline and processes[-1].poll() is None, log.read_text()
                    time.sleep(0.3)
            wait = f"from dask.distributed import Client; Client({address!r}).wait_for_workers({workers}, timeout=120)"
            subprocess.run([str(project / ".venv/bin/python"), "-c", wait], check=True, cwd=project)
            yield address
        finally:
            for process in reversed(processes):
                os.killpg(process.pid, signal.SIGTERM)
            for process in processes:
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
