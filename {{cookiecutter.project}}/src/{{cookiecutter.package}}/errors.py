"""One way for every stage and command to fail on bad input: a single clear line and a non-zero exit."""

import sys
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ValidationError

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

    @classmethod
    def from_validation(cls, error: ValidationError, settings: type[BaseModel]) -> "ConfigError":
        """The first problem pydantic found in `settings` (a model of sections), naming its key."""
        problem = error.errors(include_url=False)[0]
        loc, kind = problem["loc"], problem["type"]
        key = ".".join(f"[{part}]" if isinstance(part, int) else str(part) for part in loc).replace(".[", "[")
        if kind == "missing":
            return cls(key, "a value", found_text="nothing (the key is missing)")
        if kind == "extra_forbidden":
            known = ", ".join(sorted(_section_at(settings, loc[:-1]).model_fields))
            return cls(key, f"one of the known keys ({known})", found_text="an unknown key")
        if kind in ("model_type", "model_attributes_type"):
            keys = ", ".join(_section_at(settings, loc).model_fields)
            return cls(key, f"a mapping with keys {keys}", problem["input"])
        if kind == "literal_error":
            expected = "one of " + problem["ctx"]["expected"].replace("'", "").replace(" or ", ", ")
        elif kind == "value_error":  # a field's own rule: its message is what was expected
            expected = str(problem["ctx"]["error"])
        else:
            expected = EXPECTED.get(kind, problem["msg"].removeprefix("Input should be "))
        return cls(key, expected, problem["input"])


# What each kind of pydantic error means, in the words of a settings file.
EXPECTED = {"float_type": "a number", "int_type": "an integer", "bool_type": "true or false", "string_type": "a string",
            "list_type": "a list", "dict_type": "a mapping of names to values", "finite_number": "a finite number"}


def _section_at(settings: type[BaseModel], loc: tuple) -> type[BaseModel]:
    """The section that the keys `loc` lead to from the top of the settings."""
    for part in loc:
        settings = settings.model_fields[part].annotation
    return settings


def run(main: Callable[[], None]) -> None:
    """Run a stage's or command's `main`, turning a `UserError` into `error: <message>` and exit status 1."""
    try:
        main()
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)
