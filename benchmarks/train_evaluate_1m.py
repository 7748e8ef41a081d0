"""Train and evaluate on the sample and on 1,000,000 rows: fitting, MLflow's overhead, and evaluate's parts.

Run with a generated project's interpreter, from the template root:
    PROJECT=build/demo/my-ml-project
    $PROJECT/.venv/bin/python benchmarks/train_evaluate_1m.py $PROJECT
Uses the project's own functions and params.yaml (classification sample), in a temporary folder
with its own MLflow SQLite store. Prints a Markdown table; every row of both sizes in the same run.
"""

import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

PROJECT = Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()
sys.path.insert(0, str(PROJECT / "src"))
package = next(p.name for p in (PROJECT / "src").iterdir() if (p / "stages/train.py").is_file())
modules = {name.rpartition(".")[2]: __import__(f"{package}.{name}", fromlist=["_"])
           for name in ("config", "stages.train", "model.metrics", "model.slices", "model.latency", "model.plots",
                        "model.artifact", "data.tables", "tracking.connection", "tracking.runs")}
ROWS = 1_000_000


def synthetic(rows: int, rng: np.random.Generator) -> pd.DataFrame:
    """8 numeric features, 2 categorical, a binary label that depends on a few of them."""
    data = {f"x{i}": rng.normal(0, 1, rows) for i in range(8)}
    data |= {"region": rng.choice(["north", "south", "east", "west"], rows), "tier": rng.choice(["a", "b"], rows)}
    logit = data["x0"] - 0.5 * data["x1"] + (data["region"] == "north") + rng.normal(0, 1, rows)
    data["label"] = np.where(logit > 0, "yes", "no")
    return pd.DataFrame(data)


def timed(function, *args):
    started = time.perf_counter()
    result = function(*args)
    return result, time.perf_counter() - started


def run(name: str, train: pd.DataFrame, test: pd.DataFrame, target: str, slice_column: str, workdir: Path) -> list:
    params = modules["config"].load_params(PROJECT / "params.yaml")
    paths = params.paths.model_copy(update={"train": str(workdir / f"{name}-train.parquet")})
    params = params.model_copy(update={"target": target, "paths": paths})
    modules["tables"].write_table(train, paths.train)
    features, labels = train.drop(columns=target), train[target]
    test_features, y_true = test.drop(columns=target), test[target]

    (pipeline, _), fit_seconds = timed(modules["train"].fit, features, labels, params)
    model_file = str(workdir / f"{name}.joblib")
    _, save_seconds = timed(modules["artifact"].save_model, pipeline, model_file)
    mlflow = modules["connection"].connect(params.mlflow.tracking_uri, params.mlflow.experiment)
    logged = {"train": params.train.model_dump()}
    _, mlflow_seconds = timed(modules["runs"].log_training_run, mlflow, pipeline, model_file, features, logged,
                              {"train_score": 0.0}, {})
    _, score_seconds = timed(modules["metrics"].score, pipeline, test_features, y_true, "classification")
    _, slice_seconds = timed(modules["slices"].slice_metrics, pipeline, test_features, y_true,
                             test_features[slice_column], "classification", "accuracy", 10)
    _, latency_seconds = timed(modules["latency"].measure_latency, pipeline, test_features, 200)
    _, plot_seconds = timed(lambda: modules["plots"].plot_tables(pipeline, test_features, y_true, "classification",
                                                                 5, 0))
    without = fit_seconds + save_seconds
    evaluate = score_seconds + slice_seconds + latency_seconds + plot_seconds
    return [
        (name, f"{len(train):,} / {len(test):,}", f"{without:.2f}", f"{without + mlflow_seconds:.2f}",
         f"{mlflow_seconds:.2f} ({mlflow_seconds / (without + mlflow_seconds):.0%})",
         f"{evaluate:.2f} (score {score_seconds:.2f}, slices {slice_seconds:.2f}, latency {latency_seconds:.2f}, "
         f"plots and importance {plot_seconds:.2f})"),
    ]


def main() -> None:
    from sklearn.model_selection import train_test_split

    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{workdir / 'mlflow.db'}"
        os.chdir(workdir)  # lineage tags read git here: no repository, so none
        params = modules["config"].load_params(PROJECT / "params.yaml")
        _, store_seconds = timed(modules["connection"].connect, params.mlflow.tracking_uri, params.mlflow.experiment)
        print(f"Creating the MLflow SQLite store (once per project): {store_seconds:.2f} s; the rows below reuse it.\n")
        sample = pd.read_csv(next((PROJECT / "data/raw").glob("*.csv"))).drop(columns=["year"]).dropna(subset=["species"])
        rows = run("sample (penguins)", *train_test_split(sample, test_size=0.25, random_state=0), "species", "island", workdir)
        big = synthetic(ROWS, np.random.default_rng(0))
        rows += run("synthetic", *train_test_split(big, test_size=0.25, random_state=0), "label", "region", workdir)
    print("| data | train / test rows | train without MLflow (s) | train with MLflow (s) | MLflow overhead (s) | evaluate (s) |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
