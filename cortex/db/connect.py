"""Opening SQLite connections: sqlean (it can load extensions) with sqlite-vec loaded.

There are two kinds. ``open_writer`` gives the only read-write connection and is called
by the writer actor alone (a test checks the imports). ``open_reader`` gives read-only
connections (``mode=ro`` plus ``PRAGMA query_only``). Both are ``aiosqlite`` connections,
so each has its own thread; ``run_sync`` runs a whole synchronous function on that thread
in one hop, which is how a batch or a multi-statement query avoids one await per
statement (SPEC §9: 2 % vs 80 % of the raw ceiling).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar, cast

import aiosqlite
import anyio
import sqlean
import sqlite_vec

from cortex.config import Settings

T = TypeVar("T")


def _load_extensions(conn: sqlite3.Connection) -> None:
    conn.enable_load_extension(True)
    try:
        sqlite_vec.load(conn)
    finally:
        conn.enable_load_extension(False)


def _common_pragmas(conn: sqlite3.Connection, settings: Settings) -> None:
    conn.execute(f"PRAGMA busy_timeout = {int(settings.busy_timeout_ms)}")
    conn.execute(f"PRAGMA mmap_size = {int(settings.mmap_size)}")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA temp_store = MEMORY")


def connect_writer_sync(settings: Settings) -> sqlite3.Connection:
    """A read-write connection in autocommit mode (transactions are explicit)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    conn = cast(
        sqlite3.Connection,
        sqlean.connect(str(settings.db_path), isolation_level=None, check_same_thread=False),
    )
    _load_extensions(conn)
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        raise sqlean.OperationalError(f"could not enable WAL (journal_mode={mode})")
    synchronous = "FULL" if settings.durability == "full" else "NORMAL"
    conn.execute(f"PRAGMA synchronous = {synchronous}")
    _common_pragmas(conn, settings)
    return conn


def connect_reader_sync(settings: Settings) -> sqlite3.Connection:
    """A read-only connection: the file is opened ``mode=ro`` and ``query_only`` is on."""
    uri = Path(settings.db_path).resolve().as_uri() + "?mode=ro"
    conn = cast(
        sqlite3.Connection,
        sqlean.connect(uri, uri=True, isolation_level=None, check_same_thread=False),
    )
    _load_extensions(conn)
    _common_pragmas(conn, settings)
    conn.execute("PRAGMA query_only = 1")
    return conn


async def open_writer(settings: Settings) -> aiosqlite.Connection:
    return await _connected(
        aiosqlite.Connection(lambda: connect_writer_sync(settings), iter_chunk_size=64))


async def open_reader(settings: Settings) -> aiosqlite.Connection:
    return await _connected(
        aiosqlite.Connection(lambda: connect_reader_sync(settings), iter_chunk_size=64))


async def _connected(conn: aiosqlite.Connection) -> aiosqlite.Connection:
    """Await the connection; if connecting fails, wait for its thread to end first.

    aiosqlite stops the thread of a failed connect without waiting for it, and the
    thread then reports to the event loop: if the loop closed meanwhile (a CLI command
    that exits on the error), the thread dies with a stray traceback on stderr.
    """
    try:
        return await conn
    except BaseException:
        thread = getattr(conn, "_thread", None)
        if isinstance(thread, threading.Thread) and thread.is_alive():
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(thread.join, 5.0)
        raise


async def run_sync(
    conn: aiosqlite.Connection, fn: Callable[..., T], *args: Any
) -> T:
    """Run ``fn(raw_connection, *args)`` on ``conn``'s own thread, in one hop.

    aiosqlite has no public call for this; ``_execute`` is the primitive its own
    ``execute`` uses (present since 0.17), and the integration tests exercise it on
    every read and write.
    """
    raw = conn._conn
    execute: Callable[..., Awaitable[Any]] = conn._execute
    return cast(T, await execute(fn, raw, *args))


def connect_file_readonly(path: Path) -> sqlite3.Connection:
    """A read-only connection to any database file (``migrate --check``, a backup copy)."""
    uri = Path(path).resolve().as_uri() + "?mode=ro"
    return cast(sqlite3.Connection, sqlean.connect(uri, uri=True))


def backup_file(source: Path, target: Path) -> None:
    """Copy the database at ``source`` into the new file ``target`` with SQLite's online
    backup API: consistent while the writer keeps committing. The only connection written
    is the one to the copy."""
    reader = connect_file_readonly(source)
    copy = cast(sqlite3.Connection, sqlean.connect(str(target)))
    try:
        reader.backup(copy)
    finally:
        reader.close()
        copy.close()
