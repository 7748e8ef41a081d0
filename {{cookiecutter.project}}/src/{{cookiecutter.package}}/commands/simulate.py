"""`make simulate`: the MLOps loop end to end on this project, shown as a console dashboard.

Serve the champion, send it healthy and then drifted traffic with labels, watch the monitor move it to
Degraded, retrain on the labelled traffic, validate against the champion, run it in the shadow on live
traffic, deploy under traffic and come back to Healthy (simulation/loop.py). It all happens in a
throwaway copy of the project with its own API on a free port of 127.0.0.1 (simulation/sandbox.py):
nothing here changes, and the copy and the server are gone at the end. It needs the pipeline's
outputs: `make repro` first.
"""

import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
from pathlib import Path

from ..config import load_params
from ..errors import UserError, run
from ..outputs import recorded_md5
from ..simulation.loop import DRIFTS, Api, Board, story
from ..simulation.sandbox import Sandbox

PACKAGE = __package__.split(".")[0]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_api(sandbox: Sandbox, board: Board) -> tuple[subprocess.Popen, Api]:
    """`make serve` in the live checkout, its lines shown on the board; back once it answers."""
    api = Api(free_port())
    server = subprocess.Popen([sys.executable, "-m", f"{PACKAGE}.commands.serve"], cwd=sandbox.live,
                              env={**sandbox.env, "HOST": "127.0.0.1", "PORT": str(api.port)},
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    threading.Thread(target=lambda: [board.say(f"api: {line.rstrip()}") for line in server.stdout],
                     daemon=True).start()
    deadline = time.monotonic() + 120
    while True:
        try:
            if api.version():
                return server, api
        except (urllib.error.URLError, OSError):
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            raise UserError("simulate: the API did not start in the sandbox (its lines are above)")
        time.sleep(0.2)


def main(argv: list[str]) -> None:
    drift = argv[0] if argv else DRIFTS[0]
    if drift not in DRIFTS or len(argv) > 1:
        raise UserError(f"simulate: DRIFT: expected one of {', '.join(DRIFTS)}, found {' '.join(argv)!r}")
    params = load_params()
    model = Path(params.paths.model)
    if not (model.is_file() and recorded_md5(model)):
        raise UserError(f"{model}: no model that dvc.lock records; `make repro` trains one, then `make simulate`")
    project = Path.cwd()
    with tempfile.TemporaryDirectory(prefix="simulate-") as folder:
        board = Board()
        sandbox = Sandbox(project, Path(folder))
        board.say(f"a copy of the project in {folder}: the champion on {params.gates.champion.base}, retraining "
                  "on a worktree; MLflow, the DVC cache and new data in the copy")
        sandbox.create({"incoming": {"location": str(sandbox.incoming)},
                        "serve": {"reload_seconds": 0.5, "log_seconds": 0.5},
                        "rollout": {"challenger": None, "canary_share": 0.0}}, params.gates.champion.base)
        server, api = start_api(sandbox, board)
        try:
            os.chdir(sandbox.live)  # the monitor reads the live checkout, as it would on the server
            story(board, sandbox, api, PACKAGE, drift)
        finally:
            os.chdir(project)
            server.terminate()
            server.wait(timeout=60)
    print(f"simulate: {' -> '.join(board.states)} in {time.monotonic() - board.started:.0f} s; the copy and "
          "its API are gone, the project is as it was")


if __name__ == "__main__":
    run(lambda: main(sys.argv[1:]))
