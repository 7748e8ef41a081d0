"""Prediction time: single-row latency, as a service answering one request sees it, and batch throughput."""

import time

import numpy as np
import pandas as pd

# Batch throughput is measured on the test rows repeated up to at least this many.
BATCH_ROWS = 10_000


def measure_latency(model, features: pd.DataFrame, rows: int) -> dict[str, float]:
    """p50 and p95 of `rows` one-row predictions in milliseconds, and rows per second in one batch call."""
    single = []
    for i in range(rows):
        row = features.iloc[[i % len(features)]]
        started = time.perf_counter()
        model.predict(row)
        single.append((time.perf_counter() - started) * 1000)
    batch = pd.concat([features] * max(1, -(-BATCH_ROWS // len(features))), ignore_index=True)
    started = time.perf_counter()
    model.predict(batch)
    seconds = time.perf_counter() - started
    return {"p50_ms": round(float(np.percentile(single, 50)), 3), "p95_ms": round(float(np.percentile(single, 95)), 3),
            "batch_rows": len(batch), "rows_per_second": round(len(batch) / seconds, 1)}
