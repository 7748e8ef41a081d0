import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.package }}.evaluate import classification_metrics, evaluate, regression_metrics


def test_classification_metrics_on_known_predictions():
    y_true = pd.Series(["a", "a", "b", "b"])
    proba = np.array([[0.9, 0.1], [0.4, 0.6], [0.2, 0.8], [0.3, 0.7]])
    scores = classification_metrics(y_true, np.array(["a", "b", "b", "b"]), proba, np.array(["a", "b"]))
    assert scores["accuracy"] == 0.75
    assert scores["balanced_accuracy"] == 0.75
    assert scores["roc_auc"] == 1.0
    assert scores["log_loss"] == pytest.approx(-np.mean(np.log([0.9, 0.4, 0.8, 0.7])), abs=1e-6)


def test_regression_metrics_on_known_predictions():
    scores = regression_metrics(pd.Series([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 5.0]))
    assert scores["mae"] == pytest.approx(2 / 3, abs=1e-6)
    assert scores["rmse"] == pytest.approx(np.sqrt(4 / 3), abs=1e-6)
    assert scores["r2"] == pytest.approx(1 - 4 / 2, abs=1e-6)


def test_evaluate_returns_metrics_and_a_prediction_table(frame):
    from sklearn.dummy import DummyClassifier

    model = DummyClassifier(strategy="most_frequent").fit(frame.drop(columns="label"), frame["label"])
    scores, predictions = evaluate(model, frame, "label", "classification")
    assert scores["accuracy"] == pytest.approx(frame["label"].value_counts(normalize=True).max(), abs=1e-6)
    assert list(predictions.columns) == ["actual", "predicted"] and len(predictions) == len(frame)
