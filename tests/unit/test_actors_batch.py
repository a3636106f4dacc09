"""BatchActor: batches are the first message plus what is already queued, up to
``max_batch``; per-message errors fail one asker, a raised error fails the whole batch.
"""

from __future__ import annotations

from collections.abc import Sequence

import anyio
import pytest
from anyio import wait_all_tasks_blocked

from actors import ActorSystem, BatchActor, Envelope, current_request_id, request_id_var
from tests.unit.actor_kit import Boom, Hold, capture

pytestmark = pytest.mark.anyio


class Committer(BatchActor[object]):
    """Answers each message with ``(message, batch size)``, like a group commit.

    A ``Hold`` first in a batch parks the batch; ``"bad"`` gets a per-message error;
    ``"explode"`` anywhere in a batch makes ``handle_batch`` raise.
    """

    def __init__(self) -> None:
        self.batches: list[list[object]] = []
        self.request_ids: list[str | None] = []

    async def handle_batch(self, batch: Sequence[Envelope[object]]) -> Sequence[object]:
        messages = [envelope.message for envelope in batch]
        self.batches.append(messages)
        self.request_ids.append(current_request_id())
        first = messages[0]
        if isinstance(first, Hold):
            first.entered.set()
            await first.release.wait()
        if "explode" in messages:
            raise Boom("commit failed")
        return [
            Boom(f"rejected {message}") if message == "bad" else (message, len(batch))
            for message in messages
        ]


async def _batch_behind_a_hold(
    messages: list[object], *, max_batch: int
) -> tuple[Committer, Hold, dict[object, object], tuple[int, ...], int]:
    """Park the actor on a first batch, queue ``messages`` as asks, then release.

    Returns the actor, the hold, every ask's outcome, and the batch sizes and the queue
    depth observed while the actor was parked.
    """
    actor = Committer()
    hold = Hold()
    outcomes: dict[object, object] = {}
    async with ActorSystem() as system:
        ref = await system.spawn(lambda: actor, name="commit", max_batch=max_batch)
        with anyio.fail_after(5):
            async with anyio.create_task_group() as tg:
                tg.start_soon(capture, ref, hold, outcomes)
                await hold.entered.wait()
                for message in messages:
                    tg.start_soon(capture, ref, message, outcomes)
                await wait_all_tasks_blocked()
                parked = ref.statistics()
                hold.release.set()
        stats = ref.statistics()
    assert parked.queue_depth == len(messages)
    assert parked.in_flight == 1
    assert stats.processed == len(messages) + 1
    return actor, hold, outcomes, stats.last_batch_sizes, stats.max_batch_size


async def test_messages_queued_during_a_batch_form_the_next_batch() -> None:
    messages: list[object] = list(range(10))
    actor, hold, outcomes, sizes, largest = await _batch_behind_a_hold(messages, max_batch=64)
    assert sizes == (1, 10)
    assert largest == 10
    assert actor.batches == [[hold], messages]
    assert outcomes == {hold: (hold, 1)} | {n: (n, 10) for n in range(10)}


async def test_batches_never_exceed_max_batch() -> None:
    messages: list[object] = list(range(25))
    actor, _, outcomes, sizes, largest = await _batch_behind_a_hold(messages, max_batch=10)
    assert sizes == (1, 10, 10, 5)
    assert largest == 10
    assert actor.batches[1:] == [messages[:10], messages[10:20], messages[20:]]
    assert [outcomes[n] for n in range(25)] == [(n, 10) for n in range(20)] + [
        (n, 5) for n in range(20, 25)
    ]


async def test_an_exception_result_fails_only_that_asker() -> None:
    actor, _, outcomes, sizes, _ = await _batch_behind_a_hold(["a", "bad", "b"], max_batch=8)
    assert sizes == (1, 3)
    assert actor.batches[1] == ["a", "bad", "b"]
    assert outcomes["a"] == ("a", 3)
    assert outcomes["b"] == ("b", 3)
    assert isinstance(outcomes["bad"], Boom)
    assert str(outcomes["bad"]) == "rejected bad"


async def test_handle_batch_raising_fails_every_asker_in_the_batch_and_actor_keeps_serving(
) -> None:
    actor = Committer()
    hold = Hold()
    outcomes: dict[object, object] = {}
    async with ActorSystem() as system:
        ref = await system.spawn(lambda: actor, name="commit", max_batch=8)
        with anyio.fail_after(5):
            async with anyio.create_task_group() as tg:
                tg.start_soon(capture, ref, hold, outcomes)
                await hold.entered.wait()
                for message in ("a", "explode", "b"):
                    tg.start_soon(capture, ref, message, outcomes)
                await wait_all_tasks_blocked()
                hold.release.set()
            assert await ref.ask("after") == ("after", 1)
        stats = ref.statistics()
    assert actor.batches == [[hold], ["a", "explode", "b"], ["after"]]
    errors = [outcomes[m] for m in ("a", "explode", "b")]
    assert all(isinstance(error, Boom) and str(error) == "commit failed" for error in errors)
    assert outcomes[hold] == (hold, 1)
    assert (stats.processed, stats.failed, stats.batches) == (5, 3, 3)


async def test_handle_batch_returning_the_wrong_number_of_results_fails_the_batch() -> None:
    class Short(BatchActor[object]):
        async def handle_batch(self, batch: Sequence[Envelope[object]]) -> Sequence[object]:
            return []

    async with ActorSystem() as system:
        ref = await system.spawn(Short, name="short", max_batch=4)
        with anyio.fail_after(5), pytest.raises(RuntimeError, match="returned 0 results for 1"):
            await ref.ask("x")
        assert ref.statistics().failed == 1


async def test_handle_batch_sees_no_request_id_but_each_envelope_carries_its_own() -> None:
    """A batch mixes requests: the task-level id is unset (never the spawner's), and the
    id of each message travels on its envelope."""

    class Ids(BatchActor[str]):
        def __init__(self) -> None:
            self.seen: list[tuple[str | None, list[str | None]]] = []

        async def handle_batch(self, batch: Sequence[Envelope[str]]) -> Sequence[object]:
            self.seen.append((current_request_id(), [e.request_id for e in batch]))
            return [None] * len(batch)

    actor = Ids()
    token = request_id_var.set("spawner")
    try:
        async with ActorSystem() as system:
            ref = await system.spawn(lambda: actor, name="ids", max_batch=4)
            with anyio.fail_after(5):
                await ref.ask("one", request_id="r-1")
    finally:
        request_id_var.reset(token)
    assert actor.seen == [(None, ["r-1"])]
