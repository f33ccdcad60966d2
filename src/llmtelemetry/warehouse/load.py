"""Bulk-load the raw tables into PostgreSQL with COPY, atomically.

One load is one transaction on one connection:

1. an advisory lock makes it the only llmtel load on this database;
2. each table is created afresh as `<name>__loading` and filled with `COPY ... FREEZE`, from a
   generated directory or straight from the generator, batch by batch (no temporary files);
3. keys are built on the new tables (foreign keys validated), then they are analysed;
4. the swap, under a savepoint with a bounded `lock_timeout` and a few retries: the live tables
   are renamed away, the new ones take their names, views that depend on the old tables are
   re-created on the new ones (a plain DROP would fail or cascade; a rename alone would leave
   them on the old table), and the old tables are dropped;
5. commit. Until then nobody sees anything new, so a failure, Ctrl-C or SIGKILL at any moment
   leaves the previous data exactly as it was, and the next load starts clean.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import time
import uuid
import zlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from psycopg import errors, sql

from llmtelemetry import __version__
from llmtelemetry._parallel import ordered_map
from llmtelemetry.errors import DatabaseError, DataError
from llmtelemetry.generator import GenerateConfig, Manifest, generate
from llmtelemetry.generator.config import DEFAULT_CHUNK_ROWS
from llmtelemetry.generator.manifest import file_sha256
from llmtelemetry.generator.schema import SCHEMAS, TABLES
from llmtelemetry.warehouse import binary_copy
from llmtelemetry.warehouse.connection import Target, check_server, connect
from llmtelemetry.warehouse.ddl import RAW_SCHEMA, add_keys, constraint_names, create_table, pg_type

#: progress(table, rows_done, rows_total)
ProgressCallback = Callable[[str, int, int], None]

LOAD_LOCK_KEY = zlib.crc32(b"llmtel.load")  # one advisory lock key for every llmtel load
LOADING, OLD = "__loading", "__old"
READ_BATCH_ROWS = 131_072
ENCODE_WORKERS = 2
ENCODE_ROWS = 32_768


@dataclasses.dataclass(frozen=True)
class LoadResult:
    """What a load did."""

    database: str
    tables: dict[str, int]
    seconds: float
    copy_seconds: dict[str, float]
    source: str
    load_id: str
    views_rebound: list[str]

    @property
    def rows_per_second(self) -> float:
        return self.tables["api_requests"] / self.seconds if self.seconds else 0.0


# --------------------------------------------------------------------------- sources


class Source:
    """Where rows come from: record batches per table, row counts, a description."""

    description = ""
    config: GenerateConfig

    def row_count(self, table: str) -> int:
        raise NotImplementedError

    def batches(self, table: str) -> Iterator[pa.RecordBatch]:
        raise NotImplementedError


class GeneratorSource(Source):
    """Rows drawn on the fly and streamed straight into COPY."""

    def __init__(self, config: GenerateConfig, *, workers: int = 2, chunk_rows: int = DEFAULT_CHUNK_ROWS):
        self.config = config
        self.dataset = generate(config)
        self.workers = workers
        self.chunk_rows = chunk_rows
        self.description = f"generated (seed {config.seed}, {config.rows:,} rows)"

    def row_count(self, table: str) -> int:
        return self.dataset.row_count(table)

    def batches(self, table: str) -> Iterator[pa.RecordBatch]:
        return self.dataset.batches(table, workers=self.workers, chunk_rows=self.chunk_rows)


class DirectorySource(Source):
    """A directory written by `llmtel generate`, checked against its manifest before use."""

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)
        if not self.directory.is_dir():
            raise DataError(
                f"--from {self.directory} is not a directory",
                fix="point --from at a directory written by `llmtel generate`",
            )
        self.manifest = Manifest.read(self.directory)
        self.config = GenerateConfig.from_dict(self.manifest.parameters)
        self.description = f"{self.directory} (seed {self.manifest.seed})"
        self._validate()

    def _validate(self) -> None:
        missing = [t for t in TABLES if t not in self.manifest.tables]
        if missing:
            raise DataError(f"{self.directory}/manifest.json lists no {', '.join(missing)}")
        for name in TABLES:
            entry = self.manifest.tables[name]
            path = self.directory / entry.file
            if not path.is_file():
                raise DataError(f"{path} is missing", fix="generate the directory again")
            if file_sha256(path) != entry.file_sha256:
                raise DataError(
                    f"{path} does not match its manifest (damaged or changed)",
                    fix="generate the directory again",
                )
            expected = {f.name: str(f.type) for f in SCHEMAS[name]}
            if entry.columns != expected:
                raise DataError(
                    f"{path}: columns {list(entry.columns)} differ from the raw schema",
                    fix="generate the directory again with this llmtel version",
                )
            schema = self._file_schema(path)
            if schema.names != SCHEMAS[name].names:
                raise DataError(
                    f"{path} has {len(schema.names)} columns {schema.names}, expected {SCHEMAS[name].names}"
                )

    def _file_schema(self, path: Path) -> pa.Schema:
        try:
            if path.suffix == ".parquet":
                return pq.read_schema(path)
            header = path.open("r", encoding="utf-8").readline().strip()
            return pa.schema([pa.field(n.strip('"'), pa.string()) for n in header.split(",")])
        except (OSError, pa.ArrowException, UnicodeDecodeError) as exc:
            raise DataError(f"{path} cannot be read ({exc})", fix="generate the directory again") from None

    def row_count(self, table: str) -> int:
        return self.manifest.tables[table].rows

    def batches(self, table: str) -> Iterator[pa.RecordBatch]:
        path = self.directory / self.manifest.tables[table].file
        schema = SCHEMAS[table]
        try:
            if path.suffix == ".parquet":
                for batch in pq.ParquetFile(path, pre_buffer=False).iter_batches(batch_size=READ_BATCH_ROWS):
                    yield pa.RecordBatch.from_arrays(batch.columns, schema=schema)
            else:
                options = pacsv.ConvertOptions(
                    column_types=schema, strings_can_be_null=True, quoted_strings_can_be_null=False
                )
                with pacsv.open_csv(
                    path, convert_options=options, read_options=pacsv.ReadOptions(block_size=16 << 20)
                ) as reader:
                    for batch in reader:
                        yield pa.RecordBatch.from_arrays(batch.columns, schema=schema)
        except pa.ArrowException as exc:
            raise DataError(f"{path} cannot be read ({exc})", fix="generate the directory again") from None


# --------------------------------------------------------------------------- load


def load_raw_tables(
    target: Target,
    source: Source,
    *,
    progress: ProgressCallback | None = None,
    lock_timeout: float = 10.0,
    lock_wait: float = 0.0,
    swap_attempts: int = 5,
) -> LoadResult:
    """Replace the raw tables in `raw_staging` with the rows of `source`, atomically.

    `lock_timeout` bounds each wait for a table lock (seconds); the swap is retried
    `swap_attempts` times before giving up. `lock_wait` is how long to wait for another
    llmtel load to finish before refusing (0: refuse at once).
    """
    started = time.perf_counter()
    load_id = str(uuid.uuid4())
    with connect(target, autocommit=True) as conn:
        check_server(conn, target)
        _take_load_lock(conn, lock_wait)
        try:
            conn.execute(sql.SQL("set lock_timeout = {}").format(sql.Literal(f"{int(lock_timeout * 1000)}ms")))
            conn.execute("set statement_timeout = 0")
            with conn.transaction():
                counts, copy_seconds = _fill_new_tables(conn, source, progress)
                views = _swap(conn, swap_attempts)
                _record_load(conn, load_id, source, counts)
        except errors.InsufficientPrivilege as exc:
            raise DatabaseError(
                f"permission denied while loading ({_diag(exc)})",
                fix="connect as a role that may create schemas and tables in this database",
            ) from None
        except (
            psycopg.OperationalError,
            psycopg.DataError,
            psycopg.IntegrityError,
            psycopg.ProgrammingError,
            psycopg.InternalError,
        ) as exc:
            if isinstance(exc, errors.QueryCanceled):
                raise KeyboardInterrupt from None
            raise DatabaseError(
                f"the load failed and was rolled back ({_diag(exc)})",
                fix="nothing was changed; fix the cause and run the load again",
            ) from None
        finally:
            with contextlib.suppress(psycopg.Error):
                conn.execute("select pg_advisory_unlock(%s)", [LOAD_LOCK_KEY])
        database = conn.info.dbname
    return LoadResult(
        database=database,
        tables=counts,
        seconds=round(time.perf_counter() - started, 3),
        copy_seconds=copy_seconds,
        source=source.description,
        load_id=load_id,
        views_rebound=views,
    )


def _diag(exc: psycopg.Error) -> str:
    message = exc.diag.message_primary if exc.diag and exc.diag.message_primary else str(exc)
    return message.strip().splitlines()[0]


def _take_load_lock(conn: psycopg.Connection[Any], wait: float) -> None:
    deadline = time.monotonic() + wait
    while True:
        row = conn.execute("select pg_try_advisory_lock(%s)", [LOAD_LOCK_KEY]).fetchone()
        if row and row[0]:
            return
        if time.monotonic() >= deadline:
            holder = conn.execute(
                "select pid from pg_locks where locktype = 'advisory' and objid = %s and granted",
                [LOAD_LOCK_KEY & 0xFFFFFFFF],
            ).fetchone()
            who = f" (server process {holder[0]})" if holder else ""
            raise DatabaseError(
                f"another llmtel load is running on this database{who}",
                fix="wait for it to finish (or pass --wait SECONDS), then run the load again",
            )
        time.sleep(0.25)


def _fill_new_tables(
    conn: psycopg.Connection[Any], source: Source, progress: ProgressCallback | None
) -> tuple[dict[str, int], dict[str, float]]:
    conn.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(RAW_SCHEMA)))
    loading = {name: name + LOADING for name in TABLES}
    counts: dict[str, int] = {}
    seconds: dict[str, float] = {}
    for name in TABLES:
        conn.execute(sql.SQL("drop table if exists {}").format(sql.Identifier(RAW_SCHEMA, loading[name])))
        conn.execute(create_table(name, loading[name]))
        began = time.perf_counter()
        counts[name] = _copy(conn, name, loading[name], source.batches(name), source.row_count(name), progress)
        seconds[name] = round(time.perf_counter() - began, 3)
        expected = source.row_count(name)
        if counts[name] != expected:
            raise DataError(
                f"{name}: {counts[name]:,} rows arrived, {expected:,} expected",
                fix="generate the input again",
            )
    for name in TABLES:
        for statement in add_keys(name, loading, LOADING):
            conn.execute(statement)
    for name in TABLES:
        conn.execute(sql.SQL("analyze {}").format(sql.Identifier(RAW_SCHEMA, loading[name])))
    return counts, seconds


def _copy(
    conn: psycopg.Connection[Any],
    table: str,
    physical: str,
    batches: Iterable[pa.RecordBatch],
    total: int,
    progress: ProgressCallback | None,
) -> int:
    """Binary COPY of a table's batches; encoding runs on threads while libpq sends."""
    schema = SCHEMAS[table]
    types = [pg_type(table, field) for field in schema]
    columns = sql.SQL(", ").join(map(sql.Identifier, schema.names))
    statement = sql.SQL("copy {} ({}) from stdin with (format binary, freeze)").format(
        sql.Identifier(RAW_SCHEMA, physical), columns
    )

    def encoded(piece: pa.RecordBatch) -> tuple[int, np.ndarray]:
        return piece.num_rows, binary_copy.encode(piece, types)

    # Small pieces keep the pipeline full: the server parses one while threads encode the next.
    pieces = (piece for batch in batches for piece in _slices(batch, ENCODE_ROWS))

    rows = 0
    with conn.cursor() as cursor, cursor.copy(statement) as copy:
        copy.write(binary_copy.HEADER)
        for count, payload in ordered_map(encoded, pieces, ENCODE_WORKERS, "llmtel-encode"):
            copy.write(payload.data)
            rows += count
            if progress:
                progress(table, rows, total)
        copy.write(binary_copy.TRAILER)
    return rows


def _slices(batch: pa.RecordBatch, rows: int) -> Iterator[pa.RecordBatch]:
    for start in range(0, max(batch.num_rows, 1), rows):
        yield batch.slice(start, rows)


def _swap(conn: psycopg.Connection[Any], attempts: int) -> list[str]:
    """Put the new tables in place of the live ones; returns the views re-created on them."""
    for attempt in range(1, attempts + 1):
        try:
            with conn.transaction():  # a savepoint: a lock timeout retries the swap, not the load
                return _swap_once(conn)
        except errors.LockNotAvailable:
            if attempt == attempts:
                holders = conn.execute(
                    "select string_agg(distinct pid::text, ', ') from pg_locks l join pg_class c on "
                    "c.oid = l.relation join pg_namespace n on n.oid = c.relnamespace "
                    "where n.nspname = %s and l.granted and l.pid <> pg_backend_pid()",
                    [RAW_SCHEMA],
                ).fetchone()
                who = holders[0] if holders and holders[0] else "?"
                raise DatabaseError(
                    f"the raw tables stayed in use by other sessions (server processes {who})",
                    fix="let long queries on raw_staging finish (or cancel them), then load again",
                ) from None
            time.sleep(min(0.5 * attempt, 2.0))
    raise AssertionError("unreachable")


def _swap_once(conn: psycopg.Connection[Any]) -> list[str]:
    conn.execute("set local search_path = pg_catalog")  # so view definitions come out qualified
    live = {
        row[0]
        for row in conn.execute(
            "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace "
            "where n.nspname = %s and c.relkind in ('r', 'p') and c.relname = any(%s)",
            [RAW_SCHEMA, list(TABLES)],
        )
    }
    _refuse_foreign_references(conn, sorted(live))
    views = _dependent_views(conn, sorted(live))
    for name in sorted(live):
        conn.execute(
            sql.SQL("alter table {} rename to {}").format(sql.Identifier(RAW_SCHEMA, name), sql.Identifier(name + OLD))
        )
    for name in TABLES:
        conn.execute(
            sql.SQL("alter table {} rename to {}").format(
                sql.Identifier(RAW_SCHEMA, name + LOADING), sql.Identifier(name)
            )
        )
    for view_name, kind, definition, options in views:
        if kind == "m":
            raise DatabaseError(
                f"materialized view {view_name} depends on the raw tables; llmtel cannot re-point it",
                fix=f"drop {view_name} (dbt builds tables and views, not materialized views)",
            )
        with_options = (
            sql.SQL(" with ({})").format(sql.SQL(", ").join(map(sql.SQL, options))) if options else sql.SQL("")
        )
        conn.execute(
            sql.SQL("create or replace view {}{} as {}").format(
                sql.SQL(view_name), with_options, sql.SQL(definition.rstrip().rstrip(";"))
            )
        )
    if live:
        conn.execute(
            sql.SQL("drop table {}").format(
                sql.SQL(", ").join(sql.Identifier(RAW_SCHEMA, name + OLD) for name in sorted(live))
            )
        )
    for name in TABLES:
        for final in constraint_names(name):
            conn.execute(
                sql.SQL("alter table {} rename constraint {} to {}").format(
                    sql.Identifier(RAW_SCHEMA, name), sql.Identifier(final + LOADING), sql.Identifier(final)
                )
            )
    return [view for view, *_ in views]


def _refuse_foreign_references(conn: psycopg.Connection[Any], tables: list[str]) -> None:
    """Tables outside the raw set with foreign keys to it would block the swap: name them."""
    row = conn.execute(
        """
        select con.conrelid::regclass::text, con.confrelid::regclass::text
        from pg_constraint con
        join pg_class ref on ref.oid = con.confrelid
        join pg_namespace ns on ns.oid = ref.relnamespace
        join pg_class src on src.oid = con.conrelid
        where con.contype = 'f' and ns.nspname = %s and ref.relname = any(%s)
          and not (src.relnamespace = ref.relnamespace and src.relname = any(%s))
        limit 1
        """,
        [RAW_SCHEMA, tables, tables],
    ).fetchone()
    if row:
        raise DatabaseError(
            f"{row[0]} has a foreign key to {row[1]}, so the raw tables cannot be replaced",
            fix="drop that foreign key (raw tables are replaced whole on every load)",
        )


def _dependent_views(conn: psycopg.Connection[Any], tables: list[str]) -> list[tuple[str, str, str, list[str]]]:
    """Views reading any of the raw tables directly: (qualified name, relkind, definition, options)."""
    if not tables:
        return []
    rows = conn.execute(
        """
        select distinct view.oid::regclass::text, view.relkind, pg_get_viewdef(view.oid),
               coalesce(view.reloptions, '{}'), view.oid
        from pg_depend dep
        join pg_rewrite rule on rule.oid = dep.objid
        join pg_class view on view.oid = rule.ev_class
        join pg_class tab on tab.oid = dep.refobjid
        join pg_namespace ns on ns.oid = tab.relnamespace
        where dep.classid = 'pg_rewrite'::regclass
          and ns.nspname = %s and tab.relname = any(%s)
          and view.oid <> tab.oid
        order by view.oid
        """,
        [RAW_SCHEMA, tables],
    ).fetchall()
    return [(name, kind, definition, list(options)) for name, kind, definition, options, _ in rows]


@dataclasses.dataclass(frozen=True)
class LoadRecord:
    """One row of raw_staging.load_history: what was loaded, when, by which llmtel."""

    load_id: str
    loaded_at: dt.datetime
    source: str
    parameters: dict[str, Any]
    row_counts: dict[str, int]
    llmtel_version: str


def latest_load(conn: psycopg.Connection[Any]) -> LoadRecord | None:
    """The last completed load of this database (None if llmtel never loaded it)."""
    exists = conn.execute("select to_regclass(%s) is not null", [f"{RAW_SCHEMA}.load_history"]).fetchone()
    if not exists or not exists[0]:
        return None
    row = conn.execute(
        sql.SQL(
            "select load_id::text, loaded_at, source, parameters, row_counts, llmtel_version "
            "from {} order by loaded_at desc limit 1"
        ).format(sql.Identifier(RAW_SCHEMA, "load_history"))
    ).fetchone()
    return LoadRecord(*row) if row else None


def _record_load(conn: psycopg.Connection[Any], load_id: str, source: Source, counts: dict[str, int]) -> None:
    """Append to raw_staging.load_history (for freshness, and to see what is loaded)."""
    conn.execute(
        sql.SQL(
            "create table if not exists {} (load_id uuid primary key, loaded_at timestamptz not null, "
            "source text not null, seed bigint, parameters jsonb, row_counts jsonb not null, "
            "llmtel_version text not null)"
        ).format(sql.Identifier(RAW_SCHEMA, "load_history"))
    )
    from psycopg.types.json import Jsonb

    conn.execute(
        sql.SQL("insert into {} values (%s, now(), %s, %s, %s, %s, %s)").format(
            sql.Identifier(RAW_SCHEMA, "load_history")
        ),
        [
            load_id,
            source.description,
            source.config.seed,
            Jsonb(source.config.to_dict()),
            Jsonb(counts),
            __version__,
        ],
    )
