"""``CortexClientSync``: the HTTP client for scripts, with blocking calls.

It runs a ``CortexClient`` on an event loop in a background thread (an anyio
``BlockingPortal``, like ``CortexSync``) and forwards every call, sub-handles included
(``client.ledger.verify()``, ``client.graph.path(...)``): one implementation, two faces.
"""

from __future__ import annotations

import inspect
from contextlib import AbstractContextManager
from functools import partial
from types import TracebackType
from typing import Any

from anyio.from_thread import BlockingPortal, start_blocking_portal

from cortex.client._async import CortexClient
from cortex.client._handles import AgentsClient, GraphClient, KeysClient, LedgerClient

_HANDLES = (AgentsClient, KeysClient, LedgerClient, GraphClient)


class _Blocking:
    """Forwards attribute access to an async object; coroutine methods block."""

    def __init__(self, portal: BlockingPortal, target: object) -> None:
        self._portal = portal
        self._target = target

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._target, name)
        if inspect.iscoroutinefunction(value):
            return partial(self._call, value)
        if isinstance(value, _HANDLES):
            return _Blocking(self._portal, value)
        return value

    def _call(self, method: Any, *args: Any, **kwargs: Any) -> Any:
        return self._portal.call(partial(method, *args, **kwargs))


class CortexClientSync(_Blocking):
    """Blocking twin of ``CortexClient``: same methods, arguments, results and errors.

        with CortexClientSync("http://127.0.0.1:8000", key="ctx_…") as cx:
            fact = cx.store("infra", "Use WAL mode")
    """

    def __init__(self, url: str, **options: Any) -> None:
        self._portal_manager: AbstractContextManager[BlockingPortal] = start_blocking_portal(
            backend="asyncio")
        portal = self._portal_manager.__enter__()
        try:
            client = portal.call(partial(_make_client, url, options))
        except BaseException:
            self._portal_manager.__exit__(None, None, None)
            raise
        super().__init__(portal, client)

    def close(self) -> None:
        try:
            self._portal.call(self._target.aclose)  # type: ignore[attr-defined,call-arg]
        finally:
            self._portal_manager.__exit__(None, None, None)

    def __enter__(self) -> CortexClientSync:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()


async def _make_client(url: str, options: dict[str, Any]) -> CortexClient:
    return CortexClient(url, **options)
