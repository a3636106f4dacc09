"""Read queries. Synchronous; they run on a reader's read-only connection, one hop each.

Multi-statement reads run inside one read transaction so they see one snapshot.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from cortex.core.ranking import RANK_SQL
from cortex.db.rows import FACT_COLUMNS, FACT_FIELDS, fact_from_row, row_dict
from cortex.db.verified import ReadVerifier
from cortex.errors import FactNotFound, InvalidInput
from cortex.model import Fact, FactPage


@dataclass(frozen=True, slots=True)
class RecallFilter:
    """What a recall asks for. ``at`` is valid time, ``as_of`` transaction time (µs).

    Both default to the query's reference time: now, or ``as_of`` when given.
    """

    tenant: str
    project: str | None
    kind: str | None
    tags: tuple[str, ...]
    at: int | None
    as_of: int | None
    limit: int
    offset: int
    cursor: str | None
    #: only facts stored with this API key (provenance)
    author: str | None = None
    #: only facts with this consensus status ("verified" to ignore unvetted memories)
    status: str | None = None
    #: only these projects (a key scoped to projects); None = all
    projects: tuple[str, ...] | None = None

    def fingerprint(self) -> str:
        """Identifies the query a cursor belongs to (everything but the paging)."""
        key = [self.tenant, self.project, self.kind, list(self.tags), self.at, self.as_of,
               self.author, self.status, self.projects]
        return hashlib.sha256(json.dumps(key).encode()).hexdigest()[:16]


@contextmanager
def snapshot(conn: sqlite3.Connection) -> Iterator[None]:
    """One read transaction: every statement inside sees the same committed state."""
    conn.execute("BEGIN")
    try:
        yield
    finally:
        conn.execute("COMMIT")


def get_fact(
    conn: sqlite3.Connection, verifier: ReadVerifier, tenant: str, fact_id: str
) -> Fact:
    with snapshot(conn):
        found = conn.execute(
            f"SELECT {FACT_COLUMNS} FROM facts WHERE id = ? AND tenant = ?", (fact_id, tenant)
        ).fetchone()
        if found is None:
            raise FactNotFound(fact_id)
        row = row_dict(found)
        verifier.check(conn, [row])
    return fact_from_row(row)


def history(
    conn: sqlite3.Connection,
    verifier: ReadVerifier,
    tenant: str,
    fact_id: str,
    as_of: int | None,
) -> list[Fact]:
    """Every version of the fact ``fact_id`` belongs to, oldest first.

    With ``as_of``, only the versions Cortex had recorded by then.
    """
    with snapshot(conn):
        found = conn.execute(
            "SELECT lineage FROM facts WHERE id = ? AND tenant = ?", (fact_id, tenant)
        ).fetchone()
        if found is None:
            raise FactNotFound(fact_id)
        sql = f"SELECT {FACT_COLUMNS} FROM facts WHERE lineage = ? AND tenant = ?"
        params: list[Any] = [found[0], tenant]
        if as_of is not None:
            sql += " AND recorded_at <= ?"
            params.append(as_of)
        rows = [row_dict(r) for r in conn.execute(sql + " ORDER BY recorded_seq", params)]
        verifier.check(conn, rows)
    return [fact_from_row(r) for r in rows]


def redacted(
    conn: sqlite3.Connection,
    verifier: ReadVerifier,
    tenant: str,
    project: str | None,
    after_seq: int,
    limit: int,
) -> list[Fact]:
    """Redacted versions recorded after ``after_seq``, oldest first, verified like any
    read (their hashes and state still match the ledger)."""
    sql = (f"SELECT {FACT_COLUMNS} FROM facts WHERE tenant = ? AND redacted = 1"
           " AND recorded_seq > ?")
    params: list[Any] = [tenant, after_seq]
    if project is not None:
        sql += " AND project = ?"
        params.append(project)
    with snapshot(conn):
        rows = [row_dict(r) for r in conn.execute(
            sql + " ORDER BY recorded_seq LIMIT ?", [*params, limit])]
        verifier.check(conn, rows)
    return [fact_from_row(r) for r in rows]


def recall(
    conn: sqlite3.Connection, verifier: ReadVerifier, query: RecallFilter, now: int
) -> FactPage:
    """Facts visible under the filter, ranked by consensus and recency.

    Visibility: without ``as_of``, the live versions (not superseded, deprecated or
    redacted); with ``as_of=T``, the versions that were live at transaction time T.
    Either way the fact must hold at valid time ``at``.
    """
    reference = now if query.as_of is None else query.as_of
    after = ""
    params: dict[str, Any] = {}
    if query.cursor is not None:
        reference, score, seq = _decode_cursor(query.cursor, query.fingerprint())
        params.update(after_score=score, after_seq=seq)
        after = (
            "WHERE rank_score < :after_score"
            " OR (rank_score = :after_score AND recorded_seq < :after_seq)"
        )
    at = reference if query.at is None else query.at
    params.update(tenant=query.tenant, at=at, reference=reference)
    where = ["tenant = :tenant", "valid_from <= :at", "(valid_until IS NULL OR valid_until > :at)"]
    if query.as_of is None:
        where.append("superseded_seq IS NULL AND deprecated_seq IS NULL AND redacted = 0")
    else:
        params["as_of"] = query.as_of
        where.append(
            "recorded_at <= :as_of AND (superseded_at IS NULL OR superseded_at > :as_of)"
            " AND (deprecated_at IS NULL OR deprecated_at > :as_of) AND redacted = 0"
        )
    if query.project is not None:
        where.append("project = :project")
        params["project"] = query.project
    if query.kind is not None:
        where.append("kind = :kind")
        params["kind"] = query.kind
    if query.author is not None:
        where.append("author_key = :author")
        params["author"] = query.author
    if query.status is not None:
        where.append("status = :status")
        params["status"] = query.status
    if query.projects is not None:
        names = [f":scope{i}" for i in range(len(query.projects))]
        where.append(f"project IN ({', '.join(names) or 'NULL'})")
        params.update({f"scope{i}": p for i, p in enumerate(query.projects)})
    for index, tag in enumerate(query.tags):
        where.append(f"EXISTS (SELECT 1 FROM json_each(facts.tags) WHERE value = :tag{index})")
        params[f"tag{index}"] = tag
    params.update(limit=query.limit + 1, offset=query.offset)
    sql = (
        f"SELECT * FROM (SELECT {FACT_COLUMNS}, {RANK_SQL} AS rank_score FROM facts"
        f" WHERE {' AND '.join(where)}) {after}"
        " ORDER BY rank_score DESC, recorded_seq DESC LIMIT :limit OFFSET :offset"
    )
    wanted = query.offset + query.limit + 1
    with snapshot(conn):
        top = None
        if query.cursor is None and query.as_of is None and wanted <= _FAST_TOP_K:
            top = _top_by_bound(conn, " AND ".join(where), params, wanted)
        rows = conn.execute(sql, params).fetchall() if top is None else top[query.offset:]
        shown = [row_dict(r) for r in rows[: query.limit]]
        verifier.check(conn, shown)
    page = FactPage(fact_from_row(r) for r in shown)
    if len(rows) > query.limit:
        last = rows[query.limit - 1]
        page.next_cursor = _encode_cursor(
            params["reference"], last[-1], last[FACT_FIELDS.index("recorded_seq")],
            query.fingerprint(),
        )
    return page


_FAST_TOP_K = 1000
_SEQ = FACT_FIELDS.index("recorded_seq")
_SCORE = FACT_FIELDS.index("consensus_score")
_AT = FACT_FIELDS.index("recorded_at")


def _top_by_bound(
    conn: sqlite3.Connection, where: str, params: dict[str, Any], k: int
) -> list[Any] | None:
    """The top ``k`` rows by rank without ranking every row, or ``None`` when unsure.

    Candidates: the k most recent rows and the k best-scored rows (both index walks). A
    row outside both is older than the k-th most recent and scores at most the k-th best
    score, so its rank is below ``bound`` (that score with that recency). When the k-th
    best candidate reaches ``bound``, the candidates hold the exact top k; the common
    case (no votes yet) always does. Otherwise the caller ranks the whole set.
    """
    base = f"SELECT {FACT_COLUMNS}, {RANK_SQL} AS rank_score FROM facts WHERE {where}"
    recent = conn.execute(base + " ORDER BY recorded_seq DESC LIMIT :k", {**params, "k": k})
    recent_rows = recent.fetchall()
    if len(recent_rows) < k:
        return sorted(recent_rows, key=lambda r: (r[-1], r[_SEQ]), reverse=True)
    scored_rows = conn.execute(
        base + " ORDER BY consensus_score DESC, recorded_seq DESC LIMIT :k", {**params, "k": k}
    ).fetchall()
    pool = {row[0]: row for row in recent_rows + scored_rows}
    ranked = sorted(pool.values(), key=lambda r: (r[-1], r[_SEQ]), reverse=True)
    bound = conn.execute(
        f"SELECT {RANK_SQL} FROM (SELECT :score AS consensus_score, :at AS recorded_at)",
        {"score": scored_rows[-1][_SCORE], "at": recent_rows[-1][_AT],
         "reference": params["reference"]},
    ).fetchone()[0]
    return ranked[:k] if ranked[k - 1][-1] >= bound else None


def _encode_cursor(reference: int, score: float, seq: int, fingerprint: str) -> str:
    raw = json.dumps([reference, score, seq, fingerprint]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str, fingerprint: str) -> tuple[int, float, int]:
    """The cursor pins the reference time too, so later pages rank exactly like the first."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        reference, score, seq, owner = json.loads(raw)
        if not (isinstance(reference, int) and isinstance(score, float | int)
                and isinstance(seq, int) and isinstance(owner, str)):
            raise ValueError
    except (ValueError, binascii.Error, TypeError):
        raise InvalidInput("cursor", "is not a cursor this server issued") from None
    if owner != fingerprint:
        raise InvalidInput("cursor", "belongs to a different query (filters changed)")
    return reference, float(score), seq
