"""Fact ids: UUIDv7 text (RFC 9562), so ids sort by creation time and never collide."""

from __future__ import annotations

import os
import time
import uuid


def new_fact_id() -> str:
    """A fresh UUIDv7: 48-bit Unix milliseconds, version 7, 74 random bits."""
    millis = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (millis & ((1 << 48) - 1)) << 80 | rand
    value = (value & ~(0xF << 76)) | (0x7 << 76)  # version 7
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # RFC 9562 variant
    return str(uuid.UUID(int=value))
