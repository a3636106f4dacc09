"""One embedding model, two lanes: queries first, background indexing in small slices.

A search waits on its query embedding, the indexer does not wait on anyone, so they do
not share the model first come first served. Every model run goes through ``ModelLanes``:

- **query lane**: callers queue their texts; whoever finds no query run in progress
  becomes the runner and embeds everything queued, up to ``QUERY_BATCH`` texts per run,
  until the queue is empty. Fifty concurrent callers cost a few batched runs, not fifty.
  A query run starts at once: it never waits for the index lane.
- **index lane**: a batch is cut into slices of ``INDEX_SLICE`` texts; a slice starts only
  when no query is queued or running. A query arriving mid-batch therefore shares the
  cores with at most the one slice already running (a few ms of short texts), and the
  rest of the batch waits until the queries are done.

Runs happen in worker threads (onnxruntime releases the GIL and its session is
thread-safe); at most two at once, one per lane.
"""

from __future__ import annotations

import contextlib
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import anyio
import numpy as np

#: most texts one query-lane run embeds (coalesced from concurrent callers)
QUERY_BATCH = 32
#: texts per index-lane run: a queued query never waits behind more than this
INDEX_SLICE = 8

EmbedFn = Callable[[list[str]], np.ndarray]
#: how a run leaves the event loop: ``anyio.to_thread.run_sync`` (tests pin it in-loop)
Offload = Callable[[EmbedFn, list[str]], Awaitable[np.ndarray]]


class LaneStatistics(NamedTuple):
    """Counters of the model's two lanes since start."""

    #: model runs for queries, and the texts they embedded
    query_runs: int
    query_texts: int
    #: model runs (slices) for the indexer, and the texts they embedded
    index_runs: int
    index_texts: int
    #: callers waiting in the query lane now
    queries_waiting: int
    #: whether a run of each lane is in progress now
    query_running: bool
    index_running: bool


@dataclass(slots=True, eq=False)
class _Job:
    texts: list[str]
    done: anyio.Event = field(default_factory=anyio.Event)
    vectors: np.ndarray | None = None
    error: BaseException | None = None


class ModelLanes:
    """Arbitrates one model between the query lane and the index lane (see module doc)."""

    def __init__(self, offload: Offload | None = None) -> None:
        self._offload: Offload = offload or _in_thread
        self._queries: deque[_Job] = deque()
        self._query_busy = False
        self._index_busy = False
        self._changed = anyio.Event()
        self._counts = [0, 0, 0, 0]

    def statistics(self) -> LaneStatistics:
        query_runs, query_texts, index_runs, index_texts = self._counts
        return LaneStatistics(query_runs, query_texts, index_runs, index_texts,
                              len(self._queries), self._query_busy, self._index_busy)

    async def query(self, run: EmbedFn, texts: Sequence[str]) -> np.ndarray:
        """Embed ``texts`` ahead of any index slice not yet started; callers that queue
        while a query run is in progress share the next one. Errors of a run reach every caller
        whose texts were in it."""
        job = _Job(list(texts))
        self._queries.append(job)
        try:
            while not job.done.is_set():
                if self._query_busy:
                    await self._wait_changed()
                else:
                    await self._serve_queries(run)
        except BaseException:
            if not job.done.is_set():  # cancelled: leave the queue (if still in it)
                with contextlib.suppress(ValueError):
                    self._queries.remove(job)
                self._signal()
            raise
        if job.error is not None:
            raise job.error
        assert job.vectors is not None
        return job.vectors

    async def index(self, run: EmbedFn, texts: Sequence[str]) -> np.ndarray:
        """Embed ``texts`` in slices of ``INDEX_SLICE``, each started only when no query
        is queued or running (and no other slice is). Returns the vectors, in order."""
        pieces = []
        for start in range(0, len(texts), INDEX_SLICE):
            piece = list(texts[start:start + INDEX_SLICE])
            while self._query_busy or self._queries or self._index_busy:
                await self._wait_changed()
            self._index_busy = True
            try:
                pieces.append(await self._offload(run, piece))
            finally:
                self._index_busy = False
                self._signal()
            self._counts[2] += 1
            self._counts[3] += len(piece)
        return np.concatenate(pieces) if pieces else run([])

    async def _serve_queries(self, run: EmbedFn) -> None:
        """Run queued query jobs until none is left (the caller's own job among them)."""
        self._query_busy = True
        try:
            while self._queries:
                jobs = [self._queries.popleft()]
                size = len(jobs[0].texts)
                while self._queries and size + len(self._queries[0].texts) <= QUERY_BATCH:
                    size += len(self._queries[0].texts)
                    jobs.append(self._queries.popleft())
                await self._run_jobs(run, jobs)
        finally:
            self._query_busy = False
            self._signal()

    async def _run_jobs(self, run: EmbedFn, jobs: list[_Job]) -> None:
        texts = [text for job in jobs for text in job.texts]
        vectors: np.ndarray | None = None
        failure: Exception | None = None
        try:
            vectors = await self._offload(run, texts)
        except Exception as error:  # noqa: BLE001 - it goes to every caller of the run
            failure = error
        except BaseException:
            # the runner was cancelled before the model ran: hand the jobs back, first
            # in line, for the next runner
            self._queries.extendleft(reversed(jobs))
            raise
        start = 0
        for job in jobs:
            if vectors is None:
                job.error = failure
            else:
                job.vectors = vectors[start:start + len(job.texts)]
                start += len(job.texts)
            job.done.set()
        self._counts[0] += 1
        self._counts[1] += len(texts)

    async def _wait_changed(self) -> None:
        await self._changed.wait()

    def _signal(self) -> None:
        """Wake every waiter to re-check the lanes (a run ended, a job left)."""
        self._changed.set()
        self._changed = anyio.Event()


async def _in_thread(run: EmbedFn, texts: list[str]) -> np.ndarray:
    return await anyio.to_thread.run_sync(run, texts)
