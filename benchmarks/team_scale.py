"""Team scale: `dvc push`/`dvc pull` throughput to an S3 server on loopback, and a queued grid of six
experiments run by one queue worker and then by two.

Run from the template root with the template's virtualenv: `.venv/bin/python benchmarks/team_scale.py`
(about 10 minutes, 3 GB of free disk and memory). Prints Markdown tables. The S3 server is moto on
127.0.0.1, so the numbers measure DVC and the S3 protocol, not a network; each grid run starts
without DVC's run cache, so every experiment trains.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TEMPLATE / "tests"))
# The tests' own helpers: S3 server, baking, a user's environment, the grid the team tests run.
from conftest import Session, bake, create_bucket, git, queue_grid, s3_client, serve_s3  # noqa: E402

MIB = 1 << 20


def run(project: Path, env: dict, *command: str) -> float:
    """Wall time of a command, in seconds; stops the benchmark with its output if it fails."""
    started = time.perf_counter()
    result = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True)
    if result.returncode:
        sys.exit(f"{' '.join(command)} failed:\n{result.stdout}{result.stderr}")
    return time.perf_counter() - started


def amount(size: float) -> str:
    return f"{size / MIB:.1f} MiB" if size >= MIB else f"{size / 1024:.0f} KiB"


def bucket_contents(endpoint: str) -> tuple[int, int]:
    """Objects and bytes in the benchmark's bucket."""
    pages = s3_client(endpoint).get_paginator("list_objects_v2").paginate(Bucket="bench")
    items = [item for page in pages for item in page.get("Contents", [])]
    return len(items), sum(item["Size"] for item in items)


def transfer(project: Path, env: dict, endpoint: str, name: str, *targets: str) -> tuple:
    """Push `targets` (everything when none), then pull them into a fresh clone of the project.

    Returns (name, files sent, bytes sent, push seconds, pull seconds); what was sent is read from the bucket.
    """
    objects, size = bucket_contents(endpoint)
    pushed = run(project, env, "dvc", "push", *targets)
    after = bucket_contents(endpoint)
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "--allow-empty", "-m", name)
    clone = project.parent / "clone"
    git(project.parent, "clone", "--quiet", str(project), str(clone))
    pulled = run(clone, env, "dvc", "pull", *targets)
    shutil.rmtree(clone)
    return name, after[0] - objects, after[1] - size, pushed, pulled


def grid(session: Session, workers: int) -> float:
    """Wall time of the six-experiment grid with `workers` queue workers, from an empty run cache."""
    shutil.rmtree(session.project / ".dvc/cache/runs", ignore_errors=True)
    session.run("forget earlier experiments", "dvc", "exp", "remove", "--all-commits")
    started = time.perf_counter()
    status = queue_grid(session, workers)
    elapsed = time.perf_counter() - started
    if status.count("Success") != 6:
        sys.exit(f"the grid did not succeed:\n{status}")
    session.run("clear the queue", "dvc", "queue", "remove", "--success")
    return elapsed


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, serve_s3(Path(tmp)) as endpoint:
        project = bake(Path(tmp), dvc_remote="s3", s3_bucket="bench", s3_prefix="project", s3_endpoint_url=endpoint)
        session = Session.for_project(project)
        env = session.env  # the project's virtualenv first on PATH, and moto's dummy credentials
        env |= {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
        create_bucket(endpoint, "bench")
        run(project, env, "make", "setup")
        run(project, env, "make", "repro")
        git(project, "add", "--all")
        git(project, "commit", "--quiet", "-m", "First run")

        one, two = grid(session, 1), grid(session, 2)
        print("| six-experiment grid (`dvc exp run --queue`, two train params) | wall time |\n|---|---|")
        print(f"| one worker | {one:.1f} s |\n| two workers (`dvc queue start --jobs 2`) | {two:.1f} s "
              f"({one / two:.2f}x faster) |\n")

        rows = [transfer(project, env, endpoint, "sample: data, splits, model, reports")]
        many, single = project / "data/bulk-many", project / "data/bulk-one.bin"
        many.mkdir()
        for number in range(1024):
            many.joinpath(f"part-{number:04}.bin").write_bytes(os.urandom(MIB))
        with open(single, "wb") as stream:
            for _ in range(1024):
                stream.write(os.urandom(MIB))
        for path in (many, single):
            run(project, env, "dvc", "add", str(path.relative_to(project)))
        rows.append(transfer(project, env, endpoint, "1 GiB in 1,024 files of 1 MiB", "data/bulk-many.dvc"))
        rows.append(transfer(project, env, endpoint, "1 GiB in one file", "data/bulk-one.bin.dvc"))
    print("| data | objects sent | size | `dvc push` | `dvc pull` (fresh clone) |\n|---|---|---|---|---|")
    for name, files, size, pushed, pulled in rows:
        print(f"| {name} | {files} | {amount(size)} | {pushed:.1f} s ({amount(size / pushed)}/s) "
              f"| {pulled:.1f} s ({amount(size / pulled)}/s) |")


if __name__ == "__main__":
    main()
