"""portfolio_reader reads the marts and can write nothing anywhere."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from psycopg import errors

from llmtelemetry import GenerateConfig
from llmtelemetry.warehouse.connection import Target
from llmtelemetry.warehouse.load import GeneratorSource, load_raw_tables
from llmtelemetry.warehouse.roles import READER, ensure_reader, password_file
from tests.integration.conftest import query

WRITES = [
    "insert into public_star.fct_api_requests values (1)",
    "update public_star.fct_api_requests set n = 2",
    "delete from public_star.fct_api_requests",
    "truncate public_star.fct_api_requests",
    "create table public_star.evil (x int)",
    "create table public_snowflake.evil (x int)",
    "create table public.evil (x int)",
    "create temporary table evil (x int)",
    "create schema evil",
    "create view public_star.evil as select 1",
    "create function public.evil() returns int language sql as 'select 1'",
    "select * from raw_staging.api_requests limit 1",
    "insert into raw_staging.users (user_id) values (-1)",
    "drop table public_star.fct_api_requests",
    "alter table public_star.fct_api_requests add column y int",
    "select lo_create(0)",
    "select lo_from_bytea(0, 'x')",
    "create index on public_star.fct_api_requests (n)",
    "comment on table public_star.fct_api_requests is 'x'",
    "select setval('public_star.seq', 5)",
    "select nextval('public_star.seq')",
]


@pytest.fixture
def loaded(database: Target, tmp_path: Path) -> tuple[Target, Path]:
    home = tmp_path / "home"
    load_raw_tables(database, GeneratorSource(GenerateConfig(rows=1_000, users=20)))
    with psycopg.connect(database.dsn, autocommit=True) as conn:
        conn.execute("create schema if not exists public_star")
        conn.execute("create table public_star.dim_before (n int)")  # exists before the grants
        conn.execute("insert into public_star.dim_before values (7)")
    ensure_reader(database, home, None)
    with psycopg.connect(database.dsn, autocommit=True) as conn:  # "dbt" creates marts afterwards
        conn.execute("create table public_star.fct_api_requests (n int)")
        conn.execute("insert into public_star.fct_api_requests values (1)")
        conn.execute("create table public_snowflake.fct_api_requests_sf (n int)")
        conn.execute("create sequence public_star.seq")
    return database, home


def reader_connection(target: Target, home: Path) -> psycopg.Connection:  # type: ignore[type-arg]
    password = password_file(home).read_text().strip()
    return psycopg.connect(target.with_user(READER, password).dsn, autocommit=True)


def test_reader_selects_present_and_future_mart_tables(loaded: tuple[Target, Path]) -> None:
    target, home = loaded
    with reader_connection(target, home) as conn:
        assert conn.execute("select n from public_star.dim_before").fetchall() == [(7,)]
        assert conn.execute("select n from public_star.fct_api_requests").fetchall() == [(1,)]
        assert conn.execute("select count(*) from public_snowflake.fct_api_requests_sf").fetchone() == (0,)
        assert conn.execute("show default_transaction_read_only").fetchone() == ("on",)


@pytest.mark.parametrize("statement", WRITES)
def test_reader_can_write_nothing(loaded: tuple[Target, Path], statement: str) -> None:
    target, home = loaded
    with reader_connection(target, home) as conn:
        conn.execute("set default_transaction_read_only = off")
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute(statement)


def test_statements_postgres_only_warns_about_change_nothing(loaded: tuple[Target, Path]) -> None:
    target, home = loaded
    acl_before = query(target, "select relacl::text from pg_class where oid = 'public_star.fct_api_requests'::regclass")
    with reader_connection(target, home) as conn:
        conn.execute("set default_transaction_read_only = off")
        conn.execute("grant select on public_star.fct_api_requests to public")  # WARNING: no privileges granted
        conn.execute("vacuum public_star.fct_api_requests")  # WARNING: permission denied, skipped
    assert query(target, "select relacl::text from pg_class where oid = 'public_star.fct_api_requests'::regclass") == (
        acl_before
    )
    assert query(
        target,
        "select last_vacuum from pg_stat_user_tables where relid = 'public_star.fct_api_requests'::regclass",
    ) == [(None,)]


def test_reader_role_attributes(loaded: tuple[Target, Path]) -> None:
    target, _ = loaded
    attributes = query(
        target,
        "select rolsuper, rolcreatedb, rolcreaterole, rolcanlogin, rolconnlimit, "
        "rolbypassrls, rolinherit from pg_roles where rolname = %s",
        [READER],
    )
    assert attributes == [(False, False, False, True, 20, False, False)]
    settings = query(
        target,
        "select unnest(setconfig) from pg_db_role_setting "
        "where setrole = (select oid from pg_roles where rolname = %s)",
        [READER],
    )
    flat = {row[0] for row in settings}
    assert "statement_timeout=60s" in flat and "default_transaction_read_only=on" in flat
    for privilege in ("CREATE", "TEMPORARY"):
        assert query(target, "select has_database_privilege(%s, current_database(), %s)", [READER, privilege]) == [
            (False,)
        ]
    schemas = query(target, "select nspname from pg_namespace where has_schema_privilege(%s, oid, 'CREATE')", [READER])
    assert schemas == []


def test_reader_is_idempotent_and_keeps_its_password(loaded: tuple[Target, Path]) -> None:
    target, home = loaded
    password = password_file(home).read_text()
    result = ensure_reader(target, home, None)
    assert not result.created and result.password_source == "stored" and not result.warnings
    assert password_file(home).read_text() == password
    configured = ensure_reader(target, home, "a-configured-password-123")
    assert configured.password_source == "LLMTEL_READER_PASSWORD"
    with psycopg.connect(target.with_user(READER, "a-configured-password-123").dsn) as conn:
        assert conn.execute("select current_user").fetchone() == (READER,)
