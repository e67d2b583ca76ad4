"""The Python side of DSPex Beam: worker processes driven by the Java connector.

Layers, lowest first: :mod:`dspex_worker.codec` (the content formats, one module per
payload format, the value model), :mod:`dspex_worker.protocol` (framing, messages,
negotiation, spill files), :mod:`dspex_worker.handlers` (the handler API),
:mod:`dspex_worker.kinds` (model kinds and the wire shapes they answer with), the kinds
:mod:`dspex_worker.predict` and :mod:`dspex_worker.embed`, and :mod:`dspex_worker.server`
(the worker loop). ``docs/protocol.md`` at the repository root is the specification.
"""

from dspex_worker.contract import PACKAGE_VERSION as __version__  # noqa: E402, F401
