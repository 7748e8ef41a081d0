"""The tags that tie an MLflow run to its code and data: git commit, data hashes, DVC experiment."""

import os

from ..data.tables import file_md5
from ..outputs import git


def _git(*args: str) -> str:
    """git's answer, or "" where there is none (no repository, or no git): lineage is then left out."""
    try:
        result = git(*args)
    except OSError:
        return ""
    return result.stdout.strip() if result.returncode == 0 else ""


def lineage_tags(data_files: dict[str, str]) -> dict[str, str]:
    """Git commit and dirtiness, the MD5 of each data file read, and the DVC experiment name if any."""
    tags = {f"data.{name}.md5": file_md5(path) for name, path in data_files.items()}
    commit = _git("rev-parse", "HEAD")
    if commit:
        tags["git.commit"] = commit
        tags["git.dirty"] = str(bool(_git("status", "--porcelain", "--untracked-files=no"))).lower()
    if os.environ.get("DVC_EXP_NAME"):
        tags["dvc.experiment"] = os.environ["DVC_EXP_NAME"]
    return tags
