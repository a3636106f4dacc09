"""Text search: FTS5 with bm25 ranking, the same visibility and filters as recall, and every
returned fact verified against the ledger like any other read."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

import msgspec

from cortex.db.queries import snapshot
from cortex.db.rows import FACT_COLUMNS, fact_from_row, row_dict
from cortex.db.verified import ReadVerifier
from cortex.model import SearchHit


@dataclass(frozen=True, slots=True)
class SearchFilter:
    tenant: str
    fts_query: str
    project: str | None
    kind: str | None
    tags: tuple[str, ...]
    at: int | None
    as_of: int | None
    top_k: int
    projects: tuple[str, ...] | None = None


def text_search(
    conn: sqlite3.Connection, verifier: ReadVerifier, query: SearchFilter, now: int
) -> list[SearchHit]:
    """The ``top_k`` visible facts that match, best bm25 first."""
    reference = now if query.as_of is None else query.as_of
    params: dict[str, Any] = {"q": query.fts_query, "tenant": query.tenant,
                              "at": reference if query.at is None else query.at,
                              "k": query.top_k}
    where = ["facts_fts MATCH :q", "f.tenant = :tenant", "f.valid_from <= :at",
             "(f.valid_until IS NULL OR f.valid_until > :at)", "f.redacted = 0"]
    if query.as_of is None:
        where.append("f.superseded_seq IS NULL AND f.deprecated_seq IS NULL")
    else:
        params["as_of"] = query.as_of
        where.append("f.recorded_at <= :as_of AND (f.superseded_at IS NULL OR"
                     " f.superseded_at > :as_of) AND (f.deprecated_at IS NULL OR"
                     " f.deprecated_at > :as_of)")
    for name in ("project", "kind"):
        value = getattr(query, name)
        if value is not None:
            where.append(f"f.{name} = :{name}")
            params[name] = value
    if query.projects is not None:
        names = [f":scope{i}" for i in range(len(query.projects))]
        where.append(f"f.project IN ({', '.join(names) or 'NULL'})")
        params.update({f"scope{i}": p for i, p in enumerate(query.projects)})
    for index, tag in enumerate(query.tags):
        where.append(f"EXISTS (SELECT 1 FROM json_each(f.tags) WHERE value = :tag{index})")
        params[f"tag{index}"] = tag
    columns = ", ".join(f"f.{c.strip()}" for c in FACT_COLUMNS.split(","))
    sql = (f"SELECT {columns}, bm25(facts_fts) AS score,"
           " snippet(facts_fts, 0, '[', ']', '…', 16) FROM facts_fts"
           " JOIN facts f ON f.rowid = facts_fts.rowid"
           f" WHERE {' AND '.join(where)} ORDER BY score, f.recorded_seq DESC LIMIT :k")
    with snapshot(conn):
        rows = conn.execute(sql, params).fetchall()
        facts = [row_dict(r) for r in rows]
        verifier.check(conn, facts)
    return [SearchHit(fact=fact_from_row(fact), score=-float(row[-2]), text_rank=rank,
                      text_score=-float(row[-2]), snippet=row[-1])
            for rank, (fact, row) in enumerate(zip(facts, rows, strict=True), start=1)]


def vector_search(
    conn: sqlite3.Connection, verifier: ReadVerifier, query: SearchFilter, vector: bytes,
    now: int,
) -> list[SearchHit]:
    """The ``top_k`` nearest live facts by cosine distance. Tenant, project and kind filter
    inside the KNN (partition key and metadata), so filtered results are never short;
    tags and valid time filter afterwards. ``as_of`` searches only what is live now."""
    params: dict[str, Any] = {"v": vector, "k": query.top_k, "tenant": query.tenant}
    where = ["embedding MATCH :v", "k = :k", "tenant = :tenant", "live = 1"]
    for name in ("project", "kind"):
        value = getattr(query, name)
        if value is not None:
            where.append(f"{name} = :{name}")
            params[name] = value
    with snapshot(conn):
        nearest = conn.execute(f"SELECT fact_rowid, distance FROM fact_vectors WHERE"
                               f" {' AND '.join(where)} ORDER BY distance", params).fetchall()
        if not nearest:
            return []
        marks = ", ".join("?" for _ in nearest)
        rows = {r[-1]: row_dict(r) for r in conn.execute(
            f"SELECT {FACT_COLUMNS}, rowid FROM facts WHERE tenant = ? AND rowid IN ({marks})",
            (query.tenant, *[rowid for rowid, _ in nearest]))}
        at = now if query.at is None else query.at
        kept = [(rows[rowid], distance) for rowid, distance in nearest if rowid in rows
                and _visible(rows[rowid], query, at)]
        verifier.check(conn, [row for row, _ in kept])
    return [SearchHit(fact=fact_from_row(row), score=1 - float(distance), text_rank=None,
                      text_score=None, vector_rank=rank, vector_score=1 - float(distance))
            for rank, (row, distance) in enumerate(kept, start=1)]


def _visible(row: dict[str, Any], query: SearchFilter, at: int) -> bool:
    if query.projects is not None and row["project"] not in query.projects:
        return False
    if not (row["valid_from"] <= at and (row["valid_until"] is None or row["valid_until"] > at)):
        return False
    tags = set(msgspec.json.decode(row["tags"]))
    return all(tag in tags for tag in query.tags)


def pending_vectors(conn: sqlite3.Connection, tenant: str, after_rowid: int) -> int:
    """Live facts of the tenant not embedded yet."""
    return int(conn.execute(
        "SELECT count(*) FROM facts WHERE rowid > ? AND tenant = ? AND redacted = 0"
        " AND superseded_seq IS NULL AND deprecated_seq IS NULL", (after_rowid, tenant)
    ).fetchone()[0])
