"""The pandas engine's limit: a stage reads its data whole, so data larger than one process may hold is
refused before it is read, with the setting that runs it on a cluster instead."""

from pathlib import Path

from ..config import Compute, size_bytes
from ..data.tables import data_files, read_table
from ..errors import UserError


def in_memory_bytes(path: str | Path) -> int:
    """About what the data at `path` takes as a data frame: the first Parquet row group's size in pandas
    per row, times the rows every part holds (Parquet's own sizes are of encoded data, often far smaller);
    a CSV's size on disk."""
    import pyarrow.parquet as pq

    files, total = data_files(path), 0
    parquet = [file for file in files if file.suffix.lower() == ".parquet"]
    try:
        first = pq.ParquetFile(parquet[0]) if parquet else None
        if first is not None and first.metadata.num_row_groups:
            sample = first.read_row_group(0).to_pandas()
            per_row = sample.memory_usage(deep=True).sum() / max(len(sample), 1)
            total += int(per_row * sum(pq.ParquetFile(file).metadata.num_rows for file in parquet))
    except (OSError, ValueError):  # not Parquet after all: reading it says so, in one line
        return 0
    return total + sum(file.stat().st_size for file in files if file.suffix.lower() != ".parquet")


def memory_bytes(compute: Compute) -> int:
    """compute.memory_limit, or the memory this machine has free."""
    if compute.memory_limit is not None:
        return size_bytes(compute.memory_limit)
    import psutil

    return psutil.virtual_memory().available


def read_whole(path: str | Path, compute: Compute):
    """The data at `path` as one data frame, where it fits in compute.memory_limit."""
    needed, limit = in_memory_bytes(path), memory_bytes(compute)
    if needed > limit:
        raise UserError(f"{path}: about {needed / 2**20:,.0f} MiB in memory, more than the "
                        f"{limit / 2**20:,.0f} MiB one process may hold (compute.memory_limit); "
                        "set compute.engine: dask to run the stages partition by partition")
    return read_table(path)
