"""The typed view of `params.yaml`: every stage's settings, checked once, with errors naming the key.

To add a setting: add a field to the section's dataclass below (a `check` in its metadata if only
some values make sense), give it a value in `params.yaml`, and list the key under the stage's
`params:` in `dvc.yaml` so DVC re-runs the stage when it changes.
"""

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from types import UnionType
from typing import Any, Literal, get_args, get_origin, get_type_hints

import yaml

from .errors import UserError

PARAMS_FILE = Path("params.yaml")
# The test metrics evaluate writes, which gates and slices may name; for some, lower is better.
METRICS = {
    "classification": ("accuracy", "balanced_accuracy", "precision_macro", "recall_macro", "f1_macro",
                       "roc_auc", "log_loss"),
    "regression": ("rmse", "mae", "r2"),
}
LOWER_IS_BETTER = {"log_loss", "rmse", "mae"}
# The drift thresholds a feature may set for itself under `drift.overrides`.
DRIFT_OVERRIDES = ("psi_warn", "psi_drift", "pvalue", "min_samples")


def check(predicate, expected: str) -> dict:
    """Field metadata: values for which `predicate` is false are rejected as not `expected`."""
    return {"check": (predicate, expected)}


def _fraction(value: float) -> bool:
    return 0 < value < 1


def _positive(value: float) -> bool:
    return value > 0


@dataclass(frozen=True)
class Paths:
    """Every file the pipeline reads or writes; `dvc.yaml` takes its deps and outs from here too."""

    raw: str
    current: str
    contract: str
    train: str
    test: str
    validation_report: str
    validated: str
    model: str
    run_info: str
    metrics: str
    slices: str
    latency: str
    gates: str
    plots: str
    drift_metrics: str
    drift_report: str
    drift_table: str


@dataclass(frozen=True)
class Prepare:
    test_size: float = field(metadata=check(_fraction, "a number between 0 and 1"))
    drop_columns: list[str]


@dataclass(frozen=True)
class Model:
    estimator: str = field(metadata=check(lambda v: "." in v, "an import path such as sklearn.linear_model.Ridge"))
    params: dict[str, Any]


@dataclass(frozen=True)
class Preprocessing:
    numeric_imputer: Literal["mean", "median", "most_frequent"]
    scale_numeric: bool
    categorical_encoder: Literal["onehot", "ordinal"]


@dataclass(frozen=True)
class Search:
    """Optional hyperparameter search over the estimator's arguments, with cross-validation."""

    kind: Literal["none", "grid", "random"]
    grid: dict[str, list[Any]]  # argument -> values to try
    cv: int = field(metadata=check(lambda v: v >= 2, "an integer of at least 2"))
    n_iter: int = field(metadata=check(_positive, "a positive integer"))  # random search: candidates tried
    scoring: str | None  # a scikit-learn scorer name; null: the estimator's own score


@dataclass(frozen=True)
class Train:
    model: Model
    preprocessing: Preprocessing
    search: Search


@dataclass(frozen=True)
class Evaluate:
    slice_column: str | None  # metrics per group of this column; null: none
    slice_metric: str
    slice_min_rows: int = field(metadata=check(_positive, "a positive integer"))
    latency_rows: int = field(metadata=check(_positive, "a positive integer"))
    importance_repeats: int = field(metadata=check(_positive, "a positive integer"))


@dataclass(frozen=True)
class Champion:
    metric: str
    tolerance: float = field(metadata=check(lambda v: v >= 0, "a number of at least 0"))


@dataclass(frozen=True)
class Gates:
    minimum: dict[str, float]  # metric -> lowest value that passes
    maximum: dict[str, float]  # metric -> highest value that passes
    max_latency_p95_ms: float | None
    max_slice_gap: float | None
    champion: Champion


@dataclass(frozen=True)
class Mlflow:
    tracking_uri: str
    experiment: str
    model_name: str  # the registered model whose `champion` alias serves
    fallback_uri: str | None  # where train and evaluate record when the tracking server does not answer


@dataclass(frozen=True)
class Drift:
    statistic: Literal["psi", "pvalue"]  # which one decides each feature's verdict
    bins: int = field(metadata=check(lambda v: v >= 2, "an integer of at least 2"))
    min_rows_per_bin: int = field(metadata=check(_positive, "a positive integer"))
    psi_warn: float = field(metadata=check(_positive, "a positive number"))
    psi_drift: float = field(metadata=check(_positive, "a positive number"))
    pvalue: float = field(metadata=check(_fraction, "a number between 0 and 1"))
    min_samples: int = field(metadata=check(_positive, "a positive integer"))
    dataset_drift_share: float = field(metadata=check(lambda v: 0 < v <= 1, "a number in (0, 1]"))
    overrides: dict[str, dict[str, float]]  # feature -> thresholds of its own (psi_warn, psi_drift, ...)
    max_decay: float = field(metadata=check(lambda v: v >= 0, "a number of at least 0"))
    fail_stage: bool


@dataclass(frozen=True)
class Params:
    seed: int
    task: Literal["classification", "regression"]
    target: str
    paths: Paths
    prepare: Prepare
    train: Train
    evaluate: Evaluate
    gates: Gates
    mlflow: Mlflow
    drift: Drift


def load_params(path: Path = PARAMS_FILE) -> Params:
    """Read and check `params.yaml`; a `UserError` names the file, the key, and what was wrong."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{path}: file not found (run the stages from the project folder)") from None
    except yaml.YAMLError as error:
        raise UserError(f"{path}: not valid YAML: {' '.join(str(error).split())}") from None
    params = _build(Params, raw, "", path)
    if params.drift.psi_warn > params.drift.psi_drift:
        _fail(path, "drift.psi_warn", f"at most drift.psi_drift ({params.drift.psi_drift})", params.drift.psi_warn)
    for feature, limits in params.drift.overrides.items():
        for name in limits:
            if name not in DRIFT_OVERRIDES:
                _fail(path, f"drift.overrides.{feature}.{name}", f"one of {', '.join(DRIFT_OVERRIDES)}", name)
    known = METRICS[params.task]
    named = {"evaluate.slice_metric": params.evaluate.slice_metric,
             "gates.champion.metric": params.gates.champion.metric}
    named |= {f"gates.{bound}.{name}": name for bound in ("minimum", "maximum")
              for name in getattr(params.gates, bound)}
    for key, name in named.items():
        if name not in known:
            _fail(path, key, f"a {params.task} metric ({', '.join(known)})", name)
    return params


def _fail(path: Path, key: str, expected: str, found: Any, described: str = "") -> None:
    where = f"key '{key}'" if key else "top level"
    raise UserError(f"{path}: {where}: expected {expected}, found {described or repr(found)}")


def _build(cls: type, value: Any, key: str, path: Path) -> Any:
    if not isinstance(value, dict):
        _fail(path, key, f"a mapping with keys {', '.join(f.name for f in dataclasses.fields(cls))}", value)
    hints = get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    for unknown in sorted(set(value) - names, key=str):
        _fail(path, _join(key, unknown), f"one of the known keys ({', '.join(sorted(names))})", None,
              "an unknown key")
    values = {}
    for f in dataclasses.fields(cls):
        sub_key = _join(key, f.name)
        if f.name not in value:
            _fail(path, sub_key, "a value", None, "nothing (the key is missing)")
        values[f.name] = _convert(hints[f.name], value[f.name], sub_key, path)
        if "check" in f.metadata:
            predicate, expected = f.metadata["check"]
            if not predicate(values[f.name]):
                _fail(path, sub_key, expected, value[f.name])
    return cls(**values)


def _convert(tp: Any, value: Any, key: str, path: Path) -> Any:
    origin = get_origin(tp)
    if origin is UnionType:  # `X | None`: null, or an X
        if value is None:
            return None
        return _convert(next(arg for arg in get_args(tp) if arg is not type(None)), value, key, path)
    if dataclasses.is_dataclass(tp):
        return _build(tp, value, key, path)
    if tp is Any:
        return value
    if origin is Literal:
        if value not in get_args(tp):
            _fail(path, key, f"one of {', '.join(map(str, get_args(tp)))}", value)
        return value
    if origin is list:
        if not isinstance(value, list):
            _fail(path, key, "a list", value)
        return [_convert(get_args(tp)[0], item, f"{key}[{i}]", path) for i, item in enumerate(value)]
    if origin is dict:
        if value is None:
            return {}
        if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
            _fail(path, key, "a mapping of names to values", value)
        return {name: _convert(get_args(tp)[1], item, f"{key}.{name}", path) for name, item in value.items()}
    if tp is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if tp is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if tp in (str, bool) and isinstance(value, tp):
        if tp is str and not value.strip():
            _fail(path, key, "a non-empty string", value)
        return value
    _fail(path, key, {float: "a number", int: "an integer", str: "a string", bool: "true or false"}[tp], value)


def _join(prefix: str, name: Any) -> str:
    return f"{prefix}.{name}" if prefix else str(name)
