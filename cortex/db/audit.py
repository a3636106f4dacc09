"""Auditing the store: the streaming ledger scan (used at open and by ``verify``) and the
fact scan. Read-only; constant memory (one frontier of O(log n) hashes, one row at a time).

The ledger scan recomputes, for every entry in order: the seq (no gap, no reordering),
the chain link and ``entry_hash``, the RFC 9162 leaf and every Merkle node it completes
(against the stored nodes), the entry's subjects (against ``ledger_subjects``), and, at
each stored checkpoint's size, the root and the checkpoint's signature.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cortex.core.canonical import NotCanonical, canonical_json
from cortex.core.checkpoint import CheckpointInvalid, open_note
from cortex.core.hashing import (
    GENESIS_HASH,
    agent_state_hash,
    attrs_hash,
    canonical_entry,
    content_hash,
    entry_hash,
    fact_state_hash,
    vote_state_hash,
)
from cortex.core.merkle import CompactRange, leaf_hash
from cortex.db.rows import FACT_COLUMNS, row_dict

Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing that does not verify, at a ledger position where one applies."""

    seq: int | None
    what: str
    fact_id: str | None = None


@dataclass(slots=True)
class LedgerScan:
    """The result of scanning entries ``[start, size)``."""

    size: int = 0
    last_hash: bytes = GENESIS_HASH
    last_time: int = 0
    frontier: CompactRange = field(default_factory=CompactRange)
    roots: dict[int, bytes] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


def scan_ledger(
    conn: sqlite3.Connection,
    verifier_key: str,
    *,
    start: CompactRange | None = None,
    start_hash: bytes = GENESIS_HASH,
    start_time: int = 0,
    want_roots: frozenset[int] = frozenset(),
    stop_at_first: bool = False,
    progress: Progress | None = None,
) -> LedgerScan:
    """Recompute the ledger from ``start`` (default: the first entry) to its end."""
    frontier = start or CompactRange()
    # An incremental scan checks the checkpoints from its start on; earlier ones were
    # covered by the scan that proved the start.
    checkpoints = {size: (bytes(root), note) for size, root, note in conn.execute(
        "SELECT tree_size, root_hash, note FROM checkpoints WHERE tree_size >= ?",
        (frontier.size,))}
    wanted = want_roots | set(checkpoints)
    total = conn.execute("SELECT count(*) FROM ledger").fetchone()[0]
    scan = LedgerScan(frontier.size, start_hash, start_time, frontier)

    def found(problem: Problem) -> bool:
        scan.problems.append(problem)
        return stop_at_first

    if scan.size in wanted:
        scan.roots[scan.size] = frontier.root()
    rows = conn.execute(
        "SELECT seq, tenant, action, payload, prev_hash, entry_hash, recorded_at FROM ledger"
        " WHERE seq >= ? ORDER BY seq", (scan.size,))
    while chunk := rows.fetchmany(_CHUNK):
        stored = _StoredChunk(conn, chunk[0][0], chunk[-1][0])
        for seq, tenant, action, payload_text, prev_hash, digest, recorded_at in chunk:
            expected = scan.size
            problem = _check_entry(stored, scan, seq, tenant, action, payload_text,
                                   bytes(prev_hash), bytes(digest), recorded_at)
            if problem is not None and found(problem):
                return scan
            if seq != expected:
                return scan  # positions no longer line up: later checks would only echo
            if scan.size in wanted:
                scan.roots[scan.size] = scan.frontier.root()
            if progress is not None and scan.size % 10_000 == 0:
                progress(scan.size, total)
    for size, (root, note) in sorted(checkpoints.items()):
        problem = _check_checkpoint(size, root, note, scan.roots.get(size), verifier_key)
        if problem is not None and found(problem):
            return scan
    stray = conn.execute("SELECT min(seq) FROM ledger_subjects WHERE seq >= ?",
                         (scan.size,)).fetchone()[0]
    if stray is not None:
        found(Problem(stray, "ledger_subjects names an entry that does not exist"))
    if progress is not None:
        progress(scan.size, total)
    return scan


_CHUNK = 2048


class _StoredChunk:
    """The Merkle nodes and subjects stored for entries ``[low, high]``, read in a few
    range queries instead of three point lookups per entry."""

    def __init__(self, conn: sqlite3.Connection, low: int, high: int) -> None:
        self.nodes: dict[tuple[int, int], bytes] = {}
        for level in range((high + 1).bit_length() + 1):
            for index, digest in conn.execute(
                    "SELECT idx, hash FROM merkle_nodes WHERE level = ? AND idx BETWEEN ? AND ?",
                    (level, low >> level, high >> level)):
                self.nodes[(level, index)] = bytes(digest)
        self.subjects: dict[int, set[str]] = {}
        for seq, fact_id in conn.execute(
                "SELECT seq, fact_id FROM ledger_subjects WHERE seq BETWEEN ? AND ?",
                (low, high)):
            self.subjects.setdefault(seq, set()).add(fact_id)


def _check_entry(
    stored: _StoredChunk, scan: LedgerScan, seq: int, tenant: str, action: str,
    payload_text: str, prev_hash: bytes, digest: bytes, recorded_at: int,
) -> Problem | None:
    if seq != scan.size:
        return Problem(scan.size, f"entry {scan.size} is missing (next stored entry is {seq})")
    try:
        payload = json.loads(payload_text)
        if canonical_json(payload).decode() != payload_text:
            return Problem(seq, "payload is not canonical JSON")
    except (ValueError, NotCanonical):
        return Problem(seq, "payload is not JSON")
    entry = canonical_entry(seq, tenant, action, payload, recorded_at)
    problem = None
    if prev_hash != scan.last_hash:
        problem = Problem(seq, "prev_hash does not link to the previous entry")
    elif entry_hash(prev_hash, entry) != digest:
        problem = Problem(seq, "entry_hash does not match the entry")
    elif recorded_at <= scan.last_time:
        problem = Problem(seq, "recorded_at does not increase")
    scan.frontier, nodes = scan.frontier.append(leaf_hash(entry))
    scan.size, scan.last_hash, scan.last_time = seq + 1, digest, recorded_at
    if problem is not None:
        return problem
    for level, index, expected in nodes:
        if stored.nodes.get((level, index)) != expected:
            return Problem(seq, f"Merkle node ({level}, {index}) differs from recomputation")
    if stored.subjects.get(seq, set()) != set(payload.get("states", {})):
        return Problem(seq, "ledger_subjects disagrees with the entry's states")
    return None


def _check_checkpoint(
    size: int, root: bytes, note: str, recomputed: bytes | None, verifier_key: str
) -> Problem | None:
    at = size - 1 if size else None
    try:
        body = open_note(note, verifier_key)
    except CheckpointInvalid as error:
        return Problem(at, f"checkpoint {size}: {error}")
    if body.tree_size != size or body.root_hash != root:
        return Problem(at, f"checkpoint {size}: stored size/root differ from the signed note")
    if recomputed is None:
        return Problem(at, f"checkpoint {size} is beyond the end of the ledger")
    if recomputed != root:
        return Problem(at, f"checkpoint {size}: root differs from recomputation")
    return None


def scan_facts(
    conn: sqlite3.Connection, *, since_seq: int = 0, progress: Progress | None = None
) -> tuple[int, list[Problem], list[str]]:
    """Check every fact row changed at or after ``since_seq`` against its ledger entry.

    Returns ``(checked, problems, redacted ids)``.
    """
    problems: list[Problem] = []
    redacted: list[str] = []
    checked = 0
    total = conn.execute("SELECT count(*) FROM facts WHERE state_seq >= ?",
                         (since_seq,)).fetchone()[0]
    for raw in conn.execute(f"SELECT {FACT_COLUMNS} FROM facts WHERE state_seq >= ?"
                            " ORDER BY state_seq", (since_seq,)):
        row = row_dict(raw)
        checked += 1
        if row["redacted"]:
            redacted.append(row["id"])
        problem = _check_fact(conn, row)
        if problem is not None:
            problems.append(problem)
        if progress is not None and checked % 10_000 == 0:
            progress(checked, total)
    return checked, problems, redacted


def _check_fact(conn: sqlite3.Connection, row: dict[str, Any]) -> Problem | None:
    fact_id, seq = row["id"], row["state_seq"]
    if not row["redacted"]:
        if content_hash(row["content"] or "") != row["content_hash"]:
            return Problem(seq, "content does not match content_hash", fact_id)
        tags, meta = json.loads(row["tags"]), json.loads(row["meta"])
        if attrs_hash(tags, row["source"], meta) != row["attrs_hash"]:
            return Problem(seq, "tags, source or meta do not match attrs_hash", fact_id)
    entry = conn.execute("SELECT tenant, payload FROM ledger WHERE seq = ?", (seq,)).fetchone()
    if entry is None:
        return Problem(seq, "the entry vouching for this fact is missing", fact_id)
    states = json.loads(entry[1]).get("states", {})
    if entry[0] != row["tenant"] or states.get(fact_id) != fact_state_hash(row):
        return Problem(seq, "fact row differs from the state its entry records", fact_id)
    newest = conn.execute("SELECT max(seq) FROM ledger_subjects WHERE fact_id = ?",
                          (fact_id,)).fetchone()[0]
    if newest != seq:
        return Problem(newest, f"a later entry ({newest}) changed this fact", fact_id)
    return None


@dataclass(frozen=True, slots=True)
class VerifiedUpTo:
    """A checkpoint a previous verify proved: incremental verifies start from it."""

    size: int
    root: bytes


def verify_store(
    conn: sqlite3.Connection,
    verifier_key: str,
    trusted_root: Callable[[int], bytes | None],
    since: VerifiedUpTo | None = None,
    progress: Progress | None = None,
) -> tuple[LedgerScan, int, list[Problem], list[str]]:
    """Full (or, from ``since``, incremental) verification in one read snapshot.

    Returns the ledger scan, the number of facts checked, every problem (ledger and
    facts) and the redacted fact ids.
    """
    conn.execute("BEGIN")
    try:
        if since is None or since.size == 0:
            scan = scan_ledger(conn, verifier_key, progress=progress)
            since_seq = 0
        else:
            scan = _scan_from(conn, verifier_key, since, progress)
            since_seq = since.size
        expected = trusted_root(scan.size)
        if not scan.problems and expected != scan.frontier.root():
            scan.problems.append(Problem(scan.size - 1, "the recomputed root is not the one "
                                         "this process committed"))
        checked, fact_problems, redacted = scan_facts(conn, since_seq=since_seq,
                                                      progress=progress)
        fact_problems += scan_agents_and_votes(conn, since_seq)
    finally:
        conn.execute("COMMIT")
    return scan, checked, scan.problems + fact_problems, redacted


def _scan_from(
    conn: sqlite3.Connection, verifier_key: str, since: VerifiedUpTo, progress: Progress | None
) -> LedgerScan:
    from cortex.db.verified import node_reader

    start = CompactRange.at(node_reader(conn), since.size)
    if start.root() != since.root:
        scan = LedgerScan(size=since.size)
        scan.problems.append(Problem(since.size - 1, "stored Merkle nodes no longer give the "
                                     "root of the last verified checkpoint"))
        return scan
    last = conn.execute("SELECT entry_hash, recorded_at FROM ledger WHERE seq = ?",
                        (since.size - 1,)).fetchone()
    return scan_ledger(conn, verifier_key, start=start, start_hash=bytes(last[0]),
                       start_time=last[1], progress=progress)


def scan_agents_and_votes(conn: sqlite3.Connection, since_seq: int = 0) -> list[Problem]:
    """Check agent and vote rows changed at or after ``since_seq`` against their entries."""
    from cortex.db.rows import AGENT_COLUMNS, VOTE_COLUMNS, agent_row_dict, vote_row_dict

    problems: list[Problem] = []
    for raw in conn.execute(f"SELECT {AGENT_COLUMNS} FROM agents WHERE state_seq >= ?",
                            (since_seq,)):
        row = agent_row_dict(raw)
        problem = _check_state(conn, f"agent:{row['id']}", row["tenant"],
                               agent_state_hash(row), row["state_seq"])
        if problem is not None:
            problems.append(problem)
    for raw in conn.execute(f"SELECT {VOTE_COLUMNS} FROM votes WHERE state_seq >= ?",
                            (since_seq,)):
        row = vote_row_dict(raw)
        problem = _check_state(conn, f"vote:{row['fact_id']}:{row['agent_id']}",
                               row["tenant"], vote_state_hash(row), row["state_seq"])
        if problem is not None:
            problems.append(problem)
    return problems


def _check_state(
    conn: sqlite3.Connection, subject: str, tenant: str, state: str, seq: int
) -> Problem | None:
    entry = conn.execute("SELECT tenant, payload FROM ledger WHERE seq = ?", (seq,)).fetchone()
    if entry is None:
        return Problem(seq, f"the entry vouching for {subject} is missing")
    if entry[0] != tenant or json.loads(entry[1]).get("states", {}).get(subject) != state:
        return Problem(seq, f"{subject} differs from the state its entry records")
    newest = conn.execute("SELECT max(seq) FROM ledger_subjects WHERE fact_id = ?",
                          (subject,)).fetchone()[0]
    if newest != seq:
        return Problem(newest, f"a later entry ({newest}) changed {subject}")
    return None
