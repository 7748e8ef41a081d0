"""`make collect`: the API's traffic since the last collect becomes the next batch, then the current one.

The answers logged under `<incoming.location>/log/` since the last collect, each joined with the label
`/feedback` recorded for it (where one came back: the last, if several), are written as one batch file in incoming.location,
the place any new data lands; then `make intake`'s step makes it the current batch (dvc add), so
`make repro` runs validate and drift-check on real traffic and the monitor takes it the same way.
"""

from ..config import load_params
from ..data.incoming import take_newest
from ..errors import run
from ..serving.request_log import LOG, collect


def main() -> None:
    params = load_params()
    collected = collect(params)
    if collected is None:
        print(f"collect: no traffic logged in {params.incoming.location}/{LOG} since the last collect; "
              "the current batch stays")
        return
    batch = collected.batch
    print(f"collect: {len(batch)} answered records ({batch[params.target].notna().sum()} labelled) since "
          f"{collected.after or 'the start of the log'} -> {params.incoming.location}/{collected.name}")
    if collected.replaced or collected.unanswered:
        print(f"collect: labels left out: {collected.replaced} replaced by a later label for the same record, "
              f"{collected.unanswered} for a record no logged answer holds (one the API has not written to the log "
              "yet joins a later batch)")
    unchanged = take_newest(params)
    if unchanged:
        print(f"collect: {unchanged}")


if __name__ == "__main__":
    run(main)
