"""CI: can this job reach the data, and did the data come down?

    python -m <package>.commands.ci_data ready    # before the pull: ready=true|false for the next steps
    python -m <package>.commands.ci_data pulled   # after `dvc pull`: every data file is here, or one line

A job that cannot reach the DVC remote by design (the default remote is a folder on the machine that
made the project; a pull request from a fork or Dependabot gets no secrets) is not a failed gate: the
job says what it skipped and the one step that enables it, in the job summary, and stays green. A remote
that is set up but fails (a missing bucket, denied credentials), or data never pushed to it, fails here
with one line, before any gate could report it as bad data.
"""

import sys
from pathlib import Path
from urllib.parse import urlparse

from ..console import to_github
from ..errors import UserError, run
from ..outputs import missing_data
from ..remote import remote_config, require_usable, s3_credentials_found

SKIPPED = "the data contract, training, the quality and champion gates and the drift check"


def not_reachable(name: str, settings: dict) -> str | None:
    """Why this job cannot reach the remote by design (a sentence for the job summary), or None."""
    url = settings["url"]
    scheme = urlparse(url).scheme
    if scheme == "s3":
        if s3_credentials_found(settings):
            return None
        return (f"The DVC remote '{name}' ({url}) needs AWS credentials, and this run has none (the secrets are not "
                "set, or this is a pull request from a fork or Dependabot, which get no secrets). To run them: add "
                "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY to the repository's `pipeline` environment "
                "(docs/ci.md).")
    if scheme in ("", "file") and not (Path(".dvc") / urlparse(url).path).resolve().is_dir():
        return (f"The DVC remote '{name}' is a folder on the machine that made this project ({url}), which CI "
                "cannot reach. To run them: make the remote S3 (`make remote-s3 BUCKET=...`, then `make push`) and "
                "add its secrets to the repository's `pipeline` environment (docs/ci.md).")
    return None


def ready() -> bool:
    """Whether the next steps can run; a notice in the job summary when they cannot; fails on a broken remote."""
    name, settings = remote_config(None)
    reason = not_reachable(name, settings)
    if reason is None:
        require_usable(name, settings)
        return True
    notice = f"### Skipped: {SKIPPED}\n\n{reason} The unit tests ran.\n"
    print(f"::notice title=Pipeline skipped::{reason}")
    to_github("GITHUB_STEP_SUMMARY", notice)
    return False


def main(argv: list[str]) -> None:
    if argv == ["ready"]:
        is_ready = ready()
        to_github("GITHUB_OUTPUT", f"ready={str(is_ready).lower()}\n")
        print(f"ready={str(is_ready).lower()}")
    elif argv == ["pulled"]:
        missing = missing_data()
        if missing:
            name, settings = remote_config(None)
            raise UserError(f"{', '.join(missing)}: not in the DVC remote '{name}' ({settings['url']}); push it "
                            "from a machine that has it: `make push`")
    else:
        raise UserError(f"ci_data: expected one argument, ready or pulled; found {' '.join(argv) or 'none'}")


if __name__ == "__main__":
    run(lambda: main(sys.argv[1:]))
