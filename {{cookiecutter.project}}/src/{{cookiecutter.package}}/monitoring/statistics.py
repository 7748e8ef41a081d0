"""The drift statistics table: what drift-check computes per feature, each a small function checked
against scipy or by hand in the tests. To add one, add a row to STATISTICS (and its test): it becomes
a column of the drift table and of the report.

Shares are compared over bins: quantile bins of the reference for numbers (ties merge bins rather
than leave empty ones), the reference's categories plus one bucket for unseen ones for categories.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
from scipy import stats
from scipy.spatial.distance import jensenshannon

# Added to every bin's share so an empty bin gives a large but finite PSI term, not infinity.
EPSILON = 1e-4


@dataclass(frozen=True)
class Binned:
    """One feature's non-missing values in the reference and the current batch, counted over the same bins."""

    reference: np.ndarray
    current: np.ndarray
    reference_counts: np.ndarray
    current_counts: np.ndarray
    categories: pd.Index | None = None  # categorical: the reference's categories (the last bin holds unseen ones)

    @property
    def numeric(self) -> bool:
        return self.categories is None

    @property
    def reference_share(self) -> np.ndarray:
        return self.reference_counts / self.reference_counts.sum()

    @property
    def current_share(self) -> np.ndarray:
        return self.current_counts / self.current_counts.sum()

    @cached_property
    def ks(self) -> tuple[float, float]:
        return ks_test(self.reference, self.current)


@dataclass(frozen=True)
class Statistic:
    title: str  # its column's heading in the drift report
    numeric: Callable[[Binned], float] | None  # None: not defined for this kind of feature
    categorical: Callable[[Binned], float] | None
    digits: int | None = 6  # rounded to this many decimals in the table (None: as computed)

    def of(self, binned: Binned) -> float | None:
        compute = self.numeric if binned.numeric else self.categorical
        if compute is None:
            return None
        value = float(compute(binned))
        return value if self.digits is None else round(value, self.digits)


def _psi(b: Binned) -> float:
    return psi(b.reference_share, b.current_share)


def _js(b: Binned) -> float:
    return js_distance(b.reference_share, b.current_share)


STATISTICS: dict[str, Statistic] = {
    "psi": Statistic("PSI", _psi, _psi),
    "js_distance": Statistic("JS distance", _js, _js),
    # Two-sample KS for numbers, chi-square of homogeneity for categories.
    "pvalue": Statistic("p-value", lambda b: b.ks[1], lambda b: chi_square_pvalue(b.reference_counts, b.current_counts),
                        digits=None),
    "ks_statistic": Statistic("KS statistic", lambda b: b.ks[0], None),
    "wasserstein": Statistic("Wasserstein (sd)", lambda b: wasserstein_normed(b.reference, b.current), None),
}


def psi(reference_share: np.ndarray, current_share: np.ndarray) -> float:
    """Population stability index: sum((current - reference) * ln(current / reference)) over bins."""
    ref = np.asarray(reference_share, dtype=float) + EPSILON
    cur = np.asarray(current_share, dtype=float) + EPSILON
    return float(np.sum((cur - ref) * np.log(cur / ref)))


def js_distance(reference_share: np.ndarray, current_share: np.ndarray) -> float:
    """Jensen-Shannon distance (base 2, so between 0 and 1) between two share vectors."""
    return float(jensenshannon(reference_share, current_share, base=2))


def chi_square_pvalue(reference_counts: np.ndarray, current_counts: np.ndarray) -> float:
    """Chi-square test of homogeneity of two count vectors (buckets empty in both are left out)."""
    table = np.vstack([reference_counts, current_counts])
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2:
        return 1.0  # one category in both batches: nothing can differ
    return float(stats.chi2_contingency(table, correction=False).pvalue)


def ks_test(reference: np.ndarray, current: np.ndarray) -> tuple[float, float]:
    """Two-sample Kolmogorov-Smirnov statistic and p-value."""
    result = stats.ks_2samp(reference, current)
    return float(result.statistic), float(result.pvalue)


def wasserstein_normed(reference: np.ndarray, current: np.ndarray) -> float:
    """Wasserstein distance in units of the reference's standard deviation (0 when that is 0)."""
    spread = float(np.std(reference))
    return float(stats.wasserstein_distance(reference, current) / spread) if spread > 0 else 0.0


def numeric_edges(reference: np.ndarray, bins: int) -> np.ndarray:
    """The inner edges of `bins` quantile bins of the reference; repeated values merge bins."""
    return edges_between(reference.min(), reference.max(), lambda shares: np.quantile(reference, shares), bins)


def inner_quantiles(bins: int) -> np.ndarray:
    """The shares at the inner edges of `bins` quantile bins."""
    return np.linspace(0, 1, bins + 1)[1:-1]


def edges_between(low: float, high: float, quantiles, bins: int) -> np.ndarray:
    """The inner bin edges from `quantiles(shares)` of values from `low` to `high` (where they were found:
    numpy here, counts over partitions on the dask engine).

    A constant reference gets edges around its one value, so values below, at and above it differ.
    """
    if low == high:
        return np.array([low, np.nextafter(low, np.inf)])
    return np.unique(quantiles(inner_quantiles(bins)))


def bin_counts(edges: np.ndarray, values: np.ndarray) -> np.ndarray:
    """How many of `values` fall in each bin the edges make (one more bin than edges)."""
    return np.bincount(np.searchsorted(edges, values, side="right"), minlength=len(edges) + 1)


def bin_numbers(reference: np.ndarray, current: np.ndarray, bins: int) -> Binned:
    """Counts over `bins` quantile bins of the reference (numeric_edges)."""
    edges = numeric_edges(reference, bins)
    return Binned(reference, current, bin_counts(edges, reference), bin_counts(edges, current))


def bin_categories(reference: pd.Series, current: pd.Series) -> Binned:
    """Counts per reference category, plus a last bucket for categories the reference never had."""
    return category_bins(reference.astype(str).value_counts(), current.astype(str).value_counts(),
                         reference.to_numpy(), current.to_numpy())


def category_bins(reference_counts: pd.Series, current_counts: pd.Series, reference: np.ndarray,
                  current: np.ndarray) -> Binned:
    """The same from each side's counts per category (as text), wherever they were counted."""
    categories = reference_counts.index.sort_values()
    unseen = int(current_counts.drop(categories, errors="ignore").sum())
    return Binned(reference, current, np.append(reference_counts.reindex(categories).to_numpy(), 0),
                  np.append(current_counts.reindex(categories, fill_value=0).to_numpy(), unseen), categories)
