"""One process owns a database file: an OS lock on ``<db>.lock`` beside it.

``flock`` is released by the kernel when the process dies, even by ``kill -9``, so a
crash never leaves a stale lock behind. The file's text names the holder, for the error
a second process gets.
"""

from __future__ import annotations

import errno
import fcntl
import os
import socket
import sys
from pathlib import Path
from types import TracebackType

from cortex.errors import DatabaseLocked, DiskFull, StorageReadOnly


class DatabaseLock:
    """Exclusive, non-blocking lock held for the life of a ``Cortex`` instance."""

    def __init__(self, lock_path: Path, db_path: Path) -> None:
        self.lock_path = lock_path
        self.db_path = db_path
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock or raise ``DatabaseLocked`` naming the current holder.

        Raises:
            DatabaseLocked: another process holds it.
            StorageReadOnly, DiskFull: the database's directory cannot be written.
        """
        try:
            self.lock_path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as error:
            if error.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
                raise StorageReadOnly(str(self.db_path), f"{self.lock_path}: {error.strerror}"
                                      ) from error
            if error.errno == errno.ENOSPC:
                raise DiskFull(str(self.db_path), f"{self.lock_path}: {error.strerror}"
                               ) from error
            raise
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            os.close(fd)
            raise DatabaseLocked(str(self.db_path), holder) from None
        os.ftruncate(fd, 0)
        command = " ".join(sys.argv)[:200]
        os.write(fd, f"pid={os.getpid()} host={socket.gethostname()} cmd={command}\n".encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> DatabaseLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def _read_holder(fd: int) -> str:
    try:
        text = os.pread(fd, 512, 0).decode("utf-8", "replace").strip()
    except OSError:
        text = ""
    return text or "unknown process"
