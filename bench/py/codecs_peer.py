"""The Python half of ``bench/run codecs``.

The Java side writes one encoded payload per (case, size, format) into a work
folder with a ``plan.json``. For each, this script times decoding it into
what a handler uses (a list of dicts for records, an ``ndarray`` for the
matrix), builds a same-shaped result (not timed), times encoding that result
in the same format, and writes the result payload beside the input for the
Java side to decode. Timings are medians over repetitions, in milliseconds.

Usage: python codecs_peer.py WORK_DIR
"""

from __future__ import annotations

import gc
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pyarrow as pa

from dspex_worker.codec import arrow_codec, json_codec, msgpack_codec, numpy_codec

#: Stop repeating an operation after this much time, but run it at least MIN_REPS times.
BUDGET_S = 1.0
MIN_REPS = 5
MAX_REPS = 200
#: Reps longer than this are followed by a collection outside the timed region.
GC_BETWEEN_MS = 5.0


def median_ms(operation: Callable[[], Any]) -> tuple[float, Any]:
    """Run ``operation`` repeatedly (one warm-up), return the median time and the last value."""
    value = operation()
    times: list[float] = []
    gc.collect()
    started = time.perf_counter()
    while len(times) < MIN_REPS or (
        len(times) < MAX_REPS and time.perf_counter() - started < BUDGET_S
    ):
        if times and times[-1] > GC_BETWEEN_MS:
            # As on the Java side: the previous rep's garbage is collected outside the timing.
            value = None
            gc.collect()
        t0 = time.perf_counter_ns()
        value = operation()
        times.append((time.perf_counter_ns() - t0) / 1e6)
    return statistics.median(times), value


def decode_records(fmt: str, payload: bytes) -> list[dict[str, Any]]:
    """Decode a records payload into a list of dicts."""
    if fmt == "json":
        return json_codec.decode(payload)
    if fmt == "msgpack":
        return msgpack_codec.decode(payload)
    if fmt == "arrow":
        return arrow_codec.decode(payload)
    raise ValueError(fmt)


def encode_records(fmt: str, records: list[dict[str, Any]]) -> bytes:
    """Encode a list of dicts."""
    if fmt == "json":
        return json_codec.encode(records)
    if fmt == "msgpack":
        return msgpack_codec.encode(records)
    if fmt == "arrow":
        return arrow_codec.encode(records)
    raise ValueError(fmt)


def decode_matrix(fmt: str, payload: bytes) -> np.ndarray:
    """Decode a matrix payload into a float32 ndarray, as an embedding handler would use it."""
    if fmt == "numpy":
        return numpy_codec.decode(payload)
    if fmt == "json":
        return np.asarray(json_codec.decode(payload), dtype=np.float32)
    if fmt == "msgpack":
        return np.asarray(msgpack_codec.decode(payload), dtype=np.float32)
    if fmt == "arrow":
        column = arrow_codec.decode_table(payload).column(0).combine_chunks()
        return column.flatten().to_numpy().astype(np.float32, copy=False).reshape(len(column), -1)
    raise ValueError(fmt)


def encode_matrix(fmt: str, matrix: np.ndarray) -> bytes:
    """Encode a float32 matrix the way a handler would send it in ``fmt``."""
    if fmt == "numpy":
        return numpy_codec.encode(matrix)
    if fmt == "json":
        return json_codec.encode(matrix.tolist())
    if fmt == "msgpack":
        return msgpack_codec.encode(matrix.tolist())
    if fmt == "arrow":
        flat = pa.array(matrix.reshape(-1), type=pa.float32())
        column = pa.FixedSizeListArray.from_arrays(flat, matrix.shape[1])
        return arrow_codec.encode(pa.table({"vector": column}))
    raise ValueError(fmt)


def result_records(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A result of the same shape as the input, with new values (not what was received)."""
    return [
        {
            "id": record["id"],
            "text": record["text"][::-1],
            "score": record["score"] * 0.5,
            "tags": list(reversed(record["tags"])),
        }
        for record in records
    ]


def run_case(work: Path, entry: dict[str, Any]) -> dict[str, Any]:
    """Time one (case, n, format) and write its result payload."""
    payload = (work / entry["file"]).read_bytes()
    fmt = entry["format"]
    if entry["case"] == "records":
        decode_ms, records = median_ms(lambda: decode_records(fmt, payload))
        assert len(records) == entry["n"], (entry, len(records))
        result = result_records(records)
        encode_ms, out = median_ms(lambda: encode_records(fmt, result))
    else:
        decode_ms, matrix = median_ms(lambda: decode_matrix(fmt, payload))
        assert matrix.shape == (entry["n"], entry["dim"]), (entry, matrix.shape)
        result = (matrix * 0.5).astype(np.float32)
        encode_ms, out = median_ms(lambda: encode_matrix(fmt, result))
    (work / (entry["file"] + ".result")).write_bytes(out)
    return {**entry, "python_decode_ms": decode_ms, "python_encode_ms": encode_ms}


def main(argv: list[str]) -> int:
    """Run every case of the plan in ``argv[1]`` and write ``python.json`` beside it."""
    work = Path(argv[1])
    plan = json.loads((work / "plan.json").read_text())
    timings = [run_case(work, entry) for entry in plan]
    (work / "python.json").write_text(json.dumps(timings))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
