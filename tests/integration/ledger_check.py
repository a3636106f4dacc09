"""Independent checks of what is on disk, straight from the SQLite file."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

import sqlean

from cortex.core import consensus
from cortex.core.hashing import GENESIS_HASH, canonical_entry
from cortex.core.merkle import leaf_hash


def verify_chain(db_path: Path) -> int:
    """Recompute every entry hash and link; return the number of entries.

    Raises AssertionError naming the first bad seq.
    """
    conn = sqlean.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        prev = GENESIS_HASH
        count = 0
        rows = conn.execute(
            "SELECT seq, tenant, action, payload, prev_hash, entry_hash, recorded_at"
            " FROM ledger ORDER BY seq"
        )
        for seq, tenant, action, payload, prev_hash, digest, recorded_at in rows:
            assert seq == count, f"gap in seq at {count}"
            assert bytes(prev_hash) == prev, f"seq {seq}: prev_hash does not link"
            entry = canonical_entry(seq, tenant, action, json.loads(payload), recorded_at)
            assert hashlib.sha256(prev + entry).digest() == bytes(digest), f"seq {seq}: bad hash"
            prev = bytes(digest)
            count += 1
        return count
    finally:
        conn.close()


def fact_ids(db_path: Path) -> list[str]:
    conn = sqlean.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        return [row[0] for row in conn.execute("SELECT id FROM facts")]
    finally:
        conn.close()


def count_rows(db_path: Path, table: str) -> int:
    conn = sqlean.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    finally:
        conn.close()


def naive_root(db_path: Path, size: int) -> bytes:
    """RFC 9162 root of the first ``size`` entries, recomputed from the ledger rows alone."""
    return naive_roots(db_path, [size])[size]


def naive_roots(db_path: Path, sizes: Iterable[int]) -> dict[int, bytes]:
    """``naive_root`` for several sizes, reading the ledger once."""
    wanted = sorted(set(sizes))
    conn = sqlean.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        rows = conn.execute(
            "SELECT seq, tenant, action, payload, recorded_at FROM ledger WHERE seq < ?"
            " ORDER BY seq", (wanted[-1] if wanted else 0,)).fetchall()
    finally:
        conn.close()
    leaves = [leaf_hash(canonical_entry(s, t, a, json.loads(p), r)) for s, t, a, p, r in rows]
    assert not wanted or len(leaves) >= wanted[-1], f"the ledger holds only {len(leaves)} entries"
    return {size: _mth(leaves[:size]) for size in wanted}


def replayed_scores(db_path: Path) -> dict[str, float]:
    """Every fact's v1 score from the ledger alone: fold the vote entries."""
    conn = sqlean.connect(f"file:{db_path}?mode=ro", uri=True)
    current: dict[tuple[str, str], int] = {}
    facts: set[str] = set()
    try:
        for action, payload in conn.execute("SELECT action, payload FROM ledger ORDER BY seq"):
            body = json.loads(payload)
            if action in ("fact.store", "fact.update"):
                facts.add(body["fact_id"])
            elif action in ("vote.cast", "vote.withdraw"):
                current[(body["fact_id"], body["agent_id"])] = body["value"]
    finally:
        conn.close()
    totals: dict[str, int] = defaultdict(int)
    for (fact_id, _), value in current.items():
        totals[fact_id] += value
    return {fact_id: consensus.v1_score(totals[fact_id]) for fact_id in facts}


def stored_scores(db_path: Path) -> dict[str, float]:
    conn = sqlean.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        return dict(conn.execute("SELECT id, consensus_score FROM facts"))
    finally:
        conn.close()


def _mth(leaves: list[bytes]) -> bytes:
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + _mth(leaves[:k]) + _mth(leaves[k:])).digest()
