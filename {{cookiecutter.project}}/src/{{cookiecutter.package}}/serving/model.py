"""The model the API serves, and what it was made from.

The champion is the model the checked-out dvc.lock names: loaded only when its MD5 is the one recorded
(model/artifact.py), so the API runs no file of unknown origin. Its version is that MD5, the name git and
DVC know it by; /version adds the MLflow run, the commit and the training data's MD5.
"""

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import yaml

from ..config import Params
from ..errors import UserError
from ..model.artifact import load_model
from ..outputs import LOCK_FILE, git, recorded_md5
from ..records import read_json


@dataclass(frozen=True)
class Served:
    model: Any
    version: str  # "md5:" and the first 12 hex digits of the model file's MD5
    md5: str
    run_id: str | None
    commit: str | None
    data_md5: dict[str, str]  # the files train read -> their MD5, as dvc.lock records them

    def describe(self) -> dict:
        return {"model_version": self.version, "model_md5": self.md5, "mlflow_run_id": self.run_id,
                "git_commit": self.commit, "trained_on": self.data_md5}


def workspace_model(params: Params) -> Served:
    """The model the workspace's dvc.lock records, with its lineage."""
    model = load_model(params.paths.model)
    md5 = recorded_md5(params.paths.model)
    lock = yaml.safe_load(LOCK_FILE.read_text(encoding="utf-8")) or {}
    deps = (lock.get("stages", {}).get("train") or {}).get("deps", [])
    data = {dep["path"]: dep["md5"] for dep in deps if dep["path"] in (params.paths.train, params.paths.validated)}
    head = git("rev-parse", "HEAD")
    run_id = read_json(params.paths.run_info).get("run_id")
    return Served(model, f"md5:{md5[:12]}", md5, run_id, head.stdout.strip() if head.returncode == 0 else None, data)


class Champion:
    """The model being served, replaced whole when the champion changes.

    A thread compares what should be served (`fingerprint()`: the model MD5 dvc.lock records) with what
    is, every `seconds`; on a change it loads the new model beside the old one and then swaps the
    reference. A request reads `current` once, so one in flight finishes on the model it started with,
    and none waits or fails while the new one loads. A model that cannot be loaded yet (dvc.lock written
    before the file, say) is tried again at the next look; the old one goes on serving.
    """

    def __init__(self, fingerprint: Callable[[], str | None], load: Callable[[], Served], seconds: float):
        self.fingerprint, self.load, self.seconds = fingerprint, load, seconds
        self.current: Served | None = None
        self.error: str | None = None
        self.stop = threading.Event()

    def watch(self) -> None:
        while True:
            wanted = self.fingerprint()
            if self.current is None or wanted != self.current.md5:
                self.refresh()
            if self.stop.wait(self.seconds):
                return

    def refresh(self) -> None:
        try:
            served = self.load()
        except UserError as error:
            if str(error) != self.error:
                print(f"serve: {'still serving ' + self.current.version + '; ' if self.current else ''}"
                      f"cannot load the champion: {error}", flush=True)
            self.error = str(error)
            return
        was, self.current, self.error = self.current, served, None
        print(f"serve: now serving {served.version}" + (f" (was {was.version})" if was else ""), flush=True)
