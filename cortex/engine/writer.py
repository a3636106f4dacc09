"""The writer actor: owns the only read-write connection and commits in groups.

A batch (the first queued command plus whatever else is already waiting, up to
``max_batch``) becomes one transaction: ``BEGIN IMMEDIATE``, one ``SAVEPOINT`` per
command so a failing command rolls back alone, the checkpoints the batch made due, one
``COMMIT``, one fsync. The whole batch runs as a single synchronous function on the
connection's thread (one thread hop), and replies go out only after ``COMMIT`` returned,
so every acknowledged write is durable and readable. The commit is shielded: a caller
that gives up cannot interrupt it. Right after COMMIT the new tree head is published to
the readers (``TrustedHeads``) and, when a checkpoint was signed, to the witness file.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import assert_never

import aiosqlite
import anyio
import sqlean
import structlog

from actors import BatchActor, Envelope
from cortex.config import Settings
from cortex.core.extraction import configured_tools
from cortex.db import migrations, mutations
from cortex.db.connect import open_writer, run_sync
from cortex.db.opening import damaged_pages, establish_head
from cortex.db.rows import checkpoint_from_row
from cortex.db.trusted import TrustedHeads
from cortex.engine.messages import (
    CastVote,
    CheckpointMade,
    CreateKey,
    DeactivateAgent,
    DeprecateFact,
    FactDeprecated,
    FactRedacted,
    FactsStored,
    FactStored,
    FactUpdated,
    MakeCheckpoint,
    ProbeStorage,
    RedactFact,
    RegisterAgent,
    RevokeKey,
    StoreFact,
    StoreFacts,
    StoreVectors,
    TouchKeys,
    UpdateFact,
    WriteCommand,
)
from cortex.engine.storage import WriterFailed, batch_failure, inject_fault, open_failure, probe
from cortex.errors import (
    CortexError,
    DatabaseCorrupt,
    LedgerTampered,
    ReadOnlyStore,
    StorageError,
)
from cortex.trust import Witness, default_witness_path, read_witness, write_witness

log = structlog.get_logger("cortex.writer")

# SQLite errors are caught as ``sqlean.Error``: sqlean ships its own SQLite and its own
# exception classes, which are not subclasses of the stdlib ``sqlite3`` ones.


@dataclass(slots=True)
class BatchContext:
    """What a batch needs besides the connection; ``made`` collects its new checkpoints."""

    signer: mutations.Signer
    checkpoint_every: int
    trusted: TrustedHeads
    witness_path: Path
    #: a slow disk, for tests: seconds to wait before each COMMIT
    commit_delay: float = 0.0
    #: fault injection, for tests: see ``cortex.engine.storage.inject_fault``
    fault_file: Path | None = None
    made: list[str] = field(default_factory=list)
    entity_ids: mutations.EntityIds = field(default_factory=mutations.EntityIds)


def apply_command(
    conn: sqlite3.Connection, ledger: mutations.Ledger, command: WriteCommand,
    context: BatchContext,
) -> object:
    """Run one command's mutations (inside its savepoint) and return its reply."""
    match command:
        case StoreFact(tenant, draft, id_given):
            fact, created = mutations.store_fact(conn, ledger, tenant, draft, id_given)
            return FactStored(fact, created)
        case StoreFacts(tenant, drafts, id_given):
            return FactsStored(mutations.store_facts(conn, ledger, tenant, drafts, id_given))
        case UpdateFact(tenant, fact_id, new_id, changes, author, graph):
            return FactUpdated(mutations.update_fact(conn, ledger, tenant, fact_id, new_id,
                                                     changes, author, graph))
        case DeprecateFact(tenant, fact_id, reason):
            return FactDeprecated(mutations.deprecate_fact(conn, ledger, tenant, fact_id, reason))
        case RedactFact(tenant, fact_id, reason):
            return FactRedacted(mutations.redact_fact(conn, ledger, tenant, fact_id, reason))
        case MakeCheckpoint(reason):
            return _checkpoint(conn, ledger, context, reason)
        case RegisterAgent(tenant, agent_id, name, public_key, meta):
            return mutations.register_agent(conn, ledger, tenant, agent_id, name, public_key,
                                            meta)
        case DeactivateAgent(tenant, agent_id):
            return mutations.deactivate_agent(conn, ledger, tenant, agent_id)
        case CastVote(tenant, fact_id, agent_id, value):
            return mutations.cast_vote(conn, ledger, tenant, fact_id, agent_id, value)
        case CreateKey(key_id, secret, tenant, role, projects, agent_id, name):
            return mutations.create_key(conn, ledger, key_id, secret, tenant, role, projects,
                                        agent_id, name)
        case RevokeKey(tenant, key_id):
            return mutations.revoke_key(conn, ledger, tenant, key_id)
        case StoreVectors(model, vectors, up_to_rowid, final):
            return mutations.store_vectors(conn, model, vectors, up_to_rowid, final)
        case TouchKeys(last_used):
            mutations.touch_keys(conn, last_used)
            return None
        case ProbeStorage():
            probe(conn)
            return None
        case _:
            assert_never(command)


def _checkpoint(
    conn: sqlite3.Connection, ledger: mutations.Ledger, context: BatchContext, reason: str,
    size: int | None = None,
) -> CheckpointMade:
    now = ledger.stamp()[1]
    made = mutations.make_checkpoint(conn, ledger.head, context.signer, now, reason, size)
    tree_size, root, note, created = made
    if created:
        context.made.append(note)
    row = conn.execute("SELECT recorded_at, reason FROM checkpoints WHERE tree_size = ?",
                       (tree_size,)).fetchone()
    return CheckpointMade(checkpoint_from_row(tree_size, root, row[0], row[1], note), created)


def run_batch(
    conn: sqlite3.Connection,
    head: mutations.ChainHead,
    commands: Sequence[WriteCommand],
    context: BatchContext,
) -> tuple[list[object], mutations.ChainHead]:
    """Apply ``commands`` in one transaction; return per-command results and the new head.

    A command that raises is rolled back to its savepoint and its exception becomes its
    result; the others commit. A SQLite failure outside a command's own logic (I/O,
    disk full, failed COMMIT) rolls back everything and raises ``WriterFailed``.
    """
    ledger = mutations.Ledger(conn, head, buffer=mutations.WriteBuffer(mutations.FACT_INSERT),
                              entity_ids=context.entity_ids)
    results: list[object] = []
    context.made.clear()
    try:
        conn.execute("BEGIN IMMEDIATE")
        for run in _runs(commands):
            if isinstance(run, list):
                results.extend(_store_run(conn, ledger, run))
                continue
            mark = ledger.head
            conn.execute("SAVEPOINT command")
            try:
                results.append(apply_command(conn, ledger, run, context))
                ledger.flush()
            except sqlean.Error as error:
                if not isinstance(error, sqlean.IntegrityError):
                    raise  # the connection or the disk is in trouble: fail the batch
                _undo(conn, ledger, mark, results, error)
            except Exception as error:  # noqa: BLE001 - this command fails alone
                _undo(conn, ledger, mark, results, error)
            conn.execute("RELEASE command")
        for size in mutations.due_checkpoints(head.next_seq, ledger.head.next_seq,
                                              context.checkpoint_every):
            _checkpoint(conn, ledger, context, "auto", size)
        if context.commit_delay:
            time.sleep(context.commit_delay)
        inject_fault(context.fault_file)
        conn.execute("COMMIT")
    except BaseException as error:
        _rollback_quietly(conn)
        context.made.clear()
        if isinstance(error, sqlean.Error):
            raise WriterFailed(error) from error
        raise
    if ledger.head.next_seq != head.next_seq:
        context.trusted.publish(ledger.head.next_seq, ledger.head.root())
    if context.made:
        _witness_quietly(context, Witness(context.made[-1], clean_shutdown=False))
    return results, ledger.head


def _witness_quietly(context: BatchContext, witness: Witness) -> None:
    """Record a checkpoint in the witness file after COMMIT, never failing the batch.

    The batch is committed: raising now would tell its askers their durable writes
    failed and leave the writer's chain head behind the database (the next batch would
    then collide on ``ledger.seq``). A witness left one checkpoint behind is still a
    prefix of the log, so opening stays safe; the next checkpoint writes it again.
    """
    try:
        write_witness(context.witness_path, witness)
    except OSError as error:
        log.error("writer.witness_not_written", witness=str(context.witness_path),
                  error=repr(error))


def _runs(commands: Sequence[WriteCommand]) -> list[WriteCommand | list[StoreFact]]:
    """Group consecutive stores of Cortex-generated ids (the hot path) into runs."""
    runs: list[WriteCommand | list[StoreFact]] = []
    for command in commands:
        if isinstance(command, StoreFact) and not command.id_given:
            if runs and isinstance(runs[-1], list):
                runs[-1].append(command)
            else:
                runs.append([command])
        else:
            runs.append(command)
    return runs


def _store_run(
    conn: sqlite3.Connection, ledger: mutations.Ledger, run: list[StoreFact]
) -> list[object]:
    """Plain stores without savepoints: everything that can refuse a store (validity
    against the commit time) is checked before its rows are buffered, so a refused one
    leaves nothing behind; the run's rows then go in with one ``executemany`` per table."""
    results: list[object] = []
    for command in run:
        head, rows = ledger.head, ledger.buffer.mark()
        try:
            fact, created = mutations.store_fact(conn, ledger, command.tenant, command.draft,
                                                 id_given=False)
        except Exception as error:  # noqa: BLE001 - this store fails alone
            ledger.head = head
            ledger.buffer.reset(rows)
            results.append(error)
        else:
            results.append(FactStored(fact, created))
    ledger.flush()
    return results


#: the migration that created the entity graph: stores made before it get theirs at open
GRAPH_MIGRATION = 2


def _in_transaction(conn: sqlite3.Connection, work: Callable[..., object],
                    *args: object) -> object:
    conn.execute("BEGIN IMMEDIATE")
    try:
        result = work(conn, *args)
    except BaseException:
        _rollback_quietly(conn)
        raise
    conn.execute("COMMIT")
    return result


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
    ledger.buffer.reset()
    conn.execute("ROLLBACK TO command")
    ledger.head = mark
    results.append(error)


class WriterActor(BatchActor[WriteCommand]):
    """The single owner of the read-write connection, the chain head and the signer."""

    def __init__(self, settings: Settings, signer: mutations.Signer,
                 trusted: TrustedHeads) -> None:
        self.settings = settings
        self.conn: aiosqlite.Connection | None = None
        self.head = mutations.GENESIS
        self.trusted = trusted
        self.witness_path = settings.witness_path or default_witness_path(signer.origin)
        self.context = BatchContext(signer, settings.checkpoint_every, trusted,
                                    self.witness_path, settings.commit_delay_ms / 1000,
                                    settings.fault_file)
        #: why the last batch could not commit (cleared by the next batch that commits):
        #: ``/health`` is unhealthy while it is set
        self.storage_fault: CortexError | None = None
        #: the first open succeeded (later opens are restarts after a crash)
        self._started = False
        #: problems found at open; non-empty only in forensic (``allow_tampered``) mode
        self.tampered: list[str] = []

    async def on_start(self) -> None:
        """Open, migrate and verify the database.

        At the first start a failure is raised (the store is refused). At a restart after
        a crash it is not: the writer stays up without a connection, answers every batch
        with the error and retries the open before each, so a fault that outlasts the
        runtime's restart budget never takes the writer down for good.

        Raises:
            DatabaseCorrupt: SQLite finds the file damaged (names the file).
            DiskFull, StorageReadOnly, StorageError: the file cannot be opened or written.
            LedgerTampered: the ledger does not verify against the witness.
        """
        try:
            try:
                await self._open()
            except sqlean.Error as error:
                raise open_failure(error, self.settings.db_path) from error
        except CortexError as error:
            if not self._started:
                raise
            self.storage_fault = error
            log.error("writer.reopen_failed", code=error.code, error=error.detail)
            return
        self._started = True

    async def _open(self) -> None:
        inject_fault(self.settings.fault_file)  # a disk that fails reopening too
        self.conn = await open_writer(self.settings)
        try:
            if self.settings.verify_on_open == "full":
                damage = await run_sync(self.conn, damaged_pages)
                if damage:
                    raise DatabaseCorrupt(str(self.settings.db_path),
                                          "PRAGMA quick_check: " + "; ".join(damage))
            applied = await run_sync(self.conn, migrations.apply_pending)
            if GRAPH_MIGRATION in applied:
                tools = configured_tools(self.settings.graph_tools)
                await run_sync(self.conn, _in_transaction, mutations.graph_backfill, tools,
                               time.time_ns() // 1000)
            await self._establish_trust()
        except BaseException:
            await self.conn.close()
            self.conn = None
            raise
        log.info("writer.started", db=str(self.settings.db_path), migrations=applied,
                 ledger_size=self.head.next_seq, durability=self.settings.durability,
                 witness=str(self.witness_path))

    async def _establish_trust(self) -> None:
        assert self.conn is not None
        witness = read_witness(self.witness_path)
        scan = await run_sync(self.conn, establish_head, self.context.signer.verifier_key,
                              witness, self.settings.verify_on_open)
        if scan.problems:
            first = scan.problems[0]
            if not self.settings.allow_tampered:
                raise LedgerTampered(f"refusing to open {self.settings.db_path}: "
                                     f"entry {first.seq}: {first.what}", seq=first.seq)
            self.tampered = [f"entry {p.seq}: {p.what}" for p in scan.problems]
            log.error("writer.tampered_store_opened_read_only", problems=self.tampered)
        self.head = mutations.ChainHead(scan.size, scan.last_hash, scan.last_time,
                                        scan.frontier)
        self.trusted.reset(self.head.next_seq, self.head.root())
        if witness is None and self.head.next_seq:
            log.warning("writer.no_witness", detail="no witnessed checkpoint for this log: "
                        "trusting the store as found", witness=str(self.witness_path))
        if not self.tampered:
            note = witness.note if witness else None
            write_witness(self.witness_path, Witness(note, clean_shutdown=False))

    async def on_drained(self) -> None:
        """Clean shutdown: sign the final head and tell the witness the run ended cleanly."""
        if self.conn is None or self.tampered:
            return
        results, self.head = await run_sync(self.conn, run_batch, self.head,
                                            [MakeCheckpoint("shutdown")], self.context)
        made = results[0]
        if isinstance(made, CheckpointMade):
            write_witness(self.witness_path, Witness(made.checkpoint.note, clean_shutdown=True))

    async def on_stop(self) -> None:
        if self.conn is not None:
            conn, self.conn = self.conn, None
            await conn.close()

    def is_fatal(self, error: BaseException) -> bool:
        # a damaged page may be the connection's cache as much as the file: reopen (and,
        # with verify_on_open="full", re-check the whole file before taking writes again)
        return isinstance(error, DatabaseCorrupt) or (
            isinstance(error, WriterFailed) and error.fatal)

    async def handle_batch(self, batch: Sequence[Envelope[WriteCommand]]) -> Sequence[object]:
        if self.conn is None:  # a restart could not reopen it: try again, now
            await self.on_start()
            if self.conn is None:
                fault = self.storage_fault or StorageError(
                    f"cannot open the database {self.settings.db_path}")
                return [fault] * len(batch)
        if self.tampered:
            refusal = ReadOnlyStore("the store failed verification at open and is open "
                                    "read-only for inspection (allow_tampered)")
            return [refusal] * len(batch)
        commands = [envelope.message for envelope in batch]
        started = time.perf_counter()
        try:
            with anyio.CancelScope(shield=True):
                results, self.head = await run_sync(self.conn, run_batch, self.head, commands,
                                                    self.context)
        except WriterFailed as failure:
            self.storage_fault = batch_failure(failure, self.settings.db_path)
            log.error("writer.batch_failed", size=len(batch), code=self.storage_fault.code,
                      error=str(failure.error))
            raise self.storage_fault from failure
        self.storage_fault = None
        log.debug(
            "writer.batch",
            size=len(batch),
            ms=round((time.perf_counter() - started) * 1000, 3),
            request_ids=[e.request_id for e in batch if e.request_id],
            ledger_size=self.head.next_seq,
        )
        return results
