"""Agents, votes and reputation: one writer step per vote, no read-then-write window.

A vote records (or withdraws) the agent's current vote, recomputes the fact's v1 score,
status and v2 confidence, and appends one ledger entry vouching for the new fact row and
vote row. When the status becomes ``verified`` or ``disputed``, every agent with a
current vote gains one observation (see ``cortex.core.consensus``), each its own entry.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import msgspec

from cortex.core import consensus
from cortex.core.hashing import agent_state_hash, vote_state_hash
from cortex.db.mutations.facts import _live_row, _restate, _row
from cortex.db.mutations.ledger import Ledger
from cortex.db.rows import AGENT_COLUMNS, agent_from_row, agent_row_dict
from cortex.errors import AgentExists, AgentInactive, AgentNotFound
from cortex.model import Agent, VoteResult


def vote_subject(fact_id: str, agent_id: str) -> str:
    return f"vote:{fact_id}:{agent_id}"


def agent_subject(agent_id: str) -> str:
    return f"agent:{agent_id}"


def _agent(conn: sqlite3.Connection, tenant: str, agent_id: str) -> dict[str, Any]:
    found = conn.execute(f"SELECT {AGENT_COLUMNS} FROM agents WHERE id = ? AND tenant = ?",
                         (agent_id, tenant)).fetchone()
    if found is None:
        raise AgentNotFound(agent_id)
    return agent_row_dict(found)


def register_agent(
    conn: sqlite3.Connection, ledger: Ledger, tenant: str, agent_id: str, name: str,
    public_key: str | None, meta: dict[str, Any],
) -> Agent:
    """Raises ``AgentExists`` when the tenant already has an agent of that name."""
    clash = conn.execute("SELECT id FROM agents WHERE tenant = ? AND name = ?",
                         (tenant, name)).fetchone()
    if clash is not None:
        raise AgentExists(name, clash[0])
    seq, now = ledger.stamp()
    row = {"id": agent_id, "tenant": tenant, "name": name, "public_key": public_key,
           "meta": msgspec.json.encode(meta).decode(), "alpha": 1, "beta": 1, "active": 1,
           "created_at": now, "deactivated_at": None, "state_seq": seq}
    conn.execute(f"INSERT INTO agents ({AGENT_COLUMNS}) VALUES "
                 f"({', '.join('?' for _ in row)})", list(row.values()))
    subject = agent_subject(agent_id)
    ledger.append(tenant, "agent.register",
                  {"agent_id": agent_id, "states": {subject: agent_state_hash(row)}}, [subject])
    return agent_from_row(row)


def deactivate_agent(
    conn: sqlite3.Connection, ledger: Ledger, tenant: str, agent_id: str
) -> Agent:
    """Deactivate an agent; its votes stop counting in v2, so the facts it voted on get
    their confidence recomputed in the same entry.

    Raises:
        AgentNotFound, AgentInactive.
    """
    agent = _agent(conn, tenant, agent_id)
    if not agent["active"]:
        raise AgentInactive(agent_id)
    seq, now = ledger.stamp()
    conn.execute("UPDATE agents SET active = 0, deactivated_at = ?, state_seq = ? WHERE id = ?",
                 (now, seq, agent_id))
    agent = _agent(conn, tenant, agent_id)
    states = {agent_subject(agent_id): agent_state_hash(agent)}
    voted = [r[0] for r in conn.execute("SELECT fact_id FROM votes WHERE agent_id = ?",
                                         (agent_id,))]
    for fact_id in voted:
        states[fact_id] = _rescore(conn, fact_id, seq)[0]
    ledger.append(tenant, "agent.deactivate", {"agent_id": agent_id, "states": states}, states)
    return agent_from_row(agent)


def _tally(conn: sqlite3.Connection, fact_id: str) -> tuple[int, float, int]:
    """(Σ values, v2 confidence, number of votes) over the fact's current votes."""
    rows = conn.execute(
        "SELECT v.value, v.weight, a.active FROM votes v JOIN agents a ON a.id = v.agent_id"
        " WHERE v.fact_id = ?", (fact_id,)).fetchall()
    total = sum(value for value, _, _ in rows)
    weighted = consensus.weighted_confidence(
        (value, weight) for value, weight, active in rows if active)
    return total, weighted, len(rows)


def _weight_present(conn: sqlite3.Connection, fact_id: str) -> bool:
    return conn.execute(
        "SELECT 1 FROM votes v JOIN agents a ON a.id = v.agent_id"
        " WHERE v.fact_id = ? AND a.active = 1 AND v.weight > 0 LIMIT 1", (fact_id,)
    ).fetchone() is not None


def _rescore(conn: sqlite3.Connection, fact_id: str, seq: int) -> tuple[str, str, int]:
    """Recompute a fact's scores, point its row at entry ``seq``; return
    (state hash, status, vote count)."""
    total, weighted, count = _tally(conn, fact_id)
    status = consensus.v1_status(total)
    state = _restate(conn, fact_id, {"status": status,
                                     "consensus_score": consensus.v1_score(total),
                                     "confidence": weighted}, seq)
    return state, status, count


def cast_vote(
    conn: sqlite3.Connection, ledger: Ledger, tenant: str, fact_id: str, agent_id: str,
    value: int,
) -> VoteResult:
    """Record (+1/-1) or withdraw (0) ``agent_id``'s vote on ``fact_id`` and rescore.

    Raises:
        FactNotFound, FactSuperseded, FactIsDeprecated, FactIsRedacted, AgentNotFound,
        AgentInactive.
    """
    fact = _live_row(conn, tenant, fact_id)
    agent = _agent(conn, tenant, agent_id)
    if not agent["active"]:
        raise AgentInactive(agent_id)
    existing = conn.execute("SELECT 1 FROM votes WHERE fact_id = ? AND agent_id = ?",
                            (fact_id, agent_id)).fetchone()
    if value == 0 and existing is None:
        count = _tally(conn, fact_id)[2]
        return VoteResult(fact_id=fact_id, status=fact["status"],
                          consensus_score=fact["consensus_score"],
                          confidence=fact["confidence"], votes=count, seq=None)
    seq, now = ledger.stamp()
    subject = vote_subject(fact_id, agent_id)
    vote_state: str | None = None
    weight = consensus.agent_weight(agent["alpha"], agent["beta"])
    if value == 0:
        conn.execute("DELETE FROM votes WHERE fact_id = ? AND agent_id = ?", (fact_id, agent_id))
    else:
        vote = {"fact_id": fact_id, "agent_id": agent_id, "tenant": tenant, "value": value,
                "weight": weight, "recorded_at": now, "state_seq": seq}
        conn.execute("INSERT OR REPLACE INTO votes (fact_id, agent_id, tenant, value, weight,"
                     " recorded_at, state_seq) VALUES (?, ?, ?, ?, ?, ?, ?)",
                     list(vote.values()))
        vote_state = vote_state_hash(vote)
    fact_state, status, count = _rescore(conn, fact_id, seq)
    ledger.append(tenant, "vote.cast" if value else "vote.withdraw",
                  {"fact_id": fact_id, "agent_id": agent_id, "value": value,
                   "weight": round(weight * 1_000_000),
                   "states": {fact_id: fact_state, subject: vote_state}},
                  [fact_id, subject])
    changes = 0
    if status != fact["status"] and status in ("verified", "disputed"):
        scored = _row(conn, fact_id)
        assert scored is not None
        if consensus.outcome_is_credible(status, scored["confidence"], _weight_present(
                conn, fact_id)):
            changes = _credit_voters(conn, ledger, tenant, fact_id, status)
    scored = _row(conn, fact_id)
    assert scored is not None
    return VoteResult(fact_id=fact_id, status=status, consensus_score=scored["consensus_score"],
                      confidence=scored["confidence"], votes=count, seq=seq,
                      reputation_changes=changes)


def _credit_voters(
    conn: sqlite3.Connection, ledger: Ledger, tenant: str, fact_id: str, outcome: str
) -> int:
    """Move each current voter's observation for this fact to the outcome; one entry per
    agent whose counts changed. Returns how many changed."""
    voters = conn.execute(
        "SELECT v.agent_id, v.value, c.agreed FROM votes v LEFT JOIN reputation_credits c"
        " ON c.fact_id = v.fact_id AND c.agent_id = v.agent_id WHERE v.fact_id = ?"
        " ORDER BY v.agent_id", (fact_id,)).fetchall()
    changed = 0
    for agent_id, value, credited in voters:
        agreed = (value > 0) == (outcome == "verified")
        d_alpha, d_beta = consensus.credit(None if credited is None else bool(credited), agreed)
        if (d_alpha, d_beta) == (0, 0):
            continue
        seq, now = ledger.stamp()
        conn.execute("UPDATE agents SET alpha = alpha + ?, beta = beta + ?, state_seq = ?"
                     " WHERE id = ?", (d_alpha, d_beta, seq, agent_id))
        conn.execute("INSERT OR REPLACE INTO reputation_credits VALUES (?, ?, ?)",
                     (fact_id, agent_id, int(agreed)))
        agent = _agent(conn, tenant, agent_id)
        conn.execute("INSERT INTO reputation_history VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                     (agent_id, seq, fact_id, outcome, int(agreed), agent["alpha"],
                      agent["beta"], now))
        subject = agent_subject(agent_id)
        ledger.append(tenant, "agent.reputation",
                      {"agent_id": agent_id, "fact_id": fact_id, "outcome": outcome,
                       "agreed": agreed, "alpha": agent["alpha"], "beta": agent["beta"],
                       "states": {subject: agent_state_hash(agent)}}, [subject])
        changed += 1
    return changed

