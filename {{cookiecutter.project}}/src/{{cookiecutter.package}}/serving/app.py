"""The HTTP API: POST /predict, POST /feedback, GET /health, GET /version (FastAPI, served by uvicorn).

The model is loaded after the server starts listening, so /health answers 503 until it is ready, and
replaced whole when the champion changes (serving/model.py, Watched): a request reads it once, so a
switch fails no request and never mixes two models within one. Every answer is logged, and /feedback
records a label for a record an answer of the API holds (serving/request_ids.py, serving/request_log.py).
With a challenger (serving/rollout.py), a request's optional "key" decides which model answers it.
Before a body is read: the client's limits (serving/limits.py) and token (serving/access.py); then its
shape (serving/body.py), then the contract (serving/inputs.py). Every refusal, and the error nothing
else caught, is {"detail": [{"field": ..., "expected": ..., "found": ...}]}.
"""

import asyncio
import logging
import threading
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sklearn.pipeline import Pipeline
from starlette.exceptions import HTTPException

from ..config import Serve
from ..data.contract import Contract
from ..data.features import feature_columns
from .access import FEEDBACK_ENV, PREDICT_ENV, Tokens, require
from .batching import Batcher, ModelFailed
from .body import parse_body, require_json
from .inputs import BODY, BadRequest, check_label, check_records, request_contract, request_records
from .limits import ClientLimits
from .model import Served, Watched
from .request_ids import RequestIds
from .request_log import PartWriter
from .rollout import Challenger, Shadow

log = logging.getLogger(__name__)


@dataclass
class Logs:
    answers: PartWriter
    feedback: PartWriter

    def close(self) -> None:
        self.answers.close()
        self.feedback.close()


def create_app(champion: Watched, contract: Contract, settings: Serve, logs: Logs, tokens: Tokens,
               request_ids: RequestIds, dropped: tuple[str, ...] = (), challenger: Challenger | None = None) -> FastAPI:
    """The API, serving `champion` (watched in the background from start-up), beside `challenger` when
    given; `tokens` guard its endpoints (serving/access.py). Records may hold the `dropped` columns
    (prepare's drop_columns: raw rows as they come), which are set aside."""
    contract, max_body_bytes = request_contract(contract), settings.max_body_bytes
    limits = ClientLimits(settings.client_requests_per_second, settings.max_records)

    def answer_one(served: Served, records: list[dict]) -> dict:
        frame = pd.DataFrame.from_records(records)
        warnings = check_records(frame, contract)
        return {**predictions(served, frame, contract.target), **({"warnings": warnings} if warnings else {})}

    def answer_many(served: Served, records: list[dict]) -> dict | None:
        frame = pd.DataFrame.from_records(records)
        try:
            if check_records(frame, contract):
                return None  # a warning: each request is told its own
        except BadRequest:
            return None  # a broken rule: each request is refused, or answered, on its own records
        return predictions(served, frame, contract.target)

    batcher = Batcher(answer_one, answer_many, settings.batch_max_rows, settings.batch_max_wait_ms)
    watched = [champion] + ([challenger.watched] if challenger else [])
    shadow = Shadow(lambda served, records: served.model.predict(
        model_features(served.model, pd.DataFrame.from_records(records), contract.target)).tolist(),
        logs.answers, challenger.timeout) if challenger else None

    @asynccontextmanager
    async def lifespan(_: FastAPI):
        for model in watched:
            threading.Thread(target=model.watch, daemon=True).start()
        batching = asyncio.create_task(batcher.run())
        yield
        batching.cancel()
        for model in watched:
            model.stop.set()
        if shadow:
            shadow.close()
        logs.close()

    app = FastAPI(title="prediction API", lifespan=lifespan, redoc_url=None)

    def not_ready() -> JSONResponse:
        return JSONResponse({"status": "loading" if champion.error is None else "failed",
                             "detail": champion.error}, status_code=503)

    # Every refusal in one format: {"detail": [{"field": ..., "expected": ..., "found": ...}, ...]}.
    @app.exception_handler(BadRequest)
    def refuse(_: Request, error: BadRequest) -> JSONResponse:
        return JSONResponse({"detail": error.problems}, status_code=error.status, headers=error.headers)

    @app.exception_handler(HTTPException)
    def no_such_endpoint(request: Request, error: HTTPException) -> JSONResponse:
        return JSONResponse({"detail": [{"field": "path", "expected": "POST /predict, POST /feedback, GET /health, "
                                         "GET /version or GET /docs", "found": f"{request.method} {request.url.path}"}]},
                            status_code=error.status_code, headers=getattr(error, "headers", None))

    @app.exception_handler(Exception)
    def failed(_: Request, error: Exception) -> JSONResponse:
        log.exception("a request failed")  # the traceback goes to the server's log, never to the caller
        return JSONResponse({"detail": [{"field": None, "expected": "an answer", "found": "an error in the API "
                                         f"({type(error).__name__}); the server's log has the details"}]},
                            status_code=500)

    @app.exception_handler(ModelFailed)
    def model_failed(_: Request, error: ModelFailed) -> JSONResponse:
        return JSONResponse({"detail": [{"model_version": error.version, "error": str(error)}]}, status_code=500)

    @app.get("/health")
    def health():
        """Ready once a model is loaded; "log" says whether the request log can be written (a failing log
        does not stop the answers, serving/request_log.py)."""
        served = champion.current
        if served is None:
            return not_ready()
        failing = [f"{name} {writer.failure}" + (f", {writer.dropped} rows dropped" if writer.dropped else "")
                   for name, writer in (("answers:", logs.answers), ("feedback:", logs.feedback)) if writer.failure]
        return {"status": "ready", "model_version": served.version, "log": "; ".join(failing) or "ok"}

    @app.get("/version")
    def version():
        served, beside = champion.current, challenger.watched.current if challenger else None
        return {**served.describe(), "challenger": beside.describe() if beside else None} if served else not_ready()

    async def read(request: Request, token: str | None, variable: str):
        """The request's body, once it passed the limits, its token and the checks of serving/body.py."""
        limits.admit(request.client.host if request.client else "")
        require(token, variable, request.headers.get("authorization"))
        require_json(request.headers.get("content-type"))
        return parse_body(await read_body(request, max_body_bytes), settings.max_string_chars)

    @app.post("/predict")
    async def predict(request: Request):
        started, served = time.perf_counter(), champion.current
        if served is None:
            return not_ready()
        body = await read(request, tokens.predict, PREDICT_ENV)
        records = request_records(body)
        limits.check_records(records)
        request_id = request_ids.issue(len(records))
        if dropped:
            records = [{name: value for name, value in record.items() if name not in dropped} for record in records]
        answering, shadowing = challenger.answering(served, request_key(body) or request_id) if challenger \
            else (served, None)
        answer = await batcher.submit(answering, records)
        now, milliseconds = datetime.now(UTC), (time.perf_counter() - started) * 1000
        rows = [{"request_id": request_id, "record": index, "time": now, "model_version": answering.version,
                 "model_md5": answering.md5, **record, "prediction": predicted, "latency_ms": milliseconds}
                for index, (record, predicted) in enumerate(zip(records, answer["predictions"]))]
        if shadowing:
            role = "champion" if answering is served else "challenger"
            shadow.submit(shadowing, records, [{**row, "answered_by": role} for row in rows])
        else:
            logs.answers.append(rows)
        # Answered as it is (plain JSON already), without FastAPI's encoder's walk over every value.
        return JSONResponse({"request_id": request_id, "model_version": answering.version, **answer})

    @app.post("/feedback")
    async def feedback(request: Request):
        """The true label of an answered record: {"request_id": ..., "record": 0, "label": ...}. A second
        label for a record replaces the first: `make collect` keeps the last one sent."""
        body = await read(request, tokens.feedback, FEEDBACK_ENV)
        if not isinstance(body, dict):
            raise BadRequest([{"field": BODY, "expected": '{"request_id": ..., "record": ..., "label": ...}',
                               "found": type(body).__name__}])
        record = request_ids.check(body.get("request_id"), body.get("record"))
        if "label" not in body:
            raise BadRequest([{"field": f"{BODY}.label", "expected": f"the true {contract.target}", "found": None}])
        check_label(body["label"], contract)
        logs.feedback.append([{"request_id": body["request_id"], "record": record, "time": datetime.now(UTC),
                               "label": body["label"]}])
        return {"recorded": True}

    return app


async def read_body(request: Request, limit: int) -> bytes:
    """The body, refused as soon as it is known to exceed `limit` bytes (declared or streamed)."""
    declared = request.headers.get("content-length", "")
    too_large = BadRequest([{"field": BODY, "expected": f"at most {limit} bytes", "found": "more"}], 413)
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise too_large
    return bytes(body)


def request_key(body: dict) -> str | None:
    """The request's optional "key" (a caller, a session): requests with one key are answered by one model."""
    key = body.get("key")
    if key is not None and not isinstance(key, str):
        raise BadRequest([{"field": f"{BODY}.key", "expected": "a string naming the caller (optional)",
                           "found": key}])
    return key


def model_features(model, frame: pd.DataFrame, target: str | None) -> pd.DataFrame:
    """The records' columns the model was fitted on, in its order (a missing one: all missing)."""
    return frame.reindex(columns=list(getattr(model, "feature_names_in_", feature_columns(frame, target or ""))))


def predictions(served: Served, frame: pd.DataFrame, target: str | None) -> dict:
    """The model's answers for the records, with each class's probability where the model gives them.

    A pipeline's transforms run once for both (as Pipeline.predict and predict_proba each would run
    them): on a small request they are most of the cost."""
    model = served.model
    features = model_features(model, frame, target)
    if isinstance(model, Pipeline):
        features, model = model[:-1].transform(features), model[-1]
    answer = {"predictions": model.predict(features).tolist()}
    if hasattr(model, "predict_proba"):
        classes = [str(label) for label in model.classes_.tolist()]
        answer["probabilities"] = [dict(zip(classes, row)) for row in model.predict_proba(features).tolist()]
    return answer
