"""The indexer actor: embeds stored facts behind the acknowledgement, in micro-batches.

Stores never wait on the model (it embeds a few hundred texts/s, stores run at thousands).
After a store the facade sends a ``Wake`` (the mailbox holds one, so wakes coalesce); the
indexer then reads the fact rows after its progress mark on its own read-only connection,
embeds up to ``BATCH`` texts through the model's index lane (which lets every waiting
query embedding go first, see ``model_lanes``), and hands each batch of vectors to the
writer as one command, which also advances the mark. The mark is in the database, so a
restart resumes where the last committed batch ended.

Progress is per model: after a model change (a new ``MODEL_ID``) the new model has no
mark, so every live fact is embedded again in the background, each new vector replacing
the old model's; search reads only the current model's vectors meanwhile, and once the
new model has caught up the old model's leftovers and progress are purged.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

import aiosqlite
import anyio
import structlog

from actors import Actor, ActorRef
from cortex.config import Settings
from cortex.db.connect import open_reader, run_sync
from cortex.embed.model_files import MODEL_ID, ModelUnavailable
from cortex.engine.embeddings import EmbeddingService
from cortex.engine.messages import StoreVectors, WriteCommand
from cortex.errors import ShuttingDown

log = structlog.get_logger("cortex.indexer")
BATCH = 32


@dataclass(frozen=True, slots=True)
class Wake:
    """New facts may be waiting for vectors."""


class IndexProgress:
    """How far indexing got (the last fact version's seq), for ``wait_indexed``."""

    def __init__(self) -> None:
        self.seq = -1
        self.rowid = 0
        self.closed = False
        self._changed = anyio.Event()

    def advance(self, rowid: int, seq: int) -> None:
        self.rowid, self.seq = rowid, max(self.seq, seq)
        self._changed.set()
        self._changed = anyio.Event()

    def close(self) -> None:
        """Indexing stops: wake every waiter, which then raises ``ShuttingDown``."""
        self.closed = True
        self._changed.set()

    async def wait_for(self, seq: int) -> None:
        """Return once ``seq`` is indexed. Raises ``ShuttingDown`` if indexing stops
        first (the vector comes after the next open: the mark is in the database)."""
        while self.seq < seq:
            if self.closed:
                raise ShuttingDown("indexer")
            await self._changed.wait()


def _pending(
    conn: sqlite3.Connection, after_rowid: int, limit: int
) -> list[tuple[int, int, str]]:
    """Live fact versions after ``after_rowid``: (rowid, recorded_seq, content)."""
    return conn.execute(
        "SELECT rowid, recorded_seq, content FROM facts WHERE rowid > ? AND redacted = 0"
        " AND superseded_seq IS NULL AND deprecated_seq IS NULL ORDER BY rowid LIMIT ?",
        (after_rowid, limit)).fetchall()


def _progress(conn: sqlite3.Connection) -> tuple[int, int]:
    row = conn.execute("SELECT p.indexed_rowid, coalesce(f.recorded_seq, -1) FROM"
                       " vector_progress p LEFT JOIN facts f ON f.rowid = p.indexed_rowid"
                       " WHERE p.model = ?", (MODEL_ID,)).fetchone()
    return (0, -1) if row is None else (int(row[0]), int(row[1]))


def _other_models(conn: sqlite3.Connection) -> bool:
    """Whether vectors of another model may remain (every model with vectors has a row)."""
    return conn.execute("SELECT 1 FROM vector_progress WHERE model != ? LIMIT 1",
                        (MODEL_ID,)).fetchone() is not None


def _last_rowid(conn: sqlite3.Connection) -> tuple[int, int]:
    row = conn.execute("SELECT rowid, recorded_seq FROM facts ORDER BY rowid DESC LIMIT 1"
                       ).fetchone()
    return (0, -1) if row is None else (int(row[0]), int(row[1]))


class IndexerActor(Actor[Wake]):
    def __init__(self, settings: Settings, embeddings: EmbeddingService,
                 writer: ActorRef[WriteCommand], progress: IndexProgress) -> None:
        self.settings = settings
        self.embeddings = embeddings
        self.writer = writer
        self.progress = progress
        self.conn: aiosqlite.Connection | None = None
        #: another model's vectors are still stored: purge them once caught up
        self.stale_models = False
        #: set at shutdown: stop after the slice in hand instead of draining the backlog
        self.stopping = False

    def stop_soon(self) -> None:
        """Leave the backlog for the next open (the mark is in the database), so closing
        takes one slice, not the model's time for every pending fact."""
        self.stopping = True

    async def on_start(self) -> None:
        self.conn = await open_reader(self.settings)
        rowid, seq = await run_sync(self.conn, _progress)
        self.progress.advance(rowid, seq)
        self.stale_models = await run_sync(self.conn, _other_models)

    async def on_stop(self) -> None:
        if self.conn is not None:
            conn, self.conn = self.conn, None
            await conn.close()

    async def handle(self, message: Wake) -> None:
        assert self.conn is not None
        try:
            await self.embeddings.embedder()
        except ModelUnavailable:
            return  # search answers in text mode; /health says why
        while not self.stopping:
            batch = await run_sync(self.conn, _pending, self.progress.rowid, BATCH)
            if not batch:
                rowid, seq = await run_sync(self.conn, _last_rowid)
                # only retired versions remained, or a model change is complete
                if rowid > self.progress.rowid or self.stale_models:
                    await self.writer.ask(StoreVectors(MODEL_ID, [], rowid,
                                                       final=self.stale_models))
                    self.stale_models = False
                    self.progress.advance(rowid, seq)
                return
            vectors = await self.embeddings.embed_for_index([c for _, _, c in batch])
            rows = [(rowid, vector.tobytes()) for (rowid, _, _), vector in
                    zip(batch, vectors, strict=True)]
            # a short batch was the last live fact: a model change is then complete
            final = self.stale_models and len(batch) < BATCH
            await self.writer.ask(StoreVectors(MODEL_ID, rows, batch[-1][0], final=final))
            self.stale_models = self.stale_models and not final
            self.progress.advance(batch[-1][0], batch[-1][1])
            log.debug("indexer.batch", size=len(batch), up_to_seq=batch[-1][1])
