"""A simulated batch: rows resampled from the data, moved as declared, the same batch for the same seed."""

import numpy as np
import pandas as pd

from ..data.features import is_numeric
from ..errors import UserError


def simulate(reference: pd.DataFrame, rows: int, seed: int, target: str, shift: dict[str, float],
             mix: dict[str, tuple[str, float]], missing: dict[str, float], flip: float) -> pd.DataFrame:
    """`rows` rows resampled from `reference`, then shifted as declared; the same seed, the same batch.

    shift: numeric column -> mean shift in reference standard deviations; mix: column -> (category,
    share of rows set to it); missing: column -> share of rows blanked; flip: share of target labels
    changed to another label.
    """
    rng = np.random.default_rng(seed)
    batch = reference.sample(rows, replace=True, random_state=seed).reset_index(drop=True)
    for name in {*shift, *mix, *missing}:
        if name not in batch.columns:
            raise UserError(f"column '{name}': expected a column of the training data ({', '.join(batch.columns)})")
    for name, sds in shift.items():
        if not is_numeric(batch[name]):
            raise UserError(f"--shift {name}: expected a numeric column, found {batch[name].dtype} values")
        moved = batch[name] + sds * reference[name].std()
        # Whole numbers stay whole numbers (a count, a year): the contract says what type they are.
        integer = pd.api.types.is_integer_dtype(batch[name])
        batch[name] = moved.round().astype(batch[name].dtype) if integer else moved
    for name, (category, share) in mix.items():
        chosen = rng.random(rows) < share
        batch[name] = batch[name].astype(object).where(~chosen, category)
    for name, share in missing.items():
        batch[name] = batch[name].mask(rng.random(rows) < share)
    if flip:
        labels = reference[target].dropna().unique()
        flipped = rng.random(rows) < flip
        others = [rng.choice([label for label in labels if label != value]) if len(labels) > 1 else value
                  for value in batch.loc[flipped, target]]
        batch[target] = batch[target].astype(object)
        batch.loc[flipped, target] = others
    return batch
