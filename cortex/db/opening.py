"""Fail-closed open: the database must extend the last checkpoint this log witnessed.

Run by the writer before it accepts any command, on its own connection, read-only.
``full`` recomputes the whole ledger (chain, leaves, nodes, subjects, checkpoints);
``incremental`` trusts the stored nodes up to the witnessed checkpoint once they
recompute its signed root, and rescans only the entries after it.
"""

from __future__ import annotations

import sqlite3
from typing import Literal

from cortex.core.checkpoint import CheckpointBody, CheckpointInvalid, open_note
from cortex.core.merkle import CompactRange
from cortex.db.audit import LedgerScan, Problem, scan_ledger
from cortex.db.verified import ledger_size, node_reader
from cortex.errors import IntegrityError, LedgerTampered
from cortex.trust import Witness


def damaged_pages(conn: sqlite3.Connection, limit: int = 3) -> list[str]:
    """SQLite's own structural check of the whole file (``PRAGMA quick_check``): the
    problems it names (a damaged page, a truncated file), empty when the file is sound.
    Linear in the file's size, like the full ledger scan it precedes."""
    rows = conn.execute(f"PRAGMA quick_check({int(limit)})").fetchall()
    found = [str(row[0]) for row in rows]
    return [] if found == ["ok"] else found


def witnessed_checkpoint(witness: Witness | None, verifier_key: str) -> CheckpointBody | None:
    if witness is None or witness.note is None:
        return None
    try:
        return open_note(witness.note, verifier_key)
    except CheckpointInvalid as error:
        raise LedgerTampered(f"the witness file's checkpoint does not verify: {error}") from None


def establish_head(
    conn: sqlite3.Connection,
    verifier_key: str,
    witness: Witness | None,
    mode: Literal["full", "incremental"],
) -> LedgerScan:
    """Verify the store against the witness; return the scan whose head becomes trusted.

    Problems are returned in ``scan.problems`` (the caller refuses or, in forensic mode,
    only reports them).
    """
    witnessed = witnessed_checkpoint(witness, verifier_key)
    size = ledger_size(conn)
    if witnessed is not None and size < witnessed.tree_size:
        scan = LedgerScan(size=size)
        scan.problems.append(Problem(
            size, f"the ledger has {size} entries but checkpoint {witnessed.tree_size} was "
                  "witnessed: the store was truncated or rolled back to an older copy"))
        return scan
    if mode == "incremental" and witnessed is not None and witnessed.tree_size > 0:
        scan = _scan_after(conn, verifier_key, witnessed)
    else:
        wanted = frozenset() if witnessed is None else frozenset({witnessed.tree_size})
        scan = scan_ledger(conn, verifier_key, want_roots=wanted, stop_at_first=True)
        if witnessed is not None and not scan.problems and (
                scan.roots.get(witnessed.tree_size) != witnessed.root_hash):
            scan.problems.append(Problem(
                witnessed.tree_size - 1, f"history up to witnessed checkpoint "
                f"{witnessed.tree_size} was rewritten (root differs)"))
    if (witness is not None and witness.clean_shutdown and witnessed is not None
            and not scan.problems and scan.size > witnessed.tree_size):
        scan.problems.append(Problem(
            witnessed.tree_size, f"{scan.size - witnessed.tree_size} entries follow the "
            "checkpoint of the last clean shutdown: Cortex did not write them"))
    return scan


def _scan_after(
    conn: sqlite3.Connection, verifier_key: str, witnessed: CheckpointBody
) -> LedgerScan:
    size = witnessed.tree_size
    try:
        start = CompactRange.at(node_reader(conn), size)
    except IntegrityError as error:
        start = None
        problem = str(error)
    else:
        problem = "stored Merkle nodes do not give the witnessed root"
    if start is None or start.root() != witnessed.root_hash:
        scan = LedgerScan(size=size)
        scan.problems.append(Problem(size - 1, problem))
        return scan
    last = conn.execute("SELECT entry_hash, recorded_at FROM ledger WHERE seq = ?",
                        (size - 1,)).fetchone()
    return scan_ledger(conn, verifier_key, start=start, start_hash=bytes(last[0]),
                       start_time=last[1], stop_at_first=True)
