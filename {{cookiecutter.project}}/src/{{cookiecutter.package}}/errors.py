"""One way for every stage to fail on bad input: a single clear line and a non-zero exit."""

import sys
from collections.abc import Callable


class UserError(Exception):
    """A problem the user can fix (bad params, bad data, bad contract); its message says how."""


def run(main: Callable[[], None]) -> None:
    """Run a stage's `main`, turning a `UserError` into `error: <message>` and exit status 1."""
    try:
        main()
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)
