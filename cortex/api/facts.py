"""``/v1/facts``: store, recall, get, new version, deprecate, history, redact, votes."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.params import Parameter

from cortex.api.auth import author_of, check_project, require_key, visible
from cortex.api.errors import CREATED, error_responses
from cortex.api.schemas import (
    BatchBody,
    FactList,
    ReasonBody,
    SearchBody,
    StoreBody,
    UpdateBody,
    VoteBody,
    VoteList,
    entity_refs,
)
from cortex.engine.facade import Cortex
from cortex.errors import FactNotFound, InvalidInput
from cortex.model import ApiKey, Fact, SearchResults, VoteResult

ERRORS = error_responses()

IdempotencyKey = Annotated[
    str | None,
    Parameter(
        header="Idempotency-Key",
        required=False,
        max_length=200,
        description="A retried POST with the same key returns the first result.",
    ),
]


def _cortex(request: Request[Any, Any, Any]) -> Cortex:
    cortex: Cortex = request.app.state.cortex
    return cortex


def _key(request: Request[Any, Any, Any]) -> ApiKey:
    key: ApiKey = request.state.key
    return key


def idempotent_id(tenant: str, idempotency_key: str) -> str:
    """The fact id an ``Idempotency-Key`` stands for: a retry stores the same id, which the
    engine answers with the first result instead of a duplicate."""
    digest = hashlib.sha256(f"{tenant}\n{idempotency_key}".encode()).hexdigest()
    return f"idem-{digest[:40]}"


def _wait_indexed(wait: str | None) -> bool:
    if wait not in (None, "indexed"):
        raise InvalidInput("wait", "the only value is 'indexed' (wait for the vector)")
    return wait == "indexed"


async def _visible_fact(request: Request[Any, Any, Any], fact_id: str) -> Fact:
    key = _key(request)
    fact = await _cortex(request).get(fact_id, tenant=key.tenant)
    if not visible(key, fact.project):
        raise FactNotFound(fact_id)
    return fact


class FactsController(Controller):
    path = "/v1/facts"
    guards = [require_key]  # noqa: RUF012 - Litestar reads class attributes

    @post("/", responses=ERRORS, opt={"role": "write"}, status_code=CREATED, summary="Store a fact")
    async def store(
        self,
        request: Request[Any, Any, Any],
        data: StoreBody,
        idempotency_key: IdempotencyKey = None,
        wait: str | None = None,
    ) -> Response[Fact]:
        key = _key(request)
        check_project(key, data.project)
        fact_id = data.id
        if idempotency_key is not None:
            if fact_id is not None:
                raise InvalidInput("id", "give either an id or an Idempotency-Key, not both")
            fact_id = idempotent_id(key.tenant, idempotency_key)
        fact = await _cortex(request).store(
            data.project,
            data.content,
            kind=data.kind,
            tags=data.tags,
            source=data.source,
            meta=data.meta,
            valid_from=data.valid_from,
            valid_until=data.valid_until,
            id=fact_id,
            entities=entity_refs(data.entities),
            tenant=key.tenant,
            author=author_of(key),
            wait_indexed=_wait_indexed(wait),
        )
        return Response(fact, status_code=CREATED, headers={"Location": f"{self.path}/{fact.id}"})

    @get(
        "/",
        responses=ERRORS,
        opt={"role": "read"},
        summary="Recall facts, ranked by consensus and recency",
    )
    async def recall(
        self,
        request: Request[Any, Any, Any],
        project: str | None = None,
        kind: str | None = None,
        tags: list[str] | None = None,
        at: datetime | None = None,
        as_of: datetime | None = None,
        limit: int = 20,
        offset: int = 0,
        cursor: str | None = None,
        author: str | None = None,
        status: str | None = None,
    ) -> FactList:
        key = _key(request)
        if project is not None:
            check_project(key, project)
        page = await _cortex(request).recall(
            project,
            kind=kind,
            tags=tags or (),
            at=at,
            as_of=as_of,
            limit=limit,
            offset=offset,
            cursor=cursor,
            author=author,
            status=status,
            tenant=key.tenant,
            projects=key.projects,
        )
        return FactList(facts=list(page), next_cursor=page.next_cursor)

    @get(
        "/{fact_id:str}",
        responses=ERRORS,
        opt={"role": "read"},
        summary="Get one fact (any version)",
    )
    async def get_fact(self, request: Request[Any, Any, Any], fact_id: str) -> Fact:
        return await _visible_fact(request, fact_id)

    @patch(
        "/{fact_id:str}", responses=ERRORS, opt={"role": "write"}, summary="Record a new version"
    )
    async def update(self, request: Request[Any, Any, Any], fact_id: str, data: UpdateBody) -> Fact:
        await _visible_fact(request, fact_id)
        key = _key(request)
        changes = {
            name: getattr(data, name)
            for name in data.__struct_fields__
            if getattr(data, name) is not None
        }
        if data.entities is not None:
            changes["entities"] = entity_refs(data.entities)
        return await _cortex(request).update(
            fact_id, tenant=key.tenant, author=author_of(key), **changes
        )

    @delete(
        "/{fact_id:str}",
        responses=ERRORS,
        opt={"role": "write"},
        status_code=200,
        summary="Deprecate (never deletes)",
    )
    async def deprecate(
        self, request: Request[Any, Any, Any], fact_id: str, reason: str | None = None
    ) -> Fact:
        await _visible_fact(request, fact_id)
        return await _cortex(request).deprecate(fact_id, reason, tenant=_key(request).tenant)

    @get(
        "/{fact_id:str}/history",
        responses=ERRORS,
        opt={"role": "read"},
        summary="Every version, oldest first",
    )
    async def history(
        self, request: Request[Any, Any, Any], fact_id: str, as_of: datetime | None = None
    ) -> FactList:
        await _visible_fact(request, fact_id)
        versions = await _cortex(request).history(fact_id, as_of=as_of, tenant=_key(request).tenant)
        return FactList(facts=versions)

    @post(
        "/{fact_id:str}/redact",
        responses=ERRORS,
        opt={"role": "admin"},
        status_code=200,
        summary="Erase content of every version; hashes and ledger stay",
    )
    async def redact(self, request: Request[Any, Any, Any], fact_id: str, data: ReasonBody) -> Fact:
        await _visible_fact(request, fact_id)
        return await _cortex(request).redact(fact_id, data.reason, tenant=_key(request).tenant)

    @post(
        "/{fact_id:str}/votes",
        responses=ERRORS,
        opt={"role": "write"},
        status_code=200,
        summary="Vote +1/-1 (0 withdraws) as the key's agent or a named one",
    )
    async def vote(
        self, request: Request[Any, Any, Any], fact_id: str, data: VoteBody
    ) -> VoteResult:
        key = _key(request)
        await _visible_fact(request, fact_id)
        agent_id = key.agent_id or data.agent_id
        if agent_id is None:
            raise InvalidInput("agent_id", "is required unless the key is bound to an agent")
        if key.agent_id is not None and data.agent_id not in (None, key.agent_id):
            raise InvalidInput("agent_id", "a key bound to an agent votes only as that agent")
        return await _cortex(request).vote(fact_id, agent_id, data.value, tenant=key.tenant)

    @get(
        "/{fact_id:str}/votes",
        responses=ERRORS,
        opt={"role": "read"},
        summary="Current votes on a fact",
    )
    async def votes(self, request: Request[Any, Any, Any], fact_id: str) -> VoteList:
        await _visible_fact(request, fact_id)
        return VoteList(votes=await _cortex(request).votes(fact_id, tenant=_key(request).tenant))


@post(
    "/v1/facts:batch",
    responses=ERRORS,
    opt={"role": "write"},
    status_code=CREATED,
    guards=[require_key],
    summary="Store many facts in one transaction (all or none)",
)
async def store_many(request: Request[Any, Any, Any], data: BatchBody) -> FactList:
    key = _key(request)
    items = []
    for item in data.facts:
        check_project(key, item.project)
        items.append(
            {
                name: getattr(item, name)
                for name in item.__struct_fields__
                if getattr(item, name) is not None
            }
        )
        items[-1]["entities"] = entity_refs(item.entities)
    facts = await _cortex(request).store_many(items, tenant=key.tenant, author=author_of(key))
    return FactList(facts=facts)


@post("/v1/search", responses=ERRORS, opt={"role": "read"}, status_code=200,
      guards=[require_key], summary="Search facts by words (and, later, by meaning)")
async def search(request: Request[Any, Any, Any], data: SearchBody) -> SearchResults:
    key = _key(request)
    if data.project is not None:
        check_project(key, data.project)
    return await _cortex(request).search(
        data.query, project=data.project, kind=data.kind, tags=data.tags, top_k=data.top_k,
        mode=data.mode, at=data.at, as_of=data.as_of, projects=key.projects,
        graph_depth=data.graph_depth, tenant=key.tenant)
