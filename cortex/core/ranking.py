"""Recall ranking: consensus first, recency second, as the original CORTEX ranked.

    rank = consensus_score × 0.8 + 0.2 / (1 + age in days)

``age`` is measured from the version's ``recorded_at`` to the query's reference time (now,
or ``as_of``). The same formula is rendered as SQL so the database sorts and pages by it.
"""

from __future__ import annotations

from cortex.core.timeutil import MICROS_PER_DAY

CONSENSUS_WEIGHT = 0.8
RECENCY_WEIGHT = 0.2


def recall_rank(consensus_score: float, recorded_at: int, reference: int) -> float:
    """Python twin of ``RANK_SQL`` (used by tests to check the database's order)."""
    age_days = (reference - recorded_at) / MICROS_PER_DAY
    return consensus_score * CONSENSUS_WEIGHT + RECENCY_WEIGHT / (1.0 + age_days)


#: SQL expression over the ``facts`` columns; ``:reference`` is the query's reference time.
RANK_SQL = (
    f"(consensus_score * {CONSENSUS_WEIGHT} + {RECENCY_WEIGHT} / "
    f"(1.0 + (:reference - recorded_at) / {float(MICROS_PER_DAY)}))"
)
