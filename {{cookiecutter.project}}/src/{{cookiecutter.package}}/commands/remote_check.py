"""remote: before a push or pull, check that the DVC remote can be reached, and say in one line why not.

    python -m <package>.commands.remote_check [REMOTE]   # the default remote when none is named
"""

import sys

from ..errors import run
from ..remote import remote_config, require_usable


def main(argv: list[str]) -> None:
    require_usable(*remote_config(argv[0] if argv else None))


if __name__ == "__main__":
    run(lambda: main(sys.argv[1:]))
