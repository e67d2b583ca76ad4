"""The worker's serving side: hello options, the request loop, built-in commands, handler calls.

Modules: :mod:`.profile` (what a worker serves), :mod:`.options` (worker
arguments of ``hello``), :mod:`.hello` (applying them, describing the
worker), :mod:`.serve` (negotiate, then loop), :mod:`.loop` (reading,
dispatching, draining), :mod:`.control` (``ping``, ``stats``, ``shutdown``),
:mod:`.calls` (routing to and running handlers), :mod:`.handles`,
:mod:`.counters` and :mod:`.errors`.
"""
