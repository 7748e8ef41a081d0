"""The experiment grid of params.yaml (`experiments.grid`): every combination of its values, each one
checked as a whole params.yaml before anything runs, and shared out among runners."""

import itertools
import json
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import ValidationError

from .config import Params, check_across_sections
from .errors import PARAMS_FILE, ConfigError, UserError


@dataclass(frozen=True)
class Point:
    """One experiment of the grid: params key -> its value."""

    settings: dict

    def options(self) -> list[str]:
        """The point as `dvc exp run` options: `-S key=value` for each key, the value in YAML."""
        return [part for key, value in self.settings.items() for part in ("-S", f"{key}={as_yaml(value)}")]


def as_yaml(value) -> str:
    """A value as DVC reads an `-S` value back (YAML): a plain word stays as it is written."""
    if isinstance(value, str) and yaml.safe_load(value) == value:
        return value
    return json.dumps(value)


def points(params: Params, path: str | Path = PARAMS_FILE) -> list[Point]:
    """Every combination of the grid's values, in the order the grid lists them, each refused (naming the
    key) when params.yaml with it would not pass the settings check."""
    grid, key = params.experiments.grid, "experiments.grid"
    if not grid:
        raise ConfigError(key, "params keys, each with the values to try", grid, file=str(path))
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    for name, values in grid.items():
        if lookup(raw, name) is MISSING:
            raise ConfigError(f"{key}.{name}", "a key of params.yaml", name, file=str(path))
        if not values:
            raise ConfigError(f"{key}.{name}", "a list of values to try", values, file=str(path))
        for value in values:
            if isinstance(value, str) and "," in value:  # DVC would read `-S key=a,b` as a grid of its own
                raise ConfigError(f"{key}.{name}", "values without a comma", value, file=str(path))
    combinations = [Point(dict(zip(grid, values))) for values in itertools.product(*grid.values())]
    limit = params.experiments.max_points
    if len(combinations) > limit:
        raise ConfigError(key, f"at most experiments.max_points ({limit}) combinations",
                          found_text=str(len(combinations)), file=str(path))
    for point in combinations:
        check(raw, point, path)
    return combinations


MISSING = object()


def lookup(raw: dict | None, dotted: str, default=MISSING):
    """The value at a dotted params key, or `default`."""
    value = raw
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            return default
        value = value[part]
    return value


def check(raw: dict, point: Point, path: str | Path) -> None:
    """params.yaml with the point's values written in passes the settings check, or a ConfigError names
    the point and the key it broke."""
    changed = yaml.safe_load(yaml.safe_dump(raw))  # a deep copy
    for dotted, value in point.settings.items():
        *parents, last = dotted.split(".")
        section = changed
        for part in parents:
            section = section[part]
        section[last] = value
    try:
        check_across_sections(Params.model_validate(changed))
    except (ValidationError, ConfigError) as error:
        found = ConfigError.from_validation(error, Params) if isinstance(error, ValidationError) else error
        raise ConfigError(found.key, f"{found.expected} (in the grid's point {' '.join(point.options())})",
                          found_text=found.found, file=str(path)) from None


def share(grid: list[Point], number: int, of: int) -> list[Point]:
    """The points runner `number` (1 to `of`) runs: every `of`-th, so shares differ by one point at most."""
    if not 1 <= number <= of:
        raise UserError(f"SHARE={number}: expected a runner number from 1 to {of} (OF={of})")
    return grid[number - 1::of]


def runners(params: Params, grid: list[Point]) -> int:
    """How many runners share the grid: experiments.runners, and never more than there are points."""
    return min(params.experiments.runners, len(grid))
