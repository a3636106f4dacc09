"""Scaling benchmark: store throughput and search latency as the store grows to 10k, 100k
and 1M facts.

At each size: the time to open the store (a full ledger verification), the rate of 100
concurrent ``Cortex.store`` callers (``synchronous=FULL``) beside raw sqlean group commit
measured in the same run, and text / hybrid search p50 and p99 (query embedding included)
beside a numpy brute-force cosine scan over the same vectors. Facts get random unit
vectors through the writer's own command, so the KNN is timed at full size without hours
of embedding.

    .venv/bin/python scripts/bench/scaling.py [--sizes 10000,100000,1000000] [--quick]
"""

from __future__ import annotations

import argparse
import os
import platform
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

sys.path.insert(0, str(Path(__file__).parent))
from search import Words, blends, pct
from writes import raw_inserts

from scripts.bench.results import record


async def fill(db: Path, size: int, words: Words, real: np.ndarray
               ) -> tuple[float, np.ndarray]:
    """Store ``size`` facts in batches of 1000, each batch's vectors written by the
    writer command the indexer uses (rowid = position + 1 in a store of plain stores)."""
    rng = np.random.default_rng(size)
    vectors = np.empty((size, 384), dtype=np.float32)
    async with Cortex.open(db, log_level="warning", durability="normal",
                           index_vectors=False) as cx:
        stored = 0.0
        for first in range(0, size, 1000):
            count = min(1000, size - first)
            facts = [{"project": "bench", "content": words.sentence()} for _ in range(count)]
            began = time.perf_counter()
            await cx.store_many(facts)
            stored += time.perf_counter() - began
            vectors[first:first + count] = blends(real, count, rng)
            batch = [(first + i + 1, vectors[first + i].tobytes()) for i in range(count)]
            await cx._write(StoreVectors(MODEL_ID, batch, first + count))
    return size / stored, vectors


async def concurrent_stores(cx: Cortex, count: int, callers: int) -> float:
    async def caller(n: int) -> None:
        for i in range(count // callers):
            await cx.store("growth", f"caller {n} fact {i} about latency and replicas")

    started = time.perf_counter()
    async with anyio.create_task_group() as tg:
        for n in range(callers):
            tg.start_soon(caller, n)
    return count / (time.perf_counter() - started)


async def real_embeddings(words: Words, count: int) -> np.ndarray:
    async with Cortex.open(Path(tempfile.mkdtemp()) / "model" / "c.db", log_level="warning",
                           index_vectors=False) as cx:
        texts = [words.sentence() for _ in range(count)]
        chunks = [await cx.embed(texts[i:i + 32]) for i in range(0, count, 32)]
    return np.asarray([v for chunk in chunks for v in chunk], dtype=np.float32)


async def measure(db: Path, vectors: np.ndarray, words: Words,
                  queries: int) -> dict[str, float]:
    """Open (timed), search (nothing is pending, so the indexer stays idle), then reopen
    without the indexer to time concurrent stores, which would otherwise wake it."""
    started = time.perf_counter()
    async with Cortex.open(db, log_level="warning", index_vectors=True) as cx:
        result = {"open_s": time.perf_counter() - started}
        await cx.search(words.query(), project="bench", mode="semantic")  # load model, index
        for mode in ("text", "hybrid"):
            samples: list[float] = []
            for _ in range(queries):
                query = words.query() + f" {len(samples)}"  # never a cached query vector
                began = time.perf_counter()
                await cx.search(query, project="bench", top_k=10, mode=mode)
                samples.append((time.perf_counter() - began) * 1000)
            result[f"{mode}_p50"], result[f"{mode}_p99"] = pct(samples)
        query = np.asarray((await cx.embed([words.query()]))[0], dtype=np.float32)
    async with Cortex.open(db, log_level="warning", durability="full",
                           index_vectors=False) as cx:
        result["store_rate"] = await concurrent_stores(cx, 3000, 100)
    samples = []
    for _ in range(30):
        began = time.perf_counter()
        np.argpartition(-(vectors @ query), 10)[:10]
        samples.append((time.perf_counter() - began) * 1000)
    result["numpy_p50"], result["numpy_p99"] = pct(samples)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--quick", action="store_true", help="10k and 50k facts")
    args = parser.parse_args()
    sizes = [10_000, 50_000] if args.quick else [int(s) for s in args.sizes.split(",")]
    tmp = Path(tempfile.mkdtemp(prefix="cortex-bench-scaling-"))
    os.environ.setdefault("XDG_STATE_HOME", str(tmp / "state"))
    ceiling = raw_inserts(tmp / "raw.db", 20_000, 100, "FULL")["rate"]
    words = Words(3)
    real = anyio.run(real_embeddings, words, 1000)
    rows = []
    for size in sizes:
        db = tmp / f"scale-{size}" / "cortex.db"
        bulk, vectors = anyio.run(fill, db, size, words, real)
        result = anyio.run(measure, db, vectors, words, 40 if args.quick else 100)
        rows.append((size, bulk, result))
        record("scaling", f"Cortex.store, 100 callers, FULL, at {size:,} facts",
               result["store_rate"], "facts/s", baseline=ceiling,
               baseline_what="raw sqlean group commit, 100 rows per transaction")
        record("scaling", f"hybrid search p99 at {size:,} facts (with query embedding)",
               result["hybrid_p99"], "ms", baseline=result["numpy_p99"],
               baseline_what="numpy brute-force cosine p99 (no embedding)", better="lower",
               target=20)
        del vectors
    print(f"# Cortex scaling benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
          f"{platform.platform()}, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    print(f"\nraw sqlean group commit (100 rows per transaction, FULL): {ceiling:,.0f} rows/s\n")
    print("| facts | bulk store_many /s | open s | store, 100 callers /s | vs raw | "
          "text p50 / p99 ms | hybrid p50 / p99 ms | numpy p50 / p99 ms |")
    print("|---|---|---|---|---|---|---|---|")
    for size, bulk, r in rows:
        print(f"| {size:,} | {bulk:,.0f} | {r['open_s']:.1f} | {r['store_rate']:,.0f} | "
              f"{r['store_rate'] / ceiling:.0%} | {r['text_p50']:.1f} / {r['text_p99']:.1f} | "
              f"{r['hybrid_p50']:.1f} / {r['hybrid_p99']:.1f} | "
              f"{r['numpy_p50']:.1f} / {r['numpy_p99']:.1f} |")


if __name__ == "__main__":
    main()
