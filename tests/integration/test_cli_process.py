"""The real ``cortex`` executable in a subprocess: on a database file, and against a
running server with ``--url``/``--key`` (or ``CORTEX_URL``/``CORTEX_API_KEY``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.server_kit import Server, running_server

CORTEX = str(Path(sys.executable).with_name("cortex"))


def cortex(*args: str, code: int = 0, env: dict[str, str] | None = None) -> str:
    """Run ``cortex ARGS``; check the exit code; return stdout (stderr on failure)."""
    done = subprocess.run([CORTEX, *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})}, check=False)
    assert done.returncode == code, (done.returncode, done.stdout, done.stderr)
    return done.stdout if code == 0 else done.stderr


def as_json(*args: str, env: dict[str, str] | None = None) -> Any:
    return json.loads(cortex(*args, "--json", env=env))


def test_a_file_lives_its_life_through_the_executable(tmp_path: Path) -> None:
    db = str(tmp_path / "one" / "cortex.db")
    fact = as_json("store", "--project", "ops", "--tag", "db", "--db", db,
                   "The WriterActor depends on aiosqlite")
    found = as_json("search", "--mode", "text", "--db", db, "WriterActor")
    assert [hit["fact"]["id"] for hit in found["results"]] == [fact["id"]]
    newer = as_json("update", fact["id"], "--content", "The WriterActor uses sqlean",
                    "--db", db)
    history = as_json("history", newer["id"], "--db", db)
    assert [v["content"] for v in history] == ["The WriterActor depends on aiosqlite",
                                               "The WriterActor uses sqlean"]
    agent = as_json("agents", "register", "reviewer", "--db", db)
    voted = as_json("vote", newer["id"], "--agent", agent["id"], "--value", "1", "--db", db)
    assert voted["consensus_score"] == pytest.approx(1.1)
    assert as_json("verify", "--db", db)["ok"] is True
    export = tmp_path / "facts.jsonl"
    cortex("export", "--output", str(export), "--db", db)
    fresh = str(tmp_path / "two" / "cortex.db")
    cortex("import", str(export), "--db", fresh)
    cortex("import", str(export), "--db", fresh)  # again: idempotent
    copied = as_json("recall", "--project", "ops", "--db", fresh)
    assert [(f["id"], f["content"]) for f in copied["facts"]] == [(newer["id"], newer["content"])]
    assert as_json("verify", "--db", fresh)["ok"] is True


def test_export_windows_by_time_and_carries_redactions_to_a_copy(tmp_path: Path) -> None:
    source, copy = str(tmp_path / "a" / "cortex.db"), str(tmp_path / "b" / "cortex.db")
    first = as_json("store", "--project", "ops", "--db", source, "alpha runs the backups")
    second = as_json("store", "--project", "ops", "--db", source, "beta owns the pager")
    everything = tmp_path / "all.jsonl"
    cortex("export", "--output", str(everything), "--db", source)
    cortex("import", str(everything), "--db", copy)
    cortex("redact", first["id"], "--reason", "erase", "--db", source)
    third = as_json("store", "--project", "ops", "--db", source, "gamma rotates the keys")
    later = tmp_path / "later.jsonl"
    cortex("export", "--output", str(later), "--since", third["recorded_at"], "--db", source)
    assert [json.loads(line)["id"] for line in later.read_text().splitlines()] == [third["id"]]
    earlier = tmp_path / "earlier.jsonl"
    cortex("export", "--output", str(earlier), "--until", third["recorded_at"], "--db", source)
    assert [json.loads(line)["id"] for line in earlier.read_text().splitlines()] == [
        second["id"]], "the redacted fact is not live, the third is not before --until"
    marked = tmp_path / "marked.jsonl"
    assert "1 redaction markers" in cortex("export", "--output", str(marked), "--redactions",
                                           "--db", source)
    marker = json.loads(marked.read_text().splitlines()[-1])
    assert marker == {"id": first["id"], "project": "ops", "redacted": True,
                      "content_hash": first["content_hash"], "recorded_at": marker["recorded_at"]}
    assert "applied 1 redactions" in cortex("import", str(marked), "--db", copy)
    assert "applied" not in cortex("import", str(marked), "--db", copy), "idempotent"
    erased = as_json("get", first["id"], "--db", copy)
    assert erased["lifecycle"] == "redacted" and erased["content"] is None
    assert erased["content_hash"] == first["content_hash"]
    assert as_json("get", third["id"], "--db", copy)["content"] == "gamma rotates the keys"
    assert as_json("verify", "--db", copy)["ok"] is True
    assert "since" in cortex("export", "--output", str(later), "--since", "yesterday",
                             "--db", source, code=2)


@pytest.mark.parametrize(("args", "named"), [
    (["store", "--project", "has space", "x"], "project"),
    (["search", "--top-k", "1000", "x"], "top_k"),
    (["graph", "neighbors", "x", "--depth", "9"], "depth"),
    (["store", "--project", "ops", "--meta", "{bad", "x"], "meta"),
])
def test_bad_input_exits_2_naming_the_problem(tmp_path: Path, args: list[str],
                                              named: str) -> None:
    message = cortex(*args, "--db", str(tmp_path / "cortex.db"), code=2)
    assert named in message


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    state = tmp_path_factory.mktemp("state")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_STATE_HOME", str(state))
        with running_server(tmp_path_factory.mktemp("remote")) as running:
            yield running


def test_the_executable_talks_to_a_server(server: Server) -> None:
    remote = ["--url", server.url, "--key", server.keys["acme-admin"]]
    fact = as_json("store", "--project", "ops", *remote, "Backups run at 02:00 on Redis")
    assert fact["tenant"] == "acme", "the tenant comes from the key"
    env = {"CORTEX_URL": server.url, "CORTEX_API_KEY": server.keys["acme-admin"]}
    assert as_json("get", fact["id"], env=env)["content"] == "Backups run at 02:00 on Redis"
    found = as_json("search", "--mode", "text", "Backups", env=env)
    assert [hit["fact"]["id"] for hit in found["results"]] == [fact["id"]]
    assert [f["id"] for f in as_json("recall", "--project", "ops", env=env)["facts"]] == [
        fact["id"]]
    assert len(as_json("history", fact["id"], env=env)) == 1
    agent = as_json("agents", "register", "remote-reviewer", env=env)
    assert as_json("vote", fact["id"], "--agent", agent["id"], "--value", "1",
                   env=env)["consensus_score"] == pytest.approx(1.1)
    assert as_json("verify", env=env)["ok"] is True
    assert as_json("checkpoint", env=env)["tree_size"] >= 3
    assert "Redis" in cortex("graph", "entities", env=env)
    assert "tenant" in cortex("get", fact["id"], "--tenant", "globex", *remote, code=2)
    assert "not found" in cortex("get", "missing", *remote, code=1)
    assert "API key" in cortex("get", fact["id"], "--url", server.url, "--key",
                               "ctx_" + "0" * 64, code=1)


def test_a_served_file_points_the_cli_to_url(server: Server) -> None:
    message = cortex("get", "anything", "--db", str(server.db), code=1)
    assert "--url" in message and "in use" in message


@pytest.mark.anyio
async def test_mcp_serves_a_running_server(server: Server) -> None:
    from mcp import Client, StdioServerParameters

    params = StdioServerParameters(command=CORTEX, args=[
        "mcp", "--url", server.url, "--key", server.keys["acme-write"]], env=dict(os.environ))
    async with Client(params) as client:
        stored = await client.call_tool("store", {"project": "mcp", "content": "via HTTP"})
        assert not stored.is_error, stored.content
        fact = stored.structured_content or json.loads(stored.content[0].text)
        assert fact["tenant"] == "acme"
        found = await client.call_tool("search", {"query": "via HTTP", "mode": "text"})
        hits = (found.structured_content or json.loads(found.content[0].text))["results"]
        assert hits[0]["fact"]["id"] == fact["id"]
        missing = await client.call_tool("get", {"fact_id": "nope"})
        assert missing.is_error and "fact_not_found" in missing.content[0].text
