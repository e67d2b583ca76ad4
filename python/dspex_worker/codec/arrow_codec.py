"""Arrow IPC streams of records (spec section 3.3); not byte-canonical.

A list of records becomes one record batch with one column per key, typed
by the spec's inference table (int64, float64, utf8, bool, binary, list<T>,
null). Decoding reads the stream zero-copy from the frame or mapping
(``pa.py_buffer``), accepts the narrower/wider variants other writers
produce (int8..int64, uint8..uint32, float32, large_*, fixed_size_list) and
yields records, or a ``pyarrow.Table`` for handlers that want columns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import chain
from typing import Any

import pyarrow as pa

from dspex_worker.codec.errors import CorruptedPayloadError, EncodingError, render_first_bytes

Buffer = bytes | bytearray | memoryview
SchemaSpec = list[dict[str, str]]

EOS = b"\xff\xff\xff\xff\x00\x00\x00\x00"

_NONE = type(None)
_KINDS: dict[type, str] = {
    bool: "bool",
    int: "int",
    float: "float",
    str: "str",
    bytes: "bytes",
    bytearray: "bytes",
    memoryview: "bytes",
    list: "list",
    tuple: "list",
}
_SCALAR_TYPES: dict[frozenset[str], pa.DataType] = {
    frozenset({"int"}): pa.int64(),
    frozenset({"float"}): pa.float64(),
    frozenset({"int", "float"}): pa.float64(),
    frozenset({"str"}): pa.string(),
    frozenset({"bool"}): pa.bool_(),
    frozenset({"bytes"}): pa.binary(),
    frozenset(): pa.null(),
}
_NAMES_TO_TYPES: dict[str, pa.DataType] = {
    "int64": pa.int64(),
    "float64": pa.float64(),
    "utf8": pa.string(),
    "bool": pa.bool_(),
    "binary": pa.binary(),
    "null": pa.null(),
}


def _kind(cls: type) -> str | None:
    kind = _KINDS.get(cls)
    if kind is None:
        # Subclasses: bool before int, since bool is an int.
        for base in (bool, int, float, str, bytes, bytearray, memoryview, list, tuple):
            if issubclass(cls, base):
                return _KINDS[base]
    return kind


def _kinds(values: Sequence[Any], column: str) -> frozenset[str]:
    kinds = set()
    for cls in set(map(type, values)) - {_NONE}:
        kind = _kind(cls)
        if kind is None:
            raise EncodingError(
                f"column {column!r}: a value of type {cls.__name__} has no Arrow type"
            )
        kinds.add(kind)
    return frozenset(kinds)


def column_type(column: str, values: Sequence[Any]) -> pa.DataType:
    """The Arrow type of a column per the spec's table (nulls are ignored).

    Raises:
        EncodingError: an incompatible mix (say strings and integers), naming
            the column.
    """
    kinds = _kinds(values, column)
    if kinds == {"list"}:
        items = list(chain.from_iterable(v for v in values if v is not None))
        item_kinds = _kinds(items, column)
        item_type = _SCALAR_TYPES.get(item_kinds)
        if item_type is None:
            raise EncodingError(
                f"column {column!r}: lists of {' and '.join(sorted(item_kinds))} "
                "have no Arrow type (lists must hold one scalar type)"
            )
        return pa.list_(item_type)
    arrow_type = _SCALAR_TYPES.get(kinds)
    if arrow_type is None:
        raise EncodingError(
            f"column {column!r} mixes {' and '.join(sorted(kinds))} values; "
            "it cannot go as Arrow (use msgpack)"
        )
    return arrow_type


def _columns(records: Sequence[Any], names: Sequence[str] | None) -> tuple[list[str], list[Any]]:
    """Column names and value sequences of a record list (missing keys -> None)."""
    for cls in set(map(type, records)):
        if not issubclass(cls, Mapping):
            index = next(i for i, r in enumerate(records) if type(r) is cls)
            raise EncodingError(
                f"an Arrow body is a list of records (maps); item {index} is of type "
                f"{cls.__name__}"
            )
    key_tuples = set(map(tuple, records))
    if len(key_tuples) == 1 and all(type(r) is dict for r in records[:1]):
        # Every record has the same keys in the same order: slice columns
        # out of one flat list of values, in C.
        (keys,) = key_tuples
        if names is None or list(names) == list(keys):
            width = len(keys)
            flat = list(chain.from_iterable(map(dict.values, records)))
            return list(keys), [flat[k::width] for k in range(width)]
    seen = list(dict.fromkeys(chain.from_iterable(key_tuples)))
    if names is None:
        # First-seen order needs the records in order, not the set of shapes.
        names = list(dict.fromkeys(chain.from_iterable(records)))
    elif not set(seen) <= set(names):
        extra = [key for key in seen if key not in set(names)]
        raise EncodingError(f"record keys {extra} are not in the Arrow schema")
    return list(names), [[record.get(name) for record in records] for name in names]


def schema_from_spec(spec: Sequence[Mapping[str, str]]) -> pa.Schema:
    """A pyarrow schema from ``[{"name": n, "type": "int64" | "list<utf8>" ...}]``."""
    fields = []
    for field in spec:
        name, type_name = field["name"], field["type"]
        if type_name.startswith("list<") and type_name.endswith(">"):
            arrow_type = pa.list_(_NAMES_TO_TYPES[type_name[5:-1]])
        else:
            arrow_type = _NAMES_TO_TYPES[type_name]
        fields.append(pa.field(name, arrow_type))
    return pa.schema(fields)


def _as_schema(schema: pa.Schema | Sequence[Mapping[str, str]] | None) -> pa.Schema | None:
    if schema is None or isinstance(schema, pa.Schema):
        return schema
    return schema_from_spec(schema)


def records_to_batch(
    records: Sequence[Any], schema: pa.Schema | Sequence[Mapping[str, str]] | None = None
) -> pa.RecordBatch:
    """A record batch from a list of records, inferring types unless ``schema`` is given.

    Raises:
        EncodingError: a non-record item, a mixed column, or an integer out of range.
    """
    schema = _as_schema(schema)
    names, columns = _columns(records, schema.names if schema is not None else None)
    arrays = []
    for index, (name, values) in enumerate(zip(names, columns)):
        arrow_type = schema.field(index).type if schema is not None else column_type(name, values)
        try:
            arrays.append(pa.array(values, type=arrow_type))
        except (pa.ArrowException, OverflowError, TypeError, ValueError) as exc:
            raise EncodingError(f"column {name!r} cannot go as Arrow {arrow_type}: {exc}") from None
    if schema is None:
        schema = pa.schema([pa.field(n, a.type) for n, a in zip(names, arrays)])
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def encode_table(table: pa.Table | pa.RecordBatch) -> bytes:
    """Write a table as one IPC stream: schema, one record batch (none if empty), EOS."""
    if isinstance(table, pa.Table):
        batches = table.combine_chunks().to_batches()
    else:
        batches = [table]
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        for batch in batches:
            if batch.num_rows:
                writer.write_batch(batch)
    return sink.getvalue().to_pybytes()


def encode(
    value: Any,
    schema: pa.Schema | Sequence[Mapping[str, str]] | None = None,
    *,
    column: str = "value",
) -> bytes:
    """Encode records (or a Table, or a list of scalars) as an Arrow IPC stream.

    Args:
        value: a list of records, a ``pyarrow.Table``/``RecordBatch``, or a list
            of scalars (one column named ``column``, e.g. the body's name).
        schema: column types to use instead of inference (a pyarrow schema or
            a manifest-style spec); needed for an all-null column's real type.
        column: the column name for a list of scalars.

    Raises:
        EncodingError: a column the spec's type table cannot express.
    """
    if isinstance(value, (pa.Table, pa.RecordBatch)):
        return encode_table(value)
    if not isinstance(value, (list, tuple)):
        raise EncodingError(
            f"an Arrow body is a list of records, not a value of type {type(value).__name__}"
        )
    if value and not any(isinstance(item, Mapping) for item in value):
        value = [{column: item} for item in value]
    return encode_table(records_to_batch(value, schema))


# -- decoding -----------------------------------------------------------------


def _canonical_type_name(arrow_type: pa.DataType) -> str | None:
    """The value-model name of an accepted Arrow type, ``None`` if not accepted."""
    t = pa.types
    if t.is_list(arrow_type) or t.is_large_list(arrow_type) or t.is_fixed_size_list(arrow_type):
        inner = arrow_type.value_type
        if t.is_list(inner) or t.is_large_list(inner) or t.is_fixed_size_list(inner):
            return None
        inner_name = _canonical_type_name(inner)
        return f"list<{inner_name}>" if inner_name else None
    if t.is_signed_integer(arrow_type) or arrow_type in (pa.uint8(), pa.uint16(), pa.uint32()):
        return "int64"
    if arrow_type in (pa.float32(), pa.float64()):
        return "float64"
    if arrow_type in (pa.string(), pa.large_string()):
        return "utf8"
    if arrow_type in (pa.binary(), pa.large_binary()):
        return "binary"
    if arrow_type == pa.bool_():
        return "bool"
    if arrow_type == pa.null():
        return "null"
    return None


def schema_spec(schema: pa.Schema) -> SchemaSpec:
    """``[{"name", "type"}]`` with value-model type names (``int8`` -> ``int64``).

    Raises:
        CorruptedPayloadError: a type outside the accepted variants.
    """
    spec = []
    for field in schema:
        name = _canonical_type_name(field.type)
        if name is None:
            raise CorruptedPayloadError(
                f"Arrow column {field.name!r} has type {field.type}, which is not in the "
                "protocol's value model"
            )
        spec.append({"name": field.name, "type": name})
    return spec


def _corrupted(reason: str, buffer: Buffer) -> CorruptedPayloadError:
    return CorruptedPayloadError(
        f"invalid Arrow payload ({reason}); first bytes: {render_first_bytes(buffer)}"
    )


def decode_table(buffer: Buffer) -> pa.Table:
    """Decode an Arrow IPC stream into a Table that views ``buffer`` (no copy).

    Raises:
        CorruptedPayloadError: not an IPC stream, trailing bytes after the
            end-of-stream marker, no marker, an invalid batch, a column type
            outside the accepted variants, or duplicate column names.
    """
    try:
        source = pa.BufferReader(pa.py_buffer(buffer))
        table = pa.ipc.open_stream(source).read_all()
        consumed = source.tell()
    except (pa.ArrowException, ValueError, OSError, TypeError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise _corrupted(reason, buffer) from None
    if consumed != len(buffer):
        raise _corrupted(f"{len(buffer) - consumed} trailing bytes after end-of-stream", buffer)
    if bytes(memoryview(buffer)[-len(EOS) :]) != EOS:
        raise _corrupted("missing end-of-stream marker", buffer)
    names = table.column_names
    if len(set(names)) != len(names):
        raise _corrupted(f"duplicate column names {names}", buffer)
    schema_spec(table.schema)
    try:
        table.validate(full=True)
    except pa.ArrowException as exc:
        raise _corrupted(f"invalid data: {exc}", buffer) from None
    return table


def table_to_records(table: pa.Table) -> list[dict[str, Any]]:
    """Records (maps) in column order; float32 widens to float, large_* to str/bytes."""
    return table.to_pylist()


def decode(buffer: Buffer) -> list[dict[str, Any]]:
    """Decode an Arrow IPC stream into a list of records (``[]`` for 0 rows)."""
    return table_to_records(decode_table(buffer))


def decode_with_schema(buffer: Buffer) -> tuple[list[dict[str, Any]], SchemaSpec]:
    """Decode into records plus the schema as ``[{"name", "type"}]``."""
    table = decode_table(buffer)
    return table_to_records(table), schema_spec(table.schema)


def encode_body(value: Any, *, name: str, path: str) -> bytes:
    """The registry's encoder (:mod:`.formats`); a list of scalars becomes column ``name``.

    Raises:
        EncodingError: as :func:`encode`, the message prefixed with ``path``.
    """
    try:
        return encode(value, column=name)
    except EncodingError as exc:
        raise EncodingError(f"{path}: {exc}") from None


#: The registry's decoder (:mod:`.formats`): records.
decode_body = decode


def plain(value: pa.Table | pa.RecordBatch) -> list[dict[str, Any]]:
    """A table as records, for a peer that takes JSON only."""
    return value.to_pylist()
