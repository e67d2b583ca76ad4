"""Beam Python's side of ``bench/run embed``: RunInference with a sentence-transformers handler.

:class:`SentenceTransformerHandler` is the model handler a Beam Python user writes for a
sentence-transformers model (Beam's ``ModelHandler`` interface: ``load_model`` once per
worker, ``run_inference`` per batch of elements that RunInference's ``BatchElements`` forms).
:func:`embed_pipeline` runs ``Create(texts) | mark | RunInference | mark`` on the Python
DirectRunner in this process; the marks time the span from the first element into
RunInference to the last vector out of it, so the model load (in the handler's
``load_model``, called from the DoFn's setup) stays out, as on the other sides. This is a
module of its own so that Beam pickles the DoFns by reference and the marks are this
module's globals.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence
from typing import Any

import apache_beam as beam
from apache_beam.ml.inference.base import ModelHandler, RunInference
from apache_beam.options.pipeline_options import PipelineOptions

_lock = threading.Lock()
_marks: dict[str, float] = {}
_outputs = [0]


class SentenceTransformerHandler(ModelHandler[str, Any, Any]):
    """Texts to unit vectors with ``SentenceTransformer.encode``, on the CPU.

    Args:
        model_path: a sentence-transformers model directory (loaded with no hub access).
        batch_size: ``encode``'s batch size inside one RunInference batch.
        max_batch_size: the most texts RunInference puts in one batch.
        threads: torch's intra-op threads.
    """

    def __init__(self, model_path: str, batch_size: int, max_batch_size: int, threads: int) -> None:
        super().__init__()
        self._model_path = model_path
        self._batch_size = batch_size
        self._max_batch_size = max_batch_size
        self._threads = threads

    def load_model(self) -> Any:
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(self._threads)
        return SentenceTransformer(self._model_path, device="cpu")

    def run_inference(self, batch: Sequence[str], model: Any,
                      inference_args: dict[str, Any] | None = None) -> Iterable[Any]:
        return list(model.encode(list(batch), batch_size=self._batch_size,
                                 normalize_embeddings=True, convert_to_numpy=True))

    def batch_elements_kwargs(self) -> dict[str, Any]:
        return {"max_batch_size": self._max_batch_size}


class _MarkIn(beam.DoFn):
    def process(self, element: str) -> Iterable[str]:
        with _lock:
            _marks.setdefault("first_in", time.perf_counter())
        yield element


class _MarkOut(beam.DoFn):
    def process(self, element: Any) -> Iterable[None]:
        with _lock:
            _marks["last_out"] = time.perf_counter()
            _outputs[0] += 1
        return ()


def embed_pipeline(texts: Sequence[str], handler: SentenceTransformerHandler) -> tuple[float, int]:
    """Runs the pipeline once on the Python DirectRunner (one worker, in this process);
    returns (first element in to last vector out, in seconds; vectors out)."""
    with _lock:
        _marks.clear()
        _outputs[0] = 0
    # flags=[]: the options come from here, not from this script's command line.
    options = PipelineOptions(flags=[], runner="DirectRunner", direct_num_workers=1,
                              direct_running_mode="in_memory")
    with beam.Pipeline(options=options) as pipeline:
        (pipeline
         | "Texts" >> beam.Create(list(texts))
         | "MarkIn" >> beam.ParDo(_MarkIn())
         | "Embed" >> RunInference(handler)
         | "MarkOut" >> beam.ParDo(_MarkOut()))
    with _lock:
        return _marks["last_out"] - _marks["first_in"], _outputs[0]
