"""Canonical JSON: the one byte encoding that ledger payloads and hashes are computed over.

Rules (stable; changing them breaks every stored hash):

- UTF-8, no BOM; object keys sorted by code point; no insignificant whitespace
  (separators ``,`` and ``:``); non-ASCII characters written as themselves, not ``\\uXXXX``.
- Allowed values (at most 64 levels deep): objects with string keys, arrays, strings,
  booleans, null, integers, and finite floats. NaN and infinities are refused. Strings
  escape only ``"``, ``\\`` and control characters (``\n``, ``\t``, ``\u0001`` …), as
  Python's ``json`` does.
- Ledger payloads use integers only (timestamps are integer microseconds, hashes are hex
  strings): a float's text form differs between languages, an integer's does not. Floats
  may appear only inside caller-supplied ``meta``, written in their shortest round-trip
  form with a bare exponent (``1e-07`` is written ``1e-7``, ``1e+16`` is ``1e16``).
- The encoder is msgspec's (``order="sorted"``), ten times faster than ``json`` on a
  ledger payload; for values without floats its bytes equal ``json.dumps(sort_keys=True,
  separators=(",", ":"), ensure_ascii=False)`` (a property test holds it to that).
"""

from __future__ import annotations

import math
from typing import Any

import msgspec


class NotCanonical(ValueError):
    """Raised when a value cannot be encoded canonically (bad key type, NaN, cycle)."""


def canonical_json(value: Any, *, keys_checked: bool = False) -> bytes:
    """Encode ``value`` as canonical JSON bytes.

    ``keys_checked=True`` skips the walk that refuses non-string keys; only for values
    Cortex built itself from string keys and already-validated caller data (it is a
    fifth of a store's cost).

    Raises:
        NotCanonical: a non-string key, a non-JSON type, NaN/infinity, or a cycle.
    """
    if not keys_checked:
        _check(value, depth=0)
    try:
        return msgspec.json.encode(value, order="sorted")
    except (TypeError, ValueError, RecursionError, msgspec.EncodeError) as error:
        raise NotCanonical(str(error)) from None


_MAX_DEPTH = 64


_SCALARS = (str, int, bool, type(None))


def _check(value: Any, depth: int) -> None:
    """Refuse what has no single JSON form: non-string keys (an encoder would turn
    ``{1: x}`` into ``{"1": x}``), non-finite floats (msgspec writes NaN as ``null``), and
    any type but dict, list, tuple, str, int, float, bool and None (msgspec would encode
    a datetime or a set its own way)."""
    if isinstance(value, float):
        if not math.isfinite(value):
            raise NotCanonical(f"{value} has no JSON form")
        return
    if isinstance(value, _SCALARS):
        return
    if depth > _MAX_DEPTH:
        raise NotCanonical(f"nested deeper than {_MAX_DEPTH} levels")
    if isinstance(value, dict):
        for key in value:
            if not isinstance(key, str):
                raise NotCanonical(f"object keys must be strings, got {type(key).__name__}")
        children: Any = value.values()
    elif isinstance(value, list | tuple):
        children = value
    else:
        raise NotCanonical(f"{type(value).__name__} is not a JSON type")
    for child in children:
        _check(child, depth + 1)
