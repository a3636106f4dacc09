"""What every command shares: the app, ``--db``, ``--json``, errors, in-process runs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, NoReturn

import anyio
import httpx
import msgspec
import typer
from rich.console import Console
from rich.table import Table

from cortex.errors import CortexError, InvalidInput

app = typer.Typer(help="Cortex: a verifiable memory ledger for AI agents.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
console = Console()

DbOption = Annotated[
    Path, typer.Option("--db", envvar="CORTEX_DB", help="SQLite database file.")
]
JsonOption = Annotated[bool, typer.Option("--json", help="print JSON instead of a table")]
TenantOption = Annotated[str | None, typer.Option(help="tenant (default: the setting)")]
UrlOption = Annotated[str | None, typer.Option(
    "--url", envvar="CORTEX_URL", help="a running Cortex server: work over HTTP, not on --db")]
KeyOption = Annotated[str | None, typer.Option(
    "--key", envvar="CORTEX_API_KEY", help="the API key for --url")]


def _fail(error: CortexError) -> NoReturn:
    """Print the error; exit 2 for bad input (a usage error), 1 for anything else."""
    typer.secho(f"error: {error.detail}", fg=typer.colors.RED, err=True)
    raise typer.Exit(2 if isinstance(error, InvalidInput) else 1)


def _in_process(db: Path, work: Any, log_level: str = "warning", **settings: Any) -> Any:
    """Run ``await work(cx)`` on the database, turning Cortex errors into exit code 1."""
    from cortex.engine.facade import Cortex

    async def run() -> Any:
        async with Cortex.open(db, log_level=log_level, **settings) as cx:
            return await work(cx)

    try:
        return anyio.run(run)
    except CortexError as error:
        _fail(error)


def _run(db: Path, url: str | None, key: str | None, work: Any) -> Any:
    """Run ``await work(cx)`` on the database file, or on a server when ``url`` is given
    (``cx`` is then the HTTP client, with the same method names)."""
    if url is None:
        return _in_process(db, work)
    from cortex.client import CortexClient

    async def run() -> Any:
        async with CortexClient(url, key=key) as client:
            return await work(_Remote(client))

    try:
        return anyio.run(run)
    except CortexError as error:
        _fail(error)
    except httpx.TransportError as error:
        typer.secho(f"error: cannot reach {url}: {error}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None


class _Remote:
    """The HTTP client seen through the engine's signatures: over HTTP the tenant comes
    from the API key, so a ``tenant`` argument is refused rather than ignored."""

    def __init__(self, target: Any) -> None:
        self._target = target

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._target, name)
        if not callable(value):
            return _Remote(value)

        def call(*args: Any, tenant: str | None = None, **kwargs: Any) -> Any:
            if tenant is not None:
                raise InvalidInput("tenant", "comes from the API key when using --url")
            return value(*args, **kwargs)

        return call


def emit_json(value: Any) -> None:
    typer.echo(msgspec.json.encode(value).decode())


def facts_table(facts: list[Any], title: str | None = None) -> None:
    table = Table(title=title)
    table.add_column("id", no_wrap=True, min_width=36)
    for column in ("project", "kind", "status", "score", "lifecycle", "content"):
        table.add_column(column, overflow="fold")
    for fact in facts:
        content = fact.content if fact.content is not None else "[redacted]"
        table.add_row(fact.id, fact.project, fact.kind, fact.status,
                      f"{fact.consensus_score:.1f}", fact.lifecycle, content[:120])
    console.print(table)
