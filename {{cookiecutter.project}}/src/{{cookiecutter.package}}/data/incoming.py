"""New data as it arrives: batches in the incoming location, a folder or an S3 prefix.

A batch is one CSV or Parquet file of rows with the training data's columns, the target filled where
the label is known; batches sort by file name, so name them by time (`2026-11-30T0600.csv`). Anything
that produces data drops files there: a team's export job, or later the serving log's collector.

The location is read with fsspec (s3fs for S3), the libraries DVC itself reads S3 with, using the DVC
remote's endpoint, region and credentials: one set of S3 settings for the project. Where there is no DVC
remote (the API's container image has no .dvc folder), botocore's own settings apply: AWS_ENDPOINT_URL,
AWS_ACCESS_KEY_ID and the rest, from the environment.
"""

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

import pandas as pd

from ..config import Params
from ..errors import UserError
from ..outputs import dvc
from .tables import file_md5, read_table, write_table

SUFFIXES = (".csv", ".parquet")


def s3_options() -> dict:
    """fsspec's options for S3 from the DVC remote's settings (endpoint, region, profile, keys), if any."""
    from ..remote import remote_config

    try:
        _, settings = remote_config(None)
    except UserError:  # no DVC remote here: botocore's own settings
        return {}
    options = {"endpoint_url": settings.get("endpointurl"), "profile": settings.get("profile"),
               "key": settings.get("access_key_id"), "secret": settings.get("secret_access_key")}
    if settings.get("region"):
        options["client_kwargs"] = {"region_name": settings["region"]}
    return {key: value for key, value in options.items() if value}


def location_fs(location: str):
    """The file system of a folder or an S3 prefix, and the path within it."""
    import fsspec

    return fsspec.core.url_to_fs(location, **(s3_options() if location.startswith("s3://") else {}))


class Incoming:
    """The batches at one location, oldest first."""

    def __init__(self, location: str):
        self.location = location.rstrip("/")
        self.fs, self.root = location_fs(self.location)
        try:
            found = self.fs.ls(self.root, detail=False) if self.fs.isdir(self.root) else []
        except (OSError, ValueError) as error:  # botocore's errors reach here as OSError (s3fs maps them)
            raise UserError(f"incoming location {self.location}: cannot be listed ({error})") from None
        self.names = sorted(PurePosixPath(path).name for path in found if path.lower().endswith(SUFFIXES))

    @contextmanager
    def fetched(self, name: str) -> Iterator[tuple[Path, pd.DataFrame]]:
        """The batch `name` as a local file (an S3 object is downloaded into a temporary folder, once) and
        as read like the training data; an unreadable one is named by its place here."""
        with tempfile.TemporaryDirectory() as folder:
            local = Path(folder) / name
            self.fs.get(f"{self.root}/{name}", str(local))
            try:
                frame = read_table(local)
            except UserError as error:
                raise UserError(str(error).replace(str(local), f"{self.location}/{name}")) from None
            yield local, frame

    def read(self, name: str) -> pd.DataFrame:
        with self.fetched(name) as (_, frame):
            return frame


def track(path: Path) -> None:
    """Record the file with DVC (its .dvc pointer goes in git, the file in the DVC cache and remote)."""
    added = dvc("add", "--quiet", str(path))
    if added.returncode != 0:
        raise UserError(f"{path}: `dvc add` failed: {' '.join(added.stderr.split())[:300]}")


def take_newest(params: Params) -> str | None:
    """Make the newest batch the current one; when there is none or it is current already, say why not."""
    incoming, current = Incoming(params.incoming.location), Path(params.paths.current)
    if not incoming.names:
        return f"no batch in {incoming.location}; the current batch stays {current}"
    newest = incoming.names[-1]
    staged = current.with_name(f".intake-{current.name}")  # its suffix says the format to write
    with incoming.fetched(newest) as (local, frame):  # read first: an unreadable batch never replaces a good one
        if Path(newest).suffix.lower() == current.suffix.lower():
            shutil.copyfile(local, staged)  # the bytes as they arrived
        else:
            write_table(frame, staged)
    if current.is_file() and file_md5(staged) == file_md5(current):
        staged.unlink()
        return f"{incoming.location}/{newest}, the newest batch, is the current batch already ({current})"
    staged.replace(current)
    track(current)
    print(f"intake: {incoming.location}/{newest} ({len(frame)} rows) is now the current batch {current}; "
          "`dvc repro drift-check` checks it")
    return None
