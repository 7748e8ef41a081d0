"""Baking helpers shared by the template's tests."""

import json
import subprocess
import sys
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parents[1]
DEFAULTS = json.loads((TEMPLATE / "cookiecutter.json").read_text(encoding="utf-8"))


def bake(output_dir: Path, **answers: str) -> Path:
    """Generate a project with cookiecutter's own API, as `cookiecutter --no-input` would."""
    from cookiecutter.main import cookiecutter

    return Path(cookiecutter(str(TEMPLATE), no_input=True, output_dir=str(output_dir), extra_context=answers))


def bake_cli(output_dir: Path, env: dict | None = None, **answers: str) -> subprocess.CompletedProcess:
    """Generate a project with the `cookiecutter` command, for exit codes and messages."""
    command = [sys.executable, "-m", "cookiecutter", "--no-input", "--output-dir", str(output_dir), str(TEMPLATE)]
    command += [f"{key}={value}" for key, value in answers.items()]
    return subprocess.run(command, capture_output=True, text=True, env=env)


def project_files(project: Path) -> set[str]:
    """Every file of a generated project, relative to it, leaving out git's own folder."""
    return {str(path.relative_to(project)) for path in project.rglob("*")
            if path.is_file() and ".git" not in path.relative_to(project).parts}
