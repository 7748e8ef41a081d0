"""Per-client limits (serve.client_requests_per_second, serve.max_records), answered with 429.

A client is the address a request came from. Each worker process keeps its own count: a token bucket
per client, refilled at the rate, holding at most one second's requests (at least one: the burst a
client may send at once). Clients not seen for a minute are forgotten, so the table stays small.
"""

import math
import time
from dataclasses import dataclass

from .inputs import BODY, BadRequest

FORGET_SECONDS = 60


@dataclass
class Bucket:
    tokens: float
    seen: float


class ClientLimits:
    def __init__(self, requests_per_second: float | None, max_records: int):
        self.rate, self.max_records = requests_per_second, max_records
        self.buckets: dict[str, Bucket] = {}
        self.swept = time.monotonic()

    def admit(self, client: str) -> None:
        """BadRequest (429, with the seconds after which a retry may pass) when `client` has used up its
        requests for now."""
        if self.rate is None:
            return
        now = time.monotonic()
        if now - self.swept > FORGET_SECONDS:
            self.buckets = {name: bucket for name, bucket in self.buckets.items() if now - bucket.seen < FORGET_SECONDS}
            self.swept = now
        capacity = max(self.rate, 1)
        bucket = self.buckets.setdefault(client, Bucket(capacity, now))
        bucket.tokens = min(capacity, bucket.tokens + (now - bucket.seen) * self.rate)
        bucket.seen = now
        if bucket.tokens < 1:
            raise BadRequest([{"field": "client", "expected": f"at most {self.rate:g} requests a second "
                               "(serve.client_requests_per_second)", "found": "more"}], 429,
                             {"Retry-After": str(max(1, math.ceil((1 - bucket.tokens) / self.rate)))})
        bucket.tokens -= 1

    def check_records(self, records: list) -> None:
        if len(records) > self.max_records:
            raise BadRequest([{"field": f"{BODY}.records", "expected": f"at most {self.max_records} records a "
                               "request (serve.max_records)", "found": f"{len(records)} records"}], 429)
