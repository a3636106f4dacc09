"""Applying migrations: each in one transaction together with the row that records it.

``applied`` and ``pending`` only read; ``apply_pending`` writes and is called by the
writer actor on its own connection (the only read-write one).
"""

from __future__ import annotations

import sqlite3
import time

from cortex.db.schema import MIGRATIONS, SCHEMA_VERSION, Migration
from cortex.errors import SchemaTooNew

_CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at INTEGER NOT NULL
) STRICT
"""


def applied(conn: sqlite3.Connection) -> list[int]:
    """Versions recorded in the database (empty for a new file)."""
    exists = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
    ).fetchone()
    if exists is None:
        return []
    return [row[0] for row in conn.execute("SELECT version FROM schema_migrations ORDER BY 1")]


def pending(conn: sqlite3.Connection) -> list[Migration]:
    """Migrations this code has and the database lacks.

    Raises:
        SchemaTooNew: the database has a version this code does not know.
    """
    done = applied(conn)
    if done and max(done) > SCHEMA_VERSION:
        raise SchemaTooNew(max(done), SCHEMA_VERSION)
    return [m for m in MIGRATIONS if m.version not in done]


def apply_pending(conn: sqlite3.Connection) -> list[int]:
    """Apply every pending migration, each atomically; return the versions applied.

    Precondition: ``conn`` is the writer's connection in autocommit mode.
    """
    conn.execute(_CREATE_TABLE)
    versions: list[int] = []
    for migration in pending(conn):
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _statements(migration.sql):
                conn.execute(statement)
            conn.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                (migration.version, migration.name, time.time_ns() // 1000),
            )
            conn.execute(f"PRAGMA user_version = {migration.version}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        versions.append(migration.version)
    return versions


def _statements(script: str) -> list[str]:
    """Split a script into complete statements (``sqlite3.complete_statement`` aware)."""
    statements: list[str] = []
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        statements.append(buffer.strip())
    return statements
