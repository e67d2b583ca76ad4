"""Where the ONNX graphs live: built once per machine into a cache directory, checksummed.

A graph is a function of the model's weights and ``config.json``, of this package's builder
(:data:`~.onnx_graph.BUILDER_VERSION`) and of the ``onnx`` and ``onnxruntime`` versions that
write and quantize it; those make its directory's key (and its ``source.json``, the graphs'
provenance), so a changed input builds a new graph beside the old one instead of reusing a
stale one. Each graph file has a ``.sha256`` file
beside it, written after the graph; a graph whose bytes do not match it (a build that died
half-way, a disk fault) is built again. A build holds an exclusive lock on the directory's
``.build.lock`` (``flock``; where there is none, as on Windows, no lock), and looks at the
cache again once it has it: workers that start together on an empty cache wait for the
first one's build and read its graph, instead of each building one. A build writes a temporary file and renames it, then writes the checksum
file the same way, so a reader that takes no lock sees either no graph or a whole one.

The directory: ``$DSPEX_CACHE_DIR/onnx``, else ``$XDG_CACHE_HOME/dspex/onnx``, else
``~/.cache/dspex/onnx``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import json
import logging
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from importlib import metadata
from pathlib import Path

from dspex_worker.embed import onnx_graph
from dspex_worker.embed.model_files import ModelFiles

try:
    import fcntl
except ImportError:  # Windows: no flock; concurrent first builds each write, renames keep it safe
    fcntl = None  # type: ignore[assignment]

PRECISIONS = ("float32", "int8")
CACHE_ENV = "DSPEX_CACHE_DIR"


def cache_root() -> Path:
    """The cache directory of DSPex on this machine (not created here)."""
    explicit = os.environ.get(CACHE_ENV)
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "dspex"


@dataclasses.dataclass(frozen=True)
class CachedGraph:
    """One graph file, read and checked.

    Attributes:
        path: the file.
        precision: ``float32`` or ``int8``.
        sha256: its checksum (hex).
        data: its bytes (what the session loads, so the file is read once).
        built: whether this call built it.
    """

    path: Path
    precision: str
    sha256: str
    data: bytes
    built: bool


def provenance(files: ModelFiles) -> dict[str, str]:
    """What the graphs of ``files`` are built from and with (``source.json`` of their directory)."""
    return {
        "model": str(files.directory),
        "model_sha256": files.fingerprint(),
        "builder": f"dspex_worker.embed.onnx_graph {onnx_graph.BUILDER_VERSION}",
        "onnx": metadata.version("onnx"),
        "onnxruntime": metadata.version("onnxruntime"),
    }


def graph_dir(files: ModelFiles, root: Path | None = None) -> tuple[Path, dict[str, str]]:
    """The directory of the graphs of ``files`` for this builder and these versions, and
    its :func:`provenance` (the directory's key is a hash of it, less the model's path)."""
    source = provenance(files)
    keyed = {name: value for name, value in source.items() if name != "model"}
    key = hashlib.sha256(json.dumps(keyed, sort_keys=True).encode()).hexdigest()[:16]
    return (root or cache_root()) / "onnx" / key, source


def load_graph(files: ModelFiles, precision: str, root: Path | None = None,
               logger: logging.Logger | None = None) -> CachedGraph:
    """The graph of ``precision``, built first if the cache lacks it or holds a bad copy.

    Raises:
        ValueError: an unknown precision.
        OSError: the cache directory cannot be written (names it and ``$DSPEX_CACHE_DIR``).
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, was {precision!r}")
    directory, source = graph_dir(files, root)
    path = directory / f"model.{precision}.onnx"
    cached = _read_checked(path, precision)
    if cached is not None:
        return cached
    if precision == "float32":
        build: Callable[[Path], None] = functools.partial(onnx_graph.write_float32, files)
    else:
        # Before the lock: the float32 graph takes the same lock to be built.
        float32 = load_graph(files, "float32", root, logger).path
        build = functools.partial(onnx_graph.quantize_int8, float32)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with _build_lock(directory):
            cached = _read_checked(path, precision)  # built while this process waited
            if cached is not None:
                return cached
            if not (directory / "source.json").is_file():
                _write_atomically(directory / "source.json",
                                  lambda out: out.write_text(json.dumps(source, indent=2) + "\n"),
                                  checksum=False)
            began = time.monotonic()
            _write_atomically(path, build)
            cached = _read_checked(path, precision)
    except OSError as exc:
        raise OSError(f"cannot build the ONNX graph in {directory} ({exc}); point "
                      f"${CACHE_ENV} at a writable directory") from exc
    if cached is None:
        raise OSError(f"the ONNX graph {path} does not match its checksum right after its build")
    if logger is not None:
        logger.info("built the %s ONNX graph of %s in %.1f s: %s", precision, files.directory,
                    time.monotonic() - began, path)
    return dataclasses.replace(cached, built=True)


@contextlib.contextmanager
def _build_lock(directory: Path) -> Iterator[None]:
    """Holds the exclusive lock of ``directory``'s builds (released when the process dies)."""
    if fcntl is None:
        yield
        return
    with open(directory / ".build.lock", "a") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)


def _checksum_path(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def _read_checked(path: Path, precision: str) -> CachedGraph | None:
    """The graph at ``path`` if it is whole (its checksum file matches), else None."""
    try:
        expected = _checksum_path(path).read_text().split()[0]
        data = path.read_bytes()
    except (OSError, IndexError):
        return None
    digest = hashlib.sha256(data).hexdigest()
    return CachedGraph(path, precision, digest, data, False) if digest == expected else None


def _write_atomically(path: Path, build: Callable[[Path], object], checksum: bool = True) -> None:
    """``build`` into a temporary file beside ``path``, then rename; the checksum file last."""
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        build(Path(temporary))
        digest = hashlib.sha256(Path(temporary).read_bytes()).hexdigest()
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    if not checksum:
        return
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.sha256.", dir=path.parent)
    with os.fdopen(fd, "w") as out:
        out.write(f"{digest}  {path.name}\n")
    os.replace(temporary, _checksum_path(path))
