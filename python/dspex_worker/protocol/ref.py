"""REF frames and the spill directory (spec section 4).

A REF payload is the canonical MessagePack map ``{path, offset, length,
format}``. The reader confines ``path`` to its spill directory and maps the
range read-only; the decoded body views the mapping, which stays valid
after the writer unlinks the file.
"""

from __future__ import annotations

import dataclasses
import itertools
import mmap
import os
import stat
import threading
from collections.abc import Mapping
from typing import Any

from dspex_worker.codec import msgpack_codec
from dspex_worker.codec.errors import CorruptedPayloadError
from dspex_worker.codec.formats import NAMES
from dspex_worker.protocol.errors import (
    FrameTooLongError,
    RefNotFoundError,
    RefOutOfRangeError,
    RefOutsideSpillDirError,
)
from dspex_worker.protocol.settings import DEFAULT_MAX_REF_BYTES

Buffer = bytes | bytearray | memoryview

#: How settings, ``hello`` capabilities and metrics name a body that travels as a REF file.
REF = "ref"


@dataclasses.dataclass(frozen=True, slots=True)
class RefInfo:
    """The content of a REF frame: where a body lives and its content format."""

    path: str
    offset: int
    length: int
    format: str

    def to_map(self) -> dict[str, Any]:
        """The REF map in the spec's key order."""
        return {
            "path": self.path,
            "offset": self.offset,
            "length": self.length,
            "format": self.format,
        }

    def encode(self) -> bytes:
        """The REF frame payload (canonical MessagePack)."""
        return msgpack_codec.encode(self.to_map())

    @classmethod
    def from_map(cls, value: Any) -> RefInfo:
        """Validate a decoded REF map (any key order).

        Raises:
            CorruptedPayloadError: not a map, a missing key, or a key of the wrong type.
        """
        if not isinstance(value, Mapping):
            raise CorruptedPayloadError(f"REF payload is not a map but {type(value).__name__}")
        missing = [key for key in ("path", "offset", "length", "format") if key not in value]
        if missing:
            raise CorruptedPayloadError(f"REF map lacks {', '.join(missing)}")
        path, offset, length, fmt = value["path"], value["offset"], value["length"], value["format"]
        if type(path) is not str or type(offset) is not int or type(length) is not int:
            raise CorruptedPayloadError(
                "REF map needs a str path and int offset/length, got "
                f"{path!r}, {offset!r}, {length!r}"
            )
        if fmt not in NAMES:
            raise CorruptedPayloadError(f"REF format {fmt!r} is not one of {', '.join(NAMES)}")
        return cls(path, offset, length, fmt)

    @classmethod
    def decode(cls, payload: Buffer) -> RefInfo:
        """Decode and validate a REF frame payload."""
        return cls.from_map(msgpack_codec.decode(payload))


class SpillDir:
    """One side's view of the spill directory: resolve REFs in, write REFs out.

    Args:
        path: the directory (absolute; it must exist).
        tag: names this writer's files, ``w<pid>`` for a worker (spec section 4).
        max_ref_bytes: the largest REF body accepted.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        tag: str | None = None,
        max_ref_bytes: int = DEFAULT_MAX_REF_BYTES,
    ) -> None:
        self.path = os.fspath(path)
        self.real_path = os.path.realpath(self.path)
        if not os.path.isdir(self.real_path):
            raise ValueError(f"spill directory {self.path} does not exist")
        self.tag = tag or f"w{os.getpid()}"
        self.max_ref_bytes = max_ref_bytes
        self._seq = itertools.count(1)
        self._lock = threading.Lock()

    # -- reading ----------------------------------------------------------------

    def resolve_path(self, relative: str) -> str:
        """The real path of a REF ``path``, confined to this directory.

        Raises:
            RefOutsideSpillDirError: absolute, has a ``..`` component, or
                resolves (through symbolic links) outside the directory.
        """
        if not relative or "\x00" in relative:
            raise RefOutsideSpillDirError(f"REF path {relative!r} is not a file name")
        if os.path.isabs(relative):
            raise RefOutsideSpillDirError(f"REF path {relative!r} is absolute")
        if ".." in relative.replace("\\", "/").split("/"):
            raise RefOutsideSpillDirError(f"REF path {relative!r} has a '..' component")
        real = os.path.realpath(os.path.join(self.real_path, relative))
        if os.path.commonpath([real, self.real_path]) != self.real_path:
            raise RefOutsideSpillDirError(
                f"REF path {relative!r} resolves to {real}, outside the spill directory {self.path}"
            )
        return real

    def check_range(self, ref: RefInfo) -> None:
        """Check offset/length before touching the file.

        Raises:
            RefOutOfRangeError: a negative offset or length.
            FrameTooLongError: a length above ``max_ref_bytes``.
        """
        if ref.offset < 0 or ref.length < 0:
            raise RefOutOfRangeError(
                f"REF {ref.path!r} has a negative offset/length ({ref.offset}, {ref.length})"
            )
        if ref.length > self.max_ref_bytes:
            raise FrameTooLongError(
                f"REF {ref.path!r} length {ref.length} exceeds max_ref_bytes {self.max_ref_bytes}"
            )

    def open(self, ref: RefInfo) -> memoryview:
        """Map the REF's byte range read-only and return a view of it (no copy).

        Raises:
            RefOutsideSpillDirError, RefOutOfRangeError, FrameTooLongError,
            RefNotFoundError: see :meth:`resolve_path` and :meth:`check_range`;
            RefNotFoundError when no regular file is there.
        """
        real = self.resolve_path(ref.path)
        self.check_range(ref)
        try:
            # O_NONBLOCK: opening a FIFO planted in the directory must not hang.
            fd = os.open(real, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        except FileNotFoundError:
            raise RefNotFoundError(f"REF file {ref.path!r} not found in {self.path}") from None
        except OSError as exc:
            raise RefNotFoundError(f"REF file {ref.path!r} cannot be opened: {exc}") from None
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise RefNotFoundError(f"REF path {ref.path!r} is not a regular file")
            if ref.offset + ref.length > info.st_size:
                raise RefOutOfRangeError(
                    f"REF {ref.path!r} range offset {ref.offset} + length {ref.length} "
                    f"exceeds the file size {info.st_size}"
                )
            if ref.length == 0:
                return memoryview(b"")
            # mmap offsets must be multiples of the allocation granularity:
            # map from the aligned offset below and slice the view.
            aligned = ref.offset - ref.offset % mmap.ALLOCATIONGRANULARITY
            skip = ref.offset - aligned
            mapping = mmap.mmap(fd, skip + ref.length, access=mmap.ACCESS_READ, offset=aligned)
        finally:
            os.close(fd)
        return memoryview(mapping)[skip : skip + ref.length]

    # -- writing ----------------------------------------------------------------

    def next_name(self, fmt: str) -> str:
        """A fresh file name ``<tag>-<seq>.<format>``."""
        with self._lock:
            seq = next(self._seq)
        return f"{self.tag}-{seq}.{fmt}"

    def write(self, data: Buffer, fmt: str) -> RefInfo:
        """Write a body to a new file and return its REF (offset 0, whole file)."""
        name = self.next_name(fmt)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
        fd = os.open(os.path.join(self.real_path, name), flags, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        return RefInfo(name, 0, len(data), fmt)

    def delete(self, relative: str) -> None:
        """Delete a REF file (missing is fine: someone may have swept it)."""
        try:
            os.unlink(self.resolve_path(relative))
        except FileNotFoundError:
            pass
