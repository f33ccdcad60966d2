"""Every "must show" figure of spec section 2, on the default data and on other seeds and sizes.

The judgement lives in llmtelemetry.fidelity (tolerances from the sample size); these tests
run it on fresh data, check it independently with scipy where a textbook test applies, and
check that it catches damaged data.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from scipy import stats

from llmtelemetry import GenerateConfig
from llmtelemetry.fidelity import Check, evaluate, observe_tables
from tests.conftest import materialise

DEFAULT = GenerateConfig(seed=42, rows=500_000)


def _checks(config: GenerateConfig, tables: dict[str, pa.Table]) -> dict[str, Check]:
    return {c.name: c for c in evaluate(config, observe_tables(config, tables))}


@pytest.fixture(scope="module")
def default_checks(default_tables: dict[str, pa.Table]) -> dict[str, Check]:
    return _checks(DEFAULT, default_tables)


EXPECTED_CHECKS = [
    "latency_ms median",
    "latency_ms p95",
    "latency_ms p99",
    "latency_ms fits log-normal (KS)",
    "prompt_tokens alpha (MLE)",
    "prompt_tokens median",
    "prompt_tokens bounds",
    "completion_tokens alpha (MLE)",
    "completion_tokens median",
    "completion_tokens bounds",
    "http_status 200 share",
    "http_status 429 share",
    "http_status 500 share",
    "http_status 401 share",
    "http_status mix (chi-square)",
    "is_safety_flagged rate",
    "traffic weekday x hour fits the curve (chi-square)",
    "busiest hour bin",
    "fitted diurnal peak (hour)",
    "overnight 02:00-05:00 vs unsuppressed curve",
    "weekend vs weekday requests per day",
    "requests per user starter / free",
    "requests per user pro / free",
    "requests per user enterprise / free",
    "users in tier free",
    "users in tier enterprise",
    "rule: cost_mismatch",
    "rule: completion_tokens_on_failure",
    "rule: request_id_duplicate",
    "rule: request_id_not_uuid4",
    "rule: requested_at_unordered",
    "rule: unknown_user_id",
]


@pytest.mark.parametrize("name", EXPECTED_CHECKS)
def test_default_data_shows_the_spec_figures(default_checks: dict[str, Check], name: str) -> None:
    check = default_checks[name]
    assert check.passed, check


def test_every_check_passes_on_default_data(default_checks: dict[str, Check]) -> None:
    failed = [c for c in default_checks.values() if not c.passed]
    assert not failed
    assert len(default_checks) >= 40


def test_analytic_latency_figures_match_the_spec(default_checks: dict[str, Check]) -> None:
    # Spec section 2 and 9: median e^6.5 ~ 665 ms, p95 ~ 2,480 ms, p99 ~ 4,277 ms (not ~5 s).
    assert default_checks["latency_ms median"].expected == pytest.approx(665.1, abs=0.1)
    assert default_checks["latency_ms p95"].expected == pytest.approx(2479.7, abs=0.5)
    assert default_checks["latency_ms p99"].expected == pytest.approx(4277.3, abs=0.5)


def test_latency_is_lognormal_by_scipy(default_tables: dict[str, pa.Table]) -> None:
    latency = default_tables["api_requests"].column("latency_ms").to_numpy().astype(float)
    # Undo the rounding to whole ms with uniform jitter, then a plain KS test on the logs.
    jitter = np.random.default_rng(0).uniform(-0.5, 0.5, latency.size)
    logs = np.log(latency[latency > 1] + jitter[latency > 1])
    result = stats.kstest(logs, "norm", args=(6.5, 0.8))
    assert result.pvalue > 1e-5
    assert np.median(latency) == pytest.approx(math.exp(6.5), rel=0.01)


def test_tokens_are_pareto_by_scipy(default_tables: dict[str, pa.Table]) -> None:
    req = default_tables["api_requests"]
    prompt = req.column("prompt_tokens").to_numpy()
    assert prompt.min() == 50 and prompt.max() <= 100_000
    assert np.median(prompt) == 79
    alpha = prompt.size / np.log(prompt / 50).sum()
    assert alpha == pytest.approx(1.5, abs=4.5 * 1.5 / math.sqrt(prompt.size) + 0.001)
    failed = pc.not_equal(req.column("http_status"), 200).to_numpy(zero_copy_only=False)
    completion = req.column("completion_tokens").to_numpy()
    assert (completion[failed] == 0).all()
    assert completion[~failed].min() == 50


def test_status_mix_by_scipy(default_tables: dict[str, pa.Table]) -> None:
    status = default_tables["api_requests"].column("http_status").to_numpy()
    codes, counts = np.unique(status, return_counts=True)
    assert codes.tolist() == [200, 401, 429, 500]
    expected = np.array([0.94, 0.01, 0.03, 0.02]) * status.size
    assert stats.chisquare(counts, expected).pvalue > 1e-5


def test_traffic_shape(default_tables: dict[str, pa.Table]) -> None:
    ts = default_tables["api_requests"].column("requested_at")
    hours = pc.hour(ts).to_numpy()
    per_hour = np.bincount(hours, minlength=24)
    assert per_hour.argmax() == 12
    weekday = pc.day_of_week(ts).to_numpy()  # Monday = 0
    days = pc.floor_temporal(ts, unit="day")
    per_day = pc.value_counts(days)
    assert len(per_day) == 181
    weekend_share = (weekday >= 5).mean()
    # 181 days from Wed 2025-01-01 hold 52 weekend days and 129 weekdays.
    expected = 52 * 0.6 / (52 * 0.6 + 129)
    assert weekend_share == pytest.approx(expected, abs=4.5 * math.sqrt(expected * (1 - expected) / hours.size))
    unsuppressed_night = per_hour[[1, 5]].mean()  # neighbours, for a rough look only
    assert per_hour[2:5].mean() < 0.3 * unsuppressed_night


@pytest.mark.parametrize(
    ("seed", "rows", "users", "workers"),
    [(7, 10_000, 300, 1), (2024, 100_000, 2_000, 2), (123456789, 40_000, 50, 3)],
)
def test_other_seeds_and_sizes_pass_too(seed: int, rows: int, users: int, workers: int) -> None:
    config = GenerateConfig(seed=seed, rows=rows, users=users)
    checks = _checks(config, materialise(config, workers=workers, chunk_rows=20_000))
    failed = [c for c in checks.values() if not c.passed]
    assert not failed


def test_overrides_are_honoured() -> None:
    config = GenerateConfig(
        seed=5,
        rows=60_000,
        latency_mu=5.0,
        latency_sigma=0.5,
        token_alpha=2.0,
        status_shares={200: 0.5, 429: 0.5},
        safety_flag_rate=0.1,
        tier_mix={"free": 0.5, "enterprise": 0.5},
    )
    tables = materialise(config)
    checks = _checks(config, tables)
    assert not [c for c in checks.values() if not c.passed]
    status = tables["api_requests"].column("http_status").to_numpy()
    assert set(np.unique(status).tolist()) == {200, 429}
    tiers = set(tables["users"].column("billing_tier").to_pylist())
    assert tiers == {"free", "enterprise"}


# ---- the checks catch damage (each would pass unnoticed by a check that always passes)


def _replace(table: pa.Table, column: str, values: pa.Array | np.ndarray) -> pa.Table:
    index = table.schema.get_field_index(column)
    return table.set_column(index, table.schema.field(column), pa.array(values, table.schema.field(column).type))


def _damaged(tables: dict[str, pa.Table], **columns: np.ndarray) -> dict[str, pa.Table]:
    req = tables["api_requests"]
    for column, values in columns.items():
        req = _replace(req, column, values)
    return {**tables, "api_requests": req}


def test_scaled_latency_on_part_of_the_rows_is_caught(default_tables: dict[str, pa.Table]) -> None:
    latency = default_tables["api_requests"].column("latency_ms").to_numpy().copy()
    latency[: latency.size // 10] = (latency[: latency.size // 10] * 1.3).astype(np.int32)
    checks = _checks(DEFAULT, _damaged(default_tables, latency_ms=latency))
    assert not checks["latency_ms fits log-normal (KS)"].passed


def test_shifted_status_share_is_caught(default_tables: dict[str, pa.Table]) -> None:
    status = default_tables["api_requests"].column("http_status").to_numpy().copy()
    ok = np.flatnonzero(status == 200)[:2_500]  # 0.5 % of rows from 200 to 429
    status[ok] = 429
    checks = _checks(DEFAULT, _damaged(default_tables, http_status=status))
    assert not checks["http_status 429 share"].passed
    assert not checks["http_status mix (chi-square)"].passed


def test_flattened_traffic_is_caught(default_tables: dict[str, pa.Table]) -> None:
    ts = default_tables["api_requests"].column("requested_at").cast(pa.int64()).to_numpy().copy()
    night = np.random.default_rng(1).integers(0, 181, 5_000) * 86_400_000_000 + 3 * 3_600_000_000
    ts[:5_000] = ts[0] - ts[0] % 86_400_000_000 + night
    ts.sort()
    damaged = _damaged(default_tables, requested_at=ts)
    checks = _checks(DEFAULT, damaged)
    assert not checks["overnight 02:00-05:00 vs unsuppressed curve"].passed
    assert not checks["traffic weekday x hour fits the curve (chi-square)"].passed


def test_wrong_cost_and_tokens_are_caught(default_tables: dict[str, pa.Table]) -> None:
    req = default_tables["api_requests"]
    cost = req.column("cost_usd").to_pylist()
    paid = next(i for i, value in enumerate(cost) if value)
    cost[paid] = cost[paid] * 2
    status = req.column("http_status").to_numpy()
    completion = req.column("completion_tokens").to_numpy().copy()
    failed = np.flatnonzero(status != 200)[:3]
    completion[failed] = 77
    checks = _checks(
        DEFAULT,
        _damaged(default_tables, cost_usd=pa.array(cost, pa.decimal128(18, 10)), completion_tokens=completion),
    )
    assert checks["rule: cost_mismatch"].observed >= 1
    assert checks["rule: completion_tokens_on_failure"].observed == 3


def test_tier_weighting_damage_is_caught(default_tables: dict[str, pa.Table]) -> None:
    users = default_tables["users"].column("user_id").to_numpy()
    uniform_users = np.random.default_rng(3).choice(users, default_tables["api_requests"].num_rows)
    checks = _checks(DEFAULT, _damaged(default_tables, user_id=uniform_users.astype(np.int32)))
    assert not checks["requests per user enterprise / free"].passed


@pytest.mark.parametrize(("rows", "seed"), [(1, 1), (1, 6), (7, 2), (50, 3), (999, 4)])
def test_tiny_datasets_are_judged_fairly(rows: int, seed: int) -> None:
    config = GenerateConfig(seed=seed, rows=rows, users=20)
    checks = evaluate(config, observe_tables(config, materialise(config)))
    assert not [c for c in checks if not c.passed]
    json.dumps([c.to_dict() for c in checks])  # plain values only
