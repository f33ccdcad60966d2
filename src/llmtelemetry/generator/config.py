"""What to generate: one frozen, validated value object.

Every field has the default that `--seed 42` means in the spec; the distribution parameters
are overridable from Python (the CLI exposes the sizing ones).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
from collections.abc import Mapping
from typing import Any

from llmtelemetry.errors import ParameterError
from llmtelemetry.generator.catalogue import resolve

#: Rows per random block. Every block draws from its own child of the seed, so a row's
#: values depend only on (seed, rows, block), never on how work is split into chunks.
BLOCK_ROWS = 16_384

DEFAULT_START = dt.date(2025, 1, 1)
DEFAULT_DAYS = 181
DEFAULT_CHUNK_ROWS = 131_072
MAX_SEED = 2**63 - 1


@dataclasses.dataclass(frozen=True)
class GenerateConfig:
    """Parameters of one synthetic dataset. Validated on construction."""

    seed: int = 42
    rows: int = 500_000
    users: int = 2_000
    start: dt.date = DEFAULT_START
    days: int = DEFAULT_DAYS
    # latency_ms ~ LogNormal(mu, sigma)
    latency_mu: float = 6.5
    latency_sigma: float = 0.8
    # prompt/completion tokens ~ classical Pareto(x_m, alpha), rounded, capped
    token_scale: int = 50
    token_alpha: float = 1.5
    token_cap: int = 100_000
    # http_status shares; None = the catalogue defaults (94/3/2/1 %)
    status_shares: Mapping[int, float] | None = None
    safety_flag_rate: float = 0.008
    # billing tier mix over users and per-request weight; None = catalogue defaults
    tier_mix: Mapping[str, float] | None = None
    tier_weights: Mapping[str, float] | None = None
    # share of requests streamed, among endpoints that support streaming
    streaming_rate: float = 0.6

    def __post_init__(self) -> None:
        _check_int("seed", self.seed, 0, MAX_SEED)
        _check_int("rows", self.rows, 1, 10**12)
        _check_int("users", self.users, 1, 10**7)
        _check_int("days", self.days, 1, 36_600)
        if not isinstance(self.start, dt.date) or isinstance(self.start, dt.datetime):
            raise ParameterError(f"start must be a date, got {self.start!r}", param="start")
        try:
            self.start + dt.timedelta(days=self.days)
        except OverflowError:
            raise ParameterError(f"days runs past the year 9999 from start {self.start}", param="days") from None
        _check_float("latency_mu", self.latency_mu, -50, 50)
        _check_float("latency_sigma", self.latency_sigma, 1e-6, 10)
        _check_int("token_scale", self.token_scale, 1, 10**9)
        _check_float("token_alpha", self.token_alpha, 1e-3, 100)
        _check_int("token_cap", self.token_cap, self.token_scale, 2**31 - 1)
        _check_float("safety_flag_rate", self.safety_flag_rate, 0, 1)
        _check_float("streaming_rate", self.streaming_rate, 0, 1)
        if self.status_shares is not None:
            _check_shares("status_shares", self.status_shares)
        if self.tier_mix is not None:
            _check_shares("tier_mix", self.tier_mix)
        if self.tier_weights is not None:
            _check_shares("tier_weights", self.tier_weights, normalised=False)
        # Unknown statuses or tiers are refused now, before any work.
        resolve(self)

    def __hash__(self) -> int:
        # The mapping fields are dicts; hash the canonical parameters instead.
        return hash(json.dumps(self.to_dict(), sort_keys=True))

    @property
    def end(self) -> dt.date:
        """First day after the period."""
        return self.start + dt.timedelta(days=self.days)

    @property
    def blocks(self) -> int:
        """Number of random blocks of `api_requests`."""
        return -(-self.rows // BLOCK_ROWS)

    def replace(self, **changes: Any) -> GenerateConfig:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_dict(cls, parameters: Mapping[str, Any]) -> GenerateConfig:
        """The config recorded by `to_dict` (in a manifest or load_history); DataError if invalid."""
        from llmtelemetry.errors import DataError

        fields = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in parameters.items() if k in fields}
        if isinstance(values.get("start"), str):
            try:
                values["start"] = dt.date.fromisoformat(values["start"])
            except ValueError:
                raise DataError(f"recorded start {values['start']!r} is not a date") from None
        if isinstance(values.get("status_shares"), Mapping):
            values["status_shares"] = {int(k): v for k, v in values["status_shares"].items()}
        try:
            return cls(**values)
        except (ParameterError, TypeError) as exc:
            raise DataError(f"recorded generator parameters are invalid ({exc})") from None

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly parameters, as recorded in the manifest."""
        out: dict[str, Any] = {}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if isinstance(value, dt.date):
                value = value.isoformat()
            elif isinstance(value, Mapping):
                value = {str(k): v for k, v in value.items()}
            out[field.name] = value
        return out


def _check_int(name: str, value: object, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ParameterError(f"{name} must be a whole number, got {value!r}", param=name)
    if not low <= value <= high:
        raise ParameterError(f"{name} must be between {low:,} and {high:,}, got {value:,}", param=name)


def _check_float(name: str, value: object, low: float, high: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ParameterError(f"{name} must be a finite number, got {value!r}", param=name)
    if not low <= value <= high:
        raise ParameterError(f"{name} must be between {low} and {high}, got {value}", param=name)


def _check_shares(name: str, shares: Mapping[Any, float], *, normalised: bool = True) -> None:
    if not shares:
        raise ParameterError(f"{name} must not be empty")
    for key, value in shares.items():
        _check_float(f"{name}[{key}]", value, 0, math.inf if not normalised else 1)
    total = sum(shares.values())
    if total <= 0:
        raise ParameterError(f"{name} must have a positive total")
    if normalised and abs(total - 1) > 1e-6:
        raise ParameterError(f"{name} must sum to 1, got {total:g}")
