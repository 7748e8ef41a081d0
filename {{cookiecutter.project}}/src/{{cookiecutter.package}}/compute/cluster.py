"""The dask engine's cluster: the scheduler DASK_SCHEDULER_ADDRESS or compute.scheduler names (a user's
cluster on Kubernetes, YARN or a cloud service), else a LocalCluster of this machine's cores."""

import os
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from ..config import Compute
from ..data.tables import data_files
from ..errors import ConfigError, UserError


@contextmanager
def dask_client(compute: Compute):
    """A connected dask.distributed Client, closed (with its LocalCluster, if it made one) at the end."""
    from dask.distributed import Client, LocalCluster

    address = os.environ.get("DASK_SCHEDULER_ADDRESS") or compute.scheduler
    if address:
        try:
            client = Client(address, timeout="10s")
        except OSError as error:
            found = f"{address!r}, which does not answer ({' '.join(str(error).split())})"
            if os.environ.get("DASK_SCHEDULER_ADDRESS"):
                raise UserError(f"DASK_SCHEDULER_ADDRESS: expected the address of a running Dask scheduler, "
                                f"found {found}") from None
            raise ConfigError("compute.scheduler", "the address of a running Dask scheduler",
                              found_text=found) from None
        with client:
            yield client
        return
    # Loopback only, no dashboard: a stage's cluster lives as long as the stage.
    with LocalCluster(host="127.0.0.1", dashboard_address=None, memory_limit=compute.memory_limit or "auto",
                      processes=True) as cluster, Client(cluster) as client:
        yield client


def cluster_size(client) -> dict:
    """The workers a stage ran on, for the log and MLflow's lineage."""
    workers = client.scheduler_info(n_workers=-1)["workers"].values()
    return {"workers": len(workers), "threads": sum(w["nthreads"] for w in workers),
            "memory_bytes": sum(w["memory_limit"] or 0 for w in workers)}


def read_parts(path: str | Path):
    """A dask data frame of the Parquet parts (or the CSV or Parquet file) at `path`, one partition per part."""
    import dask.dataframe as dd

    files = data_files(path)
    try:
        if files[0].suffix.lower() == ".csv":
            frame = dd.read_csv([str(file) for file in files], blocksize="64MiB")
        else:
            frame = dd.read_parquet([str(file) for file in files])
    except (OSError, ValueError) as error:
        raise UserError(f"{path}: unreadable data: {' '.join(str(error).split())}") from None
    # Text as pandas reads it (missing values NaN, not pd.NA, which scikit-learn's imputers refuse).
    text = {column: "str" for column, dtype in frame.dtypes.items() if isinstance(dtype, pd.StringDtype)}
    return frame.astype(text) if text else frame


def sample_parts(path: str | Path, rows: int, seed: int):
    """About `rows` rows of the dataset at `path` (all of them when it has no more), drawn with `seed`,
    as a pandas data frame; and how many rows the dataset has."""
    frame = read_parts(path)
    total = int(frame.map_partitions(len).sum().compute())
    sample = frame if total <= rows else frame.sample(frac=rows / total, random_state=seed)
    return sample.compute().reset_index(drop=True), total


def write_parts(frame, path: str | Path):
    """A dask data frame as a folder of Parquet parts, replacing what was at `path`: a task to compute
    with others (so the data they share is read once)."""
    import shutil

    path = Path(path)
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()
    return frame.to_parquet(path, write_index=False, compute=False)
