"""The pandas engine's limit: a stage reads its data whole, so data larger than one process may hold is
refused before it is read, with the setting that runs it on a cluster instead."""

from pathlib import Path

from ..config import Compute, size_bytes
from ..data.tables import data_files, read_table
from ..errors import UserError


def in_memory_bytes(path: str | Path) -> int:
    """About what the data at `path` takes as a data frame: Parquet's uncompressed size, a CSV's size."""
    import pyarrow.parquet as pq

    total = 0
    for file in data_files(path):
        if file.suffix.lower() == ".parquet":
            metadata = pq.ParquetFile(file).metadata
            total += sum(metadata.row_group(i).total_byte_size for i in range(metadata.num_row_groups))
        else:
            total += file.stat().st_size
    return total


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
