"""The tree heads this process trusts: verified at open, then extended only by the writer.

The writer publishes ``(size, root)`` right after each COMMIT, from its own thread;
readers verify what they serve against the head matching their snapshot. A reader whose
snapshot is a commit the writer has not published yet (the microseconds between COMMIT
and publish) waits for it; a snapshot no published head matches was not written by this
process, and the read fails closed.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from cortex.core.merkle import EMPTY_ROOT
from cortex.errors import IntegrityError


class TrustedHeads:
    """Recent trusted tree heads, newest last (bounded)."""

    def __init__(self, capacity: int = 4096) -> None:
        self._heads: OrderedDict[int, bytes] = OrderedDict({0: EMPTY_ROOT})
        self._capacity = capacity
        self._changed = threading.Condition()

    @property
    def latest(self) -> tuple[int, bytes]:
        with self._changed:
            return next(reversed(self._heads.items()))

    def publish(self, size: int, root: bytes) -> None:
        with self._changed:
            self._heads[size] = root
            self._heads.move_to_end(size)
            while len(self._heads) > self._capacity:
                self._heads.popitem(last=False)
            self._changed.notify_all()

    def reset(self, size: int, root: bytes) -> None:
        """Forget everything but ``(size, root)`` (after the writer re-verified at open)."""
        with self._changed:
            self._heads = OrderedDict({size: root})
            self._changed.notify_all()

    def root_at(self, size: int, wait: float = 2.0) -> bytes:
        """The trusted root of the tree of ``size`` entries.

        Raises:
            IntegrityError: no trusted head of that size (the database holds entries this
                process did not write, or the snapshot is older than the heads kept).
        """
        with self._changed:
            self._changed.wait_for(lambda: next(reversed(self._heads)) >= size, timeout=wait)
            root = self._heads.get(size)
        if root is None:
            raise IntegrityError(
                f"the database's ledger has {size} entries, a size this process never "
                "committed or no longer remembers; refusing to serve unvouched data",
                seq=size - 1 if size else None,
            )
        return root
