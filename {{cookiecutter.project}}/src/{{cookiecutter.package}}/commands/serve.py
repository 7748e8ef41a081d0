"""`make serve`: the prediction API on HOST:PORT (127.0.0.1:8000 unless set).

It serves the champion (serving/model.py: the registry's where a tracking server is configured, else
the model the checked-out dvc.lock names) and switches to the next one when it changes, beside a
challenger when params.yaml's `rollout` names one (serving/rollout.py); its answers and the feedback are
logged under incoming.location. serve.workers processes answer on the one address, each
with its own model, batcher and log parts. Tokens come from the environment (serving/access.py): without
FEEDBACK_TOKEN the API listens on loopback only. See serving/app.py for the endpoints."""

import os
import secrets
from pathlib import Path

from fastapi import FastAPI

from ..config import load_params
from ..data.contract import load_contract
from ..data.incoming import location_fs
from ..errors import UserError, run
from ..serving.access import FEEDBACK_ENV, Tokens, is_loopback
from ..serving.app import Logs, create_app
from ..serving.model import Watched, champion_source
from ..serving.request_ids import RequestIds, key_from
from ..serving.request_log import FEEDBACK, LOG, PartWriter
from ..serving.rollout import Challenger

# The request-id key this server made at start-up (no FEEDBACK_TOKEN), for its worker processes.
MADE_KEY = "SERVE_REQUEST_ID_KEY"


def port_from(text: str) -> int:
    if not (text.isdigit() and 0 < int(text) < 65536):
        raise UserError(f"PORT: expected a port number from 1 to 65535, found {text!r}")
    return int(text)


def main() -> None:
    import uvicorn

    host, port = os.environ.get("HOST") or "127.0.0.1", port_from(os.environ.get("PORT") or "8000")
    if Tokens.from_environment().feedback is None:
        if not is_loopback(host):
            raise UserError(f"{FEEDBACK_ENV}: expected a token for /feedback when HOST is not loopback, found none "
                            f"(HOST={host}: anyone who reaches it could send the labels the next model trains on)")
        print(f"serve: no {FEEDBACK_ENV} set: /feedback takes labels from any caller on this machine, so the API "
              "listens on loopback only", flush=True)
        os.environ[MADE_KEY] = secrets.token_hex(32)
    params = load_params()
    # What each worker builds its API from, checked once here: a bad setting, a missing contract or an
    # unreachable tracking server is one error before any worker starts.
    load_contract(params.paths.contract)
    location_fs(params.incoming.location)
    champion_source(params)
    workers = params.serve.workers
    print(f"serve: http://{host}:{port} (POST /predict, POST /feedback, GET /health, GET /version, GET /docs)"
          f"{f', {workers} worker processes' if workers > 1 else ''}", flush=True)
    # By import name (`__spec__`, also when run with -m), as uvicorn's worker processes need it.
    uvicorn.run(f"{__spec__.name}:api", factory=True, host=host, port=port, workers=workers, log_level="warning")


def api() -> FastAPI:
    """The API as params.yaml describes it: what each worker process builds and serves."""
    params = load_params()
    fs, root = location_fs(params.incoming.location)
    serve = params.serve
    logs = Logs(*(PartWriter(fs, f"{root}/{folder}", serve.log_rows, serve.log_seconds, Path(serve.log_spool, folder),
                             serve.log_fsync_seconds) for folder in (LOG, FEEDBACK)))
    champion = Watched(*champion_source(params), serve.reload_seconds)
    tokens = Tokens.from_environment()
    request_ids = RequestIds(key_from(tokens.feedback, os.environ.get(MADE_KEY)), serve.feedback_window_hours * 3600)
    return create_app(champion, load_contract(params.paths.contract), serve, logs, tokens, request_ids,
                      tuple(params.prepare.drop_columns or ()), Challenger.from_params(params, serve.reload_seconds))


if __name__ == "__main__":
    run(main)
