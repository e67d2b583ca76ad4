"""A DSPex protocol V1 peer, written from docs/protocol.md alone (sections 1.2, 2 and 7).

Run as ``python v1_peer.py`` (it imports nothing of dspex_worker). It speaks V1 framing only,
``[u32 big-endian length][UTF-8 JSON]``, on stdin and stdout, and answers the way the original
DSPex bridge does: ``hello`` is refused with a plain-string error ("Unknown command: hello"), so a
client stays on V1; ``ping`` answers ``{"status": "ok", "pid": ...}``; ``echo`` answers its
``args``; ``pid`` answers ``{"pid": ...}``; any other command is refused the same way as
``hello``. Timestamps are float seconds, as the bridge writes them. It exits 0 at the end of its
input and 1 on a frame it cannot read.
"""

from __future__ import annotations

import json
import os
import struct
import sys
import time
from typing import Any, BinaryIO

_PREFIX = struct.Struct(">I")


def _read_exact(stream: BinaryIO, size: int) -> bytes | None:
    """Exactly ``size`` bytes, or None when the input ends first."""
    data = b""
    while len(data) < size:
        chunk = stream.read(size - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def answer(request: dict[str, Any]) -> dict[str, Any]:
    """The V1 response to one request."""
    command = request.get("command")
    args = request.get("args") or {}
    reply: dict[str, Any] = {"id": request.get("id"), "success": True}
    if command == "ping":
        reply["result"] = {"status": "ok", "pid": os.getpid()}
    elif command == "echo":
        reply["result"] = args
    elif command == "pid":
        reply["result"] = {"pid": os.getpid()}
    else:
        reply = {"id": request.get("id"), "success": False, "error": f"Unknown command: {command}"}
    reply["timestamp"] = time.time()
    return reply


def serve(channel_in: BinaryIO, channel_out: BinaryIO) -> int:
    """Answer V1 frames until the input ends."""
    while True:
        prefix = channel_in.read(_PREFIX.size)
        if not prefix:
            return 0
        if len(prefix) < _PREFIX.size:
            print("v1 peer: truncated frame prefix", file=sys.stderr)
            return 1
        (length,) = _PREFIX.unpack(prefix)
        payload = _read_exact(channel_in, length)
        if payload is None:
            print("v1 peer: truncated frame", file=sys.stderr)
            return 1
        try:
            request = json.loads(payload.decode("utf-8"))
        except ValueError as exc:
            print(f"v1 peer: bad JSON: {exc}", file=sys.stderr)
            return 1
        reply = json.dumps(answer(request if isinstance(request, dict) else {})).encode("utf-8")
        channel_out.write(_PREFIX.pack(len(reply)) + reply)
        channel_out.flush()


if __name__ == "__main__":
    print(f"v1 peer: serving, pid {os.getpid()}", file=sys.stderr)
    sys.exit(serve(sys.stdin.buffer, sys.stdout.buffer))
