"""The reference data of `catalogue.toml`, loaded once and resolved against a config."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import tomllib
from decimal import Decimal
from importlib import resources
from typing import TYPE_CHECKING, Any

import numpy as np

from llmtelemetry.errors import ParameterError

if TYPE_CHECKING:
    from llmtelemetry.generator.config import GenerateConfig

#: Prices are stored with this many decimals; costs then have PRICE_SCALE + 6 decimals.
PRICE_SCALE = 4


@dataclasses.dataclass(frozen=True)
class Model:
    model_name: str
    provider: str
    model_family: str
    context_window: int
    input_price_per_1m_tokens: Decimal
    output_price_per_1m_tokens: Decimal
    released_date: dt.date
    weight: float


@dataclasses.dataclass(frozen=True)
class Endpoint:
    path: str
    method: str
    operation: str
    supports_streaming: bool
    weight: float


@dataclasses.dataclass(frozen=True)
class Country:
    country_code: str
    locale: str
    region: str
    tld: str
    weight: float


@dataclasses.dataclass(frozen=True)
class Catalogue:
    """Everything fixed about the simulated API platform."""

    models: tuple[Model, ...]
    endpoints: tuple[Endpoint, ...]
    tiers: tuple[str, ...]
    default_tier_mix: tuple[float, ...]
    default_tier_weights: tuple[float, ...]
    statuses: tuple[int, ...]
    default_status_shares: tuple[float, ...]
    error_types: dict[int, str]
    finish_reasons: dict[str, float]
    countries: tuple[Country, ...]
    company: dict[str, Any]

    def prices_scaled(self) -> tuple[np.ndarray, np.ndarray]:
        """Input and output prices per 1M tokens as integers in units of 10**-PRICE_SCALE."""
        unit = Decimal(10) ** PRICE_SCALE
        inputs = [int(m.input_price_per_1m_tokens * unit) for m in self.models]
        outputs = [int(m.output_price_per_1m_tokens * unit) for m in self.models]
        return np.array(inputs, dtype=np.int64), np.array(outputs, dtype=np.int64)


@functools.cache
def load_catalogue() -> Catalogue:
    """Parse the packaged catalogue (cached: it never changes within a run)."""
    text = resources.files("llmtelemetry.generator").joinpath("catalogue.toml").read_text("utf-8")
    data = tomllib.loads(text)
    models = tuple(
        Model(
            **{
                **m,
                "input_price_per_1m_tokens": _price(m["input_price_per_1m_tokens"]),
                "output_price_per_1m_tokens": _price(m["output_price_per_1m_tokens"]),
            }
        )
        for m in data["models"]
    )
    return Catalogue(
        models=models,
        endpoints=tuple(Endpoint(**e) for e in data["endpoints"]),
        tiers=tuple(t["billing_tier"] for t in data["tiers"]),
        default_tier_mix=tuple(float(t["mix"]) for t in data["tiers"]),
        default_tier_weights=tuple(float(t["request_weight"]) for t in data["tiers"]),
        statuses=tuple(int(s["http_status"]) for s in data["statuses"]),
        default_status_shares=tuple(float(s["share"]) for s in data["statuses"]),
        error_types={int(s["http_status"]): s["error_type"] for s in data["statuses"] if "error_type" in s},
        finish_reasons={k: float(v) for k, v in data["finish_reasons"].items()},
        countries=tuple(Country(**c) for c in data["countries"]),
        company=data["company"],
    )


def _price(text: str) -> Decimal:
    value = Decimal(text)
    if value < 0 or value.as_tuple().exponent < -PRICE_SCALE:  # type: ignore[operator]
        raise ValueError(f"price {text!r} needs at most {PRICE_SCALE} decimals")
    return value


@dataclasses.dataclass(frozen=True)
class Resolved:
    """Catalogue probabilities with a config's overrides applied, as numpy arrays."""

    tier_mix: np.ndarray
    tier_weights: np.ndarray
    status_codes: np.ndarray
    status_shares: np.ndarray


def resolve(config: GenerateConfig, catalogue: Catalogue | None = None) -> Resolved:
    """Apply the config's overrides (tier mix and weights, status shares) to the catalogue."""
    cat = catalogue or load_catalogue()
    tier_mix = _override("tier_mix", cat.tiers, cat.default_tier_mix, config.tier_mix)
    tier_weights = _override("tier_weights", cat.tiers, cat.default_tier_weights, config.tier_weights)
    codes = np.array(cat.statuses, dtype=np.int16)
    shares = np.array(cat.default_status_shares, dtype=np.float64)
    if config.status_shares is not None:
        unknown = set(map(int, config.status_shares)) - set(cat.statuses)
        if unknown:
            raise ParameterError(f"status_shares names unknown statuses {sorted(unknown)}; known: {list(cat.statuses)}")
        shares = np.array([float(config.status_shares.get(c, 0.0)) for c in cat.statuses])
    return Resolved(tier_mix, tier_weights, codes, shares / shares.sum())


def _override(name: str, keys: tuple[str, ...], default: tuple[float, ...], given: Any) -> np.ndarray:
    if given is None:
        return np.array(default, dtype=np.float64)
    unknown = set(given) - set(keys)
    if unknown:
        raise ParameterError(f"{name} names unknown tiers {sorted(unknown)}; known: {list(keys)}")
    return np.array([float(given.get(k, 0.0)) for k in keys], dtype=np.float64)
