"""A stand-in for the original DSPex V1 bridge: ``python -m dspex_testing.legacy_bridge``.

V1 framing only (``[u32 length][JSON]``), never switches. ``ping`` answers
``{"id", "success": true, "result": {"status": "ok"}, "timestamp"}``; every
other command, ``hello`` included, answers ``{"id", "success": false,
"error": "Unknown command: <cmd>", "timestamp"}`` with a plain-string error,
as the original bridge did. Java tests use it to check that a legacy peer
keeps the client on V1. Exits 0 on EOF, 1 on a frame it cannot read.
"""

from __future__ import annotations

import json
import struct
import sys
from typing import Any, BinaryIO

from dspex_worker.protocol.headers import utc_timestamp

_PREFIX = struct.Struct(">I")


def _read_exact(stream: BinaryIO, size: int) -> bytes | None:
    data = stream.read(size)
    return data if data is not None and len(data) == size else None


def answer(request: Any) -> dict[str, Any]:
    """The legacy bridge's answer to one decoded request."""
    request = request if isinstance(request, dict) else {}
    command = request.get("command")
    if command == "ping":
        return {
            "id": request.get("id"),
            "success": True,
            "result": {"status": "ok"},
            "timestamp": utc_timestamp(),
        }
    return {
        "id": request.get("id"),
        "success": False,
        "error": f"Unknown command: {command}",
        "timestamp": utc_timestamp(),
    }


def serve(channel_in: BinaryIO, channel_out: BinaryIO) -> int:
    """Answer V1 frames until EOF."""
    while True:
        prefix = channel_in.read(_PREFIX.size)
        if not prefix:
            return 0
        if len(prefix) < _PREFIX.size:
            print("legacy bridge: truncated frame prefix", file=sys.stderr)
            return 1
        (length,) = _PREFIX.unpack(prefix)
        payload = _read_exact(channel_in, length)
        if payload is None:
            print("legacy bridge: truncated frame", file=sys.stderr)
            return 1
        try:
            request = json.loads(payload.decode("utf-8"))
        except ValueError as exc:
            print(f"legacy bridge: bad JSON: {exc}", file=sys.stderr)
            return 1
        reply = json.dumps(answer(request), ensure_ascii=False, separators=(",", ":")).encode()
        channel_out.write(_PREFIX.pack(len(reply)) + reply)
        channel_out.flush()


def main() -> int:
    """Entry point: serve the V1 bridge on stdin/stdout."""
    from dspex_worker.stdio import claim_stdio

    channel_in, channel_out = claim_stdio()
    return serve(channel_in, channel_out)


if __name__ == "__main__":
    sys.exit(main())
