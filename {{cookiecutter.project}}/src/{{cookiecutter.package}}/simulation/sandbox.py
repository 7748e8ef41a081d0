"""A throwaway copy of the project, where `make simulate` runs the loop: the workspace, its DVC remote,
its tracking server and its incoming location are never touched, and the copy is deleted at the end.

`live` is a git repository on branch main holding the project as it is (its dvc.lock names the
champion, which the API serves); `candidate` is a worktree of it on branch `retrain`, where retraining
runs and the gates judge it against main's model; deploying is a merge into main, as on GitHub. Both
share one DVC cache; MLflow records into an SQLite store of the sandbox; new data lands in its folder.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from ..errors import PARAMS_FILE, UserError

# Not copied: environments and caches, local settings (a remote's credentials), the tracking stores.
LEFT_OUT = (".venv", ".git", "cache", "tmp", "config.local", "mlflow.db", "mlruns", "mlartifacts", "build",
            "__pycache__", ".pytest_cache", "dvc_plots")
IDENTITY = {"GIT_AUTHOR_NAME": "simulate", "GIT_AUTHOR_EMAIL": "simulate@localhost",
            "GIT_COMMITTER_NAME": "simulate", "GIT_COMMITTER_EMAIL": "simulate@localhost"}


class Sandbox:
    def __init__(self, project: Path, root: Path):
        self.live, self.candidate, self.incoming = root / "live", root / "candidate", root / "incoming"
        self.project = project
        self.env = {**os.environ, **IDENTITY, "MLFLOW_TRACKING_URI": f"sqlite:///{root / 'mlflow.db'}",
                    "PYTHONPATH": "src",
                    "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}

    def create(self, settings: dict[str, dict], branch: str) -> None:
        """Copy the project, with `settings` (section -> key -> value) over its params; commit it as
        `branch` (the champion's: gates.champion.base) and check out the worktree for retraining."""
        shutil.copytree(self.project, self.live, ignore=shutil.ignore_patterns(*LEFT_OUT), symlinks=True)
        params_file = self.live / PARAMS_FILE
        params = yaml.safe_load(params_file.read_text(encoding="utf-8"))
        for section, values in settings.items():
            params[section] = {**params.get(section, {}), **values}
        params_file.write_text(yaml.safe_dump(params, sort_keys=False), encoding="utf-8")
        self.git(self.live, "init", "--quiet", "--initial-branch", branch)
        self.dvc(self.live, "commit", "--force", "--quiet")  # the outputs into the cache both checkouts share
        self.git(self.live, "add", "--all")
        self.git(self.live, "commit", "--quiet", "--message", "the project as it is")
        self.git(self.live, "worktree", "add", "--quiet", "-b", "retrain", str(self.candidate))
        self.dvc(self.candidate, "config", "--local", "cache.dir", str(self.live / ".dvc" / "cache"))
        self.dvc(self.candidate, "checkout", "--quiet")

    def run(self, where: Path, *command: str, check: bool = True) -> subprocess.CompletedProcess:
        """A command in one checkout; a failure is a UserError with the end of what it printed (unless
        `check` is false: then the caller reads the outcome)."""
        done = subprocess.run(command, cwd=where, env=self.env, capture_output=True, text=True)
        if check and done.returncode != 0:
            said = (done.stdout + done.stderr).strip().splitlines()[-12:]
            raise UserError(f"simulate: `{' '.join(command)}` failed in the sandbox:\n" + "\n".join(said))
        return done

    def git(self, where: Path, *args: str) -> subprocess.CompletedProcess:
        return self.run(where, "git", *args)

    def dvc(self, where: Path, *args: str) -> subprocess.CompletedProcess:
        return self.run(where, sys.executable, "-m", "dvc", *args)

    def command(self, where: Path, package: str, name: str, *args: str,
                check: bool = True) -> subprocess.CompletedProcess:
        """One of the project's commands (`make <name>`'s), run from the checkout's own code."""
        return self.run(where, sys.executable, "-m", f"{package}.commands.{name}", *args, check=check)
