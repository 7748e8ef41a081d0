"""The pieces of `make simulate` that need no server: how its traffic moves, and the dashboard's record
of states (the whole loop runs in the template's own tests)."""

import pandas as pd

from {{ cookiecutter.package }}.simulation.loop import POPULATION_TILT, SHIFT_SDS, Board, drifted_rows


def test_a_population_drift_is_real_rows_whose_feature_moves_about_the_tilt(frame):
    moved = drifted_rows("population", frame, "size", 2000, 0, "label")
    assert len(moved) == 2000
    originals = set(map(tuple, frame.astype(str).to_numpy()))
    assert set(map(tuple, moved.astype(str).to_numpy())) <= originals  # rows as they were, labels included
    change = (moved["size"].mean() - frame["size"].mean()) / frame["size"].std()
    assert 0.6 * POPULATION_TILT < change < 1.4 * POPULATION_TILT


def test_a_shift_moves_the_values_and_keeps_the_labels(frame):
    moved = drifted_rows("shift", frame, "size", 2000, 0, "label")
    change = (moved["size"].mean() - frame["size"].mean()) / frame["size"].std()
    assert abs(change - SHIFT_SDS) < 0.15
    assert set(moved["label"]) <= set(frame["label"])


def test_the_board_records_each_state_in_order_and_says_each_change(capsys):
    board = Board()
    board.enter("Healthy", "serving v1")
    board.enter("Degraded", "size drifted")
    board.say("a window")
    lines = capsys.readouterr().out.splitlines()
    assert board.states == ["Healthy", "Degraded"]
    assert lines[0].endswith("state start -> Healthy: serving v1")
    assert "Degraded" in lines[2] and lines[2].endswith("a window")
    assert pd.to_datetime(lines[0][:8], format="%H:%M:%S") is not None
