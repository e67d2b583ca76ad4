"""The value model shared by both languages (spec section 3) and its checks.

Encoders call :func:`scan` before encoding: it rejects what no format can
carry (non-string map keys, integers outside int64, foreign types, cycles)
and reports what only binary formats can carry (NaN/Infinity, bytes). It
works a whole container level at a time with C-level ``map``/``chain`` so
that checking a large record list costs a fraction of encoding it; the slow,
precise walk that names the offending field runs only once something is
known to be wrong.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from itertools import chain
from typing import Any

from dspex_worker.codec.errors import EncodingError

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1

#: Deeper nesting is refused (it also stops a cycle from looping forever).
MAX_DEPTH = 256

NONFINITE = 1
BYTES = 2

_NONE = type(None)
_PLAIN = frozenset({_NONE, bool, str})
_BYTES_TYPES = frozenset({bytes, bytearray, memoryview})
_SEQUENCES = frozenset({list, tuple})
_KNOWN = _PLAIN | _BYTES_TYPES | _SEQUENCES | {int, float, dict}


def _base(value: Any) -> Any:
    """Map an instance of a subclass (IntEnum, OrderedDict, numpy.float64) to its base kind.

    Returns ``NotImplemented`` for values outside the model.
    """
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return value
    if isinstance(value, dict):
        return dict(value)
    if isinstance(value, (list, tuple)):
        return list(value)
    return NotImplemented


def scan(value: Any, root: str = "") -> int:
    """Check ``value`` against the value model; return flags of what JSON cannot carry.

    Returns a bit set of :data:`NONFINITE` (NaN/Infinity present) and
    :data:`BYTES` (bytes present); ``0`` means JSON-safe.

    Raises:
        EncodingError: for a value no format can carry, naming its path
            (``root`` prefixes the path, e.g. ``args.inputs``).
    """
    flags = 0
    pending: list[tuple[Sequence[Any], int]] = [([value], 0)]
    while pending:
        seq, depth = pending.pop()
        if depth > MAX_DEPTH:
            _raise_first_problem(value, root, json_mode=False)
        types = set(map(type, seq))
        if types <= _PLAIN:
            continue
        if not types <= _KNOWN:
            seq = [_base(x) for x in seq]
            types = set(map(type, seq))
            if type(NotImplemented) in types:
                _raise_first_problem(value, root, json_mode=False)
        single = len(types) == 1
        if int in types:
            ints = seq if single else [x for x in seq if type(x) is int]
            if min(ints) < INT64_MIN or max(ints) > INT64_MAX:
                _raise_first_problem(value, root, json_mode=False)
        if float in types and not flags & NONFINITE:
            floats = seq if single else [x for x in seq if type(x) is float]
            # One C-level sum finds NaN/inf; only an overflowing (or NaN) sum
            # needs the element-wise look.
            if not math.isfinite(sum(floats)) and not all(map(math.isfinite, floats)):
                flags |= NONFINITE
        if types & _BYTES_TYPES:
            flags |= BYTES
        if dict in types:
            dicts = seq if single else [x for x in seq if type(x) is dict]
            # Records usually share their keys: then check the keys once and
            # each column on its own, where one type per column keeps the
            # int/float checks in C.
            key_tuples = set(map(tuple, dicts))
            key_types = set(map(type, chain.from_iterable(key_tuples)))
            if key_types - {str} and not all(issubclass(t, str) for t in key_types):
                _raise_first_problem(value, root, json_mode=False)
            flat = list(chain.from_iterable(map(dict.values, dicts)))
            if len(key_tuples) == 1:
                width = len(next(iter(key_tuples)))
                pending.extend((flat[k::width], depth + 1) for k in range(width))
            else:
                pending.append((flat, depth + 1))
        if types & _SEQUENCES:
            seqs = seq if single else [x for x in seq if type(x) in _SEQUENCES]
            pending.append((list(chain.from_iterable(seqs)), depth + 1))
    return flags


def is_json_safe(value: Any) -> bool:
    """True when ``value`` is in the model and holds no NaN/Infinity/bytes."""
    return scan(value) == 0


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _label(path: str) -> str:
    # A cycle makes a path of hundreds of "[0]"; the head and tail say enough.
    if len(path) > 120:
        return f"{path[:60]}...{path[-40:]}"
    return path or "(top level)"


def _problems(value: Any, path: str, depth: int, json_mode: bool) -> Iterator[str]:
    """Yield messages for the problems in ``value``, depth first, in order."""
    if depth > MAX_DEPTH:
        yield f"{_label(path)}: values nested deeper than {MAX_DEPTH} levels (a cycle?)"
        return
    base = value if type(value) in _KNOWN else _base(value)
    if base is NotImplemented:
        yield f"{_label(path)}: a value of type {type(value).__name__} is not a protocol value"
    elif isinstance(base, bool) or base is None:
        return
    elif isinstance(base, int):
        if not INT64_MIN <= base <= INT64_MAX:
            yield f"{_label(path)}: integer {base} is outside the signed 64-bit range"
    elif isinstance(base, float):
        if json_mode and not math.isfinite(base):
            yield (
                f"{_label(path)}: {base!r} cannot be encoded as JSON "
                "(NaN and Infinity travel as msgpack, arrow or numpy)"
            )
    elif isinstance(base, str):
        try:
            base.encode("utf-8")
        except UnicodeEncodeError:
            yield f"{_label(path)}: string has an unpaired surrogate"
    elif isinstance(base, (bytes, bytearray, memoryview)):
        if json_mode:
            yield f"{_label(path)}: bytes cannot be encoded as JSON (bytes travel as msgpack)"
    elif isinstance(base, dict):
        for key, item in base.items():
            if not isinstance(key, str):
                yield f"{_label(path)}: map key {key!r} is not a string"
                return
            yield from _problems(item, _join(path, key), depth + 1, json_mode)
    else:
        for index, item in enumerate(base):
            yield from _problems(item, f"{path}[{index}]", depth + 1, json_mode)


def first_problem(value: Any, root: str = "", *, json_mode: bool) -> str | None:
    """The message for the first problem in ``value`` (``None`` if it is fine).

    ``json_mode`` also reports NaN/Infinity and bytes. Slow (a Python walk):
    call it once something is known to be wrong.
    """
    return next(_problems(value, root, 0, json_mode), None)


def _raise_first_problem(value: Any, root: str, *, json_mode: bool) -> None:
    message = first_problem(value, root, json_mode=json_mode)
    raise EncodingError(message or f"{_label(root)}: value cannot be encoded")


def raise_encoding_error(value: Any, root: str = "", *, json_mode: bool) -> None:
    """Raise :class:`EncodingError` naming the first problem in ``value``."""
    _raise_first_problem(value, root, json_mode=json_mode)


def canonical_nans(value: Any) -> Any:
    """Copy of ``value`` whose NaNs are all the canonical quiet NaN.

    MessagePack writes a float's bits as they are, and arithmetic can yield
    NaNs with the sign bit set; the spec fixes NaN as ``0x7ff8000000000000``.
    Called only when :func:`scan` reported non-finite floats.
    """
    if isinstance(value, float):
        return math.nan if value != value else value
    if isinstance(value, dict):
        return {key: canonical_nans(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [canonical_nans(item) for item in value]
    return value
