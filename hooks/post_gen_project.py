"""Finish the generated project: keep the chosen sample, record the answers, make the first commit.

Standard library only: the environment that runs cookiecutter has nothing else.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path


def install_sample(task: str) -> None:
    """Move the sample data and contract of the chosen task into place; drop the others."""
    samples = Path("samples")
    for item in (samples / task).rglob("*"):
        if item.is_file():
            target = item.relative_to(samples / task)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(item, target)
    shutil.rmtree(samples)


def record_answers(answers: dict) -> None:
    """Keep the answers so the project can be regenerated or updated from a newer template."""
    public = {key: value for key, value in answers.items() if not key.startswith("_")}
    public["_template"] = answers.get("_template", "")
    Path(".cookiecutter.json").write_text(json.dumps(public, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def git(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], capture_output=True, text=True, env=env)


def first_commit(answers: dict) -> str:
    """Create the repository and its first commit (`dvc exp run` needs one); say why not otherwise."""
    if shutil.which("git") is None:
        return "git was not found: run `make setup` once git is installed (it creates the repository)."
    if git("init", "--quiet", "--initial-branch=main").returncode != 0:
        git("init", "--quiet")
    env = dict(os.environ)
    # A machine without a git identity still gets its first commit, authored by the project's author.
    if not git("config", "user.name").stdout.strip():
        env.setdefault("GIT_AUTHOR_NAME", answers["author"] or "author")
        env.setdefault("GIT_COMMITTER_NAME", answers["author"] or "author")
    if not git("config", "user.email").stdout.strip():
        env.setdefault("GIT_AUTHOR_EMAIL", f"{answers['project']}@localhost")
        env.setdefault("GIT_COMMITTER_EMAIL", f"{answers['project']}@localhost")
    git("add", "--all")
    result = git("commit", "--quiet", "--no-verify", "-m", "Initial project from the ML pipeline template", env=env)
    if result.returncode != 0:
        return f"git commit failed ({result.stderr.strip()}): commit the files yourself before `dvc exp run`."
    return ""


def main(answers: dict) -> int:
    install_sample(answers["task"])
    record_answers(answers)
    warning = first_commit(answers)
    if warning:
        print(f"NOTE: {warning}", file=sys.stderr)
    print(f"Created {answers['project']}. Next: cd {answers['project']} && make setup && make repro")
    return 0


if __name__ == "__main__":
    # The answers arrive as a JSON string literal, so no answer can become code here.
    sys.exit(main(json.loads({{ cookiecutter | tojson | tojson }})))
