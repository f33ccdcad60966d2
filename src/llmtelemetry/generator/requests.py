"""The api_requests fact table, one random block at a time, fully vectorised.

Block b holds rows [b * BLOCK_ROWS, (b + 1) * BLOCK_ROWS) and draws everything from its own
generator `stream_rng(seed, REQUESTS_STREAM, b)`, in a fixed order. A chunk is a run of whole
blocks; chunking and workers therefore change how fast the table is made, never what it holds.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools

import numpy as np
import pyarrow as pa

from llmtelemetry.generator.catalogue import load_catalogue, resolve
from llmtelemetry.generator.config import BLOCK_ROWS, GenerateConfig
from llmtelemetry.generator.schema import API_REQUESTS, COST_TYPE
from llmtelemetry.generator.seeding import REQUESTS_STREAM, stream_rng
from llmtelemetry.generator.traffic import TrafficCurve
from llmtelemetry.generator.users import draw_population

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
# Byte value -> its two hex digits, read as one 16-bit word so a lookup moves both at once.
_HEX_WORDS = (
    np.ascontiguousarray(np.stack([_HEX[np.arange(256) >> 4], _HEX[np.arange(256) & 15]], axis=1))
    .view(np.uint16)
    .ravel()
)
# (text, hex) column ranges of the five dash-separated groups of a UUID.
_UUID_GROUPS = ((0, 0, 8), (9, 8, 12), (14, 12, 16), (19, 16, 20), (24, 20, 32))


@dataclasses.dataclass(frozen=True)
class RequestContext:
    """Everything a block needs besides its generator; built once per process and config."""

    config: GenerateConfig
    curve: TrafficCurve
    user_cdf: np.ndarray
    user_region: np.ndarray  # region index per user
    regions: pa.Array
    model_cdf: np.ndarray
    endpoint_cdf: np.ndarray
    endpoint_streams: np.ndarray  # bool per endpoint
    input_price: np.ndarray  # per model, units of 1e-4 USD per 1M tokens
    output_price: np.ndarray
    status_codes: np.ndarray
    status_cdf: np.ndarray
    error_types: pa.Array  # per status index, null for success
    finish_cdf: np.ndarray
    finish_reasons: pa.Array  # the drawn reasons, then "content_filter" last
    start_us: int

    @classmethod
    def build(cls, config: GenerateConfig) -> RequestContext:
        cat = load_catalogue()
        resolved = resolve(config, cat)
        population = draw_population(config, cat)
        region_names = sorted({c.region for c in cat.countries})
        country_region = np.array([region_names.index(c.region) for c in cat.countries])
        input_price, output_price = cat.prices_scaled()
        finish = list(cat.finish_reasons)
        start = dt.datetime.combine(config.start, dt.time(), tzinfo=dt.UTC)
        return cls(
            config=config,
            curve=TrafficCurve.for_period(config.start, config.days),
            user_cdf=population.request_cdf,
            user_region=country_region[population.country].astype(np.int32),
            regions=pa.array(region_names, pa.string()),
            model_cdf=_cdf([m.weight for m in cat.models]),
            endpoint_cdf=_cdf([e.weight for e in cat.endpoints]),
            endpoint_streams=np.array([e.supports_streaming for e in cat.endpoints]),
            input_price=input_price,
            output_price=output_price,
            status_codes=resolved.status_codes,
            status_cdf=_cdf(resolved.status_shares),
            error_types=pa.array([cat.error_types.get(int(c)) for c in resolved.status_codes], pa.string()),
            finish_cdf=_cdf([cat.finish_reasons[k] for k in finish]),
            finish_reasons=pa.array([*finish, "content_filter"], pa.string()),
            start_us=(start - _EPOCH) // dt.timedelta(microseconds=1),
        )


@functools.lru_cache(maxsize=4)
def request_context(config: GenerateConfig) -> RequestContext:
    """The (cached) context of a config; cheap to call from every chunk."""
    return RequestContext.build(config)


def _cdf(weights: object) -> np.ndarray:
    w = np.asarray(weights, dtype=np.float64)
    cdf = np.cumsum(w / w.sum())
    cdf[-1] = 1.0
    return cdf


def _pick(cdf: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Categorical draw: index i with probability cdf[i] - cdf[i-1]."""
    return np.minimum(np.searchsorted(cdf, u, side="right"), cdf.size - 1)


def block_rows(config: GenerateConfig, block: int) -> tuple[int, int]:
    """First row and row count of a block."""
    first = block * BLOCK_ROWS
    return first, min(BLOCK_ROWS, config.rows - first)


def draw_block(ctx: RequestContext, block: int) -> dict[str, np.ndarray]:
    """Draw the columns of one block as numpy arrays (the order of draws is part of the data)."""
    cfg = ctx.config
    first, n = block_rows(cfg, block)
    rng = stream_rng(cfg.seed, REQUESTS_STREAM, block)

    seconds = ctx.curve.sample_stratum(rng, n, first / cfg.rows, (first + n) / cfg.rows)
    end_us = cfg.days * 86_400_000_000 - 1
    requested_us = np.minimum(np.floor(seconds * 1e6).astype(np.int64), end_us) + ctx.start_us

    id_bytes = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    user_index = _pick(ctx.user_cdf, rng.random(n))
    model_index = _pick(ctx.model_cdf, rng.random(n))
    endpoint_index = _pick(ctx.endpoint_cdf, rng.random(n))
    prompt = _pareto_tokens(rng, n, cfg)
    completion = _pareto_tokens(rng, n, cfg)
    latency = np.maximum(np.rint(np.exp(cfg.latency_mu + cfg.latency_sigma * rng.standard_normal(n))), 1)
    status_index = _pick(ctx.status_cdf, rng.random(n))
    flagged = rng.random(n) < cfg.safety_flag_rate
    ttft_share = rng.uniform(0.05, 0.6, n)
    streamed = (rng.random(n) < cfg.streaming_rate) & ctx.endpoint_streams[endpoint_index]
    finish_index = _pick(ctx.finish_cdf, rng.random(n))

    ok = ctx.status_codes[status_index] == 200
    completion = np.where(ok, completion, 0)
    latency = np.minimum(latency, 2**31 - 1).astype(np.int32)
    cost = np.where(
        ok,
        prompt.astype(np.int64) * ctx.input_price[model_index]
        + completion.astype(np.int64) * ctx.output_price[model_index],
        0,
    )
    finish_index = np.where(flagged, ctx.finish_cdf.size, finish_index)
    return {
        "id_bytes": id_bytes,
        "requested_us": requested_us,
        "user_id": (user_index + 1).astype(np.int32),
        "model_id": (model_index + 1).astype(np.int16),
        "endpoint_id": (endpoint_index + 1).astype(np.int16),
        "prompt_tokens": prompt,
        "completion_tokens": completion.astype(np.int32),
        "latency_ms": latency,
        "ttft_ms": np.floor(latency * ttft_share).astype(np.int32),
        "ok": ok,
        "status_index": status_index,
        "finish_index": finish_index,
        "is_streaming": streamed,
        "is_safety_flagged": flagged,
        "region_index": ctx.user_region[user_index],
        "cost_e10": cost,
    }


def _pareto_tokens(rng: np.random.Generator, n: int, cfg: GenerateConfig) -> np.ndarray:
    """Classical Pareto(x_m, alpha) as x_m * exp(E / alpha), E ~ Exp(1); rounded and capped."""
    x = cfg.token_scale * np.exp(rng.standard_exponential(n) / cfg.token_alpha)
    return np.asarray(np.minimum(np.rint(x), cfg.token_cap).astype(np.int32))


def request_batch(config: GenerateConfig, first_block: int, n_blocks: int) -> pa.RecordBatch:
    """Rows of blocks [first_block, first_block + n_blocks) as one Arrow record batch."""
    ctx = request_context(config)
    parts = [draw_block(ctx, b) for b in range(first_block, min(first_block + n_blocks, config.blocks))]
    cols = {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
    return to_record_batch(ctx, cols)


def to_record_batch(ctx: RequestContext, cols: dict[str, np.ndarray]) -> pa.RecordBatch:
    """Numpy columns of `draw_block` -> the api_requests record batch."""
    ok = cols["ok"]
    status_idx = pa.array(cols["status_index"].astype(np.int32))
    finish_idx = pa.array(cols["finish_index"].astype(np.int32), mask=~ok)
    arrays = [
        _uuid_strings(cols["id_bytes"]),
        pa.array(cols["requested_us"], pa.int64()).view(API_REQUESTS.field("requested_at").type),
        pa.array(cols["user_id"]),
        pa.array(cols["model_id"]),
        pa.array(cols["endpoint_id"]),
        pa.array(cols["prompt_tokens"]),
        pa.array(cols["completion_tokens"]),
        pa.array(cols["prompt_tokens"] + cols["completion_tokens"]),
        pa.array(cols["latency_ms"]),
        pa.array(cols["ttft_ms"], mask=~ok),
        pa.array(ctx.status_codes[cols["status_index"]]),
        ctx.error_types.take(status_idx),
        ctx.finish_reasons.take(finish_idx),
        pa.array(cols["is_streaming"]),
        pa.array(cols["is_safety_flagged"]),
        ctx.regions.take(pa.array(cols["region_index"])),
        _decimal(cols["cost_e10"]),
    ]
    return pa.RecordBatch.from_arrays(arrays, schema=API_REQUESTS)


def _uuid_strings(id_bytes: np.ndarray) -> pa.Array:
    """Random bytes -> canonical version-4 UUID text, vectorised."""
    raw = id_bytes.copy()
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    n = raw.shape[0]
    digits = _HEX_WORDS[raw].view(np.uint8)  # (n, 32)
    text = np.full((n, 36), ord("-"), dtype=np.uint8)
    for at, lo, hi in _UUID_GROUPS:
        text[:, at : at + hi - lo] = digits[:, lo:hi]
    offsets = np.arange(0, 36 * (n + 1), 36, dtype=np.int32)
    return pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(text)])


def _decimal(unscaled: np.ndarray) -> pa.Array:
    """int64 values in units of 10**-scale -> decimal128 without going through Python objects."""
    words = np.empty((unscaled.size, 2), dtype=np.int64)
    words[:, 0] = unscaled
    words[:, 1] = unscaled >> 63
    return pa.Array.from_buffers(COST_TYPE, unscaled.size, [None, pa.py_buffer(words)])
