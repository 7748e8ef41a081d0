"""Baking helpers shared by the template's tests."""

import functools
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from containers import CannotStart, Engine, shared_engine, stop_engine

TEMPLATE = Path(__file__).resolve().parents[1]
# Run under `make test`, the tests inherit its MAKELEVEL and MAKEFLAGS; a project's `make` would then act
# as a sub-make ("make[1]: Entering directory ...") and not as the user's own command line.
for variable in ("MAKELEVEL", "MAKEFLAGS", "MFLAGS"):
    os.environ.pop(variable, None)
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


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def params_edit(project: Path, change) -> None:
    """`change(params)` applied to the project's params.yaml."""
    params = yaml.safe_load((project / "params.yaml").read_text())
    change(params)
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))


def free_port() -> int:
    """A loopback port nothing listens on (at the moment of asking)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(command: list[str], workdir: Path, health: str, env: dict | None = None,
                 port: int | None = None) -> tuple[subprocess.Popen, str]:
    """A server started on a loopback port (`{port}` in `command`; a free one unless given), in a process
    group of its own, once `health` answers; the process and its URI."""
    port = port or free_port()
    workdir.mkdir(parents=True)
    log = workdir / "server.log"
    with open(log, "w") as stream:
        server = subprocess.Popen([part.format(port=port) for part in command], cwd=workdir, stdout=stream, env=env,
                                  stderr=subprocess.STDOUT, start_new_session=True)  # workers share its group
    uri = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while True:
        try:
            with urllib.request.urlopen(f"{uri}{health}", timeout=2):
                return server, uri
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                stop_server(server)
                raise AssertionError(log.read_text()) from None
            time.sleep(0.5)


def stop_server(server: subprocess.Popen) -> None:
    """As Ctrl-C would: SIGTERM to its process group, SIGKILL after 30 s."""
    try:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    except ProcessLookupError:
        server.wait()
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()


@contextmanager
def serve(command: list[str], workdir: Path, health: str, env: dict | None = None) -> Iterator[str]:
    """Run a server on a free loopback port (`{port}` in `command`) until the block ends; yield its URI."""
    server, uri = start_server(command, workdir, health, env)
    try:
        yield uri
    finally:
        stop_server(server)


# In a project's folder, run by its Python: the test split's feature records, labels and the model's
# predictions for them, as JSON.
TEST_SPLIT = """
import json
from my_ml_project.config import load_params
from my_ml_project.data.features import feature_columns
from my_ml_project.data.tables import read_table
from my_ml_project.model.artifact import load_model
params = load_params()
test = read_table(params.paths.test)
features = test[feature_columns(test, params.target)]
print(json.dumps({"records": json.loads(features.to_json(orient="records")), "labels": test[params.target].tolist(),
                  "predictions": load_model(params.paths.model).predict(features).tolist()}))
"""


def post(uri: str, path: str, body: dict, token: str | None = None) -> tuple[int, dict]:
    """POST `body` as JSON (with `Authorization: Bearer <token>` when given); the status and the JSON answer
    (an error's too)."""
    headers = {"Content-Type": "application/json"} | ({"Authorization": f"Bearer {token}"} if token else {})
    request = urllib.request.Request(uri + path, json.dumps(body).encode(), headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


# The states of `make simulate`'s whole loop, in order.
LOOP = ["Healthy", "Degraded", "Retraining", "Validating", "Shadowing", "Deploying", "Healthy"]


def states(output: str) -> list[str]:
    """The states `make simulate` went through, in order, from its dashboard's lines."""
    return re.findall(r"state \S+ -> (\w+):", output)


def mlflow_server(workdir: Path, mlflow: Path):
    """A real `mlflow server` on 127.0.0.1 (SQLite backend, artifacts in a folder)."""
    return serve([str(mlflow), "server", "--host", "127.0.0.1", "--port", "{port}", "--workers", "1",
                  "--backend-store-uri", f"sqlite:///{workdir / 'server.db'}",
                  "--artifacts-destination", str(workdir / "artifacts")], workdir, "/health")


def serve_s3(root: Path):
    """moto's S3 server on a free loopback port."""
    moto = Path(sys.executable).parent / "moto_server"
    return serve([str(moto), "-H", "127.0.0.1", "-p", "{port}"], root / "moto", "/moto-api/")


def s3_client(endpoint: str):
    """A client of the loopback S3 server, with the dummy credentials moto accepts."""
    import boto3

    return boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="testing", aws_secret_access_key="testing",
                        region_name="us-east-1")


def create_bucket(endpoint: str, bucket: str) -> None:
    s3_client(endpoint).create_bucket(Bucket=bucket)


# What this machine's environment may set that a user's shell does not: another virtualenv, and the switch
# that stops Python writing its bytecode cache (each stage would compile its imports again on every run).
USERS_SHELL_LACKS = ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONDONTWRITEBYTECODE")


@functools.cache  # once a process: every project command and act run asks
def uv_alone() -> Path:
    """A folder holding uv alone, the one `make test` installs beside pytest: on a user's PATH as `pipx
    install uv` leaves it, so a project's `make setup` has no uv of its own to install."""
    folder = Path(sys.executable).parent.parent / "uv-alone"
    folder.mkdir(exist_ok=True)
    try:
        (folder / "uv").symlink_to(Path(sys.executable).parent / "uv")
    except FileExistsError:  # another worker of the run made it first
        pass
    return folder


def users_path() -> str:
    """PATH as a user's shell has it: this machine's, with uv on it."""
    return f"{uv_alone()}{os.pathsep}{os.environ['PATH']}"


@dataclass
class Session:
    """A baked project, and what each command run in it printed, by step name."""

    project: Path
    env: dict
    outputs: dict[str, str] = field(default_factory=dict)  # step -> what it printed (stdout and stderr)
    stdout: dict[str, str] = field(default_factory=dict)  # step -> its standard output alone
    locked: str = ""  # requirements.lock as generated, before `make lock` re-resolves it
    kept_after_failure: list[str] = field(default_factory=list)  # data/prepared after a failed run
    files: dict[str, str] = field(default_factory=dict)  # name -> a file's content at one step

    @classmethod
    def for_project(cls, project: Path) -> "Session":
        """Commands run as a user's would after `make setup`: the project's virtualenv first on PATH."""
        env = {key: value for key, value in os.environ.items() if key not in USERS_SHELL_LACKS}
        env["PATH"] = f"{project / '.venv/bin'}{os.pathsep}{users_path()}"
        return cls(project, env)

    def run(self, step: str, *command: str) -> str:
        """Run a command in the project; keep its output under `step`; fail with the output if it fails."""
        result = subprocess.run(command, cwd=self.project, env=self.env, capture_output=True, text=True)
        self.outputs[step] = result.stdout + result.stderr
        self.stdout[step] = result.stdout
        assert result.returncode == 0, f"{' '.join(command)} failed:\n{self.outputs[step]}"
        return result.stdout

    def fail(self, step: str, *command: str) -> None:
        """Run a command that must fail; keep what it printed under `step`."""
        result = subprocess.run(command, cwd=self.project, env=self.env, capture_output=True, text=True)
        self.outputs[step] = result.stdout + result.stderr
        assert result.returncode != 0, f"{' '.join(command)} should have failed:\n{self.outputs[step]}"


# A grid of experiments: two train params, three and two values, none of them the committed params.
GRID = {"train.model.params.C": ("0.1", "2.0", "10.0"), "train.preprocessing.numeric_imputer": ("mean", "most_frequent")}


def queue_grid(session: Session, workers: int, timeout: float = 900) -> str:
    """Queue the grid, run it with `workers` queue workers, wait for the end; the last `dvc queue status`."""
    sets = [option for key, values in GRID.items() for option in ("--set-param", f"{key}={','.join(values)}")]
    session.run("queue", "dvc", "exp", "run", "--queue", *sets)
    start = ("dvc", "queue", "start", "--jobs", str(workers))
    session.run("start", *start)
    deadline = time.monotonic() + timeout
    stalled_since = None
    while any(state in (status := session.run("queue status", "dvc", "queue", "status")) for state in ("Queued", "Running")):
        assert time.monotonic() < deadline, status
        # DVC's queue workers can all stop while experiments are still queued (treeverse/dvc#10562); DVC's
        # advice is to start them again. Only after a while: workers just started may not be counted yet.
        stalled = "Running" not in status and "Worker status: 0 active" in status
        stalled_since = (stalled_since or time.monotonic()) if stalled else None
        if stalled_since and time.monotonic() - stalled_since > 15:
            session.run("restart", *start)
            stalled_since = None
        time.sleep(1)
    return session.outputs["queue status"]


def run_folder(config: pytest.Config) -> Path:
    """The temporary folder of the whole run: under pytest-xdist, the one its workers' folders are in."""
    basetemp = config._tmp_path_factory.getbasetemp()
    return basetemp.parent if hasattr(config, "workerinput") else basetemp


@pytest.fixture(scope="session")
def docker(request) -> tuple[Engine, str]:
    """The Docker engine of the tests' own and the base image to build on (tests/containers.py): one for
    the whole run, whichever worker asks first starting it, so each build of the project's image starts
    from the layers of the one before."""
    try:
        return shared_engine(run_folder(request.config) / "docker")
    except CannotStart as reason:
        pytest.skip(f"Docker cannot start here: {reason}")


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    if not hasattr(session.config, "workerinput"):  # the run itself, after every worker has finished
        stop_engine(run_folder(session.config) / "docker")


# The projects that tests share (their module-scoped fixtures), longest first as measured: pytest-xdist
# hands each to one worker whole (--dist loadgroup), in this order, so the workers start on the longest
# and the short tests fill the end.
LONGEST_FIRST = ("test_pipeline.py::first_run:classification", "test_workflows.py::team",
                 "test_pipeline.py::first_run:regression", "test_team.py::team", "test_workflows.py::new_project",
                 "test_own_data.py::project")
# The development loop (`make test-fast`): every test not marked slow, and the one pipeline run that needs
# only a baked, installed project's first `make repro`.
FAST_PIPELINE = "test_pipeline.py::first_run:classification"


def shared_project(item: pytest.Item) -> str | None:
    """`module::fixture` (`:param` if parametrized): the module-scoped fixture that all others `item` uses
    build on, or None."""
    fixtures = item._fixtureinfo.name2fixturedefs
    for name in reversed(item.fixturenames):  # a fixture's own fixtures come after it
        if name in fixtures and fixtures[name][-1].scope == "module":
            shared = f"{item.path.name}::{name}"
            callspec = getattr(item, "callspec", None)
            # No "]" in a group's name: pytest-xdist reads one after the "@" it appends as a parameter's.
            return f"{shared}:{callspec.params[name]}" if callspec and name in callspec.params else shared
    return None


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups, and -m the marks
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    projects = {item.nodeid: shared_project(item) for item in items}

    def order(item: pytest.Item) -> tuple[int, int]:
        shared = projects[item.nodeid]
        if shared in LONGEST_FIRST:
            return 0, LONGEST_FIRST.index(shared)
        return (1 if shared else 2 if item.get_closest_marker("slow") else 3), 0

    for item in items:
        shared = projects[item.nodeid]
        if shared:
            item.add_marker(pytest.mark.xdist_group(shared))
        if not item.get_closest_marker("slow") or (shared == FAST_PIPELINE and "session" not in item.fixturenames):
            item.add_marker(pytest.mark.fast)
    items.sort(key=order)  # stable: within a project, the tests keep their order
