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
from {{ cookiecutter.package }}.serving.access import Tokens
from {{ cookiecutter.package }}.serving.app import Logs, create_app
from {{ cookiecutter.package }}.serving.model import Served, Watched
from {{ cookiecutter.package }}.serving.request_ids import RequestIds
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
FEEDBACK_TOKEN = "feedback-token-of-the-tests"


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


def call(url: str, path: str, body=None, raw: bytes | None = None, token: str | None = FEEDBACK_TOKEN,
         content_type: str | None = "application/json") -> tuple[int, dict]:
    """GET `path`, or POST `body` as JSON (`raw` bytes as they are), with the feedback token by default."""
    data = raw if raw is not None else None if body is None else json.dumps(body).encode()
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    request = urllib.request.Request(url + path, data=data, headers=headers | (
        {"Content-Type": content_type} if content_type else {}))
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")
    except OSError:
        return 0, {}


def start_api(champion: Watched, folder, challenger=None, tokens=Tokens(FEEDBACK_TOKEN, None), **settings) -> Api:
    """The API on 127.0.0.1, serving `champion` (beside `challenger`), logging under folder/incoming (a part
    per 4 rows, spooled in folder/spool), once it answers /health; `settings` change serve's."""
    (folder / "contract.yaml").write_text(CONTRACT)
    fs = fsspec.filesystem("file")
    settings = Serve(**{"workers": 1, "max_body_bytes": 2000, "max_string_chars": 100, "max_records": 50,
                        "client_requests_per_second": None, "feedback_window_hours": 1, "log_rows": 4,
                        "log_seconds": 3600, "log_spool": str(folder / "spool"), "log_fsync_seconds": 1,
                        "reload_seconds": 0.05, "batch_max_rows": 64, "batch_max_wait_ms": 5} | settings)
    logs = Logs(*(PartWriter(fs, str(folder / "incoming" / name), settings.log_rows, settings.log_seconds,
                             folder / "spool" / name, settings.log_fsync_seconds) for name in ("log", "feedback")))
    request_ids = RequestIds(b"key of the tests", settings.feedback_window_hours * 3600)
    app = create_app(champion, load_contract(folder / "contract.yaml"), settings, logs, tokens, request_ids,
                     dropped=("note",), challenger=challenger)
    api = Api(uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning")))
    deadline = time.monotonic() + 30
    while call(api.url, "/health")[0] != 200:
        assert time.monotonic() < deadline, "the API did not become ready"
        time.sleep(0.05)
    return api
