"""The content format registry: one list, frame types built from it, capabilities that hold."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from dspex_worker.codec.errors import EncodingError
from dspex_worker.codec.formats import FORMATS, NAMES, BodyFormat, body_format, native_format
from dspex_worker.protocol.frames import FORMAT_FRAME_TYPES, FrameType

RECORDS = [{"q": "a", "n": 1}, {"q": "b", "n": 2}]
HEADER = {"id": 7, "command": "ping", "args": {}}


def test_the_frame_types_are_the_formats_then_ref_and_the_stream_frames() -> None:
    assert NAMES == ("json", "msgpack", "arrow", "numpy")
    assert [(t.name, t.value) for t in FrameType][: len(FORMATS)] == [
        (f.frame_name, f.frame_type) for f in FORMATS
    ]
    assert [t.name for t in FrameType][len(FORMATS) :] == [
        "REF", "STREAM_START", "STREAM_CHUNK", "STREAM_END", "STREAM_ERROR"
    ]
    assert {name: t.content_format.name for name, t in FORMAT_FRAME_TYPES.items()} == {
        n: n for n in NAMES
    }
    assert FrameType.REF.content_format is None and FrameType.STREAM_END.content_format is None
    assert len({f.frame_type for f in FORMATS}) == len(FORMATS)


def test_an_unknown_format_name_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="unknown content format 'parquet'"):
        body_format("parquet")


@pytest.mark.parametrize("fmt", FORMATS, ids=NAMES)
def test_each_format_carries_what_the_registry_says(fmt: BodyFormat) -> None:
    assert FrameType(fmt.frame_type).is_header is fmt.header
    if fmt.header:
        assert fmt.decode(fmt.encode(HEADER, name="header", path="header")) == HEADER
    if fmt.records:
        assert fmt.decode(fmt.encode(RECORDS, name="inputs", path="args.inputs")) == RECORDS
    else:
        with pytest.raises(EncodingError, match=r"^args\.inputs: "):
            fmt.encode(RECORDS, name="inputs", path="args.inputs")
    array = np.arange(6, dtype=np.float32).reshape(2, 3)
    if fmt.arrays:
        decoded = fmt.decode(fmt.encode(array, name="vectors", path="vectors"))
        assert decoded.dtype == array.dtype and np.array_equal(decoded, array)
    else:
        with pytest.raises(EncodingError):
            fmt.encode(array, name="vectors", path="vectors")


def test_a_formats_own_containers_are_known_and_become_plain_data() -> None:
    array = np.array([[1.5, 2.0]], dtype=np.float32)
    table = pa.table({"q": ["a", "b"]})
    assert native_format(array) is body_format("numpy")
    assert native_format(table) is body_format("arrow")
    assert native_format(RECORDS) is None and native_format("text") is None
    assert native_format(array).plain(array) == [[1.5, 2.0]]
    assert native_format(table).plain(table) == [{"q": "a"}, {"q": "b"}]


def test_the_registry_and_the_framing_import_no_codec_library() -> None:
    code = (
        "import sys\n"
        "import dspex_worker.protocol.reader, dspex_worker.protocol.writer\n"
        "from dspex_worker.codec.formats import native_format\n"
        "native_format([1])\n"
        "print(sorted(m for m in ('numpy', 'pyarrow') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[1])
    assert out.stdout.strip() == "[]"
