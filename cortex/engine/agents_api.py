"""``cx.agents``: register, look up, list and deactivate the agents that vote."""

from __future__ import annotations

import builtins
from typing import TYPE_CHECKING, Any

from cortex.core import validation as v
from cortex.engine.messages import (
    DeactivateAgent,
    GetAgent,
    ListAgents,
    RegisterAgent,
    ReputationHistory,
)
from cortex.errors import InvalidInput
from cortex.ids import new_fact_id
from cortex.model import Agent, ReputationChange

if TYPE_CHECKING:
    from cortex.engine.facade import Cortex

MAX_PUBLIC_KEY_CHARS = 1024


class AgentsHandle:
    """Reached as ``cx.agents``."""

    def __init__(self, cortex: Cortex) -> None:
        self._cortex = cortex

    async def register(
        self,
        name: str,
        *,
        public_key: str | None = None,
        meta: dict[str, Any] | None = None,
        tenant: str | None = None,
    ) -> Agent:
        """Register an agent (reputation 0.5, weight 0 until it has a track record).

        Raises:
            AgentExists: the tenant already has an agent of that name.
            InvalidInput: a bad name, key or meta.
        """
        if public_key is not None and (not isinstance(public_key, str)
                                       or not 0 < len(public_key) <= MAX_PUBLIC_KEY_CHARS):
            raise InvalidInput("public_key", f"must be 1-{MAX_PUBLIC_KEY_CHARS} characters")
        command = RegisterAgent(self._cortex._tenant(tenant), new_fact_id(),
                                v.check_name("name", name), public_key, v.check_meta(meta))
        agent: Agent = await self._cortex._write(command)
        return agent

    async def get(self, id: str, *, tenant: str | None = None) -> Agent:
        """Raises ``AgentNotFound`` (also for another tenant's agent)."""
        query = GetAgent(self._cortex._tenant(tenant), v.check_fact_id("id", id))
        agent: Agent = await self._cortex._read(query)
        return agent

    async def list(
        self, *, include_inactive: bool = False, limit: int = 100, offset: int = 0,
        tenant: str | None = None,
    ) -> list[Agent]:
        query = ListAgents(self._cortex._tenant(tenant), bool(include_inactive),
                           v.check_range("limit", limit, 1, v.MAX_LIMIT),
                           v.check_range("offset", offset, 0, v.MAX_OFFSET))
        agents: list[Agent] = await self._cortex._read(query)
        return agents

    async def deactivate(self, id: str, *, tenant: str | None = None) -> Agent:
        """Stop an agent voting; its existing votes stop counting in v2 confidence.

        Raises:
            AgentNotFound, AgentInactive.
        """
        command = DeactivateAgent(self._cortex._tenant(tenant), v.check_fact_id("id", id))
        agent: Agent = await self._cortex._write(command)
        return agent

    async def reputation_history(
        self, id: str, *, limit: int = 100, tenant: str | None = None
    ) -> builtins.list[ReputationChange]:
        """The observations that moved the agent's reputation, newest first."""
        query = ReputationHistory(self._cortex._tenant(tenant), v.check_fact_id("id", id),
                                  v.check_range("limit", limit, 1, v.MAX_LIMIT))
        changes: builtins.list[ReputationChange] = await self._cortex._read(query)
        return changes
