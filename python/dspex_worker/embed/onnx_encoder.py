"""The local embed backend: the model's ONNX graph run by ONNX Runtime on the CPU.

The graph (:mod:`.onnx_graph`) comes from the model's own weights, built once per machine
into the cache (:mod:`.graph_cache`); float32 matches sentence-transformers within 1e-5
(tested against its vectors in ``testdata/embeddings/``), int8 trades a little accuracy for
speed (README, "Embeddings"). One session per setup, with ``threads`` intra-op threads: the worker's
thread budget (``hello.threads``, which the connector sets to ``withThreadsPerWorker``,
by default max(1, cores / workers)), so N workers never start N x cores threads.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import numpy as np

from dspex_worker import threadenv
from dspex_worker.embed import onnx_graph
from dspex_worker.embed.graph_cache import load_graph
from dspex_worker.embed.model_files import ModelFiles
from dspex_worker.embed.sentence_encoder import SentenceEncoder


def default_threads() -> int:
    """The worker's thread budget: ``hello.threads`` (via the thread variables), else the
    cores this process may run on."""
    limit = threadenv.current_thread_limit()
    return limit if limit and limit > 0 else len(os.sched_getaffinity(0))


class OnnxEncoder(SentenceEncoder):
    """A sentence-transformers BERT model as an ONNX Runtime session.

    Args:
        files: the model's files.
        precision: ``float32`` or ``int8``.
        threads: intra-op threads (default :func:`default_threads`).
        logger: where a graph build is reported.

    Attributes:
        precision, threads: as in force.
        graph: the cached graph the session runs (path, sha256).
    """

    def __init__(self, files: ModelFiles, precision: str = "float32", threads: int | None = None,
                 logger: logging.Logger | None = None) -> None:
        import onnxruntime as ort

        super().__init__(files)
        self.precision = precision
        self.threads = threads or default_threads()
        self.graph = load_graph(files, precision, logger=logger)
        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Errors only: its warnings are about the graph, not about a request.
        options.log_severity_level = 3
        self.session: Any = ort.InferenceSession(self.graph.data, options,
                                                 providers=["CPUExecutionProvider"])

    def forward(self, ids: np.ndarray, type_ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Mean-pooled (not normalised) vectors of a padded batch."""
        feed = dict(zip(onnx_graph.INPUTS, (ids, mask, type_ids), strict=True))
        return self.session.run([onnx_graph.OUTPUT], feed)[0]
