"""The hooks' own functions, on the hook files as cookiecutter renders them."""

import re
import types

import pytest
from cookiecutter.environment import StrictEnvironment

from conftest import DEFAULTS, TEMPLATE


def rendered_hook(name: str) -> types.ModuleType:
    """The hook as cookiecutter renders it for the default answers, imported as a module."""
    context = {"cookiecutter": {key: value[0] if isinstance(value, list) else value for key, value in DEFAULTS.items()}}
    source = StrictEnvironment(context=context).from_string((TEMPLATE / "hooks" / name).read_text()).render(**context)
    module = types.ModuleType(name.removesuffix(".py"))
    exec(compile(source, name, "exec"), module.__dict__)  # __name__ is not "__main__": main() does not run
    return module


@pytest.fixture(scope="module")
def post_gen():
    return rendered_hook("post_gen_project.py")


PROJECT_FILE = """\
# A settings file.
seed: 42            # the seed
task:               # classification or regression
paths:
  raw:              # the training data
  model: models/model.joblib
train:
  model:            # any estimator
  search:
    kind: none
    grid:           # values to try
stages:
  evaluate:
    outs:
      - gates.json
    plots:          # filled by the sample
"""

SAMPLE_FILE = """\
# The sample's values.
task: classification
paths:
  raw: data/raw/penguins.csv
train:
  model:
    estimator: sklearn.linear_model.LogisticRegression
    params:
      C: 1.0
  search:
    grid:
      C: [0.1, 1.0]
stages:
  evaluate:
    plots:
      - roc.csv:
          x: fpr
"""


def test_a_sample_fills_every_empty_key_and_every_comment_stays(post_gen):
    filled = post_gen.filled(PROJECT_FILE, SAMPLE_FILE)
    assert filled == """\
# A settings file.
seed: 42            # the seed
task: classification  # classification or regression
paths:
  raw: data/raw/penguins.csv  # the training data
  model: models/model.joblib
train:
  model:            # any estimator
    estimator: sklearn.linear_model.LogisticRegression
    params:
      C: 1.0
  search:
    kind: none
    grid:           # values to try
      C: [0.1, 1.0]
stages:
  evaluate:
    outs:
      - gates.json
    plots:          # filled by the sample
      - roc.csv:
          x: fpr
"""


@pytest.mark.parametrize(
    ("sample", "message"),
    [
        (SAMPLE_FILE + "target: species\n", "the sample sets 'target', which the project's file does not have"),
        (SAMPLE_FILE + "seed: 1\n", "the sample sets 'seed', which the project's file already sets"),
        (SAMPLE_FILE.replace("paths:\n  raw: data/raw/penguins.csv\n", ""), "the sample leaves paths.raw empty"),
    ],
)
def test_a_sample_that_does_not_fit_the_project_file_is_named(post_gen, sample, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        post_gen.filled(PROJECT_FILE, sample)


def test_each_sample_fills_the_project_files_exactly(post_gen):
    project = TEMPLATE / "{{cookiecutter.project}}"
    for sample in (project / "samples").iterdir():
        for name in post_gen.FILLED:
            filled = post_gen.filled((project / name).read_text(), (sample / name).read_text())
            assert not post_gen.empty_keys(post_gen.parse(filled)), f"{sample.name}/{name}"
