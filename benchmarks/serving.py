"""`make serve` against `mlflow models serve`, on the same model and machine, in one run.

Run from the template root on a project where `make repro` and `make promote` ran (`make demo`, then
`make -C build/demo/my-ml-project promote`):
    .venv/bin/python benchmarks/serving.py build/demo/my-ml-project
Needs `hey` (Debian package). `make serve` runs three times: as configured, with batching off
(serve.batch_max_rows 1: what batching buys) and with two worker processes (serve.workers 2: what a
second worker buys on this machine's cores), params.yaml put back after each. Every server listens on
127.0.0.1 only; `mlflow models serve` runs one worker. For each:
the time from start to the first answered request, single-row requests at 1, 8 and 32 concurrent
clients (throughput, p50/p95/p99 latency), rows/s with 100-row requests at 8 clients, and the server's
memory (every process it started). Each load lasts SECONDS; request logging is on for `make serve` (its parts go to the project's
incoming folder, and are removed afterwards when that folder held no log before).
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

SECONDS = 10
SAMPLE_ROW_SCRIPT = """
import json
from {package}.config import load_params
from {package}.data.features import feature_columns
from {package}.data.tables import read_table
params = load_params()
test = read_table(params.paths.test)
print(json.dumps(json.loads(test[feature_columns(test, params.target)].to_json(orient="records"))))
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start(command: list[str], cwd: Path, env: dict, ready: str, body: bytes) -> tuple[subprocess.Popen, float]:
    """The server, and the seconds from its start to its first answered request."""
    started = time.perf_counter()
    server = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    while True:
        try:
            request = urllib.request.Request(ready, body, {"Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=5) as answer:
                if answer.status == 200:
                    return server, time.perf_counter() - started
        except (urllib.error.URLError, OSError):
            pass
        if server.poll() is not None or time.perf_counter() - started > 300:
            raise SystemExit(f"{command[0]} did not start")
        time.sleep(0.1)


def rss_mib(pid: int) -> float:
    """Resident memory of the processes of the session `pid` leads (a server and its workers), in MiB."""
    found = subprocess.run(["ps", "-o", "rss=", "--sid", str(pid)], capture_output=True, text=True)
    return sum(int(value) for value in found.stdout.split()) / 1024


def load(url: str, body: bytes, clients: int) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".json") as file:
        file.write(body)
        file.flush()
        out = subprocess.run(["hey", "-z", f"{SECONDS}s", "-c", str(clients), "-m", "POST", "-T", "application/json",
                              "-D", file.name, url], capture_output=True, text=True, check=True).stdout
    latency = {int(p): float(s) * 1000 for p, s in re.findall(r"(\d+)%+ in ([\d.]+) secs", out)}
    codes = dict(re.findall(r"\[(\d+)\]\s+(\d+) responses", out))
    failed = sum(int(count) for code, count in codes.items() if code != "200")
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)), "p50": latency.get(50),
            "p95": latency.get(95), "p99": latency.get(99), "failed": failed}


def stop(server: subprocess.Popen) -> None:
    os.killpg(server.pid, signal.SIGTERM)
    server.wait(timeout=60)


def measure(name: str, server: subprocess.Popen, seconds: float, url: str, one: bytes, hundred: bytes) -> dict:
    result = {"name": name, "start": seconds}
    for clients in (1, 8, 32):
        result[clients] = load(url, one, clients)
    result["rows/s"] = load(url, hundred, 8)["rps"] * 100
    result["memory"] = rss_mib(server.pid)
    stop(server)
    return result


def serve_ours(project: Path, env: dict, rows: list, name: str) -> dict:
    port = free_port()
    url = f"http://127.0.0.1:{port}/predict"
    bodies = [json.dumps({"records": records}).encode() for records in (rows[:1], (rows * 100)[:100])]
    server, seconds = start(["make", "serve", f"PORT={port}"], project, env, url, bodies[0])
    return measure(name, server, seconds, url, *bodies)


def with_serve_setting(params: Path, key: str, value: int) -> str:
    """params.yaml with serve.`key` set to `value`; the original text, to put back."""
    original = params.read_text()
    changed = re.sub(rf"(\n  {key}:) *\d+", rf"\g<1> {value}", original)
    if changed == original:
        raise SystemExit(f"{params}: no serve.{key} to set")
    params.write_text(changed)
    return original


def main() -> None:
    project = Path(sys.argv[1]).resolve()
    package = next(p.name for p in (project / "src").iterdir() if (p / "serving").is_dir())
    python = str(project / ".venv/bin/python")
    env = {**os.environ, "PATH": f"{project / '.venv/bin'}:{os.environ['PATH']}"}
    env.pop("MLFLOW_TRACKING_URI", None)
    rows = json.loads(subprocess.run([python, "-c", SAMPLE_ROW_SCRIPT.format(package=package)], cwd=project, env=env,
                                     capture_output=True, text=True, check=True).stdout)
    name = re.search(r"model_name: \"?([\w.-]+)", (project / "params.yaml").read_text()).group(1)

    logged = [project / "data/incoming" / folder for folder in ("log", "feedback")]
    new_log = not any(folder.exists() for folder in logged)
    results = [serve_ours(project, env, rows, "make serve")]
    for label, key, value in (("batching off", "batch_max_rows", 1), ("2 workers", "workers", 2)):
        original = with_serve_setting(project / "params.yaml", key, value)
        try:
            results.append(serve_ours(project, env, rows, f"make serve, {label}"))
        finally:
            (project / "params.yaml").write_text(original)
    if new_log:
        for folder in logged:
            shutil.rmtree(folder, ignore_errors=True)

    port = free_port()
    url = f"http://127.0.0.1:{port}/invocations"
    bodies = [json.dumps({"dataframe_records": records}).encode() for records in (rows[:1], (rows * 100)[:100])]
    mlflow_env = {**env, "MLFLOW_TRACKING_URI": f"sqlite:///{project / 'mlflow.db'}"}
    server, seconds = start([str(project / ".venv/bin/mlflow"), "models", "serve", "-m", f"models:/{name}@champion",
                             "--env-manager", "local", "-h", "127.0.0.1", "-p", str(port), "-w", "1"], project,
                            mlflow_env, url, bodies[0])
    results.append(measure("mlflow models serve", server, seconds, url, *bodies))
    report(results)


def report(results: list[dict]) -> None:
    print("| server | first answer (s) | clients | requests/s | p50 ms | p95 ms | p99 ms | failed |")
    print("|---|---|---|---|---|---|---|---|")
    for result in results:
        for clients in (1, 8, 32):
            r = result[clients]
            print(f"| {result['name']} | {result['start']:.1f} | {clients} | {r['rps']:.0f} | {r['p50']:.1f} | "
                  f"{r['p95']:.1f} | {r['p99']:.1f} | {r['failed']} |")
    for result in results:
        print(f"{result['name']}: 100-row requests at 8 clients: {result['rows/s']:,.0f} rows/s; "
              f"memory {result['memory']:.0f} MiB")
    ours, alone, two, theirs = results
    for clients in (8, 32):
        print(f"single-row throughput at {clients} clients: {ours[clients]['rps'] / theirs[clients]['rps']:.1f}x "
              f"mlflow models serve's (batching: {ours[clients]['rps'] / alone[clients]['rps']:.1f}x; "
              f"2 workers: {two[clients]['rps'] / ours[clients]['rps']:.2f}x 1 worker); "
              f"p95 {ours[clients]['p95']:.1f} ms vs {theirs[clients]['p95']:.1f} ms")


if __name__ == "__main__":
    main()
