"""Request ids that prove what the API answered, so /feedback takes labels only for real answers.

An id carries when it was issued and how many records the request held, signed with HMAC-SHA256:
`<nonce>.<issued, unix seconds>.<records>.<signature>`. Any worker process or replica that holds the
key checks a label's request id, record index and age without a store shared between them. The key
is derived from FEEDBACK_TOKEN where one is set (ids stay valid across restarts and replicas), else
made at start-up and shared by that server's workers (ids end with the server).
"""

import hashlib
import hmac
import re
import secrets
import time

from .inputs import BODY, BadRequest

ID = re.compile(r"^([0-9a-f]{16})\.(\d{1,12})\.(\d{1,9})\.([0-9a-f]{32})$")


def key_from(feedback_token: str | None, made: str | None) -> bytes:
    """The signing key: FEEDBACK_TOKEN's, else `made` (a hex key the server made at start-up)."""
    if feedback_token:
        return hashlib.sha256(b"request ids\0" + feedback_token.encode()).digest()
    return bytes.fromhex(made) if made else secrets.token_bytes(32)


class RequestIds:
    def __init__(self, key: bytes, window_seconds: float):
        self.key, self.window = key, window_seconds

    def sign(self, text: str) -> str:
        return hmac.new(self.key, text.encode(), hashlib.sha256).hexdigest()[:32]

    def issue(self, records: int) -> str:
        """The id of an answer to `records` records, issued now."""
        text = f"{secrets.token_hex(8)}.{int(time.time())}.{records}"
        return f"{text}.{self.sign(text)}"

    def check(self, request_id, record) -> int:
        """The record's index: BadRequest unless `request_id` is one this API issued within the window and
        `record` is inside it (`record` may be left out, None, where the request held one record)."""
        match = ID.match(request_id) if isinstance(request_id, str) else None
        if not match or not hmac.compare_digest(match[4], self.sign(request_id.rsplit(".", 1)[0])):
            raise BadRequest([{"field": f"{BODY}.request_id", "expected": "a request_id /predict answered",
                               "found": request_id if isinstance(request_id, str | None) else type(request_id).__name__}])
        age, records = time.time() - int(match[2]), int(match[3])
        if age > self.window:
            raise BadRequest([{"field": f"{BODY}.request_id", "expected": f"an answer of the last "
                               f"{self.window / 3600:g} hours (serve.feedback_window_hours)",
                               "found": f"one of {age / 3600:.1f} hours ago"}])
        if record is None and records == 1:
            return 0
        if not (isinstance(record, int) and not isinstance(record, bool) and 0 <= record < records):
            raise BadRequest([{"field": f"{BODY}.record", "expected": f"a record's position in that request: an "
                               f"integer from 0 to {records - 1}", "found": record}])
        return record
