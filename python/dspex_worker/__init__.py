"""The Python side of DSPex Beam: worker processes driven by the Java connector.

The wire protocol lives in :mod:`dspex_worker.protocol` (framing, messages,
negotiation, spill files) and :mod:`dspex_worker.codec` (one module per payload
format). ``docs/protocol.md`` at the repository root is the specification.
"""

__version__ = "0.1.0"
