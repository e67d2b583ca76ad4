"""Writes the golden protocol frames in ``testdata/frames`` from ``cases.json``.

The cases are data: ``testdata/frames/cases.json`` holds them in the
manifest's FRAME notation plus a few generator directives (both described in
``testdata/frames/README.md``). This script expands the directives, encodes
each frame with the worker's own codecs and frame writer, and writes the
``*.bin`` files, the REF data files and ``manifest.json``. To add a case, edit
``cases.json`` and run ``.venv/bin/python python/tools/make_goldens.py``; a
change to an existing file is a protocol change. The output is deterministic.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import math
import struct
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "python"))

import numpy as np  # noqa: E402

from dspex_worker import contract  # noqa: E402
from dspex_worker.codec import arrow_codec, json_codec, msgpack_codec, numpy_codec  # noqa: E402
from dspex_worker.protocol.frames import FrameType, encode_frame, encode_v1_frame  # noqa: E402
from dspex_worker.protocol.ref import RefInfo  # noqa: E402

FRAMES_DIR = ROOT / "testdata" / "frames"
CASES_FILE = FRAMES_DIR / "cases.json"

_FLOATS = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


# -- bytes on the wire -------------------------------------------------------------


def as_bytes(value: Any) -> bytes:
    """Bytes as they are; a string as its UTF-8."""
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8")
    raise TypeError(f"expected bytes or a string, got {type(value).__name__}: {value!r:.60}")


def payload(frame: dict[str, Any]) -> bytes:
    """The encoded payload of an expanded FRAME (no prefix)."""
    kind = frame["type"]
    if kind in ("V1", "JSON"):
        return bytes(json_codec.encode(frame["value"]))
    if kind == "ARROW":
        return bytes(arrow_codec.encode(frame["records"], frame["schema"]))
    if kind == "NUMPY":
        return bytes(numpy_codec.encode(array(frame)))
    if kind not in FrameType.__members__:
        raise ValueError(f"unknown FRAME type {kind!r}")
    # MSGPACK, the stream frames and REF: a REF map is encoded as given, valid or not.
    return bytes(msgpack_codec.encode(frame["value"]))


def array(frame: dict[str, Any]) -> np.ndarray:
    """The ndarray a NUMPY FRAME describes (``data`` flat, in C order)."""
    return np.array(frame["data"], dtype=frame["dtype"]).reshape(frame["shape"])


def wire(piece: Any) -> bytes:
    """A FRAME, a raw frame ``{type, payload, length?}`` or plain bytes, as wire bytes."""
    if not isinstance(piece, dict):
        return as_bytes(piece)
    if "payload" in piece:
        data = as_bytes(piece["payload"])
        kind = piece["type"]
        type_byte = kind if isinstance(kind, int) else FrameType[kind]
        return struct.pack(">IB", piece.get("length", len(data)), type_byte) + data
    if piece["type"] == "V1":
        return encode_v1_frame(payload(piece))
    return encode_frame(FrameType[piece["type"]], payload(piece))


def tag(value: Any) -> Any:
    """A value in manifest notation: NaN/inf and bytes become ``$float``/``$bytes`` maps."""
    if isinstance(value, float) and not math.isfinite(value):
        return {"$float": "nan" if value != value else ("inf" if value > 0 else "-inf")}
    if isinstance(value, (bytes, bytearray)):
        return {"$bytes": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, dict):
        return {key: tag(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [tag(item) for item in value]
    return value


# -- directives --------------------------------------------------------------------


class Expander:
    """Expands the directives of ``cases.json`` into plain values and FRAMEs.

    A directive is a map with one key starting with ``$``; its argument is
    expanded first. ``parts`` maps ``(data file, part index)`` to the part's
    offset, length and FRAME, for ``$spilled``.
    """

    def __init__(self, defs: dict[str, Any]) -> None:
        self.defs = defs
        self.parts: dict[tuple[str, int], tuple[int, int, Any]] = {}
        self.directives: dict[str, Callable[[Any], Any]] = {
            "$float": lambda name: _FLOATS[name],
            "$bytes": base64.b64decode,
            "$hex": bytes.fromhex,
            "$def": self._def,
            "$repeat": lambda arg: arg[0] * arg[1],
            "$concat": _concat,
            "$slice": lambda arg: arg[0][arg[1] : arg[2]],
            "$replace": lambda arg: as_bytes(arg[0]).replace(as_bytes(arg[1]), as_bytes(arg[2])),
            "$utf8_string": _utf8_string,
            "$filler": _filler,
            "$payload": payload,
            "$spilled": self._spilled,
            "$contract": contract.value,
        }

    def expand(self, node: Any) -> Any:
        """``node`` with every directive in it replaced by its value."""
        if isinstance(node, list):
            return [self.expand(item) for item in node]
        if not isinstance(node, dict):
            return node
        if len(node) == 1 and next(iter(node)).startswith("$"):
            name, arg = next(iter(node.items()))
            if name not in self.directives:
                raise ValueError(f"unknown directive {name} (known: {', '.join(self.directives)})")
            return self.directives[name](self.expand(arg))
        expanded = {key: self.expand(item) for key, item in node.items()}
        if expanded.get("type") == "NUMPY" and "data" in expanded:
            # The values as the dtype holds them (float32 0.001 is 0.0010000000474974513),
            # which is what the tests compare the decoded array with.
            expanded["data"] = array(expanded).ravel().tolist()
        return expanded

    def lay_out(self, file: str, parts: Sequence[Any]) -> bytes:
        """The bytes of a REF data file made of ``parts`` (FRAME payloads or bytes)."""
        data = b""
        for index, part in enumerate(self.expand(list(parts))):
            is_frame = isinstance(part, dict)
            chunk = payload(part) if is_frame else as_bytes(part)
            self.parts[(file, index)] = (len(data), len(chunk), part if is_frame else None)
            data += chunk
        return data

    def _def(self, name: str) -> Any:
        """The expanded value ``defs`` gives ``name``."""
        if name not in self.defs:
            raise ValueError(f"no def named {name!r} (defs: {', '.join(self.defs)})")
        return self.expand(self.defs[name])

    def _spilled(self, arg: list[Any]) -> dict[str, Any]:
        """A REF FRAME to part ``arg[1]`` of data file ``arg[0]``, its content that part."""
        file, index = arg
        if (file, index) not in self.parts:
            raise ValueError(f"no part {index} in data file {file}")
        offset, length, content = self.parts[(file, index)]
        if content is None:
            raise ValueError(f"part {index} of {file} holds bytes, not a FRAME")
        info = RefInfo(file, offset, length, content["type"].lower())
        return {"type": "REF", "value": info.to_map(), "content": content}


def _concat(parts: list[Any]) -> Any:
    """Strings joined as a string; with any bytes among them, all joined as bytes."""
    if all(isinstance(part, str) for part in parts):
        return "".join(parts)
    return b"".join(as_bytes(part) for part in parts)


def _filler(arg: dict[str, Any]) -> bytes:
    """``seed`` repeated and cut to exactly ``size`` bytes (padding around REF bodies)."""
    seed, size = as_bytes(arg["seed"]), arg["size"]
    return (seed * (size // len(seed) + 1))[:size]


def _utf8_string(nbytes: int) -> str:
    """A string of exactly ``nbytes`` UTF-8 bytes that starts with a 2-byte character."""
    if nbytes < 2:
        raise ValueError(f"$utf8_string needs at least 2 bytes, got {nbytes}")
    return "é" + "x" * (nbytes - 2)


# -- cases and output --------------------------------------------------------------


@contextlib.contextmanager
def naming(where: str) -> Iterator[None]:
    """Re-raise a bad entry's error as a ValueError that says which entry."""
    try:
        yield
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise ValueError(f"{where}: {type(exc).__name__}: {exc}") from exc


def build(spec: dict[str, Any]) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The manifest and every file's bytes (by path relative to the folder) for ``spec``."""
    expander = Expander(spec.get("defs", {}))
    files: dict[str, bytes] = {}
    for entry in spec.get("data_files", []):
        with naming(f"data_files {entry.get('file')}"):
            files[entry["file"]] = expander.lay_out(entry["file"], entry["parts"])
    manifest: dict[str, Any] = {"version": spec["version"], "cases": [], "errors": []}
    for section, folder, pieces in (("cases", "", "frames"), ("errors", "bad/", "wire")):
        for case in spec[section]:
            name = case["name"]
            with naming(f"{section} {name}"):
                expanded = expander.expand(case)
                data = b"".join(wire(piece) for piece in expanded[pieces])
                first, start = expanded.get("first_bytes"), data[:5].hex(" ")
                if first is not None and not data.hex(" ").startswith(first):
                    raise ValueError(f"first_bytes {first}, but the file starts {start}")
            entry = {"name": name, "file": f"{folder}{name}.bin"}
            entry.update(
                (key, tag(value)) for key, value in expanded.items() if key not in ("name", "wire")
            )
            manifest[section].append(entry)
            files[entry["file"]] = data
    names = [entry["name"] for entry in manifest["cases"] + manifest["errors"]]
    if len(set(names)) != len(names):
        duplicates = sorted({name for name in names if names.count(name) > 1})
        raise ValueError(f"duplicate case names: {', '.join(duplicates)}")
    text = json.dumps(manifest, ensure_ascii=False, indent=1) + "\n"
    files["manifest.json"] = text.encode("utf-8")
    return manifest, files


def write_if_changed(path: Path, data: bytes) -> None:
    """Write ``data`` unless the file already holds it (keeps mtimes stable)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_bytes() != data:
        path.write_bytes(data)


def main(argv: Sequence[str] | None = None) -> int:
    """Write every golden file and the manifest."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=Path, default=CASES_FILE, help="the case data file")
    parser.add_argument("--out", type=Path, default=FRAMES_DIR, help="the folder to write")
    args = parser.parse_args(argv)
    try:
        manifest, files = build(json.loads(args.cases.read_text(encoding="utf-8")))
    except ValueError as exc:  # JSON syntax or a bad case: say where, no traceback
        print(f"{args.cases}: {exc}", file=sys.stderr)
        return 1
    for relative, data in files.items():
        write_if_changed(args.out / relative, data)
    counts = f"{len(manifest['cases'])} cases and {len(manifest['errors'])} error cases"
    print(f"wrote {counts} to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
