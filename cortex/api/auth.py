"""Who is calling: ``Authorization: Bearer ctx_…``, the key's role, tenant, projects, rate.

The tenant always comes from the key, never from the request. Handlers declare the role
they need in ``opt={"role": ...}``; the guard authenticates, rate-limits and checks it,
then leaves the key on ``request.state.key``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from cortex.core.keys import role_allows
from cortex.engine.facade import Author, Cortex
from cortex.errors import Forbidden, RateLimited, Unauthenticated
from cortex.model import ApiKey


@dataclass(slots=True)
class TokenBuckets:
    """Per-key token buckets: ``rate`` requests/s sustained, ``burst`` at once."""

    rate: float
    burst: float
    buckets: dict[str, tuple[float, float]] = field(default_factory=dict)

    def take(self, key_id: str) -> None:
        """Spend one token or raise ``RateLimited`` with the wait until the next one."""
        if self.rate <= 0:
            return
        now = time.monotonic()
        tokens, last = self.buckets.get(key_id, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        if tokens < 1:
            self.buckets[key_id] = (tokens, now)
            raise RateLimited((1 - tokens) / self.rate)
        self.buckets[key_id] = (tokens - 1, now)


async def require_key(connection: ASGIConnection[Any, Any, Any, Any],
                      handler: BaseRouteHandler) -> None:
    """Guard: authenticate, rate-limit, check the handler's role."""
    cortex: Cortex = connection.app.state.cortex
    header = connection.headers.get("authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret:
        raise Unauthenticated("send the API key as 'Authorization: Bearer ctx_…'")
    key = await cortex.keys.authenticate(secret.strip())
    connection.state.key = key
    connection.scope.setdefault("state", {})["tenant"] = key.tenant
    connection.app.state.rate_limits.take(key.id)
    needed = handler.opt.get("role", "admin")
    if not role_allows(key.role, needed):
        raise Forbidden(f"this route needs the {needed!r} role; the key has {key.role!r}",
                        needed=needed, role=key.role)


def check_project(key: ApiKey, project: str) -> None:
    """Raise ``Forbidden`` when the key is scoped to projects that exclude ``project``."""
    if key.projects is not None and project not in key.projects:
        raise Forbidden(f"this key may not use project {project!r}", project=project)


def visible(key: ApiKey, project: str) -> bool:
    return key.projects is None or project in key.projects


def author_of(key: ApiKey) -> Author:
    return Author(key_id=key.id, agent_id=key.agent_id)
