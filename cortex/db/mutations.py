"""Every write Cortex makes. Imported by the writer actor and nothing else.

All functions are synchronous and run on the writer connection's thread, inside the
batch transaction the writer opened (``BEGIN IMMEDIATE``) and the command's own
``SAVEPOINT``. Each mutation appends its ledger entry through ``Ledger`` in the same
transaction, so a fact and the entry that records it commit or vanish together.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cortex.core.canonical import canonical_json
from cortex.core.hashing import GENESIS_HASH, attrs_hash, canonical_entry, content_hash, entry_hash
from cortex.core.validation import FactChanges, FactDraft, check_validity
from cortex.db.rows import FACT_COLUMNS, fact_from_row
from cortex.errors import (
    FactConflict,
    FactIsDeprecated,
    FactNotFound,
    FactSuperseded,
    InvalidInput,
)
from cortex.model import Fact


@dataclass(frozen=True, slots=True)
class ChainHead:
    """Where the next ledger entry goes: its seq, the hash it chains from, the last time."""

    next_seq: int
    last_hash: bytes
    last_time: int


def load_head(conn: sqlite3.Connection) -> ChainHead:
    """Read the chain head from the last ledger row (genesis for an empty ledger)."""
    row = conn.execute(
        "SELECT seq, entry_hash, recorded_at FROM ledger ORDER BY seq DESC LIMIT 1"
    ).fetchone()
    if row is None:
        return ChainHead(0, GENESIS_HASH, 0)
    return ChainHead(row[0] + 1, bytes(row[1]), row[2])


def _wall_clock() -> int:
    return time.time_ns() // 1000


class Ledger:
    """Appends hash-chained entries; ``head`` advances only as entries are written.

    The writer snapshots ``head`` before each command and restores it when the
    command's savepoint rolls back, so the in-memory chain never runs ahead of disk.
    """

    def __init__(
        self, conn: sqlite3.Connection, head: ChainHead, clock: Callable[[], int] = _wall_clock
    ) -> None:
        self.conn = conn
        self.head = head
        self.clock = clock

    def append(self, tenant: str, action: str, payload: dict[str, Any]) -> tuple[int, int]:
        """Write one entry; return its ``(seq, recorded_at)``.

        ``recorded_at`` strictly increases along the chain even if the wall clock steps
        back, so transaction-time queries (``as_of``) have one answer per instant.
        """
        head = self.head
        recorded_at = max(self.clock(), head.last_time + 1)
        entry = canonical_entry(head.next_seq, tenant, action, payload, recorded_at)
        digest = entry_hash(head.last_hash, entry)
        self.conn.execute(
            "INSERT INTO ledger (seq, tenant, action, payload, prev_hash, entry_hash, recorded_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (head.next_seq, tenant, action, canonical_json(payload).decode("utf-8"),
             head.last_hash, digest, recorded_at),
        )
        self.head = ChainHead(head.next_seq + 1, digest, recorded_at)
        return head.next_seq, recorded_at


def read_fact(conn: sqlite3.Connection, tenant: str, fact_id: str) -> Fact:
    row = conn.execute(
        f"SELECT {FACT_COLUMNS} FROM facts WHERE id = ? AND tenant = ?", (fact_id, tenant)
    ).fetchone()
    if row is None:
        raise FactNotFound(fact_id)
    return fact_from_row(row)


def store_fact(
    conn: sqlite3.Connection, ledger: Ledger, tenant: str, draft: FactDraft
) -> tuple[Fact, bool]:
    """Insert a new fact; return ``(fact, created)``.

    A draft whose id already exists with identical content is an idempotent replay:
    the stored fact comes back with ``created=False`` and nothing is written.

    Raises:
        FactConflict: the id exists with different content (or in another tenant).
    """
    assert draft.id is not None, "the facade assigns ids before the writer sees a draft"
    chash = content_hash(draft.content)
    ahash = attrs_hash(draft.tags, draft.source, dict(draft.meta))
    existing = conn.execute(
        "SELECT tenant, project, kind, content_hash, attrs_hash FROM facts WHERE id = ?",
        (draft.id,),
    ).fetchone()
    if existing is not None:
        if tuple(existing) != (tenant, draft.project, draft.kind, chash, ahash):
            raise FactConflict(draft.id)
        return read_fact(conn, tenant, draft.id), False
    _insert_version(conn, ledger, tenant, draft, chash, ahash, supersedes=None, lineage=draft.id)
    return read_fact(conn, tenant, draft.id), True


def _insert_version(
    conn: sqlite3.Connection,
    ledger: Ledger,
    tenant: str,
    draft: FactDraft,
    chash: str,
    ahash: str,
    *,
    supersedes: str | None,
    lineage: str,
) -> tuple[int, int]:
    action = "fact.store" if supersedes is None else "fact.update"
    payload = {
        "fact_id": draft.id,
        "project": draft.project,
        "kind": draft.kind,
        "content_hash": chash,
        "attrs_hash": ahash,
        "valid_from": draft.valid_from,
        "valid_until": draft.valid_until,
        "supersedes": supersedes,
    }
    seq, now = ledger.append(tenant, action, payload)
    valid_from = now if draft.valid_from is None else draft.valid_from
    check_validity(valid_from, draft.valid_until)
    conn.execute(
        "INSERT INTO facts (id, tenant, project, kind, content, tags, source, meta,"
        " content_hash, attrs_hash, lineage, supersedes, valid_from, valid_until,"
        " recorded_at, recorded_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (draft.id, tenant, draft.project, draft.kind, draft.content,
         json.dumps(list(draft.tags), ensure_ascii=False), draft.source,
         json.dumps(dict(draft.meta), ensure_ascii=False, sort_keys=True), chash, ahash,
         lineage, supersedes, valid_from, draft.valid_until, now, seq),
    )
    return seq, now


def _current_row(conn: sqlite3.Connection, tenant: str, fact_id: str) -> sqlite3.Row:
    """The row of ``fact_id`` if it is the live version, else the reason it is not."""
    row = conn.execute(
        "SELECT id, project, kind, content, tags, source, meta, valid_from, valid_until,"
        " lineage, superseded_by, deprecated_seq, redacted FROM facts"
        " WHERE id = ? AND tenant = ?",
        (fact_id, tenant),
    ).fetchone()
    if row is None:
        raise FactNotFound(fact_id)
    if row[10] is not None:
        current = conn.execute(
            "SELECT id FROM facts WHERE lineage = ? AND superseded_seq IS NULL",
            (row[9],),
        ).fetchone()
        raise FactSuperseded(fact_id, current[0] if current else row[10])
    if row[11] is not None or row[12]:
        raise FactIsDeprecated(fact_id)
    return row  # type: ignore[no-any-return]


def update_fact(
    conn: sqlite3.Connection,
    ledger: Ledger,
    tenant: str,
    fact_id: str,
    new_id: str,
    changes: FactChanges,
) -> Fact:
    """Record a new version of ``fact_id`` and mark the old one superseded, atomically.

    Fields not given keep the old version's values, valid time included (an update is
    a correction of what Cortex knows; pass ``valid_from`` to say the world changed).

    Raises:
        FactNotFound, FactSuperseded, FactIsDeprecated.
    """
    old = _current_row(conn, tenant, fact_id)
    draft = FactDraft(
        id=new_id,
        project=old[1],
        kind=changes.kind or old[2],
        content=changes.content if changes.content is not None else old[3],
        tags=changes.tags if changes.tags is not None else tuple(json.loads(old[4])),
        source=changes.source if changes.source is not None else old[5],
        meta=changes.meta if changes.meta is not None else json.loads(old[6]),
        valid_from=changes.valid_from if changes.valid_from is not None else old[7],
        valid_until=changes.valid_until if changes.valid_until is not None else old[8],
    )
    check_validity(draft.valid_from, draft.valid_until)
    chash = content_hash(draft.content)
    ahash = attrs_hash(draft.tags, draft.source, dict(draft.meta))
    seq, now = _insert_version(
        conn, ledger, tenant, draft, chash, ahash, supersedes=fact_id, lineage=old[9]
    )
    conn.execute(
        "UPDATE facts SET superseded_by = ?, superseded_at = ?, superseded_seq = ? WHERE id = ?",
        (new_id, now, seq, fact_id),
    )
    return read_fact(conn, tenant, new_id)


def deprecate_fact(
    conn: sqlite3.Connection, ledger: Ledger, tenant: str, fact_id: str, reason: str | None
) -> Fact:
    """Retire the live version of a fact (kept, never deleted; hidden from recall).

    Raises:
        FactNotFound, FactSuperseded, FactIsDeprecated.
    """
    _current_row(conn, tenant, fact_id)
    reason_hash = None if reason is None else hashlib.sha256(reason.encode()).hexdigest()
    seq, now = ledger.append(
        tenant, "fact.deprecate", {"fact_id": fact_id, "reason_hash": reason_hash}
    )
    conn.execute(
        "UPDATE facts SET deprecated_at = ?, deprecated_seq = ?, deprecation_reason = ?"
        " WHERE id = ?",
        (now, seq, reason, fact_id),
    )
    return read_fact(conn, tenant, fact_id)


def store_facts(
    conn: sqlite3.Connection, ledger: Ledger, tenant: str, drafts: tuple[FactDraft, ...]
) -> list[Fact]:
    """Store several facts in the caller's savepoint: all of them or none.

    Raises:
        InvalidInput: naming ``items[i]`` when one of them conflicts or fails.
    """
    facts: list[Fact] = []
    for index, draft in enumerate(drafts):
        try:
            fact, _ = store_fact(conn, ledger, tenant, draft)
        except (FactConflict, InvalidInput) as error:
            raise InvalidInput(f"items[{index}]", str(error)) from error
        facts.append(fact)
    return facts

