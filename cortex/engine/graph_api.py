"""``cx.graph``: the entity graph. Extraction runs here, before a command reaches the
writer; the queries run on the readers, within the caller's tenant."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import TYPE_CHECKING

from cortex.core import validation as v
from cortex.core.extraction import (
    ENTITY_TYPES,
    RELATION_TYPES,
    Extraction,
    configured_tools,
    extract,
)
from cortex.core.validation import FactChanges, FactDraft
from cortex.engine.messages import (
    EntityWithFacts,
    ExplicitEntities,
    FactEntities,
    FactsSubgraph,
    FindPath,
    ListEntities,
    Neighbors,
)
from cortex.errors import FactNotFound, InvalidInput
from cortex.model import Entity, EntityFacts, Graph

if TYPE_CHECKING:
    from cortex.engine.facade import Cortex

MAX_DEPTH = 3
MAX_PATH_DEPTH = 6
MAX_NODES = 500
DEFAULT_NODES = 100
MAX_ENTITY_QUERY_CHARS = 256


class GraphHandle:
    """Reached as ``cx.graph``."""

    def __init__(self, cortex: Cortex) -> None:
        self._cortex = cortex
        self.tools = configured_tools(cortex.settings.graph_tools)

    # --- extraction (before the writer) ------------------------------------------------

    def annotate(self, draft: FactDraft) -> FactDraft:
        """The draft with what its content and explicit entities give the graph."""
        return dataclasses.replace(draft, graph=self.extract(draft.content, draft.entities))

    def extract(self, content: str, explicit: tuple[tuple[str, str], ...] = ()) -> Extraction:
        return extract(content, explicit, self.tools)

    async def for_update(
        self, tenant: str, fact_id: str, changes: FactChanges
    ) -> Extraction | None:
        """The new version's graph when an update changes its content or entities; ``None``
        (inherit the old version's) otherwise. Reading the old version first is safe: the
        writer refuses the update unless ``fact_id`` is still the live version."""
        if changes.content is None and changes.entities is None:
            return None
        content = changes.content
        explicit = changes.entities
        if content is None:
            content = (await self._cortex.get(fact_id, tenant=tenant)).content or ""
        if explicit is None:
            explicit = await self._cortex._read(ExplicitEntities(tenant, fact_id))
        return self.extract(content, explicit)

    # --- queries ----------------------------------------------------------------------

    async def entities(
        self, *, project: str | None = None, q: str | None = None, type: str | None = None,
        limit: int = 50, offset: int = 0, projects: Iterable[str] | None = None,
        tenant: str | None = None,
    ) -> list[Entity]:
        """Entities, most mentioned first; ``q`` matches inside names (case-insensitive)."""
        query = ListEntities(
            self._cortex._tenant(tenant), _project(project), _text("q", q),
            _choice("type", type, ENTITY_TYPES), v.check_range("limit", limit, 1, v.MAX_LIMIT),
            v.check_range("offset", offset, 0, v.MAX_OFFSET), _scope(projects))
        found: list[Entity] = await self._cortex._read(query)
        return found

    async def entity(
        self, name_or_id: str | int, *, project: str | None = None, limit: int = 50,
        projects: Iterable[str] | None = None, tenant: str | None = None,
    ) -> list[EntityFacts]:
        """Each entity of that name (one per project) with the live facts mentioning it.

        Raises:
            EntityNotFound: no such entity in the tenant.
        """
        query = EntityWithFacts(self._cortex._tenant(tenant), _entity(name_or_id),
                                _project(project), v.check_range("limit", limit, 1, v.MAX_LIMIT),
                                _scope(projects))
        found: list[EntityFacts] = await self._cortex._read(query)
        return found

    async def neighbors(
        self, name_or_id: str | int, *, depth: int = 1, relation: str | None = None,
        project: str | None = None, max_nodes: int = DEFAULT_NODES,
        projects: Iterable[str] | None = None, tenant: str | None = None,
    ) -> Graph:
        """Entities within ``depth`` hops (either direction), optionally along one relation
        type, and the edges between them; the entity itself comes first with depth 0.

        Raises:
            EntityNotFound, InvalidInput.
        """
        query = Neighbors(self._cortex._tenant(tenant), _entity(name_or_id),
                          v.check_range("depth", depth, 1, MAX_DEPTH),
                          _choice("relation", relation, RELATION_TYPES), _project(project),
                          v.check_range("max_nodes", max_nodes, 1, MAX_NODES), _scope(projects))
        graph: Graph = await self._cortex._read(query)
        return graph

    async def path(
        self, source: str | int, target: str | int, *, max_depth: int = 4,
        project: str | None = None, projects: Iterable[str] | None = None,
        tenant: str | None = None,
    ) -> Graph | None:
        """A shortest chain of relations from ``source`` to ``target`` (``.nodes`` in
        order, ``.edges`` between them), or ``None`` within ``max_depth`` hops."""
        query = FindPath(self._cortex._tenant(tenant), _entity(source, "source"),
                         _entity(target, "target"),
                         v.check_range("max_depth", max_depth, 1, MAX_PATH_DEPTH),
                         _project(project), _scope(projects))
        found: Graph | None = await self._cortex._read(query)
        return found

    async def subgraph(
        self, *, fact_id: str | None = None, query: str | None = None, depth: int = 1,
        max_nodes: int = DEFAULT_NODES, top_k: int = 5, projects: Iterable[str] | None = None,
        tenant: str | None = None,
    ) -> Graph:
        """The graph around one fact's entities, or around the entities of the facts a
        search for ``query`` finds first (``top_k`` of them)."""
        if (fact_id is None) == (query is None):
            raise InvalidInput("fact_id", "give exactly one of fact_id and query")
        tenant_name = self._cortex._tenant(tenant)
        if fact_id is not None:
            fact_ids: tuple[str, ...] = (v.check_fact_id("fact_id", fact_id),)
            fact = await self._cortex.get(fact_id, tenant=tenant_name)  # absent / others'
            if projects is not None and fact.project not in set(projects):
                raise FactNotFound(fact_id)
        else:
            found = await self._cortex.search(str(query), top_k=top_k, projects=projects,
                                              tenant=tenant_name)
            fact_ids = tuple(hit.fact.id for hit in found.results)
        if not fact_ids:
            return Graph(nodes=[], edges=[])
        request = FactsSubgraph(tenant_name, fact_ids, v.check_range("depth", depth, 0,
                                                                     MAX_DEPTH),
                                v.check_range("max_nodes", max_nodes, 1, MAX_NODES))
        graph: Graph = await self._cortex._read(request)
        return graph

    async def around_facts(
        self, tenant: str, fact_ids: tuple[str, ...], depth: int, max_nodes: int = 20
    ) -> dict[str, list[Entity]]:
        """Per fact, its entities and their neighbours (for graph-enriched search)."""
        query = FactEntities(tenant, fact_ids, v.check_range("graph_depth", depth, 0,
                                                             MAX_DEPTH), max_nodes)
        found: dict[str, list[Entity]] = await self._cortex._read(query)
        return found


def _entity(value: object, field: str = "entity") -> str | int:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InvalidInput(field, "must be an entity name or id")
    if isinstance(value, int):
        return v.check_range(field, value, 1, 2**63 - 1)
    if not value.strip() or len(value) > v.MAX_ENTITY_CHARS:
        raise InvalidInput(field, f"must be 1 to {v.MAX_ENTITY_CHARS} characters")
    return value


def _scope(projects: Iterable[str] | None) -> tuple[str, ...] | None:
    return None if projects is None else tuple(projects)


def _project(project: str | None) -> str | None:
    return None if project is None else v.check_name("project", project)


def _text(field: str, value: str | None) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > MAX_ENTITY_QUERY_CHARS:
        raise InvalidInput(field, f"must be at most {MAX_ENTITY_QUERY_CHARS} characters")
    return value


def _choice(field: str, value: str | None, allowed: tuple[str, ...]) -> str | None:
    if value is not None and value not in allowed:
        raise InvalidInput(field, f"must be one of {', '.join(allowed)}")
    return value
