"""Actor lifecycle: restart after a fatal error, escalation when restarts fail, graceful
stop that serves every queued message, and the stop timeout that cancels a stuck actor.

Asks that must outlive the ``ActorSystem`` block run in a task group opened around it.
"""

from __future__ import annotations

import anyio
import pytest
from anyio import wait_all_tasks_blocked

from actors import ActorCrashed, ActorSystem, ShuttingDown
from tests.unit.actor_kit import Boom, Fail, Fatal, Hold, Probe, capture

pytestmark = pytest.mark.anyio


async def test_fatal_error_restarts_the_actor_and_queued_asks_are_still_served() -> None:
    """The asker gets the error; ``on_stop`` then ``on_start`` run before the next message."""
    log: list[object] = []
    actor = Probe(log)
    hold = Hold(error=Fatal("state corrupted"))
    outcomes: dict[object, object] = {}
    async with ActorSystem() as system:
        ref = await system.spawn(lambda: actor, name="fragile")
        with anyio.fail_after(5):
            async with anyio.create_task_group() as tg:
                tg.start_soon(capture, ref, hold, outcomes)
                await hold.entered.wait()
                tg.start_soon(capture, ref, "a", outcomes)
                await wait_all_tasks_blocked()
                tg.start_soon(capture, ref, "b", outcomes)
                await wait_all_tasks_blocked()
                assert ref.statistics().queue_depth == 2
                hold.release.set()
        stats = ref.statistics()
    assert outcomes == {hold: hold.error, "a": ("echo", "a"), "b": ("echo", "b")}
    assert log == [
        "start", ("handle", hold), "stop", "start", ("handle", "a"), ("handle", "b"),
        "drained", "stop",
    ]
    assert (stats.restarts, stats.processed, stats.failed) == (1, 3, 1)


async def test_non_fatal_error_does_not_restart_the_actor() -> None:
    log: list[object] = []
    async with ActorSystem() as system:
        ref = await system.spawn(lambda: Probe(log), name="sturdy")
        with anyio.fail_after(5), pytest.raises(Boom):
            await ref.ask(Fail(Boom("just this one")))
        restarts = ref.statistics().restarts
    assert restarts == 0
    assert log.count("start") == 1


async def test_actor_that_cannot_restart_escalates_actor_crashed_out_of_the_system() -> None:
    """After ``max_restarts`` failed ``on_start`` calls the system block is cancelled and
    ``ActorCrashed`` (caused by the fatal error) surfaces unwrapped; queued asks get
    ``ShuttingDown``."""
    starts = 0

    class CannotReconnect(Probe):
        async def on_start(self) -> None:
            nonlocal starts
            starts += 1
            if starts > 1:
                raise ConnectionError("still down")

    hold = Hold(error=Fatal("connection lost"))
    outcomes: dict[object, object] = {}
    block_cancelled = False
    with anyio.fail_after(5):
        async with anyio.create_task_group() as askers:
            with pytest.raises(ActorCrashed) as crashed:
                async with ActorSystem(max_restarts=2) as system:
                    ref = await system.spawn(CannotReconnect, name="db")
                    askers.start_soon(capture, ref, hold, outcomes)
                    await hold.entered.wait()
                    askers.start_soon(capture, ref, "queued", outcomes)
                    await wait_all_tasks_blocked()
                    hold.release.set()
                    try:
                        await anyio.sleep_forever()  # until the crash cancels the block
                    finally:
                        block_cancelled = True
    assert block_cancelled
    assert (crashed.value.actor, crashed.value.restarts) == ("db", 2)
    assert crashed.value.__cause__ is hold.error
    assert starts == 3
    assert ref.statistics().restarts == 2
    assert outcomes[hold] is hold.error
    assert isinstance(outcomes["queued"], ShuttingDown)
    with pytest.raises(ShuttingDown):
        await ref.ask("after the crash")


async def test_leaving_the_system_serves_every_queued_ask_then_stops_once() -> None:
    """Intake closes first, then the queue drains, then ``on_drained`` and ``on_stop``."""
    log: list[object] = []
    actor = Probe(log)
    hold = Hold()
    outcomes: dict[object, object] = {}
    intake_closed_while_queued: list[tuple[bool, int]] = []

    async def release_once_stopping() -> None:
        await wait_all_tasks_blocked()  # the system block was left: stop is waiting
        try:
            ref.tell_nowait("late")
        except ShuttingDown:
            intake_closed_while_queued.append((True, ref.statistics().queue_depth))
        hold.release.set()

    with anyio.fail_after(5):
        async with anyio.create_task_group() as askers, ActorSystem() as system:
            ref = await system.spawn(lambda: actor, name="drain")
            askers.start_soon(capture, ref, hold, outcomes)
            await hold.entered.wait()
            for n in range(20):
                askers.start_soon(capture, ref, n, outcomes)
            await wait_all_tasks_blocked()
            askers.start_soon(release_once_stopping)
    stats = ref.statistics()
    assert intake_closed_while_queued == [(True, 20)]
    assert outcomes == {hold: "held"} | {n: ("echo", n) for n in range(20)}
    assert actor.seen == [hold, *range(20)]
    assert log[-2:] == ["drained", "stop"]
    assert log.count("stop") == 1
    assert (stats.processed, stats.queue_depth, stats.in_flight) == (21, 0, 0)
    with pytest.raises(ShuttingDown):
        await ref.ask("after stop")


async def test_stop_timeout_cancels_a_stuck_actor_and_fails_its_pending_asks() -> None:
    """Neither the in-flight ask nor the queued ones hang: all get ``ShuttingDown``."""
    log: list[object] = []
    actor = Probe(log)
    stuck = Hold()  # never released
    outcomes: dict[object, object] = {}
    system = ActorSystem(stop_timeout=0.05)
    with anyio.fail_after(5):
        async with anyio.create_task_group() as askers, system:
            ref = await system.spawn(lambda: actor, name="stuck")
            askers.start_soon(capture, ref, stuck, outcomes)
            await stuck.entered.wait()
            for n in range(3):
                askers.start_soon(capture, ref, n, outcomes)
            await wait_all_tasks_blocked()
    stats = ref.statistics()
    assert set(outcomes) == {stuck, 0, 1, 2}
    assert all(isinstance(error, ShuttingDown) for error in outcomes.values())
    assert actor.seen == [stuck]
    assert log == ["start", ("handle", stuck), "stop"]  # cancelled: no on_drained
    assert (stats.in_flight, stats.queue_depth, stats.processed) == (0, 0, 0)


async def test_stop_of_one_actor_is_idempotent_and_leaves_the_others_serving() -> None:
    log: list[object] = []
    async with ActorSystem() as system:
        first = await system.spawn(lambda: Probe(log), name="first")
        second = await system.spawn(Probe, name="second")
        with anyio.fail_after(5):
            await system.stop(first)
            await system.stop(first)
            with pytest.raises(ShuttingDown):
                await first.ask("x")
            assert await second.ask("y") == ("echo", "y")
    assert log == ["start", "drained", "stop"]


async def test_stop_refuses_a_ref_from_another_system() -> None:
    async with ActorSystem() as other:
        foreign = await other.spawn(Probe, name="foreign")
        async with ActorSystem() as system:
            with pytest.raises(ValueError, match="'foreign' was not spawned by this system"):
                await system.stop(foreign)


async def test_error_raised_in_the_system_block_surfaces_unwrapped_after_a_graceful_stop(
) -> None:
    log: list[object] = []
    with pytest.raises(Boom, match="caller failed"):
        async with ActorSystem() as system:
            ref = await system.spawn(lambda: Probe(log), name="bystander")
            ref.tell_nowait("queued")
            raise Boom("caller failed")
    assert log == ["start", ("handle", "queued"), "drained", "stop"]
