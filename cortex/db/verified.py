"""Verified reads: no fact leaves Cortex unless the ledger vouches for its stored row.

For each row a query returns, inside the query's read transaction:

1. its content and attributes hash to the ``content_hash``/``attrs_hash`` it carries
   (skipped once redacted: the content is gone, the hashes stay);
2. the row's state hash equals the one in the ledger entry at its ``state_seq``, and that
   entry belongs to the row's tenant;
3. no later entry changed the fact (``state_seq`` is its newest subject entry), so an
   older copy of the row cannot be replayed;
4. the entry is included, by an RFC 9162 proof over the stored nodes, in the tree head
   the process trusts for this snapshot.

Steps 2 and 4 are remembered per (fact, state): a row read again unchanged costs two
hashes and one index lookup.
"""

from __future__ import annotations

import json
import sqlite3
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

from cortex.core.hashing import attrs_hash, canonical_entry, content_hash, fact_state_hash
from cortex.core.merkle import ProofError, inclusion_path, leaf_hash, verify_inclusion
from cortex.db.trusted import TrustedHeads
from cortex.errors import IntegrityError


def ledger_size(conn: sqlite3.Connection) -> int:
    row = conn.execute("SELECT seq FROM ledger ORDER BY seq DESC LIMIT 1").fetchone()
    return 0 if row is None else int(row[0]) + 1


def node_reader(conn: sqlite3.Connection) -> Any:
    """``get_node(level, index)`` over ``merkle_nodes``; a missing node is an integrity error."""

    def get_node(level: int, index: int) -> bytes:
        row = conn.execute(
            "SELECT hash FROM merkle_nodes WHERE level = ? AND idx = ?", (level, index)
        ).fetchone()
        if row is None:
            raise IntegrityError(f"Merkle node ({level}, {index}) is missing")
        return bytes(row[0])

    return get_node


def entry_leaf(conn: sqlite3.Connection, seq: int) -> tuple[str, dict[str, Any], bytes]:
    """``(tenant, payload, leaf hash)`` of ledger entry ``seq``."""
    row = conn.execute(
        "SELECT tenant, action, payload, recorded_at FROM ledger WHERE seq = ?", (seq,)
    ).fetchone()
    if row is None:
        raise IntegrityError(f"ledger entry {seq} is missing", seq=seq)
    tenant, action, payload_text, recorded_at = row
    try:
        payload = json.loads(payload_text)
    except ValueError:
        raise IntegrityError(f"ledger entry {seq} has an unreadable payload", seq=seq) from None
    return tenant, payload, leaf_hash(canonical_entry(seq, tenant, action, payload, recorded_at))


class ReadVerifier:
    """Checks fact rows against the ledger before they are served (one per reader)."""

    def __init__(self, trusted: TrustedHeads, enabled: bool = True, cache_size: int = 100_000):
        self.trusted = trusted
        self.enabled = enabled
        self._proven: OrderedDict[str, tuple[int, str]] = OrderedDict()
        self._cache_size = cache_size

    def check(self, conn: sqlite3.Connection, rows: Iterable[dict[str, Any]]) -> None:
        """Raise ``IntegrityError`` naming the first fact row the ledger does not vouch for.

        Precondition: called inside the read transaction that fetched ``rows``.
        """
        rows = list(rows)
        if not self.enabled or not rows:
            return
        size = ledger_size(conn)
        root = self.trusted.root_at(size)
        for row in rows:
            if not row["redacted"]:
                self._check_content(row)
            self._vouch(conn, row["id"], row["tenant"], fact_state_hash(row), row["state_seq"],
                        size, root)

    def check_states(
        self, conn: sqlite3.Connection, items: Iterable[tuple[str, str, str, int]]
    ) -> None:
        """Like ``check`` for other rows: ``(subject, tenant, state hash, state_seq)``."""
        items = list(items)
        if not self.enabled or not items:
            return
        size = ledger_size(conn)
        root = self.trusted.root_at(size)
        for subject, tenant, state, seq in items:
            self._vouch(conn, subject, tenant, state, seq, size, root)

    @staticmethod
    def _check_content(row: dict[str, Any]) -> None:
        if content_hash(row["content"] or "") != row["content_hash"]:
            raise _refused(row["id"], row["state_seq"], "content does not match its hash")
        attrs = attrs_hash(json.loads(row["tags"]), row["source"], json.loads(row["meta"]))
        if attrs != row["attrs_hash"]:
            raise _refused(row["id"], row["state_seq"],
                           "tags, source or meta do not match their hash")

    def _vouch(
        self, conn: sqlite3.Connection, subject: str, tenant: str, state: str, seq: int,
        size: int, root: bytes,
    ) -> None:
        newest = conn.execute(
            "SELECT max(seq) FROM ledger_subjects WHERE fact_id = ?", (subject,)
        ).fetchone()[0]
        if newest != seq:
            raise _refused(subject, seq,
                           f"the row reflects entry {seq} but entry {newest} changed it later")
        if self._proven.get(subject) == (seq, state):
            self._proven.move_to_end(subject)
            return
        if not 0 <= seq < size:
            raise _refused(subject, seq, f"entry {seq} is outside the ledger")
        tenant_of_entry, payload, leaf = entry_leaf(conn, seq)
        if tenant_of_entry != tenant or payload.get("states", {}).get(subject) != state:
            raise _refused(subject, seq, f"entry {seq} vouches for a different state")
        try:
            verify_inclusion(seq, size, leaf, inclusion_path(node_reader(conn), seq, size), root)
        except ProofError as error:
            raise _refused(subject, seq,
                           f"entry {seq} is not in the trusted tree ({error})") from None
        self._proven[subject] = (seq, state)
        if len(self._proven) > self._cache_size:
            self._proven.popitem(last=False)


def _refused(subject: str, seq: int, problem: str) -> IntegrityError:
    kind, _, rest = subject.partition(":")
    fact_id = subject if not rest else (rest.split(":")[0] if kind == "vote" else None)
    return IntegrityError(f"{subject!r} is not what the ledger recorded: {problem}",
                          seq=seq, fact_id=fact_id)
