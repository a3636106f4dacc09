"""The client's HTTP layer: one request with retries, and problems back into exceptions.

A server answer of 503 (overloaded) or 429 (rate limited) is retried after the server's
``Retry-After`` (or an exponential backoff with jitter when it sends none), at most
``retries`` times; so is a connection failure, for requests that are safe to repeat (all
of them here: stores carry a client-chosen id, so a repeated store is answered with the
first result). Every other problem becomes the exception the in-process engine would
have raised, found by the problem's stable ``code``.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import anyio
import httpx
import msgspec

from cortex import errors
from cortex.errors import CortexError

T = TypeVar("T")
RETRIED_STATUSES = frozenset({429, 503})
Sleep = Callable[[float], Awaitable[None]]


def _subclasses(cls: type[CortexError]) -> Iterator[type[CortexError]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


#: problem ``code`` -> the exception class the engine raises for it
ERRORS_BY_CODE: dict[str, type[CortexError]] = {
    cls.code: cls for cls in _subclasses(errors.CortexError)}
_PROBLEM_FIELDS = frozenset({"type", "title", "status", "detail", "instance", "code"})


def error_from_problem(status: int, body: Any) -> CortexError:
    """The Cortex exception a problem+json body stands for (its attributes restored)."""
    if not isinstance(body, dict):
        body = {"detail": f"HTTP {status}"}
    cls = ERRORS_BY_CODE.get(str(body.get("code")), CortexError)
    error = cls.__new__(cls)
    extras = {k: v for k, v in body.items() if k not in _PROBLEM_FIELDS and v is not None}
    CortexError.__init__(error, str(body.get("detail") or f"HTTP {status}"), **extras)
    for name, value in extras.items():
        setattr(error, name, value)
    if isinstance(error, errors.InvalidInput):
        field_name = str(extras.get("field", ""))
        error.field = field_name
        error.problem = error.detail.removeprefix(f"{field_name}: ")
    if cls is CortexError:
        error.code = str(body.get("code") or "http_error")
    error.status = status  # type: ignore[attr-defined]
    return error


@dataclass
class Retrying:
    """How hard to try: ``retries`` after the first attempt, backoff doubling from
    ``backoff`` seconds up to ``max_backoff``; ``sleep`` is injectable for tests."""

    retries: int = 3
    backoff: float = 0.2
    max_backoff: float = 10.0
    sleep: Sleep = field(default=anyio.sleep)

    def delay(self, attempt: int, retry_after: str | None) -> float:
        if retry_after is not None:
            try:
                return min(max(float(retry_after), 0.0), self.max_backoff)
            except ValueError:
                pass  # an HTTP date: fall back to our own backoff
        wait = min(self.backoff * 2.0 ** attempt, self.max_backoff)
        return wait * (0.5 + random.random() / 2)


class Transport:
    """Sends requests for the client; decodes answers into typed results."""

    def __init__(self, http: httpx.AsyncClient, retrying: Retrying) -> None:
        self.http = http
        self.retrying = retrying

    async def call(
        self, method: str, path: str, result: type[T], *,
        json: Any = None, params: dict[str, Any] | None = None,
    ) -> T:
        """Send, retrying what may be retried; decode the body as ``result``."""
        content = None if json is None else msgspec.json.encode(json)
        headers = {} if content is None else {"Content-Type": "application/json"}
        query = {k: _param(v) for k, v in (params or {}).items() if v is not None}
        attempt = 0
        while True:
            try:
                response = await self.http.request(method, path, content=content,
                                                   params=query, headers=headers)
            except httpx.TransportError:
                if attempt >= self.retrying.retries:
                    raise
                await self.retrying.sleep(self.retrying.delay(attempt, None))
                attempt += 1
                continue
            if response.status_code in RETRIED_STATUSES and attempt < self.retrying.retries:
                await self.retrying.sleep(
                    self.retrying.delay(attempt, response.headers.get("retry-after")))
                attempt += 1
                continue
            if response.status_code >= 400:
                raise error_from_problem(response.status_code, _json_or_none(response))
            decoded: T = msgspec.json.decode(response.content, type=result)
            return decoded


def _param(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return [_param(item) for item in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None
