"""The one place that opens database connections: targets, timeouts and readable errors."""

from __future__ import annotations

import contextlib
import dataclasses
import re
from collections.abc import Iterator
from typing import Any

import psycopg
from psycopg import conninfo

from llmtelemetry.errors import DatabaseError, ParameterError
from llmtelemetry.settings import Settings, mask_dsn

#: Seconds to wait for a server before giving up (libpq's connect_timeout).
CONNECT_TIMEOUT = 10
MIN_SERVER_VERSION = 150000


@dataclasses.dataclass(frozen=True)
class Target:
    """Where to connect: the DSN (secret) and how to show it."""

    dsn: str
    embedded: bool = False

    @property
    def display(self) -> str:
        return mask_dsn(self.dsn)

    def where(self) -> str:
        """host:port (or the socket directory) for messages."""
        params = conninfo.conninfo_to_dict(self.dsn)
        host = str(params.get("host") or "localhost")
        port = str(params.get("port") or "5432")
        return host if host.startswith("/") else f"{host}:{port}"

    def with_database(self, dbname: str) -> Target:
        return dataclasses.replace(self, dsn=conninfo.make_conninfo(self.dsn, dbname=dbname))

    def with_user(self, user: str, password: str | None) -> Target:
        return dataclasses.replace(self, dsn=conninfo.make_conninfo(self.dsn, user=user, password=password))


def resolve_target(settings: Settings, dsn: str | None = None) -> Target:
    """The --dsn option, else LLMTEL_DSN, else the embedded server (started if needed)."""
    chosen = dsn or (settings.dsn.get_secret_value() if settings.dsn else None)
    if chosen:
        try:
            conninfo.conninfo_to_dict(chosen)
        except psycopg.ProgrammingError as exc:
            raise ParameterError(
                f"--dsn is not a valid connection string ({_first_line(exc)})",
                fix="use a URL like postgresql://user:password@host:5432/dbname",
                param="dsn",
            ) from None
        return Target(chosen)
    from llmtelemetry.warehouse.embedded import embedded_target

    return embedded_target(settings.home)


@contextlib.contextmanager
def connect(target: Target, **kwargs: Any) -> Iterator[psycopg.Connection[Any]]:
    """Open a connection with a bounded connect time; errors become DatabaseError."""
    try:
        conn = psycopg.connect(
            target.dsn,
            connect_timeout=CONNECT_TIMEOUT,
            application_name="llmtel",
            **kwargs,
        )
    except psycopg.OperationalError as exc:
        raise connection_error(target, exc) from None
    try:
        yield conn
    finally:
        conn.close()


def connection_error(target: Target, exc: BaseException) -> DatabaseError:
    """A one-line reason with a fix for a failed connection attempt."""
    text = _first_line(exc)
    user = conninfo.conninfo_to_dict(target.dsn).get("user") or "the user"
    if "password authentication failed" in text or "no password supplied" in text:
        return DatabaseError(
            f"wrong password for {user} at {target.where()}",
            fix="check the password in --dsn or LLMTEL_DSN (it was tried once)",
        )
    if re.search(r'database ".*" does not exist', text):
        return DatabaseError(f"{text} at {target.where()}", fix="create the database, or name another in the DSN")
    if re.search(r'role ".*" does not exist', text):
        return DatabaseError(f"{text} at {target.where()}", fix="check the user name in the DSN")
    if "timeout expired" in text:
        reason = f"no answer within {CONNECT_TIMEOUT} s"
    elif "Connection refused" in text:
        reason = "connection refused"
    elif "could not translate host name" in text or "Name or service not known" in text:
        reason = "unknown host"
    elif "No such file or directory" in text:
        reason = "no server socket there"
    else:
        reason = text
    fix = (
        "the embedded server did not answer; run `llmtel db stop`, then try again"
        if target.embedded
        else "start PostgreSQL or correct --dsn / LLMTEL_DSN; leave both unset to use the embedded server"
    )
    return DatabaseError(f"cannot reach {target.where()} ({reason})", fix=fix)


def check_server(conn: psycopg.Connection[Any], target: Target) -> int:
    """The server version number; refuses servers older than PostgreSQL 15."""
    version = conn.info.server_version
    if version < MIN_SERVER_VERSION:
        raise DatabaseError(
            f"{target.where()} runs PostgreSQL {version // 10000}; llmtel needs 15 or newer",
            fix="point --dsn at PostgreSQL 15+, or leave it unset to use the embedded server",
        )
    return version


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    # libpq prefixes "connection to server at ... failed:"; keep the reason after it.
    text = lines[0] if lines else type(exc).__name__
    return re.sub(r"^connection to server (at|on) .*? failed: ", "", text)
