"""``cortex mcp``: the memory as Model Context Protocol tools for agents.

Tools: ``store``, ``search``, ``recall``, ``get``, ``history``, ``vote``, ``deprecate``,
``verify``, ``graph_neighbors``; resource ``cortex://projects/{project}/recent``.
Arguments are JSON-schema'd from the signatures below (the SDK refuses ill-typed ones);
a Cortex error (bad bounds, absent fact, overload) comes back as a tool error naming
its code and the problem, never as a crash. The tools run on a ``Memory``: the
in-process engine on a database file, or the HTTP client against a running server.
Logs go to stderr: on stdio, stdout carries the protocol.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal, Protocol, TypeVar

import msgspec
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ToolError
from pydantic import Field

from cortex import __version__
from cortex.errors import CortexError

T = TypeVar("T")
Json = dict[str, Any]
INSTRUCTIONS = (
    "Cortex is a verifiable memory ledger. Store durable facts with `store` (one fact per "
    "call, with a project), find them with `search` (by meaning and words) or `recall` "
    "(newest/best of a project), vote on them with `vote`, retire wrong ones with "
    "`deprecate`; every change is in a tamper-evident ledger that `verify` checks."
)


class Memory(Protocol):
    """What the tools need: ``cortex.Cortex`` in process, or ``cortex.client.CortexClient``."""

    async def store(self, project: str, content: str, **options: Any) -> Any: ...
    async def search(self, query: str, **options: Any) -> Any: ...
    async def recall(self, project: str | None = None, **options: Any) -> Any: ...
    async def get(self, id: str) -> Any: ...
    async def history(self, id: str) -> Any: ...
    async def vote(self, fact_id: str, agent_id: str, value: int) -> Any: ...
    async def deprecate(self, id: str, reason: str | None = None) -> Any: ...

    @property
    def ledger(self) -> Any: ...
    @property
    def graph(self) -> Any: ...


def plain(value: Any) -> Json:
    """A Cortex result (msgspec struct) as JSON-ready builtins."""
    built = msgspec.to_builtins(value)
    return built if isinstance(built, dict) else {"result": built}


async def answer(work: Awaitable[T]) -> T:
    """Await a Cortex call; its errors become tool errors the model can read and act on."""
    try:
        return await work
    except CortexError as error:
        raise ToolError(f"{error.code}: {error.detail}") from None


Project = Annotated[str, Field(description="project name: letters, digits, . _ -")]
FactId = Annotated[str, Field(description="a fact id, as returned by store or search")]


def build_server(memory: Memory) -> MCPServer[Any]:
    """The MCP server whose tools call ``memory``."""
    server: MCPServer[Any] = MCPServer("cortex", version=__version__,
                                       instructions=INSTRUCTIONS)
    tool = server.tool

    @tool(description="Store one fact in a project; returns it with its id and ledger seq.")
    async def store(
        project: Project, content: Annotated[str, Field(description="the fact, as text")],
        kind: str = "knowledge", tags: list[str] | None = None, source: str | None = None,
        entities: Annotated[list[str] | None, Field(
            description="entities it is about, beyond those found in the text")] = None,
    ) -> Json:
        return plain(await answer(memory.store(project, content, kind=kind, tags=tags or (),
                                               source=source, entities=entities)))

    @tool(description="Search facts by meaning and words; best first.")
    async def search(
        query: str, project: str | None = None, top_k: int = 10,
        mode: Literal["hybrid", "semantic", "text"] = "hybrid",
        graph_depth: Annotated[int | None, Field(
            description="attach each hit's entities and their neighbours (0-3)")] = None,
    ) -> Json:
        return plain(await answer(memory.search(query, project=project, top_k=top_k,
                                                mode=mode, graph_depth=graph_depth)))

    @tool(description="The current facts of a project, best-scored and newest first.")
    async def recall(project: Project, limit: int = 20, kind: str | None = None,
                     tags: list[str] | None = None) -> Json:
        page = await answer(memory.recall(project, kind=kind, tags=tags or (), limit=limit))
        return {"facts": msgspec.to_builtins(list(page)),
                "next_cursor": getattr(page, "next_cursor", None)}

    @tool(description="One fact by id (any version).")
    async def get(fact_id: FactId) -> Json:
        return plain(await answer(memory.get(fact_id)))

    @tool(description="Every version of a fact, oldest first.")
    async def history(fact_id: FactId) -> Json:
        return {"versions": msgspec.to_builtins(await answer(memory.history(fact_id)))}

    @tool(description="An agent's vote on a fact: +1 agree, -1 disagree, 0 withdraw.")
    async def vote(fact_id: FactId, agent_id: str, value: Literal[-1, 0, 1]) -> Json:
        return plain(await answer(memory.vote(fact_id, agent_id, value)))

    @tool(description="Retire a wrong or outdated fact (kept in history and the ledger).")
    async def deprecate(fact_id: FactId, reason: str | None = None) -> Json:
        return plain(await answer(memory.deprecate(fact_id, reason)))

    @tool(description="Verify the whole ledger: hash chain, Merkle tree, signed checkpoints.")
    async def verify() -> Json:
        return plain(await answer(memory.ledger.verify()))

    @tool(description="Entities related to an entity (a file, type, tool, project...).")
    async def graph_neighbors(
        entity: Annotated[str, Field(description="entity name or id")],
        depth: Annotated[int, Field(ge=1, le=3)] = 1, relation: str | None = None,
        project: str | None = None,
    ) -> Json:
        return plain(await answer(memory.graph.neighbors(entity, depth=depth,
                                                         relation=relation, project=project)))

    @server.resource("cortex://projects/{project}/recent", mime_type="application/json",
                     description="The 20 newest current facts of a project")
    async def recent(project: str) -> str:
        try:
            page = await memory.recall(project, limit=20)
        except CortexError as error:
            raise ResourceError(f"{error.code}: {error.detail}") from None
        return msgspec.json.encode(list(page)).decode()

    return server


async def serve(
    open_memory: Callable[[], Any], transport: Literal["stdio", "http"], host: str, port: int
) -> None:
    """Open the memory (an async context manager factory) and serve until stopped."""
    async with open_memory() as memory:
        server = build_server(memory)
        if transport == "stdio":
            await server.run_stdio_async()
        else:
            await server.run_streamable_http_async(host=host, port=port)
