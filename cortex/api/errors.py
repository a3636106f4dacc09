"""The one place that maps Cortex's errors to HTTP (RFC 9457 problem+json).

Nothing else in Cortex knows a status code.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.status_codes import (
    HTTP_400_BAD_REQUEST,
    HTTP_404_NOT_FOUND,
    HTTP_409_CONFLICT,
    HTTP_500_INTERNAL_SERVER_ERROR,
    HTTP_503_SERVICE_UNAVAILABLE,
)

from cortex.errors import (
    CortexError,
    DatabaseLocked,
    FactConflict,
    FactIsDeprecated,
    FactIsRedacted,
    FactNotFound,
    FactSuperseded,
    IntegrityError,
    InvalidInput,
    Overloaded,
    ReadOnlyStore,
    SchemaTooNew,
    ShuttingDown,
    StorageError,
)

PROBLEM_JSON = "application/problem+json"
#: health answers with this when a dependency is down
UNHEALTHY = HTTP_503_SERVICE_UNAVAILABLE

_STATUS: tuple[tuple[type[CortexError], int], ...] = (
    (InvalidInput, HTTP_400_BAD_REQUEST),
    (FactNotFound, HTTP_404_NOT_FOUND),
    (FactConflict, HTTP_409_CONFLICT),
    (FactSuperseded, HTTP_409_CONFLICT),
    (FactIsDeprecated, HTTP_409_CONFLICT),
    (FactIsRedacted, HTTP_409_CONFLICT),
    (ReadOnlyStore, HTTP_409_CONFLICT),
    (IntegrityError, HTTP_500_INTERNAL_SERVER_ERROR),
    (Overloaded, HTTP_503_SERVICE_UNAVAILABLE),
    (ShuttingDown, HTTP_503_SERVICE_UNAVAILABLE),
    (StorageError, HTTP_503_SERVICE_UNAVAILABLE),
    (DatabaseLocked, HTTP_503_SERVICE_UNAVAILABLE),
    (SchemaTooNew, HTTP_503_SERVICE_UNAVAILABLE),
)


def status_for(error: CortexError) -> int:
    for kind, status in _STATUS:
        if isinstance(error, kind):
            return status
    return HTTP_500_INTERNAL_SERVER_ERROR


def cortex_error_handler(
    request: Request[Any, Any, Any], error: CortexError
) -> Response[dict[str, object]]:
    """Translate any ``CortexError`` into problem+json with its stable ``code``."""
    status = status_for(error)
    body: dict[str, object] = {
        "type": f"https://cortex.dev/problems/{error.code}",
        "title": error.code.replace("_", " "),
        "status": status,
        "detail": error.detail,
        "instance": request.url.path,
        **error.to_dict(),
    }
    headers: dict[str, str] = {}
    if isinstance(error, Overloaded | ShuttingDown):
        headers["Retry-After"] = "1"
    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)
