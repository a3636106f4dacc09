"""Reading agents, votes and reputation history; every row verified like facts are."""

from __future__ import annotations

import sqlite3

from cortex.core.hashing import agent_state_hash, vote_state_hash
from cortex.core.timeutil import from_micros
from cortex.db.queries import snapshot
from cortex.db.rows import (
    AGENT_COLUMNS,
    VOTE_COLUMNS,
    agent_from_row,
    agent_row_dict,
    vote_from_row,
    vote_row_dict,
)
from cortex.db.verified import ReadVerifier
from cortex.errors import AgentNotFound, FactNotFound
from cortex.model import Agent, ReputationChange, Vote


def get_agent(
    conn: sqlite3.Connection, verifier: ReadVerifier, tenant: str, agent_id: str
) -> Agent:
    with snapshot(conn):
        found = conn.execute(f"SELECT {AGENT_COLUMNS} FROM agents WHERE id = ? AND tenant = ?",
                             (agent_id, tenant)).fetchone()
        if found is None:
            raise AgentNotFound(agent_id)
        row = agent_row_dict(found)
        verifier.check_states(conn, [(f"agent:{agent_id}", tenant, agent_state_hash(row),
                                      row["state_seq"])])
    return agent_from_row(row)


def list_agents(
    conn: sqlite3.Connection, verifier: ReadVerifier, tenant: str, include_inactive: bool,
    limit: int, offset: int,
) -> list[Agent]:
    sql = f"SELECT {AGENT_COLUMNS} FROM agents WHERE tenant = ?"
    if not include_inactive:
        sql += " AND active = 1"
    with snapshot(conn):
        rows = [agent_row_dict(r) for r in conn.execute(
            sql + " ORDER BY created_at, id LIMIT ? OFFSET ?", (tenant, limit, offset))]
        verifier.check_states(conn, [(f"agent:{r['id']}", tenant, agent_state_hash(r),
                                      r["state_seq"]) for r in rows])
    return [agent_from_row(r) for r in rows]


def list_votes(
    conn: sqlite3.Connection, verifier: ReadVerifier, tenant: str, fact_id: str
) -> list[Vote]:
    with snapshot(conn):
        if conn.execute("SELECT 1 FROM facts WHERE id = ? AND tenant = ?",
                        (fact_id, tenant)).fetchone() is None:
            raise FactNotFound(fact_id)
        rows = [vote_row_dict(r) for r in conn.execute(
            f"SELECT {VOTE_COLUMNS} FROM votes WHERE fact_id = ? AND tenant = ?"
            " ORDER BY recorded_at, agent_id", (fact_id, tenant))]
        verifier.check_states(conn, [(f"vote:{fact_id}:{r['agent_id']}", tenant,
                                      vote_state_hash(r), r["state_seq"]) for r in rows])
    return [vote_from_row(r) for r in rows]


def reputation_history(
    conn: sqlite3.Connection, tenant: str, agent_id: str, limit: int
) -> list[ReputationChange]:
    with snapshot(conn):
        if conn.execute("SELECT 1 FROM agents WHERE id = ? AND tenant = ?",
                        (agent_id, tenant)).fetchone() is None:
            raise AgentNotFound(agent_id)
        rows = conn.execute(
            "SELECT seq, fact_id, outcome, agreed, alpha, beta, recorded_at"
            " FROM reputation_history WHERE agent_id = ? ORDER BY seq DESC LIMIT ?",
            (agent_id, limit)).fetchall()
    return [ReputationChange(agent_id=agent_id, seq=seq, fact_id=fact_id, outcome=outcome,
                             agreed=bool(agreed), alpha=alpha, beta=beta,
                             reputation=alpha / (alpha + beta),
                             recorded_at=from_micros(recorded_at))
            for seq, fact_id, outcome, agreed, alpha, beta, recorded_at in rows]
