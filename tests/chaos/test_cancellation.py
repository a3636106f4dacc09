"""Storms of cancelled asks in process, on a real file.

SPEC §1: the commit runs shielded from cancellation, and a caller that gave up never
leaves a half-applied state behind; a vanished caller never hurts the writer. So: every
call that returned has its write, a call refused with ``Overloaded`` wrote nothing,
nothing is stored twice, batches are all or nothing, and the engine serves afterwards.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from pathlib import Path

import anyio
import pytest
from anyio import wait_all_tasks_blocked
from anyio.lowlevel import checkpoint

from cortex import Cortex
from cortex.errors import Overloaded, ShuttingDown
from tests.chaos.kit import SEED, Acks, assert_acks_hold, assert_sound

pytestmark = [pytest.mark.chaos, pytest.mark.anyio]

WAVES = 12
PER_WAVE = 250
#: deadlines from "cancelled at the first await" to "usually in time"
DEADLINES = (0.0, 0.0, 1e-5, 1e-4, 5e-4, 1e-3, 3e-3, 1e-2, 0.05)


class Storm:
    """Random writes and reads against one engine, recording what was acknowledged."""

    def __init__(self, cx: Cortex, rng: random.Random, agents: list[str]) -> None:
        self.cx, self.rng, self.agents = cx, rng, agents
        self.acks = Acks()
        self.refused: set[str] = set()
        self.made = 0
        #: asks whose deadline passed before they returned
        self.cancelled = 0

    def _id(self) -> str:
        self.made += 1
        return f"c-{self.made}"

    def pick(self) -> Callable[[], Awaitable[None]]:
        op = self.rng.choices((self.store, self.store_many, self.vote, self.read),
                              (5, 2, 3, 2))[0]
        return op()

    def store(self) -> Callable[[], Awaitable[None]]:
        fact_id, content = self._id(), f"stored {self.rng.random()}"
        self.acks.doubtful[fact_id] = content

        async def run() -> None:
            try:
                fact = await self.cx.store("chaos", content, id=fact_id)
            except Overloaded:  # never queued: it must never be written
                self.refused.add(fact_id)
                del self.acks.doubtful[fact_id]
                return
            assert (fact.id, fact.content) == (fact_id, content)
            self.acks.stored[fact_id] = self.acks.doubtful.pop(fact_id)
        return run

    def store_many(self) -> Callable[[], Awaitable[None]]:
        items = {self._id(): f"batched {self.rng.random()}"
                 for _ in range(self.rng.randint(2, 5))}
        self.acks.batches.append(tuple(items))
        self.acks.doubtful.update(items)

        async def run() -> None:
            try:
                facts = await self.cx.store_many(
                    [{"project": "chaos", "content": c, "id": i} for i, c in items.items()])
            except Overloaded:
                self.refused.update(items)
                for fact_id in items:
                    del self.acks.doubtful[fact_id]
                return
            assert {f.id: f.content for f in facts} == items
            for fact_id in items:
                self.acks.stored[fact_id] = self.acks.doubtful.pop(fact_id)
        return run

    def vote(self) -> Callable[[], Awaitable[None]]:
        fact_id = self.rng.choice(list(self.acks.stored) or ["seed"])
        agent_id, value = self.rng.choice(self.agents), self.rng.choice((1, -1, 0))

        async def run() -> None:
            try:
                result = await self.cx.vote(fact_id, agent_id, value)
            except Overloaded:
                return
            if result.seq is not None:
                self.acks.votes.append((result.seq, fact_id, agent_id, value))
        return run

    def read(self) -> Callable[[], Awaitable[None]]:
        fact_id = self.rng.choice(list(self.acks.stored) or ["seed"])

        async def run() -> None:
            try:
                assert (await self.cx.get(fact_id)).id == fact_id
                await self.cx.recall("chaos", limit=5)
            except Overloaded:
                return
        return run

    async def retry_in_doubt(self) -> None:
        """Callers that gave up retry with the same ids: each write lands exactly once."""
        in_batches = {i for batch in self.acks.batches for i in batch}
        for batch in self.acks.batches:
            if batch[0] in self.acks.doubtful:
                items = [{"project": "chaos", "content": self.acks.doubtful[i], "id": i}
                         for i in batch]
                facts = await self.cx.store_many(items)
                assert [f.id for f in facts] == list(batch)
                for fact_id in batch:
                    self.acks.stored[fact_id] = self.acks.doubtful.pop(fact_id)
        for fact_id, content in list(self.acks.doubtful.items()):
            if fact_id not in in_batches:
                assert (await self.cx.store("chaos", content, id=fact_id)).content == content
                self.acks.stored[fact_id] = self.acks.doubtful.pop(fact_id)


async def _under_deadline(storm: Storm, deadline: float) -> None:
    op = storm.pick()
    with anyio.move_on_after(deadline) as scope:
        await op()
    storm.cancelled += scope.cancelled_caught


@pytest.mark.timeout(240)
async def test_thousands_of_cancelled_asks_lose_nothing_acknowledged_and_store_nothing_twice(
    tmp_path: Path,
) -> None:
    rng = random.Random(SEED)
    db = tmp_path / "data" / "cortex.db"
    async with Cortex.open(db, log_level="warning", writer_mailbox=64, reader_mailbox=32,
                           max_batch=32, checkpoint_every=100) as cx:
        agents = [(await cx.agents.register(f"agent-{n}")).id for n in range(5)]
        await cx.store("chaos", "the first fact", id="seed")
        storm = Storm(cx, rng, agents)
        for wave in range(WAVES):
            async with anyio.create_task_group() as tg:
                for _ in range(PER_WAVE):
                    tg.start_soon(_under_deadline, storm, rng.choice(DEADLINES))
            # the other way to give up: a whole group cancelled once every ask is waiting
            async with anyio.create_task_group() as tg:
                for _ in range(PER_WAVE // 5):
                    tg.start_soon(storm.pick())
                await wait_all_tasks_blocked()
                tg.cancel_scope.cancel()
            storm.cancelled += PER_WAVE // 5
            if wave % 4 == 3:
                await storm.retry_in_doubt()
        await storm.retry_in_doubt()
        await checkpoint()
        # the writer and the readers serve on
        after = await cx.store("chaos", "stored after the storm", tags=["after"])
        assert (await cx.get(after.id)).content == "stored after the storm"
        assert after.id in [f.id for f in await cx.recall("chaos", tags=["after"])]
        assert [h.fact.id for h in (await cx.search("storm", mode="text")).results] == [after.id]
        report = await cx.ledger.verify()
        assert report.ok, report.problems
        stats = cx.statistics()
        assert (stats.writer.in_flight, stats.writer.queue_depth) == (0, 0)
        assert (stats.readers.in_flight, stats.readers.queue_depth) == (0, 0)
        verifier = cx.ledger.public_key
    snap = assert_sound(db, verifier)
    assert_acks_hold(snap, storm.acks)
    assert not storm.acks.doubtful
    assert not storm.refused & set(snap.facts), (
        "a store refused with Overloaded was written anyway")
    print(f"\ncancellation storm: {storm.made} ids, {len(storm.acks.stored)} acknowledged,"
          f" {storm.cancelled} asks cancelled, {len(storm.acks.votes)} votes,"
          f" {len(storm.refused)} refused (Overloaded), {len(snap.entries)} entries")


@pytest.mark.timeout(120)
async def test_closing_the_engine_under_load_answers_every_pending_ask(tmp_path: Path) -> None:
    """Shutdown stops intake, drains the queue and answers every ask: with its result or
    ``ShuttingDown``; what was answered stored is stored, what was refused is absent."""
    db = tmp_path / "data" / "cortex.db"
    stored: dict[str, str] = {}
    refused: set[str] = set()

    async def store(cx: Cortex, n: int) -> None:
        fact_id, content = f"s-{n}", f"closing {n}"
        try:
            fact = await cx.store("chaos", content, id=fact_id)
        except ShuttingDown:
            refused.add(fact_id)
        else:
            stored[fact.id] = fact.content

    with anyio.fail_after(60):
        async with (
            anyio.create_task_group() as tg,
            Cortex.open(db, log_level="warning", writer_mailbox=32, max_batch=8,
                        commit_delay_ms=5) as cx,
        ):
            verifier = cx.ledger.public_key
            for n in range(400):
                tg.start_soon(store, cx, n)
            await wait_all_tasks_blocked()  # every store is queued or waiting for room
    assert len(stored) + len(refused) == 400, "an ask was left unanswered"
    assert stored and refused
    acks = Acks(stored=stored)
    snap = assert_sound(db, verifier)
    assert_acks_hold(snap, acks)
    assert not refused & set(snap.facts), "a store answered ShuttingDown was written"
    assert max(snap.checkpoints) == len(snap.entries), "the final head is signed"
    print(f"\nclosing under load: {len(stored)} stored, {len(refused)} ShuttingDown")
