"""prepare on the dask engine: the raw data cleaned partition by partition as the pandas engine cleans
it, and split by each row's hash with the seed, so a row's side depends on its values and the seed
alone, never on how the data is partitioned or on which worker reads it. Rows that repeat go to the
same side; classes keep their shares on average rather than exactly (the pandas engine stratifies)."""

import numpy as np
import pandas as pd

from ..config import Params
from ..errors import ConfigError
from .cluster import write_parts


def held_out(part: pd.DataFrame, seed: int, test_size: float) -> pd.Series:
    """Which rows of a partition go to the test split: those whose hash, as a share of 2**64, is below test_size."""
    # The row's hash and the seed hashed again together: another seed, another split of the same rows.
    hashes = pd.util.hash_array(pd.util.hash_pandas_object(part, index=False).to_numpy() ^ np.uint64(seed))
    return pd.Series((hashes >> np.uint64(11)) / 2.0**53 < test_size, index=part.index)


def prepare_parts(params: Params, raw, clean, arrived: pd.DataFrame) -> dict[str, int]:
    """Clean and split the dask frame `raw` into Parquet datasets at paths.train and paths.test; `clean`
    is the stage's own (the stage has run it on the data's schema: the columns are there). Returns the
    rows read and written."""
    import dask

    settings = params.prepare
    frame = raw.rename(columns=lambda name: str(name).strip())
    if settings.drop_duplicates:
        frame = frame.drop_duplicates()
    # Without drop_duplicates, per partition is exactly the pandas engine's cleaning.
    cleaned = frame.map_partitions(lambda part: clean(part, params.target, settings.drop_columns)[0])
    side = cleaned.map_partitions(held_out, params.seed, settings.test_size, meta=(None, bool))
    train, test = cleaned[~side], cleaned[side]
    if len(arrived):
        import dask.dataframe as dd

        train = dd.concat([train, dd.from_pandas(arrived.astype(cleaned.dtypes.to_dict()), npartitions=1)])
    # One pass over the raw data: the counts and both splits from the same partitions.
    *counts, _, _ = dask.compute(raw.map_partitions(len).sum(), train.map_partitions(len).sum(),
                                 test.map_partitions(len).sum(), write_parts(train, params.paths.train),
                                 write_parts(test, params.paths.test))
    rows = dict(zip(("raw", "train", "test"), map(int, counts)))
    if min(rows["train"], rows["test"]) == 0:
        raise ConfigError("prepare.test_size", "a share that leaves rows on both sides",
                          found_text=f"{settings.test_size} ({rows['train']} train and {rows['test']} test rows)")
    return rows
