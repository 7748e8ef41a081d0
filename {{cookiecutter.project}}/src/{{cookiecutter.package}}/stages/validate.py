"""validate: check the train and test splits and the current batch against the data contract."""

from ..config import Params, load_params
from ..data.checks import Failure, check_frame, failures_table
from ..data.contract import Contract, load_contract
from ..data.tables import file_md5, read_table
from ..errors import ConfigError, UserError, run
from ..records import write_json


def validate(frames: dict, contract: Contract, params: Params) -> list[Failure]:
    """Every broken rule in the named frames (train, test, current), each checked as its file."""
    failures = []
    for name, (path, frame) in frames.items():
        # The contract may describe the raw data whole; prepare's dropped columns never reach the
        # model, so they are not checked anywhere (the current batch arrives raw and still has them).
        frame = frame.drop(columns=params.prepare.drop_columns, errors="ignore")
        optional = tuple(params.prepare.drop_columns)
        if name == "current":
            optional += (params.target,)  # labels may not be known yet in production
        failures += check_frame(frame, contract, path, optional)
    return failures


def main() -> None:
    params = load_params()
    report_path = params.paths.validation_report
    try:
        contract = load_contract(params.paths.contract)
        if contract.target not in (None, params.target):
            raise ConfigError("target", f"{contract.target!r}, the target that {params.paths.contract} names",
                              params.target)
        paths = {"train": params.paths.train, "test": params.paths.test, "current": params.paths.current}
        frames = {name: (path, read_table(path)) for name, path in paths.items()}
    except UserError as error:
        # The report says what broke whatever broke: a file, the contract itself, or a setting.
        write_json({"passed": False, "error": str(error)}, report_path)
        raise
    failures = validate(frames, contract, params)
    rows = {name: len(frame) for name, (_, frame) in frames.items()}
    errors = [f for f in failures if f.severity == "error"]
    write_json({"passed": not errors, "rows": rows, "errors": len(errors), "warnings": len(failures) - len(errors),
                "failures": [f.to_dict() for f in failures]}, report_path)
    checked = ", ".join(f"{name} {count} rows" for name, count in rows.items())
    if failures:
        print(failures_table(failures))
    if errors:
        raise UserError(f"{params.paths.contract}: {len(errors)} rule(s) broken ({checked}); "
                        f"see the table above and {report_path}")
    # What train depends on: the training data that passed, by MD5. A new current batch changes the
    # report but not this, so it does not retrain the model.
    write_json({name: file_md5(paths[name]) for name in ("train", "test")}, params.paths.validated)
    print(f"validate: {checked} meet {params.paths.contract} ({len(failures)} warning(s)); wrote {report_path}")


if __name__ == "__main__":
    run(main)
