import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.package }}.drift_check import EPSILON, compare, psi, summarize
from {{ cookiecutter.package }}.errors import UserError
from {{ cookiecutter.package }}.params import Drift

POLICY = Drift(bins=10, psi_warn=0.1, psi_drift=0.2, ks_pvalue=0.05, min_samples=30, dataset_drift_share=0.5)


def test_psi_matches_the_formula_worked_by_hand():
    ref, cur = np.array([0.5, 0.5]), np.array([0.25, 0.75])
    by_hand = sum((c + EPSILON - r - EPSILON) * np.log((c + EPSILON) / (r + EPSILON)) for r, c in zip(ref, cur))
    assert psi(ref, cur) == pytest.approx(by_hand)
    assert psi(ref, cur) == pytest.approx(0.25 * np.log(0.5) * -1 + 0.25 * np.log(1.5), abs=1e-3)
    assert psi(ref, ref) == 0


def batches(shift: float, n: int = 2000, seed: int = 1):
    rng = np.random.default_rng(seed)
    reference = pd.DataFrame({"x": rng.normal(0, 1, n), "kind": rng.choice(["a", "b"], n, p=[0.5, 0.5])})
    current = pd.DataFrame({"x": rng.normal(shift, 1, n), "kind": rng.choice(["a", "b", "c"], n, p=[0.5, 0.5, 0.0])})
    return reference, current


def test_unchanged_data_is_stable_and_a_shift_is_drift():
    table = compare(*batches(shift=0.0), ["x", "kind"], POLICY)
    assert set(table["verdict"]) == {"stable"}
    table = compare(*batches(shift=1.0), ["x", "kind"], POLICY)
    assert table.set_index("feature").loc["x", "verdict"] == "drift"
    assert table.set_index("feature").loc["x", "ks_pvalue"] < 0.001
    assert summarize(table, POLICY)["max_psi_feature"] == "x"


def test_new_categories_count_as_drift():
    reference, current = batches(shift=0.0)
    current["kind"] = "c"
    table = compare(reference, current, ["kind"], POLICY)
    assert table.loc[0, "verdict"] == "drift"


def test_small_batches_are_insufficient_data_never_drift():
    reference, current = batches(shift=3.0)
    table = compare(reference, current.head(10), ["x", "kind"], POLICY)
    assert set(table["verdict"]) == {"insufficient_data"}
    assert summarize(table, POLICY)["verdict"] == "stable"


def test_a_missing_feature_is_named():
    reference, current = batches(shift=0.0)
    with pytest.raises(UserError, match="found no column kind"):
        compare(reference, current.drop(columns="kind"), ["x", "kind"], POLICY)
