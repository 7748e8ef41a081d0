"""The remote check before a push or pull, and CI's check that it can reach the data. Against a real S3
server, and under a real Actions runner, they run in the template's tests."""

import subprocess

import pytest

from {{ cookiecutter.package }}.errors import UserError
from {{ cookiecutter.package }}.commands import ci_data
from {{ cookiecutter.package }}.commands.remote_check import main


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A folder with a .dvc/config of two remotes, the default one local; no AWS credentials anywhere."""
    (tmp_path / ".dvc").mkdir()
    (tmp_path / ".dvc/config").write_text(
        "[core]\n    remote = storage\n"
        "['remote \"storage\"']\n    url = ../store\n"
        "['remote \"cloud\"']\n    url = s3://team-bucket/project\n    region = eu-west-1\n")
    monkeypatch.chdir(tmp_path)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no instance role to ask for either
    return tmp_path


def test_a_local_remote_needs_no_check(project):
    main([])


def test_an_unknown_remote_names_the_remotes_there_are(project):
    with pytest.raises(UserError, match="expected a remote named nowhere, found storage, cloud"):
        main(["nowhere"])


def test_an_s3_remote_without_credentials_says_where_to_put_them(project):
    with pytest.raises(UserError, match=r"remote 'cloud' \(s3://team-bucket/project\): no AWS credentials found; "
                                        "set AWS_ACCESS_KEY_ID"):
        main(["cloud"])


@pytest.fixture
def github(project, monkeypatch):
    """The files a GitHub Actions step writes its outputs and its job summary to."""
    files = {name: project / name.lower() for name in ("GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY")}
    for name, path in files.items():
        monkeypatch.setenv(name, str(path))
        path.write_text("")
    return files


def test_ci_skips_with_a_notice_when_the_remote_is_a_folder_it_does_not_have(project, github):
    ci_data.main(["ready"])
    assert github["GITHUB_OUTPUT"].read_text() == "ready=false\n"
    summary = github["GITHUB_STEP_SUMMARY"].read_text()
    assert summary.startswith("### Skipped: the data contract") and "a folder on the machine" in summary
    assert "make remote-s3" in summary


def test_ci_goes_on_when_the_remote_folder_is_there(project, github):
    (project / "store").mkdir()
    ci_data.main(["ready"])
    assert github["GITHUB_OUTPUT"].read_text() == "ready=true\n" and github["GITHUB_STEP_SUMMARY"].read_text() == ""


def test_ci_skips_an_s3_remote_without_secrets_and_fails_on_one_it_cannot_use(project, github, monkeypatch):
    (project / ".dvc/config").write_text("[core]\n    remote = cloud\n['remote \"cloud\"']\n"
                                         "    url = s3://team-bucket/project\n    endpointurl = http://127.0.0.1:9\n")
    ci_data.main(["ready"])
    assert github["GITHUB_OUTPUT"].read_text() == "ready=false\n"
    assert "needs AWS credentials, and this run has none" in github["GITHUB_STEP_SUMMARY"].read_text()
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    with pytest.raises(UserError, match=r"^remote 'cloud' \(s3://team-bucket/project\): "):
        ci_data.main(["ready"])  # nothing listens on port 9: set up, yet unreachable, is a failure


def test_ci_names_the_data_files_the_remote_did_not_have(project):
    subprocess.run(["git", "init", "--quiet"], cwd=project, check=True)  # DVC reads a project inside git
    (project / "data/raw").mkdir(parents=True)
    (project / "data/raw/table.csv.dvc").write_text("outs:\n- md5: 0123456789abcdef0123456789abcdef\n  path: table.csv\n")
    with pytest.raises(UserError, match=r"^data/raw/table.csv: not in the DVC remote 'storage' \(\S*/store\); "
                                        "push it from a machine that has it"):
        ci_data.main(["pulled"])
    (project / "data/raw/table.csv").write_text("a\n1\n")
    ci_data.main(["pulled"])
