"""Messages to the engine's actors: commands (imperative), replies (past), queries (nouns)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cortex.core.extraction import Extraction
from cortex.core.validation import FactChanges, FactDraft
from cortex.db.queries import RecallFilter
from cortex.db.search import SearchFilter
from cortex.model import Checkpoint, Fact

# --- commands for the writer -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StoreFact:
    tenant: str
    draft: FactDraft
    #: the caller chose the id (an import, a retry): look for an existing fact first
    id_given: bool = True


@dataclass(frozen=True, slots=True)
class StoreFacts:
    """Several facts in one savepoint: all stored or none."""

    tenant: str
    drafts: tuple[FactDraft, ...]
    id_given: bool = True


@dataclass(frozen=True, slots=True)
class UpdateFact:
    tenant: str
    fact_id: str
    new_id: str
    changes: FactChanges
    author: tuple[str | None, str | None] = (None, None)
    #: the new version's graph, when its content or entities change (else inherited)
    graph: Extraction | None = None


@dataclass(frozen=True, slots=True)
class DeprecateFact:
    tenant: str
    fact_id: str
    reason: str | None


@dataclass(frozen=True, slots=True)
class RedactFact:
    tenant: str
    fact_id: str
    reason: str | None


@dataclass(frozen=True, slots=True)
class MakeCheckpoint:
    """Sign the current head (an existing checkpoint at that size is returned)."""

    reason: str = "manual"


@dataclass(frozen=True, slots=True)
class RegisterAgent:
    tenant: str
    agent_id: str
    name: str
    public_key: str | None
    meta: dict[str, Any]


@dataclass(frozen=True, slots=True)
class DeactivateAgent:
    tenant: str
    agent_id: str


@dataclass(frozen=True, slots=True)
class CastVote:
    """+1 or -1 records the agent's current vote on the fact; 0 withdraws it."""

    tenant: str
    fact_id: str
    agent_id: str
    value: int


@dataclass(frozen=True, slots=True)
class CreateKey:
    key_id: str
    secret: str
    tenant: str
    role: str
    projects: list[str] | None
    agent_id: str | None
    name: str | None


@dataclass(frozen=True, slots=True)
class RevokeKey:
    tenant: str
    key_id: str


@dataclass(frozen=True, slots=True)
class TouchKeys:
    """Batched last-use times (key id -> µs); sent with ``tell``, no reply."""

    last_used: dict[str, int]


@dataclass(frozen=True, slots=True)
class StoreVectors:
    """The indexer's batch: (fact rowid, float32 blob) per fact version. ``final``: the
    model has caught up with every fact, so other models' vectors are purged."""

    model: str
    vectors: list[tuple[int, bytes]]
    up_to_rowid: int
    final: bool = False


@dataclass(frozen=True, slots=True)
class ProbeStorage:
    """Make one tiny write outside the ledger: does the database take writes again?"""


WriteCommand = (StoreFact | StoreFacts | UpdateFact | DeprecateFact | RedactFact
                | MakeCheckpoint | RegisterAgent | DeactivateAgent | CastVote | CreateKey
                | RevokeKey | TouchKeys | StoreVectors | ProbeStorage)

# --- writer replies ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FactStored:
    fact: Fact
    #: False when the id already held identical content (an idempotent replay)
    created: bool


@dataclass(frozen=True, slots=True)
class FactsStored:
    facts: list[Fact]


@dataclass(frozen=True, slots=True)
class FactUpdated:
    fact: Fact


@dataclass(frozen=True, slots=True)
class FactDeprecated:
    fact: Fact


@dataclass(frozen=True, slots=True)
class FactRedacted:
    fact: Fact


@dataclass(frozen=True, slots=True)
class CheckpointMade:
    checkpoint: Checkpoint
    created: bool


# --- queries for the readers ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GetFact:
    tenant: str
    fact_id: str


@dataclass(frozen=True, slots=True)
class Recall:
    filter: RecallFilter


@dataclass(frozen=True, slots=True)
class History:
    tenant: str
    fact_id: str
    as_of: int | None


@dataclass(frozen=True, slots=True)
class LedgerSize:
    """The number of ledger entries a reader sees (committed ones only)."""


@dataclass(frozen=True, slots=True)
class ProveInclusion:
    leaf_index: int
    tree_size: int | None


@dataclass(frozen=True, slots=True)
class ProveConsistency:
    old_size: int
    new_size: int | None


@dataclass(frozen=True, slots=True)
class ListCheckpoints:
    limit: int


@dataclass(frozen=True, slots=True)
class GetAgent:
    tenant: str
    agent_id: str


@dataclass(frozen=True, slots=True)
class ListAgents:
    tenant: str
    include_inactive: bool
    limit: int
    offset: int


@dataclass(frozen=True, slots=True)
class ListVotes:
    tenant: str
    fact_id: str


@dataclass(frozen=True, slots=True)
class ReputationHistory:
    tenant: str
    agent_id: str
    limit: int


@dataclass(frozen=True, slots=True)
class ListEntries:
    tenant: str
    start: int
    limit: int


@dataclass(frozen=True, slots=True)
class TextSearch:
    filter: SearchFilter


@dataclass(frozen=True, slots=True)
class VectorSearch:
    filter: SearchFilter
    vector: bytes


@dataclass(frozen=True, slots=True)
class PendingVectors:
    tenant: str
    after_rowid: int


@dataclass(frozen=True, slots=True)
class KeyByHash:
    secret_hash: str


@dataclass(frozen=True, slots=True)
class ListKeys:
    tenant: str
    include_revoked: bool


# --- entity graph queries -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ListEntities:
    tenant: str
    project: str | None
    q: str | None
    type: str | None
    limit: int
    offset: int
    projects: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class EntityWithFacts:
    tenant: str
    entity: str | int
    project: str | None
    limit: int
    projects: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class Neighbors:
    tenant: str
    entity: str | int
    depth: int
    relation: str | None
    project: str | None
    max_nodes: int
    projects: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class FindPath:
    tenant: str
    source: str | int
    target: str | int
    max_depth: int
    project: str | None
    projects: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class FactsSubgraph:
    tenant: str
    fact_ids: tuple[str, ...]
    depth: int
    max_nodes: int


@dataclass(frozen=True, slots=True)
class FactEntities:
    tenant: str
    fact_ids: tuple[str, ...]
    depth: int
    max_nodes: int


@dataclass(frozen=True, slots=True)
class ExplicitEntities:
    """The ``(name, type)`` entities a fact version's caller named."""

    tenant: str
    fact_id: str


@dataclass(frozen=True, slots=True)
class ListRedacted:
    """Redacted fact versions after ``after_seq`` (their recorded seq), oldest first."""

    tenant: str
    project: str | None
    after_seq: int
    limit: int


GraphQuery = (ListEntities | EntityWithFacts | Neighbors | FindPath | FactsSubgraph
              | FactEntities | ExplicitEntities)

ReadQuery = (GetFact | Recall | History | LedgerSize | ProveInclusion | ProveConsistency
             | ListCheckpoints | GetAgent | ListAgents | ListVotes | ReputationHistory
             | KeyByHash | ListKeys | ListEntries | TextSearch | VectorSearch | PendingVectors
             | ListRedacted | GraphQuery)
