"""The model the API serves, and what it was made from.

The champion is the registry's `champion` alias where a tracking server is configured (MLFLOW_TRACKING_URI
or mlflow.tracking_uri an http(s) URI: `make promote` moves it), otherwise the model the checked-out
dvc.lock names. Either is loaded only when its MD5 is one git recorded (model/artifact.py), so the API runs
no file of unknown origin. /version names it (the registry version, or its MD5), its MLflow run, the
commit and the training data's MD5. A challenger (serving/rollout.py) is watched and loaded the same way.
"""

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import yaml

from ..config import Params
from ..errors import ConfigError, UserError
from ..model.artifact import load_model
from ..outputs import LOCK_FILE, git, recorded_md5
from ..records import read_json
from ..tracking.registry import ALIAS


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
    if has_registry(params):
        return registry_model(params, ALIAS)
    return (lambda: recorded_md5(params.paths.model)), (lambda: workspace_model(params))


def has_registry(params: Params) -> bool:
    from ..tracking.connection import tracking_uri

    return tracking_uri(params.mlflow.tracking_uri).startswith(("http://", "https://"))


def registry_model(params: Params, alias: str) -> tuple[Callable[[], str | None], Callable[[], Served]]:
    """The registry version holding `alias`: its model MD5 (None while no version holds it), and its loader."""
    from ..tracking.connection import connect, shown
    from ..tracking.registry import champion_version, load_version
    from ..tracking.runs import MODEL_MD5_TAG

    mlflow, name = connect(params.mlflow.tracking_uri, params.mlflow.experiment), params.mlflow.model_name

    def tags(version) -> dict:
        return mlflow.MlflowClient().get_run(version.run_id).data.tags

    def fingerprint() -> str | None:
        version = champion_version(mlflow, name, alias)
        return None if version is None else tags(version).get(MODEL_MD5_TAG)

    def load() -> Served:
        version = champion_version(mlflow, name, alias)
        if version is None:
            raise UserError(f"{shown(mlflow.get_tracking_uri())}: {name} has no {alias} yet"
                            + ("; `make promote` registers one" if alias == ALIAS else ""))
        model, recorded = load_version(mlflow, version), tags(version)
        data = {key.removeprefix("data.").removesuffix(".md5"): value for key, value in recorded.items()
                if key.startswith("data.") and key.endswith(".md5")}
        return Served(model, f"{name}/{version.version}", recorded[MODEL_MD5_TAG], version.run_id,
                      recorded.get("git.commit"), data)

    return fingerprint, load


def revision_model(params: Params, revision: str) -> tuple[str, Callable[[], Served]]:
    """The model that git revision's dvc.lock names (a branch, tag or commit): its MD5 and its loader,
    which fetches it with DVC and loads it only when it is the file git recorded."""
    from ..model.champion import base_model_md5, fetch_model

    found = git("rev-parse", "--verify", "--quiet", revision + "^{commit}")
    if found.returncode != 0:
        raise ConfigError("rollout.challenger", "a branch, tag or commit of this git repository", revision)
    commit, path = found.stdout.strip(), params.paths.model
    md5 = base_model_md5(commit, path)
    if md5 is None:
        raise UserError(f"rollout.challenger: {revision} ({commit[:7]}) records no {path} in its {LOCK_FILE}")

    def load() -> Served:
        model = fetch_model(commit, path, md5, f"challenger {revision}@{commit[:7]}")
        lock = yaml.safe_load(git("show", f"{commit}:{LOCK_FILE}").stdout) or {}
        return Served(model, f"md5:{md5[:12]}", md5, None, commit, trained_on(params, lock))

    return md5, load


def workspace_model(params: Params) -> Served:
    """The model the workspace's dvc.lock records, with its lineage."""
    model = load_model(params.paths.model)
    md5 = recorded_md5(params.paths.model)
    lock = yaml.safe_load(LOCK_FILE.read_text(encoding="utf-8")) or {}
    head = git("rev-parse", "HEAD")
    run_id = read_json(params.paths.run_info).get("run_id")
    return Served(model, f"md5:{md5[:12]}", md5, run_id, head.stdout.strip() if head.returncode == 0 else None,
                  trained_on(params, lock))


def trained_on(params: Params, lock: dict) -> dict[str, str]:
    """The files train read, by the MD5 a dvc.lock records for them."""
    deps = (lock.get("stages", {}).get("train") or {}).get("deps", [])
    return {dep["path"]: dep["md5"] for dep in deps if dep["path"] in (params.paths.train, params.paths.validated)}


class Watched:
    """A model being served (the champion, or a challenger), replaced whole when it changes.

    A thread compares what should be served (`fingerprint()`: the model's MD5) with what is, every
    `seconds`; on a change it loads the new model beside the old one and then swaps the reference. A
    request reads `current` once, so one in flight finishes on the model it started with, and none waits
    or fails while the new one loads. A model that cannot be loaded yet (dvc.lock written before the file,
    say) is tried again at the next look; the old one goes on serving. A challenger may be no model at
    all (its fingerprint None): then `current` is None.
    """

    def __init__(self, fingerprint: Callable[[], str | None], load: Callable[[], Served], seconds: float,
                 role: str = "champion"):
        self.fingerprint, self.load, self.seconds, self.role = fingerprint, load, seconds, role
        self.current: Served | None = None
        self.error: str | None = None
        self.stop = threading.Event()

    def watch(self) -> None:
        while True:
            try:
                wanted = self.fingerprint()
            except Exception as error:  # a registry that does not answer: go on serving, say so once
                wanted = self.current.md5 if self.current else None
                self.say(f"cannot tell which model is the {self.role}: {' '.join(str(error).split())[:300]}")
            if wanted is None and self.role != "champion":
                self.clear()
            elif self.current is None or wanted != self.current.md5:
                self.refresh()
            if self.stop.wait(self.seconds):
                return

    def say(self, problem: str) -> None:
        """A problem, printed once however often it recurs (the old model, if any, goes on serving)."""
        if problem != self.error:
            still = f"still serving {self.role} {self.current.version}; " if self.current else ""
            print(f"serve: {still}{problem}", flush=True)
        self.error = problem

    def refresh(self) -> None:
        try:
            served = self.load()
        except Exception as error:  # a file going while `dvc checkout` replaces it, say: the next look tries again
            self.say(f"cannot load the {self.role}: {' '.join(str(error).split())[:300]}")
            return
        was, self.current, self.error = self.current, served, None
        print(f"serve: {self.role} now {served.version}" + (f" (was {was.version})" if was else ""), flush=True)

    def clear(self) -> None:
        if self.current is not None:
            print(f"serve: no {self.role} now (was {self.current.version})", flush=True)
        self.current, self.error = None, None
