"""The model's two lanes: a query never waits for the indexer and no index slice starts
while a query is queued or running; concurrent queries share runs. Runs are pinned by
events in the event loop (a stand-in for the worker thread), so every interleaving is
fixed, not timed."""

from __future__ import annotations

import anyio
import numpy as np
import pytest
from anyio import wait_all_tasks_blocked

from cortex.config import Settings
from cortex.engine.embeddings import EmbeddingService
from cortex.engine.model_lanes import INDEX_SLICE, QUERY_BATCH, EmbedFn, ModelLanes

pytestmark = pytest.mark.anyio


def vectors(texts: list[str]) -> np.ndarray:
    """A vector that names its text: the first component is the text's number."""
    return np.array([[float(t.split()[-1])] + [0.0] * 383 for t in texts], dtype=np.float32)


class Runs:
    """Stands in for the worker thread: records each run; a run whose first text is held
    waits until the test releases it."""

    def __init__(self, *held: str) -> None:
        self.runs: list[list[str]] = []
        self.started = {text: anyio.Event() for text in held}
        self.release = {text: anyio.Event() for text in held}

    async def offload(self, run: EmbedFn, texts: list[str]) -> np.ndarray:
        self.runs.append(texts)
        if texts[0] in self.release:
            self.started[texts[0]].set()
            await self.release[texts[0]].wait()
        return run(texts)


async def test_a_query_runs_at_once_and_the_next_index_slice_waits_for_it() -> None:
    runs = Runs("fact 0", "query 999")
    lanes = ModelLanes(runs.offload)
    texts = [f"fact {n}" for n in range(3 * INDEX_SLICE)]
    answers: dict[str, np.ndarray] = {}

    async def index() -> None:
        answers["index"] = await lanes.index(vectors, texts)

    async def query() -> None:
        answers["query"] = await lanes.query(vectors, ["query 999"])

    async with anyio.create_task_group() as tg:
        tg.start_soon(index)
        await runs.started["fact 0"].wait()  # the first slice is running
        tg.start_soon(query)
        await runs.started["query 999"].wait()  # beside it: the query did not wait
        runs.release["fact 0"].set()
        await wait_all_tasks_blocked()
        assert len(runs.runs) == 2, "no slice starts while a query runs"
        assert lanes.statistics().index_running is False
        runs.release["query 999"].set()
    assert [len(run) for run in runs.runs] == [INDEX_SLICE, 1, INDEX_SLICE, INDEX_SLICE]
    assert [int(v) for v in answers["index"][:, 0]] == list(range(3 * INDEX_SLICE))
    assert answers["query"][0, 0] == 999.0
    stats = lanes.statistics()
    assert (stats.query_runs, stats.index_runs, stats.index_texts) == (1, 3, 3 * INDEX_SLICE)


async def test_an_index_slice_waits_while_queries_are_queued() -> None:
    runs = Runs("query 1")
    lanes = ModelLanes(runs.offload)
    order: list[str] = []

    async def query(n: int) -> None:
        await lanes.query(vectors, [f"query {n}"])
        order.append(f"query {n}")

    async def index() -> None:
        await lanes.index(vectors, ["fact 7"])
        order.append("index")

    async with anyio.create_task_group() as tg:
        tg.start_soon(query, 1)
        await runs.started["query 1"].wait()
        tg.start_soon(query, 2)  # queued behind the running query
        tg.start_soon(index)
        await wait_all_tasks_blocked()
        assert runs.runs == [["query 1"]], "the slice did not start beside a query"
        runs.release["query 1"].set()
    assert runs.runs == [["query 1"], ["query 2"], ["fact 7"]]
    assert order == ["query 1", "query 2", "index"]


async def test_fifty_concurrent_queries_share_a_few_model_runs() -> None:
    runs = Runs("query 0")
    lanes = ModelLanes(runs.offload)
    answers: dict[int, float] = {}

    async def query(n: int) -> None:
        answers[n] = float((await lanes.query(vectors, [f"query {n}"]))[0, 0])

    async with anyio.create_task_group() as tg:
        tg.start_soon(query, 0)
        await runs.started["query 0"].wait()
        for n in range(1, 50):
            tg.start_soon(query, n)
        await wait_all_tasks_blocked()
        assert lanes.statistics().queries_waiting == 49
        runs.release["query 0"].set()
    assert [len(run) for run in runs.runs] == [1, QUERY_BATCH, 49 - QUERY_BATCH]
    assert answers == {n: float(n) for n in range(50)}, "each caller got its own vector"


async def test_a_cancelled_query_leaves_the_lane_and_the_others_still_run() -> None:
    runs = Runs("query 1")
    lanes = ModelLanes(runs.offload)
    answers: list[float] = []

    async def query(n: int) -> None:
        answers.append(float((await lanes.query(vectors, [f"query {n}"]))[0, 0]))

    async with anyio.create_task_group() as tg:
        tg.start_soon(query, 1)
        await runs.started["query 1"].wait()
        with anyio.CancelScope() as scope:
            async with anyio.create_task_group() as inner:
                inner.start_soon(query, 2)
                await wait_all_tasks_blocked()
                assert lanes.statistics().queries_waiting == 1
                scope.cancel()
        assert lanes.statistics().queries_waiting == 0
        tg.start_soon(query, 3)
        await wait_all_tasks_blocked()
        runs.release["query 1"].set()
    assert runs.runs == [["query 1"], ["query 3"]]
    assert sorted(answers) == [1.0, 3.0]


async def test_a_model_error_reaches_every_caller_through_the_service() -> None:
    class Broken:
        def embed(self, texts: list[str]) -> np.ndarray:
            raise RuntimeError("onnx failed")

    service = EmbeddingService(Settings(), model=Broken())
    with pytest.raises(RuntimeError, match="onnx failed"):
        await service.embed(["a"])
    with pytest.raises(RuntimeError, match="onnx failed"):
        await service.embed_for_index(["b"])


async def test_the_service_runs_both_lanes_in_worker_threads() -> None:
    class Model:
        def embed(self, texts: list[str]) -> np.ndarray:
            return vectors(texts)

    service = EmbeddingService(Settings(), model=Model())
    assert await service.embed(["query 5"]) == [[5.0] + [0.0] * 383]
    indexed = await service.embed_for_index([f"fact {n}" for n in range(20)])
    assert indexed.shape == (20, 384) and indexed[19, 0] == 19.0
    assert service.statistics().index_runs == -(-20 // INDEX_SLICE)
