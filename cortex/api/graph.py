"""``/v1/graph``: entities, an entity's facts, neighbours, shortest paths, subgraphs.

Everything is confined to the key's tenant and, for a key scoped to projects, to those
projects: an entity outside them is a 404 like any other absent one.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.params import QueryParameter

from cortex.api.auth import check_project, require_key
from cortex.api.errors import error_responses
from cortex.api.schemas import EntityList, EntityMatches, PathFound
from cortex.engine.facade import Cortex
from cortex.engine.graph_api import DEFAULT_NODES
from cortex.model import ApiKey, Graph

ERRORS = error_responses()
#: ``query`` is Litestar's own name for the query string, so the parameter is aliased
SearchText = Annotated[str | None, QueryParameter(
    name="query", required=False, description="Search text whose facts seed it")]


def _cortex(request: Request[Any, Any, Any]) -> Cortex:
    cortex: Cortex = request.app.state.cortex
    return cortex


def _scoped(request: Request[Any, Any, Any], project: str | None) -> ApiKey:
    key: ApiKey = request.state.key
    if project is not None:
        check_project(key, project)
    return key


class GraphController(Controller):
    path = "/v1/graph"
    guards = [require_key]  # noqa: RUF012 - Litestar reads class attributes

    @get("/entities", responses=ERRORS, opt={"role": "read"}, summary="List entities")
    async def entities(
        self, request: Request[Any, Any, Any], project: str | None = None, q: str | None = None,
        type: str | None = None, limit: int = 50, offset: int = 0,
    ) -> EntityList:
        key = _scoped(request, project)
        found = await _cortex(request).graph.entities(
            project=project, q=q, type=type, limit=limit, offset=offset,
            projects=key.projects, tenant=key.tenant)
        return EntityList(entities=found)

    @get("/entities/{entity:str}", responses=ERRORS, opt={"role": "read"},
         summary="An entity (by name or id) with the facts that mention it")
    async def entity(
        self, request: Request[Any, Any, Any], entity: str, project: str | None = None,
        limit: int = 50,
    ) -> EntityMatches:
        key = _scoped(request, project)
        found = await _cortex(request).graph.entity(
            entity, project=project, limit=limit, projects=key.projects, tenant=key.tenant)
        return EntityMatches(matches=found)

    @get("/entities/{entity:str}/neighbors", responses=ERRORS, opt={"role": "read"},
         summary="Entities within depth hops, and the edges between them")
    async def neighbors(
        self, request: Request[Any, Any, Any], entity: str, depth: int = 1,
        relation: str | None = None, project: str | None = None,
        max_nodes: int = DEFAULT_NODES,
    ) -> Graph:
        key = _scoped(request, project)
        return await _cortex(request).graph.neighbors(
            entity, depth=depth, relation=relation, project=project, max_nodes=max_nodes,
            projects=key.projects, tenant=key.tenant)

    @get("/path", responses=ERRORS, opt={"role": "read"},
         summary="A shortest chain of relations between two entities")
    async def shortest_path(
        self, request: Request[Any, Any, Any], source: str, target: str, max_depth: int = 4,
        project: str | None = None,
    ) -> PathFound:
        key = _scoped(request, project)
        found = await _cortex(request).graph.path(
            source, target, max_depth=max_depth, project=project, projects=key.projects,
            tenant=key.tenant)
        return PathFound(path=found)

    @get("/subgraph", responses=ERRORS, opt={"role": "read"},
         summary="The graph around a fact's entities, or around a search's first facts")
    async def subgraph(
        self, request: Request[Any, Any, Any], fact_id: str | None = None,
        search_text: SearchText = None, depth: int = 1, max_nodes: int = DEFAULT_NODES,
    ) -> Graph:
        key: ApiKey = request.state.key
        return await _cortex(request).graph.subgraph(
            fact_id=fact_id, query=search_text, depth=depth, max_nodes=max_nodes,
            projects=key.projects, tenant=key.tenant)
