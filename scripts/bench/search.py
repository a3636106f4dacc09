"""Search benchmark: embedding throughput, indexing lag, search latency at 10k and 100k.

Baselines from the same run: numpy brute-force cosine over the same vectors (the KNN
side's floor in Python) and raw embedding at each batch size. vec0 here does exact
(brute-force) KNN within the tenant partition, so its recall@10 against exact search is
1.0 by construction; the table says so rather than measuring an approximation.

The 10k store is embedded for real by the indexer; the 100k store gets random unit
vectors through the same writer command (``StoreVectors``), which times the KNN and the
fusion honestly without an hour of embedding.

    .venv/bin/python scripts/bench/search.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import anyio
import numpy as np

from cortex import Cortex
from cortex.embed.model_files import MODEL_ID
from cortex.engine.messages import StoreVectors

WORDS = ["database", "disk", "cache", "deploy", "rollback", "latency", "memory", "network",
         "queue", "index", "backup", "certificate", "token", "agent", "ledger", "vote",
         "search", "outage", "alert", "replica", "shard"]


def sentence(rng: np.random.Generator) -> str:
    return " ".join(rng.choice(WORDS, size=12)) + f" {rng.integers(1_000_000)}"


def percentiles(samples: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(samples, n=100)
    return statistics.median(samples), cuts[98]


async def embedding_rates(cx: Cortex, rng: np.random.Generator) -> list[tuple[str, str]]:
    embedder = await cx.embeddings.embedder()
    rows = []
    for batch in (1, 8, 32):
        texts = [sentence(rng) for _ in range(batch)]
        started, count = time.perf_counter(), 0
        while time.perf_counter() - started < 2:
            embedder.embed(texts)
            count += batch
        rows.append((f"embed, batch {batch}", f"{count / (time.perf_counter() - started):,.0f}"
                     " texts/s"))
    return rows


async def timed_searches(cx: Cortex, mode: str, queries: list[str]) -> tuple[float, float]:
    samples = []
    for query in queries:
        started = time.perf_counter()
        await cx.search(query, project="bench", top_k=10, mode=mode)
        samples.append((time.perf_counter() - started) * 1000)
    return percentiles(samples)


async def run(size: int, real: bool, tmp: Path, rows: list[tuple[str, str]]) -> None:
    rng = np.random.default_rng(size)
    db = tmp / f"search-{size}" / "cortex.db"
    await fill(db, size, real, rng, rows)
    async with Cortex.open(db, log_level="warning", durability="normal") as cx:
        await cx.embeddings.embedder()  # load the model before timing
        for mode in ("text", "semantic", "hybrid"):
            queries = [sentence(rng) for _ in range(60)]  # fresh: no cached query vector
            p50, p99 = await timed_searches(cx, mode, queries)
            rows.append((f"{mode} search, {size:,} facts, top 10", f"p50 {p50:.1f} ms, "
                         f"p99 {p99:.1f} ms (query embedding included)"))
        embedder = await cx.embeddings.embedder()
        matrix = np.random.default_rng(1).standard_normal((size, 384)).astype(np.float32)
        matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
        query = embedder.embed([sentence(rng)])[0]
        samples = []
        for _ in range(30):
            started = time.perf_counter()
            np.argpartition(-(matrix @ query), 10)[:10]
            samples.append((time.perf_counter() - started) * 1000)
        p50, p99 = percentiles(samples)
        rows.append((f"numpy brute-force cosine, {size:,} x 384 (baseline)",
                     f"p50 {p50:.1f} ms, p99 {p99:.1f} ms (no embedding)"))


async def fill(
    db: Path, size: int, real: bool, rng: np.random.Generator, rows: list[tuple[str, str]]
) -> None:
    """Store ``size`` facts; embed them for real, or give them random unit vectors through
    the writer (then the next open finds nothing pending)."""
    async with Cortex.open(db, log_level="warning", durability="normal",
                           index_vectors=real) as cx:
        if real and size <= 10_000:
            rows += await embedding_rates(cx, rng)
        started = time.perf_counter()
        last = None
        for first in range(0, size, 1000):
            facts = await cx.store_many([{"project": "bench", "content": sentence(rng)}
                                         for _ in range(min(1000, size - first))])
            last = facts[-1]
        stored_s = time.perf_counter() - started
        assert last is not None
        if real:
            await cx.wait_indexed(last)
            lag = time.perf_counter() - started - stored_s
            rows.append((f"index {size:,} facts after the stores",
                         f"stores {size / stored_s:,.0f}/s, vectors ready {lag:.1f} s later "
                         f"({size / (stored_s + lag):,.0f} facts/s end to end)"))
        else:
            vectors = rng.standard_normal((size, 384)).astype(np.float32)
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            for first in range(0, size, 2000):
                batch = [(seq + 1, vectors[seq].tobytes()) for seq in  # rowid = seq + 1 here
                         range(first, min(first + 2000, size))]
                await cx._write(StoreVectors(MODEL_ID, batch, first + len(batch)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="2k and 20k facts")
    args = parser.parse_args()
    small, large = (2_000, 20_000) if args.quick else (10_000, 100_000)
    tmp = Path(tempfile.mkdtemp(prefix="cortex-bench-search-"))
    os.environ.setdefault("XDG_STATE_HOME", str(tmp / "state"))
    rows: list[tuple[str, str]] = []
    anyio.run(run, small, True, tmp, rows)
    anyio.run(run, large, False, tmp, rows)
    print(f"# Cortex search benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
          f"{platform.platform()}, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    print("\n| what | figure |\n|---|---|")
    for name, figure in rows:
        print(f"| {name} | {figure} |")
    print("\nvec0 KNN is exact within a tenant partition: recall@10 = 1.0 by construction")


if __name__ == "__main__":
    main()
