"""The stream writer a streaming handler answers with (spec section 6).

It enforces the stream's shape so that a handler bug cannot break the
client's accounting: one ``start``, chunks whose indexes lie in ``0..n-1``
and are reported once each, one ``end``. Totals for STREAM_END are kept
here, so ``end()`` needs no arguments.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dspex_worker.protocol import headers
from dspex_worker.protocol.writer import BodyFormats, MessageWriter

_USAGE_KEYS = ("prompt_tokens", "completion_tokens", "calls")


class StreamWriter:
    """Writes one request's STREAM_START, STREAM_CHUNKs and STREAM_END.

    Args:
        writer: the connection's (thread-safe) message writer.
        request_id: the request this stream answers.
    """

    def __init__(self, writer: MessageWriter, request_id: int) -> None:
        self._writer = writer
        self.request_id = request_id
        self.n: int | None = None
        self.ended = False
        self.ok = 0
        self.failed = 0
        self.usage = headers.usage_map()
        self._seen = bytearray()

    @property
    def started(self) -> bool:
        """True once STREAM_START is written."""
        return self.n is not None

    @property
    def reported(self) -> int:
        """Elements reported so far (ok plus failed)."""
        return self.ok + self.failed

    @property
    def complete(self) -> bool:
        """True when every index of ``0..n-1`` has been reported."""
        return self.n is not None and self.reported == self.n

    def start(self, n: int) -> None:
        """Announce ``n`` elements (STREAM_START).

        Raises:
            ValueError: the connection is V1, ``n`` is not a non-negative int,
                or the stream already started.
        """
        if not self._writer.v2:
            raise ValueError("streams need a V2 connection")
        if type(n) is not int or n < 0:
            raise ValueError(f"a stream's n must be a non-negative integer, was {n!r}")
        if self.started:
            raise ValueError(f"stream {self.request_id} already started")
        self._writer.write_stream_start(self.request_id, n)
        self.n = n
        self._seen = bytearray(n)

    def chunk(
        self,
        indexes: Sequence[int],
        failed: Sequence[Mapping[str, Any]] = (),
        usage: Mapping[str, int] | None = None,
        bodies: Mapping[str, Any] | None = None,
        *,
        formats: BodyFormats = None,
    ) -> None:
        """Report some elements: outputs for ``indexes`` in ``bodies``, failures in ``failed``.

        ``failed`` entries are ``{index, type, message}``
        (:func:`dspex_worker.protocol.headers.failure` builds one).

        Raises:
            ValueError: not started, already ended, or an index out of range
                or already reported (nothing is written then).
        """
        if not self.started or self.ended:
            raise ValueError(f"stream {self.request_id} is not open (not started, or ended)")
        failed_indexes = [entry["index"] for entry in failed]
        self._mark(list(indexes) + failed_indexes)
        self._writer.write_stream_chunk(
            self.request_id, indexes, failed, usage, bodies, formats=formats
        )
        self.ok += len(indexes)
        self.failed += len(failed)
        for key in _USAGE_KEYS:
            self.usage[key] += int((usage or {}).get(key, 0))

    def _mark(self, indexes: list[int]) -> None:
        assert self.n is not None
        for index in indexes:
            if type(index) is not int or not 0 <= index < self.n:
                raise ValueError(
                    f"stream {self.request_id}: index {index!r} is not in 0..{self.n - 1}"
                )
            if self._seen[index]:
                raise ValueError(f"stream {self.request_id}: index {index} was already reported")
        for index in indexes:
            self._seen[index] = 1

    def end(self) -> None:
        """Write STREAM_END with the totals.

        Raises:
            ValueError: not started, already ended, or some index not reported.
        """
        if not self.started or self.ended:
            raise ValueError(f"stream {self.request_id} is not open")
        if not self.complete:
            raise ValueError(
                f"stream {self.request_id} reported {self.reported} of its {self.n} elements"
            )
        self._writer.write_stream_end(self.request_id, self.ok, self.failed, self.usage)
        self.ended = True

    def error(
        self, error: BaseException | Mapping[str, Any], *, with_traceback: bool = True
    ) -> None:
        """End the stream with STREAM_ERROR (the worker does this when a handler raises)."""
        self._writer.write_stream_error(self.request_id, error, with_traceback=with_traceback)
        self.ended = True
