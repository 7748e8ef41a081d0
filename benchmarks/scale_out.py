"""The five stages on the pandas engine and on a Dask cluster of one and of two workers, in one run.

Run from the template root with the template's virtualenv: `.venv/bin/python benchmarks/scale_out.py`
(about half an hour for the default 20 million rows; `--parts N` for N × 100,000 raw rows). It bakes a
project, runs `make setup` and `make repro` on the sample, then generates the sample's rows drawn again
as Parquet parts (the test's generator, without its text column) and runs each stage, in order, with
`dvc repro --force --single-item --no-commit`, three times: `compute.engine: pandas`, then `dask` against `dask scheduler` and one
`dask worker`, then two (one thread and WORKER_MEMORY each, all on 127.0.0.1). Prints a Markdown table:
per stage, the rows it reads, wall time, rows per second, and peak resident memory: the stage's own
process, and the largest peak among the workers (each worker's high-water mark is reset before a stage).
On dask, train fits on compute.sample_rows drawn rows, and evaluate's latency and importance use a sample
too, so those rows/s count the rows the stage reads, not the rows it fits on.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TEMPLATE / "tests"))
# The tests' own helpers: baking, a user's environment, the scale-out test's cluster and data.
from conftest import Session, bake, params_edit  # noqa: E402
from dask_cluster import dask_cluster, generate_parts  # noqa: E402

ROWS_PER_PART = 100_000
WORKER_MEMORY = "6GiB"
STAGES = ("prepare", "validate", "train", "evaluate", "drift-check")
WORKER_PIDS = "import json, os, sys; from dask.distributed import Client; " \
              "print(json.dumps(list(Client(sys.argv[1]).run(os.getpid).values())))"


def high_water_mib(pid: int) -> float:
    """A process's peak resident memory since its last reset (VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM for process {pid}")


def reset_high_water(pid: int) -> None:
    """Start a process's peak afresh from its current resident memory (Linux 4.0 and later)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def run_stage(session: Session, stage: str) -> tuple[float, float]:
    """`dvc repro` of one stage, forced, its outputs left out of the cache (copying them there is not the
    engine's work): its wall time and the peak of its processes (MiB)."""
    command = ["dvc", "repro", "--force", "--single-item", "--no-commit", stage]
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=session.project, env=session.env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    output = process.stdout.read()
    # wait4's peak is the largest of the process and the children it waited for: the stage's Python.
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        sys.exit(f"{' '.join(command)} failed:\n{output}")
    print(output.strip(), file=sys.stderr)
    return elapsed, usage.ru_maxrss / 1024


def run_stages(session: Session, worker_pids: list[int]) -> dict[str, dict]:
    """Each stage once, in order: seconds, the stage process's peak and the workers' largest peak."""
    results = {}
    for stage in STAGES:
        for pid in worker_pids:
            reset_high_water(pid)
        seconds, peak = run_stage(session, stage)
        workers = max((high_water_mib(pid) for pid in worker_pids), default=None)
        results[stage] = {"seconds": seconds, "process_mib": peak, "worker_mib": workers}
    return results


def rows_read(project: Path, raw_rows: int) -> dict[str, int]:
    """The rows each stage reads, from validate's counts of the splits and the current batch."""
    rows = json.loads((project / "reports/validation.json").read_text())["rows"]
    train, test, current = rows["train"], rows["test"], rows["current"]
    return {"prepare": raw_rows, "validate": train + test + current, "train": train, "evaluate": test,
            "drift-check": train + current}


def set_engine(project: Path, engine: str) -> None:
    def change(params):
        params["compute"] |= {"engine": engine, "scheduler": None, "memory_limit": None}
    params_edit(project, change)


def cell(result: dict, rows: int, baseline: dict) -> str:
    worker = f", workers {result['worker_mib']:,.0f} MiB" if result["worker_mib"] is not None else ""
    ratio = baseline["seconds"] / result["seconds"]
    return (f"{result['seconds']:.1f} s, {rows / result['seconds']:,.0f} rows/s ({ratio:.2f}x), "
            f"process {result['process_mib']:,.0f} MiB{worker}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", type=int, default=200, help="raw Parquet parts of 100,000 rows each")
    parts = parser.parse_args().parts
    with tempfile.TemporaryDirectory() as tmp:
        project = bake(Path(tmp))
        session = Session.for_project(project)
        session.run("setup", "make", "setup")
        session.run("repro", "make", "repro")
        generate_parts(project, parts, ROWS_PER_PART)

        def big_data(params):
            params["paths"] |= {"raw": "data/raw/parts", "current": "data/current/parts"}
        params_edit(project, big_data)

        results, rows = {}, {}  # by engine: each stage's figures; the rows each stage read (its split's own)
        set_engine(project, "pandas")
        results["pandas"] = run_stages(session, [])
        rows["pandas"] = rows_read(project, parts * ROWS_PER_PART)
        set_engine(project, "dask")
        for workers in (1, 2):
            with dask_cluster(project, Path(tmp, f"dask-{workers}.log"), workers, WORKER_MEMORY) as address:
                session.env["DASK_SCHEDULER_ADDRESS"] = address
                pids = json.loads(session.run("worker pids", "python", "-c", WORKER_PIDS, address))
                name = f"dask, {workers} worker{'s' * (workers > 1)}"
                results[name], rows[name] = run_stages(session, pids), rows_read(project, parts * ROWS_PER_PART)

    baseline = results["pandas"]
    print(f"{parts * ROWS_PER_PART:,} raw rows in {parts} Parquet parts; {ROWS_PER_PART:,} rows a part; "
          f"dask workers: one thread and {WORKER_MEMORY} each; ratios: speed against pandas.\n")
    print("| stage | rows read (pandas) | " + " | ".join(results) + " |")
    print("|---|---|" + "---|" * len(results))
    for stage in STAGES:
        cells = " | ".join(cell(result[stage], rows[name][stage], baseline[stage]) for name, result in results.items())
        print(f"| {stage} | {rows['pandas'][stage]:,} | {cells} |")
    totals = {name: sum(stage["seconds"] for stage in result.values()) for name, result in results.items()}
    print("| all five | | " + " | ".join(f"{seconds:.1f} s ({totals['pandas'] / seconds:.2f}x)"
                                         for seconds in totals.values()) + " |")


if __name__ == "__main__":
    main()
