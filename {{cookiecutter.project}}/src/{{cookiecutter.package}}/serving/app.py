"""The HTTP API: POST /predict, GET /health, GET /version (FastAPI, served by uvicorn).

The model is loaded after the server starts listening, so /health answers 503 until it is ready. The
served model is one object replaced whole: a request reads it once, so a switch never mixes two models
within a request.
"""

import json
import threading
import uuid
from collections.abc import Callable
from contextlib import asynccontextmanager

import pandas as pd
from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from ..data.contract import Contract
from ..data.features import feature_columns
from ..errors import UserError
from .inputs import BODY, BadRequest, check_records, records_frame, request_contract
from .model import Served


class TooLarge(Exception):
    pass


def create_app(load: Callable[[], Served], contract: Contract, max_body_bytes: int,
               dropped: tuple[str, ...] = ()) -> FastAPI:
    """The API; `load()` gives the model to serve, called once in the background at start-up. Records may
    hold the `dropped` columns (prepare's drop_columns: raw rows as they come), which are set aside."""
    state = {"served": None, "error": None}
    contract = request_contract(contract)

    def load_in_background() -> None:
        try:
            state["served"] = load()
            print(f"serve: model {state['served'].version} loaded", flush=True)
        except UserError as error:
            state["error"] = str(error)
            print(f"serve: no model to serve: {error}", flush=True)

    @asynccontextmanager
    async def lifespan(_: FastAPI):
        threading.Thread(target=load_in_background, daemon=True).start()
        yield

    app = FastAPI(title="prediction API", lifespan=lifespan, redoc_url=None)

    def not_ready() -> JSONResponse:
        return JSONResponse({"status": "loading" if state["error"] is None else "failed", "detail": state["error"]},
                            status_code=503)

    @app.exception_handler(BadRequest)
    def refuse(_: Request, error: BadRequest) -> JSONResponse:
        return JSONResponse({"detail": error.problems}, status_code=422)

    @app.exception_handler(TooLarge)
    def too_large(_: Request, __: TooLarge) -> JSONResponse:
        return JSONResponse({"detail": [{"field": BODY, "expected": f"at most {max_body_bytes} bytes",
                                         "found": "more"}]}, status_code=413)

    @app.get("/health")
    def health():
        served = state["served"]
        return {"status": "ready", "model_version": served.version} if served else not_ready()

    @app.get("/version")
    def version():
        served = state["served"]
        return served.describe() if served else not_ready()

    @app.post("/predict")
    async def predict(request: Request):
        served = state["served"]
        if served is None:
            return not_ready()
        frame = records_frame(parse_json(await read_body(request, max_body_bytes)))
        frame = frame.drop(columns=[column for column in dropped if column in frame.columns])
        warnings = check_records(frame, contract)
        answer = await run_in_threadpool(predictions, served, frame, contract.target)
        return {"request_id": uuid.uuid4().hex, "model_version": served.version, **answer,
                **({"warnings": warnings} if warnings else {})}

    return app


async def read_body(request: Request, limit: int) -> bytes:
    """The body, refused as soon as it is known to exceed `limit` bytes (declared or streamed)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise TooLarge()
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise TooLarge()
    return bytes(body)


def parse_json(body: bytes):
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BadRequest([{"field": BODY, "expected": "a JSON object", "found": f"not JSON ({error})"}]) from None


def predictions(served: Served, frame: pd.DataFrame, target: str | None) -> dict:
    """The model's answers for the records, with each class's probability where the model gives them."""
    model = served.model
    columns = list(getattr(model, "feature_names_in_", feature_columns(frame, target or "")))
    features = frame.reindex(columns=columns)
    answer = {"predictions": model.predict(features).tolist()}
    if hasattr(model, "predict_proba"):
        classes = [str(label) for label in model.classes_.tolist()]
        answer["probabilities"] = [dict(zip(classes, row)) for row in model.predict_proba(features).tolist()]
    return answer
