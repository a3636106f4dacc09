"""``CortexClient``: the in-process ``Cortex`` API, over HTTP to a running server."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import Any

import httpx
import msgspec

from cortex.client._handles import AgentsClient, GraphClient, KeysClient, LedgerClient
from cortex.client._http import Retrying, Sleep, Transport
from cortex.errors import InvalidInput
from cortex.ids import new_fact_id
from cortex.model import Fact, FactPage, SearchResults, Vote, VoteResult


class CortexClient:
    """An async client with the engine's method names and result types.

    ``async with CortexClient("http://127.0.0.1:8000", key="ctx_…") as cx:`` then
    ``await cx.store(...)``, ``cx.search``, ``cx.ledger.verify()``… Errors are the
    engine's exceptions (``FactNotFound``, ``InvalidInput`` naming the field…).
    Overload (503) and rate limits (429) are retried after ``Retry-After``, up to
    ``retries`` times; stores send an id chosen here, so a retried store is answered
    with the first result instead of a duplicate.
    """

    def __init__(
        self, url: str, *, key: str | None = None, timeout: float = 30.0, retries: int = 3,
        backoff: float = 0.2, sleep: Sleep | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self._http = httpx.AsyncClient(base_url=url, headers=headers, timeout=timeout,
                                       transport=transport)
        retrying = Retrying(retries=retries, backoff=backoff)
        if sleep is not None:
            retrying.sleep = sleep
        self._t = Transport(self._http, retrying)
        self.agents = AgentsClient(self._t)
        self.keys = KeysClient(self._t)
        self.ledger = LedgerClient(self._t)
        self.graph = GraphClient(self._t)

    async def __aenter__(self) -> CortexClient:
        return self

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        traceback: TracebackType | None) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # --- writes -----------------------------------------------------------------------

    async def store(
        self, project: str, content: str, *, kind: str = "knowledge",
        tags: Iterable[str] = (), source: str | None = None,
        meta: Mapping[str, Any] | None = None, valid_from: Any = None,
        valid_until: Any = None, id: str | None = None, entities: Iterable[Any] | None = None,
        wait_indexed: bool = False,
    ) -> Fact:
        """Store a fact (idempotent across retries: the id is chosen before sending)."""
        body = _fact_body(project=project, content=content, kind=kind, tags=tags,
                          source=source, meta=meta, valid_from=valid_from,
                          valid_until=valid_until, id=id, entities=entities)
        params = {"wait": "indexed"} if wait_indexed else None
        return await self._t.call("POST", "/v1/facts", Fact, json=body, params=params)

    async def store_many(self, items: Iterable[Mapping[str, Any]]) -> list[Fact]:
        """Store several facts in one transaction: all of them or none."""
        facts = []
        for index, item in enumerate(items):
            if not isinstance(item, Mapping):
                raise InvalidInput(f"items[{index}]", "must be an object")
            facts.append(_fact_body(**item))
        page = await self._t.call("POST", "/v1/facts:batch", _FactList,
                                  json={"facts": facts})
        return page.facts

    async def update(self, id: str, **changes: Any) -> Fact:
        """Record a new version (``content``, ``kind``, ``tags``, ``source``, ``meta``,
        ``valid_from``, ``valid_until``, ``entities``); the rest carries over."""
        body = {name: _jsonable(value) for name, value in changes.items()}
        return await self._t.call("PATCH", f"/v1/facts/{id}", Fact, json=body)

    async def deprecate(self, id: str, reason: str | None = None) -> Fact:
        return await self._t.call("DELETE", f"/v1/facts/{id}", Fact, params={"reason": reason})

    async def redact(self, id: str, reason: str | None = None) -> Fact:
        return await self._t.call("POST", f"/v1/facts/{id}/redact", Fact,
                                  json={"reason": reason})

    async def vote(self, fact_id: str, agent_id: str | None, value: int) -> VoteResult:
        """Vote +1/-1 (0 withdraws) as ``agent_id`` (``None``: the key's own agent)."""
        return await self._t.call("POST", f"/v1/facts/{fact_id}/votes", VoteResult,
                                  json={"value": value, "agent_id": agent_id})

    # --- reads ------------------------------------------------------------------------

    async def get(self, id: str) -> Fact:
        return await self._t.call("GET", f"/v1/facts/{id}", Fact)

    async def votes(self, fact_id: str) -> list[Vote]:
        page = await self._t.call("GET", f"/v1/facts/{fact_id}/votes", dict[str, list[Vote]])
        return page["votes"]

    async def history(self, id: str, *, as_of: Any = None) -> list[Fact]:
        page = await self._t.call("GET", f"/v1/facts/{id}/history", _FactList,
                                  params={"as_of": as_of})
        return page.facts

    async def recall(
        self, project: str | None = None, *, kind: str | None = None,
        tags: Iterable[str] = (), at: Any = None, as_of: Any = None, limit: int = 20,
        offset: int = 0, cursor: str | None = None, author: str | None = None,
        status: str | None = None,
    ) -> FactPage:
        """Current facts, best first; ``.next_cursor`` fetches the next page."""
        params = {"project": project, "kind": kind, "tags": list(tags) or None, "at": at,
                  "as_of": as_of, "limit": limit, "offset": offset, "cursor": cursor,
                  "author": author, "status": status}
        page = await self._t.call("GET", "/v1/facts", _FactList, params=params)
        found = FactPage(page.facts)
        found.next_cursor = page.next_cursor
        return found

    async def search(
        self, query: str, *, project: str | None = None, kind: str | None = None,
        tags: Iterable[str] = (), top_k: int = 10, mode: str = "hybrid", at: Any = None,
        as_of: Any = None, graph_depth: int | None = None,
    ) -> SearchResults:
        body = {"query": query, "mode": mode, "project": project, "kind": kind,
                "tags": list(tags), "top_k": top_k, "at": _jsonable(at),
                "as_of": _jsonable(as_of), "graph_depth": graph_depth}
        return await self._t.call("POST", "/v1/search", SearchResults,
                                  json={k: v for k, v in body.items() if v is not None})

    async def health(self) -> dict[str, Any]:
        """The server's health report (also when it answers 503)."""
        response = await self._http.get("/health")
        report: dict[str, Any] = response.json()
        return report


class _FactList(msgspec.Struct):
    facts: list[Fact]
    next_cursor: str | None = None


def _fact_body(**fields: Any) -> dict[str, Any]:
    """A store body: the client picks the id (safe retries); unknown fields refused."""
    unknown = set(fields) - _STORE_FIELDS
    if unknown:
        raise InvalidInput(sorted(unknown)[0], "is not a field of a fact")
    body = {name: _jsonable(value) for name, value in fields.items() if value is not None}
    body["tags"] = list(fields.get("tags") or ())
    body.setdefault("id", new_fact_id())
    return body


_STORE_FIELDS = frozenset({"project", "content", "kind", "tags", "source", "meta",
                           "valid_from", "valid_until", "id", "entities"})


def _jsonable(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    return value
