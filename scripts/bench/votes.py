"""Vote benchmark: votes/s and latency, beside the raw batched-insert ceiling of the same run.

A vote is a read-modify-write (the fact's scores are recomputed from its votes in the same
writer step), so a hot fact with many voters is the hard case: every vote re-tallies the
fact. Measured: one hot fact with 1, 10 and 100 concurrent voters, and votes spread over
10,000 facts.

    .venv/bin/python scripts/bench/votes.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio
import sqlean

from cortex import Cortex

sys.path.insert(0, str(Path(__file__).parent))
from writes import raw_inserts

from scripts.bench.results import record


async def run_votes(
    db: Path, voters: int, facts: int, votes: int, concurrency: int
) -> dict[str, Any]:
    latencies: list[float] = []
    async with Cortex.open(db, log_level="warning", witness_path=db.with_suffix(".w"),
                           index_vectors=False) as cx:  # votes alone, not the model
        agents = [a.id for a in [await cx.agents.register(f"agent-{n}")
                                 for n in range(voters)]]
        ids: list[str] = []
        for first in range(0, facts, 500):
            batch = [{"project": "bench", "content": f"claim {n}"}
                     for n in range(first, min(first + 500, facts))]
            ids += [f.id for f in await cx.store_many(batch)]
        rng = random.Random(7)
        plan = [(rng.choice(ids), agents[n % voters], rng.choice((1, -1)))
                for n in range(votes)]

        async def worker(offset: int) -> None:
            for fact_id, agent_id, value in plan[offset::concurrency]:
                began = time.perf_counter()
                await cx.vote(fact_id, agent_id, value)
                latencies.append((time.perf_counter() - began) * 1000)

        started = time.perf_counter()
        async with anyio.create_task_group() as tg:
            for offset in range(concurrency):
                tg.start_soon(worker, offset)
        elapsed = time.perf_counter() - started
    return {"rate": votes / elapsed, "p50": statistics.median(latencies),
            "p99": statistics.quantiles(latencies, n=100)[98]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    scale = 4 if args.quick else 1
    tmp = Path(tempfile.mkdtemp(prefix="cortex-bench-votes-"))
    os.environ.setdefault("XDG_STATE_HOME", str(tmp / "state"))
    ceiling = raw_inserts(tmp / "raw.db", 20_000 // scale, 100, "FULL")["rate"]
    rows = []
    for label, voters, facts, concurrency in (
        ("one hot fact", 1, 1, 1), ("one hot fact", 10, 1, 10), ("one hot fact", 100, 1, 100),
        ("spread over 10k facts", 100, 10_000 // scale, 100),
    ):
        result = anyio.run(run_votes, tmp / f"{label[:3]}-{concurrency}" / "c.db", voters,
                           facts, 4_000 // scale, concurrency)
        rows.append((label, concurrency, result))
    print(f"# Cortex vote benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
          f"{platform.platform()}, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, "
          f"SQLite {sqlean.sqlite_version}")
    print(f"\nraw sqlean ceiling (100 rows per transaction, FULL): {ceiling:,.0f} rows/s\n")
    print("| votes on | concurrent voters | votes/s | p50 ms | p99 ms | vs ceiling |")
    print("|---|---|---|---|---|---|")
    for label, concurrency, r in rows:
        record("votes", f"votes on {label}, {concurrency} voters", r["rate"], "votes/s",
               baseline=ceiling, baseline_what="raw sqlean group commit, 100 rows per txn")
        print(f"| {label} | {concurrency} | {r['rate']:,.0f} | {r['p50']:.2f} | "
              f"{r['p99']:.2f} | {r['rate'] / ceiling:.0%} |")


if __name__ == "__main__":
    main()
