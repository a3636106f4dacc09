"""The served API: the app's lifespan owns the engine; a real uvicorn process on 127.0.0.1."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from litestar.testing import AsyncTestClient

from cortex import Cortex
from cortex.api.app import create_app
from cortex.config import Settings

pytestmark = pytest.mark.anyio


async def test_health_reports_the_database_queues_and_ledger(db_path: Path) -> None:
    async with AsyncTestClient(create_app(Settings.load(db_path))) as client:
        response = await client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["db"]["ok"] is True
    assert body["writer"]["mailbox_size"] == Settings().writer_mailbox
    assert body["readers"]["actors"] == 2
    assert body["ledger"]["size"] == 0


async def test_app_shutdown_releases_the_database(db_path: Path) -> None:
    async with AsyncTestClient(create_app(Settings.load(db_path))) as client:
        assert (await client.get("/health")).status_code == 200
    async with Cortex.open(db_path, log_level="warning") as cx:
        assert await cx.ledger_size() == 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_cortex_serve_starts_a_real_server_and_stops_cleanly(tmp_path: Path) -> None:
    port = _free_port()
    db = tmp_path / "served" / "cortex.db"
    env = {**os.environ, "CORTEX_LOG_FORMAT": "json"}
    process = subprocess.Popen(
        [sys.executable, "-m", "cortex", "serve", "--db", str(db), "--host", "127.0.0.1",
         "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )
    try:
        body = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and body is None:
            try:
                body = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).json()
            except httpx.TransportError:
                time.sleep(0.1)
        assert body is not None, "server never answered /health"
        assert body["status"] == "ok"
        assert db.exists(), "serve initialized the database"
        key_file = db.parent / "admin.key"
        assert key_file.stat().st_mode & 0o777 == 0o600, "the first admin key is private"
        headers = {"Authorization": f"Bearer {key_file.read_text().strip()}"}
        stored = httpx.post(f"http://127.0.0.1:{port}/v1/facts", headers=headers,
                            json={"project": "readme", "content": "it works"}, timeout=10)
        assert stored.status_code == 201, stored.text
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    assert "cortex.closed" in output
