"""Entity graph mutations, in the same writer step as the fact version they come from.

Each live fact version contributes its mentions and relations; counts (``mentions``,
``weight``) are the number of live versions contributing. Retiring a version (update,
deprecate, redact) takes exactly its rows back. Rows whose count falls to 0 stay (they
keep ``first_seen``) and every query skips them.

Speed: a store adds ~10 graph rows, so they are not written one statement at a time.
The writer keeps the entity ids it has seen (``EntityIds``) and assigns new ones itself,
which turns every graph write into a row for the batch's ``WriteBuffer`` (one
``executemany`` per table). Writer only.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

from cortex.core.extraction import Extraction, extract

GRAPH_INSERTS = {
    "entities": "INSERT INTO entities (id, tenant, project, key, name, type, mentions,"
                " first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?)"
                " ON CONFLICT (tenant, project, key) DO UPDATE SET"
                " mentions = mentions + 1, last_seen = excluded.last_seen",
    "mentions": "INSERT INTO entity_mentions (fact_id, entity_id, explicit) VALUES (?, ?, ?)",
    "relations": "INSERT INTO relations (source, target, type, weight) VALUES (?, ?, ?, 1)"
                 " ON CONFLICT (source, target, type) DO UPDATE SET weight = weight + 1",
    "relation_facts": "INSERT INTO relation_facts (fact_id, source, target, type)"
                      " VALUES (?, ?, ?, ?)",
}
#: ids remembered before the cache starts over (an entity costs ~150 bytes in it)
MAX_CACHED_IDS = 500_000


class EntityIds:
    """``(tenant, project, key)`` -> entity id, for the writer's connection only.

    An id handed out for a row a rolled-back command never committed is harmless: the
    next upsert with that id inserts the row under it. Ids only grow, so none is reused.
    """

    def __init__(self) -> None:
        self.known: dict[tuple[str, str, str], int] = {}
        self.next_id: int | None = None

    def id_for(self, conn: sqlite3.Connection, tenant: str, project: str, key: str) -> int:
        identity = (tenant, project, key)
        found = self.known.get(identity)
        if found is None:
            row = conn.execute("SELECT id FROM entities WHERE tenant = ? AND project = ?"
                               " AND key = ?", identity).fetchone()
            found = row[0] if row is not None else self._new_id(conn)
            if len(self.known) >= MAX_CACHED_IDS:
                self.known.clear()
            self.known[identity] = found
        return found

    def _new_id(self, conn: sqlite3.Connection) -> int:
        if self.next_id is None:
            highest = conn.execute("SELECT max(id) FROM entities").fetchone()[0]
            self.next_id = (highest or 0) + 1
        new_id, self.next_id = self.next_id, self.next_id + 1
        return new_id


def contribution_rows(
    conn: sqlite3.Connection, ids: EntityIds, tenant: str, project: str, fact_id: str,
    extraction: Extraction, explicit: Iterable[str], now: int,
) -> dict[str, list[Sequence[Any]]]:
    """The rows recording what one new fact version mentions and asserts."""
    named = set(explicit)
    entity_ids = {e.key: ids.id_for(conn, tenant, project, e.key) for e in extraction.entities}
    edges: list[Sequence[Any]] = [(entity_ids[r.source], entity_ids[r.target], r.type)
             for r in extraction.relations
             if r.source in entity_ids and r.target in entity_ids]
    return {
        "entities": [(entity_ids[e.key], tenant, project, e.key, e.name, e.type, now, now)
                     for e in extraction.entities],
        "mentions": [(fact_id, entity_id, int(key in named))
                     for key, entity_id in entity_ids.items()],
        "relations": edges,
        "relation_facts": [(fact_id, *edge) for edge in edges],
    }


def remove_contribution(conn: sqlite3.Connection, fact_ids: Sequence[str]) -> None:
    """Take back what these versions contributed (their counts drop; queries skip 0)."""
    marks = ", ".join("?" for _ in fact_ids)
    edges = conn.execute(
        f"SELECT source, target, type FROM relation_facts WHERE fact_id IN ({marks})",
        tuple(fact_ids)).fetchall()
    if edges:
        conn.executemany("UPDATE relations SET weight = weight - 1"
                         " WHERE source = ? AND target = ? AND type = ?", edges)
        conn.execute(f"DELETE FROM relation_facts WHERE fact_id IN ({marks})", tuple(fact_ids))
    entities = conn.execute(
        f"SELECT entity_id FROM entity_mentions WHERE fact_id IN ({marks})",
        tuple(fact_ids)).fetchall()
    if entities:
        conn.executemany("UPDATE entities SET mentions = mentions - 1 WHERE id = ?", entities)
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
    ids = EntityIds()
    for fact_id, tenant, project, content in rows:
        found = contribution_rows(conn, ids, tenant, project, fact_id,
                                  extract(content, (), tools), (), now)
        for table, table_rows in found.items():
            if table_rows:
                conn.executemany(GRAPH_INSERTS[table], table_rows)
    return len(rows)
