"""Traffic for the API: each row of a table sent as one single-row /predict by a few clients at once,
and its true label sent back to /feedback, as a caller who learns the outcome later would."""

import http.client
import json
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pandas as pd

from ..serving.access import Tokens


@dataclass
class Sent:
    answered: int = 0
    failed: int = 0
    seconds: float = 0.0
    versions: Counter = field(default_factory=Counter)  # model_version -> requests it answered
    problems: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.answered / self.seconds if self.seconds else 0.0

    def add(self, other: "Sent") -> None:
        self.answered, self.failed, self.seconds = self.answered + other.answered, self.failed + other.failed, \
            self.seconds + other.seconds
        self.versions.update(other.versions)
        self.problems += other.problems


class Client:
    """One keep-alive connection to the API on 127.0.0.1."""

    def __init__(self, port: int):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        tokens = Tokens.from_environment()  # the server's, where this shell set them
        self.tokens = {"/feedback": tokens.feedback, "/predict": tokens.predict}

    def post(self, path: str, body: dict) -> tuple[int, dict]:
        token = self.tokens[path]
        headers = {"Content-Type": "application/json"} | ({"Authorization": f"Bearer {token}"} if token else {})
        self.connection.request("POST", path, json.dumps(body), headers)
        answer = self.connection.getresponse()
        return answer.status, json.loads(answer.read() or b"{}")


def send(port: int, rows: pd.DataFrame, target: str, clients: int = 4) -> Sent:
    """Every row of `rows` to /predict (without its target), then its target to /feedback."""
    records = json.loads(rows.to_json(orient="records"))  # plain JSON values: missing as null
    sent, lock, local = Sent(), threading.Lock(), threading.local()

    def one(record: dict) -> None:
        if not hasattr(local, "client"):
            local.client = Client(port)
        label = record.pop(target, None)
        try:
            status, answer = local.client.post("/predict", {"records": [record]})
            if status == 200 and label is not None:
                local.client.post("/feedback", {"request_id": answer["request_id"], "label": label})
        except (OSError, http.client.HTTPException, ValueError) as error:
            status, answer = None, {"detail": str(error)}
            local.client = Client(port)
        with lock:
            if status == 200:
                sent.answered += 1
                sent.versions[answer["model_version"]] += 1
            else:
                sent.failed += 1
                sent.problems.append(f"{status}: {answer.get('detail')}")

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(one, records))
    sent.seconds = time.perf_counter() - started
    return sent
