"""Request bodies (msgspec; unknown fields refused) and response envelopes.

Types are checked by msgspec when the body is decoded; bounds (sizes, counts, names) by
the engine's validation, so the HTTP API and the Python API refuse exactly the same input.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec

from cortex.model import (
    Agent,
    ApiKey,
    Checkpoint,
    Entity,
    EntityFacts,
    Fact,
    Graph,
    VerifyReport,
    Vote,
)


class _Body(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Base of request bodies: a field the API does not know is a 400, not ignored."""


class EntityRef(_Body):
    """An entity the caller names for the graph (beyond those found in the content)."""

    name: str
    type: str = "concept"


class StoreBody(_Body):
    project: str
    content: str
    kind: str = "knowledge"
    tags: list[str] = msgspec.field(default_factory=list)
    source: str | None = None
    meta: dict[str, Any] | None = None
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    id: str | None = None
    entities: list[str | EntityRef] | None = None


class BatchBody(_Body):
    facts: Annotated[list[StoreBody], msgspec.Meta(min_length=1, max_length=1000)]


class UpdateBody(_Body):
    content: str | None = None
    kind: str | None = None
    tags: list[str] | None = None
    source: str | None = None
    meta: dict[str, Any] | None = None
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    entities: list[str | EntityRef] | None = None


class BackupBody(_Body):
    #: the copy goes to ``<data dir>/backups/<name>.db`` on the server (a new file)
    name: str


class BackupMade(msgspec.Struct, kw_only=True):
    path: str
    report: VerifyReport


class ReasonBody(_Body):
    reason: str | None = None


class VoteBody(_Body):
    value: int
    agent_id: str | None = None


class AgentBody(_Body):
    name: str
    public_key: str | None = None
    meta: dict[str, Any] | None = None


class KeyBody(_Body):
    role: str
    projects: list[str] | None = None
    agent_id: str | None = None
    name: str | None = None


class SearchBody(_Body):
    query: str
    mode: str = "hybrid"
    project: str | None = None
    kind: str | None = None
    tags: list[str] = msgspec.field(default_factory=list)
    top_k: int = 10
    at: datetime | None = None
    as_of: datetime | None = None
    #: attach each hit's entities and their neighbours to this depth (0..3)
    graph_depth: int | None = None


class FactList(msgspec.Struct, kw_only=True):
    facts: list[Fact]
    next_cursor: str | None = None


class EntityList(msgspec.Struct, kw_only=True):
    entities: list[Entity]


class EntityMatches(msgspec.Struct, kw_only=True):
    """Every entity of that name the key can see (one per project), with its facts."""

    matches: list[EntityFacts]


class PathFound(msgspec.Struct, kw_only=True):
    """``path`` is null when no chain of relations joins them within ``max_depth``."""

    path: Graph | None


def entity_refs(refs: list[str | EntityRef] | None) -> list[Any] | None:
    """Request entity refs as the engine takes them (names or ``{name, type}``)."""
    if refs is None:
        return None
    return [ref if isinstance(ref, str) else {"name": ref.name, "type": ref.type}
            for ref in refs]


class AgentList(msgspec.Struct, kw_only=True):
    agents: list[Agent]


class VoteList(msgspec.Struct, kw_only=True):
    votes: list[Vote]


class KeyList(msgspec.Struct, kw_only=True):
    keys: list[ApiKey]


class CheckpointList(msgspec.Struct, kw_only=True):
    checkpoints: list[Checkpoint]


class Entry(msgspec.Struct, kw_only=True):
    seq: int
    tenant: str
    action: str
    payload: dict[str, Any]
    entry_hash: str
    recorded_at: datetime


class EntryList(msgspec.Struct, kw_only=True):
    entries: list[Entry]
    next_start: int | None = None


class PublicKey(msgspec.Struct, kw_only=True):
    origin: str
    verifier_key: str


class Problem(msgspec.Struct, kw_only=True):
    """RFC 9457 problem details, with Cortex's stable ``code`` (and, per error, the values
    that explain it, such as ``field`` or ``retry_after``)."""

    type: str
    title: str
    status: int
    detail: str
    instance: str
    code: str
    field: str | None = None
    fact_id: str | None = None
    retry_after: float | None = None
