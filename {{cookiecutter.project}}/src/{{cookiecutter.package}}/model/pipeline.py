"""The model as declared in params.yaml: derived features, preprocessing and the estimator in one
scikit-learn pipeline, so whatever predicts with it applies exactly what training did.
"""

import importlib
import inspect
from collections.abc import Collection

import pandas as pd
from sklearn.base import BaseEstimator, is_classifier, is_regressor
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.metrics import get_scorer
from sklearn.model_selection import GridSearchCV, KFold, RandomizedSearchCV, StratifiedKFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, OrdinalEncoder, StandardScaler

from ..config import Model, Preprocessing, Search
from ..data.features import add_derived_features, is_numeric
from ..errors import ConfigError


def estimator_class(import_path: str) -> type:
    """Import `module.Class`, naming the params key when that fails."""
    module_name, _, class_name = import_path.rpartition(".")
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError, ValueError):
        raise ConfigError("train.model.estimator", "an importable class", import_path) from None
    if not (inspect.isclass(cls) and issubclass(cls, BaseEstimator)):
        raise ConfigError("train.model.estimator", "a scikit-learn estimator class", import_path)
    return cls


def check_task(model: Model, task: str) -> None:
    """A classifier for a classification task, a regressor for a regression task."""
    estimator = estimator_class(model.estimator)()
    kind = "classifier" if is_classifier(estimator) else "regressor" if is_regressor(estimator) else None
    if kind is not None and kind != {"classification": "classifier", "regression": "regressor"}[task]:
        wanted = "a classifier" if task == "classification" else "a regressor"
        raise ConfigError("train.model.estimator", f"{wanted}, for task {task} (params.yaml: task)",
                          found_text=f"{model.estimator}, a {kind}")


def build_estimator(model: Model, seed: int) -> BaseEstimator:
    """The estimator with its declared keyword arguments; the seed reaches it as `random_state`."""
    cls = estimator_class(model.estimator)
    accepted = cls().get_params()
    for name in model.params:
        if name not in accepted:
            raise ConfigError(f"train.model.params.{name}", f"one of {', '.join(sorted(accepted))} for "
                              f"{model.estimator}", found_text="an unknown argument")
    kwargs = dict(model.params)
    if "random_state" in accepted:
        kwargs.setdefault("random_state", seed)
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as error:
        raise ConfigError("train.model.params", f"arguments {model.estimator} accepts", found_text=str(error)) from None


def build_preprocessing(features: pd.DataFrame, settings: Preprocessing,
                        categorical: Collection[str] = ()) -> ColumnTransformer:
    """Impute and scale numeric columns; impute and encode the others and those named `categorical`.

    Numbers that stand for labels (a postcode, a product code) are named in `categorical` by the
    data contract (`type: category`), so they are encoded, not scaled.
    """
    numeric = [column for column in features.columns
               if is_numeric(features[column]) and column not in categorical]
    categorical = [column for column in features.columns if column not in numeric]
    numeric_steps = [SimpleImputer(strategy=settings.numeric_imputer)]
    if settings.scale_numeric:
        numeric_steps.append(StandardScaler())
    if settings.categorical_encoder == "onehot":
        encoder = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
    else:
        encoder = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1)
    categorical_steps = [
        SimpleImputer(strategy="constant", fill_value="missing"),
        encoder,
    ]
    return ColumnTransformer(
        [("numeric", make_pipeline(*numeric_steps), numeric),
         ("categorical", make_pipeline(*categorical_steps), categorical)],
        verbose_feature_names_out=False,
    )


def build_pipeline(features: pd.DataFrame, model: Model, preprocessing: Preprocessing, seed: int,
                   categorical: Collection[str] = ()) -> Pipeline:
    """The whole model, ready to fit on the raw `features`: derived columns are its first step."""
    return Pipeline([
        ("derive", FunctionTransformer(add_derived_features)),
        ("preprocess", build_preprocessing(add_derived_features(features), preprocessing, categorical)),
        ("estimator", build_estimator(model, seed)),
    ])


def build_search(pipeline: Pipeline, search: Search, task: str, seed: int) -> GridSearchCV | RandomizedSearchCV:
    """A cross-validated search over the estimator's arguments in `train.search.grid`, refit on all rows."""
    estimator = pipeline.named_steps["estimator"]
    accepted = estimator.get_params()
    for name, values in search.grid.items():
        if name not in accepted:
            raise ConfigError(f"train.search.grid.{name}", f"an argument of {type(estimator).__name__}",
                              found_text="an unknown argument")
        if not values:
            raise ConfigError(f"train.search.grid.{name}", "a non-empty list of values", values)
    if search.scoring is not None:
        try:
            get_scorer(search.scoring)
        except ValueError:
            raise ConfigError("train.search.scoring", "a scikit-learn scorer name such as accuracy or "
                              "neg_root_mean_squared_error", search.scoring) from None
    grid = {f"estimator__{name}": values for name, values in search.grid.items()}
    folds = (StratifiedKFold if task == "classification" else KFold)(search.cv, shuffle=True, random_state=seed)
    if search.kind == "grid":
        return GridSearchCV(pipeline, grid, cv=folds, scoring=search.scoring)
    return RandomizedSearchCV(pipeline, grid, n_iter=search.n_iter, cv=folds, scoring=search.scoring,
                              random_state=seed)
