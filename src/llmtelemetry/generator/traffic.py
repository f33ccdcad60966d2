"""The traffic curve and timestamp sampling.

Acceptance of a candidate instant t (spec section 2), with h the hour of day as a real number:

    p(t) = s(h) * w(day) * o(h)
    s(h) = 0.55 + 0.45 * sin(2*pi*(h - 6.5) / 24)     peak at 12:30
    w    = 0.6 on Saturday and Sunday, else 1
    o(h) = 0.15 for 2 <= h < 5, else 1

Timestamps are drawn by rejection sampling against p. To keep the table in time order (and
its Parquet row groups prunable by time), the period is cut into strata holding exactly the
expected share of each random block's rows: block b owns the quantiles [lo/N, hi/N) of the
density, and rejection sampling runs inside that time range only. The result has the same
distribution as rejection sampling over the whole period, with less variance.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math

import numpy as np

SECONDS_PER_DAY = 86_400
BASE, AMPLITUDE, PEAK_SHIFT_H = 0.55, 0.45, 6.5
WEEKEND_FACTOR = 0.6
OVERNIGHT_FACTOR, OVERNIGHT_FROM_H, OVERNIGHT_TO_H = 0.15, 2.0, 5.0
_OMEGA = 2 * math.pi / 24
# Largest change of p between two instants one minute apart (|ds/dh| <= 0.45*omega).
_MINUTE_SLACK = AMPLITUDE * _OMEGA / 60 * 1.25


def diurnal(hours: np.ndarray) -> np.ndarray:
    """s(h) * o(h) for hours of day in [0, 24)."""
    s = BASE + AMPLITUDE * np.sin(_OMEGA * (hours - PEAK_SHIFT_H))
    overnight = (hours >= OVERNIGHT_FROM_H) & (hours < OVERNIGHT_TO_H)
    return np.where(overnight, s * OVERNIGHT_FACTOR, s)


def _diurnal_integral(h: np.ndarray) -> np.ndarray:
    """Integral of s(x) * o(x) from 0 to h (exact, piecewise)."""

    def s_int(x: np.ndarray | float) -> np.ndarray:
        return np.asarray(BASE * x - AMPLITUDE / _OMEGA * np.cos(_OMEGA * (np.asarray(x) - PEAK_SHIFT_H)))

    h = np.asarray(h, dtype=np.float64)
    a, b = OVERNIGHT_FROM_H, OVERNIGHT_TO_H
    before = s_int(np.minimum(h, a)) - s_int(0.0)
    during = OVERNIGHT_FACTOR * (s_int(np.clip(h, a, b)) - s_int(a))
    after = s_int(np.maximum(h, b)) - s_int(b)
    return np.asarray(before + during + after)


@dataclasses.dataclass(frozen=True)
class TrafficCurve:
    """The acceptance density over one period, with its exact cumulative mass."""

    start: dt.date
    days: int
    day_factor: np.ndarray  # w per day of the period
    cum_day: np.ndarray  # cumulative w, length days + 1
    day_mass: float  # integral of s*o over one day, in hours
    grid_mass: np.ndarray  # integral of s*o from 0 to each second of the day, length 86401

    @classmethod
    def for_period(cls, start: dt.date, days: int) -> TrafficCurve:
        weekday = (start.weekday() + np.arange(days)) % 7
        factor = np.where(weekday >= 5, WEEKEND_FACTOR, 1.0)
        grid = _diurnal_integral(np.arange(SECONDS_PER_DAY + 1) / 3600.0)
        return cls(start, days, factor, np.concatenate([[0.0], np.cumsum(factor)]), float(grid[-1]), grid)

    def acceptance(self, seconds: np.ndarray) -> np.ndarray:
        """p(t) for instants given as seconds since the start of the period."""
        day = np.minimum((seconds // SECONDS_PER_DAY).astype(np.int64), self.days - 1)
        hours = (seconds - day * SECONDS_PER_DAY) / 3600.0
        return np.asarray(diurnal(hours) * self.day_factor[day])

    def quantile_seconds(self, q: np.ndarray) -> np.ndarray:
        """Instants (seconds since start) below which a share q of the traffic falls."""
        target = np.asarray(q, dtype=np.float64) * self.cum_day[-1]  # in units of day masses
        day = np.clip(np.searchsorted(self.cum_day, target, side="right") - 1, 0, self.days - 1)
        within = (target - self.cum_day[day]) / self.day_factor[day] * self.day_mass
        second = np.interp(within, self.grid_mass, np.arange(SECONDS_PER_DAY + 1, dtype=np.float64))
        return np.asarray(day * SECONDS_PER_DAY + second)

    def envelope(self, lo: float, hi: float) -> float:
        """An upper bound of p over [lo, hi) (seconds), tight enough for fast rejection."""
        if hi - lo >= SECONDS_PER_DAY:
            return 1.0
        minutes = np.arange(math.floor(lo / 60) * 60, math.ceil(hi / 60) * 60 + 60, 60.0)
        minutes = minutes[minutes < self.days * SECONDS_PER_DAY]
        return min(1.0, float(self.acceptance(minutes).max()) + _MINUTE_SLACK)

    def sample_stratum(self, rng: np.random.Generator, n: int, q_lo: float, q_hi: float) -> np.ndarray:
        """n sorted instants (seconds since start) by rejection sampling in the stratum."""
        lo, hi = (float(x) for x in self.quantile_seconds(np.array([q_lo, q_hi])))
        if q_hi >= 1.0:
            hi = float(self.days * SECONDS_PER_DAY)
        hi = max(hi, math.nextafter(lo, math.inf))
        bound = self.envelope(lo, hi)
        mass_hours = (q_hi - q_lo) * self.cum_day[-1] * self.day_mass
        rate = min(1.0, max(mass_hours * 3600.0 / ((hi - lo) * bound), 1e-6))
        accepted: list[np.ndarray] = []
        have = 0
        while have < n:
            want = int((n - have) / rate * 1.05) + 64
            candidates = lo + (hi - lo) * rng.random(want)
            keep = candidates[rng.random(want) * bound < self.acceptance(candidates)]
            accepted.append(keep)
            have += keep.size
        out = np.concatenate(accepted)[:n]
        out.sort()
        return out
