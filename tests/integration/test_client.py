"""``cortex.client`` against a real server on 127.0.0.1: every method, typed results, the
engine's exceptions, idempotent retries, and Retry-After honoured on 503."""

from __future__ import annotations

from collections.abc import Iterator

import anyio
import httpx
import msgspec
import pytest
import sqlean

from cortex.client import CortexClient, CortexClientSync, verify_inclusion
from cortex.core.merkle import ProofError
from cortex.errors import (
    AgentNotFound,
    EntityNotFound,
    FactIsDeprecated,
    FactNotFound,
    Forbidden,
    InvalidInput,
    Overloaded,
    Unauthenticated,
)
from cortex.model import Checkpoint, Fact, FactPage, Graph, SearchResults, VerifyReport
from tests.integration.server_kit import Server, running_server

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    state = tmp_path_factory.mktemp("state")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_STATE_HOME", str(state))
        with running_server(tmp_path_factory.mktemp("client")) as running:
            yield running


async def test_every_fact_method_returns_typed_results(server: Server) -> None:
    async with CortexClient(server.url, key=server.keys["acme-admin"]) as cx:
        fact = await cx.store("alpha", "The WriterActor depends on aiosqlite.", tags=["db"],
                              meta={"by": "ops"}, entities=["Team Edge"])
        assert isinstance(fact, Fact) and fact.tenant == "acme" and fact.tags == ["db"]
        assert await cx.get(fact.id) == fact
        page = await cx.recall("alpha", tags=["db"])
        assert isinstance(page, FactPage) and [f.id for f in page] == [fact.id]
        found = await cx.search("WriterActor", mode="text", graph_depth=1)
        assert isinstance(found, SearchResults) and found.results[0].fact.id == fact.id
        assert {e.name for e in found.results[0].entities or []} >= {"WriterActor"}
        newer = await cx.update(fact.id, content="The WriterActor depends on sqlean.")
        assert newer.supersedes == fact.id
        assert [v.id for v in await cx.history(newer.id)] == [fact.id, newer.id]
        many = await cx.store_many([{"project": "alpha", "content": "one"},
                                    {"project": "alpha", "content": "two"}])
        assert [f.content for f in many] == ["one", "two"]
        agent = await cx.agents.register("reviewer")
        assert (await cx.agents.get(agent.id)).name == "reviewer"
        assert [a.id for a in await cx.agents.list()] == [agent.id]
        voted = await cx.vote(newer.id, agent.id, 1)
        assert voted.consensus_score == pytest.approx(1.1)
        assert [v.agent_id for v in await cx.votes(newer.id)] == [agent.id]
        assert isinstance(await cx.agents.reputation_history(agent.id), list)
        assert (await cx.deprecate(newer.id, "moved")).lifecycle == "deprecated"
        with pytest.raises(FactIsDeprecated):
            await cx.update(newer.id, content="again")
        assert (await cx.redact(many[0].id, "secret")).redacted
        assert (await cx.agents.deactivate(agent.id)).active is False
        assert (await cx.health())["status"] == "ok"


async def test_ledger_keys_and_graph_methods(server: Server) -> None:
    async with CortexClient(server.url, key=server.keys["acme-admin"]) as cx:
        await cx.store("beta", "GammaModule uses DeltaModule.")
        report = await cx.ledger.verify()
        assert isinstance(report, VerifyReport) and report.ok
        checkpoint = await cx.ledger.checkpoint()
        assert isinstance(checkpoint, Checkpoint)
        assert (await cx.ledger.checkpoints(limit=1))[0].tree_size == checkpoint.tree_size
        pinned = await cx.ledger.public_key()
        body = await cx.ledger.prove_included(0, pinned)
        assert body.tree_size == checkpoint.tree_size
        proof = await cx.ledger.inclusion_proof(0, checkpoint.tree_size)
        tampered = msgspec.structs.replace(proof, entry=proof.entry.replace("acme", "evil"),
                                           leaf_hash=proof.leaf_hash)
        with pytest.raises(ProofError):
            verify_inclusion(tampered, checkpoint, pinned)
        later = await cx.store("beta", "stored after the last checkpoint")
        assert (await cx.ledger.prove_included(later.recorded_seq, pinned)).tree_size > (
            later.recorded_seq)
        consistency = await cx.ledger.consistency_proof(1, checkpoint.tree_size)
        assert consistency.new_size == checkpoint.tree_size
        assert (await cx.ledger.entries(limit=2))[0]["seq"] == 0
        created = await cx.keys.create("read", projects=["beta"], name="reader")
        assert created.key.startswith("ctx_")
        assert created.id in {k.id for k in await cx.keys.list()}
        assert (await cx.keys.revoke(created.id)).revoked_at is not None
        near = await cx.graph.neighbors("GammaModule")
        assert isinstance(near, Graph) and {n.name for n in near.nodes} == {"GammaModule",
                                                                            "DeltaModule"}
        assert (await cx.graph.path("GammaModule", "DeltaModule")) is not None
        assert {e.name for e in await cx.graph.entities(project="beta")} == {"GammaModule",
                                                                             "DeltaModule"}
        assert (await cx.graph.entity("deltamodule"))[0].entity.name == "DeltaModule"
        assert (await cx.graph.subgraph(query="GammaModule")).nodes
        with pytest.raises(EntityNotFound):
            await cx.graph.neighbors("NoSuchModule")


async def test_problems_come_back_as_the_engines_exceptions(server: Server) -> None:
    async with CortexClient(server.url, key=server.keys["acme-write"]) as cx:
        with pytest.raises(FactNotFound):
            await cx.get("no-such-fact")
        with pytest.raises(InvalidInput) as bad:
            await cx.store("has space", "x")
        assert bad.value.field == "project" and "project" in str(bad.value)
        with pytest.raises(InvalidInput, match="top_k"):
            await cx.search("x", top_k=1000)
        with pytest.raises(Forbidden):
            await cx.agents.register("nope")
        with pytest.raises(AgentNotFound):
            await cx.agents.get("nobody")
    async with CortexClient(server.url, key="ctx_" + "0" * 64) as stranger:
        with pytest.raises(Unauthenticated):
            await stranger.get("x")


async def test_a_retried_store_is_answered_with_the_first_result(server: Server) -> None:
    async with CortexClient(server.url, key=server.keys["acme-write"]) as cx:
        first = await cx.store("alpha", "exactly once", id="client-chosen-1")
        again = await cx.store("alpha", "exactly once", id="client-chosen-1")
        assert again == first
        page = await cx.recall("alpha", limit=100)
        assert [f.content for f in page].count("exactly once") == 1


class _Busy(httpx.AsyncBaseTransport):
    """Answers 503 + Retry-After the first ``busy`` times, then lets requests through."""

    def __init__(self, busy: int, retry_after: str) -> None:
        self.busy = busy
        self.retry_after = retry_after
        self.seen: list[str] = []
        self.inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request.headers.get("content-type", ""))
        if len(self.seen) <= self.busy:
            return httpx.Response(503, headers={"Retry-After": self.retry_after},
                                  json={"code": "overloaded", "detail": "busy",
                                        "retry_after": float(self.retry_after)})
        return await self.inner.handle_async_request(request)


async def test_503_is_retried_after_retry_after(server: Server) -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    busy = _Busy(busy=2, retry_after="1.5")
    async with CortexClient(server.url, key=server.keys["acme-write"], sleep=sleep,
                            transport=busy) as cx:
        fact = await cx.store("alpha", "after two 503s")
    assert waits == [1.5, 1.5] and len(busy.seen) == 3
    assert fact.content == "after two 503s"
    stubborn = _Busy(busy=10, retry_after="0")
    async with CortexClient(server.url, key=server.keys["acme-write"], sleep=sleep,
                            transport=stubborn, retries=2) as cx:
        with pytest.raises(Overloaded) as overloaded:
            await cx.get(fact.id)
    assert len(stubborn.seen) == 3, "the first try and two retries"
    assert overloaded.value.retry_after == 0.0


def test_the_sync_client_has_the_same_face(server: Server) -> None:
    with CortexClientSync(server.url, key=server.keys["acme-write"]) as cx:
        fact = cx.store("alpha", "from a script")
        assert isinstance(fact, Fact) and cx.get(fact.id) == fact
        assert cx.search("script", mode="text").results[0].fact.id == fact.id
        assert cx.ledger.verify().ok
        with pytest.raises(FactNotFound):
            cx.get("missing")


async def test_a_backup_during_a_write_storm_holds_every_acknowledged_fact(
        server: Server) -> None:
    """Writers keep storing while the server copies itself; the copy opens, verifies,
    and holds every fact acknowledged before the backup was asked for."""
    acknowledged: list[str] = []
    started = anyio.Event()
    backup_asked = anyio.Event()
    before_backup: list[str] = []

    async with CortexClient(server.url, key=server.keys["acme-admin"]) as cx:

        async def writer(n: int) -> None:
            for i in range(10_000):
                fact = await cx.store("storm", f"storm {n}-{i}")
                acknowledged.append(fact.id)
                if len(acknowledged) >= 200:
                    started.set()
                if backup_asked.is_set() and i > 5:
                    return

        async with anyio.create_task_group() as tg:
            for n in range(8):
                tg.start_soon(writer, n)
            await started.wait()
            before_backup.extend(acknowledged)
            backup_asked.set()
            report = await cx.ledger.backup("storm")
        assert report.ok and report.tree_size >= len(before_backup)
        with pytest.raises(InvalidInput, match="exists"):
            await cx.ledger.backup("storm")
    copy = server.db.parent / "backups" / "storm.db"
    conn = sqlean.connect(f"file:{copy}?mode=ro", uri=True)
    try:
        held = {row[0] for row in conn.execute("SELECT id FROM facts WHERE project = 'storm'")}
    finally:
        conn.close()
    assert set(before_backup) <= held
    assert len(acknowledged) > len(before_backup), "writes went on during the copy"
