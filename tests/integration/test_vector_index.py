"""The candidate index: projected scan + exact rescoring against exact search, on vectors
of the real model; filters inside the scan; deleted vectors forgotten."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from cortex.db.search import _rescored
from cortex.db.vector_index import FIT_AT, VectorIndex, candidate_count
from cortex.embed.model_files import built_model, locate
from cortex.embed.runtime import Embedder

MODEL = "test-model"


def real_embeddings(embedder: Embedder, count: int, seed: int) -> np.ndarray:
    """The model's vectors of ``count`` sentences of random real words."""
    vocab = json.loads(Path(locate().tokenizer).read_text())["model"]["vocab"]
    words = sorted(w for w in vocab if w.isascii() and w.isalpha() and len(w) >= 4)
    rng = np.random.default_rng(seed)
    texts = [" ".join(rng.choice(words, size=int(rng.integers(6, 16)))) for _ in range(count)]
    return np.concatenate([embedder.embed(texts[i:i + 32]) for i in range(0, count, 32)])


def realistic_vectors(base: np.ndarray, count: int, seed: int) -> np.ndarray:
    """``count`` unit vectors shaped like the model's: blends of two real embeddings
    (facts that share a topic) with a little noise, so neighbours are as close and as
    crowded as in a real store."""
    rng = np.random.default_rng(seed)
    first, second = rng.integers(0, len(base), count), rng.integers(0, len(base), count)
    share = rng.uniform(0.55, 1.0, (count, 1)).astype(np.float32)
    mixed = share * base[first] + (1 - share) * base[second]
    mixed += rng.standard_normal(mixed.shape).astype(np.float32) * 0.01
    return (mixed / np.linalg.norm(mixed, axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> np.ndarray:
    files = locate()
    embedder = Embedder(built_model(files, tmp_path_factory.mktemp("models")), files.tokenizer)
    return real_embeddings(embedder, 2100, seed=0)


def _table(vectors: np.ndarray, projects: list[str]) -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE fact_embeddings (fact_rowid INTEGER PRIMARY KEY, tenant TEXT,"
                 " project TEXT, kind TEXT, model TEXT, vector BLOB)")
    conn.executemany("INSERT INTO fact_embeddings VALUES (?, 't', ?, 'knowledge', ?, ?)",
                     [(i + 1, projects[i], MODEL, v.tobytes()) for i, v in enumerate(vectors)])
    return conn


def recall_at_10(conn: sqlite3.Connection, index: VectorIndex, vectors: np.ndarray,
                 queries: np.ndarray) -> float:
    """Mean share of the exact top 10 that candidates + exact rescoring return."""
    found = 0
    for query in queries:
        exact = set((np.argsort(-(vectors @ query))[:10] + 1).tolist())
        ranked = _rescored(conn, index, index.candidates(query, candidate_count(10), "t"),
                           query)
        found += len(exact & {rowid for rowid, _ in ranked[:10]})
    return found / (10 * len(queries))


def test_recall_at_10_of_the_projection_is_at_least_098(base: np.ndarray) -> None:
    """On the model's own vectors of unrelated sentences: crowded neighbourhoods, the
    hard case for any approximation (blends of a few vectors are easy for all)."""
    vectors, queries = base[:2000], base[2000:]
    conn = _table(vectors, ["p"] * len(vectors))
    index = VectorIndex(MODEL, fit_at=1000)
    index.refresh(conn)
    assert index.fitted == len(vectors), "searched through the projection"
    recall = recall_at_10(conn, index, vectors, queries)
    assert recall >= 0.98, recall


def test_small_indexes_are_exact_and_grow_one_refresh_at_a_time(base: np.ndarray) -> None:
    vectors = realistic_vectors(base, 600, seed=3)
    conn = _table(vectors[:300], ["p"] * 300)
    index = VectorIndex(MODEL)
    index.refresh(conn)
    conn.executemany("INSERT INTO fact_embeddings VALUES (?, 't', 'p', 'knowledge', ?, ?)",
                     [(i + 1, MODEL, v.tobytes()) for i, v in enumerate(vectors) if i >= 300])
    conn.execute("INSERT INTO fact_embeddings VALUES (9999, 't', 'p', 'knowledge', 'old', ?)",
                 (vectors[0].tobytes(),))
    index.refresh(conn)
    assert (index.size, index.loaded_rowid, index.fitted) == (600, 600, 0)
    assert FIT_AT > 600
    assert recall_at_10(conn, index, vectors, vectors[:20]) == 1.0, "exact below FIT_AT"


def test_filters_apply_inside_the_scan_and_deleted_vectors_are_forgotten(
    base: np.ndarray,
) -> None:
    vectors = realistic_vectors(base, 5000, seed=4)
    projects = ["mine" if i % 100 == 0 else "noise" for i in range(len(vectors))]
    conn = _table(vectors, projects)
    index = VectorIndex(MODEL)
    index.refresh(conn)
    query = vectors[1]  # a noise vector: its neighbours are noise
    mine = index.candidates(query, 200, "t", project="mine")
    assert sorted(mine) == [i + 1 for i in range(0, 5000, 100)], "all 50, none short"
    assert index.candidates(query, 10, "other tenant") == []
    assert index.candidates(query, 10, "t", project="absent") == []
    nearest = index.candidates(query, 10, "t")
    conn.execute("DELETE FROM fact_embeddings WHERE fact_rowid = ?", (nearest[0],))
    ranked = _rescored(conn, index, nearest, query)
    assert nearest[0] not in {rowid for rowid, _ in ranked}
    assert nearest[0] not in index.candidates(query, 10, "t"), "forgotten for good"
