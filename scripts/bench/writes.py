"""Write benchmark: Cortex.store against raw SQLite doing the same inserts, same run.

Group commit is the engine of throughput: durability costs one fsync per transaction, so
a store path that commits one row per transaction is bound by fsyncs, and one that
commits a batch of rows per transaction is bound by CPU. The baseline ("ceiling") is raw
``sqlean`` inserting the same rows a store makes (the fact, its ledger entry with a
sha256 hash chain) in batches of 100 per transaction; the floor is one row per
transaction. Cortex is measured with 1, 10 and 100 concurrent callers.

    .venv/bin/python scripts/bench/writes.py [--quick] [--json]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio
import sqlean

from cortex import Cortex
from scripts.bench.results import record

CONTENT = "Deploys go through Argo CD; rollbacks use the previous image tag. " * 3
SCHEMA = """
CREATE TABLE facts (id TEXT PRIMARY KEY, tenant TEXT, project TEXT, kind TEXT, content TEXT,
    tags TEXT, meta TEXT, content_hash TEXT, recorded_at INTEGER, recorded_seq INTEGER);
CREATE TABLE ledger (seq INTEGER PRIMARY KEY, tenant TEXT, action TEXT, payload TEXT,
    prev_hash BLOB, entry_hash BLOB, recorded_at INTEGER);
"""


def raw_inserts(path: Path, count: int, batch: int, synchronous: str) -> dict[str, Any]:
    conn = sqlean.connect(str(path), isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute(f"PRAGMA synchronous = {synchronous}")
    conn.executescript(SCHEMA)
    prev = bytes(32)
    latencies: list[float] = []
    started = time.perf_counter()
    for first in range(0, count, batch):
        began = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        for seq in range(first, min(first + batch, count)):
            content = f"{seq} {CONTENT}"
            chash = hashlib.sha256(content.encode()).hexdigest()
            now = time.time_ns() // 1000
            conn.execute("INSERT INTO facts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                         (str(uuid.uuid4()), "default", "bench", "knowledge", content,
                          '["bench"]', "{}", chash, now, seq))
            payload = json.dumps({"content_hash": chash, "seq": seq}, sort_keys=True)
            digest = hashlib.sha256(prev + payload.encode()).digest()
            conn.execute("INSERT INTO ledger VALUES (?, ?, ?, ?, ?, ?, ?)",
                         (seq, "default", "fact.store", payload, prev, digest, now))
            prev = digest
        conn.execute("COMMIT")
        latencies.append((time.perf_counter() - began) * 1000)
    elapsed = time.perf_counter() - started
    conn.close()
    return {"rate": count / elapsed, "p50": statistics.median(latencies),
            "p99": _p99(latencies), "batch": batch}


async def cortex_stores(path: Path, count: int, callers: int, durability: str,
                        index_vectors: bool = False) -> dict[str, Any]:
    """``count`` stores from ``callers`` concurrent tasks. The write path alone by default;
    with ``index_vectors`` the model embeds the new facts behind them on the same cores."""
    latencies: list[float] = []
    remaining = count

    async def caller(cx: Cortex) -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            began = time.perf_counter()
            await cx.store(project="bench", content=f"{remaining} {CONTENT}", tags=["bench"])
            latencies.append((time.perf_counter() - began) * 1000)

    async with Cortex.open(path, durability=durability, log_level="warning",
                           witness_path=path.with_suffix(".witness"),
                           index_vectors=index_vectors) as cx:
        started = time.perf_counter()
        async with anyio.create_task_group() as tg:
            for _ in range(callers):
                tg.start_soon(caller, cx)
        elapsed = time.perf_counter() - started
        writer = cx.statistics().writer
    return {"rate": count / elapsed, "p50": statistics.median(latencies),
            "p99": _p99(latencies), "batch": writer.processed / max(writer.batches, 1)}


def _p99(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=100)[98] if len(samples) >= 100 else max(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="about a fifth of the work")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = parser.parse_args()
    scale = 5 if args.quick else 1
    bench_dir = Path.cwd() / ".bench-tmp"
    bench_dir.mkdir(exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="writes-", dir=bench_dir))
    rows: list[dict[str, Any]] = []
    ceilings: dict[str, float] = {}
    for sync in ("FULL", "NORMAL"):
        ceiling = raw_inserts(tmp / f"raw-batch-{sync}.db", 20_000 // scale, 100, sync)
        ceilings[sync] = ceiling["rate"]
        single = raw_inserts(tmp / f"raw-single-{sync}.db", 2_000 // scale, 1, sync)
        rows.append({"name": "raw sqlean, 100 rows per transaction", "durability": sync,
                     "callers": 1, **ceiling})
        rows.append({"name": "raw sqlean, 1 row per transaction", "durability": sync,
                     "callers": 1, **single})
    for durability in ("full", "normal"):
        for callers in (1, 10, 100):
            count = (2_000 if callers == 1 else 6_000) // scale
            db = tmp / f"cortex-{durability}-{callers}" / "cortex.db"
            result = anyio.run(cortex_stores, db, count, callers, durability)
            rows.append({"name": "Cortex.store", "durability": durability.upper(),
                         "callers": callers, **result})
    indexed = anyio.run(cortex_stores, tmp / "cortex-indexed" / "cortex.db", 6_000 // scale,
                        100, "full", True)
    rows.append({"name": "Cortex.store, the indexer embedding behind", "durability": "FULL",
                 "callers": 100, **indexed})
    for row in rows:
        row["ratio"] = row["rate"] / ceilings[row["durability"]]
        if row["name"].startswith("Cortex.store"):
            record("writes", f"{row['name']}, {row['callers']} callers, {row['durability']}",
                   row["rate"], "facts/s", baseline=ceilings[row["durability"]],
                   baseline_what="raw sqlean group commit, 100 rows per transaction")
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print(f"# Cortex write benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
          f"{platform.platform()}, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, "
          f"SQLite {sqlean.sqlite_version}, files in {tmp}")
    print("\n| what | sync | callers | facts/s | p50 ms | p99 ms | mean batch | vs ceiling |")
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['name']} | {row['durability']} | {row['callers']} | "
              f"{row['rate']:,.0f} | {row['p50']:.2f} | {row['p99']:.2f} | "
              f"{row['batch']:.1f} | {row['ratio']:.0%} |")
    best = next(r for r in rows if r["name"] == "Cortex.store" and r["callers"] == 100
                and r["durability"] == "FULL")
    verdict = "MET" if best["ratio"] >= 0.5 else "NOT MET"
    print(f"\ntarget: Cortex.store with 100 concurrent callers >= 50% of the batched raw "
          f"ceiling (FULL): {verdict} ({best['ratio']:.0%})")
    print("(p50/p99 for raw rows are per transaction; for Cortex, per store call)")


if __name__ == "__main__":
    main()
