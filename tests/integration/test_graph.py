"""The entity graph through its real path: stores on a real file, queries on readers,
and the HTTP routes on a real server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlean

from cortex import Cortex
from cortex.errors import EntityNotFound, FactNotFound, InvalidInput
from cortex.model import Graph
from tests.integration.server_kit import Server, running_server

pytestmark = pytest.mark.anyio

# A constructed graph with cycles, one relation per fact so each edge can be retired
# alone: Alpha -> Beta -> Gamma -> Alpha (a triangle), Gamma -> Delta -> Epsilon,
# and Zeta alone with Eta (no way to the rest).
EDGES = [
    ("AlphaModule", "uses", "BetaModule"),
    ("BetaModule", "uses", "GammaModule"),
    ("GammaModule", "depends on", "AlphaModule"),
    ("GammaModule", "uses", "DeltaModule"),
    ("DeltaModule", "uses", "EpsilonModule"),
    ("ZetaModule", "uses", "EtaModule"),
]


async def _build(cx: Cortex, tenant: str | None = None) -> dict[str, str]:
    fact_ids = {}
    for source, verb, target in EDGES:
        fact = await cx.store("graph", f"{source} {verb} {target}.", tenant=tenant)
        fact_ids[f"{source}>{target}"] = fact.id
    return fact_ids


def _names(graph: Graph) -> dict[str, int | None]:
    return {node.name: node.depth for node in graph.nodes}


async def test_neighbours_respect_the_depth_bound_through_cycles(cx: Cortex) -> None:
    await _build(cx)
    one = await cx.graph.neighbors("alphamodule", depth=1)
    assert _names(one) == {"AlphaModule": 0, "BetaModule": 1, "GammaModule": 1}
    two = await cx.graph.neighbors("AlphaModule", depth=2)
    assert _names(two) == {"AlphaModule": 0, "BetaModule": 1, "GammaModule": 1,
                           "DeltaModule": 2}
    three = await cx.graph.neighbors("AlphaModule", depth=3)
    assert _names(three)["EpsilonModule"] == 3 and "ZetaModule" not in _names(three)
    ids = {node.name: node.id for node in three.nodes}
    edges = {(e.source, e.type, e.target) for e in three.edges}
    assert (ids["GammaModule"], "depends_on", ids["AlphaModule"]) in edges
    assert all(edge.weight == 1 and len(edge.fact_ids) == 1 for edge in three.edges)
    only_deps = await cx.graph.neighbors("AlphaModule", depth=3, relation="depends_on")
    assert _names(only_deps) == {"AlphaModule": 0, "GammaModule": 1}
    with pytest.raises(InvalidInput, match="depth"):
        await cx.graph.neighbors("AlphaModule", depth=4)
    with pytest.raises(InvalidInput, match="relation"):
        await cx.graph.neighbors("AlphaModule", relation="loves")
    with pytest.raises(EntityNotFound):
        await cx.graph.neighbors("NoSuchModule")


async def test_shortest_paths_and_their_bounds(cx: Cortex) -> None:
    await _build(cx)
    found = await cx.graph.path("AlphaModule", "EpsilonModule")
    assert found is not None
    assert [n.name for n in found.nodes] == ["AlphaModule", "GammaModule", "DeltaModule",
                                            "EpsilonModule"], "through the cycle's short side"
    assert [e.type for e in found.edges] == ["depends_on", "uses", "uses"]
    for edge, (a, b) in zip(found.edges, zip(found.nodes, found.nodes[1:], strict=False),
                            strict=True):
        assert {edge.source, edge.target} == {a.id, b.id}
    assert await cx.graph.path("AlphaModule", "EpsilonModule", max_depth=2) is None
    assert await cx.graph.path("AlphaModule", "EtaModule", max_depth=6) is None
    same = await cx.graph.path("BetaModule", "BetaModule")
    assert same is not None and [n.name for n in same.nodes] == ["BetaModule"]


async def test_retiring_the_only_fact_behind_a_relation_removes_it(cx: Cortex) -> None:
    fact_ids = await _build(cx)
    backup = await cx.store("graph", "GammaModule uses DeltaModule too.")
    edge = [e for e in (await cx.graph.neighbors("DeltaModule")).edges
            if e.type == "uses" and e.fact_ids.__len__() == 2]
    assert edge and edge[0].weight == 2, "two facts assert it"
    await cx.deprecate(fact_ids["GammaModule>DeltaModule"])
    assert (await cx.graph.path("AlphaModule", "EpsilonModule")) is not None
    await cx.deprecate(backup.id)
    assert await cx.graph.path("AlphaModule", "EpsilonModule") is None
    delta = (await cx.graph.entities(q="deltamodule"))[0]
    assert delta.mentions == 1, "only DeltaModule -> EpsilonModule still mentions it"
    await cx.redact(fact_ids["DeltaModule>EpsilonModule"])
    with pytest.raises(EntityNotFound):
        await cx.graph.neighbors("EpsilonModule")
    assert (await cx.ledger.verify()).ok


async def test_updates_move_or_recompute_the_contribution(cx: Cortex) -> None:
    fact = await cx.store("p", "The ReaderPool reads from SQLite.",
                          entities=["Alice", {"name": "Ledger Team", "type": "concept"}])
    retagged = await cx.update(fact.id, tags=["io"])
    [alice] = await cx.graph.entity("ALICE")
    assert [f.id for f in alice.facts] == [retagged.id], "the new version inherits it"
    rewritten = await cx.update(retagged.id, content="The ReaderPool reads from DuckDB.")
    names = {e.name for e in await cx.graph.entities(project="p")}
    assert names == {"ReaderPool", "DuckDB", "Alice", "Ledger Team"}, "explicit ones kept"
    renamed = await cx.update(rewritten.id, entities=["Bob"])
    names = {e.name for e in await cx.graph.entities(project="p")}
    assert names == {"ReaderPool", "DuckDB", "Bob"}
    [bob] = await cx.graph.entity("bob")
    assert [f.id for f in bob.facts] == [renamed.id]
    first_entry = (await cx.ledger.entries(limit=1))[0]
    payload = json.loads(first_entry[3])
    assert payload["entities"] == [["Alice", "concept"], ["Ledger Team", "concept"]]


async def test_a_tenant_never_sees_another_tenants_graph(cx: Cortex) -> None:
    await _build(cx, tenant="acme")
    await cx.store("graph", "AlphaModule uses SecretModule.", tenant="globex")
    assert {e.name for e in await cx.graph.entities(tenant="globex")} == {"AlphaModule",
                                                                          "SecretModule"}
    acme = await cx.graph.neighbors("AlphaModule", depth=3, tenant="acme")
    assert "SecretModule" not in _names(acme)
    with pytest.raises(EntityNotFound):
        await cx.graph.neighbors("SecretModule", tenant="acme")
    globex_alpha = (await cx.graph.entities(q="alphamodule", tenant="globex"))[0]
    with pytest.raises(EntityNotFound):
        await cx.graph.neighbors(globex_alpha.id, tenant="acme")
    with pytest.raises(EntityNotFound):
        await cx.graph.path("AlphaModule", "SecretModule", tenant="acme")


async def test_subgraph_and_graph_enriched_search(cx: Cortex) -> None:
    fact_ids = await _build(cx)
    around = await cx.graph.subgraph(fact_id=fact_ids["DeltaModule>EpsilonModule"], depth=1)
    assert _names(around) == {"DeltaModule": 0, "EpsilonModule": 0, "GammaModule": 1}
    small = await cx.graph.subgraph(fact_id=fact_ids["DeltaModule>EpsilonModule"], depth=3,
                                    max_nodes=3)
    assert len(small.nodes) == 3 and small.truncated
    by_query = await cx.graph.subgraph(query="ZetaModule", depth=1)
    assert set(_names(by_query)) == {"ZetaModule", "EtaModule"}
    with pytest.raises(InvalidInput, match="fact_id"):
        await cx.graph.subgraph()
    with pytest.raises(FactNotFound):
        await cx.graph.subgraph(fact_id="no-such-fact")
    found = await cx.search("EpsilonModule", mode="text", graph_depth=1)
    [hit] = found.results
    assert hit.entities is not None
    assert {e.name: e.depth for e in hit.entities} == {"DeltaModule": 0, "EpsilonModule": 0,
                                                       "GammaModule": 1}
    plain = await cx.search("EpsilonModule", mode="text")
    assert plain.results[0].entities is None


async def test_entity_listing_filters_and_bounds(cx: Cortex) -> None:
    await cx.store("one", "Deploy api-gateway to Kubernetes with Helm; see deploy/values.yaml")
    await cx.store("two", "Kubernetes runs the billing-service.")
    kinds = {e.name: e.type for e in await cx.graph.entities(project="one")}
    assert kinds == {"api-gateway": "project", "Kubernetes": "tool", "Helm": "tool",
                     "deploy/values.yaml": "file"}
    assert [e.project for e in await cx.graph.entities(q="kube")] == ["one", "two"] or [
        e.project for e in await cx.graph.entities(q="kube")] == ["two", "one"]
    assert [e.name for e in await cx.graph.entities(type="file")] == ["deploy/values.yaml"]
    assert await cx.graph.entities(q="%") == [], "LIKE wildcards are escaped"
    matches = await cx.graph.entity("kubernetes")
    assert sorted(m.entity.project for m in matches) == ["one", "two"]
    assert [m.entity.project for m in await cx.graph.entity("kubernetes", project="two")] == [
        "two"]
    with pytest.raises(InvalidInput, match="type"):
        await cx.graph.entities(type="planet")
    with pytest.raises(InvalidInput, match="entities"):
        await cx.store("one", "x", entities=[{"name": "A", "type": "planet"}])
    with pytest.raises(InvalidInput, match="entities"):
        await cx.store("one", "x", entities=["a"] * 33)


# --- over HTTP ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    state = tmp_path_factory.mktemp("state")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_STATE_HOME", str(state))
        with running_server(tmp_path_factory.mktemp("graph")) as running:
            yield running


def test_graph_routes_over_http(server: Server) -> None:
    with server.client("acme-write") as http:
        for source, verb, target in EDGES:
            response = http.post("/v1/facts", json={"project": "alpha",
                                                    "content": f"{source} {verb} {target}."})
            assert response.status_code == 201, response.text
        named = http.post("/v1/facts", json={"project": "alpha", "content": "on call",
                                             "entities": ["Carol", {"name": "Pager",
                                                                    "type": "tool"}]})
        assert named.status_code == 201, named.text
        listed = http.get("/v1/graph/entities", params={"project": "alpha", "q": "module"})
        assert len(listed.json()["entities"]) == 7
        carol = http.get("/v1/graph/entities/carol").json()["matches"]
        assert [f["id"] for f in carol[0]["facts"]] == [named.json()["id"]]
        near = http.get("/v1/graph/entities/AlphaModule/neighbors", params={"depth": 2}).json()
        assert {n["name"] for n in near["nodes"]} == {"AlphaModule", "BetaModule",
                                                      "GammaModule", "DeltaModule"}
        path = http.get("/v1/graph/path", params={"source": "AlphaModule",
                                                  "target": "EpsilonModule"}).json()["path"]
        assert [n["name"] for n in path["nodes"]][-1] == "EpsilonModule"
        none = http.get("/v1/graph/path", params={"source": "AlphaModule",
                                                  "target": "EtaModule"})
        assert none.status_code == 200 and none.json() == {"path": None}
        hits = http.post("/v1/search", json={"query": "EpsilonModule", "mode": "text",
                                             "graph_depth": 1}).json()["results"]
        assert {e["name"] for e in hits[0]["entities"]} >= {"DeltaModule", "EpsilonModule"}
        sub = http.get("/v1/graph/subgraph", params={"fact_id": named.json()["id"]}).json()
        assert "nodes" in sub, sub
        assert {n["name"] for n in sub["nodes"]} == {"Carol", "Pager"}
        by_text = http.get("/v1/graph/subgraph", params={"query": "ZetaModule"}).json()
        assert {n["name"] for n in by_text["nodes"]} >= {"ZetaModule", "EtaModule"}
        too_deep = http.get("/v1/graph/entities/AlphaModule/neighbors", params={"depth": 9})
        assert too_deep.status_code == 400 and too_deep.json()["field"] == "depth"
        bad_ref = http.post("/v1/facts", json={"project": "alpha", "content": "x",
                                               "entities": [{"name": "A", "type": "planet"}]})
        assert bad_ref.status_code == 400 and "entities[0].type" in bad_ref.json()["field"]
        missing = http.get("/v1/graph/entities/NoSuchThing/neighbors")
        assert missing.status_code == 404 and missing.json()["code"] == "entity_not_found"
    with server.client("globex-admin") as other:
        assert other.get("/v1/graph/entities").json() == {"entities": []}
        hidden = other.get("/v1/graph/entities/AlphaModule/neighbors")
        assert hidden.status_code == 404
    with server.client("acme-alpha") as scoped:
        assert scoped.post("/v1/facts", json={"project": "alpha",
                                              "content": "ThetaModule uses IotaModule"}
                           ).status_code == 201
    with server.client("acme-write") as http:
        assert http.post("/v1/facts", json={"project": "beta",
                                            "content": "ThetaModule uses KappaModule"}
                         ).status_code == 201
    with server.client("acme-alpha") as scoped:
        seen = scoped.get("/v1/graph/entities/ThetaModule").json()["matches"]
        assert [m["entity"]["project"] for m in seen] == ["alpha"], "beta is out of scope"
        assert scoped.get("/v1/graph/entities/KappaModule").status_code == 404
        assert scoped.get("/v1/graph/entities", params={"project": "beta"}).status_code == 403


async def test_a_store_from_before_the_graph_gets_its_graph_at_open(db_path: Path) -> None:
    async with Cortex.open(db_path, log_level="warning") as cx:
        kept = await cx.store("old", "The WriterActor depends on aiosqlite.")
        retired = await cx.store("old", "The ReaderActor uses DuckDB.")
        await cx.deprecate(retired.id)
    conn = sqlean.connect(db_path)
    with conn:  # the file as a Cortex without migration 2 left it
        for table in ("entities", "entity_mentions", "relations", "relation_facts"):
            conn.execute(f"DROP TABLE {table}")
        conn.execute("DELETE FROM schema_migrations WHERE version = 2")
    conn.close()
    async with Cortex.open(db_path, log_level="warning") as cx:
        names = {e.name for e in await cx.graph.entities(project="old")}
        assert names == {"WriterActor", "aiosqlite"}, "live versions only"
        [match] = await cx.graph.entity("aiosqlite")
        assert [f.id for f in match.facts] == [kept.id]
        assert (await cx.ledger.verify()).ok
