import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from {{ cookiecutter.package }}.config import Drift, load_params
from {{ cookiecutter.package }}.errors import UserError
from {{ cookiecutter.package }}.monitoring import statistics as ds
from {{ cookiecutter.package }}.monitoring.drift import compare, compare_feature, prediction_drift
from {{ cookiecutter.package }}.monitoring.report import markdown_report
from {{ cookiecutter.package }}.monitoring.simulate import simulate
from {{ cookiecutter.package }}.monitoring.verdict import Decay, performance_decay, summarize

POLICY = Drift(statistic="psi", bins=10, min_rows_per_bin=20, psi_warn=0.1, psi_drift=0.2, pvalue=0.05,
               min_samples=30, dataset_drift_share=0.3, important_share=0.25, prediction_counts=True, overrides={},
               max_decay=0.05, fail_stage=False)


def test_psi_matches_the_formula_worked_by_hand():
    # (0.25 - 0.5) ln(0.25 / 0.5) + (0.75 - 0.5) ln(0.75 / 0.5) = 0.25 ln 2 + 0.25 ln 1.5 = 0.27465
    assert ds.psi(np.array([0.5, 0.5]), np.array([0.25, 0.75])) == pytest.approx(0.27465, abs=1e-3)
    assert ds.psi(np.array([0.5, 0.5]), np.array([0.5, 0.5])) == 0
    # An empty bin is smoothed: large but finite.
    assert np.isfinite(ds.psi(np.array([1.0, 0.0]), np.array([0.5, 0.5])))


def test_the_tests_and_distances_match_independent_computations():
    rng = np.random.default_rng(0)
    a, b = rng.normal(0, 1, 300), rng.normal(0.3, 1, 200)
    assert ds.ks_test(a, b) == pytest.approx(tuple(stats.ks_2samp(a, b)))
    ref, cur = np.array([30, 50, 20, 0]), np.array([10, 60, 25, 5])
    expected = stats.chi2_contingency(np.array([[30, 50, 20, 0], [10, 60, 25, 5]]), correction=False).pvalue
    assert ds.chi_square_pvalue(ref, cur) == pytest.approx(expected)
    # JS distance by hand: p = (1, 0), q = (0, 1) share nothing: distance 1; equal shares: 0.
    assert ds.js_distance(np.array([1.0, 0.0]), np.array([0.0, 1.0])) == pytest.approx(1.0)
    assert ds.js_distance(np.array([0.5, 0.5]), np.array([0.5, 0.5])) == pytest.approx(0.0)
    # Wasserstein of a pure shift is the shift; in reference sd units, shift / sd.
    base = np.array([0.0, 1.0, 2.0, 3.0])
    assert ds.wasserstein_normed(base, base + 2) == pytest.approx(2 / base.std())


def frame(rng, n: int, shift: float = 0.0) -> pd.DataFrame:
    return pd.DataFrame({"x": rng.normal(shift, 1, n), "y": rng.normal(5, 2, n), "z": rng.exponential(1, n),
                         "kind": rng.choice(["a", "b", "c"], n, p=[0.5, 0.3, 0.2])})


FEATURES = ["x", "y", "z", "kind"]


def test_false_alarms_on_unchanged_data_are_rare():
    rng = np.random.default_rng(11)
    drifted = sum(summarize(compare(frame(rng, 1000), frame(rng, 1000), FEATURES, POLICY), POLICY).verdict == "drift"
                  for _ in range(200))
    assert drifted <= 10, f"{drifted} of 200 unchanged batches called drift"


@pytest.mark.parametrize("statistic", ["psi", "pvalue"])
def test_a_half_sd_shift_is_flagged_and_the_other_features_stay_stable(statistic):
    policy = POLICY.model_copy(update={"statistic": statistic})
    rng = np.random.default_rng(12)
    flagged = quiet = 0
    for _ in range(200):
        table = compare(frame(rng, 1000), frame(rng, 1000, shift=0.5), FEATURES, policy).set_index("feature")
        # PSI's warn band flags it; with p-values the corrected test calls it drift.
        flagged += table.loc["x", "verdict"] in (("warn", "drift") if statistic == "psi" else ("drift",))
        quiet += int((table.drop(index="x")["verdict"] == "stable").sum())
    assert flagged >= 190 and quiet >= 0.95 * 3 * 200, (flagged, quiet)


def test_small_empty_missing_and_constant_features_say_so_and_never_give_nan():
    rng = np.random.default_rng(3)
    reference = frame(rng, 500).assign(flat=1.0, gone=np.nan)
    current = frame(rng, 20).assign(flat=1.0, gone=np.nan)
    table = compare(reference, current, [*FEATURES, "flat", "gone"], POLICY)
    assert set(table["verdict"]) == {"insufficient_data"}
    summary = summarize(table, POLICY)
    assert summary.verdict == "insufficient_data" and summary.recommendation == "none"
    assert "fewer than 30 to judge" in table["moved"].iloc[0]
    empty = compare(reference, current.iloc[:0], FEATURES, POLICY)
    assert set(empty["verdict"]) == {"insufficient_data"}
    json.dumps(empty.to_dict("records") + [summary.model_dump()], allow_nan=False)

    big = frame(rng, 500).assign(flat=1.0)
    flat = compare(reference, big, ["flat"], POLICY).iloc[0]
    assert flat["verdict"] == "stable" and flat["psi"] == 0
    moved = compare(reference, big.assign(flat=2.0), ["flat"], POLICY).iloc[0]
    assert moved["verdict"] == "drift" and moved["moved"] == "mean 1 -> 2"


def test_overrides_name_a_feature_or_the_predictions():
    from {{ cookiecutter.package }}.errors import ConfigError
    from {{ cookiecutter.package }}.monitoring.drift import check_overrides

    check_overrides(POLICY.model_copy(update={"overrides": {"x": {}, "prediction": {}}}), FEATURES)
    with pytest.raises(ConfigError, match=r"key 'drift.overrides.body_mas_g': expected a feature of the training "
                                          r"data \(x, y, z, kind\) or prediction, found 'body_mas_g'"):
        check_overrides(POLICY.model_copy(update={"overrides": {"body_mas_g": {}}}), FEATURES)


def test_a_missing_feature_or_one_of_another_type_is_named():
    rng = np.random.default_rng(4)
    reference, current = frame(rng, 200), frame(rng, 200)
    with pytest.raises(UserError, match="found no column kind"):
        compare(reference, current.drop(columns="kind"), FEATURES, POLICY)
    with pytest.raises(UserError, match="column 'x': expected numbers as in the training data, found"):
        compare(reference, current.assign(x="high"), FEATURES, POLICY)


def test_unseen_categories_more_missing_values_and_overrides():
    rng = np.random.default_rng(5)
    reference = frame(rng, 1000)
    current = frame(rng, 1000).assign(kind=lambda f: f["kind"].where(rng.random(1000) > 0.4, "d"))
    current.loc[rng.random(1000) < 0.3, "y"] = np.nan
    table = compare(reference, current, FEATURES, POLICY).set_index("feature")
    assert table.loc["kind", "verdict"] == "drift" and "unseen in training" in table.loc["kind", "moved"]
    assert "missing 0% -> 3" in table.loc["y", "moved"]
    lenient = POLICY.model_copy(update={"overrides": {"kind": {"psi_drift": 50.0, "psi_warn": 40.0}}})
    row = compare_feature("kind", reference["kind"], current["kind"], lenient)
    assert row["verdict"] == "stable" and row["psi_drift"] == 50.0


def test_the_batch_verdict_and_the_recommendation():
    rng = np.random.default_rng(6)
    reference = frame(rng, 1000)
    shifted = frame(rng, 1000, shift=1.0).assign(y=lambda f: f["y"] + 2)
    summary = summarize(compare(reference, shifted, FEATURES, POLICY), POLICY)
    assert summary.verdict == "drift" and summary.recommendation == "retrain"
    assert summary.drifted_features == 2 and summary.max_psi_feature in ("x", "y")
    assert {"x", "y"} <= {moved.feature for moved in summary.moved}
    decay = Decay(metric="accuracy", test=0.9, current=0.7, rows=100, decay=0.2, concept_drift=True)
    stable = summarize(compare(reference, frame(rng, 1000), FEATURES, POLICY), POLICY, performance=decay)
    assert stable.verdict == "stable" and stable.recommendation == "retrain"


def test_one_drifted_feature_the_model_leans_on_drifts_the_batch_alone():
    rng = np.random.default_rng(13)
    table = compare(frame(rng, 1000), frame(rng, 1000, shift=1.0), FEATURES, POLICY)  # x alone: 1 of 4 features
    assert summarize(table, POLICY).verdict == "warn"
    unimportant = summarize(table, POLICY, importance={"x": 0.05, "y": 0.95})
    assert unimportant.verdict == "warn" and unimportant.recommendation == "watch"
    leaned_on = summarize(table, POLICY, importance={"x": 0.6, "y": 0.4})
    assert leaned_on.verdict == "drift" and leaned_on.recommendation == "retrain"
    assert leaned_on.reasons == ["x drifted, and carries 60% of the model's importance"]
    assert summarize(table, POLICY.model_copy(update={"important_share": None}), importance={"x": 1.0}).verdict == "warn"


def test_drifted_predictions_drift_the_batch_unless_set_otherwise():
    rng = np.random.default_rng(14)
    table = compare(frame(rng, 1000), frame(rng, 1000), FEATURES, POLICY)
    moved = {"verdict": "drift", "psi": 4.2}
    summary = summarize(table, POLICY, prediction=moved)
    assert summary.verdict == "drift" and summary.reasons == ["the predictions drifted (PSI 4.2)"]
    assert summarize(table, POLICY.model_copy(update={"prediction_counts": False}), prediction=moved).verdict == "stable"


def test_concept_drift_is_worded_the_way_the_metric_moved():
    rng = np.random.default_rng(15)
    table = compare(frame(rng, 1000), frame(rng, 1000), FEATURES, POLICY)
    rose = Decay(metric="rmse", test=1085.8, current=5597.4, rows=120, decay=4.155, concept_drift=True)
    summary = summarize(table, POLICY, performance=rose)
    assert summary.verdict == "stable" and summary.recommendation == "retrain"
    assert summary.reasons == ["on 120 labelled current rows rmse rose from 1086 on the test split to 5597 (416% worse)"]
    fell = Decay(metric="accuracy", test=0.9, current=0.6, rows=50, decay=0.333, concept_drift=True)
    assert "accuracy fell from 0.9 on the test split to 0.6" in summarize(table, POLICY, performance=fell).reasons[0]


def test_the_report_lists_drifted_features_first_with_how_they_moved():
    rng = np.random.default_rng(7)
    reference = frame(rng, 1000)
    current = frame(rng, 1000, shift=1.3).assign(kind=rng.choice(["a", "b", "c"], 1000, p=[0.1, 0.3, 0.6]))
    table = compare(reference, current, FEATURES, POLICY)
    report = markdown_report(table, summarize(table, POLICY), 1000, 1000)
    lines = [line for line in report.splitlines() if line.startswith("| ") and "| feature |" not in line]
    assert lines[0].startswith("| x | drift | mean +1.") and lines[1].startswith("| kind | drift | share of a 5")
    assert lines[2].startswith(("| y | stable", "| z | stable")) and report.startswith("# Drift: drift (recommendation: retrain)")


def test_every_statistic_of_the_table_is_a_column_of_the_drift_table_and_of_the_report():
    rng = np.random.default_rng(9)
    table = compare(frame(rng, 500), frame(rng, 500, shift=0.3), FEATURES, POLICY)
    assert set(ds.STATISTICS) <= set(table.columns)
    numeric, categorical = table.set_index("feature").loc["x"], table.set_index("feature").loc["kind"]
    for name, statistic in ds.STATISTICS.items():
        assert np.isfinite(numeric[name]) if statistic.numeric else numeric[name] is None
        assert np.isfinite(categorical[name]) if statistic.categorical else pd.isna(categorical[name])
    report = markdown_report(table, summarize(table, POLICY), 500, 500)
    header = next(line for line in report.splitlines() if line.startswith("| feature |"))
    assert all(f" {statistic.title} |" in header for statistic in ds.STATISTICS.values())


def test_prediction_drift_and_performance_decay(frame):
    from sklearn.linear_model import LogisticRegression

    features = frame[["size"]]
    model = LogisticRegression().fit(features, frame["label"])
    same = prediction_drift(model, features, features, POLICY)
    assert same["verdict"] == "stable" and same["kind"] == "categorical"
    moved = prediction_drift(model, features, features + 5, POLICY)
    assert moved["verdict"] == "drift"
    params = load_params(Path(__file__).resolve().parents[1] / "params.yaml")
    champion = params.gates.champion.model_copy(update={"metric": "accuracy"})
    params = params.model_copy(update={"task": "classification", "target": "label",
                                       "gates": params.gates.model_copy(update={"champion": champion})})
    labelled = frame[["size", "label"]]
    tested = {"accuracy": model.score(features, frame["label"])}
    flipped = labelled.assign(label=labelled["label"].map({"big": "small", "small": "big"}))
    assert not performance_decay(model, labelled, params, tested).concept_drift
    decay = performance_decay(model, flipped, params, tested)
    assert decay.concept_drift and decay.decay > 0.5
    assert performance_decay(model, labelled.drop(columns="label"), params, tested) is None


def test_a_simulated_batch_is_reproducible_and_moves_what_was_asked():
    rng = np.random.default_rng(8)
    reference = frame(rng, 2000).assign(label=rng.choice(["p", "q"], 2000))
    args = dict(rows=1000, seed=3, target="label", shift={"x": 1.0}, mix={"kind": ("c", 0.5)},
                missing={"y": 0.2}, flip=0.0)
    first, second = simulate(reference, **args), simulate(reference, **args)
    pd.testing.assert_frame_equal(first, second)
    assert first["x"].mean() == pytest.approx(reference["x"].mean() + reference["x"].std(), abs=0.15)
    assert (first["kind"] == "c").mean() == pytest.approx(0.6, abs=0.05)  # half set to c, plus c's own 20%
    assert first["y"].isna().mean() == pytest.approx(0.2, abs=0.04)
    flipped = simulate(reference, **{**args, "shift": {}, "mix": {}, "missing": {}, "flip": 1.0})
    unflipped = simulate(reference, **{**args, "shift": {}, "mix": {}, "missing": {}})
    assert (flipped["label"] != unflipped["label"]).all()
    with pytest.raises(UserError, match="column 'nope': expected a column of the training data"):
        simulate(reference, **{**args, "shift": {"nope": 1.0}})


def test_a_simulated_shift_keeps_whole_numbers_whole():
    reference = pd.DataFrame({"cylinders": [4, 6, 8, 4, 6] * 20, "label": ["a", "b"] * 50})
    batch = simulate(reference, rows=200, seed=1, target="label", shift={"cylinders": 1.0}, mix={}, missing={}, flip=0)
    assert batch["cylinders"].dtype == reference["cylinders"].dtype
    assert batch["cylinders"].mean() > reference["cylinders"].mean() + 1
