"""The ``hello`` handshake (spec section 7), worker side and client side.

Every connection starts V1-framed. A client offering ``v2`` gets a V1-framed
answer with ``result.protocol == "v2"`` and both sides switch to V2 framing
from the next frame on. Anything else keeps the connection on V1: a hello
offering only ``v1`` (answered with ``protocol: "v1"``) and a legacy client
that never says hello (its first request is answered in V1).
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import os
import platform
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from dspex_worker import __version__
from dspex_worker.codec.formats import JSON, NAMES
from dspex_worker.protocol import headers
from dspex_worker.protocol.errors import UnexpectedFrameError
from dspex_worker.protocol.frames import FrameReader, FrameType, FrameWriter
from dspex_worker.protocol.message import Message
from dspex_worker.protocol.payloads import decode_header_payload
from dspex_worker.protocol.reader import MessageReader
from dspex_worker.protocol.ref import REF, SpillDir
from dspex_worker.protocol.settings import DEFAULT_SETTINGS, ProtocolSettings
from dspex_worker.protocol.writer import MessageWriter

V2 = "v2"
V1 = "v1"

#: Packages whose versions every hello reports (the client checks that the codecs' are there).
CODEC_PACKAGES = ("numpy", "pyarrow", "msgpack")

#: A hook that applies a hello's extra args and returns the hello result to send.
HelloHook = Callable[[Mapping[str, Any], dict[str, Any]], dict[str, Any]]


class HelloRefusedError(Exception):
    """The worker answered hello with an error from its hello hook and cannot serve."""


def versions(extra: Sequence[str] = ()) -> dict[str, str | None]:
    """Versions of Python, the codec libraries and ``extra`` distributions.

    Read from package metadata, never by importing the packages (importing
    numpy or torch would take time and fix their thread counts too early).
    A package that is not installed has version ``None``.
    """
    found: dict[str, str | None] = {"python": platform.python_version()}
    for package in (*CODEC_PACKAGES, *extra):
        try:
            found[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            found[package] = None
    return found


@dataclasses.dataclass
class Session:
    """A negotiated connection.

    Attributes:
        protocol: ``"v2"`` or ``"v1"``.
        settings: the settings in force (the worker's, overridden by hello args).
        spill: the spill directory, if the client gave a usable one.
        reader: reads the peer's messages in the negotiated framing.
        writer: writes messages in the negotiated framing.
        pending: a legacy client's first request, still to be answered.
        hello: the hello header (worker side) or hello response (client side).
    """

    protocol: str
    settings: ProtocolSettings
    spill: SpillDir | None
    reader: MessageReader
    writer: MessageWriter
    pending: Message | None = None
    hello: dict[str, Any] | None = None

    @property
    def v2(self) -> bool:
        """True when the connection switched to V2 framing."""
        return self.protocol == V2


def hello_result(
    protocol: str,
    *,
    spill: SpillDir | None,
    handlers: Sequence[str],
    streaming: bool,
) -> dict[str, Any]:
    """The worker's hello ``result`` in the spec's key order."""
    if protocol == V2:
        formats = [*NAMES, *([REF] if spill is not None else [])]
    else:
        # V1 frames carry JSON text only.
        formats, streaming = [JSON.name], False
    return {
        "protocol": protocol,
        "worker_version": __version__,
        "versions": versions(),
        "pid": os.getpid(),
        "capabilities": {"formats": formats, "streaming": streaming, "handlers": list(handlers)},
    }


def _offers(args: Mapping[str, Any], protocol: str) -> bool:
    protocols = args.get("protocols")
    return isinstance(protocols, list) and protocol in protocols


def _open_spill(args: Mapping[str, Any], settings: ProtocolSettings) -> SpillDir | None:
    spill_dir = args.get("spill_dir")
    if spill_dir is None:
        return None
    if not isinstance(spill_dir, str) or not os.path.isabs(spill_dir):
        print(
            f"dspex worker: ignoring spill_dir {spill_dir!r}: not an absolute path", file=sys.stderr
        )
        return None
    try:
        return SpillDir(spill_dir, max_ref_bytes=settings.max_ref_bytes)
    except ValueError as exc:
        # No REF then; the capabilities say so and the client can react.
        print(f"dspex worker: ignoring spill_dir: {exc}", file=sys.stderr)
        return None


def serve_hello(
    frames_in: FrameReader,
    frames_out: FrameWriter,
    *,
    settings: ProtocolSettings = DEFAULT_SETTINGS,
    handlers: Sequence[str] = (),
    streaming: bool = True,
    clock: Callable[[], str] = headers.utc_timestamp,
    configure: HelloHook | None = None,
) -> Session | None:
    """Worker side: read the first frame (V1-framed) and negotiate.

    Returns ``None`` on EOF before any frame. For a legacy client the
    returned session is V1 with ``pending`` set to its first request.

    ``configure``, when given, is called with a hello's args and the result
    about to be sent, before the answer is written, and returns the result to
    send instead (the worker applies its own hello args there). If it raises,
    hello is answered with that error.

    Raises:
        ProtocolError: the first frame is not a V1 frame holding a JSON map
            with an integer id (the caller answers with id 0 and exits).
        HelloRefusedError: ``configure`` raised (the error answer is written;
            its ``__cause__`` is the original exception).
    """
    frames_in.v2 = frames_out.v2 = False
    frames_in.max_frame_bytes = frames_out.max_frame_bytes = settings.max_frame_bytes
    frame = frames_in.read_frame()
    if frame is None:
        return None
    header = decode_header_payload(frame)
    first = Message(header, FrameType.JSON, v1=True)
    if header.get("command") != "hello":
        return _session(V1, settings, None, frames_in, frames_out, clock, pending=first)
    args = first.args
    protocol = V2 if _offers(args, V2) else V1
    try:
        settings = settings.with_hello_args(args)
    except ValueError as exc:
        # The client sees a failed hello without protocol "v2" and stays on V1.
        writer = MessageWriter(frames_out, settings=settings, clock=clock)
        writer.write_error(header["id"], exc, with_traceback=False)
        return _session(V1, settings, None, frames_in, frames_out, clock, hello=header)
    spill = _open_spill(args, settings) if protocol == V2 else None
    writer = MessageWriter(frames_out, settings=settings, spill=spill, clock=clock)
    result = hello_result(protocol, spill=spill, handlers=handlers, streaming=streaming)
    if configure is not None:
        try:
            result = configure(args, result)
        except Exception as exc:
            writer.write_error(header["id"], exc)
            raise HelloRefusedError(f"hello refused: {type(exc).__name__}: {exc}") from exc
    writer.write_response(header["id"], result)
    if protocol == V2:
        frames_in.switch_to_v2()
        frames_out.switch_to_v2()
    return _session(protocol, settings, spill, frames_in, frames_out, clock, hello=header)


def _session(
    protocol: str,
    settings: ProtocolSettings,
    spill: SpillDir | None,
    frames_in: FrameReader,
    frames_out: FrameWriter,
    clock: Callable[[], str],
    *,
    pending: Message | None = None,
    hello: dict[str, Any] | None = None,
) -> Session:
    frames_in.max_frame_bytes = frames_out.max_frame_bytes = settings.max_frame_bytes
    return Session(
        protocol=protocol,
        settings=settings,
        spill=spill,
        reader=MessageReader(frames_in, spill=spill),
        writer=MessageWriter(frames_out, settings=settings, spill=spill, clock=clock),
        pending=pending,
        hello=hello,
    )


def client_hello(
    frames_in: FrameReader,
    frames_out: FrameWriter,
    *,
    protocols: Sequence[str] = (V2, V1),
    spill_dir: str | None = None,
    spill_tag: str | None = None,
    settings: ProtocolSettings | None = None,
    client_version: str = __version__,
    clock: Callable[[], str] = headers.utc_timestamp,
    extra_args: Mapping[str, Any] | None = None,
) -> Session:
    """Client side: send ``hello`` V1-framed, read the answer, switch if it says v2.

    Args:
        frames_in: reads the worker's output.
        frames_out: writes to the worker's input.
        protocols: the protocols offered, preferred first.
        spill_dir: the spill directory to announce (absolute), if any.
        spill_tag: the tag of REF files this client writes (default ``c<pid>``).
        settings: settings to announce and use (default: the defaults, not sent).
        client_version: announced as ``client_version``.
        clock: timestamps.
        extra_args: more hello args, for the worker itself (``worker_id``,
            ``handler_modules``, ...; see "Worker commands" in the spec).

    Raises:
        UnexpectedFrameError: the worker closed the channel before answering.
        ProtocolError: the answer is not a V1 frame with a JSON map.
    """
    frames_in.v2 = frames_out.v2 = False
    args: dict[str, Any] = {"protocols": list(protocols), "client_version": client_version}
    if spill_dir is not None:
        args["spill_dir"] = spill_dir
    if settings is not None:
        args.update(settings.to_hello_args())
    args.update(extra_args or {})
    settings = settings or DEFAULT_SETTINGS
    frames_in.max_frame_bytes = frames_out.max_frame_bytes = settings.max_frame_bytes
    MessageWriter(frames_out, settings=settings, clock=clock).write_request(0, "hello", args)
    frame = frames_in.read_frame()
    if frame is None:
        raise UnexpectedFrameError("the worker closed the channel before answering hello")
    answer = Message(decode_header_payload(frame), FrameType.JSON, v1=True)
    result = answer.result if answer.success else None
    v2 = isinstance(result, dict) and result.get("protocol") == V2
    spill = None
    if v2:
        frames_in.switch_to_v2()
        frames_out.switch_to_v2()
        if spill_dir is not None:
            spill = SpillDir(
                spill_dir, tag=spill_tag or f"c{os.getpid()}", max_ref_bytes=settings.max_ref_bytes
            )
    protocol = V2 if v2 else V1
    return _session(protocol, settings, spill, frames_in, frames_out, clock, hello=answer.header)
