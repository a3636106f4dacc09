"""Ledger and operations commands: verify, checkpoint, prove, stats, export, import, backup,
migrate."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import anyio
import msgspec
import sqlean
import typer
from rich.progress import Progress

from cortex.cli._common import (
    DbOption,
    JsonOption,
    KeyOption,
    TenantOption,
    UrlOption,
    _fail,
    _in_process,
    _run,
    app,
    emit_json,
)
from cortex.config import DEFAULT_DB_PATH
from cortex.db.connect import connect_file_readonly
from cortex.engine.storage import open_failure
from cortex.errors import CortexError, InvalidInput


@app.command()
def verify(json_out: JsonOption = False, db: DbOption = DEFAULT_DB_PATH,
           url: UrlOption = None, key: KeyOption = None) -> None:
    """Recompute the whole ledger and every fact; exit 1 naming the first bad entry."""
    with Progress(transient=True, disable=json_out or url is not None) as progress:
        task = progress.add_task("verifying", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        report = _run(db, url, key, lambda cx: cx.ledger.verify() if url else
                      cx.ledger.verify(progress=advance))
    if json_out:
        emit_json(report)
    elif report.ok:
        typer.echo(f"ok: {report.checked} entries, {report.facts_checked} facts, root "
                   f"{report.root_hash}")
    else:
        for problem in report.problems:
            typer.secho(f"entry {problem.seq}: {problem.what}", fg=typer.colors.RED, err=True)
    if not report.ok:
        raise typer.Exit(1)


@app.command()
def checkpoint(json_out: JsonOption = False, db: DbOption = DEFAULT_DB_PATH,
    url: UrlOption = None, key: KeyOption = None) -> None:
    """Sign the current tree head."""
    made = _run(db, url, key, lambda cx: cx.ledger.checkpoint())
    if json_out:
        emit_json(made)
    else:
        typer.echo(made.note)


@app.command()
def prove(
    leaf: Annotated[int | None, typer.Option(help="ledger entry to prove included")] = None,
    output: Annotated[Path | None, typer.Option(help="write the bundle here")] = None,
    check: Annotated[Path | None, typer.Option("--verify", help="check a bundle offline")] = None,
    public_key: Annotated[str | None, typer.Option("--public-key")] = None,
    db: DbOption = DEFAULT_DB_PATH,
) -> None:
    """Export an inclusion proof under a signed checkpoint, or check one offline."""
    from cortex.core.bundle import verify_inclusion_bundle
    from cortex.core.checkpoint import CheckpointInvalid
    from cortex.core.merkle import ProofError

    if check is not None:
        bundle = json.loads(check.read_text())
        key = public_key or bundle.get("public_key")
        if not key:
            _fail(InvalidInput("public_key", "is needed to check a bundle"))
        try:
            body = verify_inclusion_bundle(bundle, key)
        except (CheckpointInvalid, ProofError, KeyError, ValueError) as error:
            typer.secho(f"INVALID: {error}", fg=typer.colors.RED, err=True)
            raise typer.Exit(1) from None
        typer.echo(f"valid: entry {bundle['proof']['leaf_index']} is in {body.origin} "
                   f"at tree size {body.tree_size}")
        return
    if leaf is None:
        _fail(InvalidInput("leaf", "give --leaf N to export, or --verify FILE to check"))
    bundle = _in_process(db, lambda cx: cx.ledger.export_inclusion(leaf))
    text = json.dumps(bundle, indent=2)
    if output is None:
        typer.echo(text)
    else:
        output.write_text(text)
        typer.echo(f"wrote {output}")


@app.command()
def stats(json_out: JsonOption = False, db: DbOption = DEFAULT_DB_PATH) -> None:
    """Ledger size, head root, queues and the indexing mark."""

    async def work(cx: Any) -> dict[str, Any]:
        stats = cx.statistics()
        return {"ledger_size": stats.ledger_size, "root_hash": stats.root_hash,
                "public_key": cx.ledger.public_key, "embeddings": cx.embeddings.status(),
                "writer": stats.writer._asdict(), "readers": stats.readers._asdict()}

    data = _in_process(db, work)
    if json_out:
        emit_json(data)
        return
    for name in ("ledger_size", "root_hash", "public_key"):
        typer.echo(f"{name}: {data[name]}")
    typer.echo(f"embeddings: {'available' if data['embeddings']['available'] else 'missing'}")


@app.command()
def export(
    output: Annotated[Path, typer.Option(help="JSONL file to write")],
    project: Annotated[str | None, typer.Option()] = None,
    tenant: TenantOption = None,
    db: DbOption = DEFAULT_DB_PATH,
) -> None:
    """Write live facts as JSON lines (with their ids, so an import is idempotent)."""

    async def work(cx: Any) -> int:
        count, cursor = 0, None
        async with await anyio.open_file(output, "w") as handle:
            with Progress(transient=True) as progress:
                task = progress.add_task("exporting", total=None)
                while True:
                    page = await cx.recall(project, limit=1000, cursor=cursor, tenant=tenant,
                                           at="9999-12-31T00:00:00Z")
                    lines = [msgspec.json.encode(_portable(f)).decode() + "\n" for f in page]
                    await handle.write("".join(lines))
                    count += len(page)
                    progress.update(task, completed=count)
                    cursor = page.next_cursor
                    if cursor is None:
                        return count

    typer.echo(f"exported {_in_process(db, work)} facts to {output}")


def _portable(fact: Any) -> dict[str, Any]:
    return {"id": fact.id, "project": fact.project, "kind": fact.kind,
            "content": fact.content, "tags": fact.tags, "source": fact.source,
            "meta": fact.meta, "valid_from": fact.valid_from, "valid_until": fact.valid_until}


@app.command("import")
def import_facts(
    source: Path,
    tenant: TenantOption = None,
    db: DbOption = DEFAULT_DB_PATH,
) -> None:
    """Store the facts of a JSONL export; facts already there are skipped (resumable)."""

    async def work(cx: Any) -> int:
        batch: list[dict[str, Any]] = []
        count = number = 0
        async with await anyio.open_file(source) as handle:
            with Progress(transient=True) as progress:
                task = progress.add_task("importing", total=None)
                async for line in handle:
                    number += 1
                    if not line.strip():
                        continue
                    try:
                        batch.append(json.loads(line))
                    except ValueError:
                        raise InvalidInput(f"line {number}", "is not JSON") from None
                    if len(batch) == 500:
                        count += len(await cx.store_many(batch, tenant=tenant))
                        batch = []
                        progress.update(task, completed=count)
                if batch:
                    count += len(await cx.store_many(batch, tenant=tenant))
        return count

    typer.echo(f"imported {_in_process(db, work)} facts from {source}")


@app.command()
def backup(
    output: Annotated[Path, typer.Option(help="the backup file to write")],
    db: DbOption = DEFAULT_DB_PATH,
) -> None:
    """Copy the database with SQLite's online backup API, then verify the copy against
    the tree head this process trusts (the copy is only read)."""
    report = _in_process(db, lambda cx: cx.ledger.backup(output))
    typer.echo(f"backup written to {output}: {report.tree_size} entries and "
               f"{report.facts_checked} facts verified")


@app.command()
def migrate(
    check: Annotated[bool, typer.Option("--check", help="only report pending migrations")] = False,
    db: DbOption = DEFAULT_DB_PATH,
) -> None:
    """Apply (or, with --check, list) pending migrations. Exit 1 with --check if any."""
    from cortex.db.migrations import pending

    if check:
        try:
            conn = connect_file_readonly(Path(db))
            try:
                waiting = pending(conn)
            finally:
                conn.close()
        except CortexError as error:
            _fail(error)
        except sqlean.Error as error:  # a damaged or missing file: say so, no traceback
            _fail(open_failure(error, Path(db)))
        for migration in waiting:
            typer.echo(f"pending: {migration.version} {migration.name}")
        if waiting:
            raise typer.Exit(1)
        typer.echo("up to date")
        return
    _in_process(db, lambda cx: cx.ledger_size())
    typer.echo("up to date")
