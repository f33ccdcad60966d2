"""The Token Forecaster: model (scikit-learn), data access, and the forecasting service."""

from __future__ import annotations

import dataclasses
from typing import Any

import pandas as pd

from llmtelemetry.errors import DataError, ParameterError
from llmtelemetry.forecaster.data import BREAKDOWNS, usage_series
from llmtelemetry.forecaster.model import GRAINS, Backtest, TokenForecaster, backtest

MAX_HORIZON_DAYS = 90


@dataclasses.dataclass(frozen=True)
class ForecastResult:
    grain: str
    horizon_days: int
    by: str
    history: pd.DataFrame  # ts, series, tokens, cost_usd
    forecast: pd.DataFrame  # ts, series, tokens, tokens_lower, tokens_upper, cost_usd, cost_lower, cost_upper
    backtest: Backtest  # on the total series

    def summary(self) -> dict[str, Any]:
        return {
            "grain": self.grain,
            "horizon_days": self.horizon_days,
            "by": self.by,
            "backtest": self.backtest.to_dict(),
            "forecast": [
                {
                    k: (v.isoformat() if isinstance(v, pd.Timestamp) else round(float(v), 6) if k != "series" else v)
                    for k, v in row.items()
                }
                for row in self.forecast.to_dict("records")
            ],
        }


def check_parameters(grain: str, horizon_days: int, by: str) -> None:
    if grain not in GRAINS:
        raise ParameterError(f"--grain must be one of {', '.join(GRAINS)}, got {grain!r}", param="grain")
    if not 1 <= horizon_days <= MAX_HORIZON_DAYS:
        raise ParameterError(
            f"--horizon must be between 1 and {MAX_HORIZON_DAYS} days, got {horizon_days}", param="horizon"
        )
    if by not in BREAKDOWNS:
        raise ParameterError(f"--by must be one of {', '.join(BREAKDOWNS)}, got {by!r}", param="by")


def forecast_usage(conn: Any, grain: str = "day", horizon_days: int = 14, by: str = "overall") -> ForecastResult:
    """Fit per series on the marts, forecast `horizon_days`, and backtest the total series."""
    check_parameters(grain, horizon_days, by)
    try:
        return _forecast(conn, grain, horizon_days, by)
    except ValueError as exc:  # too little history for the model or its backtest
        raise DataError(f"cannot forecast: {exc}", fix="load a longer period (llmtel load --days 60 or more)") from None


def _forecast(conn: Any, grain: str, horizon_days: int, by: str) -> ForecastResult:
    series = usage_series(conn, grain, by)
    steps = horizon_days * (24 if grain == "hour" else 1)
    history, forecasts = [], []
    total = sum(frame["tokens"] for frame in series.values())
    for name, frame in series.items():
        fitted = TokenForecaster(grain).fit(frame["tokens"]).predict(steps)
        recent = frame.iloc[-(28 * (24 if grain == "hour" else 1)) :]
        cost_per_token = float(recent["cost_usd"].sum() / max(recent["tokens"].sum(), 1.0))
        part = fitted.frame("tokens")
        part.insert(1, "series", name)
        for bound in ("", "_lower", "_upper"):
            part[f"cost_usd{bound}"] = part[f"tokens{bound}"] * cost_per_token
        forecasts.append(part)
        history.append(frame.reset_index(names="ts").assign(series=name)[["ts", "series", "tokens", "cost_usd"]])
    return ForecastResult(
        grain,
        horizon_days,
        by,
        pd.concat(history, ignore_index=True),
        pd.concat(forecasts, ignore_index=True),
        backtest(total, grain),
    )
