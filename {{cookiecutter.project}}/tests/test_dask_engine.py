"""The dask engine gives the pandas engine's answers: the same quantile edges, the same broken rules
counted over the whole data, the same drift table from counts per partition, a split that does not
depend on the partitioning. On a cluster of threads in this process; the template's tests run the
whole pipeline on a cluster of separate processes."""

import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
import yaml
from dask.distributed import Client, LocalCluster

from {{ cookiecutter.package }}.compute import drift_check
from {{ cookiecutter.package }}.compute.drift_check import exact_quantiles, judge_parts, linear_quantiles, quantile_ranks
from {{ cookiecutter.package }}.compute.prepare import held_out
from {{ cookiecutter.package }}.compute.validate import check_parts
from {{ cookiecutter.package }}.config import load_params
from {{ cookiecutter.package }}.data.checks import check_frame
from {{ cookiecutter.package }}.data.contract import load_contract
from {{ cookiecutter.package }}.monitoring import judge
from {{ cookiecutter.package }}.monitoring.statistics import edges_between, numeric_edges


@pytest.fixture(scope="module")
def client():
    with LocalCluster(processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None) as cluster, \
            Client(cluster) as connected:
        yield connected


@pytest.mark.parametrize("values", [
    np.random.default_rng(1).normal(size=5000),
    np.random.default_rng(2).integers(0, 7, 5000).astype(float),  # ties on every edge
    np.r_[np.zeros(4000), np.random.default_rng(3).exponential(size=1000)],  # one value holds most rows
])
def test_exact_quantiles_give_numpys_edges_after_several_counting_passes(client, values, monkeypatch):
    monkeypatch.setattr(drift_check, "GATHER", 50)  # so the search narrows bins several times first
    monkeypatch.setattr(drift_check, "HISTOGRAM_BINS", 8)
    with_gaps = np.where(np.arange(len(values)) % 13 == 0, np.nan, values)
    frame = dd.from_pandas(pd.DataFrame({"x": with_gaps}), npartitions=7)
    present = with_gaps[~np.isnan(with_gaps)]
    count, bins = len(present), 10
    found = exact_quantiles(frame, {"x": quantile_ranks(count, bins)}, {"x": (present.min(), present.max(), count)})
    edges = edges_between(present.min(), present.max(), linear_quantiles(found, "x", count), bins)
    assert np.array_equal(edges, numeric_edges(present, bins))


CONTRACT = """
dataset: {min_rows: 500, max_duplicate_share: 0.01, key: id}
columns:
  id: {type: integer}
  size: {type: float, min: 0, max_missing: 0.05}
  color: {type: category, allowed: [red, blue]}
  code: {type: string, unique: true, warn: [unique]}
"""


def test_every_broken_rule_is_counted_over_all_partitions_as_in_one_frame(client, tmp_path):
    (tmp_path / "contract.yaml").write_text(CONTRACT)
    contract = load_contract(tmp_path / "contract.yaml")
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"id": np.arange(300), "size": rng.normal(5, 3, 300),
                          "color": rng.choice(["red", "blue", "green"], 300, p=[0.5, 0.45, 0.05]),
                          "code": [f"c{i}" for i in range(300)]})
    frame.loc[[5, 150, 280], "id"] = 7  # a key repeated across partitions
    frame.loc[::15, "size"] = np.nan  # 7% missing, more than allowed
    frame.loc[[40, 260], "code"] = "c1"
    frame = pd.concat([frame, frame.iloc[[10, 200, 201, 202]]], ignore_index=True)  # whole rows repeated
    expected = check_frame(frame, contract, "data.parquet")
    found, rows = check_parts(dd.from_pandas(frame, npartitions=4), contract, "data.parquet")
    assert rows == len(frame)

    def summary(failures):
        return sorted((f.column, f.rule, f.failing_rows, f.found, f.severity) for f in failures)
    assert summary(found) == summary(expected)
    assert {f.rule for f in found} == {"min_rows", "key", "max_missing", "min", "allowed", "unique",
                                       "max_duplicate_share"}
    by_rule = {f.rule: f for f in found}
    assert by_rule["min"].rows == [f.rows for f in expected if f.rule == "min"][0]  # numbered in the whole data


def test_a_rows_side_of_the_split_depends_on_its_values_and_the_seed_not_the_partitions():
    frame = pd.DataFrame({"a": np.arange(1000), "b": np.arange(1000) % 7})
    whole = held_out(frame, 42, 0.25)
    parts = pd.concat([held_out(frame.iloc[start:start + 170], 42, 0.25) for start in range(0, 1000, 170)])
    assert whole.equals(parts) and 0.2 < whole.mean() < 0.3
    assert not whole.equals(held_out(frame, 43, 0.25))


def test_the_drift_table_from_counts_per_partition_is_the_pandas_engines(client, frame, fitted, frame_params,
                                                                         monkeypatch):
    model, _ = fitted
    rng = np.random.default_rng(5)
    current = frame.sample(50, random_state=1).assign(size=lambda f: f["size"] + rng.normal(1, 0.5, 50))
    for name, data in {"train": frame, "current": current}.items():
        dd.from_pandas(data, npartitions=3).to_parquet(f"{name}.parquet", write_index=False)
    frame_params["paths"] |= {"train": "train.parquet", "current": "current.parquet", "plots": {}}
    frame_params["paths"]["metrics"] = "metrics.json"
    with open("params.yaml", "w") as stream:
        yaml.safe_dump(frame_params, stream)
    with open("metrics.json", "w") as stream:
        stream.write('{"accuracy": 0.9}')
    params = load_params()
    monkeypatch.setattr(judge, "load_model", lambda path: model)
    expected, expected_summary = judge.judge_batch(params, frame, current)
    table, summary, current_rows, reference_rows = judge_parts(params, model)
    assert (current_rows, reference_rows) == (50, 60)
    pd.testing.assert_frame_equal(table, expected)  # PSI and chi-square from counts; KS from all the values
    assert summary == expected_summary
