"""Content fingerprints of Arrow tables, independent of batching and of the file format.

A table's fingerprint is SHA-256 over, for each column in schema order, its name, its type
and the SHA-256 of its canonical content: a validity byte per row (nullable columns only),
then the values. Fixed-width values are hashed as their little-endian bytes (nulls as zero);
strings as their byte lengths (int32) and their UTF-8 bytes, in two separate streams.
Every stream is fed row-contiguously, so how rows are cut into batches cannot matter, and a
Parquet file and a CSV file holding the same rows share one fingerprint.
"""

from __future__ import annotations

import hashlib
import sys

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


class ColumnHasher:
    """Streams of one column; update with arrays, read `hexdigest()` at the end."""

    def __init__(self, field: pa.Field) -> None:
        self.field = field
        self.validity = hashlib.sha256() if field.nullable else None
        self.values = hashlib.sha256()
        self.lengths = hashlib.sha256()

    def update(self, array: pa.Array) -> None:
        if array.type != self.field.type:
            array = array.cast(self.field.type)
        if self.validity is not None:
            valid = array.is_valid().to_numpy(zero_copy_only=False).astype(np.uint8)
            self.validity.update(valid.tobytes())
        if array.null_count:
            array = array.fill_null(_zero(array.type))
        kind = array.type
        if pa.types.is_string(kind) or pa.types.is_large_string(kind):
            offsets_type = np.int64 if pa.types.is_large_string(kind) else np.int32
            offsets = np.frombuffer(array.buffers()[1], dtype=offsets_type)
            offsets = offsets[array.offset : array.offset + len(array) + 1]
            data = array.buffers()[2]
            self.lengths.update(np.diff(offsets).astype("<i4").tobytes())
            if data is not None and offsets.size:
                self.values.update(memoryview(data)[int(offsets[0]) : int(offsets[-1])])
        elif pa.types.is_boolean(kind):
            self.values.update(array.to_numpy(zero_copy_only=False).astype(np.uint8).tobytes())
        else:
            width = kind.bit_width // 8
            buffer = memoryview(array.buffers()[1])[array.offset * width : (array.offset + len(array)) * width]
            if sys.byteorder != "little" and width > 1:
                raise NotImplementedError("fingerprints are defined on little-endian machines")
            self.values.update(buffer)

    def hexdigest(self) -> str:
        outer = hashlib.sha256()
        for stream in (self.validity, self.lengths, self.values):
            if stream is not None:
                outer.update(stream.digest())
        return outer.hexdigest()


def _zero(kind: pa.DataType) -> pa.Scalar:
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return pa.scalar("", kind)
    if pa.types.is_boolean(kind):
        return pa.scalar(False)
    if pa.types.is_decimal(kind):
        return pa.scalar(0, pa.int64()).cast(kind)
    return pc.cast(pa.scalar(0, pa.int64()), kind)


class TableHasher:
    """Fingerprint of a table fed batch by batch."""

    def __init__(self, schema: pa.Schema) -> None:
        self.schema = schema
        self.columns = [ColumnHasher(field) for field in schema]
        self.rows = 0

    def update(self, batch: pa.RecordBatch | pa.Table) -> None:
        if batch.schema.names != self.schema.names:
            raise ValueError(f"columns {batch.schema.names} differ from {self.schema.names}")
        for hasher, column in zip(self.columns, batch.columns, strict=True):
            chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
            for chunk in chunks:
                hasher.update(chunk)
        self.rows += batch.num_rows

    def column_digests(self) -> dict[str, str]:
        return {h.field.name: h.hexdigest() for h in self.columns}

    def hexdigest(self) -> str:
        outer = hashlib.sha256()
        for hasher in self.columns:
            outer.update(f"{hasher.field.name}\0{hasher.field.type}\0{hasher.hexdigest()}\n".encode())
        return outer.hexdigest()


def fingerprint(table: pa.Table | pa.RecordBatch) -> str:
    """SHA-256 content fingerprint of a whole table."""
    hasher = TableHasher(table.schema)
    hasher.update(table)
    return hasher.hexdigest()
