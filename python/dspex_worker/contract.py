"""The values the Java connector and this worker must agree on, read from ``contract.json``.

One file holds them (the package version, the protocol versions, the content formats and
frame type bytes, the protocol settings' defaults, the ``hello`` and ``setup`` keys, the
field type names and the error type names); this module exposes them typed. The Java side
and the golden-frame generator are checked against the same file, so the two languages
cannot drift. Only the standard library is imported.
"""

from __future__ import annotations

import json
from importlib import resources
from types import MappingProxyType
from typing import Any

_RAW: dict[str, Any] = json.loads(
    resources.files("dspex_worker").joinpath("contract.json").read_text(encoding="utf-8")
)

#: The version of the worker code (``worker_version`` in ``hello``).
PACKAGE_VERSION: str = _RAW["package_version"]
#: The protocol versions, newest first.
PROTOCOLS: tuple[str, ...] = tuple(_RAW["protocols"])
#: Content format name -> its V2 frame type byte.
FORMAT_FRAME_TYPES: MappingProxyType[str, int] = MappingProxyType(
    {f["name"]: f["frame_type"] for f in _RAW["formats"]}
)
#: Content format name -> ``{header, records, arrays}``: what it can carry.
FORMAT_CARRIES: MappingProxyType[str, MappingProxyType[str, bool]] = MappingProxyType({
    f["name"]: MappingProxyType({k: f[k] for k in ("header", "records", "arrays")})
    for f in _RAW["formats"]
})
#: The protocol's own frame types (REF, the stream frames) -> their type byte.
FRAME_TYPES: MappingProxyType[str, int] = MappingProxyType(dict(_RAW["frame_types"]))
#: The name of the REF "format" in forced formats and hello's capabilities.
REF_FORMAT: str = _RAW["ref_format"]
#: Protocol settings -> their defaults (also the ``hello`` keys that override them).
SETTINGS: MappingProxyType[str, int] = MappingProxyType(dict(_RAW["settings"]))
#: ``hello`` keys of the client's negotiation.
HELLO_CLIENT_KEYS: tuple[str, ...] = tuple(_RAW["hello"]["client_keys"])
#: ``hello`` keys that configure the worker itself.
HELLO_WORKER_KEYS: tuple[str, ...] = tuple(_RAW["hello"]["worker_keys"])
#: The environment variable naming the temp directory the connector gives a worker.
TEMP_DIR_ENV: str = _RAW["worker_env"]["temp_dir"]
#: The field type names a program's fields are described with.
FIELD_TYPES: tuple[str, ...] = tuple(_RAW["field_types"])
#: The ``setup`` keys of each model kind (besides ``kind``), and of the ``lm`` map.
SETUP_KEYS: MappingProxyType[str, frozenset[str]] = MappingProxyType(
    {kind: frozenset(keys) for kind, keys in _RAW["setup"].items()}
)
#: DSPy optimizer class names ``setup`` kind ``optimize`` runs, in the contract's order.
OPTIMIZERS: tuple[str, ...] = tuple(_RAW["optimizers"]["names"])
#: Short names the command also takes, each for one of :data:`OPTIMIZERS`.
OPTIMIZER_ALIASES: MappingProxyType[str, str] = MappingProxyType(dict(_RAW["optimizers"]["aliases"]))
#: The built-in metric names (besides ``module:function``).
BUILTIN_METRICS: tuple[str, ...] = tuple(_RAW["optimizers"]["metrics"])
#: Protocol error names (``error.type`` of protocol failures).
PROTOCOL_ERRORS: tuple[str, ...] = tuple(_RAW["errors"]["protocol"])
#: Element failure types the worker itself reports (besides exception class names).
ELEMENT_ERRORS: tuple[str, ...] = tuple(_RAW["errors"]["element_worker"])


def value(path: str) -> Any:
    """The raw value at a dotted ``path`` (``settings.max_frame_bytes``), for tools."""
    node: Any = _RAW
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            raise KeyError(f"the contract has no {path!r}")
        node = node[part]
    return node
