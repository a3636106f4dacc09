"""Import benchmark: ``cortex import`` of a JSONL export against ``store_many`` called
directly on the same facts, same run; with and without embeddings.

- ``store_many`` in process, batches of 500 (what import does underneath): the baseline;
- ``cortex import FILE`` as a user runs it (a subprocess: start-up, JSON parsing, progress
  bar included), vectors off;
- the same with vectors on, timed until every fact is embedded (the model bounds it, so
  this part uses ``--embedded`` facts, default 5,000).

    .venv/bin/python scripts/bench/import_facts.py [--facts 100000] [--embedded 5000]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import anyio

from cortex import Cortex

WORDS = ("ledger", "replica", "backup", "deploy", "cache", "index", "queue", "shard",
         "vector", "token", "schema", "commit", "rollback", "latency", "quorum")


def write_export(path: Path, count: int) -> list[dict[str, object]]:
    rng = random.Random(5)
    facts = [{"id": f"import-{n:07d}", "project": f"p{n % 10}", "kind": "knowledge",
              "content": " ".join(rng.choices(WORDS, k=12)), "tags": [rng.choice(WORDS)],
              "source": None, "meta": {}} for n in range(count)]
    path.write_text("".join(json.dumps(fact) + "\n" for fact in facts))
    return facts


async def direct(db: Path, facts: list[dict[str, object]]) -> float:
    async with Cortex.open(db, log_level="warning", index_vectors=False,
                           witness_path=db.with_suffix(".w")) as cx:
        began = time.perf_counter()
        for first in range(0, len(facts), 500):
            await cx.store_many(facts[first:first + 500])
        return len(facts) / (time.perf_counter() - began)


def cli_import(db: Path, export: Path, count: int, vectors: bool) -> float:
    env = {**os.environ, "CORTEX_INDEX_VECTORS": "1" if vectors else "0",
           "CORTEX_LOG_LEVEL": "warning"}
    cortex = str(Path(sys.executable).with_name("cortex"))
    began = time.perf_counter()
    subprocess.run([cortex, "import", str(export), "--db", str(db)], check=True, env=env,
                   capture_output=True)
    if vectors:
        anyio.run(_wait_embedded, db)
    return count / (time.perf_counter() - began)


async def _wait_embedded(db: Path) -> None:
    """Reopen and let the indexer finish what the import left pending."""
    async with Cortex.open(db, log_level="warning", index_vectors=True) as cx:
        while (await cx.search("ledger", mode="semantic", top_k=1)).pending:  # noqa: ASYNC110 - polls a count no event announces
            await anyio.sleep(0.2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--facts", type=int, default=100_000)
    parser.add_argument("--embedded", type=int, default=5_000)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="cortex-bench-import-"))
    os.environ.setdefault("XDG_STATE_HOME", str(tmp / "state"))
    export = tmp / "facts.jsonl"
    facts = write_export(export, args.facts)
    baseline = anyio.run(direct, tmp / "direct" / "c.db", facts)
    plain = cli_import(tmp / "cli" / "c.db", export, args.facts, vectors=False)
    small = tmp / "small.jsonl"
    write_export(small, args.embedded)
    small_baseline = anyio.run(direct, tmp / "direct-small" / "c.db", facts[:args.embedded])
    embedded = cli_import(tmp / "cli-vectors" / "c.db", small, args.embedded, vectors=True)
    print(f"# import benchmark, {datetime.now(UTC):%Y-%m-%d}, {platform.machine()}, "
          f"{os.cpu_count()} cores\n")
    print("| what | facts | facts/s | store_many direct | ratio |")
    print("|---|---|---|---|---|")
    print(f"| cortex import, no embeddings | {args.facts:,} | {plain:,.0f} | "
          f"{baseline:,.0f} | {plain / baseline:.2f} |")
    print(f"| cortex import, until every fact is embedded | {args.embedded:,} | "
          f"{embedded:,.0f} | {small_baseline:,.0f} | {embedded / small_baseline:.2f} |")


if __name__ == "__main__":
    main()
