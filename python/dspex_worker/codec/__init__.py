"""Payload codecs, one module per format (``docs/protocol.md`` section 3), at the bottom.

:mod:`.formats` lists the content formats once (wire name, frame type byte, codec
module, what each can carry); :mod:`.errors` holds the errors codecs raise;
:mod:`.values` checks values against the value model. Each codec module offers
``encode(value) -> bytes`` and ``decode(buffer) -> value`` plus the registry's
``encode_body``/``decode_body``, and is imported lazily by its users: a worker that
never sees an Arrow body never pays for importing pyarrow. Nothing here imports the
protocol layer.
"""
