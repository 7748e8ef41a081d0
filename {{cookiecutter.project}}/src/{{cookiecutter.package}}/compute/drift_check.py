"""drift-check on the dask engine: the same table and verdict as the pandas engine, from counts.

Each statistic that compares shares of bins (PSI, JS distance, chi-square) needs only how many values
fall in each bin, so the workers count them per partition and the counts are added up: the reference's
exact quantiles first (exact_quantiles: a few counting passes), then the counts per bin on both sides.
PSI and chi-square are then the numbers the pandas engine gives on the same data. KS, Wasserstein and
the "moved" text need the values themselves and use a sample of compute.sample_rows rows per side (all of
them where there are no more), as do the labelled rows' metrics.
"""

import numpy as np
import pandas as pd

from ..config import Params
from ..data.features import add_derived_features, feature_columns, is_numeric
from ..monitoring.drift import (Sizes, check_overrides, drift_table, judge_feature, numeric_bins, require_features,
                                require_same_kind, thresholds)
from ..monitoring.judge import batch_verdict
from ..monitoring.statistics import Binned, bin_counts, category_bins, edges_between, inner_quantiles
from ..monitoring.verdict import DriftSummary
from .cluster import read_parts, sample_parts

HISTOGRAM_BINS = 1024  # each counting pass narrows a quantile's candidates about this many times ...
GATHER = 100_000  # ... until this few are left, which are sorted to pick it


def _histograms(part: pd.DataFrame, intervals: list[tuple[str, float, float, bool]]) -> list:
    """Per interval (column, lo, hi, gather) the values in [lo, hi]: all of them when `gather`, else their
    count, min and max in each of HISTOGRAM_BINS equal bins."""
    out = []
    for column, lo, hi, gather in intervals:
        values = part[column].to_numpy(float, na_value=np.nan)
        values = values[(values >= lo) & (values <= hi)]
        if gather:
            out.append(values)
            continue
        edges = np.linspace(lo, hi, HISTOGRAM_BINS + 1)
        bins = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, HISTOGRAM_BINS - 1)
        grouped = pd.Series(values).groupby(bins).agg(["size", "min", "max"]).reindex(range(HISTOGRAM_BINS))
        out.append(grouped.fillna({"size": 0, "min": np.inf, "max": -np.inf}).to_numpy())
    return out


def exact_quantiles(frame, ranks: dict[str, list[int]], bounds: dict[str, tuple[float, float, int]]) -> dict:
    """The values at the given ranks (0-based, among the sorted non-missing values) of numeric columns of
    the dask frame, exactly: each pass counts the candidates per bin, keeps the bin holding the rank (by
    its values' min and max), until one value or few enough to sort are left. `bounds`: each column's
    min, max and count of non-missing values."""
    import dask

    # A rank's state: the interval of values holding it, how many values lie below it, how many in it.
    states = {(column, rank): (*bounds[column][:2], 0, bounds[column][2]) for column in ranks for rank in ranks[column]}
    found = {}
    parts = frame.to_delayed()
    while states:
        intervals = sorted({(column, lo, hi, count <= GATHER) for (column, _), (lo, hi, _, count) in states.items()})
        per_part = dask.compute(*[dask.delayed(_histograms)(part, intervals) for part in parts])
        merged = {}
        for index, (column, lo, hi, gather) in enumerate(intervals):
            results = [result[index] for result in per_part]
            if gather:
                merged[(column, lo, hi)] = np.sort(np.concatenate(results))
            else:
                stacked = np.stack(results)
                merged[(column, lo, hi)] = (stacked[:, :, 0].sum(axis=0), stacked[:, :, 1].min(axis=0),
                                            stacked[:, :, 2].max(axis=0))
        for (column, rank), (lo, hi, below, count) in list(states.items()):
            result, local = merged[(column, lo, hi)], rank - below
            del states[(column, rank)]
            if count <= GATHER:
                found[(column, rank)] = float(result[local])
                continue
            counts, mins, maxs = result
            cumulative = np.cumsum(counts)
            bin_ = int(np.searchsorted(cumulative, local, side="right"))
            below += int(cumulative[bin_ - 1]) if bin_ else 0
            if mins[bin_] == maxs[bin_]:
                found[(column, rank)] = float(mins[bin_])
            else:
                states[(column, rank)] = (float(mins[bin_]), float(maxs[bin_]), below, int(counts[bin_]))
    return found


def linear_quantiles(values_at: dict, column: str, count: int):
    """numpy's linear quantiles of a column from its exact order statistics (exact_quantiles)."""
    def quantiles(shares: np.ndarray) -> np.ndarray:
        edges = []
        for position in shares * (count - 1):
            below = int(np.floor(position))
            a, b = values_at[(column, below)], values_at[(column, min(below + 1, count - 1))]
            edges.append(a if a == b else a + (b - a) * (position - below))
        return np.array(edges)
    return quantiles


def quantile_ranks(count: int, bins: int) -> list[int]:
    """The order statistics that the inner edges of `bins` quantile bins of `count` values are made of."""
    below = np.floor(inner_quantiles(bins) * (count - 1)).astype(int)
    return sorted({*below.tolist(), *np.minimum(below + 1, count - 1).tolist()})


def _numeric_counts(part: pd.DataFrame, edges: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {column: bin_counts(cut, part[column].dropna().to_numpy(float)) for column, cut in edges.items()}


def _summed_counts(frame, edges: dict[str, np.ndarray]):
    import dask

    return dask.delayed(lambda parts: {column: sum(part[column] for part in parts) for column in edges})(
        [dask.delayed(_numeric_counts)(part, edges) for part in frame.to_delayed()])


def judge_parts(params: Params, model) -> tuple[pd.DataFrame, DriftSummary, int, int]:
    """The per-feature table and the verdict of paths.current against paths.train for `model`, on the
    cluster; and the rows of each."""
    import dask

    policy, sample_rows = params.drift, params.compute.sample_rows
    reference, current = read_parts(params.paths.train), read_parts(params.paths.current)
    features = feature_columns(reference._meta, params.target)
    require_features(current._meta, features)
    check_overrides(policy, features)
    reference_sample, _ = sample_parts(params.paths.train, sample_rows, params.seed)
    current_sample, _ = sample_parts(params.paths.current, sample_rows, params.seed)

    # Derived columns drift too, compared as the model sees them; and the model's predictions.
    def seen(part: pd.DataFrame) -> pd.DataFrame:
        if not len(part):
            return meta
        return add_derived_features(part[features]).assign(prediction=model.predict(part[features]))

    meta = seen(reference_sample.head(5)).iloc[:0]
    columns = [column for column in meta.columns if column != "prediction"]
    reference_seen, current_seen = seen(reference_sample), seen(current_sample)
    numeric = {column: is_numeric(meta[column]) for column in meta.columns}
    for column in meta.columns:
        require_same_kind(column, numeric[column], current_seen[column])
    ref, cur = reference.map_partitions(seen, meta=meta), current.map_partitions(seen, meta=meta)
    numbers = [column for column in meta.columns if numeric[column]]
    categories = [column for column in meta.columns if not numeric[column]]

    # Pass 1: sizes, the numbers' ranges, the categories' counts.
    counted = {"rows": (ref.map_partitions(len).sum(), cur.map_partitions(len).sum()),
               "count": (ref.count(), cur.count()), "min": ref[numbers].min(), "max": ref[numbers].max(),
               "categories": {column: tuple(side[column].dropna().astype(str).value_counts(split_out=1)
                                            for side in (ref, cur)) for column in categories}}
    counted = dask.compute(counted)[0]
    (rows_ref, rows_cur), (count_ref, count_cur) = map(int, counted["rows"]), counted["count"]
    sizes = {column: Sizes(int(count_ref[column]), int(count_cur[column]), (rows_ref - count_ref[column]) / rows_ref,
                           (rows_cur - count_cur[column]) / rows_cur if rows_cur else None)
             for column in meta.columns}
    judged = [column for column in numbers
              if min(sizes[column].reference, sizes[column].current) >= thresholds(policy, column)["min_samples"]]
    bins = {column: numeric_bins(sizes[column], policy) for column in judged}

    # Then the reference's quantiles, exactly, and both sides' counts over the bins they make.
    ranks = {column: quantile_ranks(sizes[column].reference, bins[column]) for column in judged
             if counted["min"][column] != counted["max"][column]}
    bounds = {column: (float(counted["min"][column]), float(counted["max"][column]), sizes[column].reference)
              for column in judged}
    values_at = exact_quantiles(ref, ranks, bounds) if ranks else {}
    edges = {column: edges_between(*bounds[column][:2], linear_quantiles(values_at, column, sizes[column].reference),
                                   bins[column]) for column in judged}
    ref_counts, cur_counts = dask.compute(_summed_counts(ref, edges), _summed_counts(cur, edges))

    def binned(column: str) -> Binned:
        sample_ref, sample_cur = reference_seen[column].dropna(), current_seen[column].dropna()
        if numeric[column]:
            return Binned(sample_ref.to_numpy(float), sample_cur.to_numpy(float), ref_counts[column],
                          cur_counts[column])
        return category_bins(*counted["categories"][column], sample_ref.to_numpy(), sample_cur.to_numpy())

    table = drift_table([judge_feature(column, numeric[column], sizes[column], lambda _, c=column: binned(c), policy,
                                       len(columns)) for column in columns])
    prediction = judge_feature("prediction", numeric["prediction"], sizes["prediction"],
                               lambda _: binned("prediction"), policy)
    return table, batch_verdict(params, model, table, prediction, current_sample), rows_cur, rows_ref

