"""The writer actor: owns the only read-write connection and commits in groups.

A batch (the first queued command plus whatever else is already waiting, up to
``max_batch``) becomes one transaction: ``BEGIN IMMEDIATE``, one ``SAVEPOINT`` per
command so a failing command rolls back alone, one ``COMMIT``, one fsync. The whole batch
runs as a single synchronous function on the connection's thread (one thread hop), and
replies go out only after ``COMMIT`` returned, so every acknowledged write is durable and
readable. The commit is shielded: a caller that gives up cannot interrupt it.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Sequence
from typing import assert_never

import aiosqlite
import anyio
import sqlean
import structlog

from actors import BatchActor, Envelope
from cortex.config import Settings
from cortex.db import migrations, mutations
from cortex.db.connect import open_writer, run_sync
from cortex.engine.messages import (
    DeprecateFact,
    FactDeprecated,
    FactsStored,
    FactStored,
    FactUpdated,
    StoreFact,
    StoreFacts,
    UpdateFact,
    WriteCommand,
)
from cortex.errors import StorageError

log = structlog.get_logger("cortex.writer")

# SQLite errors are caught as ``sqlean.Error``: sqlean ships its own SQLite and its own
# exception classes, which are not subclasses of the stdlib ``sqlite3`` ones.

#: SQLite errors after which the connection itself is still sound (the batch just failed).
_RECOVERABLE = ("database or disk is full", "attempt to write a readonly database")


class WriterFailed(StorageError):
    """Raised to every command of a batch that SQLite could not commit."""

    def __init__(self, error: Exception) -> None:
        super().__init__(f"the database refused the write: {error}")
        self.fatal = not any(text in str(error) for text in _RECOVERABLE)


def apply_command(
    conn: sqlite3.Connection, ledger: mutations.Ledger, command: WriteCommand
) -> object:
    """Run one command's mutations (inside its savepoint) and return its reply."""
    match command:
        case StoreFact(tenant, draft):
            fact, created = mutations.store_fact(conn, ledger, tenant, draft)
            return FactStored(fact, created)
        case StoreFacts(tenant, drafts):
            return FactsStored(mutations.store_facts(conn, ledger, tenant, drafts))
        case UpdateFact(tenant, fact_id, new_id, changes):
            return FactUpdated(
                mutations.update_fact(conn, ledger, tenant, fact_id, new_id, changes)
            )
        case DeprecateFact(tenant, fact_id, reason):
            return FactDeprecated(mutations.deprecate_fact(conn, ledger, tenant, fact_id, reason))
        case _:
            assert_never(command)


def run_batch(
    conn: sqlite3.Connection, head: mutations.ChainHead, commands: Sequence[WriteCommand]
) -> tuple[list[object], mutations.ChainHead]:
    """Apply ``commands`` in one transaction; return per-command results and the new head.

    A command that raises is rolled back to its savepoint and its exception becomes its
    result; the others commit. A SQLite failure outside a command's own logic (I/O,
    disk full, failed COMMIT) rolls back everything and raises ``WriterFailed``.
    """
    ledger = mutations.Ledger(conn, head)
    results: list[object] = []
    try:
        conn.execute("BEGIN IMMEDIATE")
        for command in commands:
            mark = ledger.head
            conn.execute("SAVEPOINT command")
            try:
                results.append(apply_command(conn, ledger, command))
            except sqlean.Error as error:
                if not isinstance(error, sqlean.IntegrityError):
                    raise  # the connection or the disk is in trouble: fail the batch
                _undo(conn, ledger, mark, results, error)
            except Exception as error:  # noqa: BLE001 - this command fails alone
                _undo(conn, ledger, mark, results, error)
            conn.execute("RELEASE command")
        conn.execute("COMMIT")
    except BaseException as error:
        _rollback_quietly(conn)
        if isinstance(error, sqlean.Error):
            raise WriterFailed(error) from error
        raise
    return results, ledger.head


def _rollback_quietly(conn: sqlite3.Connection) -> None:
    """Roll back whatever is open; a broken connection is the restart's problem."""
    with contextlib.suppress(sqlean.Error):
        if conn.in_transaction:
            conn.execute("ROLLBACK")


def _undo(
    conn: sqlite3.Connection,
    ledger: mutations.Ledger,
    mark: mutations.ChainHead,
    results: list[object],
    error: Exception,
) -> None:
    """Roll one command back to its savepoint; its error becomes its result."""
    conn.execute("ROLLBACK TO command")
    ledger.head = mark
    results.append(error)


class WriterActor(BatchActor[WriteCommand]):
    """The single owner of the read-write connection."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.conn: aiosqlite.Connection | None = None
        self.head = mutations.ChainHead(0, b"", 0)

    async def on_start(self) -> None:
        self.conn = await open_writer(self.settings)
        try:
            applied = await run_sync(self.conn, migrations.apply_pending)
            self.head = await run_sync(self.conn, mutations.load_head)
        except BaseException:
            await self.conn.close()
            self.conn = None
            raise
        log.info("writer.started", db=str(self.settings.db_path), migrations=applied,
                 ledger_size=self.head.next_seq, durability=self.settings.durability)

    async def on_stop(self) -> None:
        if self.conn is not None:
            conn, self.conn = self.conn, None
            await conn.close()

    def is_fatal(self, error: BaseException) -> bool:
        return isinstance(error, WriterFailed) and error.fatal

    async def handle_batch(self, batch: Sequence[Envelope[WriteCommand]]) -> Sequence[object]:
        assert self.conn is not None, "on_start opened the connection"
        commands = [envelope.message for envelope in batch]
        started = time.perf_counter()
        with anyio.CancelScope(shield=True):
            results, self.head = await run_sync(self.conn, run_batch, self.head, commands)
        log.debug(
            "writer.batch",
            size=len(batch),
            ms=round((time.perf_counter() - started) * 1000, 3),
            request_ids=[e.request_id for e in batch if e.request_id],
            ledger_size=self.head.next_seq,
        )
        return results
