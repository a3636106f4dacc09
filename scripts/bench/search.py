"""Search benchmark: embedding throughput and priority, indexing lag, search latency and
recall at 10k and 100k facts. Every figure beside a same-run baseline.

- embedding: the bare model at batch 1, 8, 32, and 50 concurrent ``cx.embed`` callers
  (coalesced by the query lane); a query's embedding latency while the indexer is busy,
  without arbitration (both in their own threads, as before) and with the lanes.
- indexing: 10k facts stored at a paced 1,000 stores/s with the indexer on: the most
  facts waiting for a vector, and how long after the storm the last one had its vector.
- search: text, semantic, hybrid at 10k facts (real vectors from the indexer) and 100k
  (the 10k real ones plus 90k blends of two real vectors with a little noise, stored
  through the writer's ``StoreVectors``: the model would need minutes for 90k texts).
  p50/p99 with fresh queries (embedding included) and the same queries again (cached
  embedding: excluded); beside a numpy brute-force cosine scan of the same vectors, and
  recall@10 of semantic search against that exact scan.

Facts are sentences of real words (from the model's vocabulary), queries two common
words, so the text side matches a few dozen facts at 100k.

    .venv/bin/python scripts/bench/search.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import anyio
import numpy as np

from cortex import Cortex
from cortex.embed.model_files import MODEL_ID, locate
from cortex.engine.messages import StoreVectors
from scripts.bench.results import record

Rows = list[tuple[str, str]]


class Words:
    """Sentences of 12 real words, 4 of them from a common pool of 200."""

    def __init__(self, seed: int) -> None:
        vocab = json.loads(Path(locate().tokenizer).read_text())["model"]["vocab"]
        words = sorted(w for w in vocab if w.isascii() and w.isalpha() and len(w) >= 4)
        self.rng = np.random.default_rng(seed)
        # arrays, not lists: choice() would convert a 20k-word list on every call
        self.words = np.array(words)
        self.common = self.rng.choice(self.words, size=200, replace=False)

    def sentence(self) -> str:
        return " ".join([*self.rng.choice(self.common, 4), *self.rng.choice(self.words, 8)])

    def query(self) -> str:
        return " ".join(self.rng.choice(self.common, 2, replace=False))


def pct(samples: list[float]) -> tuple[float, float]:
    return statistics.median(samples), statistics.quantiles(samples, n=100)[98]


def ms(samples: list[float]) -> str:
    p50, p99 = pct(samples)
    return f"p50 {p50:.1f} ms, p99 {p99:.1f} ms"


async def embedding_rates(cx: Cortex, words: Words, seconds: float, rows: Rows) -> None:
    embedder = await cx.embeddings.embedder()
    for batch in (1, 8, 32):
        texts = [words.sentence() for _ in range(batch)]
        started, count = time.perf_counter(), 0
        while time.perf_counter() - started < seconds:
            embedder.embed(texts)
            count += batch
        rows.append((f"embed, bare model, batch {batch}",
                     f"{count / (time.perf_counter() - started):,.0f} texts/s"))
    count = 0

    async def caller() -> None:
        nonlocal count
        await cx.embed([words.sentence()])
        count += 1

    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        async with anyio.create_task_group() as tg:
            for _ in range(50):
                tg.start_soon(caller)
    rows.append(("embed, 50 concurrent cx.embed callers (coalesced)",
                 f"{count / (time.perf_counter() - started):,.0f} texts/s"))


async def query_latency_while_indexing(cx: Cortex, words: Words, rows: Rows) -> None:
    """A query's embedding while a background loop embeds batches of 32."""
    embedder = await cx.embeddings.embedder()
    batch = [words.sentence() for _ in range(32)]

    async def measure(embed_one: object, background: object | None) -> list[float]:
        samples: list[float] = []
        async with anyio.create_task_group() as tg:
            if background is not None:
                tg.start_soon(background)
                await anyio.sleep(0.05)
            for _ in range(40):
                started = time.perf_counter()
                await embed_one([words.sentence()])  # type: ignore[operator]
                samples.append((time.perf_counter() - started) * 1000)
                await anyio.sleep(0.005)
            tg.cancel_scope.cancel()
        return samples

    async def unarbitrated() -> None:  # before: the indexer's own thread, no lanes
        while True:
            await anyio.to_thread.run_sync(embedder.embed, batch)

    async def through_lanes() -> None:
        while True:
            await cx.embeddings.embed_for_index(batch)

    async def bare(texts: list[str]) -> None:
        await anyio.to_thread.run_sync(embedder.embed, texts)

    idle = await measure(cx.embed, None)
    before = await measure(bare, unarbitrated)
    after = await measure(cx.embed, through_lanes)
    rows.append(("query embedding, model idle", ms(idle)))
    rows.append(("query embedding, indexer busy, no arbitration (before)",
                 f"{ms(before)} ({pct(before)[1] / pct(idle)[1]:.1f}x idle p99)"))
    rows.append(("query embedding, indexer busy, query lane first (after)",
                 f"{ms(after)} ({pct(after)[1] / pct(idle)[1]:.1f}x idle p99)"))


async def storm(cx: Cortex, words: Words, size: int, rows: Rows) -> None:
    """``size`` stores paced at 1,000/s (10 per 10 ms) with the indexer on."""
    started, lag, last = time.perf_counter(), 0, None
    for first in range(0, size, 10):
        last = (await cx.store_many([{"project": "bench", "content": words.sentence()}
                                     for _ in range(10)]))[-1]
        lag = max(lag, first + 10 - cx.index_progress.rowid)
        await anyio.sleep(max(0.0, started + (first + 10) / 1000 - time.perf_counter()))
    stored_s = time.perf_counter() - started
    assert last is not None
    await cx.wait_indexed(last)
    caught_up = time.perf_counter() - started - stored_s
    rows.append((f"indexing lag, {size:,} stores at 1,000/s (got {size / stored_s:,.0f}/s)",
                 f"at most {lag:,} facts waiting; all indexed {caught_up:.1f} s after the "
                 f"storm ({size / (stored_s + caught_up):,.0f} facts/s end to end)"))


def vectors_of(db: Path) -> tuple[np.ndarray, np.ndarray]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        found = conn.execute("SELECT fact_rowid, vector FROM fact_embeddings WHERE model = ?"
                             " ORDER BY fact_rowid", (MODEL_ID,)).fetchall()
    finally:
        conn.close()
    rowids = np.array([r for r, _ in found], dtype=np.int64)
    return rowids, np.frombuffer(b"".join(b for _, b in found), np.float32).reshape(-1, 384)


def blends(real: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """Unit vectors mixing two real embeddings (55-100 % of one) plus a little noise:
    neighbourhoods shaped like the model's, at any size."""
    a, b = rng.integers(0, len(real), count), rng.integers(0, len(real), count)
    share = rng.uniform(0.55, 1.0, (count, 1)).astype(np.float32)
    blend = share * real[a] + (1 - share) * real[b]
    blend += rng.standard_normal(blend.shape).astype(np.float32) * 0.01
    return blend / np.linalg.norm(blend, axis=1, keepdims=True)


async def grow(db: Path, words: Words, size: int) -> None:
    """Add facts up to ``size``, with blends of two real vectors through the writer."""
    rowids, real = vectors_of(db)
    rng = np.random.default_rng(size)
    async with Cortex.open(db, log_level="warning", durability="normal",
                           index_vectors=False) as cx:
        for first in range(len(rowids), size, 1000):
            count = min(1000, size - first)
            await cx.store_many([{"project": "bench", "content": words.sentence()}
                                 for _ in range(count)])
            blend = blends(real, count, rng)
            batch = [(first + i + 1, blend[i].tobytes()) for i in range(count)]
            await cx._write(StoreVectors(MODEL_ID, batch, first + count))


async def searches(db: Path, words: Words, size: int, rows: Rows) -> None:
    rowids, matrix = vectors_of(db)
    async with Cortex.open(db, log_level="warning", durability="normal",
                           index_vectors=True) as cx:
        await cx.embeddings.embedder()
        started = time.perf_counter()
        await cx.search(words.query(), project="bench", mode="semantic")  # loads the index
        cold = time.perf_counter() - started
        figures: dict[str, list[float]] = {}
        for mode in ("text", "semantic", "hybrid"):
            queries = [words.query() for _ in range(60)]
            for label in ("with", "cached"):
                samples = figures.setdefault(f"{mode} {label}", [])
                for query in queries:
                    started = time.perf_counter()
                    await cx.search(query, project="bench", top_k=10, mode=mode)
                    samples.append((time.perf_counter() - started) * 1000)
        found, scan = 0, []
        queries = [words.query() for _ in range(50)]
        for query in queries:
            vector = np.frombuffer(await cx.embeddings.query_vector(query), np.float32)
            started = time.perf_counter()
            exact = set(rowids[np.argpartition(-(matrix @ vector), 10)[:10]].tolist())
            scan.append((time.perf_counter() - started) * 1000)
            hits = await cx.search(query, project="bench", top_k=10, mode="semantic")
            ids = [h.fact.id for h in hits.results]
            found += len(exact & set(_rowids(db, ids)))
    scan_p50 = pct(scan)[0]
    for mode in ("text", "semantic", "hybrid"):
        with_, cached = figures[f"{mode} with"], figures[f"{mode} cached"]
        record("search", f"{mode} search p99 at {size:,} facts, with the query embedding",
               pct(with_)[1], "ms", baseline=pct(scan)[1],
               baseline_what="numpy brute-force cosine p99 (no embedding)", better="lower",
               target=20 if mode == "hybrid" and size >= 100_000 else None)
        ratio = "" if mode == "text" else f"; {pct(cached)[0] / scan_p50:.1f}x numpy p50"
        rows.append((f"{mode} search, {size:,} facts, top 10",
                     f"{ms(with_)} with the query embedding; {ms(cached)} cached{ratio}"))
    rows.append((f"numpy brute-force cosine, {size:,} x 384 (baseline)", ms(scan)))
    rows.append((f"first semantic search after open, {size:,} facts (loads the index)",
                 f"{cold * 1000:,.0f} ms"))
    record("search", f"semantic recall@10 at {size:,} facts", found / (10 * len(queries)),
           "", baseline=1.0, baseline_what="exact scan", target=0.98)
    rows.append((f"semantic recall@10 vs exact scan, {size:,} facts",
                 f"{found / (10 * len(queries)):.3f}"))


def _rowids(db: Path, ids: list[str]) -> list[int]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return [conn.execute("SELECT rowid FROM facts WHERE id = ?", (i,)).fetchone()[0]
                for i in ids]
    finally:
        conn.close()


async def run(small: int, large: int, seconds: float, tmp: Path, rows: Rows) -> None:
    words = Words(1)
    db = tmp / "search" / "cortex.db"
    async with Cortex.open(db, log_level="warning", durability="normal",
                           index_vectors=True) as cx:
        await embedding_rates(cx, words, seconds, rows)
        await query_latency_while_indexing(cx, words, rows)
        await storm(cx, words, small, rows)
    await searches(db, words, small, rows)
    await grow(db, words, large)
    await searches(db, words, large, rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="2k and 20k facts, short runs")
    args = parser.parse_args()
    small, large, seconds = (2_000, 20_000, 0.5) if args.quick else (10_000, 100_000, 2.0)
    tmp = Path(tempfile.mkdtemp(prefix="cortex-bench-search-"))
    os.environ.setdefault("XDG_STATE_HOME", str(tmp / "state"))
    rows: Rows = []
    anyio.run(run, small, large, seconds, tmp, rows)
    print(f"# Cortex search benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
          f"{platform.platform()}, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    print("\n| what | figure |\n|---|---|")
    for name, figure in rows:
        print(f"| {name} | {figure} |")


if __name__ == "__main__":
    main()
