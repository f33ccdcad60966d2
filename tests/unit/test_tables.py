"""The dimension tables and the building blocks of the fact table."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pyarrow.compute as pc
import pytest

from llmtelemetry import SCHEMAS, GenerateConfig, ParameterError, generate
from llmtelemetry.generator.traffic import TrafficCurve, diurnal
from llmtelemetry.generator.users import allocate_exactly

SPEC_COLUMNS = {
    "users": [
        "user_id",
        "full_name",
        "email",
        "company_name",
        "company_domain",
        "industry",
        "company_size",
        "country_code",
        "billing_tier",
        "signup_date",
    ],
    "models": [
        "model_id",
        "model_name",
        "provider",
        "model_family",
        "context_window",
        "input_price_per_1m_tokens",
        "output_price_per_1m_tokens",
        "released_date",
    ],
    "endpoints": ["endpoint_id", "path", "method", "operation", "supports_streaming"],
    "dates": [
        "date_key",
        "date",
        "year",
        "quarter",
        "month",
        "month_name",
        "week_of_year",
        "day_of_week",
        "day_name",
        "is_weekend",
    ],
    "api_requests": [
        "request_id",
        "requested_at",
        "user_id",
        "model_id",
        "endpoint_id",
        "prompt_tokens",
        "completion_tokens",
        "total_tokens",
        "latency_ms",
        "http_status",
        "is_safety_flagged",
        "cost_usd",
    ],
}


@pytest.mark.parametrize("table", sorted(SPEC_COLUMNS))
def test_spec_columns_exist(table: str) -> None:
    assert set(SPEC_COLUMNS[table]) <= set(SCHEMAS[table].names)


def test_users_share_companies_and_have_consistent_emails() -> None:
    users = generate(seed=42, rows=10).table("users").to_pylist()
    assert [u["user_id"] for u in users] == list(range(1, 2001))
    assert len({u["email"] for u in users}) == 2000
    companies = {u["company_domain"] for u in users}
    assert 100 < len(companies) < 1000  # several users per company
    for user in users:
        assert user["email"].split("@")[1] == user["company_domain"]
        assert user["email"].isascii() and " " not in user["email"]
        assert user["signup_date"] < dt.date(2025, 1, 1)
    by_domain: dict[str, set[str]] = {}
    for user in users:
        by_domain.setdefault(user["company_domain"], set()).add(user["company_name"])
    assert all(len(names) == 1 for names in by_domain.values())
    assert {u["billing_tier"] for u in users} == {"free", "starter", "pro", "enterprise"}


def test_tier_allocation_is_exact() -> None:
    assert allocate_exactly(np.array([0.6, 0.25, 0.12, 0.03]), 2000).tolist() == [1200, 500, 240, 60]
    counts = allocate_exactly(np.array([0.6, 0.25, 0.12, 0.03]), 7)
    assert counts.sum() == 7 and counts.tolist() == [4, 2, 1, 0]


def test_model_catalogue_is_realistic() -> None:
    models = generate().table("models").to_pylist()
    assert 10 <= len(models) <= 20
    assert len({m["provider"] for m in models}) >= 4
    assert len({m["model_name"] for m in models}) == len(models)
    by_name = {m["model_name"]: m for m in models}
    assert by_name["gpt-4o"]["input_price_per_1m_tokens"] > by_name["gpt-4o-mini"]["input_price_per_1m_tokens"]
    for m in models:
        assert m["output_price_per_1m_tokens"] >= m["input_price_per_1m_tokens"] > 0
        assert m["released_date"] < dt.date(2025, 1, 1)


def test_endpoints() -> None:
    endpoints = generate().table("endpoints").to_pylist()
    assert endpoints[0]["path"] == "/v1/chat/completions"
    assert all(e["path"].startswith("/v1/") and e["method"] == "POST" for e in endpoints)


def test_dates_are_one_row_per_day() -> None:
    dates = generate(start=dt.date(2024, 12, 30), days=10).table("dates").to_pylist()
    assert len(dates) == 10
    first = dates[0]
    assert first["date_key"] == 20241230 and first["day_name"] == "Monday" and first["day_of_week"] == 1
    assert first["week_of_year"] == 1  # ISO week of 2024-12-30
    assert first["month_name"] == "December" and first["quarter"] == 4
    assert [d["is_weekend"] for d in dates[:7]] == [False] * 5 + [True] * 2


def test_custom_period_is_respected() -> None:
    config = GenerateConfig(seed=3, rows=20_000, users=40, start=dt.date(2030, 2, 27), days=3)
    req = generate(config).table("api_requests")
    ts = req.column("requested_at")
    assert pc.min(ts).as_py() >= dt.datetime(2030, 2, 27, tzinfo=dt.UTC)
    assert pc.max(ts).as_py() < dt.datetime(2030, 3, 2, tzinfo=dt.UTC)


def test_traffic_quantiles_invert_the_integrated_curve() -> None:
    curve = TrafficCurve.for_period(dt.date(2025, 1, 1), 14)
    seconds = np.arange(0, 14 * 86_400, 30.0) + 15
    density = curve.acceptance(seconds)
    cumulative = np.cumsum(density) / density.sum()
    q = np.array([0.1, 0.25, 0.5, 0.77, 0.9])
    numeric = seconds[np.searchsorted(cumulative, q)]
    assert np.allclose(curve.quantile_seconds(q), numeric, atol=60)


def test_envelope_bounds_the_acceptance() -> None:
    curve = TrafficCurve.for_period(dt.date(2025, 1, 3), 7)
    rng = np.random.default_rng(0)
    for _ in range(200):
        lo = rng.uniform(0, 7 * 86_400 - 7_200)
        hi = lo + rng.uniform(1, 7_200)
        inside = np.linspace(lo, hi, 500, endpoint=False)
        assert curve.envelope(lo, hi) >= curve.acceptance(inside).max()


def test_diurnal_curve_matches_the_formula() -> None:
    h = np.array([12.5, 0.5, 3.0, 6.5])
    s = 0.55 + 0.45 * np.sin(2 * math.pi * (h - 6.5) / 24)
    assert np.allclose(diurnal(h), s * np.array([1, 1, 0.15, 1]))
    assert diurnal(np.array([12.5]))[0] == pytest.approx(1.0)


@pytest.mark.parametrize(
    "params",
    [
        {"rows": 0},
        {"seed": -1},
        {"users": 0},
        {"days": 0},
        {"latency_sigma": 0.0},
        {"token_alpha": -1.0},
        {"safety_flag_rate": 1.5},
        {"status_shares": {200: 0.5}},
        {"status_shares": {200: 0.5, 418: 0.5}},
        {"tier_mix": {"platinum": 1.0}},
        {"rows": 2.5},
        {"start": "2025-01-01"},
    ],
)
def test_config_validation(params: dict[str, object]) -> None:
    with pytest.raises(ParameterError):
        generate(**params)


def test_unknown_parameter_is_a_parameter_error() -> None:
    with pytest.raises(ParameterError):
        generate(rowz=10)
