"""Reader actors: a pool sharing one inbox, each with its own read-only connection."""

from __future__ import annotations

import time
from typing import assert_never

import aiosqlite
import sqlean

from actors import Actor
from cortex.config import Settings
from cortex.db import consensus_queries as cq
from cortex.db import graph_queries as gq
from cortex.db import key_queries as kq
from cortex.db import proofs, queries
from cortex.db.connect import open_reader, run_sync
from cortex.db.search import pending_vectors, text_search, vector_search
from cortex.db.trusted import TrustedHeads
from cortex.db.vector_index import VectorIndex
from cortex.db.verified import ReadVerifier, ledger_size
from cortex.embed.model_files import MODEL_ID
from cortex.engine.messages import (
    EntityWithFacts,
    ExplicitEntities,
    FactEntities,
    FactsSubgraph,
    FindPath,
    GetAgent,
    GetFact,
    GraphQuery,
    History,
    KeyByHash,
    LedgerSize,
    ListAgents,
    ListCheckpoints,
    ListEntities,
    ListEntries,
    ListKeys,
    ListRedacted,
    ListVotes,
    Neighbors,
    PendingVectors,
    ProveConsistency,
    ProveInclusion,
    ReadQuery,
    Recall,
    ReputationHistory,
    TextSearch,
    VectorSearch,
)
from cortex.engine.storage import translate


class ReaderActor(Actor[ReadQuery]):
    """Answers queries; every query is one synchronous function on the connection thread,
    and every fact it returns was verified against the ledger first."""

    def __init__(self, settings: Settings, trusted: TrustedHeads,
                 vectors: VectorIndex | None = None) -> None:
        self.settings = settings
        self.trusted = trusted
        self.verifier = ReadVerifier(trusted, enabled=not settings.allow_tampered)
        #: the current model's vectors, shared by the pool (see cortex/db/vector_index.py)
        self.vectors = vectors or VectorIndex(MODEL_ID)
        self.conn: aiosqlite.Connection | None = None

    async def on_start(self) -> None:
        self.conn = await open_reader(self.settings)

    async def on_stop(self) -> None:
        if self.conn is not None:
            conn, self.conn = self.conn, None
            await conn.close()

    async def handle(self, message: ReadQuery) -> object:
        """Answer ``message``; a damaged page is ``DatabaseCorrupt``, never a bare error."""
        try:
            return await self._answer(message)
        except sqlean.DatabaseError as error:
            typed = translate(error, str(self.settings.db_path))
            if typed is None:
                raise
            raise typed from error

    async def _answer(self, message: ReadQuery) -> object:
        assert self.conn is not None, "on_start opened the connection"
        conn, verifier, trusted = self.conn, self.verifier, self.trusted
        match message:
            case GetFact(tenant, fact_id):
                return await run_sync(conn, queries.get_fact, verifier, tenant, fact_id)
            case Recall(recall_filter):
                now = time.time_ns() // 1000
                return await run_sync(conn, queries.recall, verifier, recall_filter, now)
            case History(tenant, fact_id, as_of):
                return await run_sync(conn, queries.history, verifier, tenant, fact_id, as_of)
            case LedgerSize():
                return await run_sync(conn, ledger_size)
            case ProveInclusion(leaf_index, tree_size):
                return await run_sync(conn, proofs.prove_inclusion, trusted, leaf_index,
                                      tree_size)
            case ProveConsistency(old_size, new_size):
                return await run_sync(conn, proofs.prove_consistency, trusted, old_size,
                                      new_size)
            case ListCheckpoints(limit):
                return await run_sync(conn, proofs.list_checkpoints, limit)
            case GetAgent(tenant, agent_id):
                return await run_sync(conn, cq.get_agent, verifier, tenant, agent_id)
            case ListAgents(tenant, include_inactive, limit, offset):
                return await run_sync(conn, cq.list_agents, verifier, tenant, include_inactive,
                                      limit, offset)
            case ListVotes(tenant, fact_id):
                return await run_sync(conn, cq.list_votes, verifier, tenant, fact_id)
            case ReputationHistory(tenant, agent_id, limit):
                return await run_sync(conn, cq.reputation_history, tenant, agent_id, limit)
            case KeyByHash(secret_hash):
                return await run_sync(conn, kq.key_by_hash, verifier, secret_hash)
            case TextSearch(search_filter):
                now = time.time_ns() // 1000
                return await run_sync(conn, text_search, verifier, search_filter, now)
            case VectorSearch(search_filter, vector):
                now = time.time_ns() // 1000
                return await run_sync(conn, vector_search, verifier, self.vectors, search_filter,
                                     vector, now)
            case PendingVectors(tenant, after_rowid):
                return await run_sync(conn, pending_vectors, tenant, after_rowid)
            case ListEntries(tenant, start, limit):
                return await run_sync(conn, proofs.list_entries, tenant, start, limit)
            case ListRedacted(tenant, project, after_seq, limit):
                return await run_sync(conn, queries.redacted, verifier, tenant, project,
                                      after_seq, limit)
            case ListKeys(tenant, include_revoked):
                return await run_sync(conn, kq.list_keys, verifier, tenant, include_revoked)
            case (ListEntities() | EntityWithFacts() | Neighbors() | FindPath()
                  | FactsSubgraph() | FactEntities() | ExplicitEntities()):
                return await self._graph(conn, message)
            case _:
                assert_never(message)

    async def _graph(self, conn: aiosqlite.Connection, message: GraphQuery) -> object:
        match message:
            case ListEntities(tenant, project, q, kind, limit, offset, projects):
                return await run_sync(conn, gq.list_entities, tenant, project, q, kind, limit,
                                      offset, projects)
            case EntityWithFacts(tenant, entity, project, limit, projects):
                return await run_sync(conn, gq.entity_facts, self.verifier, tenant, entity,
                                      project, limit, projects)
            case Neighbors(tenant, entity, depth, relation, project, max_nodes, projects):
                return await run_sync(conn, gq.neighbors, tenant, entity, depth, relation,
                                      project, max_nodes, projects)
            case FindPath(tenant, source, target, max_depth, project, projects):
                return await run_sync(conn, gq.path, tenant, source, target, max_depth,
                                      project, projects)
            case FactsSubgraph(tenant, fact_ids, depth, max_nodes):
                return await run_sync(conn, gq.subgraph_of_facts, tenant, fact_ids, depth,
                                      max_nodes)
            case FactEntities(tenant, fact_ids, depth, max_nodes):
                return await run_sync(conn, gq.fact_entities, tenant, fact_ids, depth,
                                      max_nodes)
            case ExplicitEntities(tenant, fact_id):
                return await run_sync(conn, gq.explicit_entities, tenant, fact_id)
            case _:
                assert_never(message)
