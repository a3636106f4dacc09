"""Entity graph benchmark: extraction cost, the store path with a graph, neighbours and paths.

Measured in one run:
- extraction µs per fact (``cortex.core.extraction.extract``) beside a bare word split
  of the same texts (the least any text pass costs);
- ``store_many`` facts/s for entity-rich content beside entity-free content of the same
  length (what the graph adds to a write);
- neighbours (depth 1 and 2) and shortest path (max depth 4) p50/p99 on the graph of N
  facts (default 100k), beside a breadth-first search over an in-memory adjacency dict
  built from the same rows (the naive approach: everything in RAM).

    .venv/bin/python scripts/bench/graph.py [--facts 100000] [--quick]
"""

from __future__ import annotations

import argparse
import collections
import os
import platform
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import anyio
import sqlean

from cortex import Cortex
from cortex.core.extraction import extract
from scripts.bench.results import record

VERBS = ("uses", "depends on", "replaces", "extends", "integrates with", "runs on")
TOOLS = ("SQLite", "Docker", "Redis", "Kubernetes", "PostgreSQL", "Litestar", "nginx")


def entity_names(count: int) -> list[str]:
    """Type-like names (``Service12Handler``): one extraction rule, many distinct nodes."""
    return [f"Service{n}Handler" for n in range(count)]


def corpus(facts: int, names: list[str], seed: int = 7) -> list[str]:
    """Sentences naming two or three entities with a signal phrase; names drawn with a
    skew (a few hubs, a long tail) like real notes."""
    rng = random.Random(seed)
    weights = [1 / (rank + 1) ** 0.8 for rank in range(len(names))]
    texts = []
    for _ in range(facts):
        a, b = rng.choices(names, weights, k=2)
        tail = f" and {rng.choice(TOOLS)}" if rng.random() < 0.3 else ""
        texts.append(f"The {a} {rng.choice(VERBS)} {b}{tail}; see src/{a.lower()}.py")
    return texts


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        began = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - began) * 1000)
    return samples


def extraction_cost(texts: list[str]) -> tuple[float, float]:
    began = time.perf_counter()
    for text in texts:
        extract(text)
    per_fact = (time.perf_counter() - began) / len(texts) * 1e6
    began = time.perf_counter()
    for text in texts:
        text.split()
    return per_fact, (time.perf_counter() - began) / len(texts) * 1e6


async def store_rates(db: Path, texts: list[str]) -> tuple[float, float]:
    """facts/s of store_many for the corpus, then for entity-free text of equal length."""
    plain = ["x" * len(text) for text in texts]
    rates = []
    async with Cortex.open(db, log_level="warning", index_vectors=False,
                           witness_path=db.with_suffix(".w")) as cx:
        for project, batch_texts in (("graph", texts), ("plain", plain)):
            began = time.perf_counter()
            for first in range(0, len(batch_texts), 500):
                await cx.store_many([{"project": project, "content": text}
                                     for text in batch_texts[first:first + 500]])
            rates.append(len(batch_texts) / (time.perf_counter() - began))
    return rates[0], rates[1]


async def query_latencies(db: Path, names: list[str], samples: int) -> dict[str, list[float]]:
    rng = random.Random(11)
    picks = [rng.choice(names[: len(names) // 2]) for _ in range(samples)]
    pairs = [(rng.choice(names[:2000]), rng.choice(names[:2000])) for _ in range(samples)]
    results: dict[str, list[float]] = collections.defaultdict(list)
    async with Cortex.open(db, log_level="warning", index_vectors=False,
                           witness_path=db.with_suffix(".w")) as cx:
        for label, depth in (("neighbours depth 1", 1), ("neighbours depth 2", 2)):
            for name in picks:
                began = time.perf_counter()
                await cx.graph.neighbors(name, depth=depth, project="graph", max_nodes=100)
                results[label].append((time.perf_counter() - began) * 1000)
        for source, target in pairs:
            began = time.perf_counter()
            await cx.graph.path(source, target, max_depth=4, project="graph")
            results["path max depth 4"].append((time.perf_counter() - began) * 1000)
    return results


def naive_latencies(db: Path, names: list[str], samples: int) -> dict[str, list[float]]:
    """The same questions answered by BFS over an adjacency dict of every edge in RAM."""
    conn = sqlean.connect(db)
    ids = {key: id_ for id_, key in conn.execute(
        "SELECT id, key FROM entities WHERE project = 'graph'")}
    adjacency: dict[int, set[int]] = collections.defaultdict(set)
    for source, target in conn.execute("SELECT source, target FROM relations"):
        adjacency[source].add(target)
        adjacency[target].add(source)
    conn.close()

    def bfs(start: int, depth: int, goal: int | None = None) -> dict[int, int]:
        seen, frontier = {start: 0}, [start]
        for level in range(1, depth + 1):
            reached = []
            for node in frontier:
                for other in adjacency[node]:
                    if other not in seen:
                        seen[other] = level
                        reached.append(other)
            frontier = reached
            if goal is not None and goal in seen:
                break
        return seen

    rng = random.Random(11)
    picks = [ids[rng.choice(names[: len(names) // 2]).lower()] for _ in range(samples)]
    pairs = [(ids[rng.choice(names[:2000]).lower()], ids[rng.choice(names[:2000]).lower()])
             for _ in range(samples)]
    out: dict[str, list[float]] = collections.defaultdict(list)
    for label, depth in (("neighbours depth 1", 1), ("neighbours depth 2", 2)):
        for start in picks:
            out[label] += timed(lambda s=start, d=depth: bfs(s, d), 1)
    for source, target in pairs:
        out["path max depth 4"] += timed(lambda s=source, t=target: bfs(s, 4, t), 1)
    return out


def pct(samples: list[float], q: int) -> float:
    return statistics.quantiles(samples, n=100)[q - 1] if len(samples) > 1 else samples[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--facts", type=int, default=100_000)
    parser.add_argument("--quick", action="store_true", help="10k facts, fewer samples")
    args = parser.parse_args()
    facts = 10_000 if args.quick else args.facts
    samples = 100 if args.quick else 300
    tmp = Path(tempfile.mkdtemp(prefix="cortex-bench-graph-"))
    os.environ.setdefault("XDG_STATE_HOME", str(tmp / "state"))
    names = entity_names(max(1000, facts // 5))
    texts = corpus(facts, names)
    per_fact, split_cost = extraction_cost(texts[:20_000])
    db = tmp / "graph.db"
    with_graph, without = anyio.run(store_rates, db, texts)
    conn = sqlean.connect(db)
    mentioned = [row[0] for row in conn.execute(
        "SELECT name FROM entities WHERE project = 'graph' AND type = 'type'"
        " ORDER BY mentions DESC, id")]
    conn.close()
    ours = anyio.run(query_latencies, db, mentioned, samples)
    naive = naive_latencies(db, mentioned, samples)
    conn = sqlean.connect(db)
    entities, relations = (conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                           for t in ("entities", "relations"))
    conn.close()
    print(f"# graph benchmark, {datetime.now(UTC):%Y-%m-%d}, {platform.machine()}, "
          f"{os.cpu_count()} cores, {facts:,} facts -> {entities:,} entities, "
          f"{relations:,} relations\n")
    print("| what | Cortex | baseline | ratio |")
    print("|---|---|---|---|")
    record("graph", "extraction per fact", per_fact, "µs", baseline=split_cost,
           baseline_what="word split", better="lower")
    record("graph", "store_many, entity-rich text", with_graph, "facts/s", baseline=without,
           baseline_what="entity-free text")
    for label in ours:
        record("graph", f"{label} p99", pct(ours[label], 99), "ms",
               baseline=pct(naive[label], 99), baseline_what="in-RAM BFS", better="lower")
    print(f"| extraction per fact | {per_fact:.1f} µs | word split {split_cost:.2f} µs "
          f"| {per_fact / split_cost:.0f}x |")
    print(f"| store_many, entity-rich text | {with_graph:,.0f} facts/s | entity-free text "
          f"{without:,.0f} facts/s | {with_graph / without:.2f} |")
    for label in ours:
        mine, theirs = ours[label], naive[label]
        print(f"| {label} p50 / p99 | {pct(mine, 50):.2f} / {pct(mine, 99):.2f} ms "
              f"| in-RAM BFS {pct(theirs, 50):.3f} / {pct(theirs, 99):.3f} ms "
              f"| {pct(mine, 50) / max(pct(theirs, 50), 1e-6):.0f}x |")


if __name__ == "__main__":
    main()
