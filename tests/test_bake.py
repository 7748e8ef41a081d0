"""Baking: the exact file set per option, nothing left unrendered, every config parses, hostile answers are data."""

import itertools
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

PROJECT = TEMPLATE / "{{cookiecutter.project}}"
SAMPLES = PROJECT / "samples"
# Files of a sample that do not move into the project: the first two fill the project's files of the
# same name, the README is included by the project's README.
FRAGMENTS = ("params.yaml", "dvc.yaml", "README.md")
JINJA = re.compile(r"\{\{|\{%|\{#")  # opening markers: closing ones also occur in f-strings


def template_files(folder: Path) -> list[Path]:
    """The files of the template under `folder` (those git tracks, and new ones it does not ignore)."""
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z", "."], cwd=folder,
                            capture_output=True, text=True, check=True).stdout.split("\0")
    return [folder / name for name in listed if name and (folder / name).is_file()]


def expected_files(task: str, package: str = "my_ml_project") -> set[str]:
    """The template's project files with their names rendered, the sample's files moved into place, and the answers."""
    shared = {str(path.relative_to(PROJECT)).replace("{{cookiecutter.package}}", package)
              for path in template_files(PROJECT) if path.relative_to(PROJECT).parts[0] != "samples"}
    sample = {str(path.relative_to(SAMPLES / task)) for path in template_files(SAMPLES / task)}
    return shared | (sample - set(FRAGMENTS)) | {".cookiecutter.json"}


def option_matrix() -> list:
    """Bakes read from cookiecutter.json: every pair of a sample (task) and a DVC remote, which change files
    together, and the other choices rotating through them so that every value is baked at least once."""
    choices = {key: value for key, value in DEFAULTS.items() if isinstance(value, list) and not key.startswith("_")}
    pairs = list(itertools.product(choices.pop("task"), choices.pop("dvc_remote")))
    bakes = []
    for i in range(max(len(pairs), *map(len, choices.values()))):
        task, remote = pairs[i % len(pairs)]
        answers = {"task": task, "dvc_remote": remote} | {key: values[i % len(values)] for key, values in choices.items()}
        answers = {key: value for key, value in answers.items() if value != _default(key)}
        if remote == "s3" and i % 2:
            answers["s3_endpoint_url"] = "http://127.0.0.1:5000"
        bakes.append(pytest.param(answers, id="-".join(key if key.startswith("s3_") else str(value)
                                                       for key, value in answers.items()) or "defaults"))
    return bakes


def _default(key: str):
    value = DEFAULTS.get(key)
    return value[0] if isinstance(value, list) else value


OPTIONS = option_matrix()


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


def test_each_task_has_a_sample_small_real_and_tracked_by_dvc(tmp_path):
    import hashlib

    assert sorted(path.name for path in SAMPLES.iterdir()) == sorted(DEFAULTS["task"])
    for task in DEFAULTS["task"]:
        project = bake(tmp_path / task, task=task)
        params = yaml.safe_load((project / "params.yaml").read_text())
        for kind in ("raw", "current"):
            data = project / params["paths"][kind]
            pointer = yaml.safe_load(data.with_name(f"{data.name}.dvc").read_text())["outs"][0]
            assert pointer["md5"] == hashlib.md5(data.read_bytes()).hexdigest()
            assert pointer["size"] == data.stat().st_size < 1_000_000
            assert (data.parent / ".gitignore").read_text() == f"/{data.name}\n"
        text = (project / params["paths"]["raw"]).read_text()
        assert ",," in text or ",NA" in text, "the sample should have missing values"
        assert "License" in (project / "data/README.md").read_text()
        assert "## Try it on the sample" in (project / "README.md").read_text()


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
    ({"package": "pandera"}, "package='pandera': must not shadow a dependency (requirements.lock locks pandera)"),
    ({"package": "scikit_learn"}, "package='scikit_learn': must not shadow a dependency (requirements.lock locks scikit-learn)"),
    ({"mlflow_tracking_uri": "https://me:secret@mlflow.internal"}, "mlflow_tracking_uri='https://me:secret@mlflow.internal': must not hold a user name or password"),
    ({"dvc_remote": "s3", "s3_prefix": "team/../other"}, "s3_prefix='team/../other': must not have '.' or '..' as a part"),
]


@pytest.mark.parametrize(("answers", "message"), BAD_ANSWERS, ids=[m.split(":")[0] for _, m in BAD_ANSWERS])
def test_bad_answers_stop_with_one_clear_line_and_generate_nothing(tmp_path, answers, message):
    from conftest import bake_cli

    result = bake_cli(tmp_path, **answers)
    assert result.returncode != 0
    assert message in result.stderr + result.stdout
    assert list(tmp_path.iterdir()) == []


def test_hadolint_finds_nothing_in_the_dockerfile(tmp_path):
    project = bake(tmp_path)
    linted = subprocess.run([str(Path(sys.executable).parent / "hadolint"), "Dockerfile"], cwd=project,
                            capture_output=True, text=True)
    assert linted.returncode == 0 and not linted.stdout.strip(), linted.stdout + linted.stderr


def test_the_readme_documents_every_prompt_in_order():
    readme = (TEMPLATE / "README.md").read_text(encoding="utf-8")
    documented = re.findall(r"^\| `(\w+)` \|", readme, re.MULTILINE)
    assert documented == [key for key in DEFAULTS if not key.startswith("_")]


def test_the_template_docs_build_strictly(tmp_path):
    """The template's own site (mkdocs.yml, docs/): every page in the nav, no broken link or anchor, and
    its home page the README's overview, included."""
    built = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)],
                           cwd=TEMPLATE, capture_output=True, text=True)
    assert built.returncode == 0, built.stdout + built.stderr
    assert "answer the prompts" in (tmp_path / "index.html").read_text()
