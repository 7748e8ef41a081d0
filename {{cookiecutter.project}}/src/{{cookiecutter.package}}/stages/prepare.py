"""prepare: clean the raw data and split it into train and test sets (Parquet); the labelled rows that
arrived since (paths.labelled) join the train set, never the test set, so a retrained model and the
champion are compared on the same rows."""

from pathlib import Path

import pandas as pd
from sklearn.model_selection import train_test_split

from ..compute.memory import read_whole
from ..config import Params, load_params
from ..data.tables import read_table, write_table
from ..errors import ConfigError, UserError, run


def clean(frame: pd.DataFrame, target: str, drop_columns: list[str],
          drop_duplicates: bool = False) -> tuple[pd.DataFrame, dict[str, int]]:
    """Trim column names, drop the listed columns and the rows without a target (and, when asked, rows
    that repeat an earlier raw row whole); return the frame and how many rows went, by reason.

    Duplicates are judged on whole raw rows, before any column is dropped: two records that differ only
    in an identifier are two records.
    """
    frame = frame.rename(columns=lambda name: str(name).strip())
    if target not in frame.columns:
        raise ConfigError("target", "a column of the raw data",
                          found_text=f"{target!r} (columns: {', '.join(frame.columns)})")
    missing = [column for column in drop_columns if column not in frame.columns]
    if missing:
        raise ConfigError("prepare.drop_columns", "columns of the raw data", found_text=", ".join(map(repr, missing)))
    removed = {}
    if drop_duplicates:
        repeated = frame.duplicated()
        removed["repeating an earlier row whole (prepare.drop_duplicates)"] = int(repeated.sum())
        frame = frame[~repeated]
    unlabelled = frame[target].isna()
    removed[f"without a {target}"] = int(unlabelled.sum())
    frame = frame[~unlabelled].drop(columns=drop_columns)
    return frame.reset_index(drop=True), {reason: count for reason, count in removed.items() if count}


def split(frame: pd.DataFrame, target: str, task: str, test_size: float, seed: int):
    """Split into (train, test); classification keeps the class shares equal in both."""
    stratify = frame[target] if task == "classification" else None
    if stratify is not None and stratify.nunique() < 2:
        raise UserError(f"column '{target}': expected at least 2 classes to learn from, found only "
                        f"{stratify.iloc[0]!r}")
    if stratify is not None and stratify.value_counts().min() < 2:
        rare = stratify.value_counts().idxmin()
        raise UserError(f"column '{target}': expected at least 2 rows of every class to stratify, "
                        f"found 1 row of {rare!r}")
    try:
        return train_test_split(frame, test_size=test_size, random_state=seed, stratify=stratify)
    except ValueError as error:
        raise ConfigError("prepare.test_size", f"a share that leaves rows on both sides ({error})", test_size) from None


def labelled_rows(folder: str, columns: pd.Index, target: str, drop_columns: list[str]) -> pd.DataFrame:
    """The labelled rows in `folder`'s data files, cleaned as the raw data is, with exactly its columns."""
    frames = []
    for path in sorted(Path(folder).glob("*")):
        if path.suffix.lower() not in (".csv", ".parquet"):
            continue  # the folder's README, DVC's pointers
        frame = read_table(path)
        # Served traffic comes without them: the API sets drop_columns aside (serving/app.py).
        frame, _ = clean(frame, target, [column for column in drop_columns if column in frame.columns])
        if set(frame.columns) != set(columns):
            missing, extra = sorted(set(columns) - set(frame.columns)), sorted(set(frame.columns) - set(columns))
            raise UserError(f"{path}: expected the raw data's columns, found {len(missing)} missing "
                            f"({', '.join(missing) or 'none'}) and {len(extra)} more ({', '.join(extra) or 'none'})")
        frames.append(frame[list(columns)])
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)


def prepare_on_dask(params: Params) -> None:
    """The same stage partition by partition on a Dask cluster (compute/prepare.py)."""
    from ..compute.cluster import dask_client, read_parts
    from ..compute.prepare import prepare_parts

    settings = params.prepare
    raw = read_parts(params.paths.raw)
    # On the data's schema alone: a missing target or column stops here, before any work.
    columns = clean(raw._meta, params.target, settings.drop_columns)[0].columns
    arrived = labelled_rows(params.paths.labelled, columns, params.target, settings.drop_columns)
    with dask_client(params.compute):
        rows = prepare_parts(params, raw, clean, arrived)
    kept = rows["train"] + rows["test"] - len(arrived)
    print(f"prepare: read {rows['raw']} rows from {params.paths.raw} on Dask, kept {kept}; wrote {rows['train']} "
          f"train rows ({len(arrived)} of them labelled rows from {params.paths.labelled}) to {params.paths.train} "
          f"and {rows['test']} test rows to {params.paths.test}, as Parquet parts")


def main() -> None:
    params = load_params()
    if params.compute.engine == "dask":
        return prepare_on_dask(params)
    raw = read_whole(params.paths.raw, params.compute)
    cleaned, removed = clean(raw, params.target, params.prepare.drop_columns, params.prepare.drop_duplicates)
    train, test = split(cleaned, params.target, params.task, params.prepare.test_size, params.seed)
    arrived = labelled_rows(params.paths.labelled, cleaned.columns, params.target, params.prepare.drop_columns)
    if len(arrived):
        train = pd.concat([train, arrived], ignore_index=True)
    write_table(train, params.paths.train)
    write_table(test, params.paths.test)
    dropped = "; ".join(f"{count} {reason}" for reason, count in removed.items())
    arrived_note = f" ({len(arrived)} of them labelled rows from {params.paths.labelled})" if len(arrived) else ""
    print(f"prepare: read {len(raw)} rows from {params.paths.raw}, kept {len(cleaned)}"
          f"{f' (removed {dropped})' if dropped else ''}; wrote {len(train)} train rows{arrived_note} to "
          f"{params.paths.train} and {len(test)} test rows to {params.paths.test}")


if __name__ == "__main__":
    run(main)
