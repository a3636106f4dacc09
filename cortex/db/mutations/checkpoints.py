"""Signed checkpoints, made by the writer only (so two can never race)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cortex.core import merkle
from cortex.core.checkpoint import CheckpointBody, public_bytes, sign, verifier_key
from cortex.db.mutations.ledger import ChainHead
from cortex.db.verified import node_reader


@dataclass(frozen=True, slots=True)
class Signer:
    """The log's identity: its origin line and the Ed25519 key that signs checkpoints."""

    origin: str
    key: Ed25519PrivateKey

    @property
    def verifier_key(self) -> str:
        return verifier_key(self.origin, public_bytes(self.key))


def due_checkpoints(old_size: int, new_size: int, every: int) -> list[int]:
    """The automatic checkpoint sizes a batch crossed: multiples of ``every`` in
    ``(old_size, new_size]``, so N entries give exactly N // every checkpoints."""
    if every <= 0:
        return []
    first = (old_size // every + 1) * every
    return list(range(first, new_size + 1, every))


def make_checkpoint(
    conn: sqlite3.Connection,
    head: ChainHead,
    signer: Signer,
    recorded_at: int,
    reason: str,
    size: int | None = None,
) -> tuple[int, bytes, str, bool]:
    """Sign and store a checkpoint at ``size`` (default: the head); return
    ``(tree_size, root, note, created)``. An existing checkpoint at that size is returned
    as is: sizes are unique."""
    tree_size = head.next_seq if size is None else size
    existing = conn.execute(
        "SELECT root_hash, note FROM checkpoints WHERE tree_size = ?", (tree_size,)
    ).fetchone()
    if existing is not None:
        return tree_size, bytes(existing[0]), existing[1], False
    at_head = tree_size == head.next_seq
    root = head.root() if at_head else merkle.root(node_reader(conn), tree_size)
    note = sign(CheckpointBody(signer.origin, tree_size, root), signer.key)
    conn.execute(
        "INSERT INTO checkpoints (tree_size, root_hash, recorded_at, reason, note)"
        " VALUES (?, ?, ?, ?, ?)",
        (tree_size, root, recorded_at, reason, note),
    )
    return tree_size, root, note, True
