"""The drift report a person reads (and CI shows in its job summary): the verdict, then each feature,
drifted ones first, with how it moved and every statistic of the table."""

import numpy as np
import pandas as pd

from .statistics import STATISTICS
from .verdict import DriftSummary


def markdown_report(table: pd.DataFrame, summary: DriftSummary, current_rows: int, reference_rows: int) -> str:
    lines = [f"# Drift: {summary.verdict} (recommendation: {summary.recommendation})", "",
             *[f"- {reason}" for reason in summary.reasons], *([""] if summary.reasons else []),
             f"{current_rows} current rows against {reference_rows} training rows; decided by "
             f"{summary.statistic}. {summary.drifted_features} of {summary.features} features drifted, "
             f"{summary.warned_features} warn, {summary.insufficient_features} with too little data.", ""]
    if summary.prediction_verdict is not None:
        lines += [f"Predictions: {summary.prediction_verdict} (PSI {summary.prediction_psi}).", ""]
    if summary.performance:
        p = summary.performance
        lines += [f"Labelled current rows ({p.rows}): {p.change} "
                  f"({'concept drift' if p.concept_drift else 'within the allowed decay'}).", ""]
    titles = [statistic.title for statistic in STATISTICS.values()]
    lines += ["| feature | verdict | how it moved | " + " | ".join(titles) + " |",
              "|---|---|---|" + "---|" * len(titles)]
    for row in table.to_dict("records"):
        cells = [_cell(row[name]) for name in STATISTICS]
        lines.append(f"| {row['feature']} | {row['verdict']} | {row['moved']} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _cell(value) -> str:
    return "-" if value is None or (isinstance(value, float) and np.isnan(value)) else f"{value:.3g}"
