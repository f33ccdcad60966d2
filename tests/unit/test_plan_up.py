"""`plan_up`: which stages `llmtel up` runs for a given state of the database (pure)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from llmtelemetry import GenerateConfig
from llmtelemetry.pipeline import STAGES, WarehouseState, plan_up
from llmtelemetry.warehouse.load import LoadRecord

VERSION = "1.2.3"
WANTED = GenerateConfig(seed=42, rows=1_000)
LOADED_AT = dt.datetime(2026, 1, 2, 3, 4, tzinfo=dt.UTC)


def up_to_date() -> WarehouseState:
    load = LoadRecord(
        load_id="L1",
        loaded_at=LOADED_AT,
        source="generator",
        parameters=WANTED.to_dict(),
        row_counts={"api_requests": 1_000, "users": 2_000},
        llmtel_version=VERSION,
    )
    build = {
        "finished_at": "2026-01-02T03:05:00+00:00",
        "load_id": "L1",
        "llmtel_version": VERSION,
        "summary": {"tests_passed": 296},
        "failed": [],
    }
    verified = {
        "finished_at": "2026-01-02T03:06:00+00:00",
        "load_id": "L1",
        "build_finished_at": build["finished_at"],
        "llmtel_version": VERSION,
        "passed": True,
        "checks": 82,
        "checks_passed": 82,
    }
    facts = {"public_star.fct_api_requests": 1_000, "public_snowflake.fct_api_requests_sf": 1_000}
    return WarehouseState(loaded=load, raw_rows=1_000, fact_rows=facts, build=build, verified=verified)


def plan(state: WarehouseState, wanted: GenerateConfig = WANTED, force: bool = False) -> tuple[str, ...]:
    return plan_up(state, wanted, force=force, version=VERSION).run


def test_nothing_to_do_when_everything_matches() -> None:
    result = plan_up(up_to_date(), WANTED, version=VERSION)
    assert result.run == ()
    assert all(result.reasons[stage].startswith("up to date") for stage in STAGES)
    assert "seed 42, 1,000 rows" in result.reasons["load"]
    assert "296 tests" in result.reasons["transform"] and "82 of 82" in result.reasons["verify"]


def test_force_runs_everything() -> None:
    assert plan(up_to_date(), force=True) == STAGES


def test_empty_database_runs_everything() -> None:
    empty = WarehouseState(loaded=None, raw_rows=None, fact_rows={}, build=None, verified=None)
    assert plan(empty) == STAGES


@pytest.mark.parametrize(
    "wanted",
    [
        GenerateConfig(seed=7, rows=1_000),
        GenerateConfig(seed=42, rows=2_000),
        GenerateConfig(seed=42, rows=1_000, users=5),
    ],
)
def test_other_parameters_reload(wanted: GenerateConfig) -> None:
    assert plan(up_to_date(), wanted) == STAGES


def test_other_llmtel_version_reloads() -> None:
    state = up_to_date()
    assert state.loaded is not None
    older = dataclasses.replace(state, loaded=dataclasses.replace(state.loaded, llmtel_version="0.9"))
    assert plan(older) == STAGES


def test_damaged_or_unreadable_load_reloads() -> None:
    state = up_to_date()
    assert state.loaded is not None
    assert plan(dataclasses.replace(state, raw_rows=999)) == STAGES
    assert plan(dataclasses.replace(state, raw_rows=None)) == STAGES
    broken = dataclasses.replace(state.loaded, parameters={"seed": 42, "rows": -1})
    assert plan(dataclasses.replace(state, loaded=broken)) == STAGES


@pytest.mark.parametrize(
    "change",
    [
        {"build": None},
        {"build_field": ("load_id", "L0")},
        {"build_field": ("llmtel_version", "0.9")},
        {"build_field": ("failed", ["test not_null_x"])},
        {"facts": {"public_star.fct_api_requests": None, "public_snowflake.fct_api_requests_sf": 1_000}},
        {"facts": {"public_star.fct_api_requests": 1_000, "public_snowflake.fct_api_requests_sf": 10}},
    ],
)
def test_stale_or_missing_build_rebuilds_and_reverifies(change: dict[str, object]) -> None:
    state = up_to_date()
    assert state.build is not None
    if "build" in change:
        state = dataclasses.replace(state, build=None)
    if "build_field" in change:
        key, value = change["build_field"]  # type: ignore[misc]
        state = dataclasses.replace(state, build={**state.build, key: value})
    if "facts" in change:
        state = dataclasses.replace(state, fact_rows=change["facts"])  # type: ignore[arg-type]
    result = plan_up(state, WANTED, version=VERSION)
    assert result.run == ("transform", "verify")
    assert result.reasons["load"].startswith("up to date")


@pytest.mark.parametrize(
    ("key", "value"),
    [("load_id", "L0"), ("build_finished_at", "2026-01-01T00:00:00+00:00"), ("passed", False), ("llmtel_version", "0")],
)
def test_stale_or_failed_verification_reverifies_only(key: str, value: object) -> None:
    state = up_to_date()
    assert state.verified is not None
    assert plan(dataclasses.replace(state, verified={**state.verified, key: value})) == ("verify",)
    assert plan(dataclasses.replace(state, verified=None)) == ("verify",)
