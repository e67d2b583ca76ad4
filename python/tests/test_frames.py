"""Framing: V1/V2 round trips, limits, truncation and garbage on the channel."""

from __future__ import annotations

import io
import os
import struct
import threading
import tracemalloc

import pytest

from dspex_worker.protocol.errors import (
    FrameTooLongError,
    TruncatedFrameError,
    UnknownFrameTypeError,
    render_first_bytes,
)
from dspex_worker.protocol.frames import (
    FIRST_READ_BYTES,
    Frame,
    FrameReader,
    FrameType,
    FrameWriter,
    encode_frame,
)
from dspex_worker.protocol.settings import DEFAULT_MAX_FRAME_BYTES


class EndlessStream(io.RawIOBase):
    """A stream claiming a 4 GiB frame and then serving bytes forever; counts what is read."""

    def __init__(self, prefix: bytes) -> None:
        self.prefix = prefix
        self.position = 0
        self.requested: list[int] = []

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        self.requested.append(len(buffer))
        n = len(buffer)
        for i in range(n):
            at = self.position + i
            buffer[i] = self.prefix[at] if at < len(self.prefix) else 0x41
        self.position += n
        return n


class ShortReads(io.RawIOBase):
    """Serves ``data`` at most ``max_read`` bytes per read, as a pipe does."""

    def __init__(self, max_read: int, data: bytes) -> None:
        self.max_read = max_read
        self.data = memoryview(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        n = min(len(buffer), len(self.data), self.max_read)
        buffer[:n] = self.data[:n]
        self.data = self.data[n:]
        return n


def test_frame_types_have_the_spec_bytes() -> None:
    assert [t.value for t in FrameType] == [0, 1, 2, 3, 4, 0x10, 0x11, 0x12, 0x13]
    assert FrameType.STREAM_CHUNK.is_stream and not FrameType.REF.is_stream
    assert FrameType.MSGPACK.is_header and not FrameType.ARROW.is_header


def test_v2_frames_round_trip_including_an_empty_payload() -> None:
    out = io.BytesIO()
    writer = FrameWriter(out)
    writer.write_frame(FrameType.MSGPACK, b"\x90")
    writer.write_frames([(FrameType.NUMPY, b""), (FrameType.STREAM_END, b"\x80")])
    assert out.getvalue() == (
        b"\x00\x00\x00\x01\x01\x90" b"\x00\x00\x00\x00\x03" b"\x00\x00\x00\x01\x12\x80"
    )
    frames = list(FrameReader(io.BytesIO(out.getvalue())))
    assert [(f.type, bytes(f.payload)) for f in frames] == [
        (FrameType.MSGPACK, b"\x90"),
        (FrameType.NUMPY, b""),
        (FrameType.STREAM_END, b"\x80"),
    ]


def test_v1_frame_has_no_type_byte_and_reads_as_json() -> None:
    out = io.BytesIO()
    FrameWriter(out, v2=False).write_frame(FrameType.JSON, b"{}")
    assert out.getvalue() == b"\x00\x00\x00\x02{}"
    frame = FrameReader(io.BytesIO(out.getvalue()), v2=False).read_frame()
    assert frame == Frame(FrameType.JSON, frame.payload) and bytes(frame.payload) == b"{}"


def test_v1_writer_refuses_non_json_frames() -> None:
    with pytest.raises(ValueError, match="JSON frames only"):
        FrameWriter(io.BytesIO(), v2=False).write_frame(FrameType.MSGPACK, b"\x80")


def test_reader_switches_from_v1_to_v2_between_frames() -> None:
    data = b"\x00\x00\x00\x02{}" + encode_frame(FrameType.MSGPACK, b"\x80")
    reader = FrameReader(io.BytesIO(data), v2=False)
    assert bytes(reader.read_frame().payload) == b"{}"
    reader.switch_to_v2()
    assert reader.read_frame().type is FrameType.MSGPACK


def test_clean_eof_between_frames_returns_none() -> None:
    reader = FrameReader(io.BytesIO(encode_frame(FrameType.JSON, b"{}")))
    assert reader.read_frame() is not None
    assert reader.read_frame() is None


def test_eof_inside_prefix_is_truncated_frame() -> None:
    with pytest.raises(TruncatedFrameError, match=r"3 of 5 bytes.*00 00 01"):
        FrameReader(io.BytesIO(b"\x00\x00\x01")).read_frame()


def test_eof_inside_payload_is_truncated_frame_showing_only_bytes_seen() -> None:
    data = encode_frame(FrameType.JSON, b'{"a":1}')[:8]
    with pytest.raises(TruncatedFrameError) as caught:
        FrameReader(io.BytesIO(data)).read_frame()
    assert "3 of 7 bytes" in str(caught.value)
    assert str(caught.value).endswith('first bytes: 00 00 00 07 00 7b 22 61 |.....{"a|')


def test_length_over_limit_fails_before_allocating_or_reading_the_payload() -> None:
    stream = EndlessStream(b"\xff\xff\xff\xff\x01")
    tracemalloc.start()
    try:
        with pytest.raises(FrameTooLongError, match="max_frame_bytes 268435456"):
            FrameReader(stream).read_frame()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1024 * 1024
    # The prefix, then at most the 32 bytes shown in the message.
    assert stream.position <= 5 + 32


def _peak_traced_bytes(call: object) -> int:
    tracemalloc.start()
    try:
        call()  # type: ignore[operator]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak


def test_length_of_exactly_the_limit_then_eof_allocates_for_the_bytes_sent_only() -> None:
    # A peer announcing a 256 MiB payload and sending 3 bytes of it.
    data = struct.pack(">IB", DEFAULT_MAX_FRAME_BYTES, FrameType.ARROW) + b"abc"
    failure: list[BaseException] = []
    peak = _peak_traced_bytes(lambda: _capture(FrameReader(io.BytesIO(data)).read_frame, failure))
    assert isinstance(failure[0], TruncatedFrameError)
    assert f"(3 of {DEFAULT_MAX_FRAME_BYTES} bytes)" in str(failure[0])
    assert peak < 2 * FIRST_READ_BYTES


def test_memory_of_a_long_payload_follows_the_bytes_that_arrive() -> None:
    sent = 10 * 1024 * 1024
    data = struct.pack(">IB", DEFAULT_MAX_FRAME_BYTES, FrameType.NUMPY) + b"\x01" * sent
    failure: list[BaseException] = []
    peak = _peak_traced_bytes(lambda: _capture(FrameReader(io.BytesIO(data)).read_frame, failure))
    assert f"({sent} of {DEFAULT_MAX_FRAME_BYTES} bytes)" in str(failure[0])
    # The buffer at most doubles past what arrived (plus the input held by the BytesIO).
    assert peak < len(data) + 2 * sent + FIRST_READ_BYTES


def test_long_payload_arriving_in_small_reads_comes_out_whole() -> None:
    # Not a power of two times the first read: the last step is a partial one.
    payload = bytes(range(256)) * (5 * FIRST_READ_BYTES // 256) + b"tail"
    data = encode_frame(FrameType.MSGPACK, payload) + encode_frame(FrameType.JSON, b"{}")
    reader = FrameReader(ShortReads(65536, data))
    frame = reader.read_frame()
    assert frame.type is FrameType.MSGPACK
    assert len(frame.payload) == len(payload)
    assert bytes(frame.payload) == payload
    assert bytes(reader.read_frame().payload) == b"{}"


def test_configured_small_limit_refuses_a_larger_frame() -> None:
    reader = FrameReader(io.BytesIO(encode_frame(FrameType.JSON, b"x" * 101)), max_frame_bytes=100)
    with pytest.raises(FrameTooLongError, match="frame length 101 exceeds max_frame_bytes 100"):
        reader.read_frame()


def test_http_garbage_fails_as_frame_too_long_naming_the_first_bytes() -> None:
    reader = FrameReader(io.BytesIO(b"HTTP/1.1 200 OK\r\n\r\nbody"), peer="worker 3 (pid 1234)")
    with pytest.raises(FrameTooLongError) as caught:
        reader.read_frame()
    message = str(caught.value)
    assert message.startswith("worker 3 (pid 1234): frame length 1213486160 exceeds")
    assert "48 54 54 50 2f 31 2e 31 20 32 30 30 " in message
    assert "|HTTP/1.1 200 OK....body|" in message


def test_v1_reader_also_catches_printed_text() -> None:
    with pytest.raises(FrameTooLongError, match=r"\|Traceback"):
        FrameReader(io.BytesIO(b"Traceback (most recent call last):\n"), v2=False).read_frame()


def test_garbage_on_a_pipe_is_reported_without_waiting_for_more_bytes() -> None:
    read_fd, write_fd = os.pipe()
    os.write(write_fd, b"HTTP/1.1 200 OK\r\n")
    result: list[BaseException] = []
    with open(read_fd, "rb") as channel:
        # The writer stays open: a blocking peek for more bytes would hang here.
        thread = threading.Thread(target=lambda: _capture(FrameReader(channel).read_frame, result))
        thread.start()
        thread.join(timeout=5)
        os.close(write_fd)
        thread.join(timeout=5)
    assert not thread.is_alive()
    assert isinstance(result[0], FrameTooLongError)
    assert "|HTTP/1.1 200 OK..|" in str(result[0])


def _capture(call: object, sink: list[BaseException]) -> None:
    try:
        call()  # type: ignore[operator]
    except BaseException as exc:  # noqa: BLE001 - handed to the test thread
        sink.append(exc)


def test_unknown_type_byte_fails_naming_type_and_first_bytes() -> None:
    with pytest.raises(UnknownFrameTypeError, match=r"0x7f.*00 00 00 02 7f 7b 7d"):
        FrameReader(io.BytesIO(b"\x00\x00\x00\x02\x7f{}")).read_frame()


def test_type_byte_0x05_is_unknown() -> None:
    with pytest.raises(UnknownFrameTypeError):
        FrameReader(io.BytesIO(b"\x00\x00\x00\x00\x05")).read_frame()


def test_writer_refuses_oversize_payload_naming_max_frame_bytes_and_writes_nothing() -> None:
    out = io.BytesIO()
    writer = FrameWriter(out, max_frame_bytes=10)
    with pytest.raises(FrameTooLongError, match="11 bytes exceeds max_frame_bytes 10"):
        writer.write_frames([(FrameType.JSON, b"{}"), (FrameType.MSGPACK, b"x" * 11)])
    assert out.getvalue() == b""


def test_reader_accepts_a_frame_exactly_at_the_limit() -> None:
    data = encode_frame(FrameType.ARROW, b"x" * 10)
    frame = FrameReader(io.BytesIO(data), max_frame_bytes=10).read_frame()
    assert len(frame.payload) == 10


def test_reader_fills_payload_from_a_stream_that_returns_short_reads() -> None:
    frame = FrameReader(ShortReads(1, encode_frame(FrameType.JSON, b'{"a":1}'))).read_frame()
    assert bytes(frame.payload) == b'{"a":1}'


def test_first_bytes_render_as_hex_and_ascii_with_dots() -> None:
    assert render_first_bytes(b"HT\x00\xff~") == "48 54 00 ff 7e |HT..~|"
    assert render_first_bytes(bytes(range(40))).count(" ") == 32
