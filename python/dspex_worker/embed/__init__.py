"""The ``embed`` model kind: text embeddings as float32 NUMPY bodies.

Modules: :mod:`.kind` (the :class:`~dspex_worker.kinds.ModelKind`, registered by
:mod:`dspex_worker.production`), :mod:`.minilm` (a pure-numpy BERT encoder for
sentence-transformers models such as all-MiniLM-L6-v2, no torch), :mod:`.remote`
(``dspy.Embedder`` against an OpenAI-compatible endpoint). numpy, tokenizers and
dspy are imported only when a handle is set up.
"""
