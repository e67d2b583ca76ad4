"""The ``embed`` model kind: text embeddings as float32 NUMPY bodies.

Modules: :mod:`.kind` (the :class:`~dspex_worker.kinds.ModelKind`, registered by
:mod:`dspex_worker.production`); the local backend, a sentence-transformers BERT pipeline
(:mod:`.sentence_encoder`: tokenize, length-sorted sub-batches of :mod:`.token_batches`,
mean-pooled vectors) over a model directory (:mod:`.model_files`), run by
:mod:`.onnx_encoder` (ONNX Runtime running the graph that :mod:`.onnx_graph` builds from the
model's weights, cached by :mod:`.graph_cache`); :mod:`.remote` (``dspy.Embedder`` against an
OpenAI-compatible endpoint). onnxruntime, onnx, numpy, tokenizers and dspy are imported
only when a handle is set up.
"""
