"""The ``optimize`` kind: a DSPy optimizer compiled over a training set the pipeline built.

Modules: :mod:`.kind` (the :class:`~dspex_worker.kinds.JobKind`, registered by
:mod:`dspex_worker.production`), :mod:`.handle` (what ``setup`` loads: program, LMs, metric,
optimizer plan), :mod:`.optimizers` (DSPy's optimizers by name, their options),
:mod:`.metrics` (the metric over the label fields), :mod:`.examples` (bodies to
``dspy.Example``s), :mod:`.progress` (what a compile has done, and how it is stopped) and
:mod:`.job` (the compile on a thread of its own). dspy is imported only when a handle is set up.
"""
