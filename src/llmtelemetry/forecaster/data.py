"""Queries behind the forecaster and the dashboards: plain psycopg, no Streamlit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import psycopg

from llmtelemetry.errors import DatabaseError
from llmtelemetry.warehouse.connection import Target, connect
from llmtelemetry.warehouse.roles import READER, reader_password

BREAKDOWNS = {"overall": None, "tier": "billing_tier", "model": "model_name"}


def reader_target(target: Target, home: Path, configured_password: str | None = None) -> Target:
    """The same database, as portfolio_reader (password from the environment or the stored file)."""
    password, _ = reader_password(home, configured_password)
    return target.with_user(READER, password)


class MartsMissing(DatabaseError):
    """The marts the app reads have not been built."""

    def __init__(self, relation: str) -> None:
        super().__init__(f"{relation} does not exist or cannot be read", fix="run `llmtel transform` first")


def query_frame(conn: psycopg.Connection[Any], sql: str, params: dict[str, Any] | None = None) -> pd.DataFrame:
    """A query's rows as a DataFrame; a missing mart becomes MartsMissing."""
    try:
        cursor = conn.execute(sql, params)
    except (psycopg.errors.UndefinedTable, psycopg.errors.InvalidSchemaName) as exc:
        conn.rollback()
        raise MartsMissing(exc.diag.message_primary or "a mart") from None
    columns = [c.name for c in cursor.description or []]
    return pd.DataFrame(cursor.fetchall(), columns=columns)


def usage_series(conn: psycopg.Connection[Any], grain: str, by: str = "overall") -> dict[str, pd.DataFrame]:
    """Tokens and cost per hour or day, per series (one series for `overall`), gap-free."""
    column = BREAKDOWNS[by]
    label = f"{column}::text" if column else "'overall'"
    frame = query_frame(
        conn,
        f"select {label} as series, hour_utc as ts, sum(total_tokens)::float8 as tokens, "
        "sum(cost_usd)::float8 as cost_usd, sum(requests)::float8 as requests "
        "from public_star.agg_usage_hourly group by 1, 2 order by 1, 2",
    )
    if frame.empty:
        raise DatabaseError("public_star.agg_usage_hourly is empty", fix="run `llmtel load` and `llmtel transform`")
    frame["ts"] = pd.to_datetime(frame["ts"])
    full = pd.date_range(frame["ts"].min(), frame["ts"].max(), freq="h")
    out = {}
    for name, part in frame.groupby("series"):
        hourly = part.set_index("ts")[["tokens", "cost_usd", "requests"]].reindex(full, fill_value=0.0)
        out[str(name)] = hourly if grain == "hour" else hourly.resample("D").sum()
    return out


def open_reader(target: Target) -> Any:
    """A read-only connection as portfolio_reader (the app and `llmtel forecast` use it)."""
    return connect(target, autocommit=True)
