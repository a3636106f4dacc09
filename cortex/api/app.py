"""``create_app(settings)``: the Litestar application; its lifespan owns the engine.

The lifespan opens ``Cortex`` (the actor system's task group lives for the app's whole
life) and closes it on shutdown: intake stops, queued work drains, connections close.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar, get
from litestar.datastructures import State
from litestar.response import Response

from cortex.api.errors import UNHEALTHY, cortex_error_handler
from cortex.config import Settings
from cortex.engine.facade import Cortex
from cortex.errors import CortexError


@get("/health")
async def health(state: State) -> Response[dict[str, Any]]:
    """Liveness and readiness: database reachable, queues, ledger head."""
    cortex: Cortex = state.cortex
    stats = cortex.statistics()
    body: dict[str, Any] = {
        "status": "ok",
        "db": {"path": str(cortex.settings.db_path), "ok": True},
        "writer": stats.writer._asdict(),
        "readers": stats.readers._asdict(),
        "ledger": {"size": stats.ledger_size, "root_hash": stats.root_hash,
                   "origin": cortex.ledger.origin, "public_key": cortex.ledger.public_key},
        "integrity": {"ok": not cortex.integrity_failures,
                      "failures": [e.detail for e in cortex.integrity_failures]},
    }
    try:
        body["db"]["ledger_size_seen_by_readers"] = await cortex.ledger_size()
    except CortexError as error:
        body["status"] = "unavailable"
        body["db"] = {"path": str(cortex.settings.db_path), "ok": False, "error": error.detail}
        return Response(body, status_code=UNHEALTHY)
    if cortex.integrity_failures:
        body["status"] = "integrity_failure"
        return Response(body, status_code=UNHEALTHY)
    return Response(body)


def create_app(settings: Settings) -> Litestar:
    """Build the app for ``settings`` (the database opens when the app starts)."""

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        async with Cortex.open(settings.db_path, **_overrides(settings)) as cortex:
            app.state.cortex = cortex
            yield

    return Litestar(
        route_handlers=[health],
        lifespan=[lifespan],
        exception_handlers={CortexError: cortex_error_handler},
    )


def _overrides(settings: Settings) -> dict[str, Any]:
    fields = Settings.__dataclass_fields__
    return {name: getattr(settings, name) for name in fields if name not in ("db_path", "extra")}
