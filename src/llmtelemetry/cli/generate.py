"""`llmtel generate`: write the five raw tables and manifest.json to a directory."""

from __future__ import annotations

import enum
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from llmtelemetry.cli._options import (
    DEFAULT_DAYS_VALUE,
    DEFAULT_START_TEXT,
    Days,
    Json,
    Rows,
    Seed,
    Start,
    Users,
    build_config,
)
from llmtelemetry.cli._output import emit_json, row_progress, stdout_console
from llmtelemetry.generator import generate
from llmtelemetry.generator.config import DEFAULT_CHUNK_ROWS

DEFAULT_WORKERS = max(1, min(4, os.cpu_count() or 1))


class OutputFormat(enum.StrEnum):
    parquet = "parquet"
    csv = "csv"


def generate_command(
    out: Annotated[Path, typer.Option("--out", "-o", help="Directory to write the tables and manifest.json to.")],
    seed: Seed = 42,
    rows: Rows = 500_000,
    format: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="File format.", case_sensitive=False)
    ] = OutputFormat.parquet,
    workers: Annotated[
        int, typer.Option(help="Threads drawing rows in parallel; the output does not depend on it.")
    ] = DEFAULT_WORKERS,
    chunk_rows: Annotated[
        int,
        typer.Option(help="Rows per generated batch (rounded up to 16,384); the output does not depend on it."),
    ] = DEFAULT_CHUNK_ROWS,
    start: Start = DEFAULT_START_TEXT,
    days: Days = DEFAULT_DAYS_VALUE,
    users: Users = 2_000,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite the tables of a non-empty --out directory.")
    ] = False,
    json_output: Json = False,
) -> None:
    """Generate synthetic LLM API telemetry: users, models, endpoints, dates and api_requests.

    Distributions follow the spec (log-normal latency, Pareto tokens, diurnal and weekly
    traffic, weighted statuses, safety flags, tier-weighted users). The same seed and rows
    give identical tables whatever --workers and --chunk-rows are; manifest.json records a
    SHA-256 fingerprint per table.
    """
    config = build_config(seed, rows, users, start, days)

    with row_progress() as progress:
        manifest = generate(config).write(
            out,
            format=format.value,
            workers=workers,
            chunk_rows=chunk_rows,
            force=force,
            progress=progress,
        )

    summary = {
        "command": "generate",
        "out": str(out),
        "format": format.value,
        "seed": seed,
        "rows": rows,
        "tables": {name: {"file": t.file, "rows": t.rows, "sha256": t.sha256} for name, t in manifest.tables.items()},
        "seconds": manifest.run["seconds"],
        "rows_per_second": manifest.run["rows_per_second"],
    }
    if json_output:
        emit_json(summary)
        return
    table = Table("table", "rows", "file", "sha256 (content)", box=None, pad_edge=False)
    for name, entry in manifest.tables.items():
        table.add_row(name, f"{entry.rows:,}", entry.file, entry.sha256[:16] + "…")
    console = stdout_console()
    console.print(table)
    console.print(
        f"wrote {out} in {manifest.run['seconds']:.2f} s ({manifest.run['rows_per_second'] or 0:,} api_requests rows/s)"
    )
