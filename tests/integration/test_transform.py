"""`llmtel transform`: the packaged dbt project on real PostgreSQL (the local server and the embedded one)."""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from llmtelemetry import GenerateConfig
from llmtelemetry.cli import main
from llmtelemetry.dbt_runner import project_dir
from llmtelemetry.warehouse.connection import Target
from llmtelemetry.warehouse.load import GeneratorSource, load_raw_tables
from llmtelemetry.warehouse.roles import READER, password_file
from tests.integration.conftest import Server, query

DATA = GenerateConfig(seed=3, rows=40_000, users=400)
STAR = {"dim_users", "dim_models", "dim_date", "dim_endpoints", "fct_api_requests", "agg_usage_hourly"}
SNOWFLAKE = {
    "dim_companies",
    "dim_billing_tiers",
    "dim_users_sf",
    "dim_models",
    "dim_date",
    "dim_endpoints",
    "fct_api_requests_sf",
}
STAGING = {"stg_api_requests", "stg_users", "stg_models", "stg_endpoints", "stg_dates"}


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def relations(target: Target, schema: str) -> dict[str, str]:
    rows = query(
        target,
        "select c.relname, c.relkind::text from pg_class c join pg_namespace n on n.oid = "
        "c.relnamespace where n.nspname = %s and c.relkind in ('r', 'v')",
        [schema],
    )
    return {name: kind for name, kind in rows}  # type: ignore[misc]


def package_snapshot() -> dict[str, float]:
    root = project_dir().parent
    return {str(p.relative_to(root)): p.stat().st_mtime for p in root.rglob("*") if "__pycache__" not in p.parts}


@pytest.fixture(scope="module")
def built(server: Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Target, Path, dict[str, object]]]:
    """One database per server, loaded and fully built once for the read-only checks below."""
    import uuid

    name = f"llmtel_tf_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server.admin.dsn, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    target = server.admin.with_database(name)
    home = tmp_path_factory.mktemp("tf-home")
    load_raw_tables(target, GeneratorSource(DATA))
    before = package_snapshot()
    mp = pytest.MonkeyPatch()
    mp.setenv("LLMTEL_HOME", str(home))
    mp.delenv("LLMTEL_DSN", raising=False)
    try:
        stdout = io.StringIO()
        with contextlib.redirect_stdout(stdout):
            code = main(["transform", "--dsn", target.dsn, "--json", "--docs", str(home / "docs")])
        assert code == 0
        summary: dict[str, object] = json.loads(stdout.getvalue().strip().splitlines()[-1])
        summary["package_unchanged"] = package_snapshot() == before
        yield target, home, summary
    finally:
        mp.undo()
        with psycopg.connect(server.admin.dsn, autocommit=True) as conn:
            conn.execute(f'drop database if exists "{name}" with (force)')


def test_every_named_model_exists_in_its_schema(built: tuple[Target, Path, dict[str, object]]) -> None:
    target, _, _ = built
    staging, star, snowflake = (relations(target, s) for s in ("public_staging", "public_star", "public_snowflake"))
    assert {name for name, kind in staging.items() if kind == "v"} >= STAGING
    assert {name for name, kind in star.items() if kind == "r"} >= STAR
    assert {name for name, kind in snowflake.items() if kind == "r"} >= SNOWFLAKE


def test_at_least_143_data_tests_pass_and_none_fail(built: tuple[Target, Path, dict[str, object]]) -> None:
    _, _, summary = built
    assert summary["data_tests_passed"] >= 143  # type: ignore[operator]
    assert summary["unit_tests"] >= 3  # type: ignore[operator]
    assert summary["models"] >= 17  # type: ignore[operator]
    assert summary["tests_failed"] == 0 and summary["models_failed"] == 0 and summary["skipped"] == 0


def test_facts_reconcile_exactly_with_raw(built: tuple[Target, Path, dict[str, object]]) -> None:
    target, _, _ = built
    sums = "select count(*), sum(total_tokens), sum(prompt_tokens), sum(cost_usd) from "
    raw = query(target, sums + "raw_staging.api_requests")
    assert query(target, sums + "public_star.fct_api_requests") == raw
    assert query(target, sums + "public_snowflake.fct_api_requests_sf") == raw
    rollup = query(
        target,
        "select sum(requests), sum(total_tokens), sum(prompt_tokens), sum(cost_usd) from public_star.agg_usage_hourly",
    )
    assert rollup == raw
    orphans = query(
        target,
        "select count(*) from public_snowflake.fct_api_requests_sf f "
        "left join public_snowflake.dim_users_sf u using (user_key) "
        "left join public_snowflake.dim_companies c using (company_key) "
        "left join public_snowflake.dim_billing_tiers t using (tier_key) "
        "where c.company_key is null or t.tier_key is null",
    )
    assert orphans == [(0,)]


def test_marts_have_keys_and_the_reader_reads_only_them(
    built: tuple[Target, Path, dict[str, object]],
) -> None:
    target, home, _ = built
    fks = query(
        target,
        "select count(*) from pg_constraint where contype = 'f' and "
        "conrelid in ('public_star.fct_api_requests'::regclass, "
        "'public_snowflake.fct_api_requests_sf'::regclass)",
    )
    assert fks == [(8,)]
    pks = query(
        target,
        "select count(*) from pg_constraint where contype = 'p' and connamespace in "
        "('public_star'::regnamespace, 'public_snowflake'::regnamespace)",
    )
    assert pks[0][0] >= 11  # type: ignore[operator]
    reader = target.with_user(READER, password_file(home).read_text().strip())
    with psycopg.connect(reader.dsn, autocommit=True) as conn:
        assert conn.execute("select count(*) from public_star.fct_api_requests").fetchone() == (DATA.rows,)
        assert conn.execute("select count(*) from dim_companies").fetchone()[0] > 0  # type: ignore[index]
        for hidden in ("public_staging.stg_users", "raw_staging.users"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(f"select 1 from {hidden} limit 1")


def test_nothing_is_written_into_the_package(built: tuple[Target, Path, dict[str, object]]) -> None:
    _, home, summary = built
    assert summary["package_unchanged"] is True
    assert not (project_dir() / "target").exists() and not (project_dir() / "logs").exists()
    assert (home / "dbt" / "target" / "manifest.json").exists()
    assert (home / "docs" / "index.html").exists()


def test_select_star_on_a_fresh_database(
    database: Target, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LLMTEL_HOME", str(tmp_path / "home"))
    load_raw_tables(database, GeneratorSource(DATA.replace(rows=5_000)))
    code, out, err = cli(capsys, "transform", "--dsn", database.dsn, "--select", "star", "--json")
    assert code == 0, err
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["tests_failed"] == 0 and summary["models"] == len(STAR) + len(STAGING)
    assert set(relations(database, "public_star")) >= STAR
    assert relations(database, "public_snowflake") == {}


def test_reload_then_transform_again(
    database: Target, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LLMTEL_HOME", str(tmp_path / "home"))
    load_raw_tables(database, GeneratorSource(DATA.replace(rows=3_000)))
    assert cli(capsys, "transform", "--dsn", database.dsn, "--select", "star")[0] == 0
    load_raw_tables(database, GeneratorSource(DATA.replace(rows=4_000, seed=8)))
    assert query(database, "select count(*) from public_staging.stg_api_requests") == [(4_000,)]
    code, _, err = cli(capsys, "transform", "--dsn", database.dsn, "--select", "star")
    assert code == 0, err
    assert query(database, "select count(*) from public_star.fct_api_requests") == [(4_000,)]


def test_broken_input_rows_fail_naming_the_test(
    database: Target, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LLMTEL_HOME", str(tmp_path / "home"))
    load_raw_tables(database, GeneratorSource(DATA.replace(rows=2_000)))
    with psycopg.connect(database.dsn, autocommit=True) as conn:
        conn.execute("alter table raw_staging.api_requests drop constraint api_requests_user_id_fkey")
        conn.execute(
            "update raw_staging.api_requests set user_id = 999999 where request_id = "
            "(select request_id from raw_staging.api_requests order by request_id limit 1)"
        )
        conn.execute(
            "update raw_staging.api_requests set http_status = 418 where request_id = "
            "(select request_id from raw_staging.api_requests order by request_id desc limit 1)"
        )
    code, out, err = cli(capsys, "transform", "--dsn", database.dsn, "--select", "staging", "--json")
    assert code == 1
    assert "relationships" in err and "user_id" in err
    assert "accepted_values_stg_api_requests_http_status" in err
    assert err.strip().splitlines()[-2].startswith("error: dbt build failed")
    assert "fix:" in err.strip().splitlines()[-1]
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["tests_failed"] >= 2


def test_missing_raw_tables_is_a_clear_error(
    database: Target, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LLMTEL_HOME", str(tmp_path / "home"))
    code, _, err = cli(capsys, "transform", "--dsn", database.dsn)
    assert code == 1 and "run `llmtel load` first" in err


def test_every_model_and_column_is_documented(built: tuple[Target, Path, dict[str, object]]) -> None:
    target, home, _ = built
    manifest = json.loads((home / "docs" / "manifest.json").read_text())
    models = [n for n in manifest["nodes"].values() if n["resource_type"] in ("model", "seed")]
    assert len(models) >= 18
    for node in models:
        assert node["description"].strip(), node["name"]
        schema, name = node["schema"], node["alias"]
        columns = [
            row[0]
            for row in query(
                target,
                "select column_name from information_schema.columns where table_schema = %s and table_name = %s",
                [schema, name],
            )
        ]
        assert columns, f"{schema}.{name} not built"
        documented = {c for c, spec in node["columns"].items() if spec["description"].strip()}
        assert set(columns) <= documented, f"{node['name']}: undocumented {set(columns) - documented}"
    exposures = {e["name"] for e in manifest["exposures"].values()}
    assert exposures == {"executive_dashboards", "token_forecaster"}
