"""The model: the scikit-learn pipeline, its file, the metrics table, slices, latency, plots and the gates."""
