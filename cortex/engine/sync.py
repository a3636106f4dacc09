"""``CortexSync``: the blocking facade for scripts and notebooks.

It runs ``Cortex`` on an event loop in a background thread (an anyio
``BlockingPortal``) and forwards each call:

    with CortexSync.open("data/cortex.db") as cx:
        fact = cx.store(project="infra", content="Use WAL mode")
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from functools import partial
from typing import Any, TypeVar

from anyio.from_thread import BlockingPortal, start_blocking_portal

from cortex.db.queries import FactPage
from cortex.engine.facade import Cortex, CortexStatistics
from cortex.model import Fact

T = TypeVar("T")


class CortexSync:
    """Blocking twin of ``Cortex``; same methods, same arguments, same errors."""

    def __init__(self, portal: BlockingPortal, cortex: Cortex) -> None:
        self._portal = portal
        self._cortex = cortex

    @classmethod
    @contextmanager
    def open(
        cls, path: str | os.PathLike[str] | None = None, **settings: Any
    ) -> Iterator[CortexSync]:
        with start_blocking_portal(backend="asyncio") as portal:
            manager: AbstractContextManager[Cortex] = portal.wrap_async_context_manager(
                Cortex.open(path, **settings)
            )
            with manager as cortex:
                yield cls(portal, cortex)

    def _call(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return self._portal.call(partial(method, *args, **kwargs))

    def store(self, project: str, content: str, **kwargs: Any) -> Fact:
        fact: Fact = self._call(self._cortex.store, project, content, **kwargs)
        return fact

    def store_many(self, items: Any, **kwargs: Any) -> list[Fact]:
        facts: list[Fact] = self._call(self._cortex.store_many, items, **kwargs)
        return facts

    def get(self, id: str, **kwargs: Any) -> Fact:
        fact: Fact = self._call(self._cortex.get, id, **kwargs)
        return fact

    def update(self, id: str, **kwargs: Any) -> Fact:
        fact: Fact = self._call(self._cortex.update, id, **kwargs)
        return fact

    def deprecate(self, id: str, reason: str | None = None, **kwargs: Any) -> Fact:
        fact: Fact = self._call(self._cortex.deprecate, id, reason, **kwargs)
        return fact

    def recall(self, project: str | None = None, **kwargs: Any) -> FactPage:
        page: FactPage = self._call(self._cortex.recall, project, **kwargs)
        return page

    def history(self, id: str, **kwargs: Any) -> list[Fact]:
        versions: list[Fact] = self._call(self._cortex.history, id, **kwargs)
        return versions

    def statistics(self) -> CortexStatistics:
        return self._cortex.statistics()
