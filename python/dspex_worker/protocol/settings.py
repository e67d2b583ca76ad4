"""Protocol limits and AUTO thresholds (``docs/protocol.md`` sections 1.3, 4, 5)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from dspex_worker import contract

MIB = 1024 * 1024
GIB = 1024 * MIB

# The defaults are the contract's (contract.json, shared with the Java connector).
DEFAULT_MAX_FRAME_BYTES: int = contract.SETTINGS["max_frame_bytes"]
DEFAULT_MAX_REF_BYTES: int = contract.SETTINGS["max_ref_bytes"]
DEFAULT_JSON_MAX_RECORDS: int = contract.SETTINGS["json_max_records"]
DEFAULT_ARROW_MIN_RECORDS: int = contract.SETTINGS["arrow_min_records"]
DEFAULT_REF_MIN_BYTES: int = contract.SETTINGS["ref_min_bytes"]

# The frame length is a u32, so no limit can usefully exceed it.
_U32_MAX = 0xFFFFFFFF

#: hello ``args`` keys that override a setting (spec section 7, step 1).
HELLO_SETTING_KEYS: tuple[str, ...] = tuple(contract.SETTINGS)


def _check_int(name: str, value: Any, minimum: int, maximum: int | None = None) -> int:
    # bool is an int subclass; a JSON `true` for a byte limit is a caller bug.
    if type(value) is not int:
        raise ValueError(f"{name} must be an integer, was {value!r}")
    if value < minimum or (maximum is not None and value > maximum):
        bound = f">= {minimum}" if maximum is None else f"in {minimum}..{maximum}"
        raise ValueError(f"{name} must be {bound}, was {value}")
    return value


@dataclasses.dataclass(frozen=True)
class ProtocolSettings:
    """Immutable protocol settings; ``with_*`` methods return checked copies.

    Attributes:
        max_frame_bytes: largest frame payload read or written (default 256 MiB).
        max_ref_bytes: largest REF body accepted (default 16 GiB).
        json_max_records: record lists up to this size go inline as JSON (default 3, from bench/run codecs).
        arrow_min_records: record lists at least this long go as ARROW (default 10000, from bench/run codecs).
        ref_min_bytes: encoded bodies at least this large go as REF (default 64 MiB).
    """

    max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES
    max_ref_bytes: int = DEFAULT_MAX_REF_BYTES
    json_max_records: int = DEFAULT_JSON_MAX_RECORDS
    arrow_min_records: int = DEFAULT_ARROW_MIN_RECORDS
    ref_min_bytes: int = DEFAULT_REF_MIN_BYTES

    def __post_init__(self) -> None:
        _check_int("max_frame_bytes", self.max_frame_bytes, 1, _U32_MAX)
        _check_int("max_ref_bytes", self.max_ref_bytes, 0)
        _check_int("json_max_records", self.json_max_records, 0)
        _check_int("arrow_min_records", self.arrow_min_records, 1)
        _check_int("ref_min_bytes", self.ref_min_bytes, 1)

    def with_max_frame_bytes(self, value: int) -> ProtocolSettings:
        """Copy with another frame limit (default 256 MiB, at most 2**32-1)."""
        return dataclasses.replace(self, max_frame_bytes=value)

    def with_max_ref_bytes(self, value: int) -> ProtocolSettings:
        """Copy with another REF body limit (default 16 GiB)."""
        return dataclasses.replace(self, max_ref_bytes=value)

    def with_json_max_records(self, value: int) -> ProtocolSettings:
        """Copy with another inline-JSON record count (default 3)."""
        return dataclasses.replace(self, json_max_records=value)

    def with_arrow_min_records(self, value: int) -> ProtocolSettings:
        """Copy with another ARROW record count threshold (default 10000)."""
        return dataclasses.replace(self, arrow_min_records=value)

    def with_ref_min_bytes(self, value: int) -> ProtocolSettings:
        """Copy with another REF size threshold (default 64 MiB)."""
        return dataclasses.replace(self, ref_min_bytes=value)

    def with_hello_args(self, args: Mapping[str, Any]) -> ProtocolSettings:
        """Copy overridden by the settings a client sent in ``hello`` ``args``.

        Keys other than :data:`HELLO_SETTING_KEYS` are ignored (``protocols``,
        ``spill_dir``, ...). A bad value raises ``ValueError`` naming the key.
        """
        changes = {key: args[key] for key in HELLO_SETTING_KEYS if key in args}
        return dataclasses.replace(self, **changes) if changes else self

    @classmethod
    def from_hello_args(cls, args: Mapping[str, Any]) -> ProtocolSettings:
        """Defaults overridden by the settings in ``hello`` ``args``."""
        return cls().with_hello_args(args)

    def to_hello_args(self) -> dict[str, int]:
        """The settings as ``hello`` ``args`` entries (what a client sends)."""
        return {key: getattr(self, key) for key in HELLO_SETTING_KEYS}


DEFAULT_SETTINGS = ProtocolSettings()
