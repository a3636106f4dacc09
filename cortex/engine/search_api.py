"""``cx.search``: text, semantic and hybrid search over the reader pool.

Semantic: the query's embedding (cached) against the KNN side alone. Hybrid: both sides
fetch 2 × top_k, fused by reciprocal rank (k = 60) with the configured weights. Without
the model, or with indexing off, every mode answers from the text index and says so.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any

import anyio

from cortex.core import validation as v
from cortex.core.ranking import reciprocal_rank_fusion
from cortex.core.text_query import to_fts_query
from cortex.db.search import SearchFilter
from cortex.engine.messages import PendingVectors, TextSearch, VectorSearch
from cortex.errors import InvalidInput
from cortex.model import SearchHit, SearchResults

if TYPE_CHECKING:
    from cortex.engine.facade import Cortex

SEARCH_MODES = ("hybrid", "semantic", "text")


async def run_search(
    cx: Cortex,
    query: str,
    *,
    project: str | None,
    kind: str | None,
    tags: Iterable[str],
    top_k: int,
    mode: str,
    at: Any,
    as_of: Any,
    projects: Iterable[str] | None,
    tenant: str | None,
) -> SearchResults:
    """See ``Cortex.search``."""
    if mode not in SEARCH_MODES:
        raise InvalidInput("mode", f"must be one of {', '.join(SEARCH_MODES)}")
    top_k = v.check_range("top_k", top_k, 1, 100)
    fts_query = to_fts_query(query)
    search_filter = SearchFilter(
        tenant=cx._tenant(tenant),
        fts_query=fts_query,
        project=None if project is None else v.check_name("project", project),
        kind=None if kind is None else v.check_kind(kind),
        tags=v.check_tags(tags),
        at=v.check_time("at", at),
        as_of=v.check_time("as_of", as_of),
        top_k=top_k,
        projects=None if projects is None else tuple(projects),
    )
    used, notice = mode, None
    if mode != "text":
        status = cx.embeddings.status()
        if not status["available"] or not cx.settings.index_vectors:
            used = "text"
            notice = "semantic search unavailable, answered in text mode: " + (
                status.get("detail") or "background indexing is off"
            )
    if used == "text":
        hits: list[SearchHit] = await cx._read(TextSearch(search_filter))
        return SearchResults(results=hits, mode=used, notice=notice)
    hits = await _hybrid(cx, query, search_filter, used)
    pending: int = await cx._read(PendingVectors(search_filter.tenant, cx.index_progress.rowid))
    return SearchResults(results=hits, mode=used, notice=notice, pending=pending)


async def _hybrid(
    cx: Cortex, query: str, search_filter: SearchFilter, mode: str
) -> list[SearchHit]:
    """Semantic: the KNN side alone. Hybrid: both sides fetch 2 × top_k, fused by
    reciprocal rank (k = 60) with the configured weights."""
    wide = dataclasses.replace(search_filter, top_k=min(2 * search_filter.top_k, 200))
    if mode == "semantic":
        return (await _vector_side(cx, query, wide))[: search_filter.top_k]
    by_vector, by_text = await _both_sides(cx, query, wide)
    facts = {hit.fact.id: hit.fact for hit in [*by_text, *by_vector]}
    vector_hits = {hit.fact.id: hit for hit in by_vector}
    text_hits = {hit.fact.id: hit for hit in by_text}
    fused = reciprocal_rank_fusion(
        list(vector_hits),
        list(text_hits),
        cx.settings.hybrid_vector_weight,
        cx.settings.hybrid_text_weight,
    )
    return [
        SearchHit(
            fact=facts[fact_id],
            score=score,
            vector_rank=vector_rank,
            vector_score=vector_hits[fact_id].vector_score if vector_rank else None,
            text_rank=text_rank,
            text_score=text_hits[fact_id].text_score if text_rank else None,
            snippet=text_hits[fact_id].snippet if text_rank else None,
        )
        for fact_id, score, vector_rank, text_rank in fused[: search_filter.top_k]
    ]


async def _both_sides(
    cx: Cortex, query: str, wide: SearchFilter
) -> tuple[list[SearchHit], list[SearchHit]]:
    """The vector and the text side at once: the text side runs on another reader while
    the query is embedded and the KNN runs. A side's error reaches the caller as itself
    (not wrapped in an exception group); the other side is then cancelled."""
    sides: dict[str, list[SearchHit]] = {}
    errors: list[Exception] = []

    async def side(name: str, search: Callable[[], Awaitable[list[SearchHit]]]) -> None:
        try:
            sides[name] = await search()
        except Exception as error:  # noqa: BLE001 - re-raised below, unwrapped
            errors.append(error)
            tg.cancel_scope.cancel()

    async with anyio.create_task_group() as tg:
        tg.start_soon(side, "text", lambda: cx._read(TextSearch(wide)))
        tg.start_soon(side, "vector", lambda: _vector_side(cx, query, wide))
    if errors:
        raise errors[0]
    return sides["vector"], sides["text"]


async def _vector_side(cx: Cortex, query: str, wide: SearchFilter) -> list[SearchHit]:
    vector = await cx.embeddings.query_vector(query)
    hits: list[SearchHit] = await cx._read(VectorSearch(wide, vector))
    return hits
