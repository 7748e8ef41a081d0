"""A team's project: an S3 remote on a moto server on 127.0.0.1, clones that pull, rebuilds of older
commits, an interrupted push, clear messages for a wrong bucket or missing credentials, the switch of
a local project to S3, and a grid of experiments run by two queue workers.

One developer's project (classification, S3 remote) is set up once; its two commits (two models) are
pushed, and each test works in fresh clones of it that share the developer's virtualenv.
"""

import hashlib
import json
import pickle
import socket
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from conftest import GRID, LOOP, TEST_SPLIT, Session, bake, create_bucket, git, post, queue_grid, s3_client, serve, serve_s3, states

BUCKET = "team-data"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def locked_md5(project: Path, path: str) -> str:
    """The MD5 dvc.lock records for a stage output."""
    lock = yaml.safe_load((project / "dvc.lock").read_text())
    return next(out["md5"] for stage in lock["stages"].values() for out in stage.get("outs", []) if out["path"] == path)


@dataclass
class Team:
    root: Path
    endpoint: str
    developer: Session
    commits: list[str]  # the developer's two commits, oldest first: two models

    def clone(self, name: str, commit: str | None = None) -> Session:
        """A teammate's fresh clone (at `commit`), using the developer's virtualenv (`make -o` below
        tells make not to build one of its own)."""
        path = self.root / name
        git(self.root, "clone", "--quiet", str(self.developer.project), str(path))
        if commit:
            git(path, "checkout", "--quiet", commit)
        return Session(path, dict(self.developer.env))


@pytest.fixture(scope="module")
def team(tmp_path_factory) -> Team:
    root = tmp_path_factory.mktemp("team")
    with serve_s3(root) as endpoint:
        project = bake(root, dvc_remote="s3", s3_bucket=BUCKET, s3_prefix="project", s3_endpoint_url=endpoint)
        developer = Session.for_project(project)
        developer.env |= CREDENTIALS
        developer.run("setup", "make", "setup")
        create_bucket(endpoint, BUCKET)
        commits = []
        for change in ("First model", "Stronger regularisation"):
            if commits:
                params = yaml.safe_load((project / "params.yaml").read_text())
                params["train"]["model"]["params"]["C"] = 0.5
                (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
            developer.run(f"repro: {change}", "make", "repro")
            git(project, "add", "--all")
            git(project, "commit", "--quiet", "-m", change)
            developer.run(f"push: {change}", "make", "push")
            commits.append(git(project, "rev-parse", "HEAD").strip())
        yield Team(root, endpoint, developer, commits)


@pytest.mark.slow
def test_a_fresh_clone_pulls_to_a_clean_status_and_nothing_to_reproduce(team):
    clone = team.clone("fresh")
    clone.run("pull", "make", "-o", ".venv/.installed", "pull")
    assert "Data and pipelines are up to date" in clone.run("status", "dvc", "status")
    output = clone.run("repro", "dvc", "repro")
    assert "Data and pipelines are up to date" in output and "Running stage" not in output


@pytest.mark.slow
def test_pulling_one_stage_brings_its_outputs_alone(team):
    clone = team.clone("one-stage")
    clone.run("pull train", "dvc", "pull", "train")
    project = clone.project
    assert md5(project / "models/model.joblib") == locked_md5(project, "models/model.joblib")
    assert (project / "models/mlflow_run.json").is_file()
    assert not (project / "data/prepared/train.parquet").exists() and not any((project / "data/raw").glob("*.csv"))


@pytest.mark.slow
def test_each_commit_rebuilds_to_the_same_model_and_quality_metrics(team):
    models = []
    for number, commit in enumerate(team.commits):
        clone = team.clone(f"rebuild-{number}", commit)
        clone.run("pull", "dvc", "pull")
        pulled = md5(clone.project / "models/model.joblib")
        quality = json.loads((clone.project / "metrics/evaluate.json").read_text())
        clone.run("rebuild", "dvc", "repro", "--force")
        assert md5(clone.project / "models/model.joblib") == pulled == locked_md5(clone.project, "models/model.joblib")
        assert json.loads((clone.project / "metrics/evaluate.json").read_text()) == quality
        models.append(pulled)
    assert models[0] != models[1], "the two commits should hold two different models"


class CutProxy:
    """A TCP relay to the S3 server that, once it has relayed `cut_after` bytes from clients, closes
    every connection and stops listening: to the client, the server going away part way through."""

    def __init__(self, upstream_port: int, port: int = 0, cut_after: int | None = None):
        self.upstream_port, self.cut_after, self.relayed = upstream_port, cut_after, 0
        self.listener = socket.create_server(("127.0.0.1", port), reuse_port=True)
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self.sockets: list[socket.socket] = []
        self.stopped = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.stopped.is_set():
            try:
                client, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            self.sockets += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket, from_client: bool) -> None:
        try:
            while data := source.recv(65536):
                if from_client:
                    self.relayed += len(data)
                    if self.cut_after is not None and self.relayed > self.cut_after:
                        self.stop()
                        return
                target.sendall(data)
        except OSError:
            pass
        for end in (source, target):
            end.close()

    def stop(self) -> None:
        self.stopped.set()
        self.listener.close()
        for end in self.sockets:
            try:
                end.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            end.close()


@pytest.mark.slow
def test_a_push_cut_off_part_way_resumes_without_corrupting_the_remote(team):
    clone = team.clone("uploader")
    clone.run("pull", "dvc", "pull")
    bulk = clone.project / "data/bulk"
    bulk.mkdir()
    for number in range(40):  # 40 MiB, in 1 MiB files of seeded random bytes
        bulk.joinpath(f"part-{number:02}.bin").write_bytes(
            hashlib.shake_256(number.to_bytes(2, "big")).digest(1 << 20))
    clone.run("add", "dvc", "add", "data/bulk")
    create_bucket(team.endpoint, "interrupted")
    proxy = CutProxy(int(team.endpoint.rsplit(":", 1)[1]), cut_after=12 << 20)
    clone.run("remote", "dvc", "remote", "add", "--local", "flaky", "s3://interrupted/project")
    clone.run("endpoint", "dvc", "remote", "modify", "--local", "flaky", "endpointurl", f"http://127.0.0.1:{proxy.port}")
    clone.fail("push cut off", "dvc", "push", "--remote", "flaky")
    assert proxy.stopped.is_set()
    objects = s3_client(team.endpoint).list_objects_v2(Bucket="interrupted").get("Contents", [])
    assert len(objects) < 40, "the cut should have come before the push finished"

    proxy = CutProxy(proxy.upstream_port, port=proxy.port)  # the server is back
    clone.run("push resumed", "dvc", "push", "--remote", "flaky")
    assert "in sync" in clone.run("remote status", "dvc", "status", "--cloud", "--remote", "flaky")
    proxy.stop()
    # Every object is stored under the MD5 of its content: a truncated upload would not match its key.
    client = s3_client(team.endpoint)
    keys = [item["Key"] for page in client.get_paginator("list_objects_v2").paginate(Bucket="interrupted")
            for item in page.get("Contents", [])]
    assert len(keys) >= 41  # the 40 parts, their directory listing, and the project's own files
    for key in keys:
        body = client.get_object(Bucket="interrupted", Key=key)["Body"].read()
        assert hashlib.md5(body).hexdigest() == "".join(key.split("/")[-2:]).removesuffix(".dir"), key


@pytest.mark.slow
def test_a_wrong_bucket_or_missing_credentials_is_one_clear_line(team):
    clone = team.clone("misconfigured")
    no_credentials = {key: value for key, value in clone.env.items() if not key.startswith("AWS_")}
    clone.env = no_credentials | {"AWS_SHARED_CREDENTIALS_FILE": "/nonexistent", "AWS_CONFIG_FILE": "/nonexistent"}
    clone.fail("pull without credentials", "make", "-o", ".venv/.installed", "pull")
    clone.env = dict(team.developer.env)
    clone.run("wrong bucket", "dvc", "remote", "modify", "--local", "storage", "url", "s3://no-such-bucket/project")
    clone.fail("pull from a wrong bucket", "make", "-o", ".venv/.installed", "pull")
    for step, expected in [("pull without credentials", "no AWS credentials found; set AWS_ACCESS_KEY_ID"),
                           ("pull from a wrong bucket", "bucket 'no-such-bucket' does not exist at http://127.0.0.1:")]:
        errors = [line for line in clone.outputs[step].splitlines() if line.startswith("error:")]
        assert len(errors) == 1 and expected in errors[0], clone.outputs[step]
        assert "Traceback" not in clone.outputs[step]


@pytest.mark.slow
def test_make_remote_s3_moves_a_local_project_to_s3(team):
    project = bake(team.root / "local")
    local = Session(project, dict(team.developer.env))
    local.fail("no bucket", "make", "remote-s3")
    assert "expected BUCKET=<bucket name>, found none" in local.outputs["no bucket"]
    create_bucket(team.endpoint, "moved")
    local.run("switch", "make", "remote-s3", "BUCKET=moved", "PREFIX=project", f"ENDPOINT={team.endpoint}")
    config = (project / ".dvc/config").read_text()
    assert "url = s3://moved/project" in config and f"endpointurl = {team.endpoint}" in config
    local.run("cache the sample", "sh", "-c", "dvc commit --force --quiet data/*/*.dvc")
    local.run("push", "dvc", "push")
    pushed = s3_client(team.endpoint).list_objects_v2(Bucket="moved", Prefix="project/")["KeyCount"]
    assert pushed == 2  # the raw sample and the current batch


@pytest.mark.slow
def test_a_queued_grid_runs_on_two_workers_and_the_best_experiment_can_be_applied(team):
    developer, project = team.developer, team.developer.project
    status = queue_grid(developer, workers=2)
    assert status.count("Success") == 6, status
    assert git(project, "status", "--porcelain") == ""
    assert "Data and pipelines are up to date" in developer.run("status", "dvc", "status")
    for path in (project / ".dvc/cache/files/md5").rglob("*"):  # each cache file is named by its content's MD5
        if path.is_file() and path.suffix != ".dir":
            assert md5(path) == path.parent.name + path.name, path

    rows = json.loads(developer.run("show", "dvc", "exp", "show", "--json"))
    experiments = {rev["name"]: rev["data"] for row in rows for exp in (row.get("experiments") or [])
                   for rev in exp["revs"]}
    assert len(experiments) == 6
    tried = {(data["params"]["params.yaml"]["data"]["train"]["model"]["params"]["C"],
              data["params"]["params.yaml"]["data"]["train"]["preprocessing"]["numeric_imputer"])
             for data in experiments.values()}
    assert tried == {(float(c), imputer) for c in GRID["train.model.params.C"]
                     for imputer in GRID["train.preprocessing.numeric_imputer"]}
    store = json.loads(developer.run("mlflow runs", str(project / ".venv/bin/python"), "-c", EXPERIMENT_RUNS))
    assert sorted(store["runs"]) == sorted(experiments)  # one finished run per experiment, tagged with its name
    assert store["integrity"] == "ok"  # two workers wrote to one SQLite file

    def quality(name):
        return experiments[name]["metrics"]["metrics/evaluate.json"]["data"]["balanced_accuracy"]
    best = max(sorted(experiments), key=quality)
    # The comparisons the README shows.
    table = developer.run("compare", "dvc", "exp", "show", "--no-pager", "--only-changed",
                          "--sort-by", "metrics/evaluate.json:balanced_accuracy")
    assert all(name in table for name in experiments)
    other = min(sorted(experiments), key=quality)
    assert "dvc_plots/index.html" in developer.run("plots diff", "dvc", "plots", "diff", best, other)
    developer.run("apply", "dvc", "exp", "apply", best)
    applied = json.loads((project / "metrics/evaluate.json").read_text())
    assert applied["balanced_accuracy"] == quality(best)
    developer.run("branch", "dvc", "exp", "branch", best, "best-of-grid")
    assert "best-of-grid" in git(project, "branch", "--list", "best-of-grid")


class Payload:
    """A pickle that runs a command when it is loaded: what whoever can write the bucket would put there."""

    def __init__(self, command: str):
        self.command = command

    def __reduce__(self):
        import os

        return (os.system, (self.command,))


@pytest.mark.slow
def test_a_model_replaced_in_the_remote_runs_no_code_in_a_fresh_clone(team):
    clone = team.clone("tampered")
    md5 = locked_md5(clone.project, "models/model.joblib")
    key = f"project/files/md5/{md5[:2]}/{md5[2:]}"
    client = s3_client(team.endpoint)
    original = client.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    marker = team.root / "payload-ran"
    client.put_object(Bucket=BUCKET, Key=key, Body=pickle.dumps(Payload(f"touch {marker}")))
    try:
        clone.run("pull", "dvc", "pull")  # DVC does not check an object against its MD5 unless told to
        clone.fail("evaluate", "dvc", "repro", "--force", "--single-item", "evaluate")
    finally:
        client.put_object(Bucket=BUCKET, Key=key, Body=original)
    assert not marker.exists(), "the pickle from the bucket ran"
    output = clone.outputs["evaluate"]
    errors = [line for line in output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and errors[0].startswith("error: models/model.joblib: MD5 ") and md5 in errors[0], output
    assert "Traceback" not in output


def keys(client, prefix: str) -> set[str]:
    return {item["Key"] for item in client.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])}


@pytest.mark.slow
def test_the_api_logs_to_the_bucket_collect_takes_the_traffic_and_simulate_leaves_the_bucket_alone(team):
    clone = team.clone("serving")
    clone.run("pull", "make", "-o", ".venv/.installed", "pull")
    rows = json.loads(clone.run("test split", "python", "-c", TEST_SPLIT))
    with serve(["make", "-C", str(clone.project), "-o", ".venv/.installed", "serve", "PORT={port}"],
               team.root / "serve", "/health", clone.env) as uri:
        for record, label in list(zip(rows["records"], rows["labels"]))[:5]:
            _, answer = post(uri, "/predict", {"records": [record]})
            post(uri, "/feedback", {"request_id": answer["request_id"], "label": label})
    client = s3_client(team.endpoint)
    incoming = "project/incoming/"
    assert keys(client, incoming + "log/") and keys(client, incoming + "feedback/")  # written on shutdown
    output = clone.run("collect", "make", "-o", ".venv/.installed", "collect")
    assert "5 answered records (5 labelled)" in output and "is now the current batch" in output, output
    batch = {key for key in keys(client, incoming) if key.count("/") == 2}
    assert len(batch) == 1 and batch.pop().endswith(".parquet")
    current = yaml.safe_load((clone.project / "params.yaml").read_text())["paths"]["current"]
    clone.run("batch back", "git", "checkout", "--", f"{current}.dvc")  # five rows are too few to train beside
    clone.run("batch back in the workspace", "dvc", "checkout", "--force", f"{current}.dvc")

    before = keys(client, "")
    output = clone.run("simulate", "make", "-o", ".venv/.installed", "simulate")
    assert states(output) == LOOP, output
    assert keys(client, "") == before  # the loop ran in its own copy, with its own incoming folder


# The finished MLflow runs the queued experiments logged in the project's store, by experiment name,
# and SQLite's own check of the store file.
EXPERIMENT_RUNS = """
import json, mlflow, sqlite3, yaml
integrity = sqlite3.connect("mlflow.db").execute("PRAGMA integrity_check").fetchone()[0]
mlflow.set_tracking_uri("sqlite:///mlflow.db")
name = yaml.safe_load(open("params.yaml"))["mlflow"]["experiment"]
runs = mlflow.search_runs(experiment_names=[name], output_format="list")
print(json.dumps({"integrity": integrity, "runs": [run.data.tags["dvc.experiment"] for run in runs
                  if "dvc.experiment" in run.data.tags and run.info.status == "FINISHED"]}))
"""
