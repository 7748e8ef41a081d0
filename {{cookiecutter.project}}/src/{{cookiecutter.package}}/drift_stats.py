"""The statistics drift-check computes per feature, each a small function checked against scipy or by hand.

Shares are compared over bins: quantile bins of the reference for numbers (ties merge bins rather
than leave empty ones), the reference's categories plus one bucket for unseen ones for categories.
"""

import numpy as np
import pandas as pd
from scipy import stats
from scipy.spatial.distance import jensenshannon

# Added to every bin's share so an empty bin gives a large but finite PSI term, not infinity.
EPSILON = 1e-4


def psi(reference_share: np.ndarray, current_share: np.ndarray) -> float:
    """Population stability index: sum((current - reference) * ln(current / reference)) over bins."""
    ref = np.asarray(reference_share, dtype=float) + EPSILON
    cur = np.asarray(current_share, dtype=float) + EPSILON
    return float(np.sum((cur - ref) * np.log(cur / ref)))


def js_distance(reference_share: np.ndarray, current_share: np.ndarray) -> float:
    """Jensen-Shannon distance (base 2, so between 0 and 1) between two share vectors."""
    return float(jensenshannon(reference_share, current_share, base=2))


def quantile_edges(reference: np.ndarray, bins: int) -> np.ndarray:
    """Inner edges of `bins` quantile bins of the reference; repeated values merge bins.

    A constant reference gets edges around its one value, so values below, at and above it differ.
    """
    if reference.min() == reference.max():
        return np.array([reference[0], np.nextafter(reference[0], np.inf)])
    return np.unique(np.quantile(reference, np.linspace(0, 1, bins + 1))[1:-1])


def numeric_counts(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    return np.bincount(np.searchsorted(edges, values, side="right"), minlength=len(edges) + 1)


def categorical_counts(reference: pd.Series, current: pd.Series) -> tuple[pd.Index, np.ndarray, np.ndarray]:
    """Counts per reference category, plus a last bucket for categories the reference never had."""
    ref = reference.astype(str).value_counts()
    cur = current.astype(str).value_counts()
    categories = ref.index.sort_values()
    unseen = int(cur.drop(categories, errors="ignore").sum())
    return (categories, np.append(ref.reindex(categories).to_numpy(), 0),
            np.append(cur.reindex(categories, fill_value=0).to_numpy(), unseen))


def chi_square_pvalue(reference_counts: np.ndarray, current_counts: np.ndarray) -> float:
    """Chi-square test of homogeneity of two count vectors (buckets empty in both are left out)."""
    table = np.vstack([reference_counts, current_counts])
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2:
        return 1.0  # one category in both batches: nothing can differ
    return float(stats.chi2_contingency(table, correction=False).pvalue)


def ks_pvalue(reference: np.ndarray, current: np.ndarray) -> tuple[float, float]:
    """Two-sample Kolmogorov-Smirnov statistic and p-value."""
    result = stats.ks_2samp(reference, current)
    return float(result.statistic), float(result.pvalue)


def wasserstein_normed(reference: np.ndarray, current: np.ndarray) -> float:
    """Wasserstein distance in units of the reference's standard deviation (0 when that is 0)."""
    spread = float(np.std(reference))
    return float(stats.wasserstein_distance(reference, current) / spread) if spread > 0 else 0.0
