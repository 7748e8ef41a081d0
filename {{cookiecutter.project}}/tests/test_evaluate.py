import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.package }}.config import Model, Preprocessing
from {{ cookiecutter.package }}.errors import ConfigError
from {{ cookiecutter.package }}.model.latency import measure_latency
from {{ cookiecutter.package }}.model.metrics import METRICS, Predictions, compute, metric_names, score
from {{ cookiecutter.package }}.model.pipeline import build_pipeline
from {{ cookiecutter.package }}.model.plots import curves, plot_tables, write_plots
from {{ cookiecutter.package }}.model.slices import slice_metrics


def test_classification_metrics_on_known_predictions():
    y_true = pd.Series(["a", "a", "b", "b"])
    proba = np.array([[0.9, 0.1], [0.4, 0.6], [0.2, 0.8], [0.3, 0.7]])
    predicted = Predictions(y_true, np.array(["a", "b", "b", "b"]), proba, np.array(["a", "b"]))
    scores = compute(metric_names("classification"), predicted)
    assert scores["accuracy"] == 0.75
    assert scores["balanced_accuracy"] == 0.75
    assert scores["roc_auc"] == 1.0
    assert scores["log_loss"] == pytest.approx(-np.mean(np.log([0.9, 0.4, 0.8, 0.7])), abs=1e-6)


def test_regression_metrics_on_known_predictions():
    scores = compute(metric_names("regression"), Predictions(pd.Series([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 5.0])))
    assert scores["mae"] == pytest.approx(2 / 3, abs=1e-6)
    assert scores["rmse"] == pytest.approx(np.sqrt(4 / 3), abs=1e-6)
    assert scores["r2"] == pytest.approx(1 - 4 / 2, abs=1e-6)


def test_the_metrics_table_gives_each_metric_a_task_and_a_direction():
    assert set(metric_names("classification")) | set(metric_names("regression")) == set(METRICS)
    assert {name for name, metric in METRICS.items() if not metric.higher_is_better} == {"log_loss", "rmse", "mae"}


def fitted_classifier(frame):
    features = frame.drop(columns="label")
    preprocessing = Preprocessing(numeric_imputer="median", scale_numeric=True, categorical_encoder="onehot")
    model = Model(estimator="sklearn.linear_model.LogisticRegression", params={})
    return build_pipeline(features, model, preprocessing, 0).fit(features, frame["label"]), features


def test_score_gives_every_metric_of_the_task(frame):
    pipeline, features = fitted_classifier(frame)
    assert set(score(pipeline, features, frame["label"], "classification")) == set(metric_names("classification"))


def test_slice_metrics_per_group_and_the_largest_gap_among_big_enough_groups():
    from sklearn.dummy import DummyClassifier

    features = pd.DataFrame({"group": ["a"] * 4 + ["b"] * 4 + ["c"] * 2})
    y_true = pd.Series(["x", "x", "x", "x", "x", "y", "y", "y", "y", "y"])
    model = DummyClassifier(strategy="constant", constant="x").fit(features, y_true)
    slices = slice_metrics(model, features, y_true, features["group"], "classification", "accuracy", min_rows=3)
    assert slices["groups"] == {"a": {"rows": 4, "accuracy": 1.0}, "b": {"rows": 4, "accuracy": 0.25},
                                "c": {"rows": 2, "accuracy": 0.0}}
    assert slices["gap"] == 0.75  # group c is too small to count


def test_a_numeric_slice_column_is_cut_into_quartiles(frame):
    pipeline, features = fitted_classifier(frame)
    slices = slice_metrics(pipeline, features, frame["label"], features["size"], "classification", "accuracy", 1)
    assert len(slices["groups"]) == 4 and sum(g["rows"] for g in slices["groups"].values()) == len(frame)


@pytest.mark.parametrize("classes", [2, 3])
def test_the_curves_enclose_the_roc_auc(classes):
    from sklearn import metrics as sk

    rng = np.random.default_rng(1)
    labels = np.array(["a", "b", "c"][:classes])
    y_true = pd.Series(rng.choice(labels, 300))
    proba = rng.dirichlet(np.ones(classes), 300) + np.eye(classes)[np.searchsorted(labels, y_true)] * 0.5
    proba /= proba.sum(axis=1, keepdims=True)
    tables = curves(y_true, proba, labels)
    roc = tables["roc"]
    area = np.trapezoid(roc["tpr"], roc["fpr"])
    expected = (sk.roc_auc_score(y_true == "b", proba[:, 1]) if classes == 2
                else sk.roc_auc_score(y_true, proba, average="micro", multi_class="ovr", labels=labels))
    assert area == pytest.approx(expected, abs=1e-3)
    assert list(tables["precision_recall"].columns) == ["recall", "precision"]


def test_the_plot_tables_are_written_for_each_task(tmp_path, frame):
    from sklearn.linear_model import Ridge

    pipeline, features = fitted_classifier(frame)
    tables = plot_tables(pipeline, features, frame["label"], "classification", 2, 0)
    assert sorted(tables) == ["importance", "precision_recall", "predictions", "roc"]
    numbers = features[["size"]]
    ridge = Ridge().fit(numbers, frame["weight"].fillna(30))
    assert sorted(plot_tables(ridge, numbers, frame["weight"].fillna(30), "regression", 2, 0)) == [
        "importance", "predictions", "residuals"]
    paths = {name: str(tmp_path / f"plots/{name}.csv") for name in ("importance", "roc")}
    write_plots(paths, tables)
    assert sorted(path.name for path in (tmp_path / "plots").iterdir()) == ["importance.csv", "roc.csv"]
    importance = pd.read_csv(tmp_path / "plots/importance.csv")
    assert set(importance["feature"]) == set(features.columns)
    with pytest.raises(ConfigError, match=r"key 'paths.plots.residuals': expected one of the plots evaluate draws"):
        write_plots({"residuals": str(tmp_path / "r.csv")}, tables)


def test_latency_percentiles_and_throughput(frame):
    pipeline, features = fitted_classifier(frame)
    latency = measure_latency(pipeline, features, rows=20)
    assert 0 < latency["p50_ms"] <= latency["p95_ms"] and latency["rows_per_second"] > 0
    assert latency["batch_rows"] >= 10_000
