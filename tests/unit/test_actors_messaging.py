"""Actor runtime messaging: ask/tell replies and errors, request ids, statistics, caller
cancellation, spawn errors and pools.
"""

from __future__ import annotations

import gc
import warnings

import anyio
import pytest
from anyio import wait_all_tasks_blocked

from actors import (
    Actor,
    ActorStatistics,
    ActorSystem,
    BatchActor,
    ShuttingDown,
    current_request_id,
    request_id_var,
)
from tests.unit.actor_kit import Boom, Fail, Hold, Probe, ask_in_scope, capture

pytestmark = pytest.mark.anyio


class RequestIds(Actor[str]):
    async def handle(self, message: str) -> object:
        return (message, current_request_id())


class BatchRequestIds(BatchActor[str]):
    async def handle(self, message: str) -> object:
        return (message, current_request_id())


async def test_ask_returns_the_handler_reply() -> None:
    async with ActorSystem() as system:
        ref = await system.spawn(Probe, name="echo")
        with anyio.fail_after(5):
            assert await ref.ask("hello") == ("echo", "hello")
            assert await ref.ask_nowait(42) == ("echo", 42)
        assert ref.name == "echo"


@pytest.mark.parametrize("actor_class", [RequestIds, BatchRequestIds])
async def test_handler_sees_the_request_id_given_explicitly_or_bound_in_the_caller(
    actor_class: type[Actor[str]],
) -> None:
    """Explicit beats the caller's bound id; neither leaks to the next message, and the
    spawner's id (bound when the actor task was created) is never seen by a handler."""
    spawner_token = request_id_var.set("spawner")
    try:
        async with ActorSystem() as system:
            ref = await system.spawn(actor_class, name="ids", max_batch=4)
            request_id_var.set(None)
            with anyio.fail_after(5):
                assert await ref.ask("explicit", request_id="req-1") == ("explicit", "req-1")
                assert await ref.ask("none") == ("none", None)
                token = request_id_var.set("req-2")
                try:
                    assert await ref.ask("implicit") == ("implicit", "req-2")
                    assert await ref.ask_nowait("nowait") == ("nowait", "req-2")
                    assert await ref.ask("both", request_id="req-3") == ("both", "req-3")
                finally:
                    request_id_var.reset(token)
                assert await ref.ask("after") == ("after", None)
    finally:
        request_id_var.reset(spawner_token)


async def test_tell_carries_the_request_id_to_the_handler() -> None:
    class Recorder(Actor[str]):
        def __init__(self) -> None:
            self.ids: list[tuple[str, str | None]] = []

        async def handle(self, message: str) -> object:
            self.ids.append((message, current_request_id()))
            return None

    actor = Recorder()
    async with ActorSystem() as system:
        ref = await system.spawn(lambda: actor, name="tells")
        with anyio.fail_after(5):
            await ref.tell("explicit", request_id="t-1")
            token = request_id_var.set("t-2")
            try:
                ref.tell_nowait("implicit")
            finally:
                request_id_var.reset(token)
            await ref.ask("flush")  # one actor, FIFO: both tells were handled before it
    assert actor.ids == [("explicit", "t-1"), ("implicit", "t-2"), ("flush", None)]


async def test_handler_error_goes_back_to_asker_and_actor_keeps_serving() -> None:
    error = Boom("bad input")
    async with ActorSystem() as system:
        ref = await system.spawn(Probe, name="echo")
        with anyio.fail_after(5):
            with pytest.raises(Boom, match="bad input") as raised:
                await ref.ask(Fail(error))
            assert raised.value is error
            assert await ref.ask("next") == ("echo", "next")
        stats = ref.statistics()
    assert (stats.processed, stats.failed, stats.restarts) == (2, 1, 0)
    assert (stats.in_flight, stats.queue_depth, stats.batches) == (0, 0, 2)


async def test_tell_is_handled_without_a_reply_and_a_failing_tell_only_counts_as_failed() -> None:
    actor = Probe()
    failing = Fail(Boom("nobody to tell"))
    async with ActorSystem() as system:
        ref = await system.spawn(lambda: actor, name="echo")
        with anyio.fail_after(5):
            assert await ref.tell("first") is None
            await ref.tell(failing)
            ref.tell_nowait("second")
            assert await ref.ask("flush") == ("echo", "flush")
        stats = ref.statistics()
    assert actor.seen == ["first", failing, "second", "flush"]
    assert (stats.processed, stats.failed, stats.restarts) == (4, 1, 0)


async def test_statistics_is_a_named_tuple_whose_queue_depth_counts_waiting_messages() -> None:
    async with ActorSystem() as system:
        ref = await system.spawn(Probe, name="stats", mailbox_size=8)
        hold = Hold()
        with anyio.fail_after(5):
            async with anyio.create_task_group() as tg:
                tg.start_soon(ref.ask, hold)
                await hold.entered.wait()
                for n in range(3):
                    ref.tell_nowait(n)
                busy = ref.statistics()
                hold.release.set()
            await ref.ask("flush")
        idle = ref.statistics()
    assert isinstance(busy, ActorStatistics)
    assert isinstance(busy, tuple)
    assert busy == ActorStatistics(
        name="stats", actors=1, queue_depth=3, mailbox_size=8, in_flight=1, processed=0,
        failed=0, restarts=0, batches=1, last_batch_sizes=(1,), max_batch_size=1,
    )
    assert idle == busy._replace(
        queue_depth=0, in_flight=0, processed=5, batches=5, last_batch_sizes=(1,) * 5
    )


async def test_asker_cancelled_while_queued_does_not_break_the_actor() -> None:
    """The message stays queued and is still handled; the reply is dropped quietly."""
    actor = Probe()
    async with ActorSystem() as system:
        ref = await system.spawn(lambda: actor, name="echo")
        hold = Hold()
        with anyio.fail_after(5):
            async with anyio.create_task_group() as tg:
                tg.start_soon(ref.ask, hold)
                await hold.entered.wait()
                scope = await tg.start(ask_in_scope, ref, "abandoned")
                await wait_all_tasks_blocked()
                assert ref.statistics().queue_depth == 1
                scope.cancel()
                await wait_all_tasks_blocked()
                hold.release.set()
            assert await ref.ask("next") == ("echo", "next")
        stats = ref.statistics()
    assert scope.cancelled_caught
    assert actor.seen == [hold, "abandoned", "next"]
    assert (stats.processed, stats.failed) == (3, 0)


async def test_asker_cancelled_while_handled_does_not_break_the_actor() -> None:
    actor = Probe()
    async with ActorSystem() as system:
        ref = await system.spawn(lambda: actor, name="echo")
        hold = Hold()
        with anyio.fail_after(5):
            async with anyio.create_task_group() as tg:
                scope = await tg.start(ask_in_scope, ref, hold)
                await hold.entered.wait()
                scope.cancel()
                await wait_all_tasks_blocked()
                hold.release.set()
            assert await ref.ask("next") == ("echo", "next")
        stats = ref.statistics()
    assert scope.cancelled_caught
    assert actor.seen == [hold, "next"]
    assert (stats.processed, stats.failed, stats.in_flight) == (2, 0, 0)


async def test_on_start_error_is_raised_from_spawn_and_the_system_goes_on() -> None:
    class NoDatabase(Actor[object]):
        async def on_start(self) -> None:
            raise ConnectionError("database unreachable")

    async with ActorSystem() as system:
        with pytest.raises(ConnectionError, match="database unreachable"):
            await system.spawn(NoDatabase, name="broken")
        ref = await system.spawn(Probe, name="fine")
        with anyio.fail_after(5):
            assert await ref.ask("still") == ("echo", "still")


async def test_pool_spawn_fails_when_one_member_fails_to_start_and_leaks_no_stream() -> None:
    """The member started before the failing one is stopped at exit; the receivers no
    member took over are closed (an unclosed one warns when collected)."""
    log: list[object] = []
    starts = 0

    class SecondFails(Probe):
        async def on_start(self) -> None:
            nonlocal starts
            starts += 1
            if starts == 2:
                raise ConnectionError("second member")
            await super().on_start()

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        async with ActorSystem() as system:
            with pytest.raises(ConnectionError, match="second member"):
                await system.spawn(lambda: SecondFails(log), name="pool", pool_size=3)
        gc.collect()
    assert starts == 2
    assert log == ["start", "drained", "stop"]
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"pool_size": 0}, "pool_size and max_batch must be >= 1"),
        ({"max_batch": 0}, "pool_size and max_batch must be >= 1"),
        ({"mailbox_size": 0}, "mailbox size must be >= 1"),
    ],
)
async def test_spawn_rejects_sizes_below_one(options: dict[str, int], message: str) -> None:
    async with ActorSystem() as system:
        with pytest.raises(ValueError, match=message):
            await system.spawn(Probe, name="bad", **options)


async def test_spawn_outside_an_entered_system_is_refused() -> None:
    with pytest.raises(RuntimeError, match="needs an entered ActorSystem"):
        await ActorSystem().spawn(Probe, name="early")


async def test_pool_members_handle_messages_concurrently() -> None:
    """Three members each hold one message in flight; a fourth message waits queued."""
    members: list[Probe] = []

    def member() -> Probe:
        members.append(Probe())
        return members[-1]

    holds = [Hold() for _ in range(3)]
    outcomes: dict[object, object] = {}
    async with ActorSystem() as system:
        ref = await system.spawn(member, name="pool", pool_size=3)
        with anyio.fail_after(5):
            async with anyio.create_task_group() as tg:
                for hold in holds:
                    tg.start_soon(capture, ref, hold, outcomes)
                await wait_all_tasks_blocked()
                tg.start_soon(capture, ref, "fourth", outcomes)
                await wait_all_tasks_blocked()
                busy = ref.statistics()
                for hold in holds:
                    hold.release.set()
        done = ref.statistics()
    assert (busy.actors, busy.in_flight, busy.queue_depth) == (3, 3, 1)
    assert all(hold.entered.is_set() for hold in holds)
    assert len(members) == 3
    assert sorted(len(m.seen) for m in members) == [1, 1, 2]  # each member took one hold
    assert outcomes == {holds[0]: "held", holds[1]: "held", holds[2]: "held",
                        "fourth": ("echo", "fourth")}
    assert (done.in_flight, done.processed, done.failed) == (0, 4, 0)


async def test_ask_after_the_system_stopped_raises_shutting_down() -> None:
    async with ActorSystem() as system:
        ref = await system.spawn(Probe, name="gone")
    with pytest.raises(ShuttingDown) as raised:
        await ref.ask("late")
    assert raised.value.actor == "gone"
    with pytest.raises(ShuttingDown):
        await ref.ask_nowait("late")
    with pytest.raises(ShuttingDown):
        await ref.tell("late")
    with pytest.raises(ShuttingDown):
        ref.tell_nowait("late")
