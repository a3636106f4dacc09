"""Every route through a real server on 127.0.0.1 with httpx: bodies, statuses, problems."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.server_kit import Server, running_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    state = tmp_path_factory.mktemp("state")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_STATE_HOME", str(state))
        with running_server(tmp_path_factory.mktemp("http"), index_vectors="1") as running:
            yield running


def problem(response: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, object] = response.json()
    assert body["code"] == code and body["status"] == status and body["detail"]
    return body


def test_a_fact_lives_its_whole_life_over_http(server: Server) -> None:
    with server.client("acme-write") as http:
        stored = http.post("/v1/facts", json={"project": "alpha", "content": "use WAL",
                                              "tags": ["db"], "meta": {"by": "ops"}})
        assert stored.status_code == 201
        fact = stored.json()
        assert stored.headers["location"] == f"/v1/facts/{fact['id']}"
        assert (fact["tenant"], fact["status"], fact["lifecycle"]) == ("acme", "stated", "active")
        assert fact["author_key"] is not None, "provenance is set by the server"
        assert http.get(f"/v1/facts/{fact['id']}").json() == fact
        recalled = http.get("/v1/facts", params={"project": "alpha", "tags": "db"}).json()
        assert [f["id"] for f in recalled["facts"]] == [fact["id"]]
        newer = http.patch(f"/v1/facts/{fact['id']}", json={"content": "use WAL mode"}).json()
        assert newer["supersedes"] == fact["id"]
        history = http.get(f"/v1/facts/{newer['id']}/history").json()["facts"]
        assert [v["content"] for v in history] == ["use WAL", "use WAL mode"]
        retired = http.delete(f"/v1/facts/{newer['id']}", params={"reason": "moved"}).json()
        assert retired["lifecycle"] == "deprecated"
        problem(http.patch(f"/v1/facts/{newer['id']}", json={"content": "x"}), 409,
                "fact_deprecated")
        batch = http.post("/v1/facts:batch", json={"facts": [
            {"project": "alpha", "content": "one"}, {"project": "alpha", "content": "two"}]})
        assert batch.status_code == 201 and len(batch.json()["facts"]) == 2


def test_idempotency_key_returns_the_first_result(server: Server) -> None:
    with server.client("acme-write") as http:
        body = {"project": "alpha", "content": "exactly once"}
        first = http.post("/v1/facts", json=body, headers={"Idempotency-Key": "abc-123"})
        again = http.post("/v1/facts", json=body, headers={"Idempotency-Key": "abc-123"})
        assert first.json()["id"] == again.json()["id"]
        listed = http.get("/v1/facts", params={"project": "alpha", "limit": 1000}).json()
        assert [f["content"] for f in listed["facts"]].count("exactly once") == 1
        problem(http.post("/v1/facts", json={**body, "content": "changed"},
                          headers={"Idempotency-Key": "abc-123"}), 409, "fact_conflict")


def test_votes_agents_and_redaction_over_http(server: Server) -> None:
    with server.client("acme-admin") as admin:
        agent = admin.post("/v1/agents", json={"name": "reviewer"})
        assert agent.status_code == 201
        agent_id = agent.json()["id"]
        fact = admin.post("/v1/facts", json={"project": "beta", "content": "claim"}).json()
        result = admin.post(f"/v1/facts/{fact['id']}/votes",
                            json={"agent_id": agent_id, "value": 1}).json()
        assert (result["consensus_score"], result["votes"]) == (1.1, 1)
        votes = admin.get(f"/v1/facts/{fact['id']}/votes").json()["votes"]
        assert [v["agent_id"] for v in votes] == [agent_id]
        assert admin.get(f"/v1/agents/{agent_id}").json()["name"] == "reviewer"
        assert agent_id in [a["id"] for a in admin.get("/v1/agents").json()["agents"]]
        problem(admin.post(f"/v1/facts/{fact['id']}/votes", json={"value": 1}), 400,
                "invalid_input")
        problem(admin.post(f"/v1/facts/{fact['id']}/votes",
                           json={"agent_id": agent_id, "value": 2}), 400, "invalid_input")
        redacted = admin.post(f"/v1/facts/{fact['id']}/redact", json={"reason": "pii"}).json()
        assert redacted["content"] is None and redacted["lifecycle"] == "redacted"
        assert admin.post(f"/v1/agents/{agent_id}/deactivate").json()["active"] is False


def test_ledger_routes_prove_and_verify(server: Server) -> None:
    with server.client("acme-write") as http:
        fact = http.post("/v1/facts", json={"project": "alpha", "content": "ledgered"}).json()
        checkpoint = http.post("/v1/ledger/checkpoints")
        assert checkpoint.status_code == 201
        size = checkpoint.json()["tree_size"]
        proof = http.get("/v1/ledger/proofs/inclusion",
                         params={"leaf_index": fact["recorded_seq"], "tree_size": size}).json()
        assert proof["root_hash"] == checkpoint.json()["root_hash"]
        assert http.get("/v1/ledger/proofs/consistency",
                        params={"old_size": 1, "new_size": size}).status_code == 200
        assert http.get("/v1/ledger/verify").json()["ok"] is True
        entries = http.get("/v1/ledger/entries").json()["entries"]
        assert entries and {e["tenant"] for e in entries} == {"acme"}
        assert http.get("/v1/ledger/public-key").json()["verifier_key"].count("+") >= 2


def test_auth_errors_are_401_and_403(server: Server) -> None:
    body = {"project": "alpha", "content": "x"}
    with server.client() as anonymous:
        problem(anonymous.post("/v1/facts", json=body), 401, "unauthenticated")
    with server.client("ctx_" + "0" * 64) as unknown:
        problem(unknown.get("/v1/facts"), 401, "unauthenticated")
    with server.client("not-a-key") as malformed:
        problem(malformed.get("/v1/facts"), 401, "unauthenticated")
    with server.client("acme-read") as reader:
        assert reader.get("/v1/facts").status_code == 200
        problem(reader.post("/v1/facts", json=body), 403, "forbidden")
        problem(reader.post("/v1/keys", json={"role": "read"}), 403, "forbidden")
    with server.client("acme-alpha") as scoped:
        assert scoped.post("/v1/facts", json=body).status_code == 201
        problem(scoped.post("/v1/facts", json={**body, "project": "beta"}), 403, "forbidden")


def test_bad_input_is_400_naming_the_field_and_never_500(server: Server) -> None:
    with server.client("acme-write") as http:
        cases = [
            {"project": "alpha"},
            {"project": "alpha", "content": ""},
            {"project": "alpha", "content": "x", "unknown": 1},
            {"project": "alpha", "content": 5},
            {"project": "bad name", "content": "x"},
            {"project": "alpha", "content": "nul\u0000"},
            {"project": "alpha", "content": "x", "tags": ["t"] * 40},
        ]
        for body in cases:
            problem(http.post("/v1/facts", json=body), 400, "invalid_input")
        problem(http.post("/v1/facts", content=b"{not json", headers={
            "content-type": "application/json"}), 400, "invalid_input")
        problem(http.get("/v1/facts", params={"limit": 0}), 400, "invalid_input")
        problem(http.get("/v1/facts", params={"cursor": "garbage"}), 400, "invalid_input")
        problem(http.get("/v1/facts/no-such-fact"), 404, "fact_not_found")
        detail = problem(http.post("/v1/facts", json={"project": "alpha",
                                                      "content": "x" * 70_000}),
                         400, "invalid_input")["detail"]
        assert "65536" in str(detail)


def test_a_body_over_the_limit_is_413(server: Server) -> None:
    with server.client("acme-write") as http:
        huge = b'{"project": "alpha", "content": "' + b"x" * (5 * 1024 * 1024) + b'"}'
        problem(http.post("/v1/facts", content=huge,
                          headers={"content-type": "application/json"}), 413, "body_too_large")


def test_tenants_never_see_each_other(server: Server) -> None:
    with server.client("acme-admin") as acme, server.client("globex-admin") as globex:
        fact = acme.post("/v1/facts", json={"project": "shared", "content": "acme secret"}).json()
        agent = acme.post("/v1/agents", json={"name": "acme-bot"}).json()
        for path in (f"/v1/facts/{fact['id']}", f"/v1/facts/{fact['id']}/history",
                     f"/v1/facts/{fact['id']}/votes", f"/v1/agents/{agent['id']}"):
            assert globex.get(path).status_code == 404, path
        assert globex.patch(f"/v1/facts/{fact['id']}", json={"content": "x"}).status_code == 404
        assert globex.delete(f"/v1/facts/{fact['id']}").status_code == 404
        assert globex.post(f"/v1/facts/{fact['id']}/votes",
                           json={"agent_id": agent["id"], "value": 1}).status_code == 404
        assert globex.get("/v1/facts", params={"project": "shared"}).json()["facts"] == []
        assert agent["id"] not in [a["id"] for a in globex.get("/v1/agents").json()["agents"]]
        entries = globex.get("/v1/ledger/entries", params={"limit": 1000}).json()["entries"]
        assert all(e["tenant"] == "globex" for e in entries)
        problem(globex.get("/v1/ledger/proofs/inclusion",
                           params={"leaf_index": fact["recorded_seq"]}), 404, "entry_not_found")
        acme_keys = [k["id"] for k in acme.get("/v1/keys").json()["keys"]]
        assert not set(acme_keys) & {k["id"] for k in globex.get("/v1/keys").json()["keys"]}
        assert globex.delete(f"/v1/keys/{acme_keys[0]}").status_code == 404


def test_a_revoked_key_is_refused_on_its_next_request(server: Server) -> None:
    with server.client("acme-admin") as admin:
        created = admin.post("/v1/keys", json={"role": "read", "name": "temp"})
        assert created.status_code == 201
        key = created.json()
        assert key["key"].startswith("ctx_") and len(key["key"]) == 68
        with server.client(key["key"]) as temp:
            assert temp.get("/v1/facts").status_code == 200
            assert admin.delete(f"/v1/keys/{key['id']}").status_code == 200
            problem(temp.get("/v1/facts"), 401, "unauthenticated")
        listed = admin.get("/v1/keys", params={"include_revoked": True}).json()["keys"]
        assert any(k["id"] == key["id"] and k["revoked_at"] for k in listed)
        assert all("key" not in k and "secret_hash" not in k for k in listed)


def test_request_ids_are_echoed_and_health_and_metrics_answer(server: Server) -> None:
    with server.client("acme-read") as http:
        response = http.get("/v1/facts", headers={"X-Request-ID": "trace-42"})
        assert response.headers["x-request-id"] == "trace-42"
        assert len(http.get("/v1/facts").headers["x-request-id"]) == 32
    health = httpx.get(f"{server.url}/health").json()
    assert health["status"] == "ok" and health["ledger"]["size"] > 0
    metrics = httpx.get(f"{server.url}/metrics").text
    assert 'cortex_http_requests_total{method="GET",route="/v1/facts"' in metrics
    assert "cortex_ledger_size" in metrics
    schema = httpx.get(f"{server.url}/schema/openapi.json").json()
    assert "/v1/facts" in schema["paths"] and "/v1/facts:batch" in schema["paths"]


def test_rate_limits_answer_429_with_retry_after(tmp_path: Path) -> None:
    with (running_server(tmp_path, rate_limit_per_s="1", rate_limit_burst="3") as server,
          server.client("acme-read") as http):
        statuses = [http.get("/v1/facts").status_code for _ in range(6)]
        assert statuses[:3] == [200, 200, 200] and 429 in statuses[3:]
        limited = http.get("/v1/facts")
        problem(limited, 429, "rate_limited")
        assert int(limited.headers["retry-after"]) >= 1


def test_overload_answers_503_quickly_and_loses_nothing_acknowledged(tmp_path: Path) -> None:
    import concurrent.futures

    with running_server(tmp_path, writer_mailbox="2", max_batch="1", enqueue_timeout="0.05",
                        commit_delay_ms="100") as server:

        def store(n: int) -> tuple[int, str | None, str | None]:
            with server.client("acme-write") as http:
                response = http.post("/v1/facts", json={"project": "load",
                                                        "content": f"burst {n}"})
                return (response.status_code, response.json().get("id"),
                        response.headers.get("retry-after"))

        with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
            results = list(pool.map(store, range(32)))
        statuses = {status for status, _, _ in results}
        assert statuses <= {201, 503} and 503 in statuses and 201 in statuses
        assert all(retry for status, _, retry in results if status == 503)
        acknowledged = {fact_id for status, fact_id, _ in results if status == 201}
        with server.client("acme-read") as http:
            stored = http.get("/v1/facts", params={"project": "load", "limit": 100}).json()
        assert acknowledged <= {f["id"] for f in stored["facts"]}


def test_schemathesis_finds_no_server_error_and_no_schema_drift(server: Server) -> None:
    """Fuzz every route from the OpenAPI document with a valid admin key: no 5xx, every
    error is problem+json as documented, every response matches its schema."""
    import shutil
    import subprocess
    import sys

    executable = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    assert executable, "schemathesis is part of the test extras"
    result = subprocess.run(
        [executable, "run", f"{server.url}/schema/openapi.json",
         "-H", f"Authorization: Bearer {server.keys['acme-admin']}",
         "--checks", "not_a_server_error,content_type_conformance,"
                     "response_schema_conformance,status_code_conformance",
         "--phases", "coverage,fuzzing", "--max-examples", "25", "-w", "1",
         "--seed", "20261124"],
        capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "passed" in result.stdout


def test_search_over_http(server: Server) -> None:
    with server.client("acme-write") as http:
        http.post("/v1/facts", json={"project": "alpha", "content": "the disk filled up at 3am"})
        found = http.post("/v1/search", json={"query": "disk filled", "mode": "text"}).json()
        assert [h["fact"]["content"] for h in found["results"]] == ["the disk filled up at 3am"]
        assert found["mode"] == "text" and found["results"][0]["text_rank"] == 1
        problem(http.post("/v1/search", json={"query": "((("}), 400, "invalid_input")
    with server.client("globex-admin") as globex:
        assert globex.post("/v1/search", json={"query": "disk"}).json()["results"] == []


def test_store_can_wait_until_the_fact_is_searchable_by_meaning(server: Server) -> None:
    with server.client("acme-write") as http:
        stored = http.post("/v1/facts", params={"wait": "indexed"},
                           json={"project": "semantic", "content": "the cluster ran out of RAM"})
        assert stored.status_code == 201
        found = http.post("/v1/search", json={"query": "memory exhaustion", "mode": "semantic",
                                              "project": "semantic"}).json()
        assert found["results"][0]["fact"]["id"] == stored.json()["id"]
        assert found["pending"] == 0 and found["results"][0]["vector_rank"] == 1
        problem(http.post("/v1/facts", params={"wait": "forever"},
                          json={"project": "semantic", "content": "x"}), 400, "invalid_input")
