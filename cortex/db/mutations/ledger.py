"""The append path of the ledger: hash chain, Merkle nodes, subjects. Writer only."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from cortex.core.canonical import canonical_json
from cortex.core.hashing import GENESIS_HASH, entry_from_payload_text, entry_hash
from cortex.core.merkle import CompactRange, leaf_hash
from cortex.db.mutations.graph import GRAPH_INSERTS, EntityIds


@dataclass(frozen=True, slots=True)
class ChainHead:
    """Where the next entry goes: its seq, the hash it chains from, the last time, and
    the Merkle frontier over every entry so far. Immutable, so a savepoint rollback is
    undone by restoring the previous value."""

    next_seq: int
    last_hash: bytes
    last_time: int
    frontier: CompactRange = field(default_factory=CompactRange)

    def root(self) -> bytes:
        return self.frontier.root()


GENESIS = ChainHead(0, GENESIS_HASH, 0, CompactRange())


def _wall_clock() -> int:
    return time.time_ns() // 1000


_INSERTS = {
    "facts": "",  # given by the facts module, which owns the column list
    "ledger": "INSERT INTO ledger (seq, tenant, action, payload, prev_hash, entry_hash,"
              " recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
    "nodes": "INSERT INTO merkle_nodes (level, idx, hash) VALUES (?, ?, ?)",
    "subjects": "INSERT INTO ledger_subjects (fact_id, seq) VALUES (?, ?)",
}


class WriteBuffer:
    """Rows waiting to be inserted with one ``executemany`` per table.

    Inserting row by row costs a statement each; a store makes five rows. The writer
    flushes at the end of every command's savepoint, and once per run of plain stores.
    """

    def __init__(self, fact_insert: str) -> None:
        self.sql = {**_INSERTS, "facts": fact_insert, **GRAPH_INSERTS}
        self.rows: dict[str, list[Sequence[Any]]] = {name: [] for name in self.sql}

    def mark(self) -> dict[str, int]:
        return {name: len(rows) for name, rows in self.rows.items()}

    def reset(self, mark: dict[str, int] | None = None) -> None:
        """Drop the rows added since ``mark`` (all of them without one)."""
        for name, rows in self.rows.items():
            del rows[(mark or {}).get(name, 0):]

    def flush(self, conn: sqlite3.Connection) -> None:
        for name in self.sql:
            if self.rows[name]:
                conn.executemany(self.sql[name], self.rows[name])
        self.reset()


class Ledger:
    """Appends entries inside the writer's transaction; ``head`` moves with each append.

    ``stamp()`` tells a mutation the seq and time its entry will get before the entry is
    written, because the fact state the entry vouches for contains both. Rows go to
    ``buffer`` and reach SQLite when the writer flushes it.
    """

    def __init__(
        self,
        conn: sqlite3.Connection,
        head: ChainHead,
        clock: Callable[[], int] = _wall_clock,
        buffer: WriteBuffer | None = None,
        entity_ids: EntityIds | None = None,
    ) -> None:
        self.conn = conn
        self.head = head
        self.clock = clock
        self.buffer = buffer or WriteBuffer("")
        #: the writer's entity id cache (kept across batches)
        self.entity_ids = entity_ids or EntityIds()
        self._stamp: tuple[int, int] | None = None

    def stamp(self) -> tuple[int, int]:
        """``(seq, recorded_at)`` of the next entry; stable until it is appended.

        ``recorded_at`` strictly increases along the chain even if the wall clock steps
        back, so transaction-time queries (``as_of``) have one answer per instant.
        """
        if self._stamp is None or self._stamp[0] != self.head.next_seq:
            self._stamp = (self.head.next_seq, max(self.clock(), self.head.last_time + 1))
        return self._stamp

    def append(
        self, tenant: str, action: str, payload: dict[str, Any], subjects: Iterable[str] = ()
    ) -> tuple[int, int]:
        """Buffer the stamped entry, its Merkle nodes and its subjects; return the stamp."""
        seq, recorded_at = self.stamp()
        head = self.head
        payload_text = canonical_json(payload, keys_checked=True).decode("utf-8")
        entry = entry_from_payload_text(seq, tenant, action, payload_text, recorded_at)
        digest = entry_hash(head.last_hash, entry)
        frontier, nodes = head.frontier.append(leaf_hash(entry))
        rows = self.buffer.rows
        rows["ledger"].append(
            (seq, tenant, action, payload_text, head.last_hash, digest, recorded_at))
        rows["nodes"].extend(nodes)
        rows["subjects"].extend((subject, seq) for subject in subjects)
        self.head = ChainHead(seq + 1, digest, recorded_at, frontier)
        return seq, recorded_at

    def flush(self) -> None:
        self.buffer.flush(self.conn)
