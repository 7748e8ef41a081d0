"""Baking: the exact file set per option, nothing left unrendered, every config parses, hostile answers are data."""

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from conftest import DEFAULTS, TEMPLATE, bake, project_files

PACKAGE = "src/my_ml_project"
COMMON = {
    ".cookiecutter.json", ".dvc/.gitignore", ".dvc/config", ".dvc/plots/psi_bands.json", ".dvcignore", ".gitignore",
    ".github/workflows/monitor.yml", ".github/workflows/pipeline.yml", "LICENSE", "Makefile",
    "README.md", "contract.yaml", "data/README.md", "dvc.yaml", "params.yaml", "pyproject.toml", "requirements.lock",
    "data/raw/.gitignore", "data/current/.gitignore",
    *(f"{PACKAGE}/{module}.py" for module in (
        "__init__", "checks", "contract", "drift_check", "drift_stats", "errors", "evaluate", "gates", "latency",
        "metrics", "model", "params", "plots", "prepare", "promote", "registry", "remote", "report", "simulate_drift",
        "tables", "tracking", "train", "validate")),
    *(f"tests/{module}.py" for module in (
        "conftest", "test_drift_check", "test_evaluate", "test_gates", "test_params", "test_pipeline", "test_prepare",
        "test_remote", "test_tables", "test_tracking", "test_train", "test_validate")),
}
SAMPLE = {"classification": "penguins", "regression": "auto_mpg"}
JINJA = re.compile(r"\{\{|\{%|\{#")  # opening markers: closing ones also occur in f-strings


def expected_files(task: str) -> set[str]:
    name = SAMPLE[task]
    return COMMON | {f"data/{kind}/{name}.csv{suffix}" for kind in ("raw", "current") for suffix in ("", ".dvc")}


OPTIONS = [
    pytest.param({}, id="defaults"),
    pytest.param({"task": "regression"}, id="regression"),
    pytest.param({"dvc_remote": "s3", "s3_endpoint_url": "http://127.0.0.1:5000"}, id="s3-endpoint"),
    pytest.param({"task": "regression", "dvc_remote": "s3", "license": "Apache-2.0", "python_version": "3.13"},
                 id="regression-s3-apache-py313"),
    pytest.param({"license": "Proprietary", "python_version": "3.12"}, id="proprietary-py312"),
]


@pytest.mark.parametrize("answers", OPTIONS)
def test_bake_gives_the_exact_file_set_and_valid_configs(tmp_path, answers):
    project = bake(tmp_path, **answers)
    task = answers.get("task", "classification")
    assert project_files(project) == expected_files(task)

    for path in project.rglob("*"):
        if path.is_file() and ".git" not in path.parts and path.suffix != ".csv":
            text = path.read_text(encoding="utf-8")
            assert not JINJA.search(text.replace("${{", "")), f"unrendered template syntax in {path}"

    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    params = yaml.safe_load((project / "params.yaml").read_text())
    pipeline = yaml.safe_load((project / "dvc.yaml").read_text())
    yaml.safe_load((project / "contract.yaml").read_text())
    json.loads((project / ".cookiecutter.json").read_text())

    assert pyproject["project"]["requires-python"] == f">={answers.get('python_version', '3.11')}"
    assert params["task"] == task
    assert list(pipeline["stages"]) == ["prepare", "validate", "train", "evaluate", "drift-check"]
    dvc_config = (project / ".dvc/config").read_text()
    if answers.get("dvc_remote") == "s3":
        assert "url = s3://my-ml-bucket/my-ml-project" in dvc_config and "region = us-east-1" in dvc_config
        assert ("endpointurl = http://127.0.0.1:5000" in dvc_config) == bool(answers.get("s3_endpoint_url"))
    else:
        assert "url = ../../my-ml-project-dvc-store" in dvc_config


def test_the_sample_is_small_real_and_tracked_by_dvc(tmp_path):
    import hashlib

    for task in SAMPLE:
        project = bake(tmp_path / task, task=task)
        for kind in ("raw", "current"):
            data = project / f"data/{kind}/{SAMPLE[task]}.csv"
            pointer = yaml.safe_load(data.with_suffix(".csv.dvc").read_text())["outs"][0]
            assert pointer["md5"] == hashlib.md5(data.read_bytes()).hexdigest()
            assert pointer["size"] == data.stat().st_size < 1_000_000
            assert (project / f"data/{kind}/.gitignore").read_text() == f"/{data.name}\n"
        text = (project / f"data/raw/{SAMPLE[task]}.csv").read_text()
        assert ",," in text or ",NA" in text, "the sample should have missing values"
        assert "License" in (project / "data/README.md").read_text()


def test_the_project_starts_as_one_clean_commit(tmp_path):
    project = bake(tmp_path)
    log = subprocess.run(["git", "log", "--oneline"], cwd=project, capture_output=True, text=True, check=True)
    assert len(log.stdout.splitlines()) == 1
    status = subprocess.run(["git", "status", "--porcelain"], cwd=project, capture_output=True, text=True, check=True)
    assert status.stdout == ""
    tracked = subprocess.run(["git", "ls-files"], cwd=project, capture_output=True, text=True, check=True).stdout
    assert "data/raw/penguins.csv.dvc" in tracked and "data/raw/penguins.csv\n" not in tracked


def test_a_machine_without_a_git_identity_still_gets_the_first_commit(tmp_path):
    from conftest import bake_cli

    home = tmp_path / "home"
    home.mkdir()
    env = {key: value for key, value in os.environ.items() if not key.startswith("GIT_")}
    env.update(HOME=str(home), GIT_CONFIG_NOSYSTEM="1", XDG_CONFIG_HOME=str(home))
    result = bake_cli(tmp_path / "out", env=env, author="Ada Lovelace")
    assert result.returncode == 0, result.stderr
    author = subprocess.run(["git", "log", "--format=%an <%ae>"], cwd=tmp_path / "out/my-ml-project",
                            capture_output=True, text=True, check=True, env=env).stdout.strip()
    assert author == "Ada Lovelace <my-ml-project@localhost>"


def test_without_git_the_project_is_still_made_and_says_what_to_do(tmp_path):
    from conftest import bake_cli

    env = dict(os.environ, PATH=str(Path(sys.executable).parent))  # a PATH with Python and no git
    result = bake_cli(tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert "git was not found: run `make setup` once git is installed" in result.stderr
    assert (tmp_path / "my-ml-project/dvc.yaml").is_file() and not (tmp_path / "my-ml-project/.git").exists()


HOSTILE = {
    "project_name": 'Ünïcødé "Quoted" \\ Back\nslash\'s',
    "author": "O'Brien \"\"\" \\x00 {braces} $(touch PWNED)",
    "description": '"""; import os; os.system("touch PWNED") #\nsecond line \' \\',
}


def test_hostile_answers_are_data_not_code(tmp_path):
    project = bake(tmp_path, **HOSTILE)
    assert project.name == "unicode-quoted-back-slash-s"
    assert not list(tmp_path.rglob("PWNED"))
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert pyproject["project"]["description"] == HOSTILE["description"]
    assert pyproject["project"]["authors"] == [{"name": HOSTILE["author"]}]
    answers = json.loads((project / ".cookiecutter.json").read_text())
    assert {key: answers[key] for key in HOSTILE} == HOSTILE
    params = yaml.safe_load((project / "params.yaml").read_text())
    assert params["mlflow"]["experiment"] == "unicode-quoted-back-slash-s"


BAD_ANSWERS = [
    ({"package": "class"}, "package='class': must not be a Python keyword"),
    ({"package": "json"}, "package='json': must not shadow a standard-library module"),
    ({"package": "mlflow"}, "package='mlflow': must not shadow a dependency"),
    ({"package": "test"}, "package='test': must not shadow"),
    ({"package": "my-model"}, "package='my-model': must be a Python identifier"),
    ({"project": "my project!"}, "project='my project!': must be letters, digits"),
    ({"dvc_remote": "s3", "s3_bucket": "Bad_Bucket"}, "s3_bucket='Bad_Bucket': must be 3-63 lower-case"),
    ({"dvc_remote": "s3", "s3_bucket": "192.168.0.1"}, "s3_bucket='192.168.0.1'"),
    ({"dvc_remote": "s3", "s3_region": "Mars"}, "s3_region='Mars': must be a region name"),
    ({"dvc_remote": "s3", "s3_endpoint_url": "ftp://x"}, "s3_endpoint_url='ftp://x': must be empty or an http(s)://"),
    ({"task": "clustering"}, "task"),
]


@pytest.mark.parametrize(("answers", "message"), BAD_ANSWERS, ids=[m.split(":")[0] for _, m in BAD_ANSWERS])
def test_bad_answers_stop_with_one_clear_line_and_generate_nothing(tmp_path, answers, message):
    from conftest import bake_cli

    result = bake_cli(tmp_path, **answers)
    assert result.returncode != 0
    assert message in result.stderr + result.stdout
    assert list(tmp_path.iterdir()) == []


def test_the_readme_documents_every_prompt_in_order():
    readme = (TEMPLATE / "README.md").read_text(encoding="utf-8")
    documented = re.findall(r"^\| `(\w+)` \|", readme, re.MULTILINE)
    assert documented == [key for key in DEFAULTS if not key.startswith("_")]
