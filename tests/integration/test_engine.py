"""The single-writer engine under concurrency, cancellation, overload, stop and restart."""

from __future__ import annotations

import random
import subprocess
import sys
import textwrap
from pathlib import Path

import anyio
import pytest
import sqlean
from anyio import wait_all_tasks_blocked
from anyio.lowlevel import checkpoint

from cortex import Cortex
from cortex.errors import DatabaseLocked, FactConflict, Overloaded, SchemaTooNew, ShuttingDown
from cortex.model import Fact
from tests.integration.ledger_check import count_rows, fact_ids, verify_chain

pytestmark = pytest.mark.anyio


async def test_a_thousand_concurrent_stores_are_each_committed_once(db_path: Path) -> None:
    acknowledged: list[str] = []

    async def producer(cx: Cortex, worker: int) -> None:
        for n in range(10):
            fact = await cx.store(project="load", content=f"worker {worker} fact {n}")
            acknowledged.append(fact.id)

    async with Cortex.open(db_path, log_level="warning") as cx:
        async with anyio.create_task_group() as tg:
            for worker in range(100):
                tg.start_soon(producer, cx, worker)
        stats = cx.statistics().writer
    assert len(acknowledged) == 1000
    stored = fact_ids(db_path)
    assert sorted(stored) == sorted(acknowledged)
    assert len(set(stored)) == 1000
    assert verify_chain(db_path) == 1000
    assert stats.max_batch_size > 1, "group commit must have batched concurrent stores"
    assert stats.batches < 1000


async def test_a_failing_command_fails_alone_and_its_batch_neighbours_commit(
    db_path: Path,
) -> None:
    """Conflicting ids are only detected inside the writer, so they fail mid-batch."""
    outcomes: dict[int, Fact | Exception] = {}

    async def store(cx: Cortex, index: int) -> None:
        fact_id = "taken" if index % 3 == 0 else f"free-{index}"
        try:
            outcomes[index] = await cx.store(project="p", content=f"c{index}", id=fact_id)
        except FactConflict as error:
            outcomes[index] = error

    async with Cortex.open(db_path, log_level="warning") as cx:
        await cx.store(project="p", content="original", id="taken")
        async with anyio.create_task_group() as tg:
            for index in range(60):
                tg.start_soon(store, cx, index)
        assert cx.statistics().writer.max_batch_size > 1
    failed = [i for i, o in outcomes.items() if isinstance(o, Exception)]
    assert failed == [i for i in range(60) if i % 3 == 0]
    assert count_rows(db_path, "facts") == 1 + 40
    assert verify_chain(db_path) == 41


async def test_cancelled_callers_lose_no_acknowledged_write_and_leave_nothing_partial(
    db_path: Path,
) -> None:
    rng = random.Random(20261124)
    acknowledged: set[str] = set()

    async def impatient(cx: Cortex, index: int, patience: int | None) -> None:
        with anyio.CancelScope() as scope:
            async with anyio.create_task_group() as tg:
                async def give_up() -> None:
                    if patience is None:
                        return
                    for _ in range(patience):
                        await checkpoint()
                    scope.cancel()

                tg.start_soon(give_up)
                fact = await cx.store(project="c", content=f"impatient {index}")
                acknowledged.add(fact.id)
                tg.cancel_scope.cancel()

    async with Cortex.open(db_path, log_level="warning") as cx:
        async with anyio.create_task_group() as tg:
            for index in range(2000):
                patience = None if rng.random() < 0.3 else rng.randint(0, 400)
                tg.start_soon(impatient, cx, index, patience)
        after = await cx.store(project="c", content="the writer still serves")
        assert (await cx.get(after.id)).content == "the writer still serves"
    stored = set(fact_ids(db_path))
    assert acknowledged <= stored, "every acknowledged write is on disk"
    assert 0 < len(acknowledged) < 2000, "the storm really cancelled some callers"
    assert count_rows(db_path, "ledger") == len(stored), "no fact without its entry"
    assert verify_chain(db_path) == len(stored)


async def test_full_mailbox_raises_overloaded_quickly_and_recovers(db_path: Path) -> None:
    async with Cortex.open(db_path, log_level="warning", writer_mailbox=2, max_batch=1,
                           enqueue_timeout=0.05) as cx:
        await cx.store(project="p", content="warm up")
        # sqlean, not the stdlib: two SQLite copies in one process do not see each
        # other's POSIX locks, so a stdlib connection would not block the writer.
        blocker = sqlean.connect(str(db_path), timeout=0)
        blocker.execute("BEGIN IMMEDIATE")  # the writer's next BEGIN waits on this
        results: list[Fact] = []

        async def store(index: int) -> None:
            results.append(await cx.store(project="p", content=f"queued {index}"))

        async with anyio.create_task_group() as tg:
            for index in range(3):  # one in flight, two queued: the mailbox is full
                tg.start_soon(store, index)
            await wait_all_tasks_blocked()
            with anyio.fail_after(2):
                with pytest.raises(Overloaded) as caught:
                    await cx.store(project="p", content="one too many")
            assert caught.value.code == "overloaded"
            assert cx.statistics().writer.queue_depth == 2
            blocker.rollback()
            blocker.close()
        assert len(results) == 3
        await cx.store(project="p", content="recovered")
    assert "one too many" not in {f.content for f in results}
    assert count_rows(db_path, "facts") == 5


async def test_leaving_the_block_drains_and_answers_every_pending_store(db_path: Path) -> None:
    outcomes: list[Fact | Exception] = []

    async def store(cx: Cortex, index: int) -> None:
        try:
            outcomes.append(await cx.store(project="p", content=f"late {index}"))
        except ShuttingDown as error:
            outcomes.append(error)

    async with anyio.create_task_group() as tg, Cortex.open(db_path, log_level="warning") as cx:
        for index in range(300):
            tg.start_soon(store, cx, index)
        await wait_all_tasks_blocked()
    assert len(outcomes) == 300
    assert all(isinstance(o, Fact) for o in outcomes), "queued before close: all served"
    assert count_rows(db_path, "facts") == 300
    with pytest.raises(ShuttingDown):
        await cx.store(project="p", content="after close")


async def test_reopening_continues_the_chain(db_path: Path) -> None:
    async with Cortex.open(db_path, log_level="warning") as cx:
        await cx.store(project="p", content="first life")
    async with Cortex.open(db_path, log_level="warning") as cx:
        fact = await cx.store(project="p", content="second life")
        assert fact.recorded_seq == 1
    assert verify_chain(db_path) == 2


async def test_a_second_process_cannot_open_the_same_database(db_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        import anyio
        from cortex import Cortex
        from cortex.errors import DatabaseLocked

        async def main():
            try:
                async with Cortex.open({str(db_path)!r}, log_level="warning"):
                    print("OPENED")
            except DatabaseLocked as error:
                print("LOCKED", error.holder)

        anyio.run(main)
        """
    )
    async with Cortex.open(db_path, log_level="warning"):
        with pytest.raises(DatabaseLocked):
            async with Cortex.open(db_path, log_level="warning"):
                pass
        result = await anyio.to_thread.run_sync(
            lambda: subprocess.run([sys.executable, "-c", script], capture_output=True,
                                   text=True, timeout=60)
        )
    assert result.stdout.startswith("LOCKED"), result.stdout + result.stderr
    assert "pid=" in result.stdout


async def test_a_database_from_a_newer_cortex_is_refused(db_path: Path) -> None:
    async with Cortex.open(db_path, log_level="warning"):
        pass
    conn = sqlean.connect(str(db_path))
    conn.execute("INSERT INTO schema_migrations VALUES (99, 'future', 0)")
    conn.commit()
    conn.close()
    with pytest.raises(SchemaTooNew) as caught:
        async with Cortex.open(db_path, log_level="warning"):
            pass
    assert "99" in str(caught.value)
