"""Finish the generated project: put the chosen sample in place, record the answers, make the first commit.

A sample (samples/<task>/) is data: its data files and contract move into the project; its params.yaml
and dvc.yaml give the values that the project's files of the same name leave empty; its README.md is
included by the project's README when it is rendered. Standard library only: the environment that runs
cookiecutter is all there is.
"""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

SAMPLES = Path("samples")
# Sample files that fill the project's file of the same name instead of moving into place.
FILLED = ("params.yaml", "dvc.yaml")
# A YAML line holding a key: its indentation, the key, and the rest (the value and any comment).
KEY_LINE = re.compile(r"^( *)([^\s#:-][^:#]*):(.*)$")


class Node:
    """A YAML key and the lines below it, as text: enough to fill empty keys and keep every comment."""

    def __init__(self, indent: int, key: str, line: str, lines: list[str]):
        self.indent, self.key, self.line, self.lines = indent, key, line, lines  # lines: comments before it
        self.children: list[Node] = []
        self.body: list[str] = []  # lines below it that are not keys (list items, comments at the end)

    @property
    def empty(self) -> bool:
        """A key with nothing after its colon but a comment, and nothing below it."""
        return not self.children and not self.body and not _value(self.line)

    def render(self) -> list[str]:
        return [*self.lines, self.line, *[line for child in self.children for line in child.render()], *self.body]


def _value(line: str) -> str:
    return KEY_LINE.match(line)[3].split(" #")[0].strip()


def parse(text: str) -> Node:
    """The outline of a block-style YAML document: keys nested by indentation, every other line kept
    with the key whose value it is part of (list items, and everything below one)."""
    root = Node(-1, "", "", [])
    stack, pending = [root], []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            pending.append(line)
            continue
        indent = len(line) - len(line.lstrip())
        while stack[-1] is not root and indent <= stack[-1].indent:
            stack.pop()
        parent, match = stack[-1], KEY_LINE.match(line)
        if parent.body or not match:
            parent.body += [*pending, line]
        else:
            node = Node(indent, match[2].strip(), line, pending)
            parent.children.append(node)
            stack.append(node)
        pending = []
    root.body += pending
    return root


def fill(target: Node, source: Node, where: str) -> None:
    """Write each value of `source` into the key of the same name that `target` leaves empty."""
    for given in source.children:
        key = f"{where}.{given.key}".lstrip(".")
        slot = next((node for node in target.children if node.key == given.key), None)
        if slot is None:
            raise ValueError(f"the sample sets '{key}', which the project's file does not have")
        if slot.empty:
            value = _value(given.line)
            if value:  # a value on the key's own line: written there, before the slot's comment
                head, _, comment = slot.line.partition(" #")
                written = f"{head.rstrip()} {value}"
                slot.line = f"{written.ljust(len(head) - 1)}  #{comment}" if comment else written
            slot.children, slot.body = given.children, given.body
        elif given.children and slot.children:
            fill(slot, given, key)
        else:
            raise ValueError(f"the sample sets '{key}', which the project's file already sets")


def empty_keys(node: Node, where: str = "") -> list[str]:
    keys = []
    for child in node.children:
        key = f"{where}.{child.key}".lstrip(".")
        keys += [key] if child.empty else empty_keys(child, key)
    return keys


def filled(text: str, sample_text: str) -> str:
    """`text` with every empty key given its value from `sample_text`; every empty key must get one."""
    target = parse(text)
    fill(target, parse(sample_text), "")
    left = empty_keys(target)
    if left:
        raise ValueError(f"the sample leaves {', '.join(left)} empty")
    return "\n".join(line for line in target.render()[1:]) + "\n"


def install_sample(task: str) -> None:
    """Move the chosen sample's data and contract into place and fill in its settings; drop every sample."""
    sample = SAMPLES / task
    for name in FILLED:
        try:
            Path(name).write_text(filled(Path(name).read_text(encoding="utf-8"),
                                         (sample / name).read_text(encoding="utf-8")), encoding="utf-8")
        except ValueError as error:
            raise SystemExit(f"ERROR: samples/{task}/{name}: {error}") from None
    for item in sorted(sample.rglob("*")):
        relative = item.relative_to(sample)
        if item.is_file() and str(relative) not in (*FILLED, "README.md"):
            relative.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(item, relative)
    shutil.rmtree(SAMPLES)


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


def shadowed_distribution(package: str, lock: Path = Path("requirements.lock")) -> str | None:
    """The locked distribution whose import name the package would take (most import as their name)."""
    for line in lock.read_text(encoding="utf-8").splitlines():
        name = line.partition("==")[0].strip()
        if name and not name.startswith("#") and re.sub(r"[-.]", "_", name).lower() == package.lower():
            return name
    return None


def main(answers: dict) -> int:
    shadowed = shadowed_distribution(answers["package"])
    if shadowed:
        # Stops here: cookiecutter removes the half-made project folder.
        print(f"ERROR: package={answers['package']!r}: must not shadow a dependency (requirements.lock locks "
              f"{shadowed})", file=sys.stderr)
        return 1
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
