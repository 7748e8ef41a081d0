"""validate: check the train and test splits and the current batch against the data contract."""

from .checks import Failure, check_frame
from .contract import load_contract
from .errors import UserError, run
from .params import load_params
from .tables import file_md5, read_table, text_table, write_json


def format_table(failures: list[Failure]) -> str:
    """A compact table of broken rules that reads well in a terminal and in a CI log."""
    header = ("severity", "file", "column", "rule", "expected", "found", "examples")
    rows = [header] + [(f.severity, f.file, f.column, f.rule, f.expected, f.found,
                        ", ".join(map(repr, f.examples))[:40]) for f in failures]
    return text_table(rows)


def main() -> None:
    params = load_params()
    contract = load_contract(params.paths.contract)
    if contract.target not in (None, params.target):
        raise UserError(f"params.yaml: key 'target': expected {contract.target!r}, the target that "
                        f"{params.paths.contract} names, found {params.target!r}")
    files = {"train": params.paths.train, "test": params.paths.test, "current": params.paths.current}
    failures, rows = [], {}
    for name, path in files.items():
        # The contract may describe the raw data whole; prepare's dropped columns never reach the
        # model, so they are not checked anywhere (the current batch arrives raw and still has them).
        frame = read_table(path).drop(columns=params.prepare.drop_columns, errors="ignore")
        rows[name] = len(frame)
        optional = tuple(params.prepare.drop_columns)
        if name == "current":
            optional += (params.target,)  # labels may not be known yet in production
        failures += check_frame(frame, contract, path, optional)
    errors = [f for f in failures if f.severity == "error"]
    report = {"passed": not errors, "rows": rows, "errors": len(errors),
              "warnings": len(failures) - len(errors), "failures": [f.to_dict() for f in failures]}
    report_path = params.paths.validation_report
    write_json(report, report_path)
    checked = ", ".join(f"{name} {count} rows" for name, count in rows.items())
    if failures:
        print(format_table(failures))
    if errors:
        raise UserError(f"{params.paths.contract}: {len(errors)} rule(s) broken ({checked}); "
                        f"see the table above and {report_path}")
    # What train depends on: the training data that passed, by MD5. A new current batch changes the
    # report but not this, so it does not retrain the model.
    write_json({name: file_md5(files[name]) for name in ("train", "test")}, params.paths.validated)
    print(f"validate: {checked} meet {params.paths.contract} ({len(failures)} warning(s)); wrote {report_path}")


if __name__ == "__main__":
    run(main)
