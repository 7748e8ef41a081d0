"""Drift per feature: has a column of the current batch moved away from the training data (the reference)?

Each feature gets every statistic of the table (statistics.py) and a verdict from the one that
`drift.statistic` names: PSI against its warn and drift bands, or the test's p-value, Bonferroni-
corrected for the number of features tested at once. verdict.py turns the table into the batch's verdict.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..config import DRIFT_OVERRIDES, Drift
from ..data.features import is_numeric
from ..errors import ConfigError, UserError
from .statistics import STATISTICS, Binned, bin_categories, bin_numbers

# The verdicts, most urgent first: the table is sorted this way.
VERDICTS = ("drift", "warn", "stable", "insufficient_data")


def thresholds(policy: Drift, name: str) -> dict:
    """The policy for one feature: the defaults, with its `drift.overrides` entry on top."""
    limits = {key: getattr(policy, key) for key in DRIFT_OVERRIDES} | policy.overrides.get(name, {})
    return limits | {"min_samples": int(limits["min_samples"])}


def compare_feature(name: str, reference: pd.Series, current: pd.Series, policy: Drift, tests: int = 1) -> dict:
    """One row of the drift table. `tests` is how many features are tested at once (for the correction)."""
    ref, cur = reference.dropna(), current.dropna()
    numeric = is_numeric(reference)
    require_same_kind(name, numeric, current)
    sizes = Sizes(len(ref), len(cur), reference.isna().mean(), current.isna().mean() if len(current) else None)
    def binned(bins: int) -> Binned:
        return bin_numbers(ref.to_numpy(float), cur.to_numpy(float), bins) if numeric else bin_categories(ref, cur)
    return judge_feature(name, numeric, sizes, binned, policy, tests)


@dataclass(frozen=True)
class Sizes:
    """One feature's non-missing values on each side, and the share missing."""
    reference: int
    current: int
    missing_reference: float
    missing_current: float | None  # None: an empty batch


def require_same_kind(name: str, numeric: bool, current: pd.Series) -> None:
    """A feature that was numeric in training must be numeric now (its dtype tells, or a value)."""
    if numeric and not is_numeric(current) and current.notna().any():
        found = current.dropna().iloc[0] if len(current) else None
        raise UserError(f"current batch: column '{name}': expected numbers as in the training data, "
                        f"found {current.dtype} values{f' such as {found!r}' if found is not None else ''}")


def numeric_bins(sizes: Sizes, policy: Drift) -> int:
    """Fewer bins for small batches: PSI's noise grows with the number of bins per row."""
    return int(np.clip(min(sizes.reference, sizes.current) // policy.min_rows_per_bin, 2, policy.bins))


def judge_feature(name: str, numeric: bool, sizes: Sizes, binned, policy: Drift, tests: int = 1) -> dict:
    """One row of the drift table from the feature's sizes and `binned(bins)`, its values over `bins` bins
    (numeric_bins; categories ignore it): the pandas engine bins the values, the dask engine counts them."""
    limits = thresholds(policy, name)
    row = {"feature": name, "kind": "numeric" if numeric else "categorical", "n_reference": sizes.reference,
           "n_current": sizes.current, "missing_reference": _share(sizes.missing_reference),
           "missing_current": None if sizes.missing_current is None else _share(sizes.missing_current)}
    row |= dict.fromkeys(STATISTICS) | {"psi_warn": limits["psi_warn"], "psi_drift": limits["psi_drift"]}
    if min(sizes.reference, sizes.current) < limits["min_samples"]:
        return row | {"verdict": "insufficient_data",
                      "moved": f"{min(sizes.reference, sizes.current)} values, fewer than {limits['min_samples']} "
                               "to judge"}
    binned = binned(numeric_bins(sizes, policy))
    row |= {name: statistic.of(binned) for name, statistic in STATISTICS.items()}
    if policy.statistic == "psi":
        verdict = ("drift" if row["psi"] >= limits["psi_drift"] else "warn" if row["psi"] >= limits["psi_warn"]
                   else "stable")
    else:  # Bonferroni: each of `tests` features is tested at pvalue / tests. No warn band: a test says yes or no.
        verdict = "drift" if row["pvalue"] < limits["pvalue"] / tests else "stable"
    moved = _numeric_move(binned) if numeric else _category_move(binned)
    change = (row["missing_current"] or 0) - row["missing_reference"]
    if abs(change) >= 0.01:
        moved += f"; missing {row['missing_reference']:.0%} -> {row['missing_current']:.0%}"
    return row | {"verdict": verdict, "moved": moved}


def _share(value: float) -> float:
    return round(float(value), 6)


def _numeric_move(binned: Binned) -> str:
    reference, current = binned.reference, binned.current
    spread = reference.std()
    shift = current.mean() - reference.mean()
    if spread == 0:
        return f"mean {reference.mean():.4g} -> {current.mean():.4g}"
    ratio = current.std() / spread
    return f"mean {shift / spread:+.1f} sd" + (f", spread x{ratio:.1f}" if abs(ratio - 1) >= 0.25 else "")


def _category_move(binned: Binned) -> str:
    reference, current = binned.reference_share, binned.current_share
    changes = np.abs(current - reference)
    if changes[-1] > 0:  # the unseen bucket
        return f"categories unseen in training {current[-1]:.0%} of rows"
    biggest = int(np.argmax(changes[:-1]))
    return f"share of {binned.categories[biggest]} {reference[biggest]:.0%} -> {current[biggest]:.0%}"


def check_overrides(policy: Drift, features: list[str]) -> None:
    """`drift.overrides` may name a feature of the training data, or the predictions."""
    unknown = sorted(set(policy.overrides) - set(features) - {"prediction"})
    if unknown:
        raise ConfigError(f"drift.overrides.{unknown[0]}", f"a feature of the training data ({', '.join(features)}) "
                          "or prediction", unknown[0])


def require_features(current: pd.DataFrame, features: list[str]) -> None:
    absent = [name for name in features if name not in current.columns]
    if absent:
        raise UserError(f"current batch: expected the training features, found no column {', '.join(absent)}")


def compare(reference: pd.DataFrame, current: pd.DataFrame, features: list[str], policy: Drift) -> pd.DataFrame:
    """The drift table, drifted features first, then by PSI."""
    require_features(current, features)
    return drift_table([compare_feature(name, reference[name], current[name], policy, len(features))
                        for name in features])


def drift_table(rows: list[dict]) -> pd.DataFrame:
    """The features' rows as the drift table, drifted features first, then by PSI."""
    table = pd.DataFrame(rows)
    table["rank"] = table["verdict"].map(VERDICTS.index)
    return table.sort_values(["rank", "psi"], ascending=[True, False]).drop(columns="rank").reset_index(drop=True)


def prediction_drift(model, reference: pd.DataFrame, current: pd.DataFrame, policy: Drift) -> dict:
    """The model's predictions on the current batch against those on the training data."""
    predicted = pd.Series(model.predict(current)) if len(current) else pd.Series(dtype=float)
    return compare_feature("prediction", pd.Series(model.predict(reference)), predicted, policy)
