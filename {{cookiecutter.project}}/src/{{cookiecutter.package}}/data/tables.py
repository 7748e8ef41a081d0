"""Data files: reading them (one clear error for every way a file can be unreadable), writing them,
and their fingerprint as DVC records it."""

import hashlib
from pathlib import Path

import pandas as pd

from ..errors import UserError


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV or Parquet file by its extension."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: file not found")
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            frame = pd.read_parquet(path)
        elif suffix == ".csv":
            frame = pd.read_csv(path, encoding="utf-8")
        else:
            raise UserError(f"{path}: expected a .csv or .parquet file, found a '{suffix}' file")
    except UserError:
        raise
    except pd.errors.EmptyDataError:
        raise UserError(f"{path}: the file is empty") from None
    except UnicodeDecodeError as error:
        raise UserError(f"{path}: expected UTF-8 text, found byte {error.object[error.start]:#04x} "
                        f"at position {error.start}") from None
    except pd.errors.ParserError as error:
        raise UserError(f"{path}: malformed CSV: {' '.join(str(error).split())}") from None
    except (OSError, ValueError) as error:  # pyarrow raises these for files that are not Parquet
        raise UserError(f"{path}: unreadable {suffix[1:]} file: {' '.join(str(error).split())}") from None
    if frame.empty:
        raise UserError(f"{path}: expected data rows, found {'only a header' if len(frame.columns) else 'none'}")
    return frame


def write_table(frame: pd.DataFrame, path: str | Path) -> None:
    """Write a data frame as Parquet or CSV (by extension), creating the folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path, index=False)


def file_md5(path: str | Path) -> str:
    """The same MD5 that DVC records for a file in dvc.lock."""
    digest = hashlib.md5()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
