"""The model file train writes and evaluate and drift-check read."""

from pathlib import Path

import joblib


def save_model(model, path: str | Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, path)


def load_model(path: str | Path):
    """The fitted pipeline. Only ever the train stage's own output, never a file from elsewhere."""
    return joblib.load(path)
