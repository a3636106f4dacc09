"""Request ids, the canonical log line per request, and Prometheus metrics.

The request id (an incoming ``X-Request-ID`` or a new one) is bound to structlog's
context and to the actor runtime's request-id variable, so it travels in the envelope of
every command the request sends and shows up in the writer's log lines too.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from typing import Any

import structlog
from litestar import Request, Response, get
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

from actors import request_id_var
from cortex.engine.facade import Cortex

log = structlog.get_logger("cortex.http")
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,100}")


class Metrics:
    """One registry per app (tests run several apps in one process)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("cortex_http_requests_total", "HTTP requests",
                                ["method", "route", "status"], registry=self.registry)
        self.latency = Histogram("cortex_http_request_seconds", "HTTP request latency",
                                 ["method", "route"], registry=self.registry,
                                 buckets=(.001, .0025, .005, .01, .02, .05, .1, .25, .5, 1, 5))
        self.cortex: Cortex | None = None
        self.registry.register(self)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """Engine gauges, read from ``statistics()`` at scrape time."""
        if self.cortex is None:
            return
        stats = self.cortex.statistics()
        for name, value, help_text in (
            ("cortex_writer_queue_depth", stats.writer.queue_depth, "commands waiting"),
            ("cortex_writer_batches", stats.writer.batches, "group commits so far"),
            ("cortex_writer_max_batch", stats.writer.max_batch_size, "largest batch"),
            ("cortex_reader_queue_depth", stats.readers.queue_depth, "queries waiting"),
            ("cortex_ledger_size", stats.ledger_size, "ledger entries"),
        ):
            yield GaugeMetricFamily(name, help_text, value=value)
        last = list(stats.writer.last_batch_sizes)
        if last:
            yield GaugeMetricFamily("cortex_writer_recent_mean_batch",
                                    "mean size of the recent batches",
                                    value=sum(last) / len(last))


class ObserveMiddleware:
    """ASGI middleware: request id, canonical log line, request metrics."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if str(scope["type"]) != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        token = request_id_var.set(request_id)
        structlog.contextvars.bind_contextvars(request_id=request_id)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = str(scope.get("path_template") or "unmatched")
            method = scope.get("method", "")
            self.metrics.requests.labels(method, route, str(status)).inc()
            self.metrics.latency.labels(method, route).observe(elapsed)
            tenant = (scope.get("state") or {}).get("tenant")
            log.info("http.request", method=method, route=route, status=status,
                     tenant=tenant, ms=round(elapsed * 1000, 2))
            structlog.contextvars.unbind_contextvars("request_id")
            request_id_var.reset(token)


@get("/metrics", media_type="text/plain; version=0.0.4", include_in_schema=False)
async def metrics(request: Request[Any, Any, Any]) -> Response[bytes]:
    """Prometheus exposition format."""
    registry: Metrics = request.app.state.metrics
    return Response(generate_latest(registry.registry),
                    media_type="text/plain; version=0.0.4")
