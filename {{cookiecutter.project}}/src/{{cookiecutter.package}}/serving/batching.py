"""Concurrent requests answered together: one contract check and one prediction for many.

A single-row request costs mostly per-call overhead (the contract check, the pipeline's transforms),
so requests are answered in batches: while one batch is computed, the requests that arrive queue up,
and the next batch takes all of them (at most `max_rows` rows), waiting up to `max_wait_ms` for more
when that is set. A batch whose records all pass is predicted at once; one with a broken or a warned
rule, or that the model fails on, is answered request by request, so each request still gets its own
answer, warning, 422, or 500 naming the model that failed.
One batch is computed at a time, off the event loop, which goes on reading requests meanwhile.
"""

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from fastapi.concurrency import run_in_threadpool

from .inputs import BadRequest


@dataclass
class Job:
    served: object  # the model the request read when it arrived (serving/model.py, Served)
    records: list[dict]
    future: asyncio.Future = field(repr=False)


class Batcher:
    def __init__(self, answer_one: Callable, answer_many: Callable, max_rows: int, max_wait_ms: float):
        """`answer_one(served, records)` answers one request (or raises BadRequest); `answer_many(served,
        records)` answers a batch's records, all requests' in one list, when every one passes (else None)."""
        self.answer_one, self.answer_many = answer_one, answer_many
        self.max_rows, self.max_wait = max_rows, max_wait_ms / 1000
        self.queue: asyncio.Queue[Job] | None = None

    async def submit(self, served, records: list[dict]) -> dict:
        future = asyncio.get_running_loop().create_future()
        self.queue.put_nowait(Job(served, records, future))
        result = await future
        if isinstance(result, Exception):  # a BadRequest (422), or the model failed (500)
            raise result
        return result

    async def run(self) -> None:
        """Answer batches until cancelled (the server's lifespan starts and stops this)."""
        self.queue = asyncio.Queue()
        while True:
            jobs = [await self.queue.get()]
            await self.gather(jobs)
            results = await run_in_threadpool(self.answer, jobs)
            for job, result in zip(jobs, results):
                if not job.future.done():  # its client may have gone
                    job.future.set_result(result)

    async def gather(self, jobs: list[Job]) -> None:
        """Add the queued requests to `jobs`, up to max_rows rows, waiting up to max_wait for more."""
        loop = asyncio.get_running_loop()
        deadline, rows = loop.time() + self.max_wait, len(jobs[0].records)
        while rows < self.max_rows:
            try:
                job = self.queue.get_nowait() if self.queue.qsize() or not self.max_wait else \
                    await asyncio.wait_for(self.queue.get(), max(deadline - loop.time(), 0))
            except (asyncio.QueueEmpty, TimeoutError):
                return
            jobs.append(job)
            rows += len(job.records)

    def answer(self, jobs: list[Job]) -> list:
        """Each job's answer (or its BadRequest, or the model's failure), in order; jobs that read the same
        model batched. A model that fails fails its own requests, never the batcher."""
        results: list = [None] * len(jobs)
        by_model: dict[int, list[int]] = {}
        for index, job in enumerate(jobs):
            by_model.setdefault(id(job.served), []).append(index)
        for indexes in by_model.values():
            served = jobs[indexes[0]].served
            parts = [jobs[index].records for index in indexes]
            try:
                together = self.answer_many(served, [record for part in parts for record in part]) \
                    if len(parts) > 1 else None
            except Exception:  # one of the requests makes the model fail: each is answered alone
                together = None
            if together is None:
                for index in indexes:
                    results[index] = self.one(jobs[index])
                continue
            start = 0
            for index, part in zip(indexes, parts):
                results[index] = {key: values[start:start + len(part)] for key, values in together.items()}
                start += len(part)
        return results

    def one(self, job: Job):
        try:
            return self.answer_one(job.served, job.records)
        except BadRequest as refused:
            return refused
        except Exception as error:
            return ModelFailed(job.served, error)


class ModelFailed(Exception):
    """The model could not answer a request that passed the contract (HTTP 500, naming the model)."""

    def __init__(self, served, error: Exception):
        super().__init__(f"{served.version}: {type(error).__name__}: {error}"[:300])
        self.version = served.version
