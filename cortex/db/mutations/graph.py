"""Entity graph mutations, in the same writer step as the fact version they come from.

Each live fact version contributes its mentions and relations; counts (``mentions``,
``weight``) are the number of live versions contributing. Retiring a version (update,
deprecate, redact) takes exactly its rows back, and an entity or relation nobody
supports any more is deleted, so queries never see it. Writer only.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence

from cortex.core.extraction import Extraction, extract

_UPSERT_ENTITY = """
INSERT INTO entities (tenant, project, key, name, type, mentions, first_seen, last_seen)
VALUES (?, ?, ?, ?, ?, 1, ?, ?)
ON CONFLICT (tenant, project, key)
DO UPDATE SET mentions = mentions + 1, last_seen = excluded.last_seen
RETURNING id
"""
_UPSERT_RELATION = """
INSERT INTO relations (source, target, type, weight) VALUES (?, ?, ?, 1)
ON CONFLICT (source, target, type) DO UPDATE SET weight = weight + 1
"""


def add_contribution(
    conn: sqlite3.Connection, tenant: str, project: str, fact_id: str,
    extraction: Extraction, explicit: Iterable[str], now: int,
) -> None:
    """Record what one new fact version mentions and asserts."""
    named = set(explicit)
    ids: dict[str, int] = {}
    for entity in extraction.entities:
        (entity_id,) = conn.execute(
            _UPSERT_ENTITY,
            (tenant, project, entity.key, entity.name, entity.type, now, now),
        ).fetchone()
        ids[entity.key] = entity_id
    if ids:
        conn.executemany(
            "INSERT INTO entity_mentions (fact_id, entity_id, explicit) VALUES (?, ?, ?)",
            [(fact_id, entity_id, int(key in named)) for key, entity_id in ids.items()],
        )
    edges = [(ids[r.source], ids[r.target], r.type) for r in extraction.relations
             if r.source in ids and r.target in ids]
    if edges:
        conn.executemany(_UPSERT_RELATION, edges)
        conn.executemany(
            "INSERT INTO relation_facts (fact_id, source, target, type) VALUES (?, ?, ?, ?)",
            [(fact_id, *edge) for edge in edges],
        )


def remove_contribution(conn: sqlite3.Connection, fact_ids: Sequence[str]) -> None:
    """Take back what these versions contributed; drop what nothing supports any more."""
    marks = ", ".join("?" for _ in fact_ids)
    edges = conn.execute(
        f"SELECT source, target, type FROM relation_facts WHERE fact_id IN ({marks})",
        tuple(fact_ids),
    ).fetchall()
    if edges:
        conn.executemany("UPDATE relations SET weight = weight - 1"
                         " WHERE source = ? AND target = ? AND type = ?", edges)
        conn.executemany("DELETE FROM relations WHERE source = ? AND target = ? AND type = ?"
                         " AND weight <= 0", edges)
        conn.execute(f"DELETE FROM relation_facts WHERE fact_id IN ({marks})", tuple(fact_ids))
    entities = [row[0] for row in conn.execute(
        f"SELECT entity_id FROM entity_mentions WHERE fact_id IN ({marks})", tuple(fact_ids))]
    if entities:
        conn.executemany("UPDATE entities SET mentions = mentions - 1 WHERE id = ?",
                         [(entity_id,) for entity_id in entities])
        conn.executemany("DELETE FROM entities WHERE id = ? AND mentions <= 0",
                         [(entity_id,) for entity_id in entities])
        conn.execute(f"DELETE FROM entity_mentions WHERE fact_id IN ({marks})",
                     tuple(fact_ids))


def transfer_contribution(
    conn: sqlite3.Connection, old_id: str, new_id: str, now: int
) -> None:
    """A new version with the same content inherits the old one's graph rows as they are."""
    conn.execute("UPDATE entity_mentions SET fact_id = ? WHERE fact_id = ?", (new_id, old_id))
    conn.execute("UPDATE relation_facts SET fact_id = ? WHERE fact_id = ?", (new_id, old_id))
    conn.execute("UPDATE entities SET last_seen = ? WHERE id IN"
                 " (SELECT entity_id FROM entity_mentions WHERE fact_id = ?)", (now, new_id))


def backfill(conn: sqlite3.Connection, tools: dict[str, str], now: int) -> int:
    """Build the graph of every live fact version that has none (a store made before
    the graph existed); return how many versions were read. Runs once, at open."""
    rows = conn.execute(
        "SELECT id, tenant, project, content FROM facts WHERE content IS NOT NULL"
        " AND superseded_seq IS NULL AND deprecated_seq IS NULL"
        " AND id NOT IN (SELECT fact_id FROM entity_mentions)").fetchall()
    for fact_id, tenant, project, content in rows:
        add_contribution(conn, tenant, project, fact_id, extract(content, (), tools), (), now)
    return len(rows)
