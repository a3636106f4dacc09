"""Each vector records its model: migration 3 carries the old vectors over, a model change
re-embeds in the background, search reads only the current model's vectors."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlean
import sqlite_vec

from cortex import Cortex
from cortex.db.search import SearchFilter
from cortex.embed.model_files import MODEL_ID
from cortex.engine.messages import VectorSearch

pytestmark = pytest.mark.anyio
OLD_MODEL = "older-model@00000000"


def _raw(db_path: Path) -> sqlite3.Connection:
    conn = sqlean.connect(str(db_path), isolation_level=None)
    conn.enable_load_extension(True)
    sqlite_vec.load(conn)
    return conn


def _filter(top_k: int = 10) -> SearchFilter:
    return SearchFilter(tenant="default", fts_query="", project=None, kind=None, tags=(),
                        at=None, as_of=None, top_k=top_k)


async def _stored(db_path: Path, count: int) -> list[str]:
    async with Cortex.open(db_path, log_level="warning", index_vectors=True) as cx:
        facts = await cx.store_many([{"project": "p", "content": f"disk {n} filled up"}
                                     for n in range(count)])
        await cx.wait_indexed(facts[-1])
        return [f.id for f in facts]


async def test_migration_3_keeps_live_vectors_with_their_model_and_drops_dead_ones(
    db_path: Path,
) -> None:
    ids = await _stored(db_path, 4)
    conn = _raw(db_path)  # rebuild the version-2 layout: vec0 with a live column
    conn.execute("CREATE VIRTUAL TABLE fact_vectors USING vec0(fact_rowid INTEGER PRIMARY"
                 " KEY, tenant TEXT PARTITION KEY, project TEXT, kind TEXT, live INTEGER,"
                 " embedding FLOAT[384] distance_metric=cosine)")
    conn.execute("INSERT INTO fact_vectors SELECT fact_rowid, tenant, project, kind,"
                 " fact_rowid != 4, vector FROM fact_embeddings")
    conn.execute("DROP TABLE fact_embeddings")
    conn.execute("DELETE FROM schema_migrations WHERE version = 3")
    conn.execute("PRAGMA user_version = 2")
    conn.close()
    async with Cortex.open(db_path, log_level="warning", index_vectors=True) as cx:
        await cx.wait_indexed(await cx.get(ids[-1]))
        assert cx.embeddings.statistics().index_texts == 0, "nothing was embedded again"
        hits = await cx.search("disk filled", mode="semantic", top_k=10)
        assert {h.fact.id for h in hits.results} == set(ids[:3])
    conn = _raw(db_path)
    assert conn.execute("SELECT fact_rowid, model FROM fact_embeddings ORDER BY 1"
                        ).fetchall() == [(1, MODEL_ID), (2, MODEL_ID), (3, MODEL_ID)]
    assert conn.execute("SELECT max(version) FROM schema_migrations").fetchone() == (3,)
    assert conn.execute("SELECT name FROM sqlite_master WHERE name = 'fact_vectors'"
                        ).fetchone() is None


async def test_a_model_change_reembeds_and_search_reads_only_the_current_model(
    db_path: Path,
) -> None:
    ids = await _stored(db_path, 40)  # more than one indexer batch
    conn = _raw(db_path)  # as if every vector had been made by an older model
    conn.execute("UPDATE fact_embeddings SET model = ?", (OLD_MODEL,))
    conn.execute("UPDATE vector_progress SET model = ?", (OLD_MODEL,))
    conn.close()
    async with Cortex.open(db_path, log_level="warning", index_vectors=False) as cx:
        vector = await cx.embeddings.query_vector("disk filled up")
        assert await cx._read(VectorSearch(_filter(), vector)) == [], "old vectors ignored"
    async with Cortex.open(db_path, log_level="warning", index_vectors=True) as cx:
        await cx.wait_indexed(await cx.get(ids[-1]))
        assert cx.embeddings.statistics().index_texts == 40, "re-embedded from the start"
        hits = await cx._read(VectorSearch(_filter(40), vector))
        assert sorted(h.fact.id for h in hits) == sorted(ids)
    conn = _raw(db_path)
    assert conn.execute("SELECT model, count(*) FROM fact_embeddings GROUP BY 1"
                        ).fetchall() == [(MODEL_ID, 40)]
    assert conn.execute("SELECT model FROM vector_progress").fetchall() == [(MODEL_ID,)]
