"""``cortex mcp``: serve the memory to agents over MCP (stdio by default)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any, Literal

import anyio
import typer

from cortex.cli._common import DbOption, app
from cortex.config import DEFAULT_DB_PATH
from cortex.errors import CortexError


@app.command()
def mcp(
    db: DbOption = DEFAULT_DB_PATH,
    transport: Annotated[str, typer.Option(
        help="stdio (for a local agent) or http (streamable HTTP at /mcp)")] = "stdio",
    host: Annotated[str, typer.Option(help="http transport: address")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="http transport: port")] = 8765,
    url: Annotated[str | None, typer.Option(
        envvar="CORTEX_URL", help="use a running Cortex server instead of --db")] = None,
    key: Annotated[str | None, typer.Option(
        envvar="CORTEX_API_KEY", help="API key for --url")] = None,
) -> None:
    """Serve the tools store, search, recall, get, history, vote, deprecate, verify and
    graph_neighbors over MCP, in process on --db or against a server at --url."""
    from cortex import mcp as cortex_mcp

    if transport not in ("stdio", "http"):
        typer.secho("error: --transport must be 'stdio' or 'http'", fg=typer.colors.RED,
                    err=True)
        raise typer.Exit(2)
    chosen: Literal["stdio", "http"] = "stdio" if transport == "stdio" else "http"
    try:
        anyio.run(cortex_mcp.serve, _memory_opener(db, url, key), chosen, host, port)
    except CortexError as error:
        typer.secho(f"error: {error.detail}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None


def _memory_opener(db: Path, url: str | None, key: str | None) -> Any:
    @asynccontextmanager
    async def open_memory() -> AsyncIterator[Any]:
        if url is not None:
            from cortex.client import CortexClient

            async with CortexClient(url, key=key) as client:
                yield client
        else:
            from cortex.engine.facade import Cortex

            async with Cortex.open(db, log_level="warning") as cortex:
                yield cortex

    return open_memory
