"""Text search: FTS5 with bm25 ranking, the same visibility and filters as recall, and every
returned fact verified against the ledger like any other read."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

import msgspec
import numpy as np

from cortex.db.queries import snapshot
from cortex.db.rows import FACT_COLUMNS, fact_from_row, row_dict
from cortex.db.vector_index import VectorIndex, candidate_count
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
    conn: sqlite3.Connection, verifier: ReadVerifier, index: VectorIndex, query: SearchFilter,
    vector: bytes, now: int,
) -> list[SearchHit]:
    """The ``top_k`` nearest live facts by cosine similarity, of the index's model only.
    Tenant, project, kind and the key's project scope filter the candidate scan itself, so
    filtered results are never short; tags and valid time filter the rescored candidates.
    ``as_of`` searches only what is live now (only live versions have vectors)."""
    q = np.frombuffer(vector, dtype=np.float32)
    with snapshot(conn):
        index.refresh(conn)
        candidates = index.candidates(
            q, candidate_count(query.top_k), query.tenant, query.project, query.kind,
            query.projects)
        ranked = _rescored(conn, index, candidates, q)
        at = now if query.at is None else query.at
        kept: list[tuple[dict[str, Any], float]] = []
        for start in range(0, len(ranked), query.top_k):
            if len(kept) >= query.top_k:
                break
            kept += _visible_rows(conn, query, ranked[start:start + query.top_k], at)
        kept = kept[: query.top_k]
        verifier.check(conn, [row for row, _ in kept])
    return [SearchHit(fact=fact_from_row(row), score=score, text_rank=None,
                      text_score=None, vector_rank=rank, vector_score=score)
            for rank, (row, score) in enumerate(kept, start=1)]


def _rescored(
    conn: sqlite3.Connection, index: VectorIndex, candidates: list[int], q: np.ndarray
) -> list[tuple[int, float]]:
    """Candidates by exact cosine, best first; those whose vector is gone are forgotten."""
    if not candidates:
        return []
    marks = ", ".join("?" for _ in candidates)
    found = conn.execute(f"SELECT fact_rowid, vector FROM fact_embeddings WHERE model = ?"
                         f" AND fact_rowid IN ({marks})", (index.model, *candidates)).fetchall()
    if len(found) < len(candidates):
        # missing: deleted, or stored after this snapshot began (another reader loaded
        # it into the shared index); only rows this snapshot should see are dead
        present = {rowid for rowid, _ in found}
        (visible,) = conn.execute("SELECT coalesce(max(fact_rowid), 0) FROM fact_embeddings"
                                  " WHERE model = ?", (index.model,)).fetchone()
        index.forget([r for r in candidates if r not in present and r <= visible])
    if not found:
        return []
    matrix = np.frombuffer(b"".join(blob for _, blob in found), np.float32).reshape(len(found), -1)
    scores = matrix @ q
    order = np.argsort(-scores, kind="stable")
    return [(int(found[i][0]), float(scores[i])) for i in order]


def _visible_rows(
    conn: sqlite3.Connection, query: SearchFilter, ranked: list[tuple[int, float]], at: int
) -> list[tuple[dict[str, Any], float]]:
    marks = ", ".join("?" for _ in ranked)
    rows = {r[-1]: row_dict(r) for r in conn.execute(
        f"SELECT {FACT_COLUMNS}, rowid FROM facts WHERE tenant = ? AND rowid IN ({marks})",
        (query.tenant, *[rowid for rowid, _ in ranked]))}
    return [(rows[rowid], score) for rowid, score in ranked
            if rowid in rows and _visible(rows[rowid], query, at)]


def _visible(row: dict[str, Any], query: SearchFilter, at: int) -> bool:
    if query.projects is not None and row["project"] not in query.projects:
        return False
    if not (row["valid_from"] <= at and (row["valid_until"] is None or row["valid_until"] > at)):
        return False
    tags = set(msgspec.json.decode(row["tags"]))
    return all(tag in tags for tag in query.tags)


def pending_vectors(conn: sqlite3.Connection, tenant: str, after_rowid: int) -> int:
    """Live facts of the tenant not embedded yet. NOT INDEXED: the rowid range is the
    selective term (usually empty); the planner would otherwise walk the tenant's whole
    partial index of current facts (~10 ms per 100k, on every search)."""
    return int(conn.execute(
        "SELECT count(*) FROM facts NOT INDEXED WHERE rowid > ? AND tenant = ? AND redacted = 0"
        " AND superseded_seq IS NULL AND deprecated_seq IS NULL", (after_rowid, tenant)
    ).fetchone()[0])
