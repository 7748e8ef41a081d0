"""validate: check the train and test splits and the current batch against the data contract."""

from ..compute.memory import read_whole
from ..config import Params, load_params
from ..data.checks import Failure, check_frame, failures_table
from ..data.contract import Contract, load_contract
from ..data.tables import dataset_md5
from ..errors import ConfigError, UserError, run
from ..records import write_json


def whole_frame(frame, contract: Contract, file: str, optional: tuple[str, ...]) -> tuple[list[Failure], int]:
    """The pandas engine's check: the frame at once."""
    return check_frame(frame, contract, file, optional), len(frame)


def validate(frames: dict, contract: Contract, params: Params, check=whole_frame) -> tuple[list[Failure], dict]:
    """Every broken rule in the named frames (train, test, current), each checked as its file, and
    their rows; `check` is the engine's (compute/validate.py: by partition)."""
    failures, rows = [], {}
    for name, (path, frame) in frames.items():
        # The contract may describe the raw data whole; prepare's dropped columns never reach the
        # model, so they are not checked anywhere (the current batch arrives raw and still has them).
        frame = frame.drop(columns=params.prepare.drop_columns, errors="ignore")
        optional = tuple(params.prepare.drop_columns)
        if name == "current":
            optional += (params.target,)  # labels may not be known yet in production
        found, rows[name] = check(frame, contract, path, optional)
        failures += found
    return failures, rows


def main() -> None:
    params = load_params()
    if params.compute.engine == "dask":
        from ..compute.cluster import dask_client, read_parts
        from ..compute.validate import check_parts

        with dask_client(params.compute):
            return judge(params, read_parts, check_parts)
    return judge(params, lambda path: read_whole(path, params.compute), whole_frame)


def judge(params: Params, read, check) -> None:
    """Read the three datasets with the engine's `read`, check them with its `check`, report."""
    report_path = params.paths.validation_report
    try:
        contract = load_contract(params.paths.contract)
        if contract.target not in (None, params.target):
            raise ConfigError("target", f"{contract.target!r}, the target that {params.paths.contract} names",
                              params.target)
        paths = {"train": params.paths.train, "test": params.paths.test, "current": params.paths.current}
        frames = {name: (path, read(path)) for name, path in paths.items()}
    except UserError as error:
        # The report says what broke whatever broke: a file, the contract itself, or a setting.
        write_json({"passed": False, "error": str(error)}, report_path)
        raise
    failures, rows = validate(frames, contract, params, check)
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
    write_json({name: dataset_md5(paths[name])[0] for name in ("train", "test")}, params.paths.validated)
    print(f"validate: {checked} meet {params.paths.contract} ({len(failures)} warning(s)); wrote {report_path}")


if __name__ == "__main__":
    run(main)
