"""Table writers. Output bytes depend only on the rows, never on how they arrive.

Parquet row groups have a fixed size (rows are re-cut before writing), so the same rows give
the same file whatever the chunk size or worker count that produced them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Protocol

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

Format = Literal["parquet", "csv"]
FORMATS: tuple[Format, ...] = ("parquet", "csv")
ROW_GROUP_ROWS = 131_072
SUFFIX: dict[Format, str] = {"parquet": ".parquet", "csv": ".csv"}


class TableWriter(Protocol):
    def write(self, batch: pa.RecordBatch | pa.Table) -> None: ...
    def close(self) -> None: ...


class ParquetTableWriter:
    """Parquet with zstd, fixed-size row groups, statistics, decimals stored as integers."""

    def __init__(self, path: Path, schema: pa.Schema) -> None:
        self.schema = schema
        self._pending: list[pa.RecordBatch] = []
        self._pending_rows = 0
        self._writer = pq.ParquetWriter(
            path,
            schema,
            compression="zstd",
            compression_level=1,
            use_dictionary=[f.name for f in schema if pa.types.is_string(f.type) and f.name != "request_id"],
            store_decimal_as_integer=True,
            write_statistics=True,
        )

    def write(self, batch: pa.RecordBatch | pa.Table) -> None:
        batches = batch.to_batches() if isinstance(batch, pa.Table) else [batch]
        self._pending.extend(batches)
        self._pending_rows += batch.num_rows
        while self._pending_rows >= ROW_GROUP_ROWS:
            self._flush(ROW_GROUP_ROWS)

    def _flush(self, rows: int) -> None:
        table = pa.Table.from_batches(self._pending, self.schema)
        group = table.slice(0, rows).combine_chunks()
        self._writer.write_table(group, row_group_size=rows)
        rest = table.slice(rows)
        self._pending = rest.to_batches()
        self._pending_rows = rest.num_rows

    def close(self) -> None:
        if self._pending_rows:
            self._flush(self._pending_rows)
        self._writer.close()


class CsvTableWriter:
    """RFC 4180 CSV with a header; nulls are empty unquoted fields (PostgreSQL's CSV default)."""

    def __init__(self, path: Path, schema: pa.Schema) -> None:
        self._writer = pacsv.CSVWriter(path, schema)

    def write(self, batch: pa.RecordBatch | pa.Table) -> None:
        self._writer.write(batch)

    def close(self) -> None:
        self._writer.close()


def open_writer(fmt: Format, path: Path, schema: pa.Schema) -> TableWriter:
    if fmt == "parquet":
        return ParquetTableWriter(path, schema)
    return CsvTableWriter(path, schema)


def read_table(path: Path, schema: pa.Schema) -> pa.Table:
    """Read back a written table with its exact schema (CSV types are not guessed)."""
    if path.suffix == ".csv":
        options = pacsv.ConvertOptions(column_types=schema, strings_can_be_null=True, quoted_strings_can_be_null=False)
        table = pacsv.read_csv(path, convert_options=options)
    else:
        table = pq.read_table(path)
    return table.select(schema.names).cast(schema)
