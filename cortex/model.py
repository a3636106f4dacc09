"""The typed results Cortex hands out (msgspec structs, shared with the HTTP API)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import msgspec

Status = Literal["active", "superseded", "deprecated", "redacted"]


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
    confidence: str
    consensus_score: float
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

    @property
    def status(self) -> Status:
        if self.redacted:
            return "redacted"
        if self.deprecated_at is not None:
            return "deprecated"
        if self.superseded_by is not None:
            return "superseded"
        return "active"


class RecallPage(msgspec.Struct, frozen=True, kw_only=True):
    """One page of recall results, best first; pass ``next_cursor`` to get the next."""

    facts: list[Fact]
    next_cursor: str | None
