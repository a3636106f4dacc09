"""``cx.embed``: the embedding model, loaded on first use, run in a worker thread.

Loading is lazy so that opening a store costs nothing when no one embeds; the first call
builds the ONNX graph into ``<data dir>/models/`` if needed (about a second), later opens
reuse it. onnxruntime releases the GIL, so embedding does not stall the event loop.
Query embeddings (``embed``, ``query_vector``) go before the indexer's (``embed_for_index``)
and concurrent queries share model runs: see ``model_lanes``.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import Any, Protocol

import anyio
import numpy as np

from cortex.config import Settings
from cortex.embed.model_files import MODEL_ID, ModelUnavailable, built_model, locate
from cortex.embed.runtime import Embedder
from cortex.engine.model_lanes import LaneStatistics, ModelLanes
from cortex.errors import InvalidInput

MAX_TEXTS = 256
MAX_TEXT_BYTES = 64 * 1024
QUERY_CACHE = 1024


class TextEmbedder(Protocol):
    """What the service runs: ``Embedder``, or a stand-in in tests."""

    def embed(self, texts: list[str]) -> np.ndarray: ...


class EmbeddingService:
    """The process's one embedder (thread-safe), with its availability for ``/health``.

    ``model`` replaces the real embedder (tests pin the model's timing with it)."""

    def __init__(self, settings: Settings, model: TextEmbedder | None = None) -> None:
        self.settings = settings
        self._embedder: TextEmbedder | None = model
        self._loading = anyio.Lock()
        self._lanes = ModelLanes()
        self._queries: OrderedDict[str, bytes] = OrderedDict()

    def statistics(self) -> LaneStatistics:
        """Model runs and texts per lane."""
        return self._lanes.statistics()

    def status(self) -> dict[str, Any]:
        """Whether embeddings can work, without loading the model."""
        try:
            locate(self.settings.model_dir)
        except ModelUnavailable as error:
            return {"available": False, "model": MODEL_ID, "detail": error.detail,
                    "fix": error.context.get("fix")}
        return {"available": True, "model": MODEL_ID, "loaded": self._embedder is not None}

    async def embedder(self) -> TextEmbedder:
        """The loaded embedder. Raises ``ModelUnavailable`` when the files are missing."""
        async with self._loading:
            if self._embedder is None:
                self._embedder = await anyio.to_thread.run_sync(self._load)
            return self._embedder

    def _load(self) -> Embedder:
        files = locate(self.settings.model_dir)
        path = built_model(files, self.settings.data_dir / "models")
        return Embedder(path, files.tokenizer, self.settings.embed_threads)

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Unit-length 384-float vectors, one per text.

        Raises:
            InvalidInput: not a list of 1..256 strings of at most 64 KiB each.
            ModelUnavailable: the model is not installed.
        """
        checked = _check_texts(texts)
        embedder = await self.embedder()
        vectors = await self._lanes.query(embedder.embed, checked)
        return [row.tolist() for row in vectors]

    async def embed_for_index(self, texts: Sequence[str]) -> np.ndarray:
        """float32 vectors for the indexer: yields the model to every queued query
        between slices of a few texts. Raises ``ModelUnavailable`` without the model."""
        embedder = await self.embedder()
        return await self._lanes.index(embedder.embed, texts)

    async def query_vector(self, query: str) -> bytes:
        """A search query's embedding as float32 bytes, from a small LRU cache when the
        same query comes again."""
        cached = self._queries.get(query)
        if cached is not None:
            self._queries.move_to_end(query)
            return cached
        embedder = await self.embedder()
        (vector,) = await self._lanes.query(embedder.embed, [query])
        blob = np.asarray(vector, dtype=np.float32).tobytes()
        self._queries[query] = blob
        if len(self._queries) > QUERY_CACHE:
            self._queries.popitem(last=False)
        return blob


def _check_texts(texts: Sequence[str]) -> list[str]:
    if isinstance(texts, str) or not isinstance(texts, Sequence):
        raise InvalidInput("texts", "must be a list of strings")
    if not 1 <= len(texts) <= MAX_TEXTS:
        raise InvalidInput("texts", f"must hold 1 to {MAX_TEXTS} strings")
    for index, text in enumerate(texts):
        if not isinstance(text, str):
            raise InvalidInput(f"texts[{index}]", "must be a string")
        if len(text.encode("utf-8", "surrogatepass")) > MAX_TEXT_BYTES:
            raise InvalidInput(f"texts[{index}]", f"is over {MAX_TEXT_BYTES} bytes")
    return list(texts)


