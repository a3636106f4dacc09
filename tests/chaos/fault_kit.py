"""Helpers for the storage-fault tests: a tiny real file system, file corruption, the CLI.

``tiny_filesystem`` mounts a size-limited ext4 image on a loop device when the machine
allows it (root, ``losetup``, ``mkfs.ext4``, ``mount``), and skips the test with the
reason otherwise; the injected faults (the ``fault_file`` setting) always run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest
import sqlean

from cortex import Cortex, CortexSync
from tests.integration.server_kit import free_port

#: the messages SQLite gives for the two recoverable write faults
DISK_FULL = "database or disk is full"
READ_ONLY = "attempt to write a readonly database"


@contextmanager
def tiny_filesystem(tmp: Path, size_mb: int = 4) -> Iterator[Path]:
    """A fresh ext4 file system of ``size_mb`` MiB mounted under ``tmp``; skips when
    mounting a loop device is impossible here."""
    missing = [tool for tool in ("mkfs.ext4", "mount", "umount")
               if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"no real file system for this test: {', '.join(missing)} not installed")
    if os.geteuid() != 0:
        pytest.skip("no real file system for this test: mounting needs root")
    image, mountpoint = tmp / "fs.img", tmp / "mnt"
    mountpoint.mkdir()
    with image.open("wb") as handle:
        handle.truncate(size_mb * 1024 * 1024)
    made = _run(["mkfs.ext4", "-q", "-F", "-m", "0", str(image)])
    if made.returncode != 0:
        pytest.skip(f"no real file system for this test: mkfs.ext4 failed: {made.stderr}")
    mounted = _run(["mount", "-o", "loop", str(image), str(mountpoint)])
    if mounted.returncode != 0:
        pytest.skip(f"no real file system for this test: mount -o loop failed: "
                    f"{mounted.stderr.strip()}")
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", "-l", str(mountpoint)], capture_output=True, timeout=30)


def _run(command: list[str]) -> subprocess.CompletedProcess[str]:
    """Run a set-up command; one that hangs (no loop devices) counts as failed."""
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(command, 1, "", f"{command[0]} timed out")


def remount(mountpoint: Path, mode: str) -> None:
    """Remount ``mountpoint`` read-only (``ro``) or read-write (``rw``)."""
    subprocess.run(["mount", "-o", f"remount,{mode}", str(mountpoint)], check=True,
                   capture_output=True, timeout=30)


def fill_disk(mountpoint: Path) -> Path:
    """Write a filler file until the file system is full; return it (delete to clear)."""
    filler = mountpoint / "filler"
    chunk = b"\0" * 65536
    with filler.open("wb") as handle, suppress(OSError):
        while True:
            handle.write(chunk)
            handle.flush()
    # then small writes, so SQLite finds no few free blocks the big buffer left
    with suppress(OSError), filler.open("ab") as handle:
        while True:
            handle.write(b"\0" * 512)
            handle.flush()
    return filler


@contextmanager
def fault(fault_file: Path, message: str) -> Iterator[None]:
    """Every commit fails with SQLite's ``message`` while the block runs."""
    fault_file.write_text(message)
    try:
        yield
    finally:
        fault_file.unlink(missing_ok=True)


async def seed(db_path: Path, count: int = 200) -> list[str]:
    """A store with ``count`` facts (a few pages of the facts table), closed cleanly."""
    async with Cortex.open(db_path, log_level="critical") as cx:
        facts = await cx.store_many([{"project": "ops", "content": f"fact {n} " + "w" * 200}
                                     for n in range(count)])
    return [fact.id for fact in facts]


def overwrite_header(db_path: Path) -> str:
    with db_path.open("r+b") as handle:
        handle.write(b"this is no SQLite file")
    return "not a database"


def overwrite_facts_page(db_path: Path) -> str:
    """Overwrite the facts table's root page with 0xFF bytes."""
    overwrite_root_page(db_path, "facts")
    return "quick_check"


def overwrite_root_page(db_path: Path, table: str) -> None:
    """Overwrite the root page of ``table`` (a table or index) with 0xFF bytes."""
    conn = sqlean.connect(str(db_path))
    try:
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?",
                            (table,)).fetchone()[0]
    finally:
        conn.close()
    with db_path.open("r+b") as handle:
        handle.seek((root - 1) * page_size)
        handle.write(b"\xff" * page_size)


def truncate_file(db_path: Path) -> str:
    os.truncate(db_path, db_path.stat().st_size // 2)
    return "malformed"


def cortex_cli(*args: str, env: dict[str, str] | None = None,
               timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run the real ``cortex`` executable (``python -m cortex``) to completion."""
    environment = {**os.environ, "CORTEX_LOG_LEVEL": "warning", **(env or {})}
    return subprocess.run([sys.executable, "-m", "cortex", *args], capture_output=True,
                          text=True, timeout=timeout, env=environment)


def verified_sync(db_path: Path, acknowledged: list[str], tenant: str) -> None:
    """Reopen from sync code (a served test, once its server stopped): the ledger
    verifies and every acknowledged fact of ``tenant`` is there."""
    with CortexSync.open(db_path, log_level="critical") as cx:
        report = cx.ledger.verify()
        assert report.ok, report.problems
        for fact_id in acknowledged:
            assert cx.get(fact_id, tenant=tenant).id == fact_id


async def verified(db_path: Path, acknowledged: list[str]) -> None:
    """Reopen: the ledger verifies and every acknowledged fact is there."""
    async with Cortex.open(db_path, log_level="critical") as cx:
        report = await cx.ledger.verify()
        assert report.ok, report.problems
        for fact_id in acknowledged:
            assert (await cx.get(fact_id)).id == fact_id


def serve_refuses(db_path: Path) -> subprocess.CompletedProcess[str]:
    """Run ``cortex serve`` on a store it must refuse: it exits (within the timeout)."""
    return cortex_cli("serve", "--db", str(db_path), "--port", str(free_port()))
