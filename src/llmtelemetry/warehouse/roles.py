"""The read-only role `portfolio_reader`: created or refreshed idempotently after each load."""

from __future__ import annotations

import dataclasses
import os
import re
import secrets
import time
from importlib import resources
from pathlib import Path
from typing import Any

import psycopg
from psycopg import errors, sql

from llmtelemetry.errors import DatabaseError
from llmtelemetry.warehouse.connection import Target, connect

READER = "portfolio_reader"
MART_SCHEMAS = ("public_star", "public_snowflake")
STATEMENT_TIMEOUT = "60s"
CONNECTION_LIMIT = 20


@dataclasses.dataclass(frozen=True)
class ReaderResult:
    """What happened to the reader role."""

    role: str
    created: bool
    password_source: str  # "LLMTEL_READER_PASSWORD", "stored" or "generated"
    password_file: str | None
    warnings: list[str]


def password_file(home: Path) -> Path:
    return Path(home) / "secrets" / "reader_password"


def reader_password(home: Path, configured: str | None) -> tuple[str, str]:
    """(password, source) from LLMTEL_READER_PASSWORD, the stored file, or newly generated."""
    if configured:
        return configured, "LLMTEL_READER_PASSWORD"
    path = password_file(home)
    if path.exists():
        stored = path.read_text("utf-8").strip()
        if stored:
            return stored, "stored"
    generated = secrets.token_urlsafe(24)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(generated + "\n")
    return generated, "generated"


def ensure_reader(target: Target, home: Path, configured_password: str | None) -> ReaderResult:
    """Create or refresh `portfolio_reader` with SELECT on the marts and nothing else."""
    password, source = reader_password(home, configured_password)
    # Roles are cluster-wide: loads into two databases of one cluster may race on the same
    # role ("tuple concurrently updated", duplicate role). Such a race is retried.
    for attempt in range(1, 6):
        try:
            created, warnings = _apply_reader(target, password)
            break
        except (
            errors.InternalError_,
            errors.DuplicateObject,
            errors.UniqueViolation,
            errors.SerializationFailure,
            errors.DeadlockDetected,
        ):
            if attempt == 5:
                raise
            time.sleep(0.2 * attempt)
    return ReaderResult(
        role=READER,
        created=created,
        password_source=source,
        password_file=str(password_file(home)) if source != "LLMTEL_READER_PASSWORD" else None,
        warnings=warnings,
    )


def _apply_reader(target: Target, password: str) -> tuple[bool, list[str]]:
    warnings: list[str] = []
    with connect(target, autocommit=True) as conn:
        owner = conn.execute("select current_user").fetchone()[0]  # type: ignore[index]
        database = conn.info.dbname
        exists = conn.execute("select 1 from pg_roles where rolname = %s", [READER]).fetchone() is not None
        try:
            with conn.transaction():
                if not exists:
                    conn.execute(sql.SQL("create role {} login").format(sql.Identifier(READER)))
                conn.execute(sql.SQL("alter role {} password {}").format(sql.Identifier(READER), sql.Literal(password)))
                for statement in _statements(owner, database):
                    _run_hardening(conn, statement, warnings)
        except errors.InsufficientPrivilege as exc:
            raise DatabaseError(
                f"cannot create or alter role {READER} ({exc.diag.message_primary})",
                fix="connect as a role with CREATEROLE (or a superuser) for the load",
            ) from None
    return not exists, warnings


def _statements(owner: str, database: str) -> list[sql.Composed]:
    text = resources.files("llmtelemetry.warehouse").joinpath("sql/reader_role.sql").read_text("utf-8")
    body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--"))
    values = {
        "reader": sql.Identifier(READER),
        "database": sql.Identifier(database),
        "owner": sql.Identifier(owner),
        "statement_timeout": sql.Literal(STATEMENT_TIMEOUT),
        "connection_limit": sql.Literal(CONNECTION_LIMIT),
    }
    return [sql.SQL(part.strip()).format(**values) for part in re.split(r";\s*\n", body) if part.strip().rstrip(";")]


def _run_hardening(conn: psycopg.Connection[Any], statement: sql.Composed, warnings: list[str]) -> None:
    """Run one statement; a hardening step we lack the privilege for becomes a warning."""
    try:
        with conn.transaction():
            conn.execute(statement)
    except errors.InsufficientPrivilege as exc:
        text = statement.as_string(conn).split("\n")[0]
        warnings.append(f"{exc.diag.message_primary} while running: {text}")
