"""The tags that tie an MLflow run to its code and data: git commit, data hashes, DVC experiment, and
where it ran (compute.engine, the cluster's size)."""

import os

from ..data.tables import data_files, dataset_md5, file_md5
from ..outputs import git


def _git(*args: str) -> str:
    """git's answer, or "" where there is none (no repository, or no git): lineage is then left out."""
    try:
        result = git(*args)
    except OSError:
        return ""
    return result.stdout.strip() if result.returncode == 0 else ""


def lineage_tags(datasets: dict[str, str], compute: dict | None = None) -> dict[str, str]:
    """Git commit and dirtiness, each dataset's MD5 and number of parts (tables.dataset_md5), the DVC
    experiment name if any, and `compute`'s facts (engine, workers...) as compute.* tags."""
    tags = {f"data.{name}.md5": dataset_md5(path) for name, path in datasets.items()}
    tags |= {f"data.{name}.parts": str(len(data_files(path))) for name, path in datasets.items()}
    tags |= {f"compute.{key}": str(value) for key, value in (compute or {}).items()}
    commit = _git("rev-parse", "HEAD")
    if commit:
        tags["git.commit"] = commit
        tags["git.dirty"] = str(bool(_git("status", "--porcelain", "--untracked-files=no"))).lower()
    if os.environ.get("DVC_EXP_NAME"):
        tags["dvc.experiment"] = os.environ["DVC_EXP_NAME"]
    return tags


def dataset_parts(datasets: dict[str, str]) -> dict[str, dict[str, str]]:
    """Each dataset's files (one, or its Parquet parts) by name, with their MD5s: the run's
    lineage/datasets.json, which the data.*.md5 tags summarize."""
    return {name: {file.name: file_md5(file) for file in data_files(path)} for name, path in datasets.items()}
