"""The pipeline's outputs as DVC records them: are they those of the current inputs, and putting back
the last good ones after a stage fails.

The gates judge outputs only when `dvc status` says they are the ones the current code, data and
params give; a failed `make repro` puts back what it can and names what it cannot.
"""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from .errors import UserError

LOCK_FILE = Path("dvc.lock")


def dvc(*args: str) -> subprocess.CompletedProcess:
    """Run DVC as this interpreter's module (the project's virtualenv, whatever PATH says)."""
    return subprocess.run([sys.executable, "-m", "dvc", *args], capture_output=True, text=True)


def git(*args: str) -> subprocess.CompletedProcess:
    """Run git in the project, its output captured: callers read the record it keeps. Where git is not
    installed (the API's container image), it fails as git does outside a repository."""
    try:
        return subprocess.run(["git", *args], capture_output=True, text=True)
    except FileNotFoundError:
        return subprocess.CompletedProcess(["git", *args], 127, "", "git is not installed")


def recorded_md5(path: str | Path, lock_text: str | None = None) -> str | None:
    """The MD5 that dvc.lock (the workspace's, unless given) records for the output `path`."""
    return recorded_outputs(lock_text).get(str(path))


def recorded_outputs(lock_text: str | None = None) -> dict[str, str]:
    """Every output dvc.lock records (outs, metrics, plots), path -> MD5."""
    if lock_text is None:
        lock_text = LOCK_FILE.read_text(encoding="utf-8") if LOCK_FILE.is_file() else ""
    stages = (yaml.safe_load(lock_text) or {}).get("stages", {})
    return {out["path"]: out.get("md5") for stage in stages.values() for out in stage.get("outs", [])}


def changes(*targets: str) -> dict[str, str]:
    """What differs from dvc.lock for these stages and everything upstream of them: path -> how it changed."""
    if not Path(".dvc").is_dir():
        return {}  # not a DVC project (a unit test's folder): nothing recorded to compare with
    result = dvc("status", "--json", *targets, *(["--with-deps"] if targets else []))
    if result.returncode != 0:
        raise UserError(f"dvc status: {' '.join(result.stderr.split())[:300]}")
    found = {}
    for stage, entries in json.loads(result.stdout or "{}").items():
        for entry in entries:
            if isinstance(entry, str):  # "changed checksum", "always changed"
                found[stage] = entry
                continue
            for kind, changed in entry.items():
                role = kind.removeprefix("changed ").rstrip("s")  # out or dep
                for path, state in changed.items():
                    # A params file says which of its keys changed: {"drift": "modified"}.
                    for name, how in (state.items() if isinstance(state, dict) else [("", state)]):
                        key = f"{path} {name}".strip()
                        if role == "out" or key not in found:  # what a file is to the stage that makes it
                            found[key] = f"{how} {role}"
    return found


def require_current(stage: str, output: str) -> None:
    """Refuse to judge `output` when it is not what the current inputs give (a failed or a pending run)."""
    changed = changes(stage)
    if changed:
        shown = ", ".join(f"{path} ({how})" for path, how in list(changed.items())[:4])
        more = f" and {len(changed) - 4} more" if len(changed) > 4 else ""
        raise UserError(f"{output}: not the output of the current inputs ({shown}{more}); run `make repro` first")


def restore() -> tuple[list[str], dict[str, str], list[str]]:
    """Put back every stage output dvc.lock records that DVC can: (restored, path -> why not, and the data
    files that are missing: DVC stops before any stage when one is)."""
    stages = list(yaml.safe_load(Path("dvc.yaml").read_text(encoding="utf-8"))["stages"])
    before = changes()
    # Only the stages' outputs: a data file you are editing (tracked by its own .dvc file) stays as it is.
    dvc("checkout", "--force", "--quiet", *stages)
    cache = Path(dvc("cache", "dir").stdout.strip() or ".dvc/cache") / "files" / "md5"
    # Outputs kept in git (cache: false) are not checked out, but DVC's run cache keeps a copy of each.
    for path, md5 in recorded_outputs().items():
        copy = cache / md5[:2] / md5[2:] if md5 else None
        if not Path(path).exists() and copy and copy.is_file():
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(copy, path)
    outputs = recorded_outputs()
    left = {path: how for path, how in changes().items() if path in outputs and "out" in how}
    restored = [path for path, how in before.items() if path in outputs and "out" in how and path not in left]
    return restored, left, missing_data(before)


def missing_data(changed: dict[str, str] | None = None) -> list[str]:
    """The data files DVC tracks by their own `.dvc` file (not a stage's outputs) that the workspace lacks;
    `changed` is what `changes()` already found, when the caller has it."""
    outputs = recorded_outputs()
    # DVC says "deleted" when its cache has the file, "not in cache" when it does not (a pull that missed it).
    return [path for path, how in (changes() if changed is None else changed).items()
            if path not in outputs and how.endswith(" out") and not Path(path).exists()]
