"""Producers far faster than the writer: a slowed disk (``commit_delay_ms``) and small
mailboxes. SPEC §1: back-pressure, never unbounded queues; a full writer inbox makes an
ask wait up to ``enqueue_timeout`` and then raise ``Overloaded`` (HTTP 503 with
Retry-After). Refused writes wrote nothing, acknowledged ones are all there, memory stays
bounded, nothing hangs, and everything works again once the load stops.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import anyio
import httpx
import pytest

from cortex import Cortex
from cortex.errors import Overloaded
from tests.chaos.kit import Acks, assert_acks_hold, assert_sound, rss_kib
from tests.integration.server_kit import create_keys, start_server, stop_server

pytestmark = pytest.mark.chaos

ENQUEUE_TIMEOUT = 0.3
#: an overloaded call is refused within the enqueue timeout plus a noisy, shared
#: machine's worst scheduling delay (in process, and inside the server)
ANSWER_BOUND = ENQUEUE_TIMEOUT + 3.0
#: seen by an HTTP client, a 503 also waits for the server's event loop to read the
#: request: bounded, but only by how busy the machine is ("never hangs")
CLIENT_BOUND = 30.0
SLOW_WRITER = {"commit_delay_ms": 100, "writer_mailbox": 8, "max_batch": 4,
               "enqueue_timeout": ENQUEUE_TIMEOUT}


@pytest.mark.anyio
@pytest.mark.timeout(120)
async def test_a_flooded_writer_refuses_quickly_with_overloaded_and_recovers(
    tmp_path: Path,
) -> None:
    db = tmp_path / "data" / "cortex.db"
    acks, refused, slowest = Acks(), set[str](), 0.0
    async with Cortex.open(db, log_level="warning", **SLOW_WRITER) as cx:

        async def producer(n: int) -> None:
            nonlocal slowest
            for m in range(3):
                fact_id, content = f"p{n}-{m}", f"flood {n} {m}"
                started = time.monotonic()
                try:
                    await cx.store("flood", content, id=fact_id)
                except Overloaded as error:
                    slowest = max(slowest, time.monotonic() - started)
                    assert error.retry_after > 0
                    refused.add(fact_id)
                else:
                    acks.stored[fact_id] = content

        async with anyio.create_task_group() as tg:
            for n in range(150):
                tg.start_soon(producer, n)
        assert refused, "150 producers never overloaded an 8-slot mailbox"
        assert acks.stored, "nothing got through"
        assert slowest < ANSWER_BOUND, f"an Overloaded took {slowest:.2f}s"
        # the load stopped: the writer drains and serves again at once
        after = await cx.store("flood", "after the flood")
        assert (await cx.get(after.id)).content == "after the flood"
        assert cx.statistics().writer.queue_depth == 0
        verifier = cx.ledger.public_key
    snap = assert_sound(db, verifier)
    assert_acks_hold(snap, acks)
    assert not refused & set(snap.facts), "a refused store was written"
    print(f"\nin process: {len(acks.stored)} stored, {len(refused)} Overloaded, "
          f"slowest refusal {slowest:.2f}s")


@pytest.mark.timeout(180)
def test_a_flooded_server_answers_503_with_retry_after_in_bounded_time_and_memory(
    tmp_path: Path,
) -> None:
    db = tmp_path / "data" / "cortex.db"
    keys = create_keys(db)
    log = tmp_path / "server.log"
    server = start_server(db, keys, log_to=log, log_level="info", rate_limit_per_s="0",
                          reader_mailbox="16", **{k: str(v) for k, v in SLOW_WRITER.items()})
    try:
        rss_before = rss_kib(server.process.pid)
        flood = anyio.run(_flood, server.url, keys["acme-write"], server.process.pid)
        rss_after = rss_kib(server.process.pid)
        with httpx.Client(base_url=server.url, timeout=30,
                          headers={"Authorization": f"Bearer {keys['acme-write']}"}) as http:
            assert http.get("/health").status_code == 200
            stored = http.post("/v1/facts", json={"project": "flood", "content": "after"})
            assert stored.status_code == 201
            assert http.get(stored.headers["Location"]).json()["content"] == "after"
            verifier = http.get("/v1/ledger/public-key").json()["verifier_key"]
    finally:
        stop_server(server.process)
    acks = flood.acks
    assert not acks.unexpected, acks.unexpected[:5]
    answered = len(acks.stored) + len(flood.refused)
    assert len(acks.doubtful) * 20 < answered, f"connections dropped: {acks.answers}"
    assert flood.refused and flood.first_503 is not None, "the flood never got a 503"
    assert acks.stored, "nothing got through the flood"
    assert flood.slowest_503 < CLIENT_BOUND, f"a 503 took {flood.slowest_503:.2f}s"
    # the readers are not the writer: health answers all along
    assert flood.health and {status for status, _ in flood.health} == {200}, flood.health
    assert max(seconds for _, seconds in flood.health) < CLIENT_BOUND
    # inside the server (its canonical request lines), a refusal takes the enqueue timeout
    lines = [json.loads(text) for text in log.read_text().splitlines() if text[:1] == "{"]
    inside = [line["ms"] / 1000 for line in lines
              if line.get("event") == "http.request" and line.get("status") == 503]
    assert len(inside) == len(flood.refused) and max(inside) < ANSWER_BOUND, max(inside)
    # a bounded server: a hundred requests in flight cost some MiB, never hundreds
    growth = (flood.rss_peak - rss_before) // 1024
    assert growth < 200, f"the server grew by {growth} MiB under the flood"
    snap = assert_sound(db, verifier)
    assert_acks_hold(snap, acks)
    assert not flood.refused & set(snap.facts), "a store answered 503 was written"
    print(f"\nover HTTP: first 503 after {flood.first_503:.2f}s, slowest 503 "
          f"{flood.slowest_503:.2f}s (inside the server {max(inside):.2f}s), "
          f"{len(acks.stored)} stored, {len(flood.refused)} refused, "
          f"{len(acks.doubtful)} in doubt; RSS "
          f"{rss_before // 1024} MiB before, peak {flood.rss_peak // 1024}, "
          f"{rss_after // 1024} after; slowest /health "
          f"{max(seconds for _, seconds in flood.health):.2f}s")


@dataclass
class Flood:
    """What a flood of stores over HTTP got back, and the server's peak memory."""

    rss_peak: int
    acks: Acks = field(default_factory=Acks)
    #: ids of the stores answered 503
    refused: set[str] = field(default_factory=set)
    #: seconds from the flood's start to the first 503
    first_503: float | None = None
    #: the longest a 503 took to come back
    slowest_503: float = 0.0
    #: /health answers during the flood: (status, seconds)
    health: list[tuple[int, float]] = field(default_factory=list)


async def _flood(url: str, key: str, pid: int, producers: int = 40,
                 seconds: float = 6.0) -> Flood:
    """``producers`` concurrent connections storing as fast as they can for ``seconds``."""
    result = Flood(rss_kib(pid))
    acks, refused = result.acks, result.refused
    started = time.monotonic()
    limits = httpx.Limits(max_connections=producers, max_keepalive_connections=producers)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits,
                                 headers={"Authorization": f"Bearer {key}"}) as http:

        async def producer(n: int) -> None:
            m = 0
            while time.monotonic() - started < seconds:
                m += 1
                fact_id, content = f"h{n}-{m}", f"flood {n} {m}"
                sent = time.monotonic()
                try:
                    response = await http.post("/v1/facts", json={
                        "project": "flood", "content": content, "id": fact_id})
                except httpx.TransportError as error:
                    # a keep-alive connection the server closed as it was reused: the
                    # store is in doubt (all of it or none, checked at the end)
                    acks.doubtful[fact_id] = content
                    acks.count("store", type(error).__name__)
                    continue
                took = time.monotonic() - sent
                if response.status_code == 201:
                    acks.stored[fact_id] = content
                elif response.status_code == 503:
                    assert float(response.headers["Retry-After"]) > 0
                    assert response.json()["code"] == "overloaded", response.text
                    refused.add(fact_id)
                    result.slowest_503 = max(took, result.slowest_503)
                    if result.first_503 is None:
                        result.first_503 = time.monotonic() - started
                    await anyio.sleep(0.05)  # a polite client backs off a little
                else:
                    acks.unexpected.append(f"{response.status_code} {response.text[:200]}")

        async def sample_rss_and_health() -> None:
            async with httpx.AsyncClient(base_url=url, timeout=60) as probe:
                while True:
                    result.rss_peak = max(result.rss_peak, rss_kib(pid))
                    sent = time.monotonic()
                    answer = await probe.get("/health")
                    result.health.append((answer.status_code, time.monotonic() - sent))
                    await anyio.sleep(0.2)

        async with anyio.create_task_group() as tg:
            tg.start_soon(sample_rss_and_health)
            async with anyio.create_task_group() as producers_group:
                for n in range(producers):
                    producers_group.start_soon(producer, n)
            tg.cancel_scope.cancel()
    return result
