"""Storing the indexer's vectors (writer only). Vectors are derived data: no ledger entry."""

from __future__ import annotations

import sqlite3


def store_vectors(
    conn: sqlite3.Connection, model: str, vectors: list[tuple[int, bytes]], up_to_rowid: int
) -> int:
    """Insert vectors for the fact rows with the given rowids and advance the
    model's progress to the fact row ``up_to_rowid``. Liveness is read now, in the
    writer's transaction, so a fact retired while it was being embedded is not indexed as
    live. Returns how many vectors were stored."""
    stored = 0
    for rowid, blob in vectors:
        row = conn.execute(
            "SELECT tenant, project, kind, superseded_by IS NULL AND deprecated_seq IS NULL,"
            " redacted FROM facts WHERE rowid = ?", (rowid,)).fetchone()
        if row is None or row[4]:
            continue
        conn.execute("DELETE FROM fact_vectors WHERE fact_rowid = ?", (rowid,))
        conn.execute("INSERT INTO fact_vectors (fact_rowid, tenant, project, kind, live,"
                     " embedding) VALUES (?, ?, ?, ?, ?, ?)",
                     (rowid, row[0], row[1], row[2], int(row[3]), blob))
        stored += 1
    conn.execute("INSERT INTO vector_progress (model, indexed_rowid) VALUES (?, ?)"
                 " ON CONFLICT (model) DO UPDATE SET indexed_rowid ="
                 " max(indexed_rowid, excluded.indexed_rowid)", (model, up_to_rowid))
    return stored
