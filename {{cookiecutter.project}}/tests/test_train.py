from pathlib import Path

import numpy as np
import pytest

from {{ cookiecutter.package }}.config import Model, Preprocessing, Search, load_params
from {{ cookiecutter.package }}.errors import UserError
from {{ cookiecutter.package }}.model.pipeline import build_estimator, build_pipeline
from {{ cookiecutter.package }}.stages.train import fit

PROJECT_PARAMS = Path(__file__).resolve().parents[1] / "params.yaml"
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


def test_a_regressor_for_a_classification_task_is_named_as_such(frame):
    params = project_params(model=Model(estimator="sklearn.linear_model.Ridge", params={}),
                            search=Search(kind="none", grid={}, cv=3, n_iter=1, scoring=None))
    with pytest.raises(UserError, match=r"key 'train.model.estimator': expected a classifier, for task classification "
                                        r"\(params.yaml: task\), found sklearn.linear_model.Ridge, a regressor"):
        fit(frame.drop(columns="label"), frame["label"], params)


def test_numbers_the_contract_calls_categories_are_encoded_not_scaled(frame):
    features = frame.drop(columns="label").assign(store=[101, 205, 307] * 20)
    model = Model(estimator="sklearn.linear_model.LogisticRegression", params={})
    pipeline = build_pipeline(features, model, PREPROCESSING, 0, categorical={"color", "store"}).fit(features, frame["label"])
    names = set(pipeline.named_steps["preprocess"].get_feature_names_out())
    assert {"store_101", "store_205", "store_307"} <= names and "store" not in names


def project_params(**train):
    """The project's params with some train settings replaced."""
    params = load_params(PROJECT_PARAMS)
    return params.model_copy(update={"task": "classification", "train": params.train.model_copy(update=train)})


def test_a_grid_search_picks_the_best_arguments_and_refits(frame):
    search = Search(kind="grid", grid={"C": [0.0001, 1.0]}, cv=3, n_iter=1, scoring="balanced_accuracy")
    params = project_params(model=Model(estimator="sklearn.linear_model.LogisticRegression", params={"max_iter": 500}), search=search)
    features = frame.drop(columns="label")
    pipeline, found = fit(features, frame["label"], params)
    assert found["best_params"] == {"C": 1.0} and 0.5 < found["cv_best_score"] <= 1
    assert pipeline.named_steps["estimator"].C == 1.0 and pipeline.score(features, frame["label"]) > 0.9


def test_a_random_search_is_repeatable_with_the_seed(frame):
    search = Search(kind="random", grid={"max_depth": [1, 2, 3, 4], "n_estimators": [5, 10, 20]}, cv=3, n_iter=3,
                    scoring=None)
    params = project_params(model=Model(estimator="sklearn.ensemble.RandomForestClassifier", params={}), search=search)
    features = frame.drop(columns="label")
    first, second = (fit(features, frame["label"], params) for _ in range(2))
    assert first[1] == second[1]
    assert np.array_equal(first[0].predict_proba(features), second[0].predict_proba(features))


@pytest.mark.parametrize(
    ("model", "search", "message"),
    [
        ({"C": "strong"}, {}, "key 'train.model.params.C': expected a float in the range (0.0, inf], found 'strong'"),
        ({}, {"kind": "grid", "grid": {"depth": [1]}}, "key 'train.search.grid.depth': expected an argument of LogisticRegression"),
        ({}, {"kind": "grid", "grid": {"C": []}}, "key 'train.search.grid.C': expected a non-empty list"),
        ({}, {"kind": "grid", "scoring": "best"}, "key 'train.search.scoring': expected a scikit-learn scorer name"),
    ],
)
def test_bad_train_settings_name_the_key(frame, model, search, message):
    base = Search(kind="none", grid={"C": [1.0]}, cv=3, n_iter=1, scoring=None)
    params = project_params(model=Model(estimator="sklearn.linear_model.LogisticRegression", params=model),
                            search=base.model_copy(update=search))
    with pytest.raises(UserError) as error:
        fit(frame.drop(columns="label"), frame["label"], params)
    assert message in str(error.value)
