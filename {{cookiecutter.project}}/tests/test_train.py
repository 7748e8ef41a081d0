import numpy as np
import pytest

from {{ cookiecutter.package }}.errors import UserError
from {{ cookiecutter.package }}.model import build_estimator, build_pipeline
from {{ cookiecutter.package }}.params import Model, Preprocessing

PREPROCESSING = Preprocessing(numeric_imputer="median", scale_numeric=True, categorical_encoder="onehot")


def fitted(frame, estimator="sklearn.ensemble.RandomForestClassifier", params=None, seed=3):
    features = frame.drop(columns="label")
    model = Model(estimator=estimator, params=params or {"n_estimators": 20})
    return build_pipeline(features, model, PREPROCESSING, seed).fit(features, frame["label"])


def test_the_pipeline_learns_and_handles_gaps_and_unseen_categories(frame):
    pipeline = fitted(frame)
    features = frame.drop(columns="label")
    assert pipeline.score(features, frame["label"]) > 0.9
    unseen = features.head(3).assign(color=["green", None, "red"])
    assert len(pipeline.predict(unseen)) == 3


def test_the_seed_makes_training_repeatable(frame):
    features = frame.drop(columns="label")
    first = fitted(frame, seed=5).predict_proba(features)
    second = fitted(frame, seed=5).predict_proba(features)
    assert np.array_equal(first, second)


@pytest.mark.parametrize(
    ("estimator", "params", "message"),
    [
        ("sklearn.linear_model.NoSuchModel", {}, "key 'train.model.estimator': expected an importable class"),
        ("collections.OrderedDict", {}, "key 'train.model.estimator': expected a scikit-learn estimator class"),
        ("sklearn.linear_model.LogisticRegression", {"depth": 3}, "key 'train.model.params.depth'"),
    ],
)
def test_bad_model_params_name_the_key(estimator, params, message):
    with pytest.raises(UserError, match=message):
        build_estimator(Model(estimator=estimator, params=params), seed=0)


def test_numbers_the_contract_calls_categories_are_encoded_not_scaled(frame):
    features = frame.drop(columns="label").assign(store=[101, 205, 307] * 20)
    model = Model(estimator="sklearn.linear_model.LogisticRegression", params={})
    pipeline = build_pipeline(features, model, PREPROCESSING, 0, categorical={"color", "store"}).fit(features, frame["label"])
    names = set(pipeline[:-1].get_feature_names_out())
    assert {"store_101", "store_205", "store_307"} <= names and "store" not in names
