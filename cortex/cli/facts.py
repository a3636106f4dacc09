"""Fact commands: store, get, recall, search, history, update, deprecate, redact, vote,
agents."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.table import Table

from cortex.cli._common import (
    DbOption,
    JsonOption,
    KeyOption,
    TenantOption,
    UrlOption,
    _fail,
    _run,
    app,
    console,
    emit_json,
    facts_table,
)
from cortex.config import DEFAULT_DB_PATH
from cortex.errors import InvalidInput

TagsOption = Annotated[list[str] | None, typer.Option("--tag", help="a tag (repeat)")]


def _meta(meta: str | None) -> dict[str, Any] | None:
    if meta is None:
        return None
    try:
        value = json.loads(meta)
    except ValueError:
        _fail(InvalidInput("meta", "must be a JSON object"))
    return value  # type: ignore[no-any-return]


@app.command()
def store(
    content: str,
    project: Annotated[str, typer.Option(help="the project")],
    kind: Annotated[str, typer.Option()] = "knowledge",
    tag: TagsOption = None,
    source: Annotated[str | None, typer.Option()] = None,
    meta: Annotated[str | None, typer.Option(help="a JSON object")] = None,
    fact_id: Annotated[str | None, typer.Option("--id", help="your own id (idempotent)")] = None,
    tenant: TenantOption = None,
    json_out: JsonOption = False,
    db: DbOption = DEFAULT_DB_PATH,
    url: UrlOption = None, key: KeyOption = None,
) -> None:
    """Store a fact and print it."""
    fact = _run(db, url, key, lambda cx: cx.store(project, content, kind=kind, tags=tag or (),
                                                source=source, meta=_meta(meta), id=fact_id,
                                                tenant=tenant))
    if json_out:
        emit_json(fact)
    else:
        typer.echo(f"stored {fact.id} (ledger entry {fact.recorded_seq})")


@app.command()
def get(fact_id: str, tenant: TenantOption = None, json_out: JsonOption = False,
        db: DbOption = DEFAULT_DB_PATH,
        url: UrlOption = None, key: KeyOption = None) -> None:
    """Print one fact (any version), verified against the ledger."""
    fact = _run(db, url, key, lambda cx: cx.get(fact_id, tenant=tenant))
    if json_out:
        emit_json(fact)
    else:
        facts_table([fact])


@app.command()
def recall(
    project: Annotated[str | None, typer.Option()] = None,
    kind: Annotated[str | None, typer.Option()] = None,
    tag: TagsOption = None,
    status: Annotated[str | None, typer.Option(help="stated, verified or disputed")] = None,
    limit: Annotated[int, typer.Option()] = 20,
    tenant: TenantOption = None,
    json_out: JsonOption = False,
    db: DbOption = DEFAULT_DB_PATH,
    url: UrlOption = None, key: KeyOption = None,
) -> None:
    """Facts ranked by consensus and recency."""
    page = _run(db, url, key, lambda cx: cx.recall(project, kind=kind, tags=tag or (),
                                                 status=status, limit=limit, tenant=tenant))
    if json_out:
        emit_json({"facts": list(page), "next_cursor": page.next_cursor})
    else:
        facts_table(list(page))


@app.command()
def search(
    query: str,
    mode: Annotated[str, typer.Option(help="hybrid, semantic or text")] = "hybrid",
    project: Annotated[str | None, typer.Option()] = None,
    top_k: Annotated[int, typer.Option("--top-k")] = 10,
    tenant: TenantOption = None,
    json_out: JsonOption = False,
    db: DbOption = DEFAULT_DB_PATH,
    url: UrlOption = None, key: KeyOption = None,
) -> None:
    """Search by meaning and by words (``pending`` facts are not embedded yet)."""
    results = _run(db, url, key, lambda cx: cx.search(query, mode=mode, project=project,
                                                    top_k=top_k, tenant=tenant))
    if json_out:
        emit_json(results)
        return
    if results.notice:
        typer.secho(results.notice, err=True)
    table = Table()
    for column in ("score", "vector", "text", "id", "content"):
        table.add_column(column, overflow="fold")
    for hit in results.results:
        table.add_row(f"{hit.score:.4f}", str(hit.vector_rank or "-"),
                      str(hit.text_rank or "-"), hit.fact.id, (hit.fact.content or "")[:120])
    console.print(table)


@app.command()
def history(fact_id: str, tenant: TenantOption = None, json_out: JsonOption = False,
            db: DbOption = DEFAULT_DB_PATH,
            url: UrlOption = None, key: KeyOption = None) -> None:
    """Every version of a fact, oldest first."""
    versions = _run(db, url, key, lambda cx: cx.history(fact_id, tenant=tenant))
    if json_out:
        emit_json(versions)
    else:
        facts_table(versions)


@app.command()
def update(
    fact_id: str,
    content: Annotated[str | None, typer.Option()] = None,
    kind: Annotated[str | None, typer.Option()] = None,
    tag: TagsOption = None,
    tenant: TenantOption = None,
    json_out: JsonOption = False,
    db: DbOption = DEFAULT_DB_PATH,
    url: UrlOption = None, key: KeyOption = None,
) -> None:
    """Record a new version of a fact."""
    changes = {k: v for k, v in (("content", content), ("kind", kind), ("tags", tag))
               if v is not None}
    fact = _run(db, url, key, lambda cx: cx.update(fact_id, tenant=tenant, **changes))
    if json_out:
        emit_json(fact)
    else:
        typer.echo(f"new version {fact.id} supersedes {fact.supersedes}")


@app.command()
def deprecate(fact_id: str, reason: Annotated[str | None, typer.Option()] = None,
              tenant: TenantOption = None, db: DbOption = DEFAULT_DB_PATH,
              url: UrlOption = None, key: KeyOption = None) -> None:
    """Retire a fact (kept in history and the ledger)."""
    fact = _run(db, url, key, lambda cx: cx.deprecate(fact_id, reason, tenant=tenant))
    typer.echo(f"deprecated {fact.id}")


@app.command()
def redact(fact_id: str, reason: Annotated[str | None, typer.Option()] = None,
           tenant: TenantOption = None, db: DbOption = DEFAULT_DB_PATH,
           url: UrlOption = None, key: KeyOption = None) -> None:
    """Erase the content of every version of a fact; hashes and ledger stay."""
    fact = _run(db, url, key, lambda cx: cx.redact(fact_id, reason, tenant=tenant))
    typer.echo(f"redacted {fact.id}")


@app.command()
def vote(fact_id: str, agent: Annotated[str, typer.Option(help="agent id")],
         value: Annotated[int, typer.Option(help="1, -1, or 0 to withdraw")],
         tenant: TenantOption = None, json_out: JsonOption = False,
         db: DbOption = DEFAULT_DB_PATH,
         url: UrlOption = None, key: KeyOption = None) -> None:
    """Vote on a fact as an agent."""
    result = _run(db, url, key, lambda cx: cx.vote(fact_id, agent, value, tenant=tenant))
    if json_out:
        emit_json(result)
    else:
        typer.echo(f"{result.status}: score {result.consensus_score:.1f}, "
                   f"confidence {result.confidence:+.2f}, {result.votes} votes")


agents_app = typer.Typer(help="Agents that vote.", no_args_is_help=True)
app.add_typer(agents_app, name="agents")


@agents_app.command("register")
def agents_register(name: str, tenant: TenantOption = None, json_out: JsonOption = False,
                    db: DbOption = DEFAULT_DB_PATH,
                    url: UrlOption = None, key: KeyOption = None) -> None:
    """Register an agent."""
    agent = _run(db, url, key, lambda cx: cx.agents.register(name, tenant=tenant))
    if json_out:
        emit_json(agent)
    else:
        typer.echo(f"agent {agent.id} ({agent.name})")


@agents_app.command("list")
def agents_list(tenant: TenantOption = None, json_out: JsonOption = False,
                db: DbOption = DEFAULT_DB_PATH,
                url: UrlOption = None, key: KeyOption = None) -> None:
    """List active agents with their reputation and weight."""
    agents = _run(db, url, key, lambda cx: cx.agents.list(tenant=tenant))
    if json_out:
        emit_json(agents)
        return
    for agent in agents:
        typer.echo(f"{agent.id}  {agent.name:<20} reputation {agent.reputation:.2f} "
                   f"weight {agent.weight:.2f}")
