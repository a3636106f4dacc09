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
from cortex.core import validation as v
from cortex.core.timeutil import to_micros
from cortex.db.connect import connect_file_readonly
from cortex.engine.storage import open_failure
from cortex.errors import CortexError, FactIsRedacted, FactNotFound, InvalidInput


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
    since: Annotated[str | None, typer.Option(
        help="only facts recorded at or after this ISO-8601 time")] = None,
    until: Annotated[str | None, typer.Option(
        help="only facts recorded before this ISO-8601 time")] = None,
    redactions: Annotated[bool, typer.Option(
        "--redactions", help="add a marker line per redacted version (id and hash)")] = False,
    tenant: TenantOption = None,
    db: DbOption = DEFAULT_DB_PATH,
) -> None:
    """Write live facts as JSON lines (with their ids, so an import is idempotent)."""
    try:
        window = (v.check_time("since", since), v.check_time("until", until))
    except CortexError as error:
        _fail(error)

    async def work(cx: Any) -> tuple[int, int]:
        count = markers = 0
        async with await anyio.open_file(output, "w") as handle:
            with Progress(transient=True) as progress:
                task = progress.add_task("exporting", total=None)
                async for page in _live_pages(cx, project, tenant):
                    lines = [msgspec.json.encode(_portable(f)).decode() + "\n"
                             for f in page if _recorded_within(f, window)]
                    await handle.write("".join(lines))
                    count += len(lines)
                    progress.update(task, completed=count)
                if redactions:
                    async for marker in _redaction_markers(cx, project, tenant):
                        if _recorded_within(marker, window):
                            await handle.write(msgspec.json.encode(_marker(marker)).decode()
                                               + "\n")
                            markers += 1
        return count, markers

    count, markers = _in_process(db, work)
    typer.echo(f"exported {count} facts to {output}"
               + (f", with {markers} redaction markers" if redactions else ""))


async def _live_pages(cx: Any, project: str | None, tenant: str | None) -> Any:
    cursor = None
    while True:
        page = await cx.recall(project, limit=1000, cursor=cursor, tenant=tenant,
                               at="9999-12-31T00:00:00Z")
        yield page
        cursor = page.next_cursor
        if cursor is None:
            return


async def _redaction_markers(cx: Any, project: str | None, tenant: str | None) -> Any:
    after = -1
    while page := await cx.redactions(project, after_seq=after, tenant=tenant):
        for fact in page:
            yield fact
        after = page[-1].recorded_seq


def _recorded_within(fact: Any, window: tuple[int | None, int | None]) -> bool:
    recorded, (since, until) = to_micros(fact.recorded_at), window
    return (since is None or recorded >= since) and (until is None or recorded < until)


def _portable(fact: Any) -> dict[str, Any]:
    return {"id": fact.id, "project": fact.project, "kind": fact.kind,
            "content": fact.content, "tags": fact.tags, "source": fact.source,
            "meta": fact.meta, "valid_from": fact.valid_from, "valid_until": fact.valid_until}


def _marker(fact: Any) -> dict[str, Any]:
    """A redacted version as an export carries it: never content, only what proves it."""
    return {"id": fact.id, "project": fact.project, "redacted": True,
            "content_hash": fact.content_hash, "recorded_at": fact.recorded_at}


@app.command("import")
def import_facts(
    source: Path,
    tenant: TenantOption = None,
    db: DbOption = DEFAULT_DB_PATH,
) -> None:
    """Store the facts of a JSONL export; facts already there are skipped (resumable).
    A redaction marker redacts that fact here too, when it is here and not yet redacted."""

    async def work(cx: Any) -> tuple[int, int]:
        batch: list[dict[str, Any]] = []
        count = redacted = number = 0
        async with await anyio.open_file(source) as handle:
            with Progress(transient=True) as progress:
                task = progress.add_task("importing", total=None)
                async for line in handle:
                    number += 1
                    if not line.strip():
                        continue
                    item = _parse_line(line, number)
                    if item.get("redacted") is True:
                        redacted += await _apply_marker(cx, item, number, tenant)
                        continue
                    batch.append(item)
                    if len(batch) == 500:
                        count += len(await cx.store_many(batch, tenant=tenant))
                        batch = []
                        progress.update(task, completed=count)
                if batch:
                    count += len(await cx.store_many(batch, tenant=tenant))
        return count, redacted

    count, redacted = _in_process(db, work)
    typer.echo(f"imported {count} facts from {source}"
               + (f", applied {redacted} redactions" if redacted else ""))


def _parse_line(line: str, number: int) -> dict[str, Any]:
    try:
        item = json.loads(line)
    except ValueError:
        raise InvalidInput(f"line {number}", "is not JSON") from None
    if not isinstance(item, dict):
        raise InvalidInput(f"line {number}", "must be a JSON object")
    return item


async def _apply_marker(cx: Any, marker: dict[str, Any], number: int,
                        tenant: str | None) -> int:
    """Redact the marked fact if this store has it unredacted; 1 if it did."""
    fact_id = marker.get("id")
    if not isinstance(fact_id, str):
        raise InvalidInput(f"line {number}.id", "a redaction marker needs the fact's id")
    try:
        await cx.redact(fact_id, reason="redaction marker in an import", tenant=tenant)
    except (FactNotFound, FactIsRedacted):
        return 0
    return 1


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
