"""Input bounds and the checks that enforce them, before anything reaches the writer.

Every check raises ``InvalidInput`` naming the field and the bound; nothing is written
when one fails. The bounds are documented in the README ("Limits").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cortex.core.canonical import NotCanonical, canonical_json
from cortex.core.extraction import EMPTY_EXTRACTION, ENTITY_TYPES, Extraction
from cortex.core.timeutil import to_micros
from cortex.errors import InvalidInput

MAX_CONTENT_BYTES = 64 * 1024
MAX_TAGS = 32
MAX_TAG_CHARS = 64
MAX_SOURCE_CHARS = 256
MAX_META_BYTES = 16 * 1024
MAX_REASON_CHARS = 1024
MAX_BATCH = 1000
MAX_LIMIT = 1000
MAX_OFFSET = 100_000
MAX_ENTITIES = 32
MAX_ENTITY_CHARS = 128
DEFAULT_KIND = "knowledge"
KINDS = frozenset(
    {"knowledge", "decision", "error", "rule", "idea", "ghost", "bridge",
     "preference", "observation", "axiom"}
)
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}")
_MIN_MICROS = 0
_MAX_MICROS = 253_402_300_799_999_999  # 9999-12-31T23:59:59.999999Z


@dataclass(frozen=True, slots=True)
class FactDraft:
    """A validated fact, ready for the writer. Times are integer microseconds."""

    id: str | None
    project: str
    kind: str
    content: str
    tags: tuple[str, ...]
    source: str | None
    meta: Mapping[str, Any]
    valid_from: int | None
    valid_until: int | None
    #: provenance, never from the request: the API key and its agent (None in process)
    author_key: str | None = None
    author_agent: str | None = None
    #: entities the caller named, ``(name, type)``; recorded in the store's ledger entry
    entities: tuple[tuple[str, str], ...] = ()
    #: what the graph learns from this version, extracted before the writer sees it
    graph: Extraction = EMPTY_EXTRACTION


@dataclass(frozen=True, slots=True)
class FactChanges:
    """Validated fields of an update; ``None`` keeps the previous version's value."""

    content: str | None = None
    kind: str | None = None
    tags: tuple[str, ...] | None = None
    source: str | None = None
    meta: Mapping[str, Any] | None = None
    valid_from: int | None = None
    valid_until: int | None = None
    entities: tuple[tuple[str, str], ...] | None = None


def check_name(field: str, value: object) -> str:
    """Project and tenant names: 1-64 of ``[A-Za-z0-9._-]``, starting alphanumeric."""
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        raise InvalidInput(
            field, "must be 1-64 characters of [A-Za-z0-9._-], starting with a letter or digit"
        )
    return value


def check_fact_id(field: str, value: object) -> str:
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise InvalidInput(
            field, "must be 1-64 characters of [A-Za-z0-9_.:-], starting with a letter or digit"
        )
    return value


def check_content(value: object, field: str = "content") -> str:
    if not isinstance(value, str):
        raise InvalidInput(field, "must be a string")
    _check_text(field, value)
    if not value.strip():
        raise InvalidInput(field, "must not be empty or blank")
    size = len(value.encode("utf-8"))
    if size > MAX_CONTENT_BYTES:
        raise InvalidInput(
            field, f"is {size} bytes; the limit is {MAX_CONTENT_BYTES} bytes (UTF-8)"
        )
    return value


def check_kind(value: object) -> str:
    if not isinstance(value, str) or value not in KINDS:
        raise InvalidInput("kind", f"must be one of {', '.join(sorted(KINDS))}")
    return value


def check_tags(value: object) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise InvalidInput("tags", "must be a list of strings")
    tags = list(value)
    if len(tags) > MAX_TAGS:
        raise InvalidInput("tags", f"has {len(tags)} items; the limit is {MAX_TAGS}")
    seen: set[str] = set()
    for index, tag in enumerate(tags):
        field = f"tags[{index}]"
        if not isinstance(tag, str) or not tag.strip():
            raise InvalidInput(field, "must be a non-blank string")
        _check_text(field, tag)
        if len(tag) > MAX_TAG_CHARS:
            raise InvalidInput(field, f"is {len(tag)} characters; the limit is {MAX_TAG_CHARS}")
        if tag in seen:
            raise InvalidInput(field, f"duplicates tag {tag!r}")
        seen.add(tag)
    return tuple(tags)


def check_source(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput("source", "must be a string or null")
    _check_text("source", value)
    if len(value) > MAX_SOURCE_CHARS:
        raise InvalidInput(
            "source", f"is {len(value)} characters; the limit is {MAX_SOURCE_CHARS}"
        )
    return value


def check_meta(value: object) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidInput("meta", "must be a JSON object")
    try:
        encoded = canonical_json(dict(value))
    except NotCanonical as error:
        raise InvalidInput("meta", f"must be JSON-serializable ({error})") from None
    if len(encoded) > MAX_META_BYTES:
        raise InvalidInput(
            "meta", f"is {len(encoded)} bytes as JSON; the limit is {MAX_META_BYTES}"
        )
    if "\x00" in encoded.decode("utf-8"):
        raise InvalidInput("meta", "must not contain NUL characters")
    return dict(value)


def check_time(field: str, value: object) -> int | None:
    """Accept an aware ``datetime`` or an ISO-8601 string with an offset; ``None`` passes."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise InvalidInput(field, "must be an ISO-8601 timestamp with a timezone") from None
    if not isinstance(value, datetime):
        raise InvalidInput(field, "must be a datetime or an ISO-8601 string")
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(field, "must include a timezone (e.g. 2026-01-31T12:00:00Z)")
    micros = to_micros(value)
    if not _MIN_MICROS <= micros <= _MAX_MICROS:
        raise InvalidInput(field, "must lie between 1970-01-01 and 9999-12-31 UTC")
    return micros


def check_reason(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput("reason", "must be a string")
    _check_text("reason", value)
    if len(value) > MAX_REASON_CHARS:
        raise InvalidInput(
            "reason", f"is {len(value)} characters; the limit is {MAX_REASON_CHARS}"
        )
    return value


def check_range(field: str, value: object, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInput(field, f"must be an integer from {low} to {high}")
    return value


def check_validity(valid_from: int | None, valid_until: int | None) -> None:
    if valid_from is not None and valid_until is not None and valid_until <= valid_from:
        raise InvalidInput("valid_until", "must be later than valid_from")


def draft_fact(
    *,
    project: object,
    content: object,
    kind: object = DEFAULT_KIND,
    tags: object = (),
    source: object = None,
    meta: object = None,
    valid_from: object = None,
    valid_until: object = None,
    id: object = None,
    entities: object = None,
) -> FactDraft:
    """Validate the arguments of a store and return the draft the writer will insert."""
    draft = FactDraft(
        id=None if id is None else check_fact_id("id", id),
        project=check_name("project", project),
        kind=check_kind(kind),
        content=check_content(content),
        tags=check_tags(tags if tags is not None else ()),
        source=check_source(source),
        meta=check_meta(meta),
        valid_from=check_time("valid_from", valid_from),
        valid_until=check_time("valid_until", valid_until),
        entities=check_entities(entities),
    )
    check_validity(draft.valid_from, draft.valid_until)
    return draft


def draft_changes(
    *,
    content: object = None,
    kind: object = None,
    tags: object = None,
    source: object = None,
    meta: object = None,
    valid_from: object = None,
    valid_until: object = None,
    entities: object = None,
) -> FactChanges:
    """Validate the fields of an update (``None`` = keep)."""
    return FactChanges(
        content=None if content is None else check_content(content),
        kind=None if kind is None else check_kind(kind),
        tags=None if tags is None else check_tags(tags),
        source=check_source(source),
        meta=None if meta is None else check_meta(meta),
        valid_from=check_time("valid_from", valid_from),
        valid_until=check_time("valid_until", valid_until),
        entities=None if entities is None else check_entities(entities),
    )


def check_entities(value: object) -> tuple[tuple[str, str], ...]:
    """Entities a caller names: each a name, or ``{"name", "type"}``, or ``(name, type)``;
    the type defaults to ``concept`` and must be one of ``ENTITY_TYPES``."""
    if value is None:
        return ()
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise InvalidInput("entities", "must be a list of names or {name, type} objects")
    items = list(value)
    if len(items) > MAX_ENTITIES:
        raise InvalidInput("entities", f"at most {MAX_ENTITIES} entities")
    return tuple(_check_entity(f"entities[{i}]", item) for i, item in enumerate(items))


def _check_entity(field: str, item: object) -> tuple[str, str]:
    name: object
    kind: object = "concept"
    if isinstance(item, str):
        name = item
    elif isinstance(item, Mapping):
        unknown = set(item) - {"name", "type"}
        if unknown:
            raise InvalidInput(field, f"unknown field {sorted(unknown)[0]!r}")
        name, kind = item.get("name"), item.get("type", "concept")
    elif isinstance(item, tuple | list) and len(item) == 2:
        name, kind = item
    else:
        raise InvalidInput(field, "must be a name or a {name, type} object")
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_ENTITY_CHARS:
        raise InvalidInput(f"{field}.name", f"must be 1 to {MAX_ENTITY_CHARS} characters")
    _check_text(f"{field}.name", name)
    if kind not in ENTITY_TYPES:
        raise InvalidInput(f"{field}.type", f"must be one of {', '.join(ENTITY_TYPES)}")
    return " ".join(name.split()), str(kind)


def _check_text(field: str, value: str) -> None:
    if "\x00" in value:
        raise InvalidInput(field, "must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(field, "must be valid Unicode (no lone surrogates)") from None
