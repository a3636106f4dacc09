"""The KNN side of search: candidates from an in-memory projection, kept per reader.

Scanning 100k float32 vectors costs ~60 ms in vec0 and ~9 ms in numpy, too much of a
20 ms budget, and vec0's quantized columns do not help here (bit[384]: recall@10 < 0.85
even rescoring 160 candidates, which then costs ~35 ms; int8[384]: 65-107 ms; measured by
scripts/bench/vec0_quantized.py). The process therefore keeps, for the current model, one
index shared by the readers: the vectors projected
onto their top ``PROJECTED`` principal components (a third of the bytes, fitted on the
store's own vectors) plus tenant/project/kind codes. A search scores every row that
passes the filters (so a filter can never shorten the result), takes the best
``candidate_count(k)`` and the caller rescores those exactly from ``fact_embeddings``.
Small stores (under ``FIT_AT`` vectors) keep the exact vectors: the scan is then exact.

The index follows the table incrementally: one model's vectors arrive in increasing fact
rowid order (the indexer's progress only moves forward), so each search first loads the
rows after the last rowid it holds. A vector deleted since (its fact retired) is found
missing when rescored and forgotten then. Readers call it from their connection threads:
a lock serializes its methods; a reader whose snapshot is older than what the index
holds just does not see the newer rows (they are missing from its rescoring, not dead).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence

import numpy as np

from cortex.embed.runtime import DIMENSIONS

#: dimensions kept by the projection (recall@10 ≥ 0.98 with 100 candidates, measured)
PROJECTED = 128
#: below this many vectors the index holds them exactly (no projection)
FIT_AT = 4096
#: the projection is refitted (and the index rebuilt) when it has grown this much
REFIT_GROWTH = 4
#: most rows the principal components are fitted on
FIT_SAMPLE = 16384
MIN_CANDIDATES = 100


def candidate_count(k: int) -> int:
    """How many candidates to rescore exactly for ``k`` results."""
    return max(MIN_CANDIDATES, 5 * k)


class VectorIndex:
    """The current model's vectors of one store, projected, for candidate search."""

    def __init__(self, model: str, fit_at: int = FIT_AT) -> None:
        self.model = model
        self.fit_at = fit_at
        #: the highest fact rowid loaded
        self.loaded_rowid = 0
        #: how many vectors the projection was fitted on (0: none, exact vectors)
        self.fitted = 0
        self._mean = np.zeros(DIMENSIONS, dtype=np.float32)
        self._basis: np.ndarray | None = None
        self._codes: dict[str, int] = {}
        self._lock = threading.Lock()
        self._reset(DIMENSIONS)

    @property
    def size(self) -> int:
        return self._n

    def _reset(self, width: int) -> None:
        self._n = 0
        self._rowids = np.zeros(0, dtype=np.int64)
        self._labels = np.zeros((0, 3), dtype=np.int32)  # tenant, project, kind codes
        self._alive = np.zeros(0, dtype=bool)
        self._rows = np.zeros((0, width), dtype=np.float32)
        self._bias = np.zeros(0, dtype=np.float32)

    def refresh(self, conn: sqlite3.Connection) -> None:
        """Load the rows stored since the last refresh, as ``conn`` sees them."""
        with self._lock:
            self._refresh(conn)

    def _refresh(self, conn: sqlite3.Connection) -> None:
        rows = _fetch(conn, self.model, self.loaded_rowid)
        if not rows:
            return
        total = self._n + len(rows)
        if total >= self.fit_at and (self.fitted == 0 or total >= REFIT_GROWTH * self.fitted):
            if self._n:
                rows = _fetch(conn, self.model, 0)
            vectors = _decoded(rows)
            self._fit(vectors)
        else:
            vectors = _decoded(rows)
        self._append(rows, vectors)

    def _fit(self, vectors: np.ndarray) -> None:
        sample = vectors[:: max(1, len(vectors) // FIT_SAMPLE)]
        self._mean = sample.mean(axis=0)
        centered = sample - self._mean
        _, eigenvectors = np.linalg.eigh(centered.T @ centered)  # ascending eigenvalues
        self._basis = np.ascontiguousarray(eigenvectors[:, ::-1][:, :PROJECTED],
                                           dtype=np.float32)
        self.fitted = len(vectors)
        self._reset(PROJECTED)

    def _append(self, rows: list[tuple[int, str, str, str, bytes]], vectors: np.ndarray
                ) -> None:
        projected, bias = self._project(vectors)
        start, end = self._n, self._n + len(rows)
        self._grow(end)
        self._rowids[start:end] = [r[0] for r in rows]
        self._labels[start:end] = [[self._code(r[1]), self._code(r[2]), self._code(r[3])]
                                   for r in rows]
        self._alive[start:end] = True
        self._rows[start:end] = projected
        self._bias[start:end] = bias
        self._n = end
        self.loaded_rowid = rows[-1][0]

    def _grow(self, needed: int) -> None:
        """Capacity doubles, so loading rows one search at a time stays amortized O(1)."""
        if needed <= len(self._rowids):
            return
        capacity = max(needed, 2 * len(self._rowids), 1024)
        for name in ("_rowids", "_labels", "_alive", "_rows", "_bias"):
            old = getattr(self, name)
            new = np.zeros((capacity, *old.shape[1:]), dtype=old.dtype)
            new[: self._n] = old[: self._n]
            setattr(self, name, new)

    def _project(self, vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """q·x = (q-μ)·(x-μ) + x·μ + (terms of q alone); the projection keeps the first."""
        if self._basis is None:
            return vectors, np.zeros(len(vectors), dtype=np.float32)
        return (vectors - self._mean) @ self._basis, vectors @ self._mean

    def _code(self, label: str) -> int:
        return self._codes.setdefault(label, len(self._codes))

    def candidates(
        self, query: np.ndarray, count: int, tenant: str, project: str | None = None,
        kind: str | None = None, projects: Sequence[str] | None = None,
    ) -> list[int]:
        """Fact rowids of the ``count`` best-scored rows that pass the filters, by the
        projected score (exact for a small index)."""
        with self._lock:
            return self._candidates(query, count, tenant, project, kind, projects)

    def _candidates(
        self, query: np.ndarray, count: int, tenant: str, project: str | None,
        kind: str | None, projects: Sequence[str] | None,
    ) -> list[int]:
        n = self._n
        mask = self._alive[:n] & self._equals(0, tenant)
        if project is not None:
            mask &= self._equals(1, project)
        if kind is not None:
            mask &= self._equals(2, kind)
        if projects is not None:
            codes = [self._codes[p] for p in projects if p in self._codes]
            mask &= np.isin(self._labels[:n, 1], codes)
        chosen = np.flatnonzero(mask)
        if len(chosen) > count:
            if self._basis is None:
                scores = self._rows[chosen] @ query
            else:
                scores = ((self._rows[:n] @ ((query - self._mean) @ self._basis))
                          + self._bias[:n])[chosen]
            chosen = chosen[np.argpartition(-scores, count - 1)[:count]]
        return [int(r) for r in self._rowids[chosen]]

    def _equals(self, column: int, label: str) -> np.ndarray:
        code = self._codes.get(label)
        if code is None:
            return np.zeros(self._n, dtype=bool)
        equal: np.ndarray = self._labels[: self._n, column] == code
        return equal

    def forget(self, rowids: Sequence[int]) -> None:
        """These rows' vectors were deleted (their facts retired): skip them from now on.
        Precondition: deleted, not merely newer than the caller's snapshot."""
        with self._lock:
            self._forget(rowids)

    def _forget(self, rowids: Sequence[int]) -> None:
        wanted = np.asarray(rowids, dtype=np.int64)
        where = np.searchsorted(self._rowids[: self._n], wanted)
        inside = where < self._n
        where, wanted = where[inside], wanted[inside]
        self._alive[where[self._rowids[where] == wanted]] = False


def _fetch(conn: sqlite3.Connection, model: str, after: int
           ) -> list[tuple[int, str, str, str, bytes]]:
    return conn.execute(
        "SELECT fact_rowid, tenant, project, kind, vector FROM fact_embeddings"
        " WHERE model = ? AND fact_rowid > ? ORDER BY fact_rowid", (model, after)).fetchall()


def _decoded(rows: list[tuple[int, str, str, str, bytes]]) -> np.ndarray:
    return np.frombuffer(b"".join(r[4] for r in rows), np.float32).reshape(-1, DIMENSIONS)
