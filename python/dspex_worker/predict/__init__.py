"""The ``predict`` model kind: DSPy programs over batches of records.

Modules: :mod:`.kind` (the :class:`~dspex_worker.kinds.ModelKind`, registered by
:mod:`dspex_worker.production`), :mod:`.lm` (the LM from setup args),
:mod:`.program` (signature or ``module:factory`` program), :mod:`.runner`
(concurrent elements, per-element failures and usage), :mod:`.fields` (field types
for Java), :mod:`.batch` (batch mode: the LM calls through a provider's Batch API).
dspy is imported only when a handle is set up.
"""
