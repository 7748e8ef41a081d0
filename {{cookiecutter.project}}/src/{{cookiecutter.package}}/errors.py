"""One way for every stage and command to fail on bad input: a single clear line and a non-zero exit."""

import sys
from collections.abc import Callable
from typing import Any

PARAMS_FILE = "params.yaml"


class UserError(Exception):
    """A problem the user can fix (bad params, bad data, bad contract); its message says how."""


class ConfigError(UserError):
    """A setting in params.yaml that cannot be used: which key, what was expected, what was found.

    `found` is shown as Python shows a value (`'big'`, `1.5`); `found_text` instead, as it is written.
    """

    def __init__(self, key: str, expected: str, found: Any = None, *, found_text: str | None = None,
                 file: str = PARAMS_FILE):
        self.key, self.expected, self.file = key, expected, file
        self.found = repr(found) if found_text is None else found_text
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"key '{self.key}'" if self.key else "top level"
        return f"{self.file}: {where}: expected {self.expected}, found {self.found}"

    def in_file(self, file: str) -> "ConfigError":
        """The same error, naming the settings file it was read from."""
        return ConfigError(self.key, self.expected, found_text=self.found, file=file)


def run(main: Callable[[], None]) -> None:
    """Run a stage's or command's `main`, turning a `UserError` into `error: <message>` and exit status 1."""
    try:
        main()
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)
