"""A challenger beside the champion on live traffic: shadow and canary (params.yaml, `rollout`).

With a challenger, every request is scored by both models. A share of request keys (`canary_share`,
chosen by a stable hash of the key, so one caller sees one model) is answered by the challenger, the
canary; the rest by the champion. The model that does not answer scores the same records in the shadow:
after the answer is sent, on one background thread, so its failure or slowness never reaches the answer.
A shadow prediction not started within `shadow_timeout_ms` of its request is skipped, so a slow model
falls behind without holding memory or time. Both predictions are logged with the request, with the
time each took (serving/request_log.py); `make rollout-report` compares them. Share 0 is a pure shadow.

params.yaml is read again at every look (serve.reload_seconds): editing `rollout` changes a running
server, and a share of 0 or no challenger returns every answer to the champion at that look.
"""

import hashlib
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from ..config import Params, load_params
from ..tracking.registry import CHALLENGER_ALIAS
from .model import Served, Watched, has_registry, registry_model, revision_model
from .request_log import PartWriter

MAX_QUEUED_ROWS = 10_000  # shadow rows waiting beyond this are skipped at once: memory stays bounded
# Woken by a request, the shadow waits this long for the others answered with it, to score them as one
# batch: a prediction costs about the same for one row as for many.
GATHER_SECONDS = 0.005


def answered_by_challenger(key: str, share: float) -> bool:
    """Whether the canary answers requests with this key: a hash that is the same in every process and
    run (unlike Python's own), below the share."""
    digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") < share * 2**64


class Challenger:
    """The challenger (watched like the champion, `watched.current` None when there is none), the canary
    share, and how long a shadow prediction may wait."""

    def __init__(self, watched: Watched, share: float, timeout: float):
        self.watched, self.share, self.timeout = watched, share, timeout

    @classmethod
    def from_params(cls, params: Params, seconds: float) -> "Challenger":
        """The challenger params.yaml names, read again at every look with the share: `rollout.challenger`
        names a git revision whose dvc.lock records the model; when it is null and a tracking server is
        configured, the registry's `challenger` alias names it; otherwise there is none."""
        loader: dict[str, Callable[[], Served]] = {}

        def fingerprint() -> str | None:
            now = load_params()  # a bad edit raises: the server goes on with what it has (Watched.watch)
            challenger.share, revision = now.rollout.canary_share, now.rollout.challenger
            if revision is not None:
                md5, loader["load"] = revision_model(now, revision)
                return md5
            if has_registry(now):
                wanted, loader["load"] = registry_model(now, CHALLENGER_ALIAS)
                return wanted()
            return None

        watched = Watched(fingerprint, lambda: loader["load"](), seconds, role="challenger")
        challenger = cls(watched, params.rollout.canary_share, params.rollout.shadow_timeout_ms / 1000)
        return challenger

    def answering(self, champion: Served, key: str) -> tuple[Served, Served | None]:
        """The model that answers a request with this key, and the one that scores it in the shadow."""
        challenger = self.watched.current
        if challenger is None or challenger.md5 == champion.md5:
            return champion, None
        if self.share > 0 and answered_by_challenger(key, self.share):
            return challenger, champion
        return champion, challenger


@dataclass
class ShadowJob:
    served: Served
    records: list[dict]
    rows: list[dict]  # the request's log rows, completed with the shadow's prediction, then logged
    queued: float  # time.monotonic() when the request was answered


class Shadow:
    """Scores answered requests with the other model on one thread, then logs them."""

    def __init__(self, predict: Callable[[Served, list[dict]], list], log: PartWriter, timeout: float):
        self.predict, self.log, self.timeout = predict, log, timeout
        self.jobs: deque[ShadowJob] = deque()
        self.queued_rows = 0
        self.lock, self.wake, self.closing = threading.Lock(), threading.Event(), False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def submit(self, served: Served, records: list[dict], rows: list[dict]) -> None:
        with self.lock:
            if self.queued_rows + len(rows) > MAX_QUEUED_ROWS:
                self.log.append(completed(rows, served, error="skipped: too many waiting"))
                return
            self.jobs.append(ShadowJob(served, records, rows, time.monotonic()))
            self.queued_rows += len(rows)
        self.wake.set()

    def _run(self) -> None:
        while not self.closing:
            self.wake.wait()
            time.sleep(GATHER_SECONDS)
            self.wake.clear()
            self.drain()

    def drain(self) -> None:
        """Score what is waiting, one prediction per model: the shadow batches as the API does."""
        with self.lock:
            jobs, self.jobs, self.queued_rows = list(self.jobs), deque(), 0
        late = time.monotonic() - self.timeout
        for job in jobs:
            if job.queued < late or self.closing:
                self.log.append(completed(job.rows, job.served, error="skipped: not started in time"))
        by_model: dict[int, list[ShadowJob]] = {}
        for job in jobs:
            if job.queued >= late and not self.closing:
                by_model.setdefault(id(job.served), []).append(job)
        for group in by_model.values():
            self.score(group)

    def score(self, jobs: list[ShadowJob]) -> None:
        served, started = jobs[0].served, time.perf_counter()
        try:
            predicted = self.predict(served, [record for job in jobs for record in job.records])
        except Exception as error:  # the shadow model's failure is logged, never raised
            for job in jobs:
                self.log.append(completed(job.rows, served, error=f"{type(error).__name__}: {error}"[:300]))
            return
        milliseconds, start = (time.perf_counter() - started) * 1000, 0
        for job in jobs:
            self.log.append(completed(job.rows, served, predicted[start:start + len(job.rows)], milliseconds))
            start += len(job.rows)

    def close(self) -> None:
        """Log what waits, skipped, and stop (before the log itself is closed)."""
        self.closing = True
        self.wake.set()
        self.thread.join(30)
        self.drain()


def completed(rows: list[dict], served: Served, predicted: list | None = None, milliseconds: float | None = None,
              error: str | None = None) -> list[dict]:
    """The log rows with the shadow model's version, prediction and time, or why it has none."""
    return [{**row, "shadow_version": served.version, "shadow_md5": served.md5,
             "shadow_prediction": None if predicted is None else predicted[i], "shadow_ms": milliseconds,
             "shadow_error": error} for i, row in enumerate(rows)]

