"""The forecaster's model on synthetic series with a known weekly pattern."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from llmtelemetry.forecaster.model import TokenForecaster, backtest, seasonal_naive


def weekly_series(grain: str, weeks: int = 20, seed: int = 0) -> pd.Series:
    """A weekly-and-daily pattern with multiplicative noise: seasonal-naive pays the noise twice."""
    rng = np.random.default_rng(seed)
    freq, per_week = ("h", 168) if grain == "hour" else ("D", 7)
    index = pd.date_range("2025-01-06", periods=weeks * per_week, freq=freq)
    weekday = index.day_of_week.to_numpy()
    hour = index.hour.to_numpy()
    level = 1000 * np.where(weekday >= 5, 0.6, 1.0) * (0.55 + 0.45 * np.sin(2 * np.pi * (hour - 6.5) / 24))
    if grain == "day":
        level = 1000 * np.where(weekday >= 5, 0.6, 1.0)
    return pd.Series(level * rng.lognormal(0, 0.15, len(index)), index=index)


@pytest.mark.parametrize("grain", ["day", "hour"])
def test_model_beats_seasonal_naive_with_calibrated_intervals(grain: str) -> None:
    result = backtest(weekly_series(grain), grain)
    assert result.wape <= 0.85 * result.baseline_wape
    assert 0.70 <= result.interval_coverage <= 0.92


def test_forecast_shape_and_intervals() -> None:
    series = weekly_series("hour", weeks=6)
    forecast = TokenForecaster("hour").fit(series).predict(168)
    assert len(forecast.index) == 168 and forecast.index[0] == series.index[-1] + pd.Timedelta(hours=1)
    assert np.all(forecast.lower <= forecast.mean) and np.all(forecast.mean <= forecast.upper)
    assert np.all(forecast.lower >= 0)
    weekday = forecast.index.day_of_week.to_numpy()
    assert forecast.mean[weekday < 5].mean() > forecast.mean[weekday >= 5].mean()


def test_seasonal_naive_repeats_last_week() -> None:
    series = weekly_series("day", weeks=4)
    index = pd.date_range(series.index[-1] + pd.Timedelta(days=1), periods=10, freq="D")
    naive = seasonal_naive(series, index, "day")
    assert np.allclose(naive[:7], series.to_numpy()[-7:]) and np.allclose(naive[7:], series.to_numpy()[-7:-4])


def test_bad_inputs() -> None:
    with pytest.raises(ValueError, match="grain"):
        TokenForecaster("week")
    with pytest.raises(ValueError, match="three weeks"):
        TokenForecaster("day").fit(weekly_series("day", weeks=2))


def test_model_code_does_not_import_streamlit() -> None:
    code = "import sys, llmtelemetry.forecaster, llmtelemetry.forecaster.model; print('streamlit' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"


def test_short_histories_backtest_on_fewer_weeks_or_refuse_clearly() -> None:
    five_weeks = weekly_series("day", weeks=5)
    assert backtest(five_weeks, "day").folds == 2
    with pytest.raises(ValueError, match="four weeks"):
        backtest(weekly_series("day", weeks=3), "day")


def test_boosting_runs_on_one_openmp_thread_and_restores_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """On a busy two-core machine a two-thread fit was 10-30x slower (OpenMP threads spinning on
    each other); the fits run on one thread, in whichever thread calls them (Streamlit's script
    thread here), and leave the caller's limit as it was."""
    import concurrent.futures

    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.utils._openmp_helpers import _openmp_effective_n_threads

    from llmtelemetry.forecaster import model

    seen: list[int] = []

    class Recording(HistGradientBoostingRegressor):
        def fit(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            seen.append(_openmp_effective_n_threads())
            return super().fit(*args, **kwargs)

    monkeypatch.setattr(model, "HistGradientBoostingRegressor", Recording)

    def work() -> tuple[int, int]:
        before = _openmp_effective_n_threads()
        TokenForecaster("day").fit(weekly_series("day", weeks=6)).predict(7)
        backtest(weekly_series("day", weeks=6), "day", folds=1)
        return before, _openmp_effective_n_threads()

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        before, after = pool.submit(work).result()
    assert len(seen) >= 4 and set(seen) == {1}, seen
    assert after == before
