"""params.yaml, read and checked once: the typed settings every stage and command uses.

To add a setting: a field in its section below (with a `rule` when only some values make sense), a value
in params.yaml, and the key under the stage's `params:` in dvc.yaml so DVC re-runs the stage when it
changes. A value that breaks a rule becomes one `ConfigError` naming the key (errors.py words it).
"""

import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, ValidationError

from .errors import PARAMS_FILE, ConfigError, UserError
from .model.metrics import metric_names

# The drift thresholds a feature may set for itself under `drift.overrides`.
DRIFT_OVERRIDES = ("psi_warn", "psi_drift", "pvalue", "min_samples")


def rule(test, expected: str) -> AfterValidator:
    """A constraint on a field: values for which `test` is false are refused as not `expected`."""
    def check(value):
        if not test(value):
            raise ValueError(expected)
        return value
    return AfterValidator(check)


Fraction = Annotated[float, rule(lambda v: 0 < v < 1, "a number between 0 and 1")]
Positive = Annotated[int, rule(lambda v: v > 0, "a positive integer")]
AtLeastTwo = Annotated[int, rule(lambda v: v >= 2, "an integer of at least 2")]
PositiveNumber = Annotated[float, rule(lambda v: v > 0, "a positive number")]
AtLeastZero = Annotated[float, rule(lambda v: v >= 0, "a number of at least 0")]
Text = Annotated[str, rule(lambda v: bool(v.strip()), "a non-empty string")]
# A user name (and a password) before a URI's host: in params.yaml it would be in git; printed, in a log.
CREDENTIALS_IN_URI = re.compile(r"^([a-z][a-z0-9+.-]*://)[^/@\s]+@")
Uri = Annotated[Text, rule(lambda v: not CREDENTIALS_IN_URI.match(v),
                           "a URI without a user name or password (MLflow reads MLFLOW_TRACKING_USERNAME and "
                           "MLFLOW_TRACKING_PASSWORD)")]
# An empty mapping may be written as nothing at all (`overrides:`).
Mapping = BeforeValidator(lambda v: {} if v is None else v)


class Section(BaseModel):
    """Exactly the keys declared, each of exactly its type (`1` is no `true`, `"1.5"` no number)."""
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)


class Paths(Section):
    """Every file the pipeline reads or writes; dvc.yaml takes its deps and outs from here too."""
    raw: Text
    labelled: Text  # a folder: labelled rows that arrived (`make intake-labels`), which prepare adds to train
    current: Text
    contract: Text
    train: Text
    test: Text
    validation_report: Text
    validated: Text
    model: Text
    run_info: Text
    metrics: Text
    slices: Text
    latency: Text
    gates: Text
    plots: Annotated[dict[str, Text], Mapping]  # plot name -> the table evaluate writes for it
    drift_metrics: Text
    drift_report: Text
    drift_table: Text
    rollout: Text  # the rollout report's numbers (`make rollout-report`) ...
    rollout_report: Text  # ... and the report a person reads


class Prepare(Section):
    test_size: Fraction
    drop_columns: list[Text]
    drop_duplicates: bool  # remove rows that repeat an earlier raw row whole


class Model(Section):
    estimator: Annotated[Text, rule(lambda v: "." in v, "an import path such as sklearn.linear_model.Ridge")]
    params: Annotated[dict[str, Any], Mapping]


class Preprocessing(Section):
    numeric_imputer: Literal["mean", "median", "most_frequent"]
    scale_numeric: bool
    categorical_encoder: Literal["onehot", "ordinal"]


class Search(Section):
    """Optional hyperparameter search over the estimator's arguments, with cross-validation."""
    kind: Literal["none", "grid", "random"]
    grid: Annotated[dict[str, list[Any]], Mapping]  # argument -> values to try
    cv: AtLeastTwo
    n_iter: Positive  # random search: candidates tried
    scoring: Text | None  # a scikit-learn scorer name; null: the estimator's own score


class Train(Section):
    model: Model
    preprocessing: Preprocessing
    search: Search


class Evaluate(Section):
    slice_column: Text | None  # metrics per group of this column; null: none
    slice_metric: Text
    slice_min_rows: Positive
    latency_rows: Positive
    importance_repeats: Positive


class ChampionGate(Section):
    """The challenger against the champion (the model `base` holds): how much worse on `metric` it may be."""
    base: Text  # a git branch: its dvc.lock names the champion's model file
    metric: Text
    tolerance: AtLeastZero


class Gates(Section):
    minimum: Annotated[dict[str, float], Mapping]  # metric -> lowest value that passes
    maximum: Annotated[dict[str, float], Mapping]  # metric -> highest value that passes
    max_latency_p95_ms: float | None
    max_slice_gap: float | None
    champion: ChampionGate


class Mlflow(Section):
    tracking_uri: Uri
    experiment: Text
    model_name: Text  # the registered model whose `champion` alias serves
    fallback_uri: Uri | None  # where train and evaluate record when the tracking server does not answer


class Drift(Section):
    statistic: Literal["psi", "pvalue"]  # which one decides each feature's verdict
    bins: AtLeastTwo
    min_rows_per_bin: Positive
    psi_warn: PositiveNumber
    psi_drift: PositiveNumber
    pvalue: Fraction
    min_samples: Positive
    dataset_drift_share: Annotated[float, rule(lambda v: 0 < v <= 1, "a number in (0, 1]")]
    important_share: Fraction | None  # a drifted feature with this share of the importance drifts the batch alone
    prediction_counts: bool  # drifted predictions make the batch drift
    overrides: Annotated[dict[str, dict[str, float]], Mapping]  # feature -> thresholds of its own
    max_decay: AtLeastZero
    fail_stage: bool


class Incoming(Section):
    """New data as it arrives (data/incoming.py): where batches land, and how many of them train learns from."""
    location: Uri  # a folder, or s3://bucket/prefix
    window: Annotated[int, rule(lambda v: v >= 0, "an integer of at least 0")]  # newest batches whose labels train on


class Serve(Section):
    """The prediction API (`make serve`; HOST and PORT are the command's)."""
    workers: Positive  # uvicorn worker processes on the one address
    max_body_bytes: Positive  # a larger request body is refused with 413
    max_string_chars: Positive  # a longer string in a body is refused with 422
    max_records: Positive  # a request of more records is refused with 429
    client_requests_per_second: PositiveNumber | None  # per client address and worker; more: 429 (null: no limit)
    feedback_window_hours: PositiveNumber  # /feedback takes labels for answers this recent
    log_rows: Positive  # the request log writes a part when this many rows have gathered ...
    log_seconds: PositiveNumber  # ... or this many seconds have passed
    log_spool: Text  # a local folder: each answer is written there before it is sent (serving/spool.py) ...
    log_fsync_seconds: PositiveNumber  # ... and forced to the disk this often
    reload_seconds: PositiveNumber  # how often the server looks for a new champion in dvc.lock
    batch_max_rows: Positive  # concurrent requests are answered together, up to this many rows ...
    batch_max_wait_ms: AtLeastZero  # ... waiting this long for more (0: only those already waiting)


class RolloutGate(Section):
    """What the rollout report must show before `make promote` (when `required`) makes the challenger champion."""
    required: bool
    min_requests: Positive  # records both models scored
    min_labelled: Positive  # labelled records needed to judge quality (gates.champion's metric and tolerance)
    min_agreement: Annotated[float, rule(lambda v: 0 <= v <= 1, "a share from 0 to 1")]  # classification
    max_prediction_psi: PositiveNumber  # the challenger's predictions against the champion's


class Rollout(Section):
    """A challenger beside the champion on live traffic (serving/rollout.py); read again while serving."""
    challenger: Text | None  # a git revision whose dvc.lock names the model; null: the registry's alias, if any
    canary_share: Annotated[float, rule(lambda v: 0 <= v <= 1, "a share from 0 to 1")]  # answered by the challenger
    shadow_timeout_ms: PositiveNumber  # a shadow prediction not started this soon is skipped
    gate: RolloutGate


class Experiments(Section):
    """A grid of experiments (grid.py): run here by `make grid`, or shared among CI runners (experiments.yml)."""
    grid: Annotated[dict[Text, list[Any]], Mapping]  # params key -> the values to try; each combination is one
    runners: Positive  # CI matrix jobs the grid is shared among
    max_points: Positive  # a grid of more combinations is refused before anything runs


# A size such as 512MiB or 4GB (the units Dask's workers take).
BYTE_UNITS = {"B": 1, "kB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12,
              "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40}
SIZE = re.compile(r"^(\d+(?:\.\d+)?)\s*(" + "|".join(BYTE_UNITS) + r")$")
Size = Annotated[str, rule(lambda v: bool(SIZE.match(v)), f"a size such as 512MiB or 4GB ({', '.join(BYTE_UNITS)})")]


def size_bytes(size: str) -> int:
    number, unit = SIZE.match(size).groups()
    return int(float(number) * BYTE_UNITS[unit])


class Compute(Section):
    """Where the stages run (compute/): one process's memory, or a Dask cluster partition by partition."""
    engine: Literal["pandas", "dask"]
    scheduler: Uri | None  # a Dask scheduler's address (DASK_SCHEDULER_ADDRESS overrides it); null: a LocalCluster
    memory_limit: Size | None  # what one process may hold (pandas) or each worker (a LocalCluster); null: free memory
    sample_rows: Positive  # dask: train fits, and evaluate draws its plots, on at most this many rows


class Params(Section):
    seed: Annotated[int, rule(lambda v: 0 <= v < 2**32, "a whole number from 0 to 4294967295")]
    task: Literal["classification", "regression"]
    target: Text
    paths: Paths
    prepare: Prepare
    train: Train
    evaluate: Evaluate
    gates: Gates
    mlflow: Mlflow
    drift: Drift
    incoming: Incoming
    serve: Serve
    rollout: Rollout
    experiments: Experiments
    compute: Compute


def load_params(path: str | Path = PARAMS_FILE) -> Params:
    """Read and check params.yaml; a `ConfigError` names the file, the key, and what was wrong."""
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{path}: file not found (run the stages from the project folder)") from None
    except yaml.YAMLError as error:
        raise UserError(f"{path}: not valid YAML: {' '.join(str(error).split())}") from None
    try:
        params = Params.model_validate(raw)
        check_across_sections(params)
    except ValidationError as error:
        raise ConfigError.from_validation(error, Params).in_file(str(path)) from None
    except ConfigError as error:
        raise error.in_file(str(path)) from None
    return params


def check_across_sections(params: Params) -> None:
    """The rules that relate one setting to another."""
    drift = params.drift
    if drift.psi_warn > drift.psi_drift:
        raise ConfigError("drift.psi_warn", f"at most drift.psi_drift ({drift.psi_drift})", drift.psi_warn)
    for feature, limits in drift.overrides.items():
        for name in limits:
            if name not in DRIFT_OVERRIDES:
                raise ConfigError(f"drift.overrides.{feature}.{name}", f"one of {', '.join(DRIFT_OVERRIDES)}", name)
        warn, bad = limits.get("psi_warn", drift.psi_warn), limits.get("psi_drift", drift.psi_drift)
        if warn > bad:
            raise ConfigError(f"drift.overrides.{feature}.psi_warn", f"at most the feature's psi_drift ({bad})", warn)
    known = metric_names(params.task)
    named = {"evaluate.slice_metric": params.evaluate.slice_metric,
             "gates.champion.metric": params.gates.champion.metric}
    named |= {f"gates.{bound}.{name}": name for bound in ("minimum", "maximum")
              for name in getattr(params.gates, bound)}
    for key, name in named.items():
        if name not in known:
            raise ConfigError(key, f"a {params.task} metric ({', '.join(known)})", name)
