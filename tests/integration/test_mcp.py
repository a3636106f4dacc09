"""``cortex mcp`` driven by the ``mcp`` package's own client over stdio, on a real file."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from mcp import Client, StdioServerParameters

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(120)]


def _server(db: Path) -> StdioServerParameters:
    env = {key: value for key, value in os.environ.items()
           if key.startswith(("CORTEX_", "XDG_", "PATH", "HOME", "PYTHON"))}
    return StdioServerParameters(command=sys.executable,
                                 args=["-m", "cortex", "mcp", "--db", str(db)], env=env)


def _json(result: Any) -> Any:
    assert not result.is_error, result.content
    if result.structured_content is not None:
        return result.structured_content
    return json.loads(result.content[0].text)


async def test_an_agent_stores_searches_and_audits_over_stdio(tmp_path: Path) -> None:
    async with Client(_server(tmp_path / "data" / "cortex.db")) as client:
        tools = {tool.name for tool in (await client.list_tools()).tools}
        assert tools >= {"store", "search", "recall", "get", "history", "vote", "deprecate",
                         "verify", "graph_neighbors"}
        stored = _json(await client.call_tool("store", {
            "project": "ops", "content": "The WriterActor depends on aiosqlite.",
            "tags": ["db"]}))
        fact_id = stored["id"]
        assert stored["project"] == "ops" and stored["content"].startswith("The WriterActor")
        found = _json(await client.call_tool("search", {"query": "WriterActor",
                                                        "mode": "text"}))
        assert [hit["fact"]["id"] for hit in found["results"]] == [fact_id]
        assert _json(await client.call_tool("get", {"fact_id": fact_id}))["id"] == fact_id
        recalled = _json(await client.call_tool("recall", {"project": "ops"}))
        assert [fact["id"] for fact in recalled["facts"]] == [fact_id]
        versions = _json(await client.call_tool("history", {"fact_id": fact_id}))["versions"]
        assert [version["id"] for version in versions] == [fact_id]
        near = _json(await client.call_tool("graph_neighbors", {"entity": "aiosqlite"}))
        assert {node["name"] for node in near["nodes"]} == {"aiosqlite", "WriterActor"}
        retired = _json(await client.call_tool("deprecate", {"fact_id": fact_id,
                                                             "reason": "moved"}))
        assert retired["lifecycle"] == "deprecated"
        report = _json(await client.call_tool("verify", {}))
        assert report["ok"] is True and report["tree_size"] == 2
        recent = await client.read_resource("cortex://projects/ops/recent")
        assert json.loads(recent.contents[0].text) == [], "a deprecated fact is not current"


async def test_bad_arguments_are_tool_errors_not_crashes(tmp_path: Path) -> None:
    async with Client(_server(tmp_path / "data" / "cortex.db")) as client:
        wrong_type = await client.call_tool("store", {"project": "ops", "content": 42})
        assert wrong_type.is_error
        bad_project = await client.call_tool("store", {"project": "no spaces allowed",
                                                       "content": "x"})
        assert bad_project.is_error and "project" in bad_project.content[0].text
        absent = await client.call_tool("get", {"fact_id": "no-such-fact"})
        assert absent.is_error and "fact_not_found" in absent.content[0].text
        bad_vote = await client.call_tool("vote", {"fact_id": "x", "agent_id": "a",
                                                   "value": 5})
        assert bad_vote.is_error
        still_serving = _json(await client.call_tool("store", {"project": "ops",
                                                               "content": "still here"}))
        assert still_serving["content"] == "still here"
