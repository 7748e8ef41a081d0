"""The API's traffic becomes the next batch: the log since the last collect, labelled where feedback came
back, written in the incoming folder and made the current batch by a real `dvc add`."""

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import fsspec
import yaml

from {{ cookiecutter.package }}.commands.collect import main
from {{ cookiecutter.package }}.data.tables import read_table, write_table
from {{ cookiecutter.package }}.serving.request_log import PartWriter, read_parts


def logged(frame, request_id: str) -> list[dict]:
    """The log's rows for one request of `frame`'s rows, as the API writes them."""
    records = frame.drop(columns="label").to_dict(orient="records")
    return [{"request_id": request_id, "record": index, "time": datetime.now(UTC), "model_version": "md5:x",
             **record, "prediction": "big"} for index, record in enumerate(records)]


def write(folder: str, rows: list[dict]) -> None:
    writer = PartWriter(fsspec.filesystem("file"), str(Path(folder).resolve()), 1000, 3600, f"{folder}.spool", 1)
    writer.append(rows)
    writer.close()


def test_collect_turns_the_traffic_since_the_last_collect_into_the_current_batch(tmp_path, frame_params, frame,
                                                                                capsys):
    frame_params["paths"].update(current="data/current/batch.csv")
    frame_params["incoming"] = {"location": "incoming", "window": 2}
    Path("params.yaml").write_text(yaml.safe_dump(frame_params))
    subprocess.run(["git", "init", "--quiet"], check=True)
    subprocess.run([sys.executable, "-m", "dvc", "init", "--quiet"], check=True)
    write_table(frame.head(10), "data/current/batch.csv")
    main()
    assert "no traffic logged" in capsys.readouterr().out
    write("incoming/log", logged(frame.head(5), "c" * 32))
    main()  # traffic no label came back for yet
    assert read_table("data/current/batch.csv")["label"].isna().all()
    assert "5 answered records (0 labelled)" in capsys.readouterr().out
    write("incoming/log", logged(frame.head(30), "a" * 32))
    write("incoming/feedback", [{"request_id": "a" * 32, "record": 2, "time": datetime.now(UTC), "label": "small"},
                                {"request_id": "a" * 32, "record": 2, "time": datetime.now(UTC), "label": "big"},
                                {"request_id": "a" * 32, "record": 30, "time": datetime.now(UTC), "label": "big"},
                                {"request_id": "e" * 32, "record": 0, "time": datetime.now(UTC), "label": "big"}])
    main()
    current = read_table("data/current/batch.csv")
    assert len(current) == 30 and list(current.columns) == list(frame.columns)
    assert current["size"].tolist() == frame["size"].head(30).tolist()
    assert current["label"].notna().sum() == 1 and current.loc[2, "label"] == "big"  # the last label sent
    assert Path("data/current/batch.csv.dvc").is_file()
    output = capsys.readouterr().out
    assert "30 answered records (1 labelled)" in output
    # Only labels for a logged answer's record join; the rest are counted, by why.
    assert "labels left out: 1 replaced by a later label for the same record, 2 for a record no logged answer holds" \
        in output
    write("incoming/log", logged(frame.tail(25), "b" * 32))
    main()  # only what came since
    assert read_table("data/current/batch.csv")["size"].tolist() == frame["size"].tail(25).tolist()
    main()
    assert "no traffic logged" in capsys.readouterr().out.splitlines()[-1]


def test_a_part_whose_rows_all_missed_a_number_keeps_the_column_numeric(tmp_path):
    fs = fsspec.filesystem("file")
    writer = PartWriter(fs, str(tmp_path), rows=1000, seconds=3600, spool=tmp_path / "spool", fsync_seconds=1)
    writer.append([{"horsepower": 71.0}, {"horsepower": 80.0}])
    writer.flush()
    writer.append([{"horsepower": None}])  # a part of its own, as the log's timer can write one
    writer.close()
    rows, _ = read_parts(fs, str(tmp_path))
    assert rows["horsepower"].dtype == "float64" and rows["horsepower"].isna().sum() == 1
