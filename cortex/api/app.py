"""``create_app(settings)``: the Litestar application; its lifespan owns the engine.

The lifespan opens ``Cortex`` (the actor system's task group lives for the app's whole
life) and closes it on shutdown: intake stops, queued work drains, a final checkpoint is
signed, connections close.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar, Request, get
from litestar.config.response_cache import ResponseCacheConfig
from litestar.exceptions import HTTPException
from litestar.openapi import OpenAPIConfig
from litestar.response import Response

from cortex import __version__
from cortex.api.admin import AgentsController, KeysController, LedgerController
from cortex.api.auth import TokenBuckets
from cortex.api.errors import (
    OK,
    UNHEALTHY,
    cortex_error_handler,
    http_error_handler,
    internal_error_handler,
)
from cortex.api.facts import FactsController, search, store_many
from cortex.api.graph import GraphController
from cortex.api.observe import Metrics, ObserveMiddleware, metrics
from cortex.config import Settings
from cortex.engine.facade import Cortex
from cortex.errors import CortexError


@get("/health", summary="Liveness and readiness")
async def health(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
    """Database readable and writable, queues, ledger head and last checkpoint, integrity,
    disk. 503 while any of them is down; ``status`` then names the problem (for a write
    fault, its error code: ``disk_full``, ``storage_read_only`` …)."""
    cortex: Cortex = request.app.state.cortex
    stats = cortex.statistics()
    disk = shutil.disk_usage(cortex.settings.data_dir)
    body: dict[str, Any] = {
        "status": "ok",
        "version": __version__,
        "db": {"path": str(cortex.settings.db_path), "ok": True},
        "writer": stats.writer._asdict(),
        "readers": stats.readers._asdict(),
        "ledger": {"size": stats.ledger_size, "root_hash": stats.root_hash,
                   "origin": cortex.ledger.origin, "public_key": cortex.ledger.public_key},
        "integrity": {"ok": not cortex.integrity_failures,
                      "failures": [e.detail for e in cortex.integrity_failures]},
        "embeddings": cortex.embeddings.status(),
        "disk": {"free_bytes": disk.free, "total_bytes": disk.total},
    }
    try:
        body["db"]["ledger_size_seen_by_readers"] = await cortex.ledger_size()
        latest = await cortex.ledger.checkpoints(limit=1)
        body["ledger"]["last_checkpoint"] = latest[0].tree_size if latest else None
    except CortexError as error:
        body["status"] = "unavailable"
        body["db"] = {"path": str(cortex.settings.db_path), "ok": False, "error": error.detail}
        return Response(body, status_code=UNHEALTHY)
    fault = await cortex.check_storage()
    body["db"]["writable"] = fault is None
    if fault is not None:
        body["status"] = fault.code
        body["db"]["write_error"] = {"code": fault.code, "detail": fault.detail}
        return Response(body, status_code=UNHEALTHY)
    if cortex.integrity_failures:
        body["status"] = "integrity_failure"
        return Response(body, status_code=UNHEALTHY)
    return Response(body, status_code=OK)


def create_app(settings: Settings) -> Litestar:
    """Build the app for ``settings`` (the database opens when the app starts)."""
    metrics_registry = Metrics()

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        async with Cortex.open(settings.db_path, **_overrides(settings)) as cortex:
            app.state.cortex = cortex
            metrics_registry.cortex = cortex
            yield

    def observe(app: Any) -> Any:
        return ObserveMiddleware(app, metrics_registry)

    app = Litestar(
        route_handlers=[health, metrics, FactsController, store_many, search, AgentsController,
                        KeysController, LedgerController, GraphController],
        lifespan=[lifespan],
        middleware=[observe],
        exception_handlers={
            CortexError: cortex_error_handler,
            HTTPException: http_error_handler,
            Exception: internal_error_handler,
        },
        request_max_body_size=settings.max_body_bytes,
        openapi_config=OpenAPIConfig(title="Cortex", version=__version__, path="/schema"),
        response_cache_config=ResponseCacheConfig(),
        debug=False,
    )
    app.state.settings = settings
    app.state.metrics = metrics_registry
    app.state.rate_limits = TokenBuckets(settings.rate_limit_per_s, settings.rate_limit_burst)
    return app


def _overrides(settings: Settings) -> dict[str, Any]:
    fields = Settings.__dataclass_fields__
    return {name: getattr(settings, name) for name in fields if name not in ("db_path", "extra")}
