"""The Python half of ``bench/run transport``.

Two modes, the same work on the Python side in both:

- ``transport_peer.py protocol``: a DSPex V2 peer (negotiates like a worker).
  Command ``transport``: reads body ``data`` (a float32 ndarray, as a NUMPY
  frame or a REF), checksums every byte, and answers with a *new* array of the
  same size (each value plus one) as body ``data`` in the same transport.
- ``transport_peer.py raw BYTES``: the raw pipe baseline. Reads exactly
  ``BYTES`` bytes from stdin, checksums them, writes ``BYTES`` new bytes
  (same arithmetic) to stdout; repeats until EOF. No framing at all.
"""

from __future__ import annotations

import os
import sys
from typing import Any, BinaryIO

import numpy as np

from dspex_worker.protocol.negotiation import Session, serve_hello
from dspex_worker.protocol.settings import DEFAULT_SETTINGS
from dspex_worker.stdio import claim_stdio

#: The benchmark sends 512 MiB bodies, above the default frame limit: the peer raises it.
MAX_FRAME_BYTES = 1 << 30


def checksum(data: np.ndarray) -> int:
    """Sum of every 8-byte word: touches every byte, cheap next to the transfer itself."""
    raw = data.view(np.uint8)
    words = raw[: raw.size - raw.size % 8].view(np.uint64)
    total = int(words.sum(dtype=np.uint64)) + int(raw[words.size * 8 :].sum())
    return total & ((1 << 63) - 1)  # fits the protocol's signed 64-bit integers


def answer(data: np.ndarray) -> np.ndarray:
    """A new array of the same shape: nothing is sent back that was received."""
    return np.add(data, np.float32(1.0), dtype=np.float32)


def serve_protocol(channel_in: BinaryIO, channel_out: BinaryIO) -> int:
    """Negotiate and answer ``transport`` requests until EOF or ``shutdown``."""
    from dspex_worker.protocol.frames import FrameReader, FrameWriter

    settings = DEFAULT_SETTINGS.with_max_frame_bytes(MAX_FRAME_BYTES)
    session: Session | None = serve_hello(
        FrameReader(channel_in, v2=False, peer="bench client"),
        FrameWriter(channel_out, v2=False, peer="bench client"),
        settings=settings,
        handlers=("transport", "shutdown"),
    )
    if session is None:
        return 0
    while True:
        message = session.reader.read()
        if message is None:
            return 0
        if message.command == "shutdown":
            session.writer.write_response(message.id, {"ok": True})
            return 0
        data: Any = message.body("data")
        total = checksum(data)
        transport = "ref:numpy" if message.body_is_ref("data") else "numpy"
        session.writer.write_response(
            message.id, {"checksum": total}, {"data": answer(data)}, formats={"data": transport}
        )


def serve_raw(size: int, channel_in: BinaryIO, channel_out: BinaryIO) -> int:
    """Read ``size`` bytes, answer ``size`` new bytes, until EOF."""
    buffer = bytearray(size)
    view = memoryview(buffer)
    while True:
        got = 0
        while got < size:
            n = channel_in.readinto(view[got:])
            if not n:
                return 0
            got += n
        data = np.frombuffer(buffer, dtype=np.float32)
        checksum(data)
        channel_out.write(memoryview(answer(data)).cast("B"))
        channel_out.flush()


def main(argv: list[str]) -> int:
    """``protocol`` or ``raw BYTES``."""
    channel_in, channel_out = claim_stdio()
    if argv[1:2] == ["protocol"]:
        return serve_protocol(channel_in, channel_out)
    if argv[1:2] == ["raw"] and len(argv) == 3:
        # Unbuffered: the raw baseline must not pay for an extra copy through a Python buffer.
        raw_in = os.fdopen(channel_in.fileno(), "rb", buffering=0, closefd=False)
        raw_out = os.fdopen(channel_out.fileno(), "wb", buffering=0, closefd=False)
        return serve_raw(int(argv[2]), raw_in, raw_out)
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
