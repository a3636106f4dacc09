"""A real ``cortex serve`` on 127.0.0.1 for HTTP tests, with keys made beforehand."""

from __future__ import annotations

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


@contextmanager
def running_server(tmp: Path, **env: str) -> Iterator[Server]:
    """Create the keys in process, then serve the database from a subprocess."""
    db = tmp / "served" / "cortex.db"
    keys: dict[str, str] = {}
    with CortexSync.open(db, log_level="warning") as cx:
        for name, spec in KEYS.items():
            created = cx._call(cx._cortex.keys.create, spec["role"], tenant=spec["tenant"],
                               projects=spec.get("projects"), name=name)
            keys[name] = created.key
    port = free_port()
    environment = {**os.environ, "CORTEX_LOG_FORMAT": "json", "CORTEX_LOG_LEVEL": "warning",
                   **{f"CORTEX_{k.upper()}": v for k, v in env.items()}}
    process = subprocess.Popen(
        [sys.executable, "-m", "cortex", "serve", "--db", str(db), "--host", "127.0.0.1",
         "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=environment,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{url}/health", timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("server did not start") from None
                time.sleep(0.1)
        yield Server(url, keys, db, process)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
