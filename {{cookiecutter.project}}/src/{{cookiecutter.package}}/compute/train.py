"""train on the dask engine: scikit-learn fits a sample of at most compute.sample_rows rows of the train
split (the same rows for the same seed and data), and a hyperparameter search spreads its fits over the
cluster's workers through joblib's Dask backend."""

from contextlib import contextmanager


@contextmanager
def fits_on_cluster():
    """scikit-learn's joblib work (a search's fits) sent to the connected Dask client's workers."""
    import distributed  # noqa: F401  (registers joblib's "dask" backend)
    import joblib

    with joblib.parallel_backend("dask"):
        yield
