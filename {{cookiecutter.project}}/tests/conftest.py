"""Tiny in-memory data shared by the unit tests."""

import numpy as np
import pandas as pd
import pytest


@pytest.fixture
def frame() -> pd.DataFrame:
    """60 rows: two numeric features, one categorical, a binary label they predict, a few gaps."""
    rng = np.random.default_rng(0)
    size = rng.normal(10, 2, 60)
    color = rng.choice(["red", "blue"], 60)
    label = np.where(size + (color == "red") * 2 > 11, "big", "small")
    weight = size * 3 + rng.normal(0, 1, 60)
    weight[[3, 17]] = np.nan
    return pd.DataFrame({"size": size, "weight": weight, "color": color, "label": label})
