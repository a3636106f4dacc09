"""Time as Cortex stores it: integer microseconds since the Unix epoch, UTC.

Every timestamp in the database uses this one form; conversion to ``datetime`` happens
only at the edges.
"""

from __future__ import annotations

from datetime import UTC, datetime

MICROS_PER_DAY = 86_400_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_micros(moment: datetime) -> int:
    """Convert an aware datetime to integer microseconds (precondition: tz-aware)."""
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(micros: int) -> datetime:
    return datetime.fromtimestamp(micros // 1_000_000, tz=UTC).replace(
        microsecond=micros % 1_000_000
    )


def iso(micros: int) -> str:
    """ISO-8601 UTC with a ``Z``, microsecond precision."""
    return from_micros(micros).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
