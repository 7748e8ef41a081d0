"""drift-check: has the data the model now sees (the current batch) moved away from what it learned from?

Per feature, every statistic of the table (monitoring/statistics.py); `drift.statistic` decides the
verdict. The same comparison is made for the model's predictions, and, when the batch carries labels,
its metrics are compared with the test metrics. Writes the summary (DVC metrics), a per-feature table
(plotted with its bands) and a Markdown report. It records and does not fail, unless
`drift.fail_stage` says so: `make drift-gate` is what fails CI on drift.
"""

from pathlib import Path

from ..compute.memory import read_whole
from ..config import load_params
from ..data.tables import write_table
from ..errors import UserError, run
from ..model.artifact import load_model
from ..monitoring.judge import judge_batch
from ..monitoring.report import markdown_report


def main() -> None:
    params = load_params()
    if params.compute.engine == "dask":
        from ..compute.cluster import dask_client
        from ..compute.drift_check import judge_parts

        model = load_model(params.paths.model)
        with dask_client(params.compute):
            table, summary, current_rows, reference_rows = judge_parts(params, model)
    else:
        reference, current = read_whole(params.paths.train, params.compute), read_whole(params.paths.current,
                                                                                         params.compute)
        table, summary = judge_batch(params, reference, current)
        current_rows, reference_rows = len(current), len(reference)
    write_table(table, params.paths.drift_table)
    summary.save(params.paths.drift_metrics)
    Path(params.paths.drift_report).write_text(markdown_report(table, summary, current_rows, reference_rows),
                                               encoding="utf-8")
    shown = table[["feature", "verdict", "moved", "psi", "pvalue"]]
    print(shown.to_string(index=False, na_rep="-", float_format=lambda v: f"{v:.4g}"))
    print(f"drift-check: {current_rows} current rows against {reference_rows} training rows: {summary.verdict} "
          f"({summary.drifted_features} of {summary.features} features drifted, max PSI "
          f"{summary.max_psi} on {summary.max_psi_feature}; predictions {summary.prediction_verdict}); "
          f"recommendation: {summary.recommendation}{''.join(f'; {reason}' for reason in summary.reasons)}; "
          f"wrote {params.paths.drift_report}")
    if params.drift.fail_stage and summary.verdict == "drift":
        raise UserError(f"drift-check: the current batch has drifted and drift.fail_stage is true; "
                        f"see {params.paths.drift_report}")


if __name__ == "__main__":
    run(main)
