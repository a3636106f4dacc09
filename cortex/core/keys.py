"""API key format and roles (pure).

A key is ``ctx_`` followed by 64 hex characters (32 random bytes). It is shown once;
Cortex keeps only its SHA-256: the secret has 256 bits of entropy, so a slow password
hash would add nothing but latency.
"""

from __future__ import annotations

import hashlib
import re

KEY_PREFIX = "ctx_"
ROLES = ("read", "write", "admin")
_KEY = re.compile(r"ctx_[0-9a-f]{64}")


def format_key(secret: bytes) -> str:
    """``ctx_`` + hex of 32 random bytes (precondition: ``len(secret) == 32``)."""
    return KEY_PREFIX + secret.hex()


def is_well_formed(key: str) -> bool:
    return bool(_KEY.fullmatch(key))


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def key_prefix(key: str) -> str:
    """What lists show to recognise a key: ``ctx_`` and its first 8 hex digits."""
    return key[:12]


def role_allows(role: str, needed: str) -> bool:
    """read < write < admin."""
    return ROLES.index(role) >= ROLES.index(needed)
