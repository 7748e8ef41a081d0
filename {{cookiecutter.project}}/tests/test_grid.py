"""The experiment grid (grid.py): every combination, each checked as params.yaml before anything runs,
shared out among runners; a bad grid is one error naming the key."""

from pathlib import Path

import pytest
import yaml

from {{ cookiecutter.package }}.config import load_params
from {{ cookiecutter.package }}.errors import UserError
from {{ cookiecutter.package }}.grid import points, runners, share

PROJECT_PARAMS = Path(__file__).resolve().parents[1] / "params.yaml"


def params_with(tmp_path: Path, grid: dict, **experiments):
    data = yaml.safe_load(PROJECT_PARAMS.read_text())
    data["experiments"].update(grid=grid, **experiments)
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(data))
    return load_params(path), path


def test_the_grid_is_every_combination_in_the_order_written(tmp_path):
    params, path = params_with(tmp_path, {"seed": [1, 2, 3], "train.preprocessing.numeric_imputer": ["mean", "median"]})
    grid = points(params, path)
    assert [point.options() for point in grid[:3]] == [
        ["-S", "seed=1", "-S", "train.preprocessing.numeric_imputer=mean"],
        ["-S", "seed=1", "-S", "train.preprocessing.numeric_imputer=median"],
        ["-S", "seed=2", "-S", "train.preprocessing.numeric_imputer=mean"]]
    assert len(grid) == 6


def test_values_reach_dvc_as_the_yaml_they_were():
    from {{ cookiecutter.package }}.grid import as_yaml

    assert [as_yaml(value) for value in (0.1, "mean", "1.5", "null", True, None)] == \
        ["0.1", "mean", '"1.5"', '"null"', "true", "null"]


@pytest.mark.parametrize(("of", "expected"), [(1, [[1, 2, 3, 4, 5]]), (2, [[1, 3, 5], [2, 4]]),
                                              (3, [[1, 4], [2, 5], [3]])])
def test_runners_share_the_grid_whole_and_evenly(tmp_path, of, expected):
    params, path = params_with(tmp_path, {"seed": [1, 2, 3, 4, 5]})
    grid = points(params, path)
    assert [[point.settings["seed"] for point in share(grid, number, of)] for number in range(1, of + 1)] == expected


def test_never_more_runners_than_points(tmp_path):
    params, path = params_with(tmp_path, {"seed": [1, 2]}, runners=4)
    assert runners(params, points(params, path)) == 2


@pytest.mark.parametrize(
    ("grid", "settings", "message"),
    [
        ({}, {}, "key 'experiments.grid': expected params keys, each with the values to try"),
        ({"train.model.params.D": [1]}, {}, "key 'experiments.grid.train.model.params.D': expected a key of params.yaml"),
        ({"seed": []}, {}, "key 'experiments.grid.seed': expected a list of values to try, found []"),
        ({"train.preprocessing.numeric_imputer": ["mean,median"]}, {}, "expected values without a comma"),
        ({"seed": list(range(5)), "prepare.test_size": [0.2, 0.3]}, {"max_points": 8},
         "key 'experiments.grid': expected at most experiments.max_points (8) combinations, found 10"),
        ({"train.preprocessing.numeric_imputer": ["mean", "mode"]}, {},
         "key 'train.preprocessing.numeric_imputer': expected one of mean, median, most_frequent (in the grid's point "
         "-S train.preprocessing.numeric_imputer=mode), found 'mode'"),
        ({"prepare.test_size": [0.2, 2]}, {}, "key 'prepare.test_size': expected a number between 0 and 1"),
    ],
)
def test_a_bad_grid_is_refused_naming_the_file_and_the_key(tmp_path, grid, settings, message):
    params, path = params_with(tmp_path, grid, **settings)
    with pytest.raises(UserError) as error:
        points(params, path)
    assert str(error.value).startswith(f"{path}: ") and message in str(error.value), str(error.value)


def test_a_runner_number_outside_the_share_is_refused(tmp_path):
    params, path = params_with(tmp_path, {"seed": [1, 2]})
    with pytest.raises(UserError, match=r"SHARE=3: expected a runner number from 1 to 2 \(OF=2\)"):
        share(points(params, path), 3, 2)
