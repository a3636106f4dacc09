"""The one place that maps errors to HTTP: RFC 9457 ``application/problem+json``.

Nothing else in Cortex knows a status code. Every error body has ``type``, ``title``,
``status``, ``detail`` and a stable ``code``; Cortex errors add the values that explain
them (``field``, ``fact_id``, ``retry_after`` …).
"""

from __future__ import annotations

from typing import Any

import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.status_codes import (
    HTTP_200_OK,
    HTTP_201_CREATED,
    HTTP_400_BAD_REQUEST,
    HTTP_401_UNAUTHORIZED,
    HTTP_403_FORBIDDEN,
    HTTP_404_NOT_FOUND,
    HTTP_409_CONFLICT,
    HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    HTTP_429_TOO_MANY_REQUESTS,
    HTTP_500_INTERNAL_SERVER_ERROR,
    HTTP_503_SERVICE_UNAVAILABLE,
)

from cortex.embed.model_files import ModelUnavailable
from cortex.errors import (
    AgentExists,
    AgentInactive,
    AgentNotFound,
    CortexError,
    DatabaseLocked,
    EntityNotFound,
    EntryNotFound,
    FactConflict,
    FactIsDeprecated,
    FactIsRedacted,
    FactNotFound,
    FactSuperseded,
    Forbidden,
    IntegrityError,
    InvalidInput,
    KeyNotFound,
    Overloaded,
    RateLimited,
    ReadOnlyStore,
    SchemaTooNew,
    ShuttingDown,
    StorageError,
    Unauthenticated,
)

log = structlog.get_logger("cortex.api")

PROBLEM_JSON = "application/problem+json"
OK = HTTP_200_OK
CREATED = HTTP_201_CREATED
#: health answers with this when a dependency is down
UNHEALTHY = HTTP_503_SERVICE_UNAVAILABLE

_STATUS: tuple[tuple[type[CortexError], int], ...] = (
    (InvalidInput, HTTP_400_BAD_REQUEST),
    (Unauthenticated, HTTP_401_UNAUTHORIZED),
    (Forbidden, HTTP_403_FORBIDDEN),
    (FactNotFound, HTTP_404_NOT_FOUND),
    (AgentNotFound, HTTP_404_NOT_FOUND),
    (KeyNotFound, HTTP_404_NOT_FOUND),
    (EntryNotFound, HTTP_404_NOT_FOUND),
    (EntityNotFound, HTTP_404_NOT_FOUND),
    (FactConflict, HTTP_409_CONFLICT),
    (FactSuperseded, HTTP_409_CONFLICT),
    (FactIsDeprecated, HTTP_409_CONFLICT),
    (FactIsRedacted, HTTP_409_CONFLICT),
    (AgentExists, HTTP_409_CONFLICT),
    (AgentInactive, HTTP_409_CONFLICT),
    (ReadOnlyStore, HTTP_409_CONFLICT),
    (RateLimited, HTTP_429_TOO_MANY_REQUESTS),
    # a damaged file (DatabaseCorrupt) is an IntegrityError: 500, and health turns red
    (IntegrityError, HTTP_500_INTERNAL_SERVER_ERROR),
    (Overloaded, HTTP_503_SERVICE_UNAVAILABLE),
    (ShuttingDown, HTTP_503_SERVICE_UNAVAILABLE),
    # DiskFull and StorageReadOnly too: transient, nothing written, retry (Retry-After);
    # 503 rather than WebDAV's 507, which generic clients do not retry
    (StorageError, HTTP_503_SERVICE_UNAVAILABLE),
    (DatabaseLocked, HTTP_503_SERVICE_UNAVAILABLE),
    (SchemaTooNew, HTTP_503_SERVICE_UNAVAILABLE),
    (ModelUnavailable, HTTP_503_SERVICE_UNAVAILABLE),
)
_HTTP_CODES = {400: "invalid_input", 401: "unauthenticated", 403: "forbidden",
               404: "not_found", 405: "method_not_allowed", 413: "body_too_large",
               429: "rate_limited", 503: "unavailable"}


def error_responses() -> dict[int, ResponseSpec]:
    """The problem+json answers every authenticated route may give, for the OpenAPI."""
    from cortex.api.schemas import Problem

    described = {
        HTTP_400_BAD_REQUEST: "bad input: the detail names the field and the bound",
        HTTP_401_UNAUTHORIZED: "no API key, or an unknown or revoked one",
        HTTP_403_FORBIDDEN: "the key's role or projects do not allow this",
        HTTP_404_NOT_FOUND: "absent, or another tenant's",
        HTTP_409_CONFLICT: "conflicts with the current state",
        HTTP_413_REQUEST_ENTITY_TOO_LARGE: "the body is over the limit",
        HTTP_429_TOO_MANY_REQUESTS: "rate limited; see Retry-After",
        HTTP_503_SERVICE_UNAVAILABLE: "overloaded, shutting down, or the disk is full or "
                                      "read-only; see Retry-After",
    }
    return {status: ResponseSpec(data_container=Problem, description=text,
                                 media_type=PROBLEM_JSON)
            for status, text in described.items()}


def status_for(error: CortexError) -> int:
    for kind, status in _STATUS:
        if isinstance(error, kind):
            return status
    return HTTP_500_INTERNAL_SERVER_ERROR


def problem(
    request: Request[Any, Any, Any], status: int, code: str, detail: str,
    headers: dict[str, str] | None = None, **extra: object,
) -> Response[dict[str, object]]:
    body: dict[str, object] = {
        "type": f"https://cortex.dev/problems/{code}",
        "title": code.replace("_", " "),
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        "code": code,
        **{k: v for k, v in extra.items() if v is not None},
    }
    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=headers or {})


def cortex_error_handler(
    request: Request[Any, Any, Any], error: CortexError
) -> Response[dict[str, object]]:
    """Translate any ``CortexError`` into problem+json with its stable ``code``."""
    status = status_for(error)
    headers: dict[str, str] = {}
    retry_after = getattr(error, "retry_after", None)
    if isinstance(error, Overloaded | ShuttingDown | StorageError | RateLimited):
        headers["Retry-After"] = str(max(1, round(retry_after or 1)))
    context = {k: v for k, v in error.context.items() if k not in ("code", "detail")}
    return problem(request, status, error.code, error.detail, headers, **context)


def http_error_handler(
    request: Request[Any, Any, Any], error: HTTPException
) -> Response[dict[str, object]]:
    """Litestar's own errors (validation, routing, body size) in the same shape."""
    status = error.status_code
    if status == 422:  # never for client input: Litestar's validation errors are 400s
        status = HTTP_400_BAD_REQUEST
    detail = error.detail
    if isinstance(error, ValidationException) and isinstance(error.extra, list):
        detail = "; ".join(_describe(item) for item in error.extra) or detail
    if status == HTTP_413_REQUEST_ENTITY_TOO_LARGE:
        limit = request.app.state.settings.max_body_bytes
        detail = f"the request body exceeds the limit of {limit} bytes"
    code = _HTTP_CODES.get(status, "http_error")
    return problem(request, status, code, detail, dict(error.headers or {}))


def _describe(item: object) -> str:
    if isinstance(item, dict):
        key = item.get("key")
        message = str(item.get("message", "invalid"))
        if key and message.strip("'\"") == key:
            message = "is required" if key != "data" else "a JSON request body is required"
        return f"{key}: {message}" if key else message
    return str(item)


def internal_error_handler(
    request: Request[Any, Any, Any], error: Exception
) -> Response[dict[str, object]]:
    """A bug of ours: logged with its traceback, answered without one."""
    log.exception("api.unhandled_error", path=request.url.path)
    return problem(request, HTTP_500_INTERNAL_SERVER_ERROR, "internal_error",
                   "an unexpected error occurred; it was logged")
