"""The remote check before a push or pull. Against a real S3 server it runs in the template's tests."""

import pytest

from {{ cookiecutter.package }}.errors import UserError
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
