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

from cortex.engine.facade import Cortex, CortexStatistics
from cortex.engine.ledger_api import LedgerHandle
from cortex.model import Checkpoint, ConsistencyProof, Fact, FactPage, InclusionProof, VerifyReport

T = TypeVar("T")


class CortexSync:
    """Blocking twin of ``Cortex``; same methods, same arguments, same errors."""

    def __init__(self, portal: BlockingPortal, cortex: Cortex) -> None:
        self._portal = portal
        self._cortex = cortex
        self.ledger = LedgerSync(portal, cortex.ledger)

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

    def redact(self, id: str, reason: str | None = None, **kwargs: Any) -> Fact:
        fact: Fact = self._call(self._cortex.redact, id, reason, **kwargs)
        return fact

    def recall(self, project: str | None = None, **kwargs: Any) -> FactPage:
        page: FactPage = self._call(self._cortex.recall, project, **kwargs)
        return page

    def history(self, id: str, **kwargs: Any) -> list[Fact]:
        versions: list[Fact] = self._call(self._cortex.history, id, **kwargs)
        return versions

    def statistics(self) -> CortexStatistics:
        return self._cortex.statistics()


class LedgerSync:
    """Blocking twin of ``cx.ledger``."""

    def __init__(self, portal: BlockingPortal, ledger: LedgerHandle) -> None:
        self._portal = portal
        self._ledger = ledger

    @property
    def public_key(self) -> str:
        return self._ledger.public_key

    def checkpoint(self) -> Checkpoint:
        return self._portal.call(self._ledger.checkpoint)

    def checkpoints(self, limit: int = 100) -> list[Checkpoint]:
        return self._portal.call(self._ledger.checkpoints, limit)

    def inclusion_proof(self, leaf_index: int, tree_size: int | None = None) -> InclusionProof:
        return self._portal.call(self._ledger.inclusion_proof, leaf_index, tree_size)

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> ConsistencyProof:
        return self._portal.call(self._ledger.consistency_proof, old_size, new_size)

    def verify(self, progress: Callable[[int, int], Any] | None = None) -> VerifyReport:
        report: VerifyReport = self._portal.call(self._ledger.verify, progress)
        return report
