"""Arrow record batches -> PostgreSQL binary COPY tuples, vectorised with numpy.

The binary format spares the server from parsing text (timestamps, numerics, UUIDs), which is
where a text COPY spends its time. Each tuple is an int16 field count, then per field an int32
byte length (-1 for NULL) and the value in network byte order. Tuples are assembled in a padded
(rows x widest row) byte matrix, field by field, then compacted in one pass.

Supported PostgreSQL types: smallint, integer, bigint, boolean, text, uuid (from canonical
text), date, timestamptz / timestamp (microseconds), numeric(p, s) (from Arrow decimals).
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

HEADER = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
TRAILER = b"\xff\xff"
_PG_EPOCH_DAYS = 10_957  # 2000-01-01 - 1970-01-01
_PG_EPOCH_US = _PG_EPOCH_DAYS * 86_400_000_000
_NULL = np.frombuffer(b"\xff\xff\xff\xff", dtype=np.uint8)
_HEX_VALUE = np.full(256, 255, dtype=np.uint8)
_HEX_VALUE[np.frombuffer(b"0123456789", np.uint8)] = np.arange(10)
_HEX_VALUE[np.frombuffer(b"abcdef", np.uint8)] = np.arange(10, 16)
_HEX_VALUE[np.frombuffer(b"ABCDEF", np.uint8)] = np.arange(10, 16)
_UUID_HEX_POS = np.array([i for i in range(36) if i not in (8, 13, 18, 23)])


class Field:
    """One column of a batch: its slot width and how to write it into a (rows x width) slot."""

    def __init__(self, width: int, fill: Callable[[np.ndarray], np.ndarray | int]):
        self.width = width  # length prefix + the widest value
        self.fill = fill  # writes the slot, left-aligned; returns the bytes used per row


def encode(batch: pa.RecordBatch, pg_types: list[str]) -> np.ndarray:
    """The binary COPY tuples of `batch` (no header, no trailer) as a uint8 array."""
    n = batch.num_rows
    if n == 0:
        return np.empty(0, dtype=np.uint8)
    fields = [_field(column, kind) for column, kind in zip(batch.columns, pg_types, strict=True)]
    # Every field gets a slot as wide as its widest value; rows are then compacted by dropping
    # the unused tail of each slot (row-major order keeps the bytes in tuple order).
    widest = 2 + sum(f.width for f in fields)
    matrix = np.empty((n, widest), dtype=np.uint8)
    matrix[:, 0:2] = np.frombuffer(len(fields).to_bytes(2, "big"), np.uint8)
    keep: np.ndarray | None = None
    at = 2
    for field in fields:
        sizes = field.fill(matrix[:, at : at + field.width])
        if not isinstance(sizes, int) or sizes != field.width:
            if keep is None:
                keep = np.ones((n, widest), dtype=bool)
            used = np.broadcast_to(np.asarray(sizes), (n,))
            keep[:, at : at + field.width] = np.arange(field.width)[None, :] < used[:, None]
        at += field.width
    return matrix.reshape(-1) if keep is None else matrix[keep]


def _field(column: pa.Array, kind: str) -> Field:
    base = kind.split("(")[0].strip()
    if base in ("smallint", "integer", "bigint"):
        width = {"smallint": 2, "integer": 4, "bigint": 8}[base]
        values = column.cast(pa.int64()) if column.null_count else column
        return _fixed(column, np.asarray(values.fill_null(0).to_numpy()).astype(f">i{width}"), width)
    if base == "boolean":
        values = column.fill_null(False).to_numpy(zero_copy_only=False).astype(np.uint8)
        return _fixed(column, values, 1)
    if base == "date":
        days = column.cast(pa.int32()).fill_null(0).to_numpy().astype(np.int64) - _PG_EPOCH_DAYS
        return _fixed(column, days.astype(">i4"), 4)
    if base in ("timestamptz", "timestamp"):
        us = column.cast(pa.timestamp("us", tz=column.type.tz)).cast(pa.int64()).fill_null(0).to_numpy()
        return _fixed(column, (us - _PG_EPOCH_US).astype(">i8"), 8)
    if base == "uuid":
        return _fixed(column, _uuid_bytes(column), 16)
    if base == "numeric":
        return _numeric(column)
    if base == "text":
        return _text(column)
    raise TypeError(f"binary COPY of {kind} is not supported")


def _fixed(column: pa.Array, values: np.ndarray, width: int) -> Field:
    n = len(column)
    prefix = np.frombuffer(width.to_bytes(4, "big"), np.uint8)

    def fill(slot: np.ndarray) -> np.ndarray | int:
        slot[:, :4] = prefix
        slot[:, 4:] = np.ascontiguousarray(values).view(np.uint8).reshape(n, width)
        if not column.null_count:
            return 4 + width
        nulls = np.asarray(column.is_null().to_numpy(zero_copy_only=False))
        slot[nulls, :4] = _NULL
        return np.where(nulls, 4, 4 + width)

    return Field(4 + width, fill)


def _uuid_bytes(column: pa.Array) -> np.ndarray:
    text = column.cast(pa.string()).fill_null("00000000-0000-0000-0000-000000000000")
    offsets = np.frombuffer(text.buffers()[1], np.int32)[text.offset : text.offset + len(text) + 1]
    if not np.all(np.diff(offsets) == 36):
        raise ValueError("uuid column holds values that are not canonical 36-character UUIDs")
    raw = np.frombuffer(text.buffers()[2], np.uint8)[offsets[0] : offsets[-1]].reshape(-1, 36)
    nibbles = _HEX_VALUE[raw[:, _UUID_HEX_POS]]
    if (nibbles == 255).any():
        raise ValueError("uuid column holds values that are not hexadecimal UUIDs")
    return np.ascontiguousarray((nibbles[:, 0::2] << 4) | nibbles[:, 1::2])


def _numeric(column: pa.Array) -> Field:
    """numeric: ndigits, weight, sign, dscale, then base-10000 digits (fixed count per batch)."""
    kind = column.type
    if not pa.types.is_decimal(kind):
        raise TypeError(f"numeric columns need Arrow decimals, got {kind}")
    scale = kind.scale
    array = column.cast(pa.decimal128(38, scale)).fill_null(0)
    words = np.frombuffer(array.buffers()[1], dtype="<i8").reshape(-1, 2)[array.offset : array.offset + len(array)]
    low, high = words[:, 0], words[:, 1]
    if not np.array_equal(high, low >> 63):
        raise ValueError("numeric values beyond 64 bits are not supported by the binary encoder")
    frac_groups = -(-scale // 4)
    magnitude = np.abs(low).astype(np.uint64) * np.uint64(10 ** (4 * frac_groups - scale))
    unit = np.uint64(10 ** (4 * frac_groups))
    integer_part = magnitude // unit
    int_groups = max(1, -(-len(str(int(integer_part.max(initial=0)))) // 4))
    groups = int_groups + frac_groups
    digits = np.empty((len(array), groups), dtype=">i2")
    rest = magnitude.copy()
    for g in range(groups - 1, -1, -1):
        digits[:, g] = (rest % np.uint64(10_000)).astype(np.int64)
        rest //= np.uint64(10_000)
    n = len(array)
    header = np.empty((n, 4), dtype=">i2")
    header[:, 0] = groups
    header[:, 1] = int_groups - 1
    header[:, 2] = np.where(low < 0, 0x4000, 0)
    header[:, 3] = scale
    width = 8 + 2 * groups
    values = np.concatenate([header.view(np.uint8).reshape(n, 8), digits.view(np.uint8).reshape(n, 2 * groups)], axis=1)
    return _fixed(column, values, width)


def _text(column: pa.Array) -> Field:
    """text via its dictionary: each distinct value's bytes once, then a gather per row."""
    encoded = pc.dictionary_encode(column.cast(pa.string()), null_encoding="encode")
    dictionary = encoded.dictionary
    codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    values = [v.encode("utf-8") if v is not None else None for v in dictionary.to_pylist()]
    widest = max((len(v) for v in values if v is not None), default=0)
    table = np.zeros((len(values), 4 + widest), dtype=np.uint8)
    sizes = np.empty(len(values), dtype=np.int64)
    for i, value in enumerate(values):
        if value is None:
            table[i, :4] = _NULL
            sizes[i] = 4
        else:
            table[i, :4] = np.frombuffer(len(value).to_bytes(4, "big"), np.uint8)
            table[i, 4 : 4 + len(value)] = np.frombuffer(value, np.uint8)
            sizes[i] = 4 + len(value)

    def fill(slot: np.ndarray) -> np.ndarray | int:
        slot[:] = table[codes]
        row_sizes = sizes[codes]
        return int(row_sizes[0]) if np.all(row_sizes == row_sizes[0]) else row_sizes

    return Field(4 + widest, fill)


def order_for_speed(pg_types: list[str]) -> list[int]:
    """Column order that puts fixed-width, non-text columns first (fewer per-row offsets)."""
    variable = [i for i, kind in enumerate(pg_types) if re.match(r"text", kind)]
    fixed = [i for i in range(len(pg_types)) if i not in variable]
    return fixed + variable
