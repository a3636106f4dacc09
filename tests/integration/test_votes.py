"""Agents and consensus through the real engine: exact votes under concurrency,
replay from the ledger, reputation that learns, and refusals that write nothing."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from cortex import Cortex
from cortex.errors import (
    AgentExists,
    AgentInactive,
    AgentNotFound,
    FactIsDeprecated,
    FactNotFound,
    FactSuperseded,
    InvalidInput,
)
from cortex.model import Agent
from tests.integration.ledger_check import (
    count_rows,
    replayed_scores,
    stored_scores,
    verify_chain,
)

pytestmark = pytest.mark.anyio


async def _agents(cx: Cortex, count: int, prefix: str = "agent") -> list[Agent]:
    return [await cx.agents.register(f"{prefix}-{n}") for n in range(count)]


async def test_a_hundred_concurrent_upvotes_give_exactly_eleven_fifty_times_over(
    db_path: Path,
) -> None:
    async with Cortex.open(db_path, log_level="warning") as cx:
        agents = await _agents(cx, 100)
        for round_ in range(50):
            fact = await cx.store(project="seed", content=f"claim {round_}")
            async with anyio.create_task_group() as tg:
                for agent in agents:
                    tg.start_soon(cx.vote, fact.id, agent.id, 1)
            scored = await cx.get(fact.id)
            assert len(await cx.votes(fact.id)) == 100, f"round {round_}"
            assert scored.consensus_score == 11.0, f"round {round_}"
            assert scored.status == "verified", f"round {round_}"
        assert (await cx.ledger.verify()).ok


async def test_vote_storms_settle_to_no_votes_and_replay_from_the_ledger(
    db_path: Path,
) -> None:
    async with Cortex.open(db_path, log_level="warning", checkpoint_every=200) as cx:
        agents = await _agents(cx, 100)
        facts = [await cx.store(project="storm", content=f"claim {n}") for n in range(3)]

        async def voter(agent: Agent) -> None:
            for fact in facts:
                for value in (1, -1, 0):
                    await cx.vote(fact.id, agent.id, value)

        async def writer(n: int) -> None:
            await cx.store(project="storm", content=f"noise {n}")

        async with anyio.create_task_group() as tg:
            for agent in agents:
                tg.start_soon(voter, agent)
            for n in range(50):
                tg.start_soon(writer, n)
            for _ in range(10):
                tg.start_soon(cx.ledger.checkpoint)
        for fact in facts:
            final = await cx.get(fact.id)
            assert (final.consensus_score, final.status) == (1.0, "stated")
            assert await cx.votes(fact.id) == []
        report = await cx.ledger.verify()
        assert report.ok, report.problems
    verify_chain(db_path)
    assert replayed_scores(db_path) == stored_scores(db_path)


async def test_reputation_moves_as_the_documented_rule_says(cx: Cortex) -> None:
    right = await _agents(cx, 5, "right")
    wrong = await cx.agents.register("wrong")
    late = await cx.agents.register("late")
    fact = await cx.store(project="rep", content="the cache is write-through")
    await cx.vote(fact.id, wrong.id, -1)
    for agent in right[:4]:
        assert (await cx.vote(fact.id, agent.id, 1)).status == "stated"
    result = await cx.vote(fact.id, right[4].id, 1)  # Σ = 5 - 1 = 4: still stated
    assert result.status == "stated"
    result = await cx.vote(fact.id, late.id, 1)  # Σ = 5: verified, 7 voters credited
    assert (result.status, result.consensus_score, result.reputation_changes) == (
        "verified", 1.5, 7)
    agreed = await cx.agents.get(right[0].id)
    assert (agreed.alpha, agreed.beta) == (2, 1)
    assert agreed.reputation == pytest.approx(2 / 3)
    assert agreed.weight == pytest.approx(2 / 3 * 1 / 11)
    disagreed = await cx.agents.get(wrong.id)
    assert (disagreed.alpha, disagreed.beta) == (1, 2)
    history = await cx.agents.reputation_history(wrong.id)
    assert [(h.outcome, h.agreed, h.alpha, h.beta) for h in history] == [
        ("verified", False, 1, 2)]
    # the fact resolves the other way: each (fact, agent) observation moves, never adds
    for agent in [*right, late]:
        await cx.vote(fact.id, agent.id, -1)
    flipped = await cx.get(fact.id)
    assert flipped.status == "disputed"
    switched = await cx.agents.get(right[0].id)
    assert (switched.alpha, switched.beta) == (2, 1), "its -1 agrees with 'disputed' too"
    vindicated = await cx.agents.get(wrong.id)
    assert (vindicated.alpha, vindicated.beta) == (2, 1), "moved from disagree to agree"
    for agent in [*right, late]:  # and back again: still one observation each
        await cx.vote(fact.id, agent.id, 1)
    assert (await cx.get(fact.id)).status == "verified"
    assert ((await cx.agents.get(wrong.id)).alpha, (await cx.agents.get(wrong.id)).beta) == (
        1, 2)
    assert (await cx.agents.get(right[0].id)).alpha == 2


async def test_new_agents_carry_no_weight_so_a_flood_cannot_move_confidence(
    cx: Cortex,
) -> None:
    veterans = await _agents(cx, 5, "veteran")
    for n in range(3):  # give the veterans a track record
        training = await cx.store(project="train", content=f"resolved {n}")
        for agent in veterans:
            await cx.vote(training.id, agent.id, 1)
    fact = await cx.store(project="flood", content="contested claim")
    for agent in veterans:
        await cx.vote(fact.id, agent.id, 1)
    before = (await cx.get(fact.id)).confidence
    assert before == pytest.approx(1.0)
    sybils = await _agents(cx, 30, "sybil")
    for agent in sybils:
        await cx.vote(fact.id, agent.id, -1)
    after = await cx.get(fact.id)
    assert after.confidence == pytest.approx(1.0), "weightless newcomers change nothing"
    assert (after.consensus_score, after.status) == (0.0, "disputed"), "v1 stays naive"
    veteran = await cx.agents.get(veterans[0].id)
    assert (veteran.alpha, veteran.beta) == (5, 1), "the flood's outcome taught nothing"
    assert all(a.weight == 0 for a in [await cx.agents.get(s.id) for s in sybils])


async def test_deactivated_agents_stop_counting_in_confidence(cx: Cortex) -> None:
    veterans = await _agents(cx, 5, "vet")
    for n in range(2):
        training = await cx.store(project="train", content=f"resolved {n}")
        for agent in veterans:
            await cx.vote(training.id, agent.id, 1)
    fact = await cx.store(project="p", content="claim")
    await cx.vote(fact.id, veterans[0].id, 1)
    await cx.vote(fact.id, veterans[1].id, -1)
    assert (await cx.get(fact.id)).confidence == pytest.approx(0.0)
    await cx.agents.deactivate(veterans[1].id)
    assert (await cx.get(fact.id)).confidence == pytest.approx(1.0)
    assert [a.id for a in await cx.agents.list()] == [a.id for a in veterans if
                                                      a.id != veterans[1].id]
    assert len(await cx.agents.list(include_inactive=True)) == 5
    with pytest.raises(AgentInactive):
        await cx.vote(fact.id, veterans[1].id, 1)
    with pytest.raises(AgentInactive):
        await cx.agents.deactivate(veterans[1].id)
    assert (await cx.ledger.verify()).ok


async def test_bad_votes_are_refused_and_write_nothing(cx: Cortex, db_path: Path) -> None:
    agent = await cx.agents.register("voter")
    fact = await cx.store(project="p", content="claim")
    other_tenant_fact = await cx.store(project="p", content="theirs", tenant="other")
    retired = await cx.store(project="p", content="retired")
    await cx.deprecate(retired.id)
    old = await cx.store(project="p", content="old")
    await cx.update(old.id, content="new")
    entries = count_rows(db_path, "ledger")
    cases: list[tuple[object, type[Exception]]] = [
        (cx.vote(fact.id, agent.id, 2), InvalidInput),
        (cx.vote(fact.id, agent.id, True), InvalidInput),  # type: ignore[arg-type]
        (cx.vote("no-such-fact", agent.id, 1), FactNotFound),
        (cx.vote(other_tenant_fact.id, agent.id, 1), FactNotFound),
        (cx.vote(retired.id, agent.id, 1), FactIsDeprecated),
        (cx.vote(old.id, agent.id, 1), FactSuperseded),
        (cx.vote(fact.id, "no-such-agent", 1), AgentNotFound),
        (cx.agents.register("voter"), AgentExists),
        (cx.agents.register("bad name"), InvalidInput),
        (cx.agents.get(agent.id, tenant="other"), AgentNotFound),
    ]
    for call, error in cases:
        with pytest.raises(error):
            await call  # type: ignore[misc]
    assert count_rows(db_path, "ledger") == entries
    assert count_rows(db_path, "votes") == 0


async def test_withdrawing_and_revoting_replace_the_current_vote(cx: Cortex) -> None:
    agent = await cx.agents.register("changer")
    fact = await cx.store(project="p", content="claim")
    assert (await cx.vote(fact.id, agent.id, 1)).consensus_score == 1.1
    assert (await cx.vote(fact.id, agent.id, -1)).consensus_score == 0.9
    assert [v.value for v in await cx.votes(fact.id)] == [-1]
    withdrawn = await cx.vote(fact.id, agent.id, 0)
    assert (withdrawn.consensus_score, withdrawn.votes) == (1.0, 0)
    nothing = await cx.vote(fact.id, agent.id, 0)
    assert nothing.seq is None, "withdrawing no vote writes nothing"


async def test_recall_ranks_verified_facts_first(cx: Cortex) -> None:
    agents = await _agents(cx, 5)
    plain = await cx.store(project="rank", content="plain")
    backed = await cx.store(project="rank", content="backed by five agents")
    await cx.store(project="rank", content="newest but plain")
    for agent in agents:
        await cx.vote(backed.id, agent.id, 1)
    ranked = [f.id for f in await cx.recall(project="rank")]
    assert ranked[0] == backed.id and plain.id in ranked


async def test_recall_top_k_shortcut_matches_a_full_ranking(cx: Cortex) -> None:
    """The candidate shortcut must give exactly the order of ranking every fact."""
    agents = await _agents(cx, 6)
    facts = await cx.store_many([{"project": "k", "content": f"fact {n}"} for n in range(40)])
    for index, fact in enumerate(facts[::7]):  # a few older facts gain or lose score
        for agent in agents[: index + 1]:
            await cx.vote(fact.id, agent.id, 1 if index % 2 == 0 else -1)
    await cx.store_many([{"project": "k", "content": f"later {n}"} for n in range(10)])
    full = [f.id for f in await cx.recall(project="k", limit=1000)]
    assert len(full) == 50
    for limit, offset in ((1, 0), (5, 0), (10, 3), (20, 10), (49, 1)):
        page = await cx.recall(project="k", limit=limit, offset=offset)
        assert [f.id for f in page] == full[offset: offset + limit], (limit, offset)
