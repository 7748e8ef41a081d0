"""Validation of 1,000,000 rows x 20 columns (mixed types) against a realistic contract.

Run with a generated project's interpreter, from the template root:
    PROJECT=build/demo/my-ml-project
    $PROJECT/.venv/bin/python benchmarks/validate_1m.py $PROJECT/src
Prints the time to read the Parquet file and the memory the frame holds, and the time to validate it
and the peak of what validation allocates (ratios to the read), measured in the same run.
"""

import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

sys.path.insert(0, sys.argv[1] if len(sys.argv) > 1 else "src")
package = next(p.name for p in Path(sys.path[0]).iterdir() if (p / "data/checks.py").is_file())
check_frame = __import__(f"{package}.data.checks", fromlist=["check_frame"]).check_frame
load_contract = __import__(f"{package}.data.contract", fromlist=["load_contract"]).load_contract

ROWS = 1_000_000
CATEGORIES = ["north", "south", "east", "west", "centre"]


def make_frame(rng: np.random.Generator) -> pd.DataFrame:
    """12 float, 3 integer and 5 text columns, 1% missing in the floats, a few out-of-range values."""
    data = {f"x{i}": rng.normal(50, 10, ROWS) for i in range(12)}
    for i in range(12):
        data[f"x{i}"][rng.random(ROWS) < 0.01] = np.nan
    data["x0"][:100] = 500.0  # out of range: the contract must report these
    data |= {f"n{i}": rng.integers(0, 1000, ROWS) for i in range(3)}
    data |= {f"c{i}": rng.choice(CATEGORIES, ROWS) for i in range(5)}
    return pd.DataFrame(data)


def contract() -> dict:
    columns = {f"x{i}": {"type": "float", "min": 0, "max": 100, "max_missing": 0.05} for i in range(12)}
    columns |= {f"n{i}": {"type": "integer", "min": 0, "max": 999} for i in range(3)}
    columns |= {f"c{i}": {"type": "category", "allowed": CATEGORIES} for i in range(5)}
    rules = [{"name": "x1_near_x2", "expr": "x1 - x2 < 80", "message": "x1 is never far above x2"}]
    return {"dataset": {"min_rows": 100}, "columns": columns, "rules": rules}


def rss_mib() -> float:
    """Resident memory now. (ru_maxrss is no use here: a child process inherits its parent's peak.)"""
    with open("/proc/self/statm") as stream:
        return int(stream.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class PeakRss:
    """The highest resident memory seen, sampled every 10 ms in a thread (tracemalloc would
    slow validation many times over, and misses memory numpy and Arrow allocate outside Python)."""

    def __enter__(self) -> "PeakRss":
        self.peak, self.running = rss_mib(), True
        self.thread = threading.Thread(target=self._sample)
        self.thread.start()
        return self

    def _sample(self) -> None:
        while self.running:
            self.peak = max(self.peak, rss_mib())
            time.sleep(0.01)

    def __exit__(self, *exc) -> None:
        self.running = False
        self.thread.join()


def measure(data: str, spec: str) -> None:
    """In a fresh process, so the peak memory is the read's and the validation's, not the data maker's."""
    before = rss_mib()
    started = time.perf_counter()
    frame = pd.read_parquet(data)
    read_seconds = time.perf_counter() - started
    frame_mib = rss_mib() - before
    contract = load_contract(spec)
    with PeakRss() as memory:
        baseline = rss_mib()
        started = time.perf_counter()
        failures = check_frame(frame, contract, "data.parquet")
        validate_seconds = time.perf_counter() - started
    validate_peak = memory.peak - baseline
    print(f"rows x columns      {ROWS:,} x {frame.shape[1]}")
    print(f"read (Parquet)      {read_seconds:.2f} s; the frame holds {frame_mib:.0f} MiB")
    print(f"validate            {validate_seconds:.2f} s ({validate_seconds / read_seconds:.1f}x the read); "
          f"peak memory on top of the frame {validate_peak:.0f} MiB ({validate_peak / frame_mib:.2f}x the frame)")
    print(f"broken rules found  {len(failures)}: " + ", ".join(f"{f.column}.{f.rule} ({f.failing_rows})" for f in failures))


def main() -> None:
    if len(sys.argv) > 3 and sys.argv[2] == "--measure":
        return measure(sys.argv[3], sys.argv[4])
    with tempfile.TemporaryDirectory() as tmp:
        data, spec = Path(tmp) / "data.parquet", Path(tmp) / "contract.yaml"
        make_frame(np.random.default_rng(0)).to_parquet(data, index=False)
        spec.write_text(yaml.safe_dump(contract()))
        subprocess.run([sys.executable, __file__, sys.path[0], "--measure", str(data), str(spec)], check=True)


if __name__ == "__main__":
    main()
