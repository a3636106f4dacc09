"""Bounded mailboxes: a full mailbox refuses with ``Overloaded`` (at once, or after the
enqueue timeout) and a refused message is never handled; a waiting sender gets in as
soon as the actor makes room.
"""

from __future__ import annotations

import anyio
import pytest
from anyio import wait_all_tasks_blocked

from actors import ActorError, ActorSystem, Overloaded, ShuttingDown
from tests.unit.actor_kit import Hold, Probe, ask_in_scope, capture

pytestmark = pytest.mark.anyio


async def test_full_mailbox_refuses_with_overloaded_and_never_runs_the_refused_message() -> None:
    actor = Probe()
    hold = Hold()
    outcomes: dict[object, object] = {}
    async with ActorSystem() as system:
        ref = await system.spawn(lambda: actor, name="small", mailbox_size=2)
        with anyio.fail_after(5):
            async with anyio.create_task_group() as tg:
                tg.start_soon(capture, ref, hold, outcomes)
                await hold.entered.wait()
                tg.start_soon(capture, ref, "q1", outcomes)
                tg.start_soon(capture, ref, "q2", outcomes)
                await wait_all_tasks_blocked()
                assert ref.statistics().queue_depth == 2

                with pytest.raises(Overloaded) as at_once:
                    await ref.ask_nowait("ask_nowait")
                with pytest.raises(Overloaded):
                    ref.tell_nowait("tell_nowait")
                with pytest.raises(Overloaded) as timed_out:
                    await ref.ask("ask", enqueue_timeout=0.02)
                with pytest.raises(Overloaded):
                    await ref.tell("tell", enqueue_timeout=0.02)
                assert ref.statistics().queue_depth == 2
                hold.release.set()
            assert await ref.ask("flush") == ("echo", "flush")
        stats = ref.statistics()
    assert (at_once.value.actor, at_once.value.mailbox_size, at_once.value.waited) == (
        "small", 2, 0.0,
    )
    assert 0.01 < timed_out.value.waited < 5
    assert isinstance(timed_out.value, ActorError)
    assert actor.seen == [hold, "q1", "q2", "flush"]
    assert outcomes == {hold: "held", "q1": ("echo", "q1"), "q2": ("echo", "q2")}
    assert (stats.processed, stats.failed) == (4, 0)


async def test_a_waiting_ask_gets_in_once_the_actor_makes_room() -> None:
    actor = Probe()
    hold = Hold()
    outcomes: dict[object, object] = {}
    async with ActorSystem() as system:
        ref = await system.spawn(lambda: actor, name="small", mailbox_size=1)
        with anyio.fail_after(5):
            async with anyio.create_task_group() as tg:
                tg.start_soon(capture, ref, hold, outcomes)
                await hold.entered.wait()
                tg.start_soon(capture, ref, "queued", outcomes)
                await wait_all_tasks_blocked()
                tg.start_soon(capture, ref, "patient", outcomes)
                await wait_all_tasks_blocked()
                # Still waiting for room, not queued and not refused.
                assert "patient" not in outcomes
                assert ref.statistics().queue_depth == 1
                hold.release.set()
    assert outcomes == {hold: "held", "queued": ("echo", "queued"),
                        "patient": ("echo", "patient")}
    assert actor.seen == [hold, "queued", "patient"]


async def test_sender_cancelled_while_waiting_for_room_never_enqueues_its_message() -> None:
    actor = Probe()
    hold = Hold()
    async with ActorSystem() as system:
        ref = await system.spawn(lambda: actor, name="small", mailbox_size=1)
        with anyio.fail_after(5):
            async with anyio.create_task_group() as tg:
                tg.start_soon(ref.ask, hold)
                await hold.entered.wait()
                ref.tell_nowait("queued")
                scope = await tg.start(ask_in_scope, ref, "given up")
                await wait_all_tasks_blocked()
                scope.cancel()
                await wait_all_tasks_blocked()
                hold.release.set()
            assert await ref.ask("flush") == ("echo", "flush")
    assert scope.cancelled_caught
    assert actor.seen == [hold, "queued", "flush"]


async def test_sender_waiting_for_room_gets_shutting_down_when_stop_begins() -> None:
    """Stop wakes senders waiting for room; the messages already queued are still served."""
    actor = Probe()
    hold = Hold()
    outcomes: dict[object, object] = {}
    refused_before_release: list[bool] = []

    async def release_once_stopping() -> None:
        await wait_all_tasks_blocked()  # the system block was left: stop is waiting
        refused_before_release.append(isinstance(outcomes.get("patient"), ShuttingDown))
        hold.release.set()

    with anyio.fail_after(5):
        # The senders outlive the system: they see what its stop does to them.
        async with anyio.create_task_group() as senders, ActorSystem() as system:
            ref = await system.spawn(lambda: actor, name="small", mailbox_size=1)
            senders.start_soon(capture, ref, hold, outcomes)
            await hold.entered.wait()
            senders.start_soon(capture, ref, "queued", outcomes)
            await wait_all_tasks_blocked()
            senders.start_soon(capture, ref, "patient", outcomes)
            await wait_all_tasks_blocked()
            senders.start_soon(release_once_stopping)
    assert refused_before_release == [True]
    assert outcomes[hold] == "held"
    assert outcomes["queued"] == ("echo", "queued")
    assert actor.seen == [hold, "queued"]
