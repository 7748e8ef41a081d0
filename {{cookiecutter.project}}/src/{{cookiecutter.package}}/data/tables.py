"""Data files: reading them (one clear error for every way a file can be unreadable), writing them,
and their fingerprint as DVC records it."""

import csv
import hashlib
import io
import re
from pathlib import Path

import pandas as pd

from ..errors import UserError


def data_files(path: str | Path) -> list[Path]:
    """The file at `path`, or the CSV and Parquet files in the folder at `path` in their parts' order
    (part.2 before part.10): one dataset either way."""
    path = Path(path)
    if not path.exists():
        raise UserError(f"{path}: file not found")
    if not path.is_dir():
        return [path]
    files = sorted((file for file in path.iterdir() if file.suffix.lower() in (".csv", ".parquet")),
                   key=lambda file: [int(s) if s.isdigit() else s for s in re.split(r"(\d+)", file.name)])
    if not files:
        raise UserError(f"{path}: expected .csv or .parquet files in the folder, found none")
    return files


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV or Parquet file by its extension, or a folder of them as one table."""
    path = Path(path)
    files = data_files(path)
    if path.is_dir():
        return pd.concat([read_table(file) for file in files], ignore_index=True)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise UserError(f"{path}: expected a .csv or .parquet file, found a '{suffix}' file")
    if suffix == ".csv":
        check_csv_start(path)
    try:
        frame = pd.read_parquet(path) if suffix == ".parquet" else pd.read_csv(path, encoding="utf-8")
    except pd.errors.EmptyDataError:
        raise UserError(f"{path}: the file is empty") from None
    except UnicodeDecodeError:
        raise UserError(f"{path}: expected UTF-8 text, found {first_bad_byte(path)}; save it as UTF-8") from None
    except pd.errors.ParserError as error:
        raise UserError(f"{path}: malformed CSV: {' '.join(str(error).split())}") from None
    except (OSError, ValueError) as error:  # pyarrow raises these for files that are not Parquet
        raise UserError(f"{path}: unreadable {suffix[1:]} file: {' '.join(str(error).split())}") from None
    if frame.empty:
        raise UserError(f"{path}: expected data rows, found {'only a header' if len(frame.columns) else 'none'}")
    if len(frame.columns) == 1:
        for separator in (";", "\t", "|"):
            if separator in str(frame.columns[0]):
                raise UserError(f"{path}: expected comma-separated values, found one column named "
                                f"{frame.columns[0]!r}: the values are separated by {separator!r}; save it with commas")
    return frame


def check_csv_start(path: Path) -> None:
    """What the first bytes of a .csv file show at once: another format, binary data, a header naming a
    column twice (which pandas would silently rename `name.1`)."""
    with open(path, "rb") as stream:
        start = stream.read(1 << 16)
    if start.startswith(b"PAR1"):
        raise UserError(f"{path}: expected CSV text, found a Parquet file; name it .parquet")
    if b"\0" in start:
        raise UserError(f"{path}: expected CSV text, found NUL bytes (a binary file, or text saved as UTF-16?)")
    header = next(csv.reader(io.StringIO(start.decode("utf-8", errors="replace"))), [])
    names = [name.strip() for name in header]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        columns = ", ".join(f"'{name}' (columns {' and '.join(str(i + 1) for i, n in enumerate(names) if n == name)})"
                            for name in twice)
        raise UserError(f"{path}: expected each column named once in the header, found {columns}")


def first_bad_byte(path: Path) -> str:
    """Where a file stops being UTF-8: the byte, its line and column."""
    data = path.read_bytes()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        return f"byte {data[error.start]:#04x} at line {line}, column {column} (Latin-1 or Windows-1252 text?)"
    return "text that is not UTF-8"


def write_table(frame: pd.DataFrame, path: str | Path) -> None:
    """Write a data frame as Parquet or CSV (by extension), creating the folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path, index=False)


def dataset_md5(path: str | Path) -> tuple[str, dict[str, str]]:
    """The dataset's MD5 (a file's as DVC records it; for a folder of parts, the MD5 of its parts' names
    and MD5s), and each file's MD5 by name."""
    parts = {file.name: file_md5(file) for file in data_files(path)}
    if not Path(path).is_dir():
        return next(iter(parts.values())), parts
    return hashlib.md5("".join(f"{name} {md5}\n" for name, md5 in parts.items()).encode()).hexdigest(), parts


def file_md5(path: str | Path) -> str:
    """The same MD5 that DVC records for a file in dvc.lock."""
    digest = hashlib.md5()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
