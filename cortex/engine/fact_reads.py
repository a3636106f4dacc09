"""The read side of ``Cortex``: get, recall, search, history, redactions.

A mixin, so that ``cx.get`` and friends stay methods of the one facade while the facade's
module stays small. Every read validates its arguments here, then asks the reader pool.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, cast

import msgspec

from cortex.core import validation as v
from cortex.db.queries import RecallFilter
from cortex.engine.messages import GetFact, History, LedgerSize, ListRedacted, ReadQuery, Recall
from cortex.engine.search_api import run_search
from cortex.errors import InvalidInput
from cortex.model import Fact, FactPage, SearchResults

if TYPE_CHECKING:
    from cortex.engine.facade import Cortex
    from cortex.engine.graph_api import GraphHandle


class FactReads:
    """Reads of facts; ``Cortex`` provides the reader pool and the tenant default."""

    graph: GraphHandle

    async def _read(self, query: ReadQuery) -> Any:
        raise NotImplementedError

    def _tenant(self, tenant: str | None) -> str:
        raise NotImplementedError

    async def get(self, id: str, *, tenant: str | None = None) -> Fact:
        """Return fact ``id`` (any version, any status). Raises ``FactNotFound``."""
        fact: Fact = await self._read(GetFact(self._tenant(tenant), v.check_fact_id("id", id)))
        return fact

    async def recall(
        self,
        project: str | None = None,
        *,
        kind: str | None = None,
        tags: Iterable[str] = (),
        at: Any = None,
        as_of: Any = None,
        limit: int = 20,
        offset: int = 0,
        cursor: str | None = None,
        author: str | None = None,
        status: str | None = None,
        projects: Iterable[str] | None = None,
        tenant: str | None = None,
    ) -> FactPage:
        """Facts ranked by consensus and recency (a list with ``next_cursor``).

        ``at`` filters by valid time (default: now); ``as_of`` shows what Cortex knew
        at that moment (default: now). Page with ``limit``/``offset`` or ``cursor``.
        """
        recall_filter = RecallFilter(
            tenant=self._tenant(tenant),
            project=None if project is None else v.check_name("project", project),
            kind=None if kind is None else v.check_kind(kind),
            tags=v.check_tags(tags),
            at=v.check_time("at", at),
            as_of=v.check_time("as_of", as_of),
            limit=v.check_range("limit", limit, 1, v.MAX_LIMIT),
            offset=v.check_range("offset", offset, 0, v.MAX_OFFSET),
            cursor=None if cursor is None else str(cursor),
            author=None if author is None else v.check_fact_id("author", author),
            status=None if status is None else _check_status(status),
            projects=None if projects is None else tuple(projects),
        )
        page: FactPage = await self._read(Recall(recall_filter))
        return page

    async def search(
        self,
        query: str,
        *,
        project: str | None = None,
        kind: str | None = None,
        tags: Iterable[str] = (),
        top_k: int = 10,
        mode: str = "hybrid",
        at: Any = None,
        as_of: Any = None,
        projects: Iterable[str] | None = None,
        graph_depth: int | None = None,
        tenant: str | None = None,
    ) -> SearchResults:
        """Facts matching ``query``, best first, with their ranks and scores.

        ``mode`` is "hybrid" (vector and text ranks fused), "semantic" or "text". Without
        the model (or with ``index_vectors`` off) it answers in text mode and ``notice``
        says so; ``pending`` counts facts not embedded yet.
        The query syntax (terms, "phrases", prefix*, OR) can never cause a database error.

        With ``graph_depth`` (0..3) each hit carries the entities its fact mentions and
        their neighbours to that depth.

        Raises:
            InvalidInput: a bad query, mode, filter or ``top_k`` outside 1..100.
        """
        found = await run_search(cast("Cortex", self), query, project=project, kind=kind, tags=tags,
                                 top_k=top_k, mode=mode, at=at, as_of=as_of,
                                 projects=projects, tenant=tenant)
        if graph_depth is None or not found.results:
            return found
        entities = await self.graph.around_facts(
            self._tenant(tenant), tuple(hit.fact.id for hit in found.results), graph_depth)
        hits = [msgspec.structs.replace(hit, entities=entities.get(hit.fact.id, []))
                for hit in found.results]
        return msgspec.structs.replace(found, results=hits)

    async def history(
        self, id: str, *, as_of: Any = None, tenant: str | None = None
    ) -> list[Fact]:
        """Every version of fact ``id``, oldest first (with ``as_of``: known by then)."""
        query = History(self._tenant(tenant), v.check_fact_id("id", id),
                        v.check_time("as_of", as_of))
        versions: list[Fact] = await self._read(query)
        return versions

    async def redactions(
        self, project: str | None = None, *, after_seq: int = -1, limit: int = 1000,
        tenant: str | None = None,
    ) -> list[Fact]:
        """Redacted fact versions recorded after ``after_seq``, oldest first: their ids,
        hashes and redaction times, never content (an export's redaction markers).
        Page by passing the last one's ``recorded_seq`` as ``after_seq``."""
        query = ListRedacted(
            self._tenant(tenant),
            None if project is None else v.check_name("project", project),
            v.check_range("after_seq", after_seq, -1, 2**62),
            v.check_range("limit", limit, 1, v.MAX_LIMIT))
        found: list[Fact] = await self._read(query)
        return found

    async def ledger_size(self) -> int:
        """Committed ledger entries, as a reader sees them."""
        size: int = await self._read(LedgerSize())
        return size



def _check_status(status: str) -> str:
    if status not in ("stated", "verified", "disputed"):
        raise InvalidInput("status", "must be stated, verified or disputed")
    return status
