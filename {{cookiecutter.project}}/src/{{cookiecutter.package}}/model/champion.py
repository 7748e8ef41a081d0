"""The champion: the model the base branch serves, which a challenger must not be worse than.

Git records which model each branch holds (its dvc.lock names the model file's MD5) and DVC keeps the
file (the local cache, else the remote). So the champion gate needs no server: the base branch's model
is fetched by DVC, checked against the MD5 that branch's dvc.lock records, and scored again on the
challenger's test split. A rollback is a revert on the base branch. A tracking server, when there is
one, mirrors what the base branch holds as its registry's `champion` alias (`make promote`).
"""

import tempfile
from pathlib import Path

from ..compute.memory import read_whole
from ..config import Params
from ..data.features import feature_columns
from ..errors import ConfigError, UserError
from ..outputs import LOCK_FILE, dvc, git, recorded_md5, require_current
from ..records import read_json
from .artifact import load_recorded_bytes
from .gates import ChampionScore, GateReport, champion_gate
from .metrics import score


def base_commit(base: str) -> str:
    """The commit the branch `base` points at: on the remote `origin` (what the team's branch holds, and
    all a CI checkout has), else the local branch (a repository without a remote)."""
    for name in (f"origin/{base}", base):
        found = git("rev-parse", "--verify", "--quiet", name + "^{commit}")
        if found.returncode == 0:
            return found.stdout.strip()
    raise ConfigError("gates.champion.base", "a branch of this git repository (or of its remote origin)", base)


def base_model_md5(commit: str, model_path: str) -> str | None:
    """The model file's MD5 that the commit's dvc.lock records, or None when it records no model yet."""
    lock = git("show", f"{commit}:{LOCK_FILE}")
    return recorded_md5(model_path, lock.stdout) if lock.returncode == 0 else None


def fetch_model(commit: str, model_path: str, md5: str, origin: str):
    """The model file at `commit`, from the DVC cache or remote, loaded only when it is the one git recorded."""
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / "model"
        fetched = dvc("get", ".", model_path, "--rev", commit, "--out", str(copy), "--quiet")
        if fetched.returncode != 0 or not copy.is_file():
            reason = " ".join(fetched.stderr.split())[:300] or "no file"
            raise UserError(f"{origin}: {model_path} (MD5 {md5}) cannot be fetched by DVC ({reason}); "
                            "`dvc push` it from a clone that has it")
        data = copy.read_bytes()
    return load_recorded_bytes(data, md5, origin)


def scores_on_test(params: Params, model) -> dict[str, float]:
    """Every metric of the task for `model` on the test split: read whole on the pandas engine, partition
    by partition on the dask one (as evaluate scores it)."""
    if params.compute.engine == "dask":
        from ..compute.cluster import dask_client
        from ..compute.evaluate import scores_by_partition

        with dask_client(params.compute):
            return scores_by_partition(model, params.paths.test, params.target, params.task)[0]
    test = read_whole(params.paths.test, params.compute)
    return score(model, test[feature_columns(test, params.target)], test[params.target], params.task)


def rescore(params: Params) -> ChampionScore | None:
    """The base branch's model scored on this test split, or None while that branch records no model.

    A champion that cannot score this split (trained on other columns or labels) gets no score, and says why.
    """
    base, model_path = params.gates.champion.base, params.paths.model
    commit = base_commit(base)
    md5 = base_model_md5(commit, model_path)
    if md5 is None:
        return None
    metric, source = params.gates.champion.metric, f"{base}@{commit[:7]}"
    if md5 == recorded_md5(model_path):
        value, error = read_json(params.paths.metrics).get(metric), None  # the challenger is the champion
    else:
        try:
            model = fetch_model(commit, model_path, md5, f"champion {source}")
            value, error = scores_on_test(params, model).get(metric), None
        except (KeyError, ValueError, TypeError) as problem:
            value, error = None, str(problem).splitlines()[0]
    return ChampionScore(source=source, metric=metric, score=value, error=error)


def judged_gates(params: Params) -> GateReport:
    """evaluate's gate report, when it is that of the current inputs, with the champion gate added."""
    # Not a report edited by hand, nor one of a failed or pending run: dvc.lock must record it as it is.
    require_current("evaluate", params.paths.gates)
    report = GateReport.load(params.paths.gates)
    champion = champion_gate(params.gates, read_json(params.paths.metrics), rescore(params))
    gates = [*report.gates, champion]
    return report.model_copy(update={"gates": gates, "passed": all(gate.passed for gate in gates)})
