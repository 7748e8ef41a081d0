"""The experiment grid of params.yaml (`experiments.grid`, grid.py), here or on CI runners.

    python -m <package>.commands.grid plan          # how many runners, as the workflow's matrix
    python -m <package>.commands.grid run [N OF]    # the points of runner N of OF (all of them: `make grid`)
    python -m <package>.commands.grid report        # every experiment of this commit against the champion

Each point is one `dvc exp run --temp`: the workspace stays as it is, and the experiment is a git ref
(`dvc exp push origin` shares it, its outputs going to the DVC remote).
"""

import json
import os
import subprocess
import sys

import yaml

from ..config import Params, load_params
from ..console import short_number, to_github
from ..errors import UserError, run
from ..grid import lookup, points, runners, share
from ..model.champion import base_commit
from ..model.metrics import METRICS
from ..outputs import dvc, git


def plan(params: Params) -> None:
    grid = points(params)
    count = runners(params, grid)
    listing = "\n".join([f"{len(grid)} experiments on {count} runner(s):", *("  " + " ".join(point.options())
                                                                             for point in grid)])
    print(listing)
    to_github("GITHUB_STEP_SUMMARY", f"### The grid\n\n```\n{listing}\n```\n")
    to_github("GITHUB_OUTPUT", f"matrix={json.dumps({'share': list(range(1, count + 1))})}\nrunners={count}\n")


def experiment_name(index: int) -> list[str]:
    """On a CI runner, a name that says which run and point made it (runners name theirs apart, so two never
    push the same name); elsewhere DVC names it."""
    run_id = os.environ.get("GITHUB_RUN_ID")
    return ["--name", f"grid-{run_id}-{os.environ.get('GITHUB_RUN_ATTEMPT', '1')}-{index}"] if run_id else []


def saved() -> set[str]:
    """The names of this commit's experiments."""
    listed = dvc("exp", "list", "--names-only")
    if listed.returncode != 0:
        raise UserError(f"dvc exp list failed: {' '.join(listed.stderr.split())[:300]}")
    return set(listed.stdout.split())


def run_share(params: Params, number: int, of: int) -> None:
    grid = points(params)
    mine = share(grid, number, of)
    for position, point in enumerate(mine, 1):
        index, before = grid.index(point) + 1, saved()
        options = " ".join(point.options())
        print(f"experiment {position} of {len(mine)} (point {index} of the grid): {options}", flush=True)
        ran = subprocess.run([sys.executable, "-m", "dvc", "exp", "run", "--temp", *experiment_name(index),
                              *point.options()])
        if ran.returncode != 0:
            raise UserError(f"dvc exp run failed for the grid's point {options} (above)")
        # DVC can finish a run and not keep it: a commit it could not make, or not fetch back from the
        # experiment's temporary copy (an error it logs at debug level only). Say so here, not at the end.
        if not saved() - before:
            raise UserError(f"dvc exp run kept no experiment for the grid's point {options}; run it again "
                            "with `dvc exp run -v` to see why (git needs user.name and user.email set)")


def experiments(params: Params) -> dict[str, dict]:
    """This commit's experiments: name -> {"params": params.yaml, "metrics": the test metrics}."""
    shown = dvc("exp", "show", "--json", "--no-pager")
    if shown.returncode != 0:
        raise UserError(f"dvc exp show failed: {' '.join(shown.stderr.split())[:300]}")
    found = {}
    for row in json.loads(shown.stdout):
        for experiment in row.get("experiments") or []:
            for rev in experiment["revs"]:
                data = rev.get("data") or {}
                metrics = data.get("metrics", {}).get(params.paths.metrics, {}).get("data")
                if rev.get("name") and metrics:
                    found[rev["name"]] = {"params": data["params"]["params.yaml"]["data"], "metrics": metrics}
    return found


def champion(params: Params) -> tuple[str, dict | None, dict | None]:
    """The champion (the model gates.champion.base holds): its label, params and test metrics as committed."""
    base = params.gates.champion.base
    commit = base_commit(base)
    label = f"champion {base}@{commit[:7]}"
    shown = [git("show", f"{commit}:{path}") for path in ("params.yaml", params.paths.metrics)]
    if any(result.returncode for result in shown):
        return label, None, None
    return label, yaml.safe_load(shown[0].stdout), json.loads(shown[1].stdout)


def report(params: Params) -> None:
    """The comparison as Markdown: changed params and judged metrics, best first, the champion beside them."""
    keys = list(params.experiments.grid)
    metric = params.gates.champion.metric
    judged = [metric, *sorted({*params.gates.minimum, *params.gates.maximum} - {metric})]
    found = experiments(params)
    if not found:
        raise UserError("no experiment of this commit to compare (`dvc exp pull origin` fetches those pushed)")
    better = METRICS[metric].higher_is_better

    def quality(name):
        value = found[name]["metrics"].get(metric)
        return (value is not None, (value if better else -value) if value is not None else 0)

    ranked = sorted(sorted(found), key=quality, reverse=True)
    label, champion_params, champion_metrics = champion(params)
    rows = [[f"`{name}`", *(lookup(found[name]["params"], key, None) for key in keys),
             *(short_number(found[name]["metrics"].get(m)) for m in judged)] for name in ranked]
    rows.append([f"**{label}**", *(lookup(champion_params, key, None) for key in keys),
                 *(short_number((champion_metrics or {}).get(m)) for m in judged)])
    header = ["experiment", *keys, *judged]
    lines = ["## Experiments", "",
             f"{len(found)} experiment(s) of this commit, best {metric} first; the champion's metrics are "
             "those its own commit recorded.", "",
             "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join("-" if cell is None else str(cell) for cell in row) + " |" for row in rows]
    best = ranked[0]
    lines += ["", f"To keep the best: `dvc exp apply {best}` (first `dvc exp pull origin {best}` where it ran on "
              f"a CI runner; or `dvc exp branch {best} <branch>`), then commit: the gates judge it like any change."]
    print("\n".join(lines))


def main(argv: list[str]) -> None:
    params = load_params()
    command, *numbers = argv or [""]
    if command == "plan" and not numbers:
        plan(params)
    elif command == "run" and len(numbers) in (0, 2) and all(n.isdigit() for n in numbers):
        run_share(params, *(map(int, numbers) if numbers else (1, 1)))
    elif command == "report" and not numbers:
        report(params)
    else:
        raise UserError(f"usage: grid plan | grid run [N OF] | grid report; found: grid {' '.join(argv)}")


if __name__ == "__main__":
    run(lambda: main(sys.argv[1:]))
