"""Payload codecs, one module per format (``docs/protocol.md`` section 3).

Each module offers ``encode(value) -> bytes`` and ``decode(buffer) -> value``.
The modules are imported lazily by their users: a worker that never sees an
Arrow body never pays for importing pyarrow.
"""

#: The content formats a body can have.
FORMATS = ("json", "msgpack", "arrow", "numpy")
