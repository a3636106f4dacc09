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


RRF_K = 60


def reciprocal_rank_fusion(
    vector_ids: list[str], text_ids: list[str], vector_weight: float, text_weight: float,
    k: int = RRF_K,
) -> list[tuple[str, float, int | None, int | None]]:
    """Fuse two rankings: score = Σ weight / (k + rank) over the sides a result is on.

    Returns ``(id, fused score, vector rank, text rank)`` best first (ranks 1-based, None
    when absent from that side); ties keep the vector side's order, then the text side's.
    """
    vector_rank = {item: rank for rank, item in enumerate(vector_ids, start=1)}
    text_rank = {item: rank for rank, item in enumerate(text_ids, start=1)}
    order = list(dict.fromkeys([*vector_ids, *text_ids]))
    fused = []
    for item in order:
        score = 0.0
        if item in vector_rank:
            score += vector_weight / (k + vector_rank[item])
        if item in text_rank:
            score += text_weight / (k + text_rank[item])
        fused.append((item, score, vector_rank.get(item), text_rank.get(item)))
    fused.sort(key=lambda entry: entry[1], reverse=True)
    return fused
