"""Fact mutations: store, update (new version), deprecate, redact. Writer only.

Every mutation ends with one ledger entry whose payload carries ``states``: for each
fact row it changed, the hash of the row's new state. The row records that entry as its
``state_seq``. Reads recompute the hash and refuse a row the ledger does not vouch for.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable
from typing import Any

import msgspec

from cortex.core.extraction import EMPTY_EXTRACTION, Extraction, entity_key
from cortex.core.hashing import attrs_hash, content_hash, fact_state_hash
from cortex.core.validation import FactChanges, FactDraft, check_validity
from cortex.db.mutations.graph import (
    contribution_rows,
    remove_contribution,
    transfer_contribution,
)
from cortex.db.mutations.ledger import Ledger
from cortex.db.mutations.vectors import drop_vector
from cortex.db.rows import FACT_COLUMNS, fact_from_row, row_dict
from cortex.errors import (
    FactConflict,
    FactIsDeprecated,
    FactIsRedacted,
    FactNotFound,
    FactSuperseded,
    InvalidInput,
)
from cortex.model import Fact

_INSERT_FIELDS = (
    "id", "tenant", "project", "kind", "content", "tags", "source", "meta", "content_hash",
    "attrs_hash", "lineage", "supersedes", "valid_from", "valid_until", "recorded_at",
    "recorded_seq", "state_seq", "author_key", "author_agent",
)
FACT_INSERT = (
    f"INSERT INTO facts ({', '.join(_INSERT_FIELDS)})"
    f" VALUES ({', '.join('?' for _ in _INSERT_FIELDS)})"
)


def _row(conn: sqlite3.Connection, fact_id: str) -> dict[str, Any] | None:
    found = conn.execute(f"SELECT {FACT_COLUMNS} FROM facts WHERE id = ?", (fact_id,)).fetchone()
    return None if found is None else row_dict(found)


def _json(value: object) -> str:
    return msgspec.json.encode(value).decode("utf-8")


def _hash_of(text: str | None) -> str | None:
    return None if text is None else hashlib.sha256(text.encode()).hexdigest()


def store_fact(
    conn: sqlite3.Connection, ledger: Ledger, tenant: str, draft: FactDraft,
    id_given: bool = True,
) -> tuple[Fact, bool]:
    """Insert a new fact; return ``(fact, created)``.

    A draft whose id already exists with identical content is an idempotent replay:
    the stored fact comes back with ``created=False`` and nothing is written. Ids Cortex
    generated itself (UUIDv7, ``id_given=False``) cannot exist yet and are not looked up.

    Raises:
        FactConflict: the id exists with different content (or in another tenant).
    """
    assert draft.id is not None, "the facade assigns ids before the writer sees a draft"
    chash = content_hash(draft.content)
    ahash = attrs_hash(draft.tags, draft.source, dict(draft.meta))
    existing = _row(conn, draft.id) if id_given else None
    if existing is not None:
        same = (existing["tenant"], existing["project"], existing["kind"],
                existing["content_hash"], existing["attrs_hash"])
        if same != (tenant, draft.project, draft.kind, chash, ahash):
            raise FactConflict(draft.id)
        return fact_from_row(existing), False
    row = _insert_version(conn, ledger, tenant, draft, chash, ahash, None, draft.id, {})
    return fact_from_row(row), True


def _insert_version(
    conn: sqlite3.Connection,
    ledger: Ledger,
    tenant: str,
    draft: FactDraft,
    chash: str,
    ahash: str,
    supersedes: str | None,
    lineage: str,
    other_states: dict[str, str],
) -> dict[str, Any]:
    """Insert a version row and append its entry (with ``other_states`` of rows the same
    entry changed); return the inserted row."""
    seq, now = ledger.stamp()
    valid_from = now if draft.valid_from is None else draft.valid_from
    check_validity(valid_from, draft.valid_until)
    row: dict[str, Any] = {
        "id": draft.id, "tenant": tenant, "project": draft.project, "kind": draft.kind,
        "content": draft.content, "tags": _json(list(draft.tags)),
        "source": draft.source, "meta": _json(dict(draft.meta)),
        "status": "stated", "consensus_score": 1.0, "confidence": 0.0, "content_hash": chash,
        "attrs_hash": ahash, "lineage": lineage, "supersedes": supersedes,
        "superseded_by": None, "superseded_at": None, "superseded_seq": None,
        "valid_from": valid_from, "valid_until": draft.valid_until, "recorded_at": now,
        "recorded_seq": seq, "deprecated_at": None, "deprecated_seq": None,
        "deprecation_reason": None, "redacted": 0, "redacted_at": None, "redacted_seq": None,
        "author_key": draft.author_key, "author_agent": draft.author_agent, "state_seq": seq,
    }
    ledger.buffer.rows["facts"].append([row[name] for name in _INSERT_FIELDS])
    states = {**other_states, str(draft.id): fact_state_hash(row)}
    payload: dict[str, Any] = {
        "fact_id": draft.id, "project": draft.project, "kind": draft.kind,
        "author_key": draft.author_key, "author_agent": draft.author_agent,
        "content_hash": chash, "attrs_hash": ahash, "valid_from": valid_from,
        "valid_until": draft.valid_until, "supersedes": supersedes, "states": states,
    }
    if draft.entities:
        payload["entities"] = [list(entity) for entity in draft.entities]
    ledger.append(tenant, "fact.update" if supersedes else "fact.store", payload, states)
    graph_rows = contribution_rows(conn, ledger.entity_ids, tenant, draft.project,
                                   str(draft.id), draft.graph,
                                   (entity_key(name) for name, _ in draft.entities), now)
    for table, rows in graph_rows.items():
        ledger.buffer.rows[table].extend(rows)
    return row


def _restate(
    conn: sqlite3.Connection, fact_id: str, changes: dict[str, Any], seq: int
) -> str:
    """Apply column ``changes`` to one row, point it at entry ``seq``, return its state."""
    assignments = ", ".join(f"{name} = ?" for name in changes)
    conn.execute(
        f"UPDATE facts SET {assignments}, state_seq = ? WHERE id = ?",
        (*changes.values(), seq, fact_id),
    )
    row = _row(conn, fact_id)
    assert row is not None
    _sync_vector(conn, row)
    return fact_state_hash(row)


def _sync_vector(conn: sqlite3.Connection, row: dict[str, Any]) -> None:
    """Keep the fact's vector (if indexed) in step: only a live version keeps one, so a
    redacted, superseded or deprecated version leaves the vector index."""
    if row["redacted"] or row["superseded_by"] is not None or row["deprecated_seq"] is not None:
        rowid = conn.execute("SELECT rowid FROM facts WHERE id = ?", (row["id"],)).fetchone()[0]
        drop_vector(conn, rowid)


def _live_row(conn: sqlite3.Connection, tenant: str, fact_id: str) -> dict[str, Any]:
    """The row of ``fact_id`` if it is the live version, else the reason it is not."""
    row = _row(conn, fact_id)
    if row is None or row["tenant"] != tenant:
        raise FactNotFound(fact_id)
    if row["redacted"]:
        raise FactIsRedacted(fact_id)
    if row["superseded_by"] is not None:
        current = conn.execute(
            "SELECT id FROM facts WHERE lineage = ? AND superseded_seq IS NULL",
            (row["lineage"],),
        ).fetchone()
        raise FactSuperseded(fact_id, current[0] if current else row["superseded_by"])
    if row["deprecated_seq"] is not None:
        raise FactIsDeprecated(fact_id)
    return row


def update_fact(
    conn: sqlite3.Connection,
    ledger: Ledger,
    tenant: str,
    fact_id: str,
    new_id: str,
    changes: FactChanges,
    author: tuple[str | None, str | None] = (None, None),
    extraction: Extraction | None = None,
) -> Fact:
    """Record a new version of ``fact_id`` and mark the old one superseded, atomically.

    Fields not given keep the old version's values, valid time included (an update is
    a correction of what Cortex knows; pass ``valid_from`` to say the world changed).
    ``extraction`` is the new version's graph when its content or entities changed;
    without one the new version inherits the old one's graph contribution.

    Raises:
        FactNotFound, FactSuperseded, FactIsDeprecated, FactIsRedacted.
    """
    old = _live_row(conn, tenant, fact_id)
    draft = FactDraft(
        id=new_id,
        project=old["project"],
        kind=changes.kind or old["kind"],
        content=changes.content if changes.content is not None else old["content"],
        tags=changes.tags if changes.tags is not None else tuple(json.loads(old["tags"])),
        source=changes.source if changes.source is not None else old["source"],
        meta=changes.meta if changes.meta is not None else json.loads(old["meta"]),
        valid_from=changes.valid_from if changes.valid_from is not None else old["valid_from"],
        valid_until=(changes.valid_until if changes.valid_until is not None
                     else old["valid_until"]),
        author_key=author[0],
        author_agent=author[1],
        entities=changes.entities or (),
        graph=extraction or EMPTY_EXTRACTION,
    )
    seq, now = ledger.stamp()
    old_state = _restate(conn, fact_id, {"superseded_by": new_id, "superseded_at": now,
                                         "superseded_seq": seq}, seq)
    row = _insert_version(
        conn, ledger, tenant, draft, content_hash(draft.content),
        attrs_hash(draft.tags, draft.source, dict(draft.meta)), fact_id, old["lineage"],
        {fact_id: old_state},
    )
    if extraction is None:
        transfer_contribution(conn, fact_id, new_id, now)
    else:
        remove_contribution(conn, [fact_id])
    return fact_from_row(row)


def _change_facts(
    conn: sqlite3.Connection,
    ledger: Ledger,
    tenant: str,
    action: str,
    payload: dict[str, Any],
    fact_ids: list[str],
    changes: Callable[[int, int], dict[str, Any]],
) -> None:
    """Apply ``changes(seq, now)`` to every row in ``fact_ids`` under one ledger entry."""
    seq, now = ledger.stamp()
    states = {fact_id: _restate(conn, fact_id, changes(seq, now), seq) for fact_id in fact_ids}
    ledger.append(tenant, action, {**payload, "states": states}, states)


def deprecate_fact(
    conn: sqlite3.Connection, ledger: Ledger, tenant: str, fact_id: str, reason: str | None
) -> Fact:
    """Retire the live version of a fact (kept, never deleted; hidden from recall).

    Raises:
        FactNotFound, FactSuperseded, FactIsDeprecated, FactIsRedacted.
    """
    _live_row(conn, tenant, fact_id)
    _change_facts(
        conn, ledger, tenant, "fact.deprecate",
        {"fact_id": fact_id, "reason_hash": _hash_of(reason)}, [fact_id],
        lambda seq, now: {"deprecated_at": now, "deprecated_seq": seq,
                          "deprecation_reason": reason},
    )
    remove_contribution(conn, [fact_id])
    row = _row(conn, fact_id)
    assert row is not None
    return fact_from_row(row)


def redact_fact(
    conn: sqlite3.Connection, ledger: Ledger, tenant: str, fact_id: str, reason: str | None
) -> Fact:
    """Erase the content, tags, source and meta of every version of a fact.

    The hashes stay, so the ledger still verifies; the redaction is itself an entry.

    Raises:
        FactNotFound, FactIsRedacted.
    """
    row = _row(conn, fact_id)
    if row is None or row["tenant"] != tenant:
        raise FactNotFound(fact_id)
    if row["redacted"]:
        raise FactIsRedacted(fact_id)
    versions = [r[0] for r in conn.execute(
        "SELECT id FROM facts WHERE lineage = ? ORDER BY recorded_seq", (row["lineage"],)
    )]
    _change_facts(
        conn, ledger, tenant, "fact.redact",
        {"fact_id": fact_id, "versions": versions, "reason_hash": _hash_of(reason)}, versions,
        lambda seq, now: {"content": None, "tags": "[]", "source": None, "meta": "{}",
                          "deprecation_reason": None, "redacted": 1, "redacted_at": now,
                          "redacted_seq": seq},
    )
    remove_contribution(conn, versions)
    redacted = _row(conn, fact_id)
    assert redacted is not None
    return fact_from_row(redacted)


def store_facts(
    conn: sqlite3.Connection, ledger: Ledger, tenant: str, drafts: tuple[FactDraft, ...],
    id_given: bool = True,
) -> list[Fact]:
    """Store several facts in the caller's savepoint: all of them or none.

    Raises:
        InvalidInput: naming ``items[i]`` when one of them conflicts or fails.
    """
    facts: list[Fact] = []
    for index, draft in enumerate(drafts):
        try:
            fact, _ = store_fact(conn, ledger, tenant, draft, id_given)
        except (FactConflict, InvalidInput) as error:
            raise InvalidInput(f"items[{index}]", str(error)) from error
        facts.append(fact)
    return facts
