"""The generator as a library: tables as streams of Arrow record batches, and a directory writer."""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from llmtelemetry._parallel import ordered_map
from llmtelemetry.errors import LlmtelError, OutputError, ParameterError
from llmtelemetry.generator.config import BLOCK_ROWS, DEFAULT_CHUNK_ROWS, GenerateConfig
from llmtelemetry.generator.dimensions import dates_table, endpoints_table, models_table
from llmtelemetry.generator.fingerprint import TableHasher
from llmtelemetry.generator.manifest import MANIFEST_NAME, Manifest, TableEntry, file_sha256
from llmtelemetry.generator.requests import request_batch
from llmtelemetry.generator.schema import SCHEMAS, TABLES
from llmtelemetry.generator.users import users_table
from llmtelemetry.generator.writers import FORMATS, SUFFIX, Format, open_writer

#: progress(table, rows_done, rows_total)
ProgressCallback = Callable[[str, int, int], None]


class Dataset:
    """A synthetic dataset, described by its config and produced on demand.

    Nothing is generated until you iterate: `batches(table)` streams record batches in row
    order with memory bounded by `chunk_rows` x `workers`, whatever the row count.
    """

    def __init__(self, config: GenerateConfig) -> None:
        self.config = config

    def __repr__(self) -> str:
        return f"Dataset(seed={self.config.seed}, rows={self.config.rows:,}, users={self.config.users:,})"

    @property
    def tables(self) -> tuple[str, ...]:
        """Table names, dimensions first."""
        return TABLES

    def schema(self, table: str) -> pa.Schema:
        return SCHEMAS[_check_table(table)]

    def row_count(self, table: str) -> int:
        """Rows the table will have, known without generating it."""
        counts = {
            "users": self.config.users,
            "models": len(models_table()),
            "endpoints": len(endpoints_table()),
            "dates": self.config.days,
            "api_requests": self.config.rows,
        }
        return counts[_check_table(table)]

    def batches(
        self, table: str, *, workers: int = 1, chunk_rows: int = DEFAULT_CHUNK_ROWS
    ) -> Iterator[pa.RecordBatch]:
        """Stream one table as record batches, in row order.

        `workers` > 1 generates api_requests chunks in parallel processes; `chunk_rows` is
        the rows per batch (rounded up to whole random blocks of 16,384 rows). Neither
        changes the rows produced.
        """
        _check_table(table)
        _check_parallelism(workers, chunk_rows)
        if table != "api_requests":
            yield from self.table(table).to_batches()
            return
        yield from _request_batches(self.config, workers, chunk_rows)

    def table(self, table: str) -> pa.Table:
        """One whole table in memory (fine for the dimensions; api_requests can be large)."""
        name = _check_table(table)
        if name == "users":
            return users_table(self.config)
        if name == "models":
            return models_table()
        if name == "endpoints":
            return endpoints_table()
        if name == "dates":
            return dates_table(self.config)
        return pa.Table.from_batches(list(self.batches(name)), SCHEMAS[name])

    def write(
        self,
        out: str | os.PathLike[str],
        *,
        format: Format = "parquet",
        workers: int = 1,
        chunk_rows: int = DEFAULT_CHUNK_ROWS,
        force: bool = False,
        progress: ProgressCallback | None = None,
    ) -> Manifest:
        """Write the five tables and manifest.json to `out`; returns the manifest.

        Files are written to a staging folder inside `out` and moved in place only when all
        of them are complete, manifest last: a failure or interruption leaves `out` as it was.
        """
        if format not in FORMATS:
            raise ParameterError(f"format must be one of {', '.join(FORMATS)}, got {format!r}")
        _check_parallelism(workers, chunk_rows)
        existed = Path(out).exists()
        directory = prepare_output(Path(out), force=force)
        with _exclusive(directory):
            try:
                return self._write_into(directory, format, workers, chunk_rows, progress)
            except BaseException:
                if not existed:
                    shutil.rmtree(directory, ignore_errors=True)
                raise

    def _write_into(
        self,
        directory: Path,
        format: Format,
        workers: int,
        chunk_rows: int,
        progress: ProgressCallback | None,
    ) -> Manifest:
        staging = Path(tempfile.mkdtemp(prefix=".llmtel-staging-", dir=directory))
        started = time.perf_counter()
        try:
            entries: dict[str, TableEntry] = {}
            table_seconds: dict[str, float] = {}
            for name in TABLES:
                table_started = time.perf_counter()
                entries[name] = self._write_table(name, staging, format, workers, chunk_rows, progress)
                table_seconds[name] = round(time.perf_counter() - table_started, 3)
            seconds = time.perf_counter() - started
            fact_seconds = table_seconds["api_requests"]
            manifest = Manifest(
                seed=self.config.seed,
                parameters=self.config.to_dict(),
                format=format,
                tables=entries,
                versions=_versions(),
                run={
                    "workers": workers,
                    "chunk_rows": chunk_rows,
                    "seconds": round(seconds, 3),
                    # api_requests rows per second of api_requests work (generate, encode, hash)
                    "rows_per_second": round(self.config.rows / fact_seconds) if fact_seconds else None,
                    "table_seconds": table_seconds,
                    "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                },
            )
            _publish(staging, directory, manifest)
            return manifest
        except OSError as exc:
            raise LlmtelError(
                f"writing to {directory} failed ({exc.strerror or exc})",
                fix="free some disk space or choose another --out; nothing was changed",
            ) from exc
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def _write_table(
        self,
        name: str,
        staging: Path,
        fmt: Format,
        workers: int,
        chunk_rows: int,
        progress: ProgressCallback | None,
    ) -> TableEntry:
        schema = SCHEMAS[name]
        path = staging / f"{name}{SUFFIX[fmt]}"
        hasher = TableHasher(schema)
        writer = open_writer(fmt, path, schema)
        total = self.row_count(name)
        try:
            for batch in self.batches(name, workers=workers, chunk_rows=chunk_rows):
                writer.write(batch)
                hasher.update(batch)
                if progress:
                    progress(name, hasher.rows, total)
        finally:
            writer.close()
        return TableEntry(
            file=path.name,
            rows=hasher.rows,
            sha256=hasher.hexdigest(),
            file_sha256=file_sha256(path),
            columns={f.name: str(f.type) for f in schema},
            column_sha256=hasher.column_digests(),
        )


def generate(config: GenerateConfig | None = None, **params: Any) -> Dataset:
    """Describe a synthetic dataset: `generate(seed=42, rows=500_000)`.

    Keyword arguments are `GenerateConfig` fields (seed, rows, users, start, days and the
    distribution parameters) and override `config`. Returns a lazy `Dataset`.
    """
    base = config or GenerateConfig()
    try:
        return Dataset(base.replace(**params) if params else base)
    except TypeError as exc:
        raise ParameterError(str(exc)) from None


def write_dataset(
    out: str | os.PathLike[str],
    config: GenerateConfig | None = None,
    *,
    format: Format = "parquet",
    workers: int = 1,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    force: bool = False,
    progress: ProgressCallback | None = None,
    **params: Any,
) -> Manifest:
    """Generate and write a dataset directory in one call; returns its manifest."""
    return generate(config, **params).write(
        out, format=format, workers=workers, chunk_rows=chunk_rows, force=force, progress=progress
    )


def _check_table(table: str) -> str:
    if table not in SCHEMAS:
        raise ParameterError(f"unknown table {table!r}; tables: {', '.join(TABLES)}")
    return table


MAX_WORKERS = 64
MAX_CHUNK_ROWS = 16_777_216


def _check_parallelism(workers: int, chunk_rows: int) -> None:
    # Both bound memory: up to workers + 1 chunks are alive at once.
    for name, value, high in (("workers", workers, MAX_WORKERS), ("chunk_rows", chunk_rows, MAX_CHUNK_ROWS)):
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= high:
            raise ParameterError(f"{name} must be a whole number from 1 to {high:,}, got {value!r}", param=name)


@contextlib.contextmanager
def _exclusive(directory: Path) -> Iterator[None]:
    """Hold an exclusive lock on the output directory so two writers never mix their files."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise OutputError(
                f"another llmtel process is writing to {directory}",
                fix="wait for it to finish, or choose another --out",
            ) from None
        yield
    finally:
        os.close(fd)


def _request_batches(config: GenerateConfig, workers: int, chunk_rows: int) -> Iterator[pa.RecordBatch]:
    """api_requests chunks in row order, drawn by `workers` threads ahead of the consumer."""
    blocks_per_chunk = max(1, -(-chunk_rows // BLOCK_ROWS))
    chunks = range(0, config.blocks, blocks_per_chunk)
    yield from ordered_map(
        lambda first: request_batch(config, first, blocks_per_chunk), chunks, workers, "llmtel-generate"
    )


def prepare_output(directory: Path, *, force: bool) -> Path:
    """Check (and create) an output directory before any work; raise OutputError if unusable."""
    if directory.exists() and not directory.is_dir():
        raise OutputError(f"--out {directory} is a file, not a directory", fix="choose a directory path")
    if directory.is_dir() and not force and any(directory.iterdir()):
        raise OutputError(
            f"--out {directory} is not empty",
            fix="pass --force to overwrite the tables in it, or choose an empty or new directory",
        )
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".llmtel-probe-"):
            pass
    except OSError as exc:
        raise OutputError(
            f"cannot write to --out {directory} ({exc.strerror or exc})",
            fix="choose a directory you can write to",
        ) from None
    return directory


def _publish(staging: Path, directory: Path, manifest: Manifest) -> None:
    """Move finished files from staging into place; the old manifest goes first, the new last."""
    old_files: set[str] = set()
    if (directory / MANIFEST_NAME).exists():
        try:
            old_files = {e.file for e in Manifest.read(directory).tables.values()}
        except Exception:
            old_files = set()
        (directory / MANIFEST_NAME).unlink()
    new_files = {entry.file for entry in manifest.tables.values()}
    for name in sorted(new_files):
        os.replace(staging / name, directory / name)
    for stale in sorted(old_files - new_files):
        (directory / stale).unlink(missing_ok=True)
    tmp = manifest.write(staging)
    os.replace(tmp, directory / MANIFEST_NAME)


def _versions() -> dict[str, str]:
    def version(dist: str) -> str:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return "unknown"

    return {
        "llmtelemetry": version("llmtelemetry"),
        "numpy": np.__version__,
        "pyarrow": pa.__version__,
        "faker": version("faker"),
    }
