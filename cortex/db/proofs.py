"""Proofs served from the stored Merkle nodes, checked before they leave the process.

Stored nodes are data like any other: a root or a path computed from them is proven
consistent with the tree head this process trusts before it is returned, so a tampered
node makes the proof request fail instead of handing out a wrong proof.
"""

from __future__ import annotations

import sqlite3

from cortex.core import merkle
from cortex.core.hashing import canonical_entry
from cortex.db.queries import snapshot
from cortex.db.rows import checkpoint_from_row
from cortex.db.trusted import TrustedHeads
from cortex.db.verified import entry_leaf, ledger_size, node_reader
from cortex.errors import IntegrityError, InvalidInput
from cortex.model import Checkpoint, ConsistencyProof, InclusionProof


def _proven_root(conn: sqlite3.Connection, trusted: TrustedHeads, size: int) -> tuple[int, bytes]:
    """The root at ``size`` from stored nodes, proven consistent with the trusted head.

    Returns ``(head size, root at size)``.
    Raises ``InvalidInput`` when ``size`` exceeds the head.
    """
    head = ledger_size(conn)
    head_root = trusted.root_at(head)
    if size > head:
        raise InvalidInput("tree_size", f"must be at most the ledger size, {head}")
    get_node = node_reader(conn)
    root = merkle.root(get_node, size)
    if 0 < size < head:
        try:
            merkle.verify_consistency(size, head, root, head_root,
                                      merkle.consistency_path(get_node, size, head))
        except merkle.ProofError as error:
            raise IntegrityError(f"stored Merkle nodes are inconsistent: {error}",
                                 seq=size - 1) from None
    elif size == head and root != head_root:
        raise IntegrityError("stored Merkle nodes do not give the trusted root", seq=head - 1)
    return head, root


def prove_inclusion(
    conn: sqlite3.Connection, trusted: TrustedHeads, leaf_index: int, tree_size: int | None
) -> InclusionProof:
    with snapshot(conn):
        size = ledger_size(conn) if tree_size is None else tree_size
        if not 0 <= leaf_index < size:
            raise InvalidInput("leaf_index", f"must be from 0 to tree_size - 1 ({size - 1})")
        _, root = _proven_root(conn, trusted, size)
        path = merkle.inclusion_path(node_reader(conn), leaf_index, size)
        tenant, payload, leaf = entry_leaf(conn, leaf_index)
        action, recorded_at = conn.execute(
            "SELECT action, recorded_at FROM ledger WHERE seq = ?", (leaf_index,)).fetchone()
    try:
        merkle.verify_inclusion(leaf_index, size, leaf, path, root)
    except merkle.ProofError as error:
        raise IntegrityError(f"entry {leaf_index} does not prove into the tree: {error}",
                             seq=leaf_index) from None
    entry = canonical_entry(leaf_index, tenant, action, payload, recorded_at).decode()
    return InclusionProof(leaf_index=leaf_index, tree_size=size, leaf_hash=leaf.hex(),
                          entry=entry, path=[p.hex() for p in path], root_hash=root.hex())


def prove_consistency(
    conn: sqlite3.Connection, trusted: TrustedHeads, old_size: int, new_size: int | None
) -> ConsistencyProof:
    with snapshot(conn):
        new = ledger_size(conn) if new_size is None else new_size
        if not 0 < old_size <= new:
            raise InvalidInput("old_size", f"must be from 1 to new_size ({new})")
        _, new_root = _proven_root(conn, trusted, new)
        _, old_root = _proven_root(conn, trusted, old_size)
        path = merkle.consistency_path(node_reader(conn), old_size, new)
    return ConsistencyProof(old_size=old_size, new_size=new, old_root=old_root.hex(),
                            new_root=new_root.hex(), path=[p.hex() for p in path])


def list_checkpoints(conn: sqlite3.Connection, limit: int) -> list[Checkpoint]:
    rows = conn.execute(
        "SELECT tree_size, root_hash, recorded_at, reason, note FROM checkpoints"
        " ORDER BY tree_size DESC LIMIT ?", (limit,))
    return [checkpoint_from_row(*row) for row in rows]


def list_entries(
    conn: sqlite3.Connection, tenant: str, start: int, limit: int
) -> list[tuple[int, str, str, str, bytes, int]]:
    """The tenant's own ledger entries from position ``start`` (others' are not shown)."""
    return conn.execute(
        "SELECT seq, tenant, action, payload, entry_hash, recorded_at FROM ledger"
        " WHERE tenant = ? AND seq >= ? ORDER BY seq LIMIT ?", (tenant, start, limit)
    ).fetchall()
