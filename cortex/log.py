"""structlog, configured once, as structlog recommends for production.

JSON lines when stderr is not a terminal (or ``log_format="json"``), the console renderer
on a TTY. The actor runtime's request id is added to every line logged while a message
is handled, so the id of an HTTP request shows up in the writer's line too.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog

from actors import current_request_id

_configured: tuple[str, str] | None = None
#: The one processor list of the process. Loggers are cached on first use together with
#: the list they saw, so reconfiguring edits this list in place (as
#: ``structlog.testing.capture_logs`` does) instead of installing a new one, and the level
#: is checked by its first processor rather than baked into the cached wrapper: a later
#: ``Cortex.open(log_level=...)`` then reaches loggers already used.
_PROCESSORS: list[Any] = []
_LEVELS = {name.lower(): number for name, number in logging.getLevelNamesMapping().items()}
_LEVELS.update(exception=logging.ERROR, warn=logging.WARNING, msg=logging.INFO)
_level = logging.INFO


class _CurrentStderr:
    """Writes to whatever ``sys.stderr`` is at the time of writing: a stream captured at
    configuration time may be closed later (test runners swap it per test)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def _add_request_id(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    request_id = current_request_id()
    if request_id is not None:
        event.setdefault("request_id", request_id)
    return event


def _drop_below_level(_: Any, method: str, event: dict[str, Any]) -> dict[str, Any]:
    if _LEVELS.get(method, logging.INFO) < _level:
        raise structlog.DropEvent
    return event


def configure_logging(level: str = "info", fmt: str = "auto", *, force: bool = False) -> None:
    """Install the processor chain (a no-op when already installed with these settings)."""
    global _configured, _level
    if _configured == (level, fmt) and not force:
        return
    _level = logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
    json_lines = fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())
    renderer: Any = (
        structlog.processors.JSONRenderer() if json_lines else structlog.dev.ConsoleRenderer()
    )
    processors: list[Any] = [
        _drop_below_level,
        structlog.contextvars.merge_contextvars,
        _add_request_id,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    if json_lines:
        processors.append(structlog.processors.dict_tracebacks)
    processors.append(renderer)
    _PROCESSORS[:] = processors
    structlog.configure(
        processors=_PROCESSORS,
        wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG),
        logger_factory=structlog.PrintLoggerFactory(file=_CurrentStderr()),  # type: ignore[arg-type]
        cache_logger_on_first_use=True,
    )
    _configured = (level, fmt)
