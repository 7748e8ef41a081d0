"""Who may call the API: bearer tokens from the environment, never from a file in the project.

FEEDBACK_TOKEN guards /feedback (its labels train the next model); PREDICT_TOKEN, when set, guards
/predict. A request without `Authorization: Bearer <token>` is 401, one with another token 403, each
compared in constant time. Without FEEDBACK_TOKEN the API only listens on loopback (commands/serve.py).
"""

import hmac
import ipaddress
import os
from dataclasses import dataclass

from .inputs import BadRequest

FEEDBACK_ENV, PREDICT_ENV = "FEEDBACK_TOKEN", "PREDICT_TOKEN"
HEADER = "header.Authorization"


@dataclass(frozen=True)
class Tokens:
    feedback: str | None
    predict: str | None

    @classmethod
    def from_environment(cls) -> "Tokens":
        return cls(os.environ.get(FEEDBACK_ENV, "").strip() or None, os.environ.get(PREDICT_ENV, "").strip() or None)


def require(token: str | None, variable: str, authorization: str | None) -> None:
    """BadRequest (401, 403) unless `authorization` is `Bearer <token>` (nothing to check when `token` is None)."""
    if token is None:
        return
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        raise BadRequest([{"field": HEADER, "expected": f"Bearer <the {variable} the API was started with>",
                           "found": "no bearer token" if authorization is None else "another scheme"}], 401,
                         {"WWW-Authenticate": "Bearer"})
    if not hmac.compare_digest(given.strip().encode(), token.encode()):
        raise BadRequest([{"field": HEADER, "expected": f"Bearer <the {variable} the API was started with>",
                           "found": "another token"}], 403)


def is_loopback(host: str) -> bool:
    """Whether HOST only reaches this machine (127.0.0.0/8, ::1 or localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: it may resolve to anything
        return False
