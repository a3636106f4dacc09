"""Storing the indexer's vectors (writer only). Vectors are derived data: no ledger entry.

Only live fact versions have a vector: retiring or redacting a version removes it, so
search never meets (and never has to skip) a dead one. Each vector records its model; a
fact has at most one vector (its primary key), so re-embedding with a new model replaces
the old model's vector row by row.
"""

from __future__ import annotations

import sqlite3


def store_vectors(
    conn: sqlite3.Connection, model: str, vectors: list[tuple[int, bytes]], up_to_rowid: int,
    final: bool = False,
) -> int:
    """Store ``model``'s vectors for the fact rows with the given rowids and advance the
    model's progress to the fact row ``up_to_rowid``. Liveness is read now, in the
    writer's transaction, so a fact retired while it was being embedded is not indexed.
    ``final``: the model has caught up with every fact, so every other model's vectors
    and progress go. Returns how many vectors were stored."""
    stored = 0
    for rowid, blob in vectors:
        row = conn.execute(
            "SELECT tenant, project, kind FROM facts WHERE rowid = ? AND redacted = 0"
            " AND superseded_by IS NULL AND deprecated_seq IS NULL", (rowid,)).fetchone()
        if row is None:
            continue
        conn.execute("INSERT OR REPLACE INTO fact_embeddings (fact_rowid, tenant, project,"
                     " kind, model, vector) VALUES (?, ?, ?, ?, ?, ?)",
                     (rowid, row[0], row[1], row[2], model, blob))
        stored += 1
    conn.execute("INSERT INTO vector_progress (model, indexed_rowid) VALUES (?, ?)"
                 " ON CONFLICT (model) DO UPDATE SET indexed_rowid ="
                 " max(indexed_rowid, excluded.indexed_rowid)", (model, up_to_rowid))
    if final:
        conn.execute("DELETE FROM fact_embeddings WHERE model != ?", (model,))
        conn.execute("DELETE FROM vector_progress WHERE model != ?", (model,))
    return stored


def drop_vector(conn: sqlite3.Connection, rowid: int) -> None:
    """The fact version ``rowid`` was retired or redacted: its vector leaves the index."""
    conn.execute("DELETE FROM fact_embeddings WHERE fact_rowid = ?", (rowid,))
