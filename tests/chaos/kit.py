"""What the chaos tests share: a record of what was acknowledged, and one check of every
invariant a store must keep after any crash, read straight from the SQLite file.

The checks are independent of the engine where it matters: the hash chain and the Merkle
roots are recomputed naively (``tests/integration/ledger_check.py``), checkpoint notes are
verified with ``cryptography`` alone, and vote scores are replayed from the ledger.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlean
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from tests.integration.ledger_check import (
    naive_roots,
    replayed_scores,
    stored_scores,
    verify_chain,
)

#: the seed of every random choice the chaos tests make (set it to replay a failure)
SEED = int(os.environ.get("CORTEX_CHAOS_SEED", "20261201"))


@dataclass
class Snapshot:
    """The rows of a store that the invariants speak about."""

    #: fact id -> the fact's row (tenant, project, content, content_hash, recorded_seq, ...)
    facts: dict[str, dict[str, Any]]
    #: ledger entries in seq order: (seq, tenant, action, payload)
    entries: list[tuple[int, str, str, dict[str, Any]]]
    #: (fact id, agent id) -> current vote value
    votes: dict[tuple[str, str], int]
    #: tree size -> (root hash, signed note)
    checkpoints: dict[int, tuple[bytes, str]]


def read_store(db: Path) -> Snapshot:
    conn = sqlean.connect(f"file:{db}?mode=ro", uri=True)
    conn.row_factory = sqlean.Row
    try:
        facts = {row["id"]: dict(row) for row in conn.execute("SELECT * FROM facts")}
        entries = [(seq, tenant, action, json.loads(payload)) for seq, tenant, action, payload
                   in conn.execute("SELECT seq, tenant, action, payload FROM ledger"
                                   " ORDER BY seq")]
        votes = {(f, a): v for f, a, v in
                 conn.execute("SELECT fact_id, agent_id, value FROM votes")}
        checkpoints = {size: (bytes(root), note) for size, root, note in
                       conn.execute("SELECT tree_size, root_hash, note FROM checkpoints")}
    finally:
        conn.close()
    return Snapshot(facts, entries, votes, checkpoints)


def verify_note(note: str, verifier_key: str) -> tuple[int, bytes]:
    """Check a C2SP signed note with ``cryptography`` alone; return its (size, root).

    Raises AssertionError (or InvalidSignature) when the note is not signed by the key.
    """
    name, key_hex, encoded = verifier_key.split("+", 2)
    raw = base64.b64decode(encoded)
    assert raw[:1] == b"\x01" and len(raw) == 33, "not an Ed25519 verifier key"
    assert hashlib.sha256(name.encode() + b"\n" + raw).digest()[:4].hex() == key_hex
    body, _, signatures = note.partition("\n\n")
    body += "\n"
    for line in signatures.splitlines():
        signer, _, blob_text = line.removeprefix("— ").partition(" ")
        blob = base64.b64decode(blob_text)
        if signer == name and blob[:4].hex() == key_hex:
            Ed25519PublicKey.from_public_bytes(raw[1:]).verify(blob[4:], body.encode())
            origin, size, root = body.splitlines()
            assert origin == name, f"origin {origin!r} is not the key's name {name!r}"
            return int(size), base64.b64decode(root)
    raise AssertionError(f"no signature by {name} in {note!r}")


def assert_sound(db: Path, verifier_key: str) -> Snapshot:
    """Check every invariant that needs no memory of what was acknowledged.

    The chain links and hashes; facts and ledger entries agree one to one (each fact row
    has exactly one store/update entry, with its tenant, seq and content hash, and each
    such entry has its row); the votes table is the fold of the vote entries and the
    stored scores are the replayed ones; every checkpoint's root is the naive RFC 9162
    root of that prefix and its note is signed by ``verifier_key``.
    """
    snap = read_store(db)
    assert verify_chain(db) == len(snap.entries)
    made: Counter[str] = Counter()
    current: dict[tuple[str, str], int] = {}
    for seq, tenant, action, body in snap.entries:
        if action in ("fact.store", "fact.update"):
            fact_id = body["fact_id"]
            made[fact_id] += 1
            row = snap.facts.get(fact_id)
            assert row is not None, f"entry {seq} stored {fact_id}, which has no row"
            assert (row["tenant"], row["recorded_seq"], row["content_hash"]) == (
                tenant, seq, body["content_hash"]), f"fact {fact_id} disagrees with entry {seq}"
            if not row["redacted"]:
                content = hashlib.sha256(row["content"].encode()).hexdigest()
                assert content == row["content_hash"], f"fact {fact_id}: content vs hash"
        elif action in ("vote.cast", "vote.withdraw"):
            current[(body["fact_id"], body["agent_id"])] = body["value"]
    twice = [fact_id for fact_id, count in made.items() if count > 1]
    assert not twice, f"stored more than once: {twice[:5]}"
    orphans = set(snap.facts) - set(made)
    assert not orphans, f"fact rows without their ledger entry: {sorted(orphans)[:5]}"
    assert {k: v for k, v in current.items() if v} == snap.votes, "votes vs vote entries"
    assert replayed_scores(db) == stored_scores(db), "scores vs the replayed votes"
    roots = naive_roots(db, snap.checkpoints)
    for size, (root, note) in snap.checkpoints.items():
        assert roots[size] == root, f"checkpoint {size}: stored root is not the naive root"
        assert verify_note(note, verifier_key) == (size, root), f"checkpoint {size}: note"
    return snap


@dataclass
class Acks:
    """What clients sent, split into acknowledged (a reply said it was done) and in
    doubt (no reply: the server died, or the caller gave up). Safe to fill from threads."""

    #: fact id -> content, for every acknowledged store (single or in a batch)
    stored: dict[str, str] = field(default_factory=dict)
    #: fact id -> content of stores sent but never answered
    doubtful: dict[str, str] = field(default_factory=dict)
    #: fact id -> the Idempotency-Key it was stored with (instead of choosing the id)
    idempotency: dict[str, str] = field(default_factory=dict)
    #: fact id -> the new contents of updates of it sent but never answered (several
    #: may be in flight at once: one of them at most is committed)
    doubtful_updates: dict[str, set[str]] = field(default_factory=dict)
    #: the ids of every batch sent (acknowledged or not): each must be all or nothing
    batches: list[tuple[str, ...]] = field(default_factory=list)
    #: acknowledged votes: (ledger seq, fact id, agent id, value)
    votes: list[tuple[int, str, str, int]] = field(default_factory=list)
    #: acknowledged checkpoints: (tree size, root hash)
    checkpoints: list[tuple[int, bytes]] = field(default_factory=list)
    #: operation name -> answers counted by status (or exception name)
    answers: Counter[str] = field(default_factory=Counter)
    #: answers no client should ever get (a 500, a 422, ...): "op status body"
    unexpected: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self, op: str, outcome: object) -> None:
        with self.lock:
            self.answers[f"{op} {outcome}"] += 1

    def acked_count(self) -> int:
        return len(self.stored) + len(self.votes) + len(self.checkpoints)

    def unacknowledged(self, snap: Snapshot, tenant: str) -> set[str]:
        """The tenant's facts present but never acknowledged, beyond those in doubt."""
        present = {i for i, row in snap.facts.items() if row["tenant"] == tenant}
        return {i for i in present - set(self.stored) - set(self.doubtful)
                if snap.facts[i]["supersedes"] not in self.doubtful_updates}


def assert_acks_hold(snap: Snapshot, acks: Acks) -> None:
    """Every acknowledged write is there with its content; nothing is half there."""
    lost = [i for i in acks.stored if i not in snap.facts]
    assert not lost, f"{len(lost)} acknowledged facts lost, e.g. {lost[:3]}"
    changed = [i for i, c in acks.stored.items() if snap.facts[i]["content"] != c]
    assert not changed, f"acknowledged facts with other content: {changed[:3]}"
    for fact_id, content in acks.doubtful.items():
        if fact_id in snap.facts:
            assert snap.facts[fact_id]["content"] == content, f"{fact_id} half-written"
    for row in snap.facts.values():
        if row["supersedes"] in acks.doubtful_updates and row["id"] not in acks.stored:
            assert row["content"] in acks.doubtful_updates[row["supersedes"]], row["id"]
    for batch in acks.batches:
        present = [i in snap.facts for i in batch]
        assert all(present) or not any(present), f"batch half applied: {batch}"
    entries = snap.entries
    for seq, fact_id, agent_id, value in acks.votes:
        assert seq < len(entries), f"acknowledged vote at seq {seq} lost"
        _, _, action, body = entries[seq]
        assert action.startswith("vote.") and (body["fact_id"], body["agent_id"],
                                               body["value"]) == (fact_id, agent_id, value), (
            f"entry {seq} is not the acknowledged vote")
    for size, root in acks.checkpoints:
        assert snap.checkpoints.get(size, (None,))[0] == root, f"checkpoint {size} lost"


def rss_kib(pid: int) -> int:
    """Resident set size of process ``pid`` in KiB (VmRSS from /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS for {pid}")
