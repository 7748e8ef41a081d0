import pandas as pd
import pytest

from {{ cookiecutter.package }}.errors import UserError
from {{ cookiecutter.package }}.stages.prepare import clean, split


def test_clean_drops_listed_columns_rows_without_target_and_duplicates(frame):
    raw = pd.concat([frame, frame.head(2)]).rename(columns={"size": " size "})
    raw.loc[5, "label"] = None
    cleaned, removed = clean(raw, "label", ["weight"], drop_duplicates=True)
    assert list(cleaned.columns) == ["size", "color", "label"]
    assert len(cleaned) == len(frame) - 1
    assert cleaned["label"].notna().all()
    assert removed == {"repeating an earlier row whole (prepare.drop_duplicates)": 2, "without a label": 1}


def test_records_that_differ_only_in_a_dropped_identifier_all_stay(frame):
    """A passenger list: the name tells people apart; the model must not see it, but every person counts."""
    people = pd.concat([frame.head(10)] * 3, ignore_index=True).assign(name=[f"person {i}" for i in range(30)])
    for drop_duplicates in (False, True):
        cleaned, removed = clean(people, "label", ["name"], drop_duplicates=drop_duplicates)
        assert len(cleaned) == 30 and removed == {}
    repeated = pd.concat([people, people.head(4)], ignore_index=True)
    assert len(clean(repeated, "label", ["name"])[0]) == 34  # kept unless asked
    assert clean(repeated, "label", ["name"], drop_duplicates=True)[1] == {
        "repeating an earlier row whole (prepare.drop_duplicates)": 4}


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


def test_split_refuses_a_target_with_one_class(frame):
    with pytest.raises(UserError, match="column 'label': expected at least 2 classes to learn from, found only 'big'"):
        split(frame.assign(label="big"), "label", "classification", 0.25, seed=7)


def test_split_refuses_a_class_too_rare_to_stratify(frame):
    frame.loc[0, "label"] = "unique"
    with pytest.raises(UserError, match="column 'label': expected at least 2 rows of every class"):
        split(frame, "label", "classification", 0.25, seed=7)
