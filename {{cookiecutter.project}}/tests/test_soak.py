"""A soak: 16 clients without pause while the champion changes twice and a challenger comes and goes.
No request may fail, and the server's memory at the end stays near where it settled. SOAK_SECONDS
(default 30) makes it longer, as a benchmark of the server's stability."""

import os
import threading
import time

from sklearn.dummy import DummyClassifier

from {{ cookiecutter.package }}.serving.model import Watched
from {{ cookiecutter.package }}.serving.rollout import Challenger

from api import GOOD, call, served, start_api

SECONDS = float(os.environ.get("SOAK_SECONDS", "30"))
CLIENTS = 16
OTHER = "fedcba987654" * 2
MIB = 2**20


def resident() -> float:
    with open("/proc/self/statm") as stream:
        return int(stream.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / MIB


def test_sixteen_clients_see_no_failure_through_two_champion_changes_and_a_challenger_on_and_off(champion, frame,
                                                                                                 tmp_path):
    features = frame.drop(columns="label")
    champion.models[OTHER] = DummyClassifier(strategy="constant", constant="small").fit(features, frame["label"])
    challenging = {"md5": None}  # None: no challenger
    challenger = Challenger(Watched(lambda: challenging["md5"], lambda: served(champion.models[OTHER], OTHER), 0.05,
                                    role="challenger"), 0.5, 0.5)
    api = start_api(champion, tmp_path, challenger, log_rows=200)
    statuses, versions, stop = [], set(), threading.Event()

    def client(number: int) -> None:
        while not stop.is_set():
            status, answer = call(api.url, "/predict", {"records": [GOOD], "key": f"client-{number}"})
            statuses.append(status)
            versions.add(answer.get("model_version"))

    clients = [threading.Thread(target=client, args=(number,)) for number in range(CLIENTS)]
    try:
        for thread in clients:
            thread.start()
        time.sleep(min(5.0, SECONDS / 6))  # warmed up: the memory the server settles at
        settled = resident()
        # The challenger on (the canary answers half the clients), the champion becomes it, the challenger
        # off, the first champion back.
        steps = [lambda: challenging.update(md5=OTHER), lambda: champion.wanted.update(md5=OTHER),
                 lambda: challenging.update(md5=None), lambda: champion.wanted.update(md5="0123456789ab" * 2)]
        for step in steps:
            step()
            time.sleep((SECONDS - min(5.0, SECONDS / 6)) / len(steps))
        stop.set()
        for thread in clients:
            thread.join(30)
        grown = resident() - settled
    finally:
        api.stop()
    assert statuses and set(statuses) == {200}, {status: statuses.count(status) for status in set(statuses)}
    assert {"md5:0123456789ab", "md5:fedcba987654"} <= versions
    print(f"soak: {len(statuses)} requests in {SECONDS:.0f} s from {CLIENTS} clients, none failed; resident "
          f"memory {settled:.0f} MiB when settled, {grown:+.1f} MiB at the end")
    assert grown < max(64.0, 0.2 * settled), f"memory grew by {grown:.0f} MiB from {settled:.0f} MiB"
