"""Options shared by several commands, declared once."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

from llmtelemetry.errors import ParameterError
from llmtelemetry.generator import GenerateConfig
from llmtelemetry.generator.config import DEFAULT_DAYS, DEFAULT_START

Dsn = Annotated[
    str | None,
    typer.Option(
        "--dsn",
        help="PostgreSQL connection string, e.g. postgresql://user:pass@host:5432/db. "
        "Default: LLMTEL_DSN, else the embedded server.",
        show_default=False,
    ),
]
Json = Annotated[bool, typer.Option("--json", help="Print a JSON summary as the last line of stdout.")]
Seed = Annotated[int, typer.Option(help="Random seed; the same seed gives the same data.")]
Rows = Annotated[int, typer.Option(help="Rows of api_requests to generate.")]
Users = Annotated[int, typer.Option(help="Number of users (customers).")]
Start = Annotated[str, typer.Option(help="First day of the period, YYYY-MM-DD (UTC).")]
Days = Annotated[int, typer.Option(help="Length of the period in days.")]

DEFAULT_START_TEXT = DEFAULT_START.isoformat()
DEFAULT_DAYS_VALUE = DEFAULT_DAYS


def build_config(seed: int, rows: int, users: int, start: str, days: int) -> GenerateConfig:
    """The generator config of the sizing options, validated before any work."""
    try:
        first_day = dt.date.fromisoformat(start)
    except ValueError:
        raise ParameterError(f"--start must be a date like 2025-01-01, got {start!r}") from None
    return GenerateConfig(seed=seed, rows=rows, users=users, start=first_day, days=days)
