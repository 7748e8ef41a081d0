"""Run a GitHub Actions job's `run:` steps locally, in order, the way the runner would.

`uses:` steps are skipped: the test sets up their local equivalents (checkout = a fresh clone,
setup-python = the current interpreter's virtualenv, cache = none). `${{ }}` expressions and `if:`
conditions are evaluated against a plain dict standing for the event (github, secrets, steps).
"""

import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

EXPRESSION = re.compile(r"\$\{\{\s*(.+?)\s*\}\}")
NAME = re.compile(r"(?<!['\w.])([a-z_]+(?:\.[A-Za-z_]+)+)")


@dataclass
class StepResult:
    name: str
    status: str  # "passed", "failed" or "skipped"
    output: str = ""


@dataclass
class JobRun:
    steps: list[StepResult] = field(default_factory=list)
    summary: str = ""  # what the steps wrote to $GITHUB_STEP_SUMMARY

    def status(self, name: str) -> str:
        return next(step.status for step in self.steps if step.name == name)

    def output(self, name: str) -> str:
        return next(step.output for step in self.steps if step.name == name)

    @property
    def failed(self) -> list[str]:
        return [step.name for step in self.steps if step.status == "failed"]


def lookup(context: dict, dotted: str):
    value = context
    for part in dotted.split("."):
        value = value.get(part, "") if isinstance(value, dict) else ""
    return value


def evaluate(expression: str, context: dict, failed: bool) -> bool:
    """An `if:` condition: GitHub's operators and always(), names looked up in `context`."""
    text = EXPRESSION.sub(r"\1", expression)
    success = "always()" not in text
    text = text.replace("always()", "True").replace("&&", " and ").replace("||", " or ")
    text = NAME.sub(lambda match: repr(lookup(context, match.group(1))), text)
    result = bool(eval(text, {"__builtins__": {}}))  # our own workflow files, not user input
    return result and not (failed and success)


def resolve(value: str, context: dict) -> str:
    return EXPRESSION.sub(lambda match: str(lookup(context, match.group(1))), str(value))


def run_job(workflow: dict, job: str, cwd: Path, env: dict, context: dict, scratch: Path) -> JobRun:
    """The job's steps in order; after a failure only `if: always()` steps run, as on GitHub."""
    spec = workflow["jobs"][job]
    run = JobRun()
    if "if" in spec and not evaluate(spec["if"], context, failed=False):
        run.steps.append(StepResult(f"job {job}", "skipped"))
        return run
    summary, path = scratch / "summary.md", scratch / "path"
    summary.write_text("")
    path.write_text("")
    job_env = {**env, "GITHUB_STEP_SUMMARY": str(summary), "GITHUB_PATH": str(path)}
    job_env |= {key: resolve(value, context) for key, value in (spec.get("env") or {}).items()}
    context = {**context, "steps": {}}
    for index, step in enumerate(spec["steps"]):
        name = step.get("name", step.get("uses", f"step {index}"))
        if "run" not in step:
            continue  # a `uses:` step: its local equivalent is already in place
        if not evaluate(step.get("if", "success()").replace("success()", "True"), context, bool(run.failed)):
            run.steps.append(StepResult(name, "skipped"))
            continue
        outputs = scratch / f"output-{index}"
        outputs.write_text("")
        step_env = {**job_env, "GITHUB_OUTPUT": str(outputs)}
        added = [line for line in path.read_text().splitlines() if line][::-1]  # $GITHUB_PATH: latest first
        step_env["PATH"] = os.pathsep.join([*added, job_env["PATH"]])
        step_env |= {key: resolve(value, context) for key, value in (step.get("env") or {}).items()}
        result = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", step["run"]], cwd=cwd, env=step_env,
                                capture_output=True, text=True)
        run.steps.append(StepResult(name, "passed" if result.returncode == 0 else "failed",
                                    result.stdout + result.stderr))
        if "id" in step:
            pairs = (line.split("=", 1) for line in outputs.read_text().splitlines() if "=" in line)
            context["steps"][step["id"]] = {"outputs": dict(pairs)}
    run.summary = summary.read_text()
    return run
