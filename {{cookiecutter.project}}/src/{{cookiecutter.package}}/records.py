"""The JSON files stages hand to each other and to the commands: typed records, and plain JSON metrics.

A record (train's run info, evaluate's gate report, drift-check's summary) is a small class written
by one stage with `save` and read by every consumer with `load`, which names the file and the stage
that makes it when the file is missing or is not what that stage writes.
"""

import json
from pathlib import Path
from typing import ClassVar, Self

from pydantic import BaseModel, ConfigDict, ValidationError

from .errors import UserError


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid")
    stage: ClassVar[str]  # the stage that writes it

    @classmethod
    def load(cls, path: str | Path) -> Self:
        try:
            return cls.model_validate_json(Path(path).read_bytes())
        except FileNotFoundError:
            raise UserError(f"{path}: file not found; run `dvc repro {cls.stage}` first") from None
        except ValidationError as error:
            problem = error.errors(include_url=False)[0]
            key = ".".join(map(str, problem["loc"])) or "the file"
            raise UserError(f"{path}: not what `dvc repro {cls.stage}` writes ({key}: {problem['msg']}); "
                            f"run it again") from None

    def save(self, path: str | Path) -> None:
        write_json(self.model_dump(mode="json"), path)


def read_json(path: str | Path) -> dict:
    """A metrics file (plain JSON) a stage wrote."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{path}: file not found; run `make repro` first") from None


def write_json(data: dict, path: str | Path) -> None:
    """Write a report or metrics file as indented JSON, creating the folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
