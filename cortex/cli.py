"""The ``cortex`` command line. Exit codes: 0 ok, 1 error, 2 usage."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import anyio
import typer

from cortex.config import DEFAULT_DB_PATH, Settings
from cortex.errors import CortexError

app = typer.Typer(help="Cortex: a verifiable memory ledger for AI agents.", no_args_is_help=True)

DbOption = Annotated[
    Path, typer.Option("--db", envvar="CORTEX_DB", help="SQLite database file.")
]


def _fail(error: CortexError) -> None:
    typer.secho(f"error: {error.detail}", fg=typer.colors.RED, err=True)
    raise typer.Exit(1)


@app.command()
def init(db: DbOption = DEFAULT_DB_PATH) -> None:
    """Create (or migrate) the database and report its state."""
    from cortex.engine.facade import Cortex

    async def run() -> tuple[int, str]:
        async with Cortex.open(db, log_level="warning") as cx:
            return await cx.ledger_size(), cx.ledger.public_key

    try:
        size, public_key = anyio.run(run)
    except CortexError as error:
        _fail(error)
    typer.echo(f"database ready: {db} ({size} ledger entries)")
    typer.echo(f"checkpoint public key: {public_key}")


@app.command("public-key")
def public_key(db: DbOption = DEFAULT_DB_PATH) -> None:
    """Print the C2SP verifier key that checks this store's signed checkpoints."""
    from cortex.engine.facade import Cortex

    async def run() -> str:
        async with Cortex.open(db, log_level="warning") as cx:
            return cx.ledger.public_key

    try:
        typer.echo(anyio.run(run))
    except CortexError as error:
        _fail(error)


@app.command()
def serve(
    db: DbOption = DEFAULT_DB_PATH,
    host: Annotated[str, typer.Option(envvar="CORTEX_HOST")] = "127.0.0.1",
    port: Annotated[int, typer.Option(envvar="CORTEX_PORT")] = 8000,
) -> None:
    """Serve the HTTP API (creates and migrates the database first)."""
    import uvicorn

    from cortex.api.app import create_app

    settings = Settings.load(db)
    os.environ.setdefault("CORTEX_DB", str(db))
    uvicorn.run(create_app(settings), host=host, port=port, log_config=None,
                access_log=False, lifespan="on")


def main() -> None:
    app()
