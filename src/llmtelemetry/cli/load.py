"""`llmtel load`: bulk-load raw tables into PostgreSQL and refresh the read-only role."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from llmtelemetry.cli._options import (
    DEFAULT_DAYS_VALUE,
    DEFAULT_START_TEXT,
    Days,
    Dsn,
    Json,
    Rows,
    Seed,
    Start,
    Users,
    build_config,
)
from llmtelemetry.cli._output import emit_json, row_progress, stderr_console, stdout_console
from llmtelemetry.errors import ParameterError
from llmtelemetry.pipeline import load


def load_command(
    dsn: Dsn = None,
    source_dir: Annotated[
        Path | None,
        typer.Option(
            "--from",
            help="A directory written by `llmtel generate`. Without it, rows are "
            "generated on the fly and streamed straight into COPY.",
            show_default=False,
        ),
    ] = None,
    seed: Seed = 42,
    rows: Rows = 500_000,
    users: Users = 2_000,
    start: Start = DEFAULT_START_TEXT,
    days: Days = DEFAULT_DAYS_VALUE,
    workers: Annotated[int, typer.Option(help="Threads generating rows while streaming (without --from).")] = 2,
    wait: Annotated[
        float,
        typer.Option(help="Seconds to wait for another running load before giving up (0: refuse at once)."),
    ] = 0.0,
    lock_timeout: Annotated[
        float,
        typer.Option(help="Seconds a single table-lock wait may take (the final swap is retried 5 times)."),
    ] = 10.0,
    json_output: Json = False,
) -> None:
    """Load the raw tables into schema raw_staging with COPY, atomically, and refresh portfolio_reader.

    A load replaces the five tables as a whole in one transaction: if it fails or is stopped
    (Ctrl-C, SIGKILL) the previous data stays as it was. Views on the raw tables (dbt's staging
    models) keep working. Only one load runs at a time per database.
    """
    for name, value in (("--wait", wait), ("--lock-timeout", lock_timeout)):
        if not 0 <= value <= 86_400:
            raise ParameterError(f"{name} must be between 0 and 86400 seconds, got {value}")
    if not 1 <= workers <= 64:
        raise ParameterError(f"--workers must be a whole number from 1 to 64, got {workers}")
    config = None if source_dir is not None else build_config(seed, rows, users, start, days)
    with row_progress() as progress:
        loaded = load(
            dsn,
            source=source_dir,
            config=config,
            workers=workers,
            progress=progress,
            lock_timeout=lock_timeout,
            lock_wait=wait,
        )
    result, reader = loaded.result, loaded.reader
    err = stderr_console()
    for warning in reader.warnings:
        err.print(f"warning: {warning}")

    summary = {
        "command": "load",
        "target": loaded.target,
        "embedded": loaded.embedded,
        "database": result.database,
        "schema": "raw_staging",
        "source": result.source,
        "tables": result.tables,
        "seconds": result.seconds,
        "rows_per_second": round(result.rows_per_second),
        "copy_seconds": result.copy_seconds,
        "views_rebound": result.views_rebound,
        "load_id": result.load_id,
        "reader": {
            "role": reader.role,
            "created": reader.created,
            "password_source": reader.password_source,
            "password_file": reader.password_file,
            "warnings": reader.warnings,
        },
    }
    if json_output:
        emit_json(summary)
        return
    out = stdout_console()
    for name, count in result.tables.items():
        out.print(f"raw_staging.{name:<13} {count:>12,} rows")
    out.print(
        f"loaded in {result.seconds:.2f} s ({result.rows_per_second:,.0f} api_requests rows/s) into {loaded.target}"
    )
    if result.views_rebound:
        out.print(f"views kept on the new tables: {', '.join(result.views_rebound)}")
    if reader.password_source == "generated":
        out.print(f"{reader.role}: a new password was generated and saved to {reader.password_file} (mode 600)")
    else:
        out.print(f"{reader.role}: refreshed (password from {reader.password_source})")
