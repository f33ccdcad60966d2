"""`llmtel verify` and `llmtel doctor` on real data and real servers."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import psycopg
import pytest

from llmtelemetry import generate
from llmtelemetry.cli import main
from llmtelemetry.doctor import Finding, _executable, _package, diagnose
from llmtelemetry.settings import get_settings
from llmtelemetry.verification import VerifyReport, verify_database
from llmtelemetry.warehouse.connection import Target


def cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


# ---------------------------------------------------------------- a generated directory


@pytest.mark.parametrize(("rows", "seed"), [(10_000, 1), (100_000, 2), (500_000, 42)])
def test_verify_a_generated_directory(tmp_path: Path, rows: int, seed: int) -> None:
    generate(seed=seed, rows=rows).write(tmp_path / "d")
    code, out, err = cli("verify", "--from", str(tmp_path / "d"), "--json")
    assert code == 0, err
    report = json.loads(out.strip().splitlines()[-1])
    assert report["passed"] and len(report["checks"]) >= 40


def test_verify_names_a_damaged_file(tmp_path: Path) -> None:
    generate(seed=3, rows=5_000, users=50).write(tmp_path / "d")
    path = tmp_path / "d" / "endpoints.parquet"
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    pq.write_table(table.slice(0, 5), path)  # a row short, and not the file of the manifest
    code, _, err = cli("verify", "--from", str(tmp_path / "d"))
    assert code == 1
    assert "check failed: file: endpoints matches its manifest" in err
    assert "check failed: file: endpoints rows" in err


# ---------------------------------------------------------------- the database


def failing(report: VerifyReport) -> set[str]:
    return {check.name for check in report.failed}


def test_verify_passes_on_the_default_warehouse(
    default_warehouse: tuple[Target, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    target, home = default_warehouse
    monkeypatch.setenv("LLMTEL_HOME", str(home))
    code, out, err = cli("verify", "--dsn", target.dsn, "--json")
    assert code == 0, err
    report = json.loads(out.strip().splitlines()[-1])
    assert report["passed"] and len(report["checks"]) >= 15
    families = {check["name"].split(":")[0] for check in report["checks"]}
    assert families == {"data", "warehouse", "security", "dbt"}


def execute(target: Target, *statements: str) -> None:
    with psycopg.connect(target.dsn, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)  # type: ignore[arg-type]


def test_each_kind_of_damage_is_named_and_undoing_it_passes(default_warehouse: tuple[Target, Path]) -> None:
    target, home = default_warehouse
    damages = [
        (
            "latencies scaled on part of the rows",
            ["update raw_staging.api_requests set latency_ms = latency_ms * 2 where user_id % 10 = 0"],
            ["update raw_staging.api_requests set latency_ms = latency_ms / 2 where user_id % 10 = 0"],
            "data: latency_ms fits log-normal (KS)",
        ),
        (
            "a status share shifted",
            [
                "create table public.moved as select request_id from raw_staging.api_requests "
                "where http_status = 200 order by request_id limit 5000",
                "update raw_staging.api_requests set http_status = 500 where request_id in (table public.moved)",
            ],
            [
                "update raw_staging.api_requests set http_status = 200 where request_id in (table public.moved)",
                "drop table public.moved",
            ],
            "data: http_status 500 share",
        ),
        (
            "a fact row deleted",
            [
                "create table public.kept as select * from public_star.fct_api_requests order by request_key limit 1",
                "delete from public_star.fct_api_requests where request_key in (select request_key from public.kept)",
            ],
            ["insert into public_star.fct_api_requests select * from public.kept", "drop table public.kept"],
            "warehouse: fct_api_requests rows = raw",
        ),
        (
            "a dimension row deleted",
            [
                "alter table public_star.fct_api_requests drop constraint fct_api_requests_endpoint_key_fkey",
                "create table public.kept_dim as select * from public_star.dim_endpoints where endpoint_id = 1",
                "delete from public_star.dim_endpoints where endpoint_id = 1",
            ],
            ["insert into public_star.dim_endpoints select * from public.kept_dim", "drop table public.kept_dim"],
            "warehouse: every fct_api_requests row joins public_star.dim_endpoints",
        ),
        (
            "an extra privilege granted to the reader",
            ["grant insert on public_star.dim_date to portfolio_reader"],
            ["revoke insert on public_star.dim_date from portfolio_reader"],
            "security: portfolio_reader can write no table",
        ),
        (
            "the reader allowed to create temporary tables",
            ["grant temporary on database " + target.dsn.split("dbname=")[1].split()[0] + " to portfolio_reader"],
            ["revoke temporary on database " + target.dsn.split("dbname=")[1].split()[0] + " from portfolio_reader"],
            "security: portfolio_reader can create nothing",
        ),
    ]
    assert verify_database(target, home).passed
    for label, damage, undo, check in damages:
        execute(target, *damage)
        report = verify_database(target, home)
        assert check in failing(report), (label, failing(report))
        execute(target, *undo)
        assert verify_database(target, home).passed, (label, failing(verify_database(target, home)))


# ---------------------------------------------------------------- doctor


def test_doctor_answers_truly_on_this_machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLMTEL_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("LLMTEL_DSN", raising=False)
    code, out, _ = cli("doctor", "--json")
    report = json.loads(out.strip().splitlines()[-1])
    checks = {c["name"]: c for c in report["checks"]}
    assert checks["database (embedded)"]["ok"] and checks["dbt project"]["ok"] and checks["dbt-core"]["ok"]
    import shutil

    assert checks["chromium"]["ok"] == bool(shutil.which("chromium") or shutil.which("chromium-browser"))
    assert code == (0 if report["ok"] else 1)
    assert report["ok"] == all(c["ok"] for c in report["checks"] if c["needed"])


def test_doctor_fails_on_an_unreachable_dsn(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLMTEL_HOME", str(tmp_path / "home"))
    code, out, err = cli("doctor", "--dsn", "postgresql://nobody@127.0.0.1:1/db")
    assert code == 1
    assert "FAIL  database (DSN)" in out and "fix:" in out
    assert "error: 1 needed part(s) missing: database (DSN)" in err


def test_doctor_checks_fail_when_their_part_is_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _package("numpy", "numpy").ok
    missing = _package("no-such-dist", "no_such_module_llmtel")
    assert not missing.ok and missing.fix == "pip install no-such-dist"
    assert not _executable("chromium", ["no-such-browser-llmtel"], "apt-get install chromium", "tests").ok
    monkeypatch.setenv("PATH", str(tmp_path))
    assert not _executable("chromium", ["chromium"], "apt-get install chromium", "tests").ok
    monkeypatch.undo()
    from llmtelemetry import dbt_runner

    monkeypatch.setattr(dbt_runner, "project_dir", lambda: tmp_path / "empty-project")
    (tmp_path / "empty-project").mkdir()
    findings = {f.name: f for f in diagnose(get_settings(home=tmp_path / "h"), "postgresql://nobody@127.0.0.1:1/db")}
    assert isinstance(findings["dbt project"], Finding) and not findings["dbt project"].ok
    assert not findings["database (DSN)"].ok
