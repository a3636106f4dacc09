"""The embedding runtime: ``tokenizers`` + onnxruntime, thread-safe, GIL-free while it runs.

The package's tokenizer.json says truncation at 128 and fixed padding to 128; Cortex
overrides both: truncation at 256 tokens (as sentence-transformers does for this model)
and padding to the longest text of the batch.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

MAX_TOKENS = 256
DIMENSIONS = 384


class Embedder:
    """Turns texts into L2-normalized 384-float vectors."""

    def __init__(self, onnx_path: Path, tokenizer_path: Path, threads: int = 2) -> None:
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(onnx_path), options,
                                            providers=["CPUExecutionProvider"])
        self.tokenizer = Tokenizer.from_file(str(tokenizer_path))
        self.tokenizer.no_padding()
        self.tokenizer.no_truncation()
        self.tokenizer.enable_truncation(max_length=MAX_TOKENS)
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")

    def token_ids(self, text: str) -> list[int]:
        """The model's input ids for ``text`` (with [CLS] and [SEP], no padding)."""
        return list(self.tokenizer.encode(text).ids)

    def embed(self, texts: list[str]) -> np.ndarray:
        """float32 [len(texts), 384], each row of unit length. Blocking; call off-loop."""
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        encoded = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encoded], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
        (vectors,) = self.session.run(["embedding"], {"input_ids": ids, "attention_mask": mask})
        return np.asarray(vectors, dtype=np.float32)
