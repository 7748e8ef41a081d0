"""What a challenger in the shadow costs the answers: the API alone, then beside a challenger that
scores like the champion, one that fails every call, and one that sleeps a second per call.

Run from the template root on a project where `make repro` ran (`make demo`):
    .venv/bin/python benchmarks/rollout.py build/demo/my-ml-project
Needs `hey`. Each API is the project's own (serving/app.py), on 127.0.0.1, serving the model dvc.lock
names; the challenger is that model again under another name (so both do the same work), or it wrapped
to fail or to sleep. Single-row requests at 8 concurrent clients for SECONDS each; the log goes to a
temporary folder. Ratios are against the API alone, measured in the same run.
"""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from serving import SAMPLE_ROW_SCRIPT, free_port, load, start, stop

MODES = ("alone", "shadow", "failing", "sleeping")
SERVER_SCRIPT = """
import dataclasses, sys, time
import fsspec, uvicorn
from {package}.config import load_params
from {package}.data.contract import load_contract
from {package}.serving.access import Tokens
from {package}.serving.app import Logs, create_app
from {package}.serving.model import Watched, workspace_model
from {package}.serving.request_ids import RequestIds, key_from
from {package}.serving.request_log import PartWriter
from {package}.serving.rollout import Challenger

mode, port, folder = sys.argv[1], int(sys.argv[2]), sys.argv[3]
params = load_params()
served = workspace_model(params)


class Failing:
    def predict(self, features):
        raise RuntimeError("broken")


class Sleeping:
    def __init__(self, model):
        self.model = model

    def predict(self, features):
        time.sleep(1.0)
        return self.model.predict(features)


model = {{"shadow": served.model, "failing": Failing(), "sleeping": Sleeping(served.model)}}.get(mode)
other = dataclasses.replace(served, model=model, md5="0" * 32, version="md5:challenger")
challenger = None if mode == "alone" else Challenger(Watched(lambda: other.md5, lambda: other, 60, "challenger"), 0.0,
                                                      params.rollout.shadow_timeout_ms / 1000)
fs, serve = fsspec.filesystem("file"), params.serve
logs = Logs(*(PartWriter(fs, f"{{folder}}/{{name}}", serve.log_rows, serve.log_seconds, f"{{folder}}/spool/{{name}}",
                         serve.log_fsync_seconds) for name in ("log", "feedback")))
app = create_app(Watched(lambda: served.md5, lambda: served, 60), load_contract(params.paths.contract), serve, logs,
                 Tokens(None, None), RequestIds(key_from(None, None), 3600), tuple(params.prepare.drop_columns or ()),
                 challenger)
uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")
"""


def main() -> None:
    project = Path(sys.argv[1]).resolve()
    package = next(p.name for p in (project / "src").iterdir() if (p / "serving").is_dir())
    python = str(project / ".venv/bin/python")
    rows = json.loads(subprocess.run([python, "-c", SAMPLE_ROW_SCRIPT.format(package=package)], cwd=project,
                                     capture_output=True, text=True, check=True).stdout)
    body = json.dumps({"records": rows[:1]}).encode()
    results = {}
    for mode in MODES:
        port = free_port()
        url = f"http://127.0.0.1:{port}/predict"
        with tempfile.TemporaryDirectory() as folder:
            server, _ = start([python, "-c", SERVER_SCRIPT.format(package=package), mode, str(port), folder],
                              project, dict(os.environ), url, body)
            results[mode] = load(url, body, 8)
            stop(server)
    print("| challenger in the shadow | requests/s | p50 ms | p95 ms | p99 ms | failed | throughput vs alone |")
    print("|---|---|---|---|---|---|---|")
    for mode, r in results.items():
        print(f"| {mode} | {r['rps']:.0f} | {r['p50']:.1f} | {r['p95']:.1f} | {r['p99']:.1f} | {r['failed']} | "
              f"{r['rps'] / results['alone']['rps']:.2f}x |")


if __name__ == "__main__":
    main()
