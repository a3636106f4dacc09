"""``cortex graph``: entities, neighbours and paths of the entity graph."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from cortex.cli._common import (
    DbOption,
    JsonOption,
    KeyOption,
    TenantOption,
    UrlOption,
    _run,
    app,
    console,
    emit_json,
)
from cortex.config import DEFAULT_DB_PATH

graph_app = typer.Typer(help="The entity graph: what facts mention and how it relates.",
                        no_args_is_help=True)
app.add_typer(graph_app, name="graph")
ProjectOption = Annotated[str | None, typer.Option(help="only this project")]


def _graph_tables(graph: Any) -> None:
    names = {node.id: node.name for node in graph.nodes}
    nodes = Table(title="entities")
    for column in ("id", "name", "type", "project", "mentions", "depth"):
        nodes.add_column(column)
    for node in graph.nodes:
        nodes.add_row(str(node.id), node.name, node.type, node.project, str(node.mentions),
                      "" if node.depth is None else str(node.depth))
    console.print(nodes)
    edges = Table(title="relations")
    for column in ("source", "relation", "target", "weight"):
        edges.add_column(column)
    for edge in graph.edges:
        edges.add_row(names.get(edge.source, str(edge.source)), edge.type,
                      names.get(edge.target, str(edge.target)), str(edge.weight))
    console.print(edges)


@graph_app.command("entities")
def entities(
    project: ProjectOption = None,
    q: Annotated[str | None, typer.Option("--q", help="text inside the name")] = None,
    entity_type: Annotated[str | None, typer.Option("--type")] = None,
    limit: Annotated[int, typer.Option()] = 50,
    tenant: TenantOption = None, json_out: JsonOption = False, db: DbOption = DEFAULT_DB_PATH,
    url: UrlOption = None, key: KeyOption = None,
) -> None:
    """List entities, most mentioned first."""
    found = _run(db, url, key, lambda cx: cx.graph.entities(
        project=project, q=q, type=entity_type, limit=limit, tenant=tenant))
    if json_out:
        emit_json(found)
        return
    table = Table()
    for column in ("id", "name", "type", "project", "mentions"):
        table.add_column(column)
    for entity in found:
        table.add_row(str(entity.id), entity.name, entity.type, entity.project,
                      str(entity.mentions))
    console.print(table)


@graph_app.command("neighbors")
def neighbors(
    entity: str,
    depth: Annotated[int, typer.Option(help="hops, 1 to 3")] = 1,
    relation: Annotated[str | None, typer.Option(help="only this relation type")] = None,
    project: ProjectOption = None,
    tenant: TenantOption = None, json_out: JsonOption = False, db: DbOption = DEFAULT_DB_PATH,
    url: UrlOption = None, key: KeyOption = None,
) -> None:
    """Entities within DEPTH hops of ENTITY (a name or an id), and their relations."""
    graph = _run(db, url, key, lambda cx: cx.graph.neighbors(
        entity, depth=depth, relation=relation, project=project, tenant=tenant))
    if json_out:
        emit_json(graph)
    else:
        _graph_tables(graph)


@graph_app.command("path")
def path(
    source: str, target: str,
    max_depth: Annotated[int, typer.Option(help="longest path searched, 1 to 6")] = 4,
    project: ProjectOption = None,
    tenant: TenantOption = None, json_out: JsonOption = False, db: DbOption = DEFAULT_DB_PATH,
    url: UrlOption = None, key: KeyOption = None,
) -> None:
    """A shortest chain of relations from SOURCE to TARGET (exit 1 when there is none)."""
    found = _run(db, url, key, lambda cx: cx.graph.path(
        source, target, max_depth=max_depth, project=project, tenant=tenant))
    if json_out:
        emit_json({"path": found})
    elif found is not None:
        _graph_tables(found)
    if found is None:
        if not json_out:
            typer.secho(f"no path within {max_depth} hops", err=True)
        raise typer.Exit(1)
