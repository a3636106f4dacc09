"""The writer's group commit, driven directly on a real SQLite file, and its restart."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cortex import Cortex
from cortex.config import Settings
from cortex.core.validation import draft_fact
from cortex.db import migrations, mutations
from cortex.db.connect import connect_writer_sync
from cortex.db.trusted import TrustedHeads
from cortex.engine.messages import DeprecateFact, FactStored, StoreFact
from cortex.engine.writer import BatchContext, WriterFailed, run_batch
from cortex.errors import FactConflict, FactNotFound, StorageError
from tests.integration.ledger_check import count_rows, verify_chain


def _store(content: str, fact_id: str) -> StoreFact:
    return StoreFact("default", draft_fact(project="p", content=content, id=fact_id))


def _context(tmp: Path) -> BatchContext:
    signer = mutations.Signer("test.local/log", Ed25519PrivateKey.generate())
    return BatchContext(signer, 1000, TrustedHeads(), tmp / "witness.json")


def test_one_batch_commits_the_good_commands_and_fails_the_bad_alone(db_path: Path) -> None:
    conn = connect_writer_sync(Settings.load(db_path))
    migrations.apply_pending(conn)
    head = mutations.GENESIS
    commands = [
        _store("a", "id-a"),
        _store("clash", "id-a"),  # same id, other content
        DeprecateFact("default", "nope", None),
        _store("b", "id-b"),
    ]
    results, head = run_batch(conn, head, commands, _context(db_path.parent))
    conn.close()
    assert isinstance(results[0], FactStored) and results[0].fact.recorded_seq == 0
    assert isinstance(results[1], FactConflict)
    assert isinstance(results[2], FactNotFound)
    assert isinstance(results[3], FactStored) and results[3].fact.recorded_seq == 1
    assert head.next_seq == 2, "failed commands leave no gap in the chain"
    assert count_rows(db_path, "facts") == 2
    assert verify_chain(db_path) == 2


def test_a_sqlite_failure_rolls_back_the_whole_batch(db_path: Path) -> None:
    conn = connect_writer_sync(Settings.load(db_path))
    migrations.apply_pending(conn)
    context = _context(db_path.parent)
    _, head = run_batch(conn, mutations.GENESIS, [_store("kept", "kept")], context)
    conn.execute("DROP TABLE facts")  # every insert now fails below the command logic
    with pytest.raises(WriterFailed) as caught:
        run_batch(conn, head, [_store("lost", "lost")], context)
    assert caught.value.fatal
    assert not conn.in_transaction
    assert conn.execute("SELECT count(*) FROM ledger").fetchone()[0] == 1, "nothing moved"
    assert context.trusted.latest == (1, head.root())
    conn.close()


@pytest.mark.anyio
async def test_the_writer_restarts_after_its_connection_breaks(db_path: Path) -> None:
    async with Cortex.open(db_path, log_level="critical") as cx:
        first = await cx.store(project="p", content="before the crash")
        raw = cx._writer_actor.conn._conn  # type: ignore[union-attr]
        raw.close()  # the connection dies under the writer
        with pytest.raises(StorageError):
            await cx.store(project="p", content="during the crash")
        after = await cx.store(project="p", content="after the restart")
        assert after.recorded_seq == first.recorded_seq + 1
        assert cx.statistics().writer.restarts == 1
    assert verify_chain(db_path) == 2
