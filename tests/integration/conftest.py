"""Real PostgreSQL servers for the integration tests: the machine's server and the embedded one.

Every test gets a fresh database on each server (`database` fixture, parametrised), so tests
are independent and run in parallel. The external server is PostgreSQL at LLMTEL_TEST_PG_DSN
(default: the local 127.0.0.1:5432 with trust auth); `.ci/run` makes sure it is up.
"""

from __future__ import annotations

import dataclasses
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from llmtelemetry.warehouse import embedded
from llmtelemetry.warehouse.connection import Target

EXTERNAL_DSN = os.environ.get("LLMTEL_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")


@dataclasses.dataclass(frozen=True)
class Server:
    kind: str  # "external" or "embedded"
    admin: Target  # a superuser connection to a maintenance database
    home: Path  # LLMTEL_HOME for commands run against it


@pytest.fixture(scope="session")
def embedded_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    home = tmp_path_factory.mktemp("llmtel-home")
    embedded.keep_running(home)
    yield home
    embedded.stop(home)


@pytest.fixture(scope="session", params=["external", "embedded"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Server:
    if request.param == "external":
        admin = Target(EXTERNAL_DSN)
        with psycopg.connect(admin.dsn, connect_timeout=5) as conn:
            assert conn.info.server_version >= 150000
        return Server("external", admin, tmp_path_factory.mktemp("home-external"))
    home = request.getfixturevalue("embedded_home")
    target = embedded.embedded_target(home)
    return Server("embedded", target.with_database("postgres"), home)


@pytest.fixture
def database(server: Server) -> Iterator[Target]:
    """A fresh, empty database on the server; dropped afterwards."""
    name = f"llmtel_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server.admin.dsn, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    target = dataclasses.replace(server.admin.with_database(name), embedded=server.kind == "embedded")
    yield target
    with psycopg.connect(server.admin.dsn, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')


def query(target: Target, statement: str, params: list[object] | None = None) -> list[tuple[object, ...]]:
    with psycopg.connect(target.dsn, autocommit=True) as conn:
        return conn.execute(statement, params).fetchall()  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def default_warehouse(server: Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Target, Path]]:
    """The spec's default data (seed 42, 500K rows) loaded and transformed, once per server.

    Tests that damage it must undo the damage before they end.
    """
    from llmtelemetry import GenerateConfig
    from llmtelemetry.dbt_runner import run_build
    from llmtelemetry.warehouse.load import GeneratorSource, load_raw_tables
    from llmtelemetry.warehouse.roles import ensure_reader

    name = f"llmtel_default_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server.admin.dsn, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    target = server.admin.with_database(name)
    home = tmp_path_factory.mktemp("default-home")
    load_raw_tables(target, GeneratorSource(GenerateConfig(seed=42, rows=500_000)))
    ensure_reader(target, home, None)
    assert run_build(target, home).success
    yield target, home
    with psycopg.connect(server.admin.dsn, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')
