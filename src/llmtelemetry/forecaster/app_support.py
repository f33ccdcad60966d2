"""What the Streamlit pages share: the reader connection, cached queries, friendly errors.

Only the app imports this module (it imports streamlit); the model and queries it wraps do not.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterator
from typing import Any

import pandas as pd
import psycopg
import streamlit as st

from llmtelemetry.dashboards import Card, run_card
from llmtelemetry.errors import LlmtelError
from llmtelemetry.forecaster import ForecastResult, forecast_usage

APP_DSN_ENV = "LLMTEL_APP_DSN"


def app_dsn() -> str:
    """The reader's DSN, handed over by `llmtel serve` in the environment (never on a command line)."""
    dsn = os.environ.get(APP_DSN_ENV)
    if dsn:
        return dsn
    from llmtelemetry.forecaster.data import reader_target
    from llmtelemetry.settings import get_settings
    from llmtelemetry.warehouse.connection import resolve_target

    settings = get_settings()
    configured = settings.reader_password.get_secret_value() if settings.reader_password else None
    return reader_target(resolve_target(settings), settings.home, configured).dsn


@st.cache_resource(show_spinner=False)
def _connection(dsn: str) -> psycopg.Connection[Any]:
    return psycopg.connect(dsn, autocommit=True, connect_timeout=10, application_name="llmtel-app")


@contextlib.contextmanager
def reader() -> Iterator[psycopg.Connection[Any]]:
    """The cached read-only connection; reopened if the server dropped it."""
    dsn = app_dsn()
    conn = _connection(dsn)
    if conn.closed or conn.broken:
        _connection.clear()
        conn = _connection(dsn)
    yield conn


def _key(dsn: str) -> str:
    return hashlib.sha256(dsn.encode()).hexdigest()[:16]


@st.cache_data(ttl=600, show_spinner=False)
def card_frame(dsn_key: str, card: Card) -> pd.DataFrame:
    with reader() as conn:
        return run_card(conn, card)


@st.cache_data(ttl=600, show_spinner="Fitting the forecaster…")
def forecast(dsn_key: str, grain: str, horizon_days: int, by: str) -> ForecastResult:
    with reader() as conn:
        return forecast_usage(conn, grain, horizon_days, by)


def dsn_key() -> str:
    return _key(app_dsn())


def friendly(run: Any, *args: Any) -> Any:
    """Run a data function; show a plain message instead of a traceback when the warehouse is not ready."""
    try:
        return run(*args)
    except LlmtelError as exc:
        st.warning(f"{exc.message}. {('Fix: ' + exc.fix) if exc.fix else ''}")
    except psycopg.OperationalError as exc:
        st.warning(
            f"The database is not reachable ({str(exc).strip().splitlines()[0]}). "
            "Fix: start it, or run `llmtel serve` again."
        )
    st.stop()
    return None
