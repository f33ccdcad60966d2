"""Does the data show what the spec says? Statistical checks with sample-size tolerances.

Two steps, so the same judgement serves a generated directory and (later) the database:
`observe_tables` reduces the raw tables to `Observations` (histograms and counts), and
`evaluate` compares those with the analytic targets of a `GenerateConfig`.

Every tolerance is `Z` standard errors of the estimate at the observed sample size (plus
the rounding to whole milliseconds or tokens where that matters), so a 10K-row dataset is
judged as fairly as a 50M-row one. With Z = 4.5 a correct dataset fails a given check with
probability below 1e-5. Goodness-of-fit tests pass above P_MIN.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy import stats

from llmtelemetry.generator.catalogue import PRICE_SCALE, load_catalogue, resolve
from llmtelemetry.generator.config import GenerateConfig
from llmtelemetry.generator.traffic import (
    OVERNIGHT_FACTOR,
    OVERNIGHT_FROM_H,
    OVERNIGHT_TO_H,
    TrafficCurve,
)

Z = 4.5
P_MIN = 1e-5
_UUID4 = r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"


@dataclasses.dataclass(frozen=True)
class Check:
    """One verdict: what was expected, what was seen, how far apart they may be."""

    name: str
    expected: Any
    observed: Any
    tolerance: Any
    passed: bool
    detail: str = ""

    def __post_init__(self) -> None:
        # Plain Python values only, so a check serialises to JSON as it is.
        for field in ("expected", "observed", "tolerance"):
            object.__setattr__(self, field, _plain(getattr(self, field)))
        object.__setattr__(self, "passed", bool(self.passed))

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


@dataclasses.dataclass
class Observations:
    """What the checks need from the data, small whatever the row count."""

    requests: int
    latency: dict[int, int]  # latency_ms -> rows
    prompt_tokens: dict[int, int]  # all rows
    completion_tokens_ok: dict[int, int]  # successful rows
    status_counts: dict[int, int]
    flagged: int
    weekday_hour: np.ndarray  # (7, 24) rows by ISO weekday - 1 and hour
    day_counts: np.ndarray  # rows per day of the period
    outside_period: int
    tier_requests: dict[str, int]
    tier_users: dict[str, int]
    violations: dict[str, int]  # rule -> offending rows; every rule listed, 0 when clean


# --------------------------------------------------------------------------- observe


def observe_tables(config: GenerateConfig, tables: Mapping[str, pa.Table]) -> Observations:
    """Reduce in-memory raw tables (as written by the generator) to observations."""
    req = tables["api_requests"]
    users = tables["users"]
    models = tables["models"]
    n = req.num_rows

    status = _np(req, "http_status").astype(np.int64)
    ok = status == 200
    latency = _np(req, "latency_ms")
    prompt = _np(req, "prompt_tokens").astype(np.int64)
    completion = _np(req, "completion_tokens").astype(np.int64)

    ts = _np(req, "requested_at").astype("datetime64[us]").astype(np.int64)
    start_us = int(np.datetime64(config.start, "us").astype(np.int64))
    offset_s = (ts - start_us) / 1e6
    in_period = (offset_s >= 0) & (offset_s < config.days * 86_400)
    day = np.floor(offset_s[in_period] / 86_400).astype(np.int64)
    hour = np.floor((offset_s[in_period] % 86_400) / 3600).astype(np.int64)
    weekday = (config.start.weekday() + day) % 7
    weekday_hour = np.bincount(weekday * 24 + hour, minlength=168).reshape(7, 24)

    user_ids = _np(users, "user_id").astype(np.int64)
    tiers = np.asarray(users.column("billing_tier").to_pylist(), dtype=object)
    tier_of = dict(zip(user_ids.tolist(), tiers.tolist(), strict=True))
    req_users = _np(req, "user_id").astype(np.int64)
    uniq, counts = np.unique(req_users, return_counts=True)
    tier_requests: dict[str, int] = {t: 0 for t in load_catalogue().tiers}
    for uid, c in zip(uniq.tolist(), counts.tolist(), strict=True):
        if uid in tier_of:
            tier_requests[tier_of[uid]] = tier_requests.get(tier_of[uid], 0) + int(c)
    tier_users = {t: int((tiers == t).sum()) for t in load_catalogue().tiers}

    violations = _row_violations(config, req, users, models, tables.get("endpoints"), ok)
    return Observations(
        requests=n,
        latency=_hist(latency),
        prompt_tokens=_hist(prompt),
        completion_tokens_ok=_hist(completion[ok]),
        status_counts=_hist(status),
        flagged=int(_np(req, "is_safety_flagged").sum()),
        weekday_hour=weekday_hour,
        day_counts=np.bincount(day, minlength=config.days),
        outside_period=int((~in_period).sum()),
        tier_requests=tier_requests,
        tier_users=tier_users,
        violations=violations,
    )


def _np(table: pa.Table, column: str) -> np.ndarray:
    return np.asarray(table.column(column).combine_chunks().to_numpy(zero_copy_only=False))


def _hist(values: np.ndarray) -> dict[int, int]:
    uniq, counts = np.unique(values, return_counts=True)
    return dict(zip(uniq.tolist(), counts.tolist(), strict=True))


def _unscaled(column: pa.ChunkedArray, scale: int) -> np.ndarray:
    """Decimal values as int64 multiples of 10**-scale (read from the 128-bit words)."""
    array = column.combine_chunks().cast(pa.decimal128(38, scale)).fill_null(0)
    words = np.frombuffer(array.buffers()[1], dtype="<i8").reshape(-1, 2)
    return np.asarray(words[array.offset : array.offset + len(array), 0])


def _row_violations(
    config: GenerateConfig,
    req: pa.Table,
    users: pa.Table,
    models: pa.Table,
    endpoints: pa.Table | None,
    ok: np.ndarray,
) -> dict[str, int]:
    """Rows breaking a row-level rule of the spec, per rule."""
    prompt = _np(req, "prompt_tokens").astype(np.int64)
    completion = _np(req, "completion_tokens").astype(np.int64)
    latency = _np(req, "latency_ms").astype(np.int64)
    flagged = _np(req, "is_safety_flagged").astype(bool)

    model_ids = _np(models, "model_id").astype(np.int64)
    in_price = _unscaled(models.column("input_price_per_1m_tokens"), PRICE_SCALE)
    out_price = _unscaled(models.column("output_price_per_1m_tokens"), PRICE_SCALE)
    req_models = _np(req, "model_id").astype(np.int64)
    lookup = np.full(int(max(model_ids.max(initial=0), req_models.max(initial=0))) + 2, -1)
    lookup[model_ids[model_ids >= 0]] = np.flatnonzero(model_ids >= 0)
    index = lookup[np.clip(req_models, -1, lookup.size - 1)]
    known_model = index >= 0
    # cost_usd is decimal(18, 10): its unscaled integer is cost * 1e10 = tokens * price * 1e4.
    cost_e10 = _unscaled(req.column("cost_usd"), 10)
    expected = np.where(
        ok & known_model,
        prompt * in_price[np.maximum(index, 0)] + completion * out_price[np.maximum(index, 0)],
        0,
    )

    ttft = req.column("time_to_first_token_ms")
    ttft_np = np.asarray(ttft.fill_null(-1).to_numpy())
    error_type = req.column("error_type")
    finish = req.column("finish_reason")
    finish_np = np.asarray(finish.fill_null("").to_numpy(zero_copy_only=False), dtype=object)

    request_ids = req.column("request_id")
    uuid_ok = pc.match_substring_regex(request_ids, _UUID4)
    user_ids = users.column("user_id")
    emails = users.column("email")
    v = {
        "cost_mismatch": int((cost_e10 != expected).sum()),
        "completion_tokens_on_failure": int((completion[~ok] != 0).sum()),
        "total_tokens_mismatch": int((_np(req, "total_tokens") != prompt + completion).sum()),
        "tokens_out_of_range": int(
            ((prompt < config.token_scale) | (prompt > config.token_cap)).sum()
            + ((completion[ok] < config.token_scale) | (completion[ok] > config.token_cap)).sum()
        ),
        "latency_not_positive": int((latency < 1).sum()),
        "ttft_not_below_latency": int(((ttft_np >= latency) & ok).sum() + ((ttft_np < 0) & ok).sum()),
        "ttft_on_failure": int((ttft_np[~ok] != -1).sum()),
        "error_type_mismatch": int((np.asarray(error_type.is_null().to_numpy(zero_copy_only=False)) != ok).sum()),
        "finish_reason_mismatch": int(
            ((finish_np == "") != ~ok).sum() + ((finish_np == "content_filter") != (flagged & ok)).sum()
        ),
        "request_id_not_uuid4": int(len(request_ids) - pc.sum(uuid_ok).as_py() if len(request_ids) else 0),
        "request_id_duplicate": len(request_ids) - len(pc.unique(request_ids)),
        "requested_at_unordered": int((np.diff(_np(req, "requested_at").astype(np.int64)) < 0).sum()),
        "unknown_user_id": int((~np.isin(_np(req, "user_id"), _np(users, "user_id"))).sum()),
        "unknown_model_id": int((~known_model).sum()),
        "user_id_duplicate": len(user_ids) - len(pc.unique(user_ids)),
        "email_duplicate": len(emails) - len(pc.unique(emails)),
    }
    if endpoints is not None:
        v["unknown_endpoint_id"] = int((~np.isin(_np(req, "endpoint_id"), _np(endpoints, "endpoint_id"))).sum())
    return v


_DB_RULES = """
select
    count(*) filter (where r.cost_usd <> case when r.http_status = 200
        then (r.prompt_tokens * m.input_price_per_1m_tokens
              + r.completion_tokens * m.output_price_per_1m_tokens)
             / 1000000 else 0 end or m.model_id is null) as cost_mismatch,
    count(*) filter (where r.http_status <> 200 and r.completion_tokens <> 0) as completion_tokens_on_failure,
    count(*) filter (where r.total_tokens <> r.prompt_tokens + r.completion_tokens) as total_tokens_mismatch,
    count(*) filter (where r.prompt_tokens < %(scale)s or r.prompt_tokens > %(cap)s)
      + count(*) filter (where r.http_status = 200
                         and (r.completion_tokens < %(scale)s or r.completion_tokens > %(cap)s))
      as tokens_out_of_range,
    count(*) filter (where r.latency_ms < 1) as latency_not_positive,
    count(*) filter (where r.http_status = 200 and (r.time_to_first_token_ms is null
        or r.time_to_first_token_ms < 0 or r.time_to_first_token_ms >= r.latency_ms))
      as ttft_not_below_latency,
    count(*) filter (where r.http_status <> 200 and r.time_to_first_token_ms is not null) as ttft_on_failure,
    count(*) filter (where (r.error_type is null) <> (r.http_status = 200)) as error_type_mismatch,
    count(*) filter (where (r.finish_reason is null) <> (r.http_status <> 200))
      + count(*) filter (where (coalesce(r.finish_reason, '') = 'content_filter')
                         <> (r.is_safety_flagged and r.http_status = 200)) as finish_reason_mismatch,
    count(*) filter (where r.request_id::text !~ %(uuid)s) as request_id_not_uuid4,
    count(*) - count(distinct r.request_id) as request_id_duplicate,
    count(*) filter (where u.user_id is null) as unknown_user_id,
    count(*) filter (where m.model_id is null) as unknown_model_id,
    count(*) filter (where e.endpoint_id is null) as unknown_endpoint_id
from raw_staging.api_requests r
left join raw_staging.models m on m.model_id = r.model_id
left join raw_staging.users u on u.user_id = r.user_id
left join raw_staging.endpoints e on e.endpoint_id = r.endpoint_id
"""


def observe_database(conn: Any, config: GenerateConfig) -> Observations:
    """The same observations, computed in PostgreSQL from the raw_staging tables."""

    def hist(sql: str) -> dict[int, int]:
        return {int(k): int(v) for k, v in conn.execute(sql).fetchall()}

    utc = "(requested_at at time zone 'UTC')"
    requests = int(conn.execute("select count(*) from raw_staging.api_requests").fetchone()[0])
    weekday_hour = np.zeros((7, 24), dtype=np.int64)
    for weekday, hour, count in conn.execute(
        f"select extract(isodow from {utc})::int - 1, extract(hour from {utc})::int, count(*) "
        "from raw_staging.api_requests where requested_at >= %(start)s and requested_at < %(end)s "
        "group by 1, 2",
        {"start": _utc_midnight(config.start), "end": _utc_midnight(config.end)},
    ).fetchall():
        weekday_hour[weekday, hour] = count
    day_counts = np.zeros(config.days, dtype=np.int64)
    outside = 0
    for day, count in conn.execute(
        f"select ({utc})::date - %(start)s::date, count(*) from raw_staging.api_requests group by 1",
        {"start": config.start},
    ).fetchall():
        if 0 <= day < config.days:
            day_counts[day] = count
        else:
            outside += int(count)
    tiers = load_catalogue().tiers
    tier_users = {t: 0 for t in tiers} | hist_text(
        conn, "select billing_tier, count(*) from raw_staging.users group by 1"
    )
    tier_requests = {t: 0 for t in tiers} | hist_text(
        conn,
        "select u.billing_tier, count(*) from raw_staging.api_requests r "
        "join raw_staging.users u on u.user_id = r.user_id group by 1",
    )
    rules = conn.execute(_DB_RULES, {"scale": config.token_scale, "cap": config.token_cap, "uuid": _UUID4})
    names = [column.name for column in rules.description]
    violations = {name: int(value) for name, value in zip(names, rules.fetchone(), strict=True)}
    users = conn.execute(
        "select count(*) - count(distinct user_id), count(*) - count(distinct email) from raw_staging.users"
    ).fetchone()
    violations["user_id_duplicate"], violations["email_duplicate"] = int(users[0]), int(users[1])
    return Observations(
        requests=requests,
        latency=hist("select latency_ms, count(*) from raw_staging.api_requests group by 1"),
        prompt_tokens=hist("select prompt_tokens, count(*) from raw_staging.api_requests group by 1"),
        completion_tokens_ok=hist(
            "select completion_tokens, count(*) from raw_staging.api_requests where http_status = 200 group by 1"
        ),
        status_counts=hist("select http_status, count(*) from raw_staging.api_requests group by 1"),
        flagged=int(
            conn.execute("select count(*) from raw_staging.api_requests where is_safety_flagged").fetchone()[0]
        ),
        weekday_hour=weekday_hour,
        day_counts=day_counts,
        outside_period=outside,
        tier_requests=tier_requests,
        tier_users=tier_users,
        violations=violations,
    )


def hist_text(conn: Any, sql: str) -> dict[str, int]:
    return {str(k): int(v) for k, v in conn.execute(sql).fetchall()}


def _utc_midnight(day: Any) -> Any:
    import datetime as dt

    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


# --------------------------------------------------------------------------- targets


@dataclasses.dataclass(frozen=True)
class Targets:
    """Analytic figures a config's data must show."""

    config: GenerateConfig

    def latency_quantile_at(self, p: float) -> float:
        """The p-quantile of the (unrounded) latency distribution, in ms."""
        c = self.config
        return math.exp(c.latency_mu + c.latency_sigma * float(stats.norm.ppf(p)))

    def token_quantile_at(self, p: float) -> float:
        """The p-quantile of the (unrounded, uncapped) Pareto token distribution."""
        c = self.config
        return float(c.token_scale * (1 - p) ** (-1 / c.token_alpha))

    def latency_cdf_rounded(self, k: np.ndarray) -> np.ndarray:
        """P(latency_ms <= k) once draws are rounded to whole ms (and at least 1)."""
        c = self.config
        return np.asarray(stats.norm.cdf((np.log(k + 0.5) - c.latency_mu) / c.latency_sigma))

    def token_pmf(self) -> tuple[np.ndarray, np.ndarray]:
        """Exact distribution of a token count: Pareto rounded to whole tokens and capped."""
        c = self.config
        k = np.arange(c.token_scale, c.token_cap + 1, dtype=np.float64)

        def cdf(x: np.ndarray) -> np.ndarray:
            return np.asarray(1 - (c.token_scale / np.maximum(x, c.token_scale)) ** c.token_alpha)

        upper = np.where(k < c.token_cap, cdf(k + 0.5), 1.0)
        lower = np.where(k > c.token_scale, cdf(k - 0.5), 0.0)
        return k, upper - lower

    def token_log_moments(self) -> tuple[float, float]:
        """Mean and standard deviation of ln(tokens / x_m) under the rounded distribution."""
        k, p = self.token_pmf()
        logs = np.log(k / self.config.token_scale)
        mean = float((p * logs).sum())
        return mean, math.sqrt(max(float((p * logs * logs).sum()) - mean * mean, 0.0))

    def token_median(self) -> float:
        k, p = self.token_pmf()
        return float(k[np.searchsorted(np.cumsum(p), 0.5)])

    def traffic(self) -> TrafficCurve:
        return TrafficCurve.for_period(self.config.start, self.config.days)

    def weekday_hour_mass(self) -> np.ndarray:
        """Expected share of requests per (ISO weekday - 1, hour) over the period."""
        curve = self.traffic()
        per_hour = np.diff(curve.grid_mass[::3600])  # integral of s*o over each hour
        weekday = (self.config.start.weekday() + np.arange(self.config.days)) % 7
        mass = np.zeros((7, 24))
        np.add.at(mass, weekday, curve.day_factor[:, None] * per_hour[None, :])
        return np.asarray(mass / mass.sum())


# --------------------------------------------------------------------------- evaluate

# Two-sided: a correct dataset falls outside a band with probability at most P_MIN.
_TAIL = P_MIN / 2


def evaluate(config: GenerateConfig, obs: Observations) -> list[Check]:
    """All fidelity checks of spec section 2 on the observations."""
    t = Targets(config)
    checks: list[Check] = []
    checks += _latency_checks(t, obs)
    checks += _token_checks(t, obs)
    checks += _categorical_checks(config, obs)
    checks += _traffic_checks(t, obs)
    checks += _tier_checks(config, obs)
    checks += [
        Check(f"rule: {rule}", 0, count, 0, count == 0, "rows breaking the rule")
        for rule, count in obs.violations.items()
    ]
    checks.append(
        Check(
            "requests inside the period",
            0,
            obs.outside_period,
            0,
            obs.outside_period == 0,
            "rows outside [start, start + days)",
        )
    )
    return checks


def _band(name: str, expected: Any, observed: float, lo: float, hi: float, detail: str = "") -> Check:
    """A check that passes when `observed` lies in the acceptance band [lo, hi]."""
    lo, hi = float(lo), float(hi)
    digits = 6 if max(abs(lo), abs(hi)) < 10 else 3 if max(abs(lo), abs(hi)) < 100 else 1
    return Check(name, expected, observed, [round(lo, digits), round(hi, digits)], lo <= observed <= hi, detail)


def _skipped(name: str, expected: Any, why: str) -> Check:
    return Check(name, expected, None, None, True, f"skipped: {why}")


def _count_band(n: int, p: float) -> tuple[int, int]:
    """Counts a Binomial(n, p) stays within with probability >= 1 - P_MIN (exact)."""
    return int(stats.binom.ppf(_TAIL, n, p)), int(stats.binom.isf(_TAIL, n, p))


def _sorted_hist(hist: Mapping[int, int]) -> tuple[np.ndarray, np.ndarray]:
    keys = np.array(sorted(hist), dtype=np.float64)
    return keys, np.array([hist[int(k)] for k in keys], dtype=np.float64)


def _hist_quantile(values: np.ndarray, counts: np.ndarray, p: float) -> float:
    """The sample p-quantile: the value of rank ceil(p n)."""
    cum = np.cumsum(counts)
    return float(values[min(np.searchsorted(cum, p * cum[-1]), values.size - 1)])


def _order_statistic_band(n: int, p: float) -> tuple[float, float]:
    """Band of F(sample p-quantile): the rank-r order statistic of n uniforms is Beta(r, n - r + 1)."""
    r = max(1, math.ceil(p * n))
    return float(stats.beta.ppf(_TAIL, r, n - r + 1)), float(stats.beta.isf(_TAIL, r, n - r + 1))


def _latency_checks(t: Targets, obs: Observations) -> list[Check]:
    values, counts = _sorted_hist(obs.latency)
    n = int(counts.sum())
    c = t.config
    if n == 0:
        return [Check("latency_ms", "rows", 0, None, False, "no rows")]
    out = []
    for name, p in (("median", 0.5), ("p95", 0.95), ("p99", 0.99)):
        u_lo, u_hi = _order_statistic_band(n, p)
        # +-1 ms: draws are rounded to whole milliseconds
        lo, hi = t.latency_quantile_at(u_lo) - 1, t.latency_quantile_at(u_hi) + 1
        out.append(
            _band(
                f"latency_ms {name}",
                round(t.latency_quantile_at(p), 1),
                _hist_quantile(values, counts, p),
                lo,
                hi,
            )
        )
    ecdf = np.cumsum(counts) / n
    distance = float(np.max(np.abs(ecdf - t.latency_cdf_rounded(values))))
    p_value = float(stats.kstwo.sf(distance, n))
    out.append(
        Check(
            "latency_ms fits log-normal (KS)",
            f"LogNormal({c.latency_mu}, {c.latency_sigma})",
            f"D={distance:.5f}, p={p_value:.3g}",
            f"p > {P_MIN:g}",
            p_value > P_MIN,
        )
    )
    return out


def _token_checks(t: Targets, obs: Observations) -> list[Check]:
    c = t.config
    log_mean, _ = t.token_log_moments()
    out = []
    for column, hist in (
        ("prompt_tokens", obs.prompt_tokens),
        ("completion_tokens", obs.completion_tokens_ok),
    ):
        detail = "successful requests only" if column == "completion_tokens" else ""
        values, counts = _sorted_hist(hist)
        n = int(counts.sum())
        if n < 30:  # rounding to whole tokens dominates tiny samples (all 50s: alpha = inf)
            out.append(_skipped(f"{column} alpha (MLE)", c.token_alpha, "fewer than 30 rows"))
            if n == 0:
                continue
        else:
            log_sum = float((counts * np.log(values / c.token_scale)).sum())
            alpha = n / log_sum if log_sum > 0 else math.inf
            # Sum of ln(x / x_m) over n Pareto draws is Gamma(n, scale 1/alpha): an exact band
            # (scale from the rounded distribution, which moves alpha by < 1e-4).
            s_lo, s_hi = stats.gamma.ppf(_TAIL, n, scale=log_mean), stats.gamma.isf(_TAIL, n, scale=log_mean)
            out.append(_band(f"{column} alpha (MLE)", c.token_alpha, round(alpha, 4), n / s_hi, n / s_lo, detail))
        u_lo, u_hi = _order_statistic_band(n, 0.5)
        lo, hi = t.token_quantile_at(u_lo) - 1, t.token_quantile_at(u_hi) + 1
        out.append(_band(f"{column} median", t.token_median(), _hist_quantile(values, counts, 0.5), lo, hi, detail))
        low, high = int(values.min()), int(values.max())
        out.append(
            Check(
                f"{column} bounds",
                f"[{c.token_scale}, {c.token_cap}]",
                f"[{low}, {high}]",
                0,
                low >= c.token_scale and high <= c.token_cap,
                detail,
            )
        )
    return out


def _share_check(name: str, expected: float, hits: int, n: int) -> Check:
    if n == 0:
        return _skipped(name, expected, "no rows")
    lo, hi = _count_band(n, expected)
    return _band(name, round(expected, 6), round(hits / n, 6), lo / n, hi / n)


def _categorical_checks(config: GenerateConfig, obs: Observations) -> list[Check]:
    resolved = resolve(config)
    n = obs.requests
    out = []
    observed = np.array([obs.status_counts.get(int(code), 0) for code in resolved.status_codes], float)
    for code, share, count in zip(resolved.status_codes, resolved.status_shares, observed, strict=True):
        out.append(_share_check(f"http_status {code} share", float(share), int(count), n))
    unknown = n - int(observed.sum())
    expected = resolved.status_shares * observed.sum()
    testable = expected > 0
    if testable.sum() > 1 and expected[testable].min() >= 5:
        chi = float((((observed - expected) ** 2)[testable] / expected[testable]).sum())
        p_value = float(stats.chi2.sf(chi, int(testable.sum()) - 1))
        out.append(
            Check(
                "http_status mix (chi-square)",
                "catalogue shares",
                f"p={p_value:.3g}, unknown={unknown}",
                f"p > {P_MIN:g}",
                p_value > P_MIN and unknown == 0,
            )
        )
    else:
        out.append(
            Check(
                "http_status mix (chi-square)",
                "catalogue shares",
                f"unknown={unknown}",
                None,
                unknown == 0,
                "chi-square skipped: too few rows",
            )
        )
    out.append(_share_check("is_safety_flagged rate", config.safety_flag_rate, obs.flagged, n))
    return out


def _traffic_checks(t: Targets, obs: Observations) -> list[Check]:
    out = []
    mass = t.weekday_hour_mass()
    observed = obs.weekday_hour.astype(np.float64)
    n = int(observed.sum())
    if n == 0:
        return [Check("traffic", "rows in the period", 0, None, False, "no rows in the period")]
    name = "traffic weekday x hour fits the curve (chi-square)"
    fit = _traffic_chi_square(observed, mass)
    if fit is None:
        out.append(_skipped(name, "p(t) = s(h) w(d) o(h)", "too few rows for a chi-square test"))
    else:
        chi, dof, p_value, bins = fit
        out.append(
            Check(
                name,
                "p(t) = s(h) w(d) o(h)",
                f"chi2={chi:.1f}, dof={dof}, p={p_value:.3g}",
                f"p > {P_MIN:g}",
                p_value > P_MIN,
                bins,
            )
        )

    hourly = observed.sum(axis=0)
    hour_mass = mass.sum(axis=0)
    busiest = int(np.argmax(hourly))
    # Hour 12 carries the most traffic; it need only not be significantly below the busiest bin.
    pair = int(hourly[busiest] + hourly[12])
    share_12 = hour_mass[12] / (hour_mass[12] + hour_mass[busiest]) if busiest != 12 else 0.5
    low_12 = stats.binom.ppf(_TAIL, pair, share_12) if pair else 0
    out.append(
        Check(
            "busiest hour bin",
            12,
            busiest,
            f"hour 12 count >= {int(low_12)}",
            busiest == 12 or hourly[12] >= low_12,
        )
    )

    if n >= 500:
        peak, peak_se = _fitted_peak(hourly)
        tol_peak = Z * peak_se + 0.01
        out.append(_band("fitted diurnal peak (hour)", 12.5, round(peak, 3), 12.5 - tol_peak, 12.5 + tol_peak))
    else:
        out.append(_skipped("fitted diurnal peak (hour)", 12.5, "fewer than 500 rows"))

    night = slice(int(OVERNIGHT_FROM_H), int(OVERNIGHT_TO_H))
    night_share = float(hour_mass[night].sum())
    unsuppressed = night_share / OVERNIGHT_FACTOR
    lo, hi = _count_band(n, night_share)
    out.append(
        _band(
            "overnight 02:00-05:00 vs unsuppressed curve",
            OVERNIGHT_FACTOR,
            round(hourly[night].sum() / n / unsuppressed, 4),
            lo / n / unsuppressed,
            hi / n / unsuppressed,
        )
    )

    weekend = t.traffic().day_factor < 1
    we_days, wd_days = int(weekend.sum()), int((~weekend).sum())
    if we_days and wd_days:
        we = int(obs.day_counts[weekend].sum())
        day_mass = t.traffic().day_factor
        p_we = float(day_mass[weekend].sum() / day_mass.sum())
        lo, hi = _count_band(n, p_we)

        def ratio(k: float) -> float:
            return (k / we_days) / ((n - k) / wd_days) if n - k > 0 else math.inf

        out.append(_band("weekend vs weekday requests per day", 0.6, round(ratio(we), 4), ratio(lo), ratio(hi)))
    else:
        out.append(_skipped("weekend vs weekday requests per day", 0.6, "the period lacks weekend or weekdays"))
    return out


def _traffic_chi_square(observed: np.ndarray, mass: np.ndarray) -> tuple[float, int, float, str] | None:
    """Chi-square of (weekday, hour) counts, on coarser bins where counts would be too small.

    The chi-square approximation wants 5 expected rows per bin: smaller samples are judged on
    weekend/weekday x hour, or on hour of day; smaller still, not at all (None).
    """
    n = observed.sum()
    weekend = np.array([False] * 5 + [True] * 2)
    candidates = [
        ("weekday x hour", observed, mass),
        (
            "weekend/weekday x hour",
            np.stack([observed[~weekend].sum(0), observed[weekend].sum(0)]),
            np.stack([mass[~weekend].sum(0), mass[weekend].sum(0)]),
        ),
        ("hour", observed.sum(0), mass.sum(0)),
    ]
    for label, counts, mass_bins in candidates:
        expected = mass_bins * n
        positive = expected > 0
        if expected[positive].min() >= 5:
            chi = float((((counts - expected) ** 2)[positive] / expected[positive]).sum())
            dof = max(int(positive.sum()) - 1, 1)
            return chi, dof, float(stats.chi2.sf(chi, dof)), f"{int(positive.sum())} bins: {label}"
    return None


def _fitted_peak(hourly: np.ndarray) -> tuple[float, float]:
    """Peak hour of a sinusoid fitted (Poisson-weighted) to hourly counts outside the overnight dip."""
    hours = np.arange(24)
    keep = (hours < OVERNIGHT_FROM_H) | (hours >= OVERNIGHT_TO_H)
    omega = 2 * math.pi / 24
    centre = hours[keep] + 0.5
    design = np.column_stack([np.ones(centre.size), np.sin(omega * centre), np.cos(omega * centre)])
    y = hourly[keep]
    weights = 1 / np.maximum(y, 1)
    xtwx = design.T @ (design * weights[:, None])
    coef = np.linalg.solve(xtwx, design.T @ (weights * y))
    cov = np.linalg.inv(xtwx)
    b, c = coef[1], coef[2]
    if b * b + c * c == 0:
        return math.nan, math.inf
    theta = math.atan2(b, c)
    grad = np.array([0.0, c, -b]) / (b * b + c * c)
    se_theta = math.sqrt(max(float(grad @ cov @ grad), 0.0))
    return (theta / omega) % 24, se_theta / omega


def _tier_checks(config: GenerateConfig, obs: Observations) -> list[Check]:
    cat = load_catalogue()
    resolved = resolve(config, cat)
    out = []
    n_users = sum(obs.tier_users.values())
    for tier, share in zip(cat.tiers, resolved.tier_mix, strict=True):
        expected = share * n_users
        count = obs.tier_users.get(tier, 0)
        out.append(
            _band(
                f"users in tier {tier}",
                round(expected, 1),
                count,
                expected - 1,
                expected + 1,
                "allocated exactly (largest remainder)",
            )
        )
    base, base_weight = cat.tiers[0], float(resolved.tier_weights[0])
    base_req, base_users = obs.tier_requests.get(base, 0), obs.tier_users.get(base, 0)
    for tier, weight in zip(cat.tiers[1:], resolved.tier_weights[1:], strict=True):
        req, users = obs.tier_requests.get(tier, 0), obs.tier_users.get(tier, 0)
        name = f"requests per user {tier} / {base}"
        if not (users and base_users and base_weight and weight and req + base_req):
            out.append(_skipped(name, None, "a tier has no users or weight"))
            continue
        # Given the two tiers' total m, the tier's count is Binomial(m, q): an exact band at any size.
        m = req + base_req
        q = users * weight / (users * weight + base_users * base_weight)
        lo, hi = _count_band(m, q)

        def ratio(k: float, users: int = users, m: int = m) -> float:
            return (k / users) / ((m - k) / base_users) if m - k > 0 else math.inf

        out.append(_band(name, weight / base_weight, round(ratio(req), 3), ratio(lo), ratio(hi)))
    return out
