"""The model's two lanes: a waiting query goes before the next index slice, concurrent
queries share runs. A stand-in model blocks on events, so every interleaving is pinned."""

from __future__ import annotations

import threading

import anyio
import numpy as np
import pytest
from anyio import wait_all_tasks_blocked
from anyio.lowlevel import checkpoint

from cortex.config import Settings
from cortex.engine.embeddings import EmbeddingService
from cortex.engine.model_lanes import INDEX_SLICE, QUERY_BATCH

pytestmark = pytest.mark.anyio


class GatedModel:
    """Records each run's texts; a run waits for ``release`` while ``gate`` is closed."""

    def __init__(self) -> None:
        self.runs: list[list[str]] = []
        self.started = threading.Event()
        self.release = threading.Event()
        self.gate = True

    def embed(self, texts: list[str]) -> np.ndarray:
        self.runs.append(list(texts))
        if self.gate:
            self.started.set()
            assert self.release.wait(10), "the test never released the model"
            self.gate = False
        # a vector that names its text: first component = the text's number
        return np.array([[float(t.split()[-1])] + [0.0] * 383 for t in texts],
                        dtype=np.float32)


async def _model_running(model: GatedModel) -> None:
    await anyio.to_thread.run_sync(model.started.wait)


def _service(model: GatedModel) -> EmbeddingService:
    return EmbeddingService(Settings(), model=model)


async def test_a_query_waiting_on_an_index_batch_runs_before_its_next_slice() -> None:
    model = GatedModel()
    service = _service(model)
    texts = [f"fact {n}" for n in range(3 * INDEX_SLICE)]
    answers: dict[str, object] = {}

    async def index() -> None:
        answers["index"] = await service.embed_for_index(texts)

    async def query() -> None:
        answers["query"] = await service.embed(["query 999"])

    async with anyio.create_task_group() as tg:
        tg.start_soon(index)
        await _model_running(model)  # the first slice holds the model
        tg.start_soon(query)
        await wait_all_tasks_blocked()
        assert service.statistics().queries_waiting == 1
        model.release.set()
    assert [len(run) for run in model.runs] == [INDEX_SLICE, 1, INDEX_SLICE, INDEX_SLICE]
    assert model.runs[1] == ["query 999"], "the query went before the second slice"
    vectors = answers["index"]
    assert isinstance(vectors, np.ndarray)
    assert [int(v) for v in vectors[:, 0]] == list(range(3 * INDEX_SLICE))
    assert answers["query"] == [[999.0] + [0.0] * 383]
    stats = service.statistics()
    assert (stats.query_runs, stats.index_runs, stats.index_texts) == (1, 3, 3 * INDEX_SLICE)


async def test_fifty_concurrent_queries_share_a_few_model_runs() -> None:
    model = GatedModel()
    service = _service(model)
    answers: dict[int, float] = {}

    async def query(n: int) -> None:
        (vector,) = await service.embed([f"query {n}"])
        answers[n] = vector[0]

    async with anyio.create_task_group() as tg:
        tg.start_soon(query, 0)
        await _model_running(model)
        for n in range(1, 50):
            tg.start_soon(query, n)
        await wait_all_tasks_blocked()
        model.release.set()
    assert [len(run) for run in model.runs] == [1, QUERY_BATCH, 49 - QUERY_BATCH]
    assert answers == {n: float(n) for n in range(50)}, "each caller got its own vector"


async def test_an_index_batch_waits_while_queries_are_queued() -> None:
    model = GatedModel()
    service = _service(model)
    done: list[str] = []

    async def query(n: int) -> None:
        await service.embed([f"query {n}"])
        done.append(f"query {n}")

    async def index() -> None:
        await service.embed_for_index(["fact 1"])
        done.append("index")

    async with anyio.create_task_group() as tg:
        tg.start_soon(query, 1)
        await _model_running(model)
        tg.start_soon(index)
        await wait_all_tasks_blocked()
        tg.start_soon(query, 2)  # arrives after the index batch, still goes first
        await wait_all_tasks_blocked()
        model.release.set()
    assert model.runs == [["query 1"], ["query 2"], ["fact 1"]]
    assert done[-1] == "index"


async def test_a_cancelled_query_leaves_the_lane_and_others_still_run() -> None:
    model = GatedModel()
    service = _service(model)
    answers: list[float] = []

    async def query(n: int) -> None:
        (vector,) = await service.embed([f"query {n}"])
        answers.append(vector[0])

    async with anyio.create_task_group() as tg:
        tg.start_soon(query, 1)
        await _model_running(model)
        with anyio.CancelScope() as scope:
            async with anyio.create_task_group() as inner:
                inner.start_soon(query, 2)
                await wait_all_tasks_blocked()
                scope.cancel()
        await checkpoint()
        assert service.statistics().queries_waiting == 0
        tg.start_soon(query, 3)
        await wait_all_tasks_blocked()
        model.release.set()
    assert model.runs == [["query 1"], ["query 3"]]
    assert sorted(answers) == [1.0, 3.0]


async def test_a_model_error_reaches_every_caller_of_that_run() -> None:
    class Broken:
        def embed(self, texts: list[str]) -> np.ndarray:
            raise RuntimeError("onnx failed")

    service = EmbeddingService(Settings(), model=Broken())
    with pytest.raises(RuntimeError, match="onnx failed"):
        await service.embed(["a"])
    with pytest.raises(RuntimeError, match="onnx failed"):
        await service.embed_for_index(["b"])
