import pandas as pd
import pytest

from {{ cookiecutter.package }}.errors import UserError
from {{ cookiecutter.package }}.stages.prepare import clean, split


def test_clean_drops_listed_columns_rows_without_target_and_duplicates(frame):
    raw = pd.concat([frame, frame.head(2)]).rename(columns={"size": " size "})
    raw.loc[5, "label"] = None
    cleaned = clean(raw, "label", ["weight"])
    assert list(cleaned.columns) == ["size", "color", "label"]
    assert len(cleaned) == len(frame) - 1
    assert cleaned["label"].notna().all()


def test_clean_names_a_missing_target_or_dropped_column(frame):
    with pytest.raises(UserError, match="key 'target'.*found 'price'"):
        clean(frame, "price", [])
    with pytest.raises(UserError, match="key 'prepare.drop_columns'.*'height'"):
        clean(frame, "label", ["height"])


def test_split_is_stratified_and_repeatable(frame):
    train, test = split(frame, "label", "classification", 0.25, seed=7)
    again, _ = split(frame, "label", "classification", 0.25, seed=7)
    assert len(test) == 15 and len(train) == 45
    assert train.index.equals(again.index)
    shares = frame["label"].value_counts(normalize=True)
    assert (test["label"].value_counts(normalize=True) - shares).abs().max() < 0.1


def test_split_refuses_a_class_too_rare_to_stratify(frame):
    frame.loc[0, "label"] = "unique"
    with pytest.raises(UserError, match="column 'label': expected at least 2 rows of every class"):
        split(frame, "label", "classification", 0.25, seed=7)
