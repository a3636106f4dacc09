"""Canonical JSON: the one byte encoding that ledger payloads and hashes are computed over.

Rules (stable; changing them breaks every stored hash):

- UTF-8, no BOM; object keys sorted by code point; no insignificant whitespace
  (separators ``,`` and ``:``); non-ASCII characters written as themselves, not ``\\uXXXX``.
- Allowed values (at most 64 levels deep): objects with string keys, arrays, strings,
  booleans, null, integers, and finite floats. NaN and infinities are refused.
- Ledger payloads use integers only (timestamps are integer microseconds, hashes are hex
  strings): a float's text form differs between languages, an integer's does not. Floats
  may appear only inside caller-supplied ``meta``, which is hashed as Python writes it
  (shortest round-trip repr).
"""

from __future__ import annotations

import json
from typing import Any


class NotCanonical(ValueError):
    """Raised when a value cannot be encoded canonically (bad key type, NaN, cycle)."""


def canonical_json(value: Any) -> bytes:
    """Encode ``value`` as canonical JSON bytes.

    Raises:
        NotCanonical: a non-string key, a non-JSON type, NaN/infinity, or a cycle.
    """
    if isinstance(value, dict | list | tuple):
        _check_keys(value, depth=0)
    try:
        text = json.dumps(
            value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        )
    except (TypeError, ValueError, RecursionError) as error:
        raise NotCanonical(str(error)) from None
    return text.encode("utf-8")


_MAX_DEPTH = 64


def _check_keys(value: Any, depth: int) -> None:
    """Refuse non-string keys: ``json`` would silently turn ``{1: x}`` into ``{"1": x}``.

    Only containers are visited (scalars are the bulk of a payload and need no check).
    """
    if depth > _MAX_DEPTH:
        raise NotCanonical(f"nested deeper than {_MAX_DEPTH} levels")
    if isinstance(value, dict):
        for key in value:
            if not isinstance(key, str):
                raise NotCanonical(f"object keys must be strings, got {type(key).__name__}")
        children: Any = value.values()
    else:
        children = value
    for child in children:
        if isinstance(child, dict | list | tuple):
            _check_keys(child, depth + 1)
