"""After `dvc repro` stops (`make repro` runs this): the outputs back as the last good run left them,
and the ones that are not, each with why."""

import sys

from ..errors import run
from ..outputs import restore

WHY = {"modified": "written by the run that stopped", "deleted": "not in DVC's cache: `dvc pull` brings it back"}


def main() -> None:
    restored, left, missing = restore()
    lines = ["The pipeline stopped."]
    if missing:
        lines.append("Missing data: " + "; ".join(f"{path} (`dvc checkout {path}.dvc` or `dvc pull` brings it back)"
                                                   for path in missing) + ".")
    if restored:
        lines.append(f"Back as dvc.lock records them (the last good run): {', '.join(restored)}.")
    if left:
        lines.append("Not the last good outputs: " + "; ".join(
            f"{path} ({WHY.get(how.split()[0], how)})" for path, how in left.items()) + ".")
    if not restored and not left and not missing:
        lines.append("Every output is still the one dvc.lock records (the last good run).")
    print(" ".join(lines), file=sys.stderr)


if __name__ == "__main__":
    run(main)
