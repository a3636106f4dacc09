"""Ledger benchmark: what verifiability costs, each figure beside a same-run baseline.

1. Append per entry: hash chain + RFC 9162 Merkle nodes + subjects, against the chain
   alone (same SQLite file system, batches of 100 per transaction).
2. Root, inclusion and consistency proofs from stored nodes at 10k / 100k / 1M leaves:
   they must grow like log n (reads of O(log n) nodes), never like n.
3. Full verify of a real store, per 100k entries, against a bare sha256 loop over the same
   entry bytes.
4. Checkpoint signing and note verification (Ed25519).
5. A verified read (get) against the same read with verification off.

    .venv/bin/python scripts/bench/ledger.py [--quick]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import anyio
import sqlean
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cortex import Cortex
from cortex.config import Settings
from cortex.core.checkpoint import CheckpointBody, open_note, public_bytes, sign, verifier_key
from cortex.core.hashing import canonical_entry, entry_hash
from cortex.core.merkle import CompactRange, consistency_path, inclusion_path, root
from cortex.db import migrations
from cortex.db.connect import connect_writer_sync
from cortex.db.mutations.ledger import GENESIS, Ledger
from cortex.db.verified import node_reader
from scripts.bench.results import record

ROWS: list[tuple[str, str, str]] = []


def row(name: str, figure: str, baseline: str, ratio: str = "") -> None:
    ROWS.append((name, figure, baseline + (f"  ({ratio})" if ratio else "")))


def payload(n: int) -> dict[str, object]:
    return {"fact_id": f"f{n}", "content_hash": hashlib.sha256(b"%d" % n).hexdigest(),
            "states": {f"f{n}": hashlib.sha256(b"s%d" % n).hexdigest()}}


def bench_append(tmp: Path, count: int) -> None:
    conn = connect_writer_sync(Settings.load(tmp / "append.db", durability="normal"))
    migrations.apply_pending(conn)
    conn.execute("CREATE TABLE chain_only (seq INTEGER PRIMARY KEY, tenant TEXT, action TEXT,"
                 " payload TEXT, prev_hash BLOB, entry_hash BLOB, recorded_at INTEGER)")
    prev, started = bytes(32), time.perf_counter()
    for batch in range(0, count, 100):
        conn.execute("BEGIN IMMEDIATE")
        for n in range(batch, batch + 100):
            entry = canonical_entry(n, "t", "fact.store", payload(n), n + 1)
            digest = entry_hash(prev, entry)
            conn.execute("INSERT INTO chain_only VALUES (?, ?, ?, ?, ?, ?, ?)",
                         (n, "t", "fact.store", entry.decode(), prev, digest, n + 1))
            prev = digest
        conn.execute("COMMIT")
    chain_us = (time.perf_counter() - started) / count * 1e6
    ledger, started = Ledger(conn, GENESIS, clock=lambda: 0), time.perf_counter()
    for batch in range(0, count, 100):
        conn.execute("BEGIN IMMEDIATE")
        for n in range(batch, batch + 100):
            ledger.append("t", "fact.store", payload(n), [f"f{n}"])
        ledger.flush()
        conn.execute("COMMIT")
    full_us = (time.perf_counter() - started) / count * 1e6
    conn.close()
    record("ledger", "append per entry, chain + Merkle + subjects", full_us, "µs",
           baseline=chain_us, baseline_what="sha256 chain only", better="lower")
    row("append per entry, chain + Merkle + subjects", f"{full_us:.1f} µs",
        f"chain only {chain_us:.1f} µs", f"{full_us / chain_us:.2f}x")


def build_nodes(path: Path, leaves: int) -> sqlean.Connection:
    conn = sqlean.connect(str(path), isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("CREATE TABLE merkle_nodes (level INTEGER, idx INTEGER, hash BLOB,"
                 " PRIMARY KEY (level, idx)) WITHOUT ROWID")
    frontier, pending = CompactRange(), []
    conn.execute("BEGIN")
    for n in range(leaves):
        frontier, nodes = frontier.append(hashlib.sha256(b"\x00%d" % n).digest())
        pending += nodes
        if len(pending) > 50_000:
            conn.executemany("INSERT INTO merkle_nodes VALUES (?, ?, ?)", pending)
            pending = []
    conn.executemany("INSERT INTO merkle_nodes VALUES (?, ?, ?)", pending)
    conn.execute("COMMIT")
    return conn


def median_us(action: object, repeat: int = 200) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()  # type: ignore[operator]
        samples.append((time.perf_counter() - started) * 1e6)
    return statistics.median(samples)


def bench_proofs(tmp: Path, sizes: list[int]) -> None:
    for size in sizes:
        conn = build_nodes(tmp / f"nodes-{size}.db", size)
        root_us, incl_us, cons_us = _time_proofs(node_reader(conn), size - 1)
        record("ledger", f"inclusion proof at {size:,} leaves", incl_us, "µs", better="lower")
        row(f"root / inclusion / consistency at {size:,} leaves",
            f"{root_us:.0f} / {incl_us:.0f} / {cons_us:.0f} µs",
            f"log2 n = {(size - 1).bit_length()}")
        conn.close()


def _time_proofs(get_node: object, n: int) -> tuple[float, float, float]:
    """Median µs of a root, an inclusion path and a consistency path in a tree of n
    (odd n, so the right edge is ragged and every range kind is exercised)."""
    rng = random.Random(9162)
    return (
        median_us(lambda: root(get_node, n)),  # type: ignore[arg-type]
        median_us(lambda: inclusion_path(get_node, rng.randrange(n), n)),  # type: ignore[arg-type]
        median_us(lambda: consistency_path(get_node, rng.randrange(1, n), n)),  # type: ignore[arg-type]
    )


async def bench_store_verify_read(tmp: Path, facts: int) -> None:
    db = tmp / "store" / "cortex.db"
    async with Cortex.open(db, log_level="warning", durability="normal") as cx:
        for start in range(0, facts, 500):
            await cx.store_many([{"project": "bench", "content": f"fact {n} " + "x" * 150,
                                  "tags": ["bench"]} for n in range(start, start + 500)])
        started = time.perf_counter()
        report = await cx.ledger.verify()
        verify_s = time.perf_counter() - started
        assert report.ok, report.problems
        ids = [f.id for f in await cx.recall(project="bench", limit=200)]
        verified_us = await _read_cost(cx, ids)
    conn = sqlean.connect(str(db))
    blobs = [canonical_entry(s, t, a, __import__("json").loads(p), r) for s, t, a, p, r in
             conn.execute("SELECT seq, tenant, action, payload, recorded_at FROM ledger")]
    conn.close()
    started = time.perf_counter()
    for blob in blobs:
        hashlib.sha256(b"\x00" + blob).digest()
    sha_s = time.perf_counter() - started
    per_100k = verify_s / report.checked * 100_000
    record("ledger", "full verify per 100k entries", per_100k, "s",
           baseline=sha_s / len(blobs) * 100_000, baseline_what="plain sha256 loop",
           better="lower")
    row(f"full verify ({report.checked:,} entries, {report.facts_checked:,} facts), per 100k",
        f"{per_100k:.2f} s", f"sha256 loop {sha_s / len(blobs) * 100_000:.3f} s",
        f"{verify_s / sha_s:.0f}x")
    async with Cortex.open(db, log_level="warning", allow_tampered=True) as cx:
        plain_us = await _read_cost(cx, ids)
    record("ledger", "get(), verified read", verified_us, "µs", baseline=plain_us,
           baseline_what="unverified read", better="lower")
    row("get(), verified read", f"{verified_us:.0f} µs", f"unverified {plain_us:.0f} µs",
        f"+{verified_us - plain_us:.0f} µs")


async def _read_cost(cx: Cortex, ids: list[str]) -> float:
    for fact_id in ids:  # warm the page cache and the proof cache alike
        await cx.get(fact_id)
    started = time.perf_counter()
    for _ in range(3):
        for fact_id in ids:
            await cx.get(fact_id)
    return (time.perf_counter() - started) / (3 * len(ids)) * 1e6


def bench_signing() -> None:
    key = Ed25519PrivateKey.generate()
    body = CheckpointBody("bench.local/log", 123456, hashlib.sha256(b"root").digest())
    sign_us = median_us(lambda: sign(body, key), 500)
    note, verifier = sign(body, key), verifier_key("bench.local/log", public_bytes(key))
    verify_us = median_us(lambda: open_note(note, verifier), 500)
    sha_us = median_us(lambda: hashlib.sha256(body.text().encode()).digest(), 500)
    row("checkpoint sign / verify (Ed25519 signed note)", f"{sign_us:.0f} / {verify_us:.0f} µs",
        f"sha256 of the body {sha_us:.1f} µs")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes (about 20 s)")
    args = parser.parse_args()
    sizes = [10_001, 100_001] if args.quick else [10_001, 100_001, 1_000_001]
    tmp = Path(tempfile.mkdtemp(prefix="cortex-bench-ledger-"))
    os.environ.setdefault("XDG_STATE_HOME", str(tmp / "state"))
    print(f"# Cortex ledger benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
          f"{platform.platform()}, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, "
          f"SQLite {sqlean.sqlite_version}, files in {tmp}")
    bench_append(tmp, 5_000 if args.quick else 20_000)
    bench_proofs(tmp, sizes)
    anyio.run(bench_store_verify_read, tmp, 10_000 if args.quick else 50_000)
    bench_signing()
    width = max(len(r[0]) for r in ROWS)
    print(f"\n| {'what':<{width}} | figure | same-run baseline |")
    print(f"|{'-' * (width + 2)}|---|---|")
    for name, figure, baseline in ROWS:
        print(f"| {name:<{width}} | {figure} | {baseline} |")


if __name__ == "__main__":
    main()
