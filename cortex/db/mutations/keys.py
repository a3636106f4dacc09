"""API key mutations: create, revoke (ledger entries) and last-use stamps (batched, not)."""

from __future__ import annotations

import sqlite3
from typing import Any

import msgspec

from cortex.core.hashing import key_state_hash
from cortex.core.keys import key_hash, key_prefix
from cortex.db.mutations.ledger import Ledger
from cortex.db.rows import KEY_COLUMNS, key_from_row, key_row_dict
from cortex.errors import KeyNotFound
from cortex.model import ApiKey


def create_key(
    conn: sqlite3.Connection, ledger: Ledger, key_id: str, secret: str, tenant: str, role: str,
    projects: list[str] | None, agent_id: str | None, name: str | None,
) -> ApiKey:
    """Store a key's hash (never the secret); the entry names the key, not its hash."""
    seq, now = ledger.stamp()
    row: dict[str, Any] = {
        "id": key_id, "prefix": key_prefix(secret), "secret_hash": key_hash(secret),
        "tenant": tenant, "role": role,
        "projects": None if projects is None else msgspec.json.encode(projects).decode(),
        "agent_id": agent_id, "name": name, "created_at": now, "revoked_at": None,
        "last_used_at": None, "state_seq": seq,
    }
    conn.execute(f"INSERT INTO api_keys ({KEY_COLUMNS}) VALUES "
                 f"({', '.join('?' for _ in row)})", list(row.values()))
    subject = f"key:{key_id}"
    ledger.append(tenant, "key.create",
                  {"key_id": key_id, "role": role, "projects": projects, "agent_id": agent_id,
                   "states": {subject: key_state_hash(row)}}, [subject])
    return key_from_row(row)


def revoke_key(conn: sqlite3.Connection, ledger: Ledger, tenant: str, key_id: str) -> ApiKey:
    """Revoke a key of ``tenant`` (revoking twice returns the revoked key unchanged).

    Raises:
        KeyNotFound: no such key in the tenant.
    """
    found = conn.execute(f"SELECT {KEY_COLUMNS} FROM api_keys WHERE id = ? AND tenant = ?",
                         (key_id, tenant)).fetchone()
    if found is None:
        raise KeyNotFound(key_id)
    row = key_row_dict(found)
    if row["revoked_at"] is not None:
        return key_from_row(row)
    seq, now = ledger.stamp()
    row.update(revoked_at=now, state_seq=seq)
    conn.execute("UPDATE api_keys SET revoked_at = ?, state_seq = ? WHERE id = ?",
                 (now, seq, key_id))
    subject = f"key:{key_id}"
    ledger.append(tenant, "key.revoke",
                  {"key_id": key_id, "states": {subject: key_state_hash(row)}}, [subject])
    return key_from_row(row)


def touch_keys(conn: sqlite3.Connection, last_used: dict[str, int]) -> None:
    """Record when keys were last used. Operational data: no ledger entry, not vouched."""
    conn.executemany("UPDATE api_keys SET last_used_at = max(coalesce(last_used_at, 0), ?)"
                     " WHERE id = ?", [(when, key_id) for key_id, when in last_used.items()])
