"""The hashes that bind stored rows to the ledger.

- ``content_hash``: SHA-256 of the content's UTF-8 bytes (hex). Kept after redaction.
- ``attrs_hash``: SHA-256 of the canonical JSON of the fact's other caller-supplied
  fields (tags, source, meta), so tampering with them is detectable too.
- ``entry_hash``: SHA-256(prev_hash ‖ canonical entry); the first entry chains from 32
  zero bytes (``GENESIS_HASH``).
- ``fact_state_hash``: SHA-256 of the canonical JSON of every verifiable column of a fact
  row. Each ledger entry that changes a fact carries the row's new state hash, so a row
  that differs in any column from what the ledger vouches for is refused on read.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from cortex.core.canonical import canonical_json

GENESIS_HASH = bytes(32)


def content_hash(content: str) -> str:
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


def attrs_hash(tags: Sequence[str], source: str | None, meta: dict[str, Any]) -> str:
    body = {"tags": list(tags), "source": source, "meta": meta}
    return hashlib.sha256(canonical_json(body, keys_checked=True)).hexdigest()


def canonical_entry(
    seq: int, tenant: str, action: str, payload: dict[str, Any], recorded_at: int
) -> bytes:
    """The bytes a ledger entry is hashed as, and its Merkle leaf's data.

    Equal to ``canonical_json({"seq", "tenant", "action", "payload", "recorded_at"})``.
    """
    return entry_from_payload_text(
        seq, tenant, action, canonical_json(payload, keys_checked=True).decode(), recorded_at
    )


def entry_from_payload_text(
    seq: int, tenant: str, action: str, payload_text: str, recorded_at: int
) -> bytes:
    """``canonical_entry`` for a payload already in canonical JSON (serialized once).

    Keys in code-point order: action, payload, recorded_at, seq, tenant.
    """
    return (f'{{"action":{_quote(action)},"payload":{payload_text},'
            f'"recorded_at":{int(recorded_at)},"seq":{int(seq)},'
            f'"tenant":{_quote(tenant)}}}').encode()


def _quote(text: str) -> str:
    return canonical_json(text).decode("utf-8")


def entry_hash(prev_hash: bytes, entry: bytes) -> bytes:
    return hashlib.sha256(prev_hash + entry).digest()


#: The fact columns a state hash covers (everything but the content itself, the tags,
#: source and meta, which ``content_hash`` and ``attrs_hash`` already bind).
STATE_FIELDS = (
    "id", "tenant", "project", "kind", "content_hash", "attrs_hash", "lineage",
    "supersedes", "superseded_by", "superseded_at", "superseded_seq", "valid_from",
    "valid_until", "recorded_at", "recorded_seq", "deprecated_at", "deprecated_seq",
    "deprecation_reason", "redacted", "redacted_at", "redacted_seq", "status",
    "consensus_score", "confidence", "author_key", "author_agent",
)


def fact_state_hash(row: Mapping[str, Any]) -> str:
    """Hash a fact row's state. Scores enter as integer millionths (canonical JSON keeps
    floats out of hashed payloads)."""
    state = {name: row[name] for name in STATE_FIELDS}
    state["consensus_score"] = round(float(row["consensus_score"]) * 1_000_000)
    state["confidence"] = round(float(row["confidence"]) * 1_000_000)
    state["redacted"] = bool(row["redacted"])
    return hashlib.sha256(canonical_json(state, keys_checked=True)).hexdigest()


def _millionths(value: float) -> int:
    return round(float(value) * 1_000_000)


def agent_state_hash(row: Mapping[str, Any]) -> str:
    state = {name: row[name] for name in ("id", "tenant", "name", "public_key", "meta",
                                          "alpha", "beta", "active", "created_at",
                                          "deactivated_at")}
    return hashlib.sha256(canonical_json(state, keys_checked=True)).hexdigest()


def vote_state_hash(row: Mapping[str, Any]) -> str:
    state = {name: row[name] for name in ("fact_id", "agent_id", "tenant", "value",
                                          "recorded_at")}
    state["weight"] = _millionths(row["weight"])
    return hashlib.sha256(canonical_json(state, keys_checked=True)).hexdigest()


def key_state_hash(row: Mapping[str, Any]) -> str:
    state = {name: row[name] for name in ("id", "prefix", "secret_hash", "tenant", "role",
                                          "projects", "agent_id", "name", "created_at",
                                          "revoked_at")}
    return hashlib.sha256(canonical_json(state, keys_checked=True)).hexdigest()
