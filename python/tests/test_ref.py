"""The spill directory: REF maps, confinement, range checks and zero-copy mappings."""

from __future__ import annotations

import mmap
import os
import stat
from pathlib import Path

import numpy as np
import pytest

from dspex_worker.codec import msgpack_codec, numpy_codec
from dspex_worker.protocol.errors import (
    CorruptedPayloadError,
    FrameTooLongError,
    RefNotFoundError,
    RefOutOfRangeError,
    RefOutsideSpillDirError,
)
from dspex_worker.protocol.ref import RefInfo, SpillDir

GRANULE = mmap.ALLOCATIONGRANULARITY


@pytest.fixture
def spill(tmp_path: Path) -> SpillDir:
    directory = tmp_path / "spill"
    directory.mkdir(mode=0o700)
    return SpillDir(directory, tag="w4242")


def test_ref_map_is_canonical_msgpack_in_spec_key_order() -> None:
    payload = RefInfo("w1-1.numpy", 0, 10, "numpy").encode()
    assert payload == msgpack_codec.encode(
        {"path": "w1-1.numpy", "offset": 0, "length": 10, "format": "numpy"}
    )
    assert RefInfo.decode(payload) == RefInfo("w1-1.numpy", 0, 10, "numpy")


def test_ref_map_accepts_any_key_order() -> None:
    payload = msgpack_codec.encode({"format": "json", "length": 2, "offset": 1, "path": "p"})
    assert RefInfo.decode(payload) == RefInfo("p", 1, 2, "json")


@pytest.mark.parametrize(
    "value",
    [
        [],
        {"path": "p", "offset": 0, "length": 1},
        {"path": 1, "offset": 0, "length": 1, "format": "json"},
        {"path": "p", "offset": True, "length": 1, "format": "json"},
        {"path": "p", "offset": 0, "length": 1.0, "format": "json"},
        {"path": "p", "offset": 0, "length": 1, "format": "ref"},
    ],
)
def test_malformed_ref_map_is_corrupted_payload(value: object) -> None:
    with pytest.raises(CorruptedPayloadError):
        RefInfo.decode(msgpack_codec.encode(value))


def test_written_body_reads_back_through_its_ref(spill: SpillDir) -> None:
    ref = spill.write(b"hello body", "msgpack")
    assert ref == RefInfo("w4242-1.msgpack", 0, 10, "msgpack")
    assert spill.open(ref).tobytes() == b"hello body"
    mode = os.stat(Path(spill.path) / ref.path).st_mode
    assert stat.S_IMODE(mode) == 0o600
    assert spill.write(b"x", "arrow").path == "w4242-2.arrow"


@pytest.mark.parametrize(
    "offset",
    [0, 1, GRANULE - 1, GRANULE, GRANULE + 123],
)
def test_range_at_any_offset_maps_from_an_aligned_offset(spill: SpillDir, offset: int) -> None:
    data = bytes(range(256)) * 80
    (Path(spill.path) / "blob.bin").write_bytes(data)
    view = spill.open(RefInfo("blob.bin", offset, 1000, "msgpack"))
    assert view.readonly and view.tobytes() == data[offset : offset + 1000]


def test_zero_length_range_is_an_empty_view(spill: SpillDir) -> None:
    (Path(spill.path) / "empty.bin").write_bytes(b"")
    assert spill.open(RefInfo("empty.bin", 0, 0, "json")).tobytes() == b""


def test_mapped_numpy_body_is_read_only_and_survives_unlink(spill: SpillDir) -> None:
    array = np.arange(12, dtype="<f4").reshape(3, 4)
    ref = spill.write(numpy_codec.encode(array), "numpy")
    decoded = numpy_codec.decode(spill.open(ref))
    spill.delete(ref.path)
    assert not (Path(spill.path) / ref.path).exists()
    assert not decoded.flags.writeable and (decoded == array).all()


@pytest.mark.parametrize("path", ["/etc/passwd", "../outside.bin", "a/../../outside.bin", "..", ""])
def test_paths_escaping_the_spill_dir_are_refused(spill: SpillDir, path: str) -> None:
    with pytest.raises(RefOutsideSpillDirError):
        spill.open(RefInfo(path, 0, 1, "json"))


def test_symlink_escaping_the_spill_dir_is_refused(spill: SpillDir, tmp_path: Path) -> None:
    outside = tmp_path / "secret.txt"
    outside.write_bytes(b"secret")
    os.symlink(outside, Path(spill.path) / "link.bin")
    with pytest.raises(RefOutsideSpillDirError, match="outside the spill directory"):
        spill.open(RefInfo("link.bin", 0, 6, "json"))


def test_symlink_inside_the_spill_dir_is_followed(spill: SpillDir) -> None:
    (Path(spill.path) / "real.bin").write_bytes(b"[1]")
    os.symlink("real.bin", Path(spill.path) / "alias.bin")
    assert spill.open(RefInfo("alias.bin", 0, 3, "json")).tobytes() == b"[1]"


def test_missing_file_is_ref_not_found(spill: SpillDir) -> None:
    with pytest.raises(RefNotFoundError, match="not found"):
        spill.open(RefInfo("w1-99.msgpack", 0, 1, "msgpack"))


def test_directory_or_fifo_is_ref_not_found_without_hanging(spill: SpillDir) -> None:
    os.mkdir(Path(spill.path) / "sub")
    os.mkfifo(Path(spill.path) / "pipe")
    for name in ("sub", "pipe", "."):
        with pytest.raises(RefNotFoundError, match="not a regular file"):
            spill.open(RefInfo(name, 0, 0, "json"))


@pytest.mark.parametrize(("offset", "length"), [(-1, 1), (0, -1), (5, 6), (11, 0), (0, 11)])
def test_ranges_outside_the_file_are_out_of_range(
    spill: SpillDir, offset: int, length: int
) -> None:
    (Path(spill.path) / "ten.bin").write_bytes(b"0123456789")
    with pytest.raises(RefOutOfRangeError):
        spill.open(RefInfo("ten.bin", offset, length, "json"))


def test_length_above_max_ref_bytes_is_frame_too_long(tmp_path: Path) -> None:
    spill = SpillDir(tmp_path, max_ref_bytes=100)
    (tmp_path / "big.bin").write_bytes(bytes(200))
    with pytest.raises(FrameTooLongError, match="max_ref_bytes 100"):
        spill.open(RefInfo("big.bin", 0, 101, "json"))


def test_spill_dir_must_exist(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="does not exist"):
        SpillDir(tmp_path / "nope")


def test_default_tag_names_the_worker_pid(tmp_path: Path) -> None:
    assert SpillDir(tmp_path).next_name("numpy") == f"w{os.getpid()}-1.numpy"


def test_delete_of_a_missing_file_is_fine(spill: SpillDir) -> None:
    spill.delete("w4242-7.json")
