"""Storage faults: SQLite failures under the writer, translated into typed errors.

A full disk or a read-only file fails a batch without breaking the connection: the
batch is rolled back whole, every asker gets ``DiskFull`` / ``StorageReadOnly``, the
writer keeps running and the next batch simply tries again, so writes resume by
themselves once the fault clears. A damaged file (``SQLITE_CORRUPT``, ``SQLITE_NOTADB``)
becomes ``DatabaseCorrupt`` naming the file. Anything else stays a fatal ``WriterFailed``
(the runtime reopens the connection).

``fault_file`` (a test setting) injects such failures: while the file exists, every
commit and every open of the writer's connection fails with the SQLite message written
in it, as SQLite would have.
"""

from __future__ import annotations

import errno
import sqlite3
import time
from pathlib import Path

import sqlean

from cortex.errors import CortexError, DatabaseCorrupt, DiskFull, StorageError, StorageReadOnly

#: SQLite's messages for the conditions that leave the connection sound (the batch failed)
DISK_FULL = "database or disk is full"
READ_ONLY = "attempt to write a readonly database"
#: SQLite's primary result codes, when the error carries one
_FULL, _READONLY, _CORRUPT, _NOTADB = 13, 8, 11, 26


class WriterFailed(StorageError):
    """Raised to every command of a batch that SQLite could not commit, for a reason
    that may have broken the connection (the writer reopens it)."""

    def __init__(self, error: Exception, path: str | None = None) -> None:
        where = f" {path}" if path else ""
        super().__init__(f"the database{where} refused the write: {error}")
        self.error = error
        self.fatal = not isinstance(translate(error, ""), DiskFull | StorageReadOnly)


def translate(error: BaseException, path: str) -> CortexError | None:
    """The typed error for a SQLite failure on the database at ``path``, or ``None``
    when it is none of the known storage conditions."""
    text = str(error)
    if isinstance(error, OSError):
        if error.errno == errno.ENOSPC:
            return DiskFull(path, text)
        if error.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            return StorageReadOnly(path, text)
        return None
    code = getattr(error, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    if primary == _FULL or DISK_FULL in text:
        return DiskFull(path, text)
    if primary == _READONLY or "readonly database" in text:
        return StorageReadOnly(path, text)
    if primary in (_CORRUPT, _NOTADB) or "malformed" in text or "not a database" in text:
        return DatabaseCorrupt(path, text)
    return None


def batch_failure(failure: WriterFailed, path: Path) -> CortexError:
    """What the askers of a failed batch get: the typed condition (``DiskFull``,
    ``StorageReadOnly``, ``DatabaseCorrupt``), else the failure naming the file."""
    return translate(failure.error, str(path)) or WriterFailed(failure.error, str(path))


def open_failure(error: BaseException, path: Path) -> CortexError:
    """What opening the database raises for a SQLite or OS error: typed, naming ``path``."""
    typed = translate(error, str(path))
    if typed is not None:
        return typed
    return StorageError(f"cannot open the database {path}: {error}", path=str(path))


def inject_fault(fault_file: Path | None) -> None:
    """Raise the SQLite error written in ``fault_file`` while that file exists."""
    if fault_file is None:
        return
    try:
        text = fault_file.read_text().strip()
    except FileNotFoundError:
        return
    raise sqlean.OperationalError(text or DISK_FULL)


def probe(conn: sqlite3.Connection) -> None:
    """A real, tiny write (inside the batch's transaction): proves the file is writable
    again. ``log_meta`` is outside the ledger, so the probe changes no history."""
    conn.execute("INSERT INTO log_meta (key, value) VALUES ('storage_probe', ?) "
                 "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                 (str(time.time_ns() // 1000),))
