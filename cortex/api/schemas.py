"""Request bodies (msgspec; unknown fields refused) and response envelopes.

Types are checked by msgspec when the body is decoded; bounds (sizes, counts, names) by
the engine's validation, so the HTTP API and the Python API refuse exactly the same input.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec

from cortex.model import Agent, ApiKey, Checkpoint, Fact, Vote


class _Body(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Base of request bodies: a field the API does not know is a 400, not ignored."""


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


class FactList(msgspec.Struct, kw_only=True):
    facts: list[Fact]
    next_cursor: str | None = None


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
