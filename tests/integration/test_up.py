"""`llmtel up` against a real server: runs every stage once, then only what changed."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import psycopg
import pytest

from llmtelemetry.cli import main
from llmtelemetry.warehouse.connection import Target
from tests.conftest import free_port, processes_mentioning, stopped_by
from tests.integration.conftest import query

pytestmark = pytest.mark.slow


def up(capsys: pytest.CaptureFixture[str], target: Target, *args: str) -> tuple[int, dict[str, Any], str]:
    code = main(["up", "--dsn", target.dsn, "--no-serve", "--json", *args])
    captured = capsys.readouterr()
    lines = captured.out.strip().splitlines()
    return code, json.loads(lines[-1]) if code == 0 else {}, captured.err


def execute(target: Target, statement: str) -> None:
    with psycopg.connect(target.dsn, autocommit=True) as conn:
        conn.execute(statement)


def ran(summary: dict[str, Any]) -> list[str]:
    return [stage["name"] for stage in summary["stages"] if stage["ran"]]


def test_up_runs_what_changed_and_nothing_else(
    database: Target, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LLMTEL_HOME", str(tmp_path))

    code, first, _ = up(capsys, database, "--rows", "20000", "--seed", "5")
    assert code == 0
    assert ran(first) == ["load", "transform", "verify"] and first["changed"] is True
    assert first["rows"] == 20_000 and first["tests_passed"] > 143
    assert first["checks"] > 50 and first["checks_passed"] == first["checks"]
    assert query(database, "select count(*) from public_snowflake.fct_api_requests_sf") == [(20_000,)]
    assert Path(first["reader"]["password"]).exists()

    code, second, err = up(capsys, database, "--rows", "20000", "--seed", "5")
    assert code == 0 and second["changed"] is False and ran(second) == []
    assert all(stage["reason"].startswith("up to date") for stage in second["stages"])
    assert "skipped" in err
    assert second["checks_passed"] == first["checks_passed"] and second["tests_passed"] == first["tests_passed"]

    # Without --json, a person is told in words.
    assert main(["up", "--dsn", database.dsn, "--no-serve", "--rows", "20000", "--seed", "5"]) == 0
    assert "nothing changed" in capsys.readouterr().out

    # A mart dropped behind llmtel's back: the build (and the verification) run again, not the load.
    execute(database, "drop table public_snowflake.fct_api_requests_sf cascade")
    code, third, _ = up(capsys, database, "--rows", "20000", "--seed", "5")
    assert code == 0 and ran(third) == ["transform", "verify"]
    assert query(database, "select count(*) from public_snowflake.fct_api_requests_sf") == [(20_000,)]

    # Other data asked for: everything runs, and the database holds the new data.
    code, fourth, _ = up(capsys, database, "--rows", "10000", "--seed", "6")
    assert code == 0 and ran(fourth) == ["load", "transform", "verify"] and fourth["rows"] == 10_000
    assert query(database, "select seed from raw_staging.load_history order by loaded_at desc limit 1") == [(6,)]


def test_up_fails_naming_the_failed_check(
    database: Target, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LLMTEL_HOME", str(tmp_path))
    assert up(capsys, database, "--rows", "5000")[0] == 0

    # The reader gains a write privilege; the verification record is gone, so up re-verifies.
    execute(database, "grant insert on public_star.dim_users to portfolio_reader")
    next(tmp_path.glob("state/verify_*.json")).unlink()
    code, _, err = up(capsys, database, "--rows", "5000")
    assert code == 1
    assert "error: check failed: security:" in err and "checks failed" in err


def test_up_refuses_bad_values_before_touching_a_database(capsys: pytest.CaptureFixture[str]) -> None:
    unreachable = "postgresql://nobody@127.0.0.1:9/none"  # would fail with exit 1 if it were tried
    assert main(["up", "--dsn", unreachable, "--rows", "0", "--no-serve"]) == 2
    assert "error: --rows" in capsys.readouterr().err
    assert main(["up", "--dsn", unreachable, "--port", "70000"]) == 2
    assert "error: --port" in capsys.readouterr().err


def test_up_refuses_a_busy_port_before_any_work(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["up", "--dsn", "postgresql://nobody@127.0.0.1:9/none", "--port", str(port)]) == 1
    err = capsys.readouterr().err
    assert f"error: cannot listen on 127.0.0.1:{port}" in err and "--port" in err


@stopped_by(signal.SIGINT, signal.SIGTERM)
def test_up_serves_the_app_until_ctrl_c_or_sigterm_then_stops_everything(
    tmp_path: Path, stop: signal.Signals, code: int, message: str
) -> None:
    """No DSN: the embedded server; the app answers; Ctrl-C (or SIGTERM, from a service manager
    or `kill`) stops the app and the server."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LLMTEL_")}
    env.update(LLMTEL_HOME=str(tmp_path / "home"), NO_COLOR="1")
    command = [sys.executable, "-m", "llmtelemetry", "up", "--rows", "20000", "--port", str(port)]
    # Files, not pipes: nobody reads a pipe while the app runs, and a full one would block it.
    with open(tmp_path / "out.log", "w") as stdout, open(tmp_path / "err.log", "w") as stderr:
        process = subprocess.Popen(command, env=env, cwd=tmp_path, stdout=stdout, stderr=stderr, text=True)
    try:
        deadline = time.monotonic() + 240
        healthy = False
        while time.monotonic() < deadline and process.poll() is None and not healthy:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as response:
                    healthy = response.status == 200
            except OSError:
                time.sleep(0.5)
        assert healthy, f"the app never answered (exit {process.poll()})"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
            assert response.status == 200
        assert processes_mentioning(str(tmp_path / "home" / "pgdata")), "the embedded server should be running"
    finally:
        process.send_signal(stop)
        process.wait(timeout=60)
    out, err = (tmp_path / "out.log").read_text(), (tmp_path / "err.log").read_text()
    assert process.returncode == code, err[-2000:]
    assert "the warehouse is ready" in out and f"http://localhost:{port}/" in out
    assert message in err
    assert processes_mentioning(str(tmp_path / "home" / "pgdata")) == []
    assert processes_mentioning(f"--server.port={port}") == []
