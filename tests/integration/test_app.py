"""The forecaster, the dashboards and the Streamlit app against a real warehouse, and in a real browser."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from streamlit.testing.v1 import AppTest

from llmtelemetry import GenerateConfig
from llmtelemetry.cli import main
from llmtelemetry.dashboards import load_dashboard, run_card
from llmtelemetry.forecaster.data import reader_target
from llmtelemetry.serve import app_path
from llmtelemetry.warehouse.connection import Target
from llmtelemetry.warehouse.load import GeneratorSource, load_raw_tables
from llmtelemetry.warehouse.roles import ensure_reader
from tests.conftest import free_port
from tests.integration.conftest import Server

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("LLMTEL_TEST_ARTIFACTS", ROOT / "test-artifacts"))
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
EXPECTED_COLUMNS = {
    "kpis": {"requests", "tokens", "cost_usd", "active_users", "error_rate", "rate_limited_rate", "safety_flag_rate"},
    "latency_by_model": {"model_name", "p50_ms", "p95_ms", "p99_ms"},
    "cost_by_model": {"day", "model_name", "cost_usd"},
    "tokens_by_tier": {"day", "billing_tier", "tokens"},
    "error_rates": {"day", "kind", "rate"},
    "top_companies": {"company_name", "cost_usd"},
    "tier_mix": {"billing_tier", "users", "requests"},
    "traffic_heatmap": {"day_name", "hour_of_day", "requests"},
    "safety_flags": {"model_name", "flagged_rate"},
}


def cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


def reader_of(warehouse: tuple[Target, Path]) -> Target:
    target, home = warehouse
    return reader_target(target, home)


# ---------------------------------------------------------------- forecast on the default data


@pytest.mark.parametrize("grain", ["day", "hour"])
def test_forecast_meets_its_targets_on_the_default_data(
    default_warehouse: tuple[Target, Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, grain: str
) -> None:
    target, home = default_warehouse
    monkeypatch.setenv("LLMTEL_HOME", str(home))
    code, out, err = cli(
        "forecast", "--dsn", target.dsn, "--horizon", "14", "--grain", grain, "--json", "--out", str(tmp_path / "f.csv")
    )
    assert code == 0, err
    summary = json.loads(out.strip().splitlines()[-1])
    b = summary["backtest"]
    assert set(b) >= {"wape", "baseline_wape", "mae", "interval_coverage", "nominal_coverage"}
    assert b["wape"] <= 0.85 * b["baseline_wape"], b
    assert 0.75 <= b["interval_coverage"] <= 0.85, b
    assert b["nominal_coverage"] == 0.8
    assert len(summary["forecast"]) == 14 * (24 if grain == "hour" else 1)
    assert (tmp_path / "f.csv").read_text().startswith("ts,series,tokens")


def test_forecast_by_tier_and_bad_parameters(
    default_warehouse: tuple[Target, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    target, home = default_warehouse
    monkeypatch.setenv("LLMTEL_HOME", str(home))
    code, out, _ = cli("forecast", "--dsn", target.dsn, "--horizon", "3", "--by", "tier", "--json")
    assert code == 0
    series = {row["series"] for row in json.loads(out.strip().splitlines()[-1])["forecast"]}
    assert series == {"free", "starter", "pro", "enterprise"}
    for args in (["--horizon", "0"], ["--horizon", "91"], ["--grain", "week"], ["--by", "region"]):
        code, _, err = cli("forecast", "--dsn", target.dsn, *args)
        assert code == 2 and err.startswith("error: --"), args


# ---------------------------------------------------------------- dashboards and app on a small warehouse


@pytest.fixture(scope="module")
def small_warehouse(server: Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Target, Path]]:
    from llmtelemetry.dbt_runner import run_build

    name = f"llmtel_app_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server.admin.dsn, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    target = server.admin.with_database(name)
    home = tmp_path_factory.mktemp("app-home")
    load_raw_tables(target, GeneratorSource(GenerateConfig(seed=5, rows=60_000, users=300)))
    ensure_reader(target, home, None)
    assert run_build(target, home, select="star").success
    yield target, home
    with psycopg.connect(server.admin.dsn, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')


def test_every_dashboard_card_runs_as_the_reader(small_warehouse: tuple[Target, Path]) -> None:
    dashboard = load_dashboard()
    assert len([c for c in dashboard.cards if c.chart != "kpi"]) >= 6
    assert {c.id for c in dashboard.cards} == set(EXPECTED_COLUMNS)
    with psycopg.connect(reader_of(small_warehouse).dsn, autocommit=True) as conn:
        for card in dashboard.cards:
            frame = run_card(conn, card)
            assert len(frame) > 0, card.id
            assert EXPECTED_COLUMNS[card.id] <= set(frame.columns), card.id
            for column in [card.x, card.color, *card.y_columns]:
                assert column is None or column in frame.columns, (card.id, column)


def app_test(dsn: str, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("LLMTEL_APP_DSN", dsn)
    return AppTest.from_file(str(app_path()), default_timeout=180)


def test_app_pages_run_with_their_widgets(
    small_warehouse: tuple[Target, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    at = app_test(reader_of(small_warehouse).dsn, monkeypatch).run()
    assert not at.exception and not at.warning
    assert [m.label for m in at.metric][:2] == ["Forecast tokens", "Forecast cost (USD)"]
    cost = at.metric[1].value
    at.slider(key="price").set_value(50).run()
    assert not at.exception and at.metric[1].value != cost  # the what-if moves the cost forecast
    at.slider(key="growth").set_value(100).run()
    at.selectbox(key="by").set_value("model").run()
    at.slider(key="horizon").set_value(30).run()
    assert not at.exception
    assert at.get("download_button")
    at.switch_page("app_pages/executive_overview.py").run()
    assert not at.exception and not at.warning
    titles = [s.value for s in at.subheader]
    assert titles[0] == "Key figures" and "Traffic by hour of day and weekday (UTC)" in titles
    assert len(at.metric) == 7


def test_app_is_friendly_when_the_marts_are_missing(
    database: Target, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_raw_tables(database, GeneratorSource(GenerateConfig(rows=1_000, users=20)))
    ensure_reader(database, tmp_path / "home", None)
    with psycopg.connect(database.dsn, autocommit=True) as conn:
        conn.execute("drop schema if exists public_star cascade")
    at = app_test(reader_target(database, tmp_path / "home").dsn, monkeypatch).run()
    assert not at.exception
    assert any("run `llmtel transform` first" in w.value for w in at.warning)
    at.switch_page("app_pages/executive_overview.py").run()
    assert not at.exception and any("llmtel transform" in w.value for w in at.warning)


# ---------------------------------------------------------------- a real browser


@contextlib.contextmanager
def served(warehouse: tuple[Target, Path], base_path: str) -> Iterator[tuple[str, Path]]:
    """`llmtel serve` on a free port; yields its URL and its log (a file: a pipe nobody reads
    would fill up and block the app)."""
    target, home = warehouse
    port = free_port()
    env = {**os.environ, "LLMTEL_HOME": str(home)}
    env.pop("LLMTEL_DSN", None)
    command = [sys.executable, "-m", "llmtelemetry", "serve", "--dsn", target.dsn, "--port", str(port)]
    if base_path:
        command += ["--base-url-path", base_path]
    log = home / f"serve-{port}.log"
    with open(log, "w") as output:
        proc = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}/{base_path.strip('/') + '/' if base_path else ''}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(url + "_stcore/health", timeout=2) as response:
                    if response.read() == b"ok":
                        break
            except OSError:
                time.sleep(0.3)
        else:
            raise AssertionError(f"llmtel serve did not come up: {log.read_text()[-3000:]}")
        yield url, log
    finally:
        proc.send_signal(2)  # Ctrl-C
        proc.wait(timeout=30)
    assert proc.returncode == 130


def wait_for_text(page: Any, text: str, log: Path, timeout: float = 120_000) -> None:
    """Wait for `text`; on a timeout, fail with what the page showed and the app's log."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_selector(f"text={text}", timeout=timeout)
    except PlaywrightTimeout:
        page.screenshot(path=str(ARTIFACTS / "timeout.png"), full_page=True)
        shown = page.locator("body").inner_text()[-1500:]
        raise AssertionError(
            f"{text!r} did not appear; the page showed:\n{shown}\napp log:\n{log.read_text()[-3000:]}"
        ) from None


@pytest.mark.parametrize("base_path", ["/forecaster", ""])
def test_both_pages_in_a_real_browser_load_only_local_assets(
    small_warehouse: tuple[Target, Path], base_path: str, server: Server
) -> None:
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "Debian chromium is required (.ci/run installs it)"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with served(small_warehouse, base_path) as (url, log), sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 1600})
        requests: list[str] = []
        page.on("request", lambda request: requests.append(request.url))
        page.goto(url, wait_until="domcontentloaded")
        wait_for_text(page, "Backtest against seasonal-naive", log)
        page.wait_for_selector('[data-testid="stVegaLiteChart"]', timeout=60_000)
        assert page.locator('[data-testid="stException"]').count() == 0
        page.screenshot(
            path=str(ARTIFACTS / f"forecaster-{server.kind}{base_path.replace('/', '-')}.png"), full_page=True
        )
        page.get_by_text("Executive overview").first.click()
        wait_for_text(page, "Traffic by hour of day and weekday (UTC)", log)
        page.wait_for_function(
            "document.querySelectorAll('[data-testid=\"stVegaLiteChart\"]').length >= 6", timeout=120_000
        )
        assert page.locator('[data-testid="stException"]').count() == 0
        assert (base_path.strip("/") + "/executive_overview").lstrip("/") in page.url
        page.screenshot(
            path=str(ARTIFACTS / f"overview-{server.kind}{base_path.replace('/', '-')}.png"), full_page=True
        )
        browser.close()
    origin = url.split("/")[2]
    foreign = [u for u in requests if not u.startswith(("data:", "blob:")) and u.split("/")[2] != origin]
    assert requests and not foreign, foreign
