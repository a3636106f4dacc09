"""``Cortex``: the in-process engine. Validates, then asks the writer or a reader.

    async with Cortex.open("data/cortex.db") as cx:
        fact = await cx.store(project="infra", content="Use WAL mode")
        page = await cx.recall(project="infra")
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any, NamedTuple

import anyio
import structlog

import actors
from actors import ActorRef, ActorStatistics, ActorSystem
from cortex.config import Settings
from cortex.core import validation as v
from cortex.db.lock import DatabaseLock
from cortex.db.mutations.checkpoints import Signer
from cortex.db.trusted import TrustedHeads
from cortex.db.vector_index import VectorIndex
from cortex.embed.model_files import MODEL_ID
from cortex.engine.agents_api import AgentsHandle
from cortex.engine.embeddings import EmbeddingService
from cortex.engine.fact_reads import FactReads
from cortex.engine.graph_api import GraphHandle
from cortex.engine.indexer import IndexerActor, IndexProgress, Wake
from cortex.engine.keys_api import KeysHandle
from cortex.engine.ledger_api import LedgerHandle
from cortex.engine.messages import (
    CastVote,
    DeprecateFact,
    FactDeprecated,
    FactRedacted,
    FactsStored,
    FactStored,
    FactUpdated,
    ListVotes,
    ProbeStorage,
    ReadQuery,
    RedactFact,
    StoreFact,
    StoreFacts,
    UpdateFact,
    WriteCommand,
)
from cortex.engine.readers import ReaderActor
from cortex.engine.writer import WriterActor
from cortex.errors import CortexError, IntegrityError, InvalidInput, Overloaded, ShuttingDown
from cortex.ids import new_fact_id
from cortex.log import configure_logging
from cortex.model import Fact, Vote, VoteResult
from cortex.trust import default_origin, load_or_create_key

log = structlog.get_logger("cortex")

_STORE_FIELDS = frozenset(
    {"project", "content", "kind", "tags", "source", "meta", "valid_from", "valid_until", "id",
     "entities"}
)


@dataclasses.dataclass(frozen=True, slots=True)
class Author:
    """Provenance the server layer attaches to writes: the API key and its agent."""

    key_id: str
    agent_id: str | None = None


class CortexStatistics(NamedTuple):
    """A snapshot of the engine's actors and ledger."""

    #: the writer's mailbox, batches and counters
    writer: ActorStatistics
    #: the reader pool's shared mailbox and counters
    readers: ActorStatistics
    #: ledger entries committed (the next entry's seq)
    ledger_size: int
    #: the trusted root of that tree (hex)
    root_hash: str


class Cortex(FactReads):
    """The memory ledger, in process. Obtain one with ``Cortex.open``."""

    def __init__(
        self,
        settings: Settings,
        writer: ActorRef[WriteCommand],
        readers: ActorRef[ReadQuery],
        writer_actor: WriterActor,
        embeddings: EmbeddingService | None = None,
    ) -> None:
        self.settings = settings
        self._writer = writer
        self._readers = readers
        self._writer_actor = writer_actor
        self.signer = writer_actor.context.signer
        self.trusted = writer_actor.trusted
        self.ledger = LedgerHandle(self)
        self.agents = AgentsHandle(self)
        self.keys = KeysHandle(self)
        self.graph = GraphHandle(self)
        self.embeddings = embeddings or EmbeddingService(settings)
        self.index_progress = IndexProgress()
        self._indexer: ActorRef[Wake] | None = None
        #: reads refused because stored data did not match the ledger (health turns red)
        self.integrity_failures: list[IntegrityError] = []

    @classmethod
    @asynccontextmanager
    async def open(
        cls, path: str | os.PathLike[str] | None = None, **settings: Any
    ) -> AsyncIterator[Cortex]:
        """Open (creating and migrating if needed) the database at ``path``.

        Holds the database's file lock and the actor system for the block's duration;
        on exit, stops intake, drains queued work, answers every pending call and
        closes the connections.

        Raises:
            DatabaseLocked: another process holds the database.
            SchemaTooNew: the file was written by a newer Cortex.
            InvalidInput: an unknown or out-of-bounds setting.
        """
        config = Settings.load(path, **settings)
        configure_logging(config.log_level, config.log_format)
        lock = DatabaseLock(config.lock_path, config.db_path)
        with lock:
            key = load_or_create_key(config.signing_key_path)
            signer = Signer(config.origin or default_origin(key), key)
            trusted = TrustedHeads()
            async with ActorSystem(stop_timeout=config.stop_timeout) as system:
                writer_actor = WriterActor(config, signer, trusted)
                writer = await system.spawn(
                    lambda: writer_actor,
                    name="writer",
                    mailbox_size=config.writer_mailbox,
                    enqueue_timeout=config.enqueue_timeout,
                    max_batch=config.max_batch,
                )
                vectors = VectorIndex(MODEL_ID)  # one per process, shared by the readers
                readers = await system.spawn(
                    lambda: ReaderActor(config, trusted, vectors),
                    name="readers",
                    mailbox_size=config.reader_mailbox,
                    enqueue_timeout=config.enqueue_timeout,
                    pool_size=config.readers,
                )
                cortex = cls(config, writer, readers, writer_actor)
                indexer = IndexerActor(config, cortex.embeddings, writer, cortex.index_progress)
                cortex._indexer = await system.spawn(
                    lambda: indexer, name="indexer", mailbox_size=1, enqueue_timeout=0)
                cortex._wake_indexer()  # resume what a previous run left pending
                try:
                    yield cortex
                finally:
                    indexer.stop_soon()
                    cortex.index_progress.close()
                    with anyio.CancelScope(shield=True), contextlib.suppress(Exception):
                        await cortex.keys.flush_last_used()
                log.info("cortex.closing", db=str(config.db_path))
        log.info("cortex.closed", db=str(config.db_path), ledger_size=writer_actor.head.next_seq)

    # --- writes -------------------------------------------------------------------

    async def store(
        self,
        project: str,
        content: str,
        *,
        kind: str = v.DEFAULT_KIND,
        tags: Iterable[str] = (),
        source: str | None = None,
        meta: Mapping[str, Any] | None = None,
        valid_from: Any = None,
        valid_until: Any = None,
        id: str | None = None,
        entities: Iterable[Any] | None = None,
        tenant: str | None = None,
        author: Author | None = None,
        wait_indexed: bool = False,
    ) -> Fact:
        """Store a fact; return it as stored (with ``id``, ``recorded_seq``, hashes).

        Acknowledged only after the group commit that made it durable. Passing an
        ``id`` that already holds the same content returns that fact (idempotent).
        ``entities`` names entities for the graph beyond those found in the content:
        names, or ``{"name", "type"}`` objects.

        Raises:
            InvalidInput: an argument out of bounds (nothing written).
            FactConflict: ``id`` exists with different content.
            Overloaded: the writer's queue stayed full for ``enqueue_timeout``.
        """
        draft = v.draft_fact(project=project, content=content, kind=kind, tags=tags,
                             source=source, meta=meta, valid_from=valid_from,
                             valid_until=valid_until, id=new_fact_id() if id is None else id,
                             entities=entities)
        draft = self.graph.annotate(draft)
        if author is not None:
            draft = dataclasses.replace(draft, author_key=author.key_id,
                                        author_agent=author.agent_id)
        command = StoreFact(self._tenant(tenant), draft, id_given=id is not None)
        reply: FactStored = await self._write(command)
        self._wake_indexer()
        if wait_indexed:
            await self.wait_indexed(reply.fact)
        return reply.fact

    async def store_many(
        self, items: Iterable[Mapping[str, Any]], *, tenant: str | None = None,
        author: Author | None = None,
    ) -> list[Fact]:
        """Store several facts in one writer step: all of them or none.

        Each item takes the keyword arguments of ``store``.

        Raises:
            InvalidInput: naming ``items[i].field`` for the first bad item.
        """
        drafts = []
        items_list = list(items)
        for index, item in enumerate(items_list):
            if index >= v.MAX_BATCH:
                raise InvalidInput("items", f"has more than {v.MAX_BATCH} facts")
            if not isinstance(item, Mapping):
                raise InvalidInput(f"items[{index}]", "must be an object")
            unknown = set(item) - _STORE_FIELDS
            if unknown:
                raise InvalidInput(f"items[{index}]", f"unknown fields {sorted(unknown)}")
            try:
                draft = self.graph.annotate(_with_id(v.draft_fact(**item)))
                if author is not None:
                    draft = dataclasses.replace(draft, author_key=author.key_id,
                                                author_agent=author.agent_id)
                drafts.append(draft)
            except InvalidInput as error:
                raise InvalidInput(f"items[{index}].{error.field}", error.problem) from None
            except TypeError:
                raise InvalidInput(f"items[{index}]", "needs project and content") from None
        if not drafts:
            raise InvalidInput("items", "must hold at least one fact")
        id_given = any(item.get("id") is not None for item in items_list)
        command = StoreFacts(self._tenant(tenant), tuple(drafts), id_given)
        reply: FactsStored = await self._write(command)
        self._wake_indexer()
        return reply.facts

    async def update(
        self, id: str, *, tenant: str | None = None, author: Author | None = None,
        **changes: Any,
    ) -> Fact:
        """Record a new version of fact ``id``; the old one becomes superseded.

        ``changes`` takes ``content``, ``kind``, ``tags``, ``source``, ``meta``,
        ``valid_from``, ``valid_until``; what is not given carries over.

        Raises:
            FactNotFound, FactSuperseded, FactIsDeprecated, InvalidInput.
        """
        unknown = set(changes) - (_STORE_FIELDS - {"project", "id"})
        if unknown:
            raise InvalidInput(sorted(unknown)[0], "cannot be changed by an update")
        tenant_name, fact_id = self._tenant(tenant), v.check_fact_id("id", id)
        checked = v.draft_changes(**changes)
        command = UpdateFact(tenant_name, fact_id, new_fact_id(), checked,
                             (None, None) if author is None else (author.key_id,
                                                                  author.agent_id),
                             await self.graph.for_update(tenant_name, fact_id, checked))
        reply: FactUpdated = await self._write(command)
        self._wake_indexer()
        return reply.fact

    async def deprecate(
        self, id: str, reason: str | None = None, *, tenant: str | None = None
    ) -> Fact:
        """Retire fact ``id``: kept in history and the ledger, hidden from recall.

        Raises:
            FactNotFound, FactSuperseded, FactIsDeprecated, InvalidInput.
        """
        command = DeprecateFact(self._tenant(tenant), v.check_fact_id("id", id),
                                v.check_reason(reason))
        reply: FactDeprecated = await self._write(command)
        return reply.fact

    async def redact(
        self, id: str, reason: str | None = None, *, tenant: str | None = None
    ) -> Fact:
        """Erase the content, tags, source and meta of every version of fact ``id``.

        The content hash stays, so the ledger still verifies; the redaction is itself a
        ledger entry. The fact keeps its place in history with ``status == "redacted"``.

        Raises:
            FactNotFound, FactIsRedacted, InvalidInput.
        """
        command = RedactFact(self._tenant(tenant), v.check_fact_id("id", id),
                             v.check_reason(reason))
        reply: FactRedacted = await self._write(command)
        return reply.fact

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """all-MiniLM-L6-v2 sentence embeddings: 384 floats of unit length per text.

        Raises:
            InvalidInput: not 1..256 strings of at most 64 KiB.
            ModelUnavailable: the model package is not installed (the message says how).
        """
        return await self.embeddings.embed(texts)

    async def vote(
        self, fact_id: str, agent_id: str, value: int, *, tenant: str | None = None
    ) -> VoteResult:
        """Record ``agent_id``'s vote on ``fact_id`` (+1, -1; 0 withdraws) and return the
        fact's new scores, computed in the same writer step as the vote.

        Raises:
            InvalidInput, FactNotFound, FactSuperseded, FactIsDeprecated, FactIsRedacted,
            AgentNotFound, AgentInactive.
        """
        if isinstance(value, bool) or value not in (-1, 0, 1):
            raise InvalidInput("value", "must be -1, 0 (withdraw) or 1")
        command = CastVote(self._tenant(tenant), v.check_fact_id("fact_id", fact_id),
                           v.check_fact_id("agent_id", agent_id), int(value))
        result: VoteResult = await self._write(command)
        return result

    async def votes(self, fact_id: str, *, tenant: str | None = None) -> list[Vote]:
        """The current votes on a fact (withdrawn ones are in the ledger only)."""
        query = ListVotes(self._tenant(tenant), v.check_fact_id("fact_id", fact_id))
        found: list[Vote] = await self._read(query)
        return found

    def statistics(self) -> CortexStatistics:
        return CortexStatistics(
            writer=self._writer.statistics(),
            readers=self._readers.statistics(),
            ledger_size=self._writer_actor.head.next_seq,
            root_hash=self._writer_actor.head.root().hex(),
        )

    async def check_storage(self) -> CortexError | None:
        """The storage fault that failed the last write, if it still holds.

        While one is recorded, this makes one tiny probe write, so a fault that cleared
        is noticed even with no writes coming in (``/health`` calls it).
        """
        if self._writer_actor.storage_fault is not None:
            with contextlib.suppress(CortexError):
                await self._write(ProbeStorage())
        return self._writer_actor.storage_fault

    # --- plumbing -----------------------------------------------------------------

    def _wake_indexer(self) -> None:
        """Tell the indexer new facts may be waiting; a wake already queued covers it."""
        if self._indexer is None or not self.settings.index_vectors:
            return
        with contextlib.suppress(actors.Overloaded, actors.ShuttingDown):
            self._indexer.tell_nowait(Wake())

    async def wait_indexed(self, fact: Fact) -> None:
        """Wait until ``fact`` has its vector (cancel the caller to give up).

        Raises:
            ModelUnavailable: embeddings are not installed, so it never will.
        """
        if not self.settings.index_vectors:
            raise InvalidInput("wait_indexed", "background indexing is off (index_vectors)")
        await self.embeddings.embedder()
        self._wake_indexer()
        await self.index_progress.wait_for(fact.recorded_seq)

    def _tenant(self, tenant: str | None) -> str:
        return self.settings.tenant if tenant is None else v.check_name("tenant", tenant)

    async def _write(self, command: WriteCommand) -> Any:
        try:
            return await _ask(self._writer, command)
        except IntegrityError as error:  # a damaged page met by a write (DatabaseCorrupt)
            self._integrity_failure(error)
            raise

    async def _read(self, query: ReadQuery) -> Any:
        try:
            return await _ask(self._readers, query)
        except IntegrityError as error:
            self._integrity_failure(error)
            raise

    def _integrity_failure(self, error: IntegrityError) -> None:
        log.error("cortex.integrity_failure", code=error.code, detail=error.detail,
                  seq=error.seq, fact_id=error.fact_id)
        self.integrity_failures.append(error)
        del self.integrity_failures[:-10]


async def _ask(ref: ActorRef[Any], message: Any) -> Any:
    """Ask an actor, turning the runtime's errors into Cortex's."""
    try:
        return await ref.ask(message)
    except actors.Overloaded as error:
        if isinstance(error, Overloaded):
            raise
        raise Overloaded(ref.name, retry_after=1.0) from error
    except actors.ShuttingDown as error:
        if isinstance(error, ShuttingDown):
            raise
        raise ShuttingDown(ref.name) from error


def _with_id(draft: v.FactDraft) -> v.FactDraft:
    return draft if draft.id is not None else dataclasses.replace(draft, id=new_fact_id())
