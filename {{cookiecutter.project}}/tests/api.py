"""A real uvicorn server for the API tests, on a free loopback port, and an HTTP client for it."""

import json
import socket
import threading
import time
import urllib.error
import urllib.request

import fsspec
import uvicorn

from {{ cookiecutter.package }}.config import Serve
from {{ cookiecutter.package }}.data.contract import load_contract
from {{ cookiecutter.package }}.serving.app import Logs, create_app
from {{ cookiecutter.package }}.serving.model import Served, Watched
from {{ cookiecutter.package }}.serving.request_log import PartWriter

CONTRACT = """
dataset: {target: label}
columns:
  size: {type: float, min: 0, max: 30}
  weight: {type: float, max_missing: 0.1}
  color: {type: category, allowed: [red, blue]}
  label: {type: category, allowed: [big, small]}
"""
GOOD = {"size": 12.5, "weight": 37.0, "color": "red"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Api:
    def __init__(self, server: uvicorn.Server):
        self.server, self.url = server, f"http://127.0.0.1:{server.config.port}"
        self.thread = threading.Thread(target=server.run, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        """As Ctrl-C stops it: the server finishes, then writes its logs."""
        self.server.should_exit = True
        self.thread.join(10)


def served(model, md5: str) -> Served:
    return Served(model, f"md5:{md5[:12]}", md5, "run", "commit", {"train": "md5"})


def call(url: str, path: str, body=None, raw: bytes | None = None) -> tuple[int, dict]:
    data = raw if raw is not None else None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url + path, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")
    except OSError:
        return 0, {}


def start_api(champion: Watched, folder, challenger=None) -> Api:
    """The API on 127.0.0.1, serving `champion` (beside `challenger`), logging under folder/incoming (a part
    per 4 rows), once it answers /health."""
    (folder / "contract.yaml").write_text(CONTRACT)
    fs = fsspec.filesystem("file")
    logs = Logs(*(PartWriter(fs, str(folder / "incoming" / name), 4, 3600) for name in ("log", "feedback")))
    settings = Serve(workers=1, max_body_bytes=2000, log_rows=4, log_seconds=3600, reload_seconds=0.05,
                     batch_max_rows=64, batch_max_wait_ms=5)
    app = create_app(champion, load_contract(folder / "contract.yaml"), settings, logs, dropped=("note",),
                     challenger=challenger)
    api = Api(uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning")))
    deadline = time.monotonic() + 30
    while call(api.url, "/health")[0] != 200:
        assert time.monotonic() < deadline, "the API did not become ready"
        time.sleep(0.05)
    return api
