"""New data in: the newest batch of the incoming folder becomes the current batch, and the labelled rows
of the newest batches join the training data, each through a real `dvc add` in a git and DVC repository.
(An S3 incoming prefix, on a real S3 server, is tested in the template's workflow tests.)"""

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from {{ cookiecutter.package }}.commands.intake import WINDOW_FILE, gather_labelled, main, take_newest
from {{ cookiecutter.package }}.config import load_params
from {{ cookiecutter.package }}.data.incoming import s3_options
from {{ cookiecutter.package }}.data.tables import read_table, write_table
from {{ cookiecutter.package }}.errors import UserError
from {{ cookiecutter.package }}.stages.prepare import labelled_rows


@pytest.fixture
def repo(tmp_path, frame_params, frame):
    """A git and DVC repository with the project's params set for `frame`, a current batch, and an empty
    incoming folder."""
    frame_params["paths"].update(current="data/current/batch.csv", labelled="data/labelled")
    frame_params["incoming"] = {"location": "incoming", "window": 2}
    Path("params.yaml").write_text(yaml.safe_dump(frame_params))
    subprocess.run(["git", "init", "--quiet"], check=True)
    subprocess.run([sys.executable, "-m", "dvc", "init", "--quiet"], check=True)
    write_table(frame.head(20), "data/current/batch.csv")
    Path("data/labelled").mkdir(parents=True)
    Path("incoming").mkdir()
    return tmp_path


def pointer_md5(path: str) -> str:
    return yaml.safe_load(Path(f"{path}.dvc").read_text())["outs"][0]["md5"]


def test_the_newest_batch_becomes_the_current_one_once(repo, frame, monkeypatch, capsys):
    params = load_params()
    assert take_newest(params) == "no batch in incoming; the current batch stays data/current/batch.csv"
    write_table(frame.head(30), "incoming/2026-11-01.csv")
    write_table(frame.tail(25), "incoming/2026-11-08.parquet")  # another format: written as the current one's
    outputs, summary = repo / "outputs", repo / "summary"
    monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    main(["batch"])
    current = read_table("data/current/batch.csv")
    assert current.equals(read_table("incoming/2026-11-08.parquet")) and len(current) == 25
    assert pointer_md5("data/current/batch.csv") == subprocess.run(
        ["md5sum", "data/current/batch.csv"], capture_output=True, text=True).stdout.split()[0]
    assert "2026-11-08.parquet (25 rows) is now the current batch" in capsys.readouterr().out
    main(["batch"])  # the same batch again: nothing to do, and the job is told so
    assert outputs.read_text() == "new=true\nnew=false\n"
    assert "is the current batch already" in summary.read_text() and not list(Path("data/current").glob(".intake-*"))


def test_an_unreadable_batch_is_named_and_leaves_the_current_one(repo):
    before = Path("data/current/batch.csv").read_bytes()
    Path("incoming/2026-11-09.csv").write_text("a;b;c\n1;2;3\n")
    with pytest.raises(UserError, match=r"^incoming/2026-11-09.csv: expected comma-separated values"):
        take_newest(load_params())
    assert Path("data/current/batch.csv").read_bytes() == before


def test_the_labelled_rows_of_the_newest_batches_are_gathered_for_train(repo, frame):
    unlabelled = frame.head(10).assign(label=None)
    for name, batch in [("2026-11-01.csv", frame.head(12)), ("2026-11-08.csv", frame.iloc[12:30]),
                        ("2026-11-15.csv", pd.concat([frame.iloc[30:40], unlabelled]))]:
        write_table(batch, f"incoming/{name}")
    params = load_params()
    assert gather_labelled(params) == 18 + 10  # the newest two batches (incoming.window), their labelled rows
    window = Path("data/labelled") / WINDOW_FILE
    assert pointer_md5(str(window)) and read_table(window)["label"].notna().all()
    train_columns = frame.drop(columns=["weight"]).columns
    arrived = labelled_rows("data/labelled", train_columns, "label", ["weight"])  # as prepare reads them
    assert len(arrived) == 28 and list(arrived.columns) == list(train_columns)
    Path("params.yaml").write_text(Path("params.yaml").read_text().replace("window: 2", "window: 0"))
    assert gather_labelled(load_params()) == 0 and not window.exists() and not Path(f"{window}.dvc").exists()


def test_prepare_names_a_labelled_file_whose_columns_are_not_the_raw_datas(repo, frame):
    write_table(frame.drop(columns=["color"]).assign(height=1.0), "data/labelled/extra.csv")
    with pytest.raises(UserError, match=r"data/labelled/extra.csv: expected the raw data's columns, found 1 missing "
                                        r"\(color\) and 1 more \(height\)"):
        labelled_rows("data/labelled", frame.columns, "label", [])


def test_s3_settings_are_the_dvc_remotes_or_else_botocores_own(tmp_path, monkeypatch):
    """The API's image has no .dvc folder: there botocore reads AWS_ENDPOINT_URL and the keys itself."""
    monkeypatch.chdir(tmp_path)
    assert s3_options() == {}
    (tmp_path / ".dvc").mkdir()
    (tmp_path / ".dvc/config").write_text("[core]\n    remote = cloud\n['remote \"cloud\"']\n"
                                          "    url = s3://bucket/project\n    endpointurl = http://127.0.0.1:9\n")
    assert s3_options() == {"endpoint_url": "http://127.0.0.1:9"}
