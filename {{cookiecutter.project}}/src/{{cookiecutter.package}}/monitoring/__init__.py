"""Monitoring: the drift statistics, the drift verdict and its report, and simulated batches."""
