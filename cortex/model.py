"""The typed results Cortex hands out (msgspec structs, shared with the HTTP API)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import msgspec

Lifecycle = Literal["active", "superseded", "deprecated", "redacted"]


class Fact(msgspec.Struct, frozen=True, kw_only=True):
    """One version of a fact.

    ``recorded_at``/``superseded_at`` are transaction time (when Cortex learned and
    replaced it); ``valid_from``/``valid_until`` are valid time (when it holds in the
    world). ``recorded_seq`` is the ledger entry that recorded this version.
    """

    id: str
    tenant: str
    project: str
    kind: str
    content: str | None
    tags: list[str]
    source: str | None
    meta: dict[str, Any]
    #: from consensus only: "stated", "verified" (v1 score >= 1.5) or "disputed" (<= 0.5)
    status: str
    #: v1 score: max(0, 1 + 0.1 * sum of current votes)
    consensus_score: float
    #: v2: sum(value * weight) / sum(weight) over current votes, in [-1, 1] (0 without)
    confidence: float
    content_hash: str
    valid_from: datetime
    valid_until: datetime | None
    recorded_at: datetime
    recorded_seq: int
    supersedes: str | None
    superseded_by: str | None
    superseded_at: datetime | None
    deprecated_at: datetime | None
    deprecation_reason: str | None
    redacted: bool
    #: "active", "superseded", "deprecated" or "redacted"
    lifecycle: Lifecycle = "active"
    #: provenance, set by the server: the API key that stored it and that key's agent
    author_key: str | None = None
    author_agent: str | None = None


class FactPage(list[Fact]):
    """A page of facts, best first; ``next_cursor`` fetches the next page (or ``None``)."""

    next_cursor: str | None = None


class Checkpoint(msgspec.Struct, frozen=True, kw_only=True):
    """A signed tree head: the C2SP ``tlog-checkpoint`` ``note``, and its parts."""

    tree_size: int
    root_hash: str
    recorded_at: datetime
    reason: str
    origin: str
    key_id: str
    signature: str
    note: str


class InclusionProof(msgspec.Struct, frozen=True, kw_only=True):
    """RFC 9162 inclusion proof of entry ``leaf_index`` in the tree of ``tree_size``.

    ``entry`` is the canonical entry text; ``leaf_hash`` = SHA-256(0x00 ‖ entry);
    ``path`` is leaf-to-root; ``root_hash`` is the tree head the path leads to.
    """

    leaf_index: int
    tree_size: int
    leaf_hash: str
    entry: str
    path: list[str]
    root_hash: str


class ConsistencyProof(msgspec.Struct, frozen=True, kw_only=True):
    """RFC 9162 consistency proof: the tree of ``old_size`` is a prefix of ``new_size``."""

    old_size: int
    new_size: int
    old_root: str
    new_root: str
    path: list[str]


class VerifyProblem(msgspec.Struct, frozen=True, kw_only=True):
    seq: int | None
    what: str
    fact_id: str | None = None


class VerifyReport(msgspec.Struct, frozen=True, kw_only=True):
    """What ``verify`` found. ``first_bad`` is the lowest ledger position with a problem."""

    ok: bool
    checked: int
    facts_checked: int
    first_bad: int | None
    problems: list[VerifyProblem]
    redacted: list[str]
    tree_size: int
    root_hash: str
    since: int = 0


class Agent(msgspec.Struct, frozen=True, kw_only=True):
    """A voter. ``reputation`` = α / (α + β); ``weight`` is what its votes count in v2."""

    id: str
    tenant: str
    name: str
    public_key: str | None
    meta: dict[str, Any]
    reputation: float
    weight: float
    alpha: int
    beta: int
    active: bool
    created_at: datetime
    deactivated_at: datetime | None


class Vote(msgspec.Struct, frozen=True, kw_only=True):
    """An agent's current vote on a fact (+1 or -1) and its weight when cast."""

    fact_id: str
    agent_id: str
    value: int
    weight: float
    recorded_at: datetime
    seq: int


class VoteResult(msgspec.Struct, frozen=True, kw_only=True):
    """A fact's scores right after a vote, from the same writer step."""

    fact_id: str
    status: str
    consensus_score: float
    confidence: float
    votes: int
    seq: int | None
    reputation_changes: int = 0


class ReputationChange(msgspec.Struct, frozen=True, kw_only=True):
    """One observation added to an agent's Beta(α, β) when a fact it voted on resolved."""

    agent_id: str
    seq: int
    fact_id: str
    outcome: str
    agreed: bool
    alpha: int
    beta: int
    reputation: float
    recorded_at: datetime


class ApiKey(msgspec.Struct, frozen=True, kw_only=True):
    """An API key's record (never its secret)."""

    id: str
    prefix: str
    tenant: str
    role: str
    projects: list[str] | None
    agent_id: str | None
    name: str | None
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


class CreatedKey(msgspec.Struct, frozen=True, kw_only=True):
    """A new key: ``key`` is the secret, shown this once and never stored."""

    id: str
    key: str
    prefix: str
    tenant: str
    role: str
    projects: list[str] | None
    agent_id: str | None
    name: str | None
    created_at: datetime


class SearchHit(msgspec.Struct, frozen=True, kw_only=True):
    """One result: the fact, the fused score, and each side's rank and score."""

    fact: Fact
    score: float
    text_rank: int | None
    text_score: float | None
    vector_rank: int | None = None
    vector_score: float | None = None
    snippet: str | None = None
    #: with ``graph_depth``: the entities the fact mentions and their neighbours
    entities: list[Entity] | None = None


class SearchResults(msgspec.Struct, frozen=True, kw_only=True):
    """Hits, best first; ``mode`` is the mode that answered (it may have degraded)."""

    results: list[SearchHit]
    mode: str
    notice: str | None = None
    #: facts not embedded yet (semantic and hybrid searches cannot see them yet)
    pending: int | None = None


class Entity(msgspec.Struct, frozen=True, kw_only=True):
    """A thing facts mention: a file, a type, a tool, a URL, a project, a concept."""

    id: int
    project: str
    name: str
    type: str
    #: live fact versions that mention it
    mentions: int
    first_seen: datetime
    last_seen: datetime
    #: hops from where a graph query started (0 for the start itself)
    depth: int | None = None


class Edge(msgspec.Struct, frozen=True, kw_only=True):
    """``source -type-> target``, asserted by ``weight`` live facts (``fact_ids``)."""

    source: int
    target: int
    type: str
    weight: int
    fact_ids: list[str]


class Graph(msgspec.Struct, frozen=True, kw_only=True):
    """Entities and the edges between them: neighbours, a subgraph, or a path."""

    nodes: list[Entity]
    edges: list[Edge]
    #: the node bound cut the answer short
    truncated: bool = False


class EntityFacts(msgspec.Struct, frozen=True, kw_only=True):
    entity: Entity
    facts: list[Fact]
