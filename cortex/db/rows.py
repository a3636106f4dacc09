"""Row <-> model conversion shared by the read and write paths."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from cortex.core.timeutil import from_micros
from cortex.model import Fact

FACT_COLUMNS = (
    "id, tenant, project, kind, content, tags, source, meta, confidence, consensus_score, "
    "content_hash, valid_from, valid_until, recorded_at, recorded_seq, supersedes, "
    "superseded_by, superseded_at, deprecated_at, deprecation_reason, redacted"
)


def _maybe_time(value: int | None) -> Any:
    return None if value is None else from_micros(value)


def fact_from_row(row: sqlite3.Row | tuple[Any, ...]) -> Fact:
    """Build a ``Fact`` from a row selected with ``FACT_COLUMNS`` (in that order)."""
    (fact_id, tenant, project, kind, content, tags, source, meta, confidence, score,
     chash, valid_from, valid_until, recorded_at, recorded_seq, supersedes,
     superseded_by, superseded_at, deprecated_at, reason, redacted) = tuple(row)[:21]
    return Fact(
        id=fact_id,
        tenant=tenant,
        project=project,
        kind=kind,
        content=content,
        tags=json.loads(tags),
        source=source,
        meta=json.loads(meta),
        confidence=confidence,
        consensus_score=score,
        content_hash=chash,
        valid_from=from_micros(valid_from),
        valid_until=_maybe_time(valid_until),
        recorded_at=from_micros(recorded_at),
        recorded_seq=recorded_seq,
        supersedes=supersedes,
        superseded_by=superseded_by,
        superseded_at=_maybe_time(superseded_at),
        deprecated_at=_maybe_time(deprecated_at),
        deprecation_reason=reason,
        redacted=bool(redacted),
    )
