"""Row <-> model conversion shared by the read and write paths.

Fact rows are selected with ``FACT_COLUMNS`` and turned into dicts keyed by
``FACT_FIELDS``; the same dict feeds ``Fact`` and the state hash that reads verify.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

import msgspec

from cortex.core import consensus
from cortex.core.timeutil import from_micros
from cortex.model import Agent, ApiKey, Checkpoint, Fact, Vote

FACT_FIELDS = (
    "id", "tenant", "project", "kind", "content", "tags", "source", "meta", "status",
    "consensus_score", "confidence", "content_hash", "attrs_hash", "lineage", "supersedes",
    "superseded_by",
    "superseded_at", "superseded_seq", "valid_from", "valid_until", "recorded_at",
    "recorded_seq", "deprecated_at", "deprecated_seq", "deprecation_reason", "redacted",
    "redacted_at", "redacted_seq", "author_key", "author_agent", "state_seq",
)
FACT_COLUMNS = ", ".join(FACT_FIELDS)
_WIDTH = len(FACT_FIELDS)


def row_dict(row: Sequence[Any]) -> dict[str, Any]:
    """Name the first ``len(FACT_FIELDS)`` values of a row selected with ``FACT_COLUMNS``."""
    return dict(zip(FACT_FIELDS, tuple(row)[:_WIDTH], strict=True))


_decode = msgspec.json.decode


def _maybe_time(value: int | None) -> Any:
    return None if value is None else from_micros(value)


def _lifecycle(r: dict[str, Any]) -> Any:
    if r["redacted"]:
        return "redacted"
    if r["deprecated_seq"] is not None:
        return "deprecated"
    if r["superseded_by"] is not None:
        return "superseded"
    return "active"


def fact_from_row(row: Sequence[Any] | dict[str, Any]) -> Fact:
    """Build a ``Fact`` from a row selected with ``FACT_COLUMNS`` (or its ``row_dict``)."""
    r = row if isinstance(row, dict) else row_dict(row)
    return Fact(
        id=r["id"],
        tenant=r["tenant"],
        project=r["project"],
        kind=r["kind"],
        content=r["content"],
        tags=_decode(r["tags"]),
        source=r["source"],
        meta=_decode(r["meta"]),
        status=r["status"],
        consensus_score=r["consensus_score"],
        confidence=r["confidence"],
        content_hash=r["content_hash"],
        valid_from=from_micros(r["valid_from"]),
        valid_until=_maybe_time(r["valid_until"]),
        recorded_at=from_micros(r["recorded_at"]),
        recorded_seq=r["recorded_seq"],
        supersedes=r["supersedes"],
        superseded_by=r["superseded_by"],
        superseded_at=_maybe_time(r["superseded_at"]),
        deprecated_at=_maybe_time(r["deprecated_at"]),
        deprecation_reason=r["deprecation_reason"],
        redacted=bool(r["redacted"]),
        lifecycle=_lifecycle(r),
        author_key=r["author_key"],
        author_agent=r["author_agent"],
    )


def checkpoint_from_row(
    tree_size: int, root: bytes, recorded_at: int, reason: str, note: str
) -> Checkpoint:
    """A stored checkpoint, with the origin, key id and signature split out of its note."""
    origin = note.split("\n", 1)[0]
    blob = base64.b64decode(note.rstrip("\n").rsplit(" ", 1)[-1])
    return Checkpoint(
        tree_size=tree_size,
        root_hash=bytes(root).hex(),
        recorded_at=from_micros(recorded_at),
        reason=reason,
        origin=origin,
        key_id=blob[:4].hex(),
        signature=base64.b64encode(blob[4:]).decode(),
        note=note,
    )


AGENT_FIELDS = ("id", "tenant", "name", "public_key", "meta", "alpha", "beta", "active",
                "created_at", "deactivated_at", "state_seq")
AGENT_COLUMNS = ", ".join(AGENT_FIELDS)
VOTE_FIELDS = ("fact_id", "agent_id", "tenant", "value", "weight", "recorded_at", "state_seq")
VOTE_COLUMNS = ", ".join(VOTE_FIELDS)


def agent_row_dict(row: Sequence[Any]) -> dict[str, Any]:
    return dict(zip(AGENT_FIELDS, tuple(row), strict=True))


def agent_from_row(r: dict[str, Any]) -> Agent:
    alpha, beta = r["alpha"], r["beta"]
    return Agent(
        id=r["id"], tenant=r["tenant"], name=r["name"], public_key=r["public_key"],
        meta=_decode(r["meta"]), reputation=consensus.reputation(alpha, beta),
        weight=consensus.agent_weight(alpha, beta), alpha=alpha, beta=beta,
        active=bool(r["active"]), created_at=from_micros(r["created_at"]),
        deactivated_at=_maybe_time(r["deactivated_at"]),
    )


def vote_row_dict(row: Sequence[Any]) -> dict[str, Any]:
    return dict(zip(VOTE_FIELDS, tuple(row), strict=True))


def vote_from_row(r: dict[str, Any]) -> Vote:
    return Vote(fact_id=r["fact_id"], agent_id=r["agent_id"], value=r["value"],
                weight=r["weight"], recorded_at=from_micros(r["recorded_at"]),
                seq=r["state_seq"])


KEY_FIELDS = ("id", "prefix", "secret_hash", "tenant", "role", "projects", "agent_id", "name",
              "created_at", "revoked_at", "last_used_at", "state_seq")
KEY_COLUMNS = ", ".join(KEY_FIELDS)


def key_row_dict(row: Sequence[Any]) -> dict[str, Any]:
    return dict(zip(KEY_FIELDS, tuple(row), strict=True))


def key_from_row(r: dict[str, Any]) -> ApiKey:
    return ApiKey(
        id=r["id"], prefix=r["prefix"], tenant=r["tenant"], role=r["role"],
        projects=None if r["projects"] is None else _decode(r["projects"]),
        agent_id=r["agent_id"], name=r["name"], created_at=from_micros(r["created_at"]),
        revoked_at=_maybe_time(r["revoked_at"]), last_used_at=_maybe_time(r["last_used_at"]),
    )
