"""The model file train writes, and the only way to load one: after proof that git recorded it.

Unpickling a file runs whatever code it names. A model file is therefore loaded only when its MD5 is
one that dvc.lock records: the workspace's (the outputs of the checked-out commit or of the last
completed run) or a committed one. A file replaced in the DVC remote or in a tracking server's
artifact store, or edited by hand, is refused before a byte of it runs.
"""

import hashlib
import io
from pathlib import Path

import joblib

from ..data.tables import file_md5
from ..errors import UserError
from ..outputs import LOCK_FILE, git, recorded_md5, recorded_outputs


def save_model(model, path: str | Path) -> str:
    """Write the model; return its MD5 (what dvc.lock will record for it)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, path)
    return file_md5(path)


def load_model(path: str | Path):
    """The model file at `path`, when it is the one dvc.lock records. The file is read once: the bytes
    whose MD5 is checked are the bytes unpickled, even while `dvc checkout` replaces the file."""
    expected = recorded_md5(path)
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise UserError(f"{path}: file not found; run `dvc repro train` (or `dvc pull train`)") from None
    found = hashlib.md5(data).hexdigest()
    if expected != found:
        recorded = f"the {expected} dvc.lock records" if expected else "recorded in dvc.lock"
        raise UserError(f"{path}: MD5 {found} is not {recorded}, so it is not loaded (unpickling a file of "
                        f"unknown origin can run code); `dvc repro --force train` makes it anew")
    return joblib.load(io.BytesIO(data))


def load_recorded_bytes(data: bytes, md5: str, origin: str):
    """A model from bytes fetched elsewhere (a registry), when they hash to `md5` and git recorded `md5`."""
    if hashlib.md5(data).hexdigest() != md5:
        raise UserError(f"{origin}: the model file's MD5 is not the {md5} recorded with it; not loaded")
    if not in_git_record(md5):
        raise UserError(f"{origin}: model MD5 {md5} is in no dvc.lock of this repository (the workspace's or a "
                        "committed one); not loaded")
    return joblib.load(io.BytesIO(data))


def in_git_record(md5: str) -> bool:
    """Whether the workspace's dvc.lock or any committed one records an output with this MD5."""
    if md5 in recorded_outputs().values():
        return True
    found = git("log", "--all", "--format=%H", "-S", md5, "--", str(LOCK_FILE))
    return found.returncode == 0 and bool(found.stdout.strip())
