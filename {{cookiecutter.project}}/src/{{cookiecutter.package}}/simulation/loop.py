"""The loop's story, told as a console dashboard: one line per traffic window (requests, their rate,
the monitor's verdict) and one per change of state.

    Healthy -> Degraded -> Retraining -> Validating -> Shadowing -> Deploying -> Healthy

The API serves the champion in the sandbox's live checkout. Healthy traffic (rows of the train split)
comes with its labels; then drifted traffic, moved on the feature the model leans on most (drifted_rows).
Each window is collected from the request log as a batch and judged as drift-check judges one
(monitoring/judge.py, judge_batch). On a verdict to retrain, the labelled traffic joins train in the candidate
checkout (`make intake-labels`, `dvc repro`) and `make gates` judges it against the champion; a pass is
served as the challenger in the shadow for a window of traffic (params.yaml's rollout.challenger: the
branch), and the rollout report judges it on that traffic; then it is merged into the base branch,
checked out and promoted, while traffic goes on, and the API switches to it. A refusal by either gate
goes back to Degraded, and the champion stays.
"""

import json
import threading
import time
import urllib.request
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd
import yaml

from ..config import Params, load_params
from ..data.features import feature_columns, is_numeric
from ..data.tables import read_table
from ..errors import PARAMS_FILE, UserError
from ..monitoring.judge import judge_batch
from ..monitoring.rollout import rollout_report
from ..monitoring.simulate import simulate
from ..monitoring.verdict import DriftSummary, importance_shares
from ..serving.request_log import collect
from .sandbox import Sandbox
from .traffic import Sent, send

WINDOW_ROWS = 240  # requests per traffic window (the drifted one before retraining: twice as many)
DRIFTS = ("population", "shift")  # the ways traffic moves (drifted_rows)
POPULATION_TILT = 0.5  # "population": how far the drifted feature's mean moves, in standard deviations
SHIFT_SDS = 1.0  # "shift": how far the drifted feature's values move, in standard deviations


class Board:
    """The dashboard: every line timestamped, with the time since the start and the state."""

    def __init__(self):
        self.started, self.state, self.states = time.monotonic(), "", []

    def say(self, text: str) -> None:
        print(f"{datetime.now():%H:%M:%S} {time.monotonic() - self.started:6.1f}s  {self.state:<10}  {text}",
              flush=True)

    def enter(self, state: str, why: str) -> None:
        was, self.state = self.state, state
        self.states.append(state)
        self.say(f"state {was or 'start'} -> {state}: {why}")


@dataclass
class Api:
    port: int

    def version(self) -> str | None:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=10) as answer:
            return json.loads(answer.read()).get("model_version")

    def challenger(self) -> str | None:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/version", timeout=10) as answer:
            return (json.loads(answer.read()).get("challenger") or {}).get("model_version")


def drifted_feature(params: Params, frame: pd.DataFrame) -> str:
    """The numeric feature the model leans on most (evaluate's importance), the one to move."""
    numeric = [name for name in feature_columns(frame, params.target) if is_numeric(frame[name])]
    if not numeric:
        raise UserError(f"{params.paths.train}: make simulate moves a numeric feature, and there is none")
    table = params.paths.plots.get("importance")
    shares = importance_shares(read_table(table) if table else None)
    return max(numeric, key=lambda name: shares.get(name, 0.0))


def window(board: Board, api: Api, params: Params, rows: pd.DataFrame, label: str) -> DriftSummary:
    """Send a window of traffic, collect it from the log, and judge it as drift-check would."""
    sent = send(api.port, rows, params.target)
    time.sleep(params.serve.log_seconds + 0.5)  # the log writes its parts
    collected = collect(params)
    if collected is None:
        raise UserError("simulate: the API logged none of the traffic sent")
    _, summary = judge_batch(params, read_table(params.paths.train), collected.batch)
    board.say(f"{label}: {traffic(sent)}; drift {verdict(summary)}")
    return summary


def traffic(sent: Sent) -> str:
    return (f"{sent.answered} requests in {sent.seconds:.1f} s ({sent.rate:.0f}/s), {sent.failed} failed, answered by "
            + ", ".join(sent.versions))


def verdict(summary: DriftSummary) -> str:
    text = f"{summary.verdict} ({summary.drifted_features} of {summary.features} features drifted"
    if summary.max_psi_feature:
        text += f", max PSI {summary.max_psi:.2f} on {summary.max_psi_feature}"
    if summary.performance:
        text += f"; {summary.performance.change} on {summary.performance.rows} labelled rows"
    return text + f"), recommendation {summary.recommendation}"


def drifted_rows(drift: str, data: pd.DataFrame, feature: str, rows: int, seed: int, target: str) -> pd.DataFrame:
    """Traffic that has moved. "population": real rows, more often those with a high `feature` (an
    exponential tilt by POPULATION_TILT: its mean moves that many standard deviations), so what the
    labels say of the features holds and a retrained model can learn it. "shift": the values of `feature`
    moved by SHIFT_SDS (monitoring/simulate.py), labels as they were: the old relation breaks, and the
    gates, judging on the test split, refuse a model that learns the new one."""
    if drift == "shift":
        return simulate(data, rows, seed, target, {feature: SHIFT_SDS}, {}, {}, 0.0)
    values = data[feature].astype(float)
    standard = ((values - values.mean()) / values.std()).fillna(0.0)
    return data.sample(rows, replace=True, weights=np.exp(POPULATION_TILT * standard), random_state=seed)


def story(board: Board, sandbox: Sandbox, api: Api, package: str, drift: str) -> None:
    params = load_params()
    # Rows of the train split: nothing of the test split, on which the gates judge, reaches training.
    data = read_table(params.paths.train)
    feature = drifted_feature(params, data)
    moved = {"population": f"more rows with a high {feature}", "shift": f"{feature} moved {SHIFT_SDS:g} sd"}[drift]

    def drifted(seed: int, rows: int = WINDOW_ROWS) -> pd.DataFrame:
        return drifted_rows(drift, data, feature, rows, params.seed + seed, params.target)

    champion = api.version()
    board.enter("Healthy", f"serving {champion}, the model {params.gates.champion.base}'s dvc.lock names")
    healthy = data.sample(WINDOW_ROWS, replace=True, random_state=params.seed)
    window(board, api, params, healthy, "healthy traffic")
    summary = window(board, api, params, drifted(1, 2 * WINDOW_ROWS), f"traffic with {moved}")
    if not summary.retrain:
        board.say("the monitor found no reason to retrain: the champion stays")
        return
    board.enter("Degraded", "; ".join(summary.reasons))

    board.enter("Retraining", "the labelled traffic joins the training data, on branch retrain")
    started = time.monotonic()
    sandbox.command(sandbox.candidate, package, "intake", "labelled")
    sandbox.dvc(sandbox.candidate, "repro", "--quiet")
    board.say(f"dvc repro retrained in {time.monotonic() - started:.0f} s")

    board.enter("Validating", f"make gates: the retrained model against the champion on {params.gates.champion.base}")
    gates = sandbox.command(sandbox.candidate, package, "gates", check=False)
    board.say("gates: " + " ".join((gates.stdout + gates.stderr).split())[-300:])
    if gates.returncode != 0:
        board.enter("Degraded", f"the gates refused the retrained model; {champion} stays the champion")
        return

    sandbox.git(sandbox.candidate, "add", "--all")
    sandbox.git(sandbox.candidate, "commit", "--quiet", "--message", "retrained on the labelled traffic")
    board.enter("Shadowing", "the retrained model (branch retrain) scores every request beside the champion")
    report = shadow(board, sandbox, api, params, drifted(2))
    if not report["gate"]["passed"]:
        failed = [check["name"] for check in report["gate"]["checks"] if not check["passed"]]
        board.enter("Degraded", f"the rollout gate refused it ({', '.join(failed)}); {champion} stays the champion")
        return

    board.enter("Deploying", f"merged into {params.gates.champion.base}, checked out and promoted, under traffic")
    deployed = deploy(sandbox, api, params, package, drifted(3), champion)
    board.say(f"switched from {champion} to {api.version()} under traffic: {traffic(deployed)}")
    if deployed.failed:
        raise UserError(f"simulate: {deployed.failed} request(s) failed during the switch: {deployed.problems[:3]}")
    params = load_params()
    summary = window(board, api, params, drifted(4), f"traffic with {moved}, the retrained model")
    if summary.retrain:
        board.enter("Degraded", "; ".join(summary.reasons))
    else:
        board.enter("Healthy", f"serving {api.version()}")


def shadow(board: Board, sandbox: Sandbox, api: Api, params: Params, rows: pd.DataFrame) -> dict:
    """Name the candidate's branch as the challenger in the live checkout's params.yaml, which the API
    reads while it runs; send `rows`; the rollout report on them. params.yaml is put back after."""
    params_file = sandbox.live / PARAMS_FILE
    original = params_file.read_text(encoding="utf-8")
    settings = yaml.safe_load(original)
    settings["rollout"] = {**settings["rollout"], "challenger": "retrain", "canary_share": 0.0}
    params_file.write_text(yaml.safe_dump(settings, sort_keys=False), encoding="utf-8")
    try:
        deadline = time.monotonic() + 60
        while api.challenger() is None:
            if time.monotonic() > deadline:
                raise UserError("simulate: the API did not load the challenger within 60 s (its lines are above)")
            time.sleep(0.2)
        sent = send(api.port, rows, params.target)
        time.sleep(params.serve.log_seconds + 0.5)  # the log writes its parts
        report = rollout_report(params)
    finally:
        params_file.write_text(original, encoding="utf-8")
    board.say(f"shadow traffic: {traffic(sent)}; {rollout_summary(report)}")
    return report


def rollout_summary(report: dict) -> str:
    agreement, quality = report["agreement"], report["quality"]
    alike = (f"agreement {agreement['agreement']:.0%}" if "agreement" in agreement
             else f"mean absolute difference {agreement['mean_absolute_difference']:.3g}")
    text = (f"rollout report: {report['records']} records both scored, {alike}, "
            f"prediction PSI {report['prediction_psi']}")
    metric = quality["metric"]
    if metric in quality.get("champion", {}) and metric in quality.get("challenger", {}):
        text += (f"; {metric} {quality['champion'][metric]:.3g} (champion) vs {quality['challenger'][metric]:.3g} "
                 f"on {quality['labelled']} labelled")
    return text + f"; rollout gate {'passed' if report['gate']['passed'] else 'failed'}"


def deploy(sandbox: Sandbox, api: Api, params: Params, package: str, rows: pd.DataFrame, champion: str) -> Sent:
    """Merge the candidate, check it out and promote it, while a client sends `rows` until the API
    answers with the new model; what that client sent."""
    switched, result = threading.Event(), {}

    def keep_sending() -> None:
        total, rounds = Sent(), 0
        while not switched.is_set():
            total.add(send(api.port, rows.sample(20, random_state=rounds), params.target, clients=2))
            rounds += 1
        result["sent"] = total

    sender = threading.Thread(target=keep_sending)
    sender.start()
    try:
        sandbox.git(sandbox.live, "merge", "--quiet", "--ff-only", "retrain")
        sandbox.dvc(sandbox.live, "checkout", "--quiet")
        sandbox.command(sandbox.live, package, "promote")
        deadline = time.monotonic() + 60
        while api.version() == champion:
            if time.monotonic() > deadline:
                raise UserError("simulate: the API did not switch to the new champion within 60 s")
            time.sleep(0.2)
    finally:
        switched.set()
        sender.join()
    return result["sent"]
