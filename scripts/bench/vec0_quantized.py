"""Why the KNN side is not a vec0 table: vec0's float, bit and int8 columns against the
projected in-memory index, same vectors, same run, with candidates rescored exactly.

Latency is measured over 100k vectors: blends of two real all-MiniLM-L6-v2 embeddings
plus a little noise (clustered, so easy for every method: their recall is not shown).
Recall@10 against an exact numpy scan is measured over the model's own vectors of 12k
unrelated sentences of real words: crowded neighbourhoods, the hard case. Every vec0
table has tenant as partition key and project as metadata, and the KNN filters on both,
as search must; candidates are rescored exactly from fp32 vectors in a plain table.

    .venv/bin/python scripts/bench/vec0_quantized.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from tempfile import mkdtemp

import numpy as np
import sqlean
import sqlite_vec

from cortex.db.search import _rescored
from cortex.db.vector_index import FIT_AT, VectorIndex, candidate_count
from cortex.embed.model_files import built_model, locate
from cortex.embed.runtime import Embedder
from scripts.bench.search import blends

MODEL = "bench"


def real_vectors(count: int) -> np.ndarray:
    files = locate()
    embedder = Embedder(built_model(files, Path(mkdtemp()) / "models"), files.tokenizer)
    vocab = json.loads(Path(files.tokenizer).read_text())["model"]["vocab"]
    words = sorted(w for w in vocab if w.isascii() and w.isalpha() and len(w) >= 4)
    rng = np.random.default_rng(0)
    texts = [" ".join(rng.choice(words, size=int(rng.integers(6, 16)))) for _ in range(count)]
    return np.concatenate([embedder.embed(texts[i:i + 32]) for i in range(0, count, 32)])


def build(vectors: np.ndarray) -> sqlean.Connection:
    conn = sqlean.connect(":memory:")
    conn.enable_load_extension(True)
    sqlite_vec.load(conn)
    conn.execute("CREATE TABLE fact_embeddings (fact_rowid INTEGER PRIMARY KEY, tenant TEXT,"
                 " project TEXT, kind TEXT, model TEXT, vector BLOB)")
    conn.executemany("INSERT INTO fact_embeddings VALUES (?, 't', 'bench', 'knowledge', ?, ?)",
                     [(i + 1, MODEL, v.tobytes()) for i, v in enumerate(vectors)])
    mean = vectors[:: max(1, len(vectors) // 16384)].mean(axis=0)
    scale = 127 / float(np.abs(vectors).max())
    for name, column, blob in (
        ("vf", "float[384] distance_metric=cosine", lambda v: v.tobytes()),
        ("vb", "bit[384]", lambda v: np.packbits(v - mean > 0).tobytes()),
        ("vi", "int8[384]", lambda v: np.round(v * scale).astype(np.int8).tobytes()),
    ):
        conn.execute(f"CREATE VIRTUAL TABLE {name} USING vec0(fact_rowid INTEGER PRIMARY KEY,"
                     f" tenant TEXT PARTITION KEY, project TEXT, embedding {column})")
        wrap = {"vf": "?", "vb": "vec_bit(?)", "vi": "vec_int8(?)"}[name]
        conn.executemany(f"INSERT INTO {name} VALUES (?, 't', 'bench', {wrap})",
                         [(i + 1, blob(v)) for i, v in enumerate(vectors)])
    conn.execute("CREATE TEMP TABLE quant (mean BLOB, scale REAL)")
    conn.execute("INSERT INTO quant VALUES (?, ?)", (mean.tobytes(), scale))
    return conn


def vec0_candidates(conn: sqlean.Connection, table: str, k: int) -> Callable[[np.ndarray],
                                                                             list[int]]:
    mean_blob, scale = conn.execute("SELECT mean, scale FROM quant").fetchone()
    mean = np.frombuffer(mean_blob, np.float32)
    encode, wrap = {
        "vf": (lambda q: q.tobytes(), "?"),
        "vb": (lambda q: np.packbits(q - mean > 0).tobytes(), "vec_bit(?)"),
        "vi": (lambda q: np.round(q * scale).astype(np.int8).tobytes(), "vec_int8(?)"),
    }[table]
    sql = (f"SELECT fact_rowid FROM {table} WHERE embedding MATCH {wrap} AND k = {k}"
           " AND tenant = 't' AND project = 'bench' ORDER BY distance")
    return lambda q: [r for (r,) in conn.execute(sql, (encode(q),))]


def measure(conn: sqlean.Connection, index: VectorIndex, find: Callable[[np.ndarray],
            list[int]], vectors: np.ndarray, queries: np.ndarray) -> tuple[float, float, float]:
    samples, found = [], 0
    for query in queries:
        started = time.perf_counter()
        ranked = _rescored(conn, index, find(query), query)[:10]
        samples.append((time.perf_counter() - started) * 1000)
        exact = set((np.argpartition(-(vectors @ query), 10)[:10] + 1).tolist())
        found += len(exact & {rowid for rowid, _ in ranked})
    cuts = statistics.quantiles(samples, n=100)
    return statistics.median(samples), cuts[98], found / (10 * len(queries))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="20k / 3k vectors")
    args = parser.parse_args()
    size, hard = (20_000, 3_000) if args.quick else (100_000, 12_000)
    real = real_vectors(hard + 40)
    timed = run_configs(blends(real[:1000], size, np.random.default_rng(1)),
                        blends(real[:1000], 40, np.random.default_rng(2)))
    recalled = run_configs(real[:hard], real[hard:])
    print(f"# KNN top 10 (tenant + project filtered): latency over {size:,} vectors,"
          f" recall@10 over {hard:,} real embeddings\n")
    print("| index | p50 | p99 | recall@10 |\n|---|---|---|---|")
    for (name, p50, p99, _), (_, _, _, recall) in zip(timed, recalled, strict=True):
        print(f"| {name} | {p50:.1f} ms | {p99:.1f} ms | {recall:.3f} |")


def run_configs(vectors: np.ndarray, queries: np.ndarray
                ) -> list[tuple[str, float, float, float]]:
    conn = build(vectors)
    index = VectorIndex(MODEL, fit_at=min(FIT_AT, len(vectors) // 2))
    index.refresh(conn)
    configs: list[tuple[str, Callable[[np.ndarray], list[int]]]] = [
        ("vec0 float[384] cosine, k = 10 (exact)", vec0_candidates(conn, "vf", 10))]
    configs += [(f"vec0 bit[384] (sign of v - mean), k = {k}, rescored",
                 vec0_candidates(conn, "vb", k)) for k in (40, 100, 200, 400)]
    configs += [(f"vec0 int8[384], k = {k}, rescored", vec0_candidates(conn, "vi", k))
                for k in (20, 40)]
    configs.append((f"in-memory PCA-128 projection, {candidate_count(10)} candidates,"
                    " rescored", lambda q: index.candidates(q, candidate_count(10), "t",
                                                            "bench")))
    results = [(name, *measure(conn, index, find, vectors, queries)) for name, find in configs]
    scan = []
    for query in queries:
        started = time.perf_counter()
        np.argpartition(-(vectors @ query), 10)[:10]
        scan.append((time.perf_counter() - started) * 1000)
    results.append(("numpy brute force (baseline)", statistics.median(scan),
                    statistics.quantiles(scan, n=100)[98], 1.0))
    return results


if __name__ == "__main__":
    main()
