"""Consensus: the v1 score the original CORTEX used, and v2 reputation-weighted confidence.

v1 (seed-compatible): score = max(0, 1 + 0.1 × Σ values) over the current votes;
``verified`` at score >= 1.5 (Σ >= 5), ``disputed`` at <= 0.5 (Σ <= -5), else ``stated``.
Computed as (10 + Σ) / 10 so that 100 votes of +1 give exactly 11.0.

v2: confidence = Σ(value × weight) / Σ weight over current votes of active agents, in
[-1, 1] (0 when no vote carries weight). An agent's weight is its reputation discounted by
inexperience:

    reputation = α / (α + β)            Beta(α, β), starting at Beta(1, 1) = 0.5
    weight     = reputation × n / (n + 10),   n = α + β - 2 resolved votes

When a fact becomes ``verified`` or ``disputed``, each agent with a current vote on it
gains one observation: α + 1 if its vote agreed with the outcome, β + 1 if not. Each
(fact, agent) pair counts at most once: if the fact later resolves the other way, the
earlier observation is moved, not added, so flipping a fact back and forth cannot farm
reputation.

Reputation only learns from credible outcomes: when agents with weight have voted on the
fact, the v1 outcome must point the same way as v2 confidence (verified with confidence
> 0, disputed with confidence < 0); while no vote carries weight (a new deployment), the
v1 outcome alone decides. So a flood that flips v1 against the weighted agents teaches
no one anything.

Why this resists a flood of new agents: a new agent has n = 0, so weight 0. Its votes
still count in v1 (which stays naive, for compatibility) but move v2 not at all until
the agent has a track record of outcomes; half weight takes 10 resolved votes, and only
agreeing with outcomes raises reputation. A thousand fresh sybils change no v2
confidence; established agents with a good record dominate it.
"""

from __future__ import annotations

from collections.abc import Iterable

EXPERIENCE_HALF = 10
VERIFIED_TOTAL = 5
DISPUTED_TOTAL = -5


def v1_score(total: int) -> float:
    """max(0, 1 + 0.1 × total), exact for integer totals."""
    return max(0, 10 + total) / 10


def v1_status(total: int) -> str:
    if total >= VERIFIED_TOTAL:
        return "verified"
    if total <= DISPUTED_TOTAL:
        return "disputed"
    return "stated"


def reputation(alpha: int, beta: int) -> float:
    return alpha / (alpha + beta)


def agent_weight(alpha: int, beta: int) -> float:
    """Reputation discounted by inexperience: 0 for a new agent, → reputation with use."""
    resolved = alpha + beta - 2
    return reputation(alpha, beta) * resolved / (resolved + EXPERIENCE_HALF)


def weighted_confidence(votes: Iterable[tuple[int, float]]) -> float:
    """Σ(value × weight) / Σ weight, in [-1, 1]; 0 when no vote carries weight."""
    weighted = total_weight = 0.0
    for value, weight in votes:
        weighted += value * weight
        total_weight += weight
    if total_weight <= 0:
        return 0.0
    return max(-1.0, min(1.0, weighted / total_weight))


def outcome_is_credible(outcome: str, confidence: float, weight_present: bool) -> bool:
    """Whether a v1 outcome may move reputations (see the module docstring)."""
    if not weight_present:
        return True
    return confidence > 0 if outcome == "verified" else confidence < 0


def credit(agreed_before: bool | None, agreed_now: bool) -> tuple[int, int]:
    """The (Δα, Δβ) that moves one (fact, agent) observation to ``agreed_now``."""
    if agreed_before is agreed_now:
        return 0, 0
    alpha, beta = (1, 0) if agreed_now else (0, 1)
    if agreed_before is not None:
        alpha, beta = alpha - (1 if agreed_before else 0), beta - (0 if agreed_before else 1)
    return alpha, beta
