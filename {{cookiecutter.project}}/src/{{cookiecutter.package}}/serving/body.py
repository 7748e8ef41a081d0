"""A request's body as the API reads it: JSON sent as application/json, no deeper than a request needs,
numbers that are finite, strings of bounded length. Anything else is refused before the contract sees
it, naming the field: 415 for another media type, 422 for the rest (serving/inputs.py's BadRequest).

A request is at most three levels deep: the body's object, its list of records, each record's object
(/predict); /feedback's body is one object. So a value inside a record is never a list or an object.
"""

import json
import math

from .inputs import BODY, BadRequest

MAX_DEPTH = 3  # containers: the body, its records, a record
INT_LIMIT = 2**63  # a larger integer fits no column a model reads (pandas would keep it as an object)


class NonFinite:
    """NaN, Infinity or -Infinity where the body spelled one (JSON has none; Python's parser takes them)."""

    def __init__(self, name: str):
        self.name = name


def require_json(content_type: str | None) -> None:
    """BadRequest (415) unless the Content-Type header is application/json (with a charset, if any)."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media != "application/json":
        raise BadRequest([{"field": "header.Content-Type", "expected": "application/json", "found": content_type}],
                         415)


def parse_body(raw: bytes, max_string_chars: int):
    """The body's JSON, checked as the module's docstring says; BadRequest naming what is wrong."""
    try:
        body = json.loads(raw, parse_constant=NonFinite)
    except RecursionError:
        raise BadRequest([{"field": BODY, "expected": f"JSON nested at most {MAX_DEPTH} levels deep",
                           "found": "far deeper nesting"}]) from None
    except (UnicodeDecodeError, ValueError) as error:  # JSONDecodeError, or an integer of over 4300 digits
        raise BadRequest([{"field": BODY, "expected": "a JSON object",
                           "found": f"not JSON ({' '.join(str(error).split())[:200]})"}]) from None
    check_values(body, max_string_chars)
    return body


def check_values(body, max_string_chars: int) -> None:
    """Walk the body (without recursion: its depth is what is being checked) and refuse the first value
    that is too deep, not finite, or too long."""
    pending = [(body, BODY, 0)]
    while pending:
        value, field, depth = pending.pop()
        if isinstance(value, dict | list):
            if depth == MAX_DEPTH:
                kind = "an object" if isinstance(value, dict) else "a list"
                raise BadRequest([{"field": field, "expected": "a value (a number, a string, true, false or null)",
                                   "found": kind}])
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                if isinstance(key, str) and len(key) > max_string_chars:
                    raise BadRequest([{"field": field, "expected": f"names of at most {max_string_chars} characters",
                                       "found": f"a name of {len(key)} characters"}])
                pending.append((item, f"{field}.{key}" if isinstance(value, dict) else f"{field}[{key}]", depth + 1))
        elif isinstance(value, NonFinite) or (isinstance(value, float) and not math.isfinite(value)):
            raise BadRequest([{"field": field, "expected": "a finite number",
                               "found": value.name if isinstance(value, NonFinite) else str(value)}])
        elif isinstance(value, int) and not isinstance(value, bool) and abs(value) >= INT_LIMIT:
            raise BadRequest([{"field": field, "expected": "an integer between -2^63 and 2^63",
                               "found": f"an integer of {len(str(abs(value)))} digits"}])
        elif isinstance(value, str) and len(value) > max_string_chars:
            raise BadRequest([{"field": field, "expected": f"a string of at most {max_string_chars} characters",
                               "found": f"{len(value)} characters"}])
