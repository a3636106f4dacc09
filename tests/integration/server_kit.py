"""A real ``cortex serve`` on 127.0.0.1 for HTTP tests, with keys made beforehand."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from cortex import CortexSync


@dataclass
class Server:
    url: str
    keys: dict[str, str]
    db: Path
    process: subprocess.Popen[str]

    def client(self, key: str | None = None) -> httpx.Client:
        headers = {} if key is None else {"Authorization": f"Bearer {self.keys.get(key, key)}"}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


KEYS = {
    "acme-admin": {"role": "admin", "tenant": "acme"},
    "acme-write": {"role": "write", "tenant": "acme"},
    "acme-read": {"role": "read", "tenant": "acme"},
    "acme-alpha": {"role": "write", "tenant": "acme", "projects": ["alpha"]},
    "globex-admin": {"role": "admin", "tenant": "globex"},
}


def create_keys(db: Path, specs: dict[str, dict[str, Any]] | None = None) -> dict[str, str]:
    """Create (in process, before any server holds the file) one key per spec; name → secret."""
    keys: dict[str, str] = {}
    with CortexSync.open(db, log_level="warning") as cx:
        for name, spec in (KEYS if specs is None else specs).items():
            created = cx._call(cx._cortex.keys.create, spec["role"], tenant=spec["tenant"],
                               projects=spec.get("projects"), name=name)
            keys[name] = created.key
    return keys


def start_server(db: Path, keys: dict[str, str], startup_timeout: float = 30,
                 log_to: Path | None = None, **env: str) -> Server:
    """Serve ``db`` from a ``cortex serve`` subprocess; return once /health answers.

    ``env`` entries become ``CORTEX_<NAME>`` settings. The server's output goes to a pipe
    read at stop (keep it short: a full pipe blocks the server), or to the file
    ``log_to``. Stop it with ``stop_server``.
    """
    port = free_port()
    environment = {**os.environ, "CORTEX_LOG_FORMAT": "json", "CORTEX_LOG_LEVEL": "warning",
                   **{f"CORTEX_{k.upper()}": v for k, v in env.items()}}
    with contextlib.ExitStack() as stack:
        sink = subprocess.PIPE if log_to is None else stack.enter_context(log_to.open("w"))
        process = subprocess.Popen(
            [sys.executable, "-m", "cortex", "serve", "--db", str(db), "--host", "127.0.0.1",
             "--port", str(port)],
            stdout=sink, stderr=subprocess.STDOUT, text=True, env=environment,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + startup_timeout
    while True:
        try:
            httpx.get(f"{url}/health", timeout=2)
            return Server(url, keys, db, process)
        except httpx.TransportError:
            if time.monotonic() > deadline or process.poll() is not None:
                printed = stop_server(process, timeout=5)
                raise RuntimeError(f"server did not start:\n{printed[-4000:]}") from None
            time.sleep(0.1)


def stop_server(process: subprocess.Popen[str], timeout: float = 30) -> str:
    """SIGINT (a clean shutdown), SIGKILL after ``timeout``; return the process's output."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
    return output or ""


@contextmanager
def running_server(tmp: Path, **env: str) -> Iterator[Server]:
    """Create the keys in process, then serve the database from a subprocess."""
    db = tmp / "served" / "cortex.db"
    server = start_server(db, create_keys(db), **env)
    try:
        yield server
    finally:
        stop_server(server.process)
