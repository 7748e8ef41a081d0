"""The model the API serves, and what it was made from.

The champion is the registry's `champion` alias where a tracking server is configured (MLFLOW_TRACKING_URI
or mlflow.tracking_uri an http(s) URI: `make promote` moves it), otherwise the model the checked-out
dvc.lock names. Either is loaded only when its MD5 is one git recorded (model/artifact.py), so the API runs
no file of unknown origin. /version names it (the registry version, or its MD5), its MLflow run, the
commit and the training data's MD5.
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


def champion_source(params: Params) -> tuple[Callable[[], str | None], Callable[[], Served]]:
    """What says which model should be served (its MD5), and what loads it: the registry's champion where
    a tracking server is configured, else the workspace's dvc.lock."""
    from ..tracking.connection import tracking_uri

    if tracking_uri(params.mlflow.tracking_uri).startswith(("http://", "https://")):
        return registry_champion(params)
    return (lambda: recorded_md5(params.paths.model)), (lambda: workspace_model(params))


def registry_champion(params: Params) -> tuple[Callable[[], str | None], Callable[[], Served]]:
    from ..tracking.connection import connect, shown
    from ..tracking.registry import champion_version, load_version
    from ..tracking.runs import MODEL_MD5_TAG

    mlflow, name = connect(params.mlflow.tracking_uri, params.mlflow.experiment), params.mlflow.model_name

    def tags(version) -> dict:
        return mlflow.MlflowClient().get_run(version.run_id).data.tags

    def fingerprint() -> str | None:
        version = champion_version(mlflow, name)
        return None if version is None else tags(version).get(MODEL_MD5_TAG)

    def load() -> Served:
        version = champion_version(mlflow, name)
        if version is None:
            raise UserError(f"{shown(mlflow.get_tracking_uri())}: {name} has no champion yet; `make promote` "
                            "registers one")
        model, recorded = load_version(mlflow, version), tags(version)
        data = {key.removeprefix("data.").removesuffix(".md5"): value for key, value in recorded.items()
                if key.startswith("data.") and key.endswith(".md5")}
        return Served(model, f"{name}/{version.version}", recorded[MODEL_MD5_TAG], version.run_id,
                      recorded.get("git.commit"), data)

    return fingerprint, load


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
            try:
                wanted = self.fingerprint()
            except Exception as error:  # a registry that does not answer: go on serving, say so once
                wanted = self.current.md5 if self.current else None
                self.say(f"cannot tell which model is the champion: {' '.join(str(error).split())[:300]}")
            if self.current is None or wanted != self.current.md5:
                self.refresh()
            if self.stop.wait(self.seconds):
                return

    def say(self, problem: str) -> None:
        """A problem, printed once however often it recurs (the old model, if any, goes on serving)."""
        if problem != self.error:
            print(f"serve: {'still serving ' + self.current.version + '; ' if self.current else ''}{problem}",
                  flush=True)
        self.error = problem

    def refresh(self) -> None:
        try:
            served = self.load()
        except UserError as error:
            self.say(f"cannot load the champion: {error}")
            return
        was, self.current, self.error = self.current, served, None
        print(f"serve: now serving {served.version}" + (f" (was {was.version})" if was else ""), flush=True)
