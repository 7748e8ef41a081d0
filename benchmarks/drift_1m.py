"""drift-check on 1,000,000 rows x 20 features against Evidently's data-drift report, in the same run.

Evidently is installed for this benchmark only, in a virtualenv of its own (it needs pandas < 3):
    uv venv /tmp/drift-bench && uv pip install --python /tmp/drift-bench/bin/python \\
        evidently "pandas<3" pyarrow scipy scikit-learn pyyaml pandera joblib
    /tmp/drift-bench/bin/python benchmarks/drift_1m.py build/demo/my-ml-project/src
Both see the same reference and current frames (14 numeric, 6 categorical features; 3 numeric and
1 categorical feature shifted). Prints wall time, peak memory above the frames, and which features
each calls drifted.
"""

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, sys.argv[1] if len(sys.argv) > 1 else "src")
sys.path.insert(0, str(Path(__file__).parent))
from validate_1m import PeakRss, rss_mib  # noqa: E402  (the same memory sampler)

package = next(p.name for p in Path(sys.path[0]).iterdir() if (p / "monitoring/drift.py").is_file())
drift_check = __import__(f"{package}.monitoring.drift", fromlist=["compare"])
Drift = __import__(f"{package}.config", fromlist=["Drift"]).Drift

ROWS = 1_000_000
NUMERIC = [f"x{i}" for i in range(14)]
CATEGORICAL = [f"c{i}" for i in range(6)]
SHIFTED = {"x0": 0.5, "x1": 0.3, "x2": 0.1}  # mean shift in standard deviations
POLICY = Drift(statistic="psi", bins=10, min_rows_per_bin=20, psi_warn=0.1, psi_drift=0.2, pvalue=0.05,
               min_samples=30, dataset_drift_share=0.3, important_share=None, prediction_counts=True, overrides={},
               max_decay=0.05, fail_stage=False)


def batch(rng: np.random.Generator, shifted: bool) -> pd.DataFrame:
    data = {name: rng.normal(SHIFTED.get(name, 0) if shifted else 0, 1, ROWS) for name in NUMERIC}
    for name in CATEGORICAL:
        shares = [0.6, 0.3, 0.1] if shifted and name == "c0" else [0.4, 0.4, 0.2]
        data[name] = rng.choice(["a", "b", "c"], ROWS, p=shares)
    return pd.DataFrame(data)


WARNED: set[str] = set()  # what drift-check only warned about, reported beside its drift verdicts


def ours(reference: pd.DataFrame, current: pd.DataFrame) -> set[str]:
    table = drift_check.compare(reference, current, NUMERIC + CATEGORICAL, POLICY)
    WARNED.clear()
    WARNED.update(table.loc[table["verdict"] == "warn", "feature"])
    return set(table.loc[table["verdict"] == "drift", "feature"])


def evidently(reference: pd.DataFrame, current: pd.DataFrame) -> set[str]:
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    definition = DataDefinition(numerical_columns=NUMERIC, categorical_columns=CATEGORICAL)
    snapshot = Report([DataDriftPreset()]).run(Dataset.from_pandas(current, data_definition=definition),
                                                Dataset.from_pandas(reference, data_definition=definition))
    drifted = set()
    for metric in snapshot.dict()["metrics"]:
        config = metric["config"]
        if config["type"].endswith("ValueDrift") and float(metric["value"]) >= config["threshold"]:
            drifted.add(config["column"])
    return drifted


def measure(name: str, function, reference, current) -> tuple[float, set[str]]:
    with PeakRss() as memory:
        baseline = rss_mib()
        started = time.perf_counter()
        drifted = function(reference, current)
        seconds = time.perf_counter() - started
    print(f"{name:<22} {seconds:6.2f} s   peak memory above the frames {memory.peak - baseline:6.0f} MiB   "
          f"drifted: {', '.join(sorted(drifted)) or 'none'}")
    return seconds, drifted


def main() -> None:
    rng = np.random.default_rng(0)
    reference, current = batch(rng, shifted=False), batch(rng, shifted=True)
    print(f"reference and current: {ROWS:,} rows x {reference.shape[1]} features each; shifted: "
          f"{', '.join(f'{k} +{v} sd' for k, v in SHIFTED.items())}, c0 shares 40/40/20 -> 60/30/10\n")
    evidently(reference.head(1000), current.head(1000))  # imports and first-call set-up, not timed
    ours(reference.head(1000), current.head(1000))
    our_seconds, our_set = measure("drift-check (PSI)", ours, reference, current)
    their_seconds, their_set = measure("Evidently DataDrift", evidently, reference, current)
    flagged = our_set | WARNED
    print(f"\ndrift-check is {their_seconds / our_seconds:.1f}x faster. Drift verdicts: "
          f"{'the same' if our_set == their_set else 'different'} (only drift-check: {sorted(our_set - their_set)}, "
          f"only Evidently: {sorted(their_set - our_set)}); drift-check's drift or warn: {sorted(flagged)}, "
          f"{'the same set as' if flagged == their_set else 'unlike'} Evidently's drift.")


if __name__ == "__main__":
    main()
