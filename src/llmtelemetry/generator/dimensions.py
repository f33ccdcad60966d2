"""The small dimension tables: models, endpoints and the calendar."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa

from llmtelemetry.generator.catalogue import Catalogue, load_catalogue
from llmtelemetry.generator.config import GenerateConfig
from llmtelemetry.generator.schema import DATES, ENDPOINTS, MODELS

# Spelled out rather than taken from `calendar`, whose names follow the process locale.
MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def models_table(catalogue: Catalogue | None = None) -> pa.Table:
    """The model catalogue, model_id 1..n in catalogue order."""
    models = (catalogue or load_catalogue()).models
    return pa.Table.from_pydict(
        {
            "model_id": list(range(1, len(models) + 1)),
            "model_name": [m.model_name for m in models],
            "provider": [m.provider for m in models],
            "model_family": [m.model_family for m in models],
            "context_window": [m.context_window for m in models],
            "input_price_per_1m_tokens": [m.input_price_per_1m_tokens for m in models],
            "output_price_per_1m_tokens": [m.output_price_per_1m_tokens for m in models],
            "released_date": [m.released_date for m in models],
        },
        schema=MODELS,
    )


def endpoints_table(catalogue: Catalogue | None = None) -> pa.Table:
    """The API endpoints, endpoint_id 1..n in catalogue order."""
    endpoints = (catalogue or load_catalogue()).endpoints
    return pa.Table.from_pydict(
        {
            "endpoint_id": list(range(1, len(endpoints) + 1)),
            "path": [e.path for e in endpoints],
            "method": [e.method for e in endpoints],
            "operation": [e.operation for e in endpoints],
            "supports_streaming": [e.supports_streaming for e in endpoints],
        },
        schema=ENDPOINTS,
    )


def dates_table(config: GenerateConfig) -> pa.Table:
    """One row per calendar day of the period (ISO weeks and weekdays)."""
    days = [config.start + dt.timedelta(days=i) for i in range(config.days)]
    iso = [d.isocalendar() for d in days]
    return pa.Table.from_pydict(
        {
            "date_key": [d.year * 10_000 + d.month * 100 + d.day for d in days],
            "date": days,
            "year": [d.year for d in days],
            "quarter": [(d.month - 1) // 3 + 1 for d in days],
            "month": [d.month for d in days],
            "month_name": [MONTH_NAMES[d.month - 1] for d in days],
            "week_of_year": [w.week for w in iso],
            "day_of_week": [w.weekday for w in iso],
            "day_name": [DAY_NAMES[d.weekday()] for d in days],
            "is_weekend": [d.weekday() >= 5 for d in days],
        },
        schema=DATES,
    )
