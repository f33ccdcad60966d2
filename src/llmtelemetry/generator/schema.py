"""Arrow schemas of the five raw tables: the column contract of spec section 2."""

from __future__ import annotations

import pyarrow as pa

COST_TYPE = pa.decimal128(18, 10)
PRICE_TYPE = pa.decimal128(10, 4)
TIMESTAMP_TYPE = pa.timestamp("us", tz="UTC")


def _f(name: str, type_: pa.DataType, nullable: bool = False) -> pa.Field:
    return pa.field(name, type_, nullable=nullable)


USERS = pa.schema(
    [
        _f("user_id", pa.int32()),
        _f("full_name", pa.string()),
        _f("email", pa.string()),
        _f("company_name", pa.string()),
        _f("company_domain", pa.string()),
        _f("industry", pa.string()),
        _f("company_size", pa.string()),
        _f("country_code", pa.string()),
        _f("billing_tier", pa.string()),
        _f("signup_date", pa.date32()),
    ]
)

MODELS = pa.schema(
    [
        _f("model_id", pa.int16()),
        _f("model_name", pa.string()),
        _f("provider", pa.string()),
        _f("model_family", pa.string()),
        _f("context_window", pa.int32()),
        _f("input_price_per_1m_tokens", PRICE_TYPE),
        _f("output_price_per_1m_tokens", PRICE_TYPE),
        _f("released_date", pa.date32()),
    ]
)

ENDPOINTS = pa.schema(
    [
        _f("endpoint_id", pa.int16()),
        _f("path", pa.string()),
        _f("method", pa.string()),
        _f("operation", pa.string()),
        _f("supports_streaming", pa.bool_()),
    ]
)

DATES = pa.schema(
    [
        _f("date_key", pa.int32()),
        _f("date", pa.date32()),
        _f("year", pa.int16()),
        _f("quarter", pa.int8()),
        _f("month", pa.int8()),
        _f("month_name", pa.string()),
        _f("week_of_year", pa.int8()),
        _f("day_of_week", pa.int8()),
        _f("day_name", pa.string()),
        _f("is_weekend", pa.bool_()),
    ]
)

API_REQUESTS = pa.schema(
    [
        _f("request_id", pa.string()),
        _f("requested_at", TIMESTAMP_TYPE),
        _f("user_id", pa.int32()),
        _f("model_id", pa.int16()),
        _f("endpoint_id", pa.int16()),
        _f("prompt_tokens", pa.int32()),
        _f("completion_tokens", pa.int32()),
        _f("total_tokens", pa.int32()),
        _f("latency_ms", pa.int32()),
        _f("time_to_first_token_ms", pa.int32(), nullable=True),
        _f("http_status", pa.int16()),
        _f("error_type", pa.string(), nullable=True),
        _f("finish_reason", pa.string(), nullable=True),
        _f("is_streaming", pa.bool_()),
        _f("is_safety_flagged", pa.bool_()),
        _f("region", pa.string()),
        _f("cost_usd", COST_TYPE),
    ]
)

#: Tables in dependency order (dimensions first), as written and loaded.
SCHEMAS: dict[str, pa.Schema] = {
    "users": USERS,
    "models": MODELS,
    "endpoints": ENDPOINTS,
    "dates": DATES,
    "api_requests": API_REQUESTS,
}
TABLES: tuple[str, ...] = tuple(SCHEMAS)
