"""The tags that tie an MLflow run to its code and data: git commit, data hashes, DVC experiment, and
where it ran (compute.engine, the cluster's size)."""

import os

from ..data.tables import dataset_md5
from ..outputs import git


def _git(*args: str) -> str:
    """git's answer, or "" where there is none (no repository, or no git): lineage is then left out."""
    try:
        result = git(*args)
    except OSError:
        return ""
    return result.stdout.strip() if result.returncode == 0 else ""


def lineage(datasets: dict[str, str], compute: dict) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """The run's tags: git commit and dirtiness, each dataset's MD5 and number of parts, the DVC experiment
    name if any, and `compute`'s facts (engine, workers...) as compute.* tags; and each dataset's files
    with their MD5s (the run's lineage/datasets.json)."""
    hashed = {name: dataset_md5(path) for name, path in datasets.items()}
    tags = {f"data.{name}.md5": md5 for name, (md5, _) in hashed.items()}
    tags |= {f"data.{name}.parts": str(len(parts)) for name, (_, parts) in hashed.items()}
    tags |= {f"compute.{key}": str(value) for key, value in compute.items()}
    commit = _git("rev-parse", "HEAD")
    if commit:
        tags["git.commit"] = commit
        tags["git.dirty"] = str(bool(_git("status", "--porcelain", "--untracked-files=no"))).lower()
    if os.environ.get("DVC_EXP_NAME"):
        tags["dvc.experiment"] = os.environ["DVC_EXP_NAME"]
    return tags, {name: parts for name, (_, parts) in hashed.items()}
