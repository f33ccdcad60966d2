"""The Token Forecaster's model: scikit-learn only, no Streamlit, no database.

A series is token usage (and cost) per hour or per day. The model is a histogram gradient
boosting regressor with the absolute-error loss (the median minimises WAPE, and token sums have
heavy Pareto tails) on calendar features: hour of day and day of week (cyclical encodings and
the hour-of-week slot), weekend, and a linear trend index. Prediction intervals are split
conformal on relative residuals: the model is fitted without the last two weeks, its relative
errors there give the interval's quantiles, then it is refitted on everything.

The backtest is rolling-origin: from each of the last `folds` week boundaries, forecast the next
week and compare with the seasonal-naive baseline (the same hour or day one week earlier).

Fitting runs on one OpenMP thread. The series are small (hundreds to a few thousand points),
where a second thread only adds synchronisation: on two idle cores one thread is faster, and on
a busy machine OpenMP's spinning threads made a two-thread fit 10 to 30 times slower.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingRegressor
from threadpoolctl import threadpool_limits

GRAINS = ("day", "hour")
NOMINAL_COVERAGE = 0.80
#: Weeks of rolling one-week-ahead residuals that calibrate the intervals, by grain.
CALIBRATION_WEEKS = {"day": 8, "hour": 2}
#: Weeks the backtest rolls over, by grain.
BACKTEST_WEEKS = {"day": 8, "hour": 4}


P = ParamSpec("P")
R = TypeVar("R")


def one_thread(fn: Callable[P, R]) -> Callable[P, R]:
    """Run `fn` with OpenMP (scikit-learn's boosting) limited to one thread in this thread."""

    @functools.wraps(fn)
    def limited(*args: P.args, **kwargs: P.kwargs) -> R:
        with threadpool_limits(limits=1, user_api="openmp"):
            return fn(*args, **kwargs)

    return limited


def periods_per_week(grain: str) -> int:
    return 168 if grain == "hour" else 7


def calendar_features(index: pd.DatetimeIndex, grain: str, origin: pd.Timestamp) -> np.ndarray:
    """Features of each timestamp: cyclical hour and weekday, hour-of-week slot, weekend, trend."""
    hour = index.hour.to_numpy() if grain == "hour" else np.zeros(len(index))
    weekday = index.day_of_week.to_numpy()
    step = pd.Timedelta(hours=1) if grain == "hour" else pd.Timedelta(days=1)
    trend = ((index - origin) / step).to_numpy(dtype=float)
    return np.column_stack(
        [
            np.sin(2 * math.pi * hour / 24),
            np.cos(2 * math.pi * hour / 24),
            np.sin(2 * math.pi * weekday / 7),
            np.cos(2 * math.pi * weekday / 7),
            weekday * 24 + hour,
            weekday >= 5,
            hour,
            weekday,
            trend,
        ]
    ).astype(float)


@dataclasses.dataclass
class Forecast:
    """Point forecast and interval per future timestamp."""

    index: pd.DatetimeIndex
    mean: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    nominal_coverage: float

    def frame(self, name: str = "value") -> pd.DataFrame:
        return pd.DataFrame(
            {"ts": self.index, name: self.mean, f"{name}_lower": self.lower, f"{name}_upper": self.upper}
        )


class TokenForecaster:
    """Fit on a regular series (a pandas Series with a DatetimeIndex), forecast `horizon` steps."""

    def __init__(self, grain: str = "day", nominal_coverage: float = NOMINAL_COVERAGE, random_state: int = 0):
        if grain not in GRAINS:
            raise ValueError(f"grain must be one of {GRAINS}, got {grain!r}")
        if not 0 < nominal_coverage < 1:
            raise ValueError("nominal_coverage must be between 0 and 1")
        self.grain = grain
        self.nominal_coverage = nominal_coverage
        self.random_state = random_state

    def _regressor(self) -> HistGradientBoostingRegressor:
        # Each boosting round costs about 1 ms whatever the size: daily series (a few hundred
        # points) get fewer, larger steps, so that the backtest's 72 fits take seconds, not tens.
        daily = self.grain == "day"
        return HistGradientBoostingRegressor(
            loss="absolute_error",
            max_iter=60 if daily else 200,
            learning_rate=0.15 if daily else 0.05,
            max_leaf_nodes=15,
            min_samples_leaf=5,
            random_state=self.random_state,
        )

    @one_thread
    def fit(self, series: pd.Series) -> TokenForecaster:
        series = series.astype(float).sort_index()
        if len(series) < 3 * periods_per_week(self.grain):
            raise ValueError(f"need at least three weeks of {self.grain}ly data, got {len(series)} points")
        self.origin_ = series.index[0]
        self.last_ = series.index[-1]
        self.step_ = pd.Timedelta(hours=1) if self.grain == "hour" else pd.Timedelta(days=1)
        # Conformal calibration: relative errors of one-week-ahead forecasts over the last weeks,
        # each from a model that had not seen that week (as the final model has not seen the future).
        week = periods_per_week(self.grain)
        weeks = min(CALIBRATION_WEEKS[self.grain], len(series) // week - 2)
        relative = []
        for k in range(weeks, 0, -1):
            cut = len(series) - k * week
            head, tail = series.iloc[:cut], series.iloc[cut : cut + week]
            early = self._regressor().fit(self._features(head.index), head.to_numpy())
            predicted = np.maximum(early.predict(self._features(tail.index)), 1e-9)
            relative.append(tail.to_numpy() / predicted - 1)
        errors = np.sort(np.concatenate(relative))
        alpha = (1 - self.nominal_coverage) / 2
        # Finite-sample conformal ranks: each tail keeps at most alpha of future points outside.
        n = errors.size
        low_rank = max(math.floor(alpha * (n + 1)) - 1, 0)
        high_rank = min(math.ceil((1 - alpha) * (n + 1)) - 1, n - 1)
        self.band_ = (float(errors[low_rank]), float(errors[high_rank]))
        self.model_ = self._regressor().fit(self._features(series.index), series.to_numpy())
        return self

    def _features(self, index: pd.DatetimeIndex) -> np.ndarray:
        return calendar_features(index, self.grain, self.origin_)

    @one_thread
    def predict(self, horizon: int) -> Forecast:
        """The next `horizon` periods after the fitted series."""
        index = pd.date_range(self.last_ + self.step_, periods=horizon, freq=self.step_)
        mean = np.maximum(self.model_.predict(self._features(index)), 0.0)
        lower = np.maximum(mean * (1 + self.band_[0]), 0.0)
        upper = mean * (1 + self.band_[1])
        return Forecast(index, mean, lower, upper, self.nominal_coverage)


def seasonal_naive(history: pd.Series, index: pd.DatetimeIndex, grain: str) -> np.ndarray:
    """The value one week earlier (the last observed week repeated for longer horizons)."""
    week = periods_per_week(grain)
    last_week = history.to_numpy()[-week:]
    return np.array([last_week[i % week] for i in range(len(index))], dtype=float)


@dataclasses.dataclass(frozen=True)
class Backtest:
    wape: float
    baseline_wape: float
    mae: float
    baseline_mae: float
    interval_coverage: float
    nominal_coverage: float
    folds: int
    points: int

    def to_dict(self) -> dict[str, float | int]:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in dataclasses.asdict(self).items()}


def backtest(
    series: pd.Series, grain: str, folds: int | None = None, nominal_coverage: float = NOMINAL_COVERAGE
) -> Backtest:
    """Rolling-origin backtest over the last `folds` weeks, one week ahead from each origin."""
    series = series.astype(float).sort_index()
    week = periods_per_week(grain)
    available = len(series) // week - 3  # each fold trains on at least three weeks
    if available < 1:
        raise ValueError(f"a backtest needs at least four weeks of {grain}ly data, got {len(series)} points")
    folds = min(folds or BACKTEST_WEEKS[grain], available)
    actual_all, model_all, naive_all, inside = [], [], [], []
    for fold in range(folds, 0, -1):
        cut = len(series) - fold * week
        train, test = series.iloc[:cut], series.iloc[cut : cut + week]
        forecast = TokenForecaster(grain, nominal_coverage).fit(train).predict(len(test))
        actual = test.to_numpy()
        actual_all.append(actual)
        model_all.append(forecast.mean)
        naive_all.append(seasonal_naive(train, test.index, grain))
        inside.append((actual >= forecast.lower) & (actual <= forecast.upper))
    y, m, b, hit = (np.concatenate(x) for x in (actual_all, model_all, naive_all, inside))
    total = float(np.abs(y).sum()) or 1.0
    return Backtest(
        wape=float(np.abs(y - m).sum() / total),
        baseline_wape=float(np.abs(y - b).sum() / total),
        mae=float(np.abs(y - m).mean()),
        baseline_mae=float(np.abs(y - b).mean()),
        interval_coverage=float(hit.mean()),
        nominal_coverage=nominal_coverage,
        folds=folds,
        points=len(y),
    )
