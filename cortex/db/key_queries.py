"""Looking up API keys; a key row the ledger does not vouch for authenticates nobody."""

from __future__ import annotations

import sqlite3

from cortex.core.hashing import key_state_hash
from cortex.db.queries import snapshot
from cortex.db.rows import KEY_COLUMNS, key_from_row, key_row_dict
from cortex.db.verified import ReadVerifier
from cortex.model import ApiKey


def key_by_hash(
    conn: sqlite3.Connection, verifier: ReadVerifier, secret_hash: str
) -> ApiKey | None:
    with snapshot(conn):
        found = conn.execute(f"SELECT {KEY_COLUMNS} FROM api_keys WHERE secret_hash = ?",
                             (secret_hash,)).fetchone()
        if found is None:
            return None
        row = key_row_dict(found)
        verifier.check_states(conn, [(f"key:{row['id']}", row["tenant"], key_state_hash(row),
                                      row["state_seq"])])
    return key_from_row(row)


def list_keys(
    conn: sqlite3.Connection, verifier: ReadVerifier, tenant: str, include_revoked: bool
) -> list[ApiKey]:
    sql = f"SELECT {KEY_COLUMNS} FROM api_keys WHERE tenant = ?"
    if not include_revoked:
        sql += " AND revoked_at IS NULL"
    with snapshot(conn):
        rows = [key_row_dict(r) for r in conn.execute(sql + " ORDER BY created_at", (tenant,))]
        verifier.check_states(conn, [(f"key:{r['id']}", tenant, key_state_hash(r),
                                      r["state_seq"]) for r in rows])
    return [key_from_row(r) for r in rows]
