"""Shared by the benchmark scripts: run a command as a fresh process and measure it."""

from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
import time
from collections.abc import Iterator

import psycopg
from psycopg import conninfo


def run_tracked(command: list[str]) -> tuple[str, float, float]:
    """(stdout, wall seconds, peak RSS in MiB) of a command; its peak RSS comes from the kernel (wait4)."""
    with tempfile.TemporaryFile("w+") as errors:
        started = time.perf_counter()
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors, text=True)
        assert proc.stdout is not None
        out = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            errors.seek(0)
            raise SystemExit(f"{' '.join(command[:5])} failed:\n{errors.read()}")
    return out, wall, usage.ru_maxrss / 1024  # ru_maxrss is KiB on Linux


@contextlib.contextmanager
def scratch_database(admin_dsn: str, name: str) -> Iterator[str]:
    """A fresh database `name` (one left by an interrupted run is replaced) on the server of
    `admin_dsn`; yields its DSN and drops it afterwards."""
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f"drop database if exists {name} with (force)")
        conn.execute(f"create database {name}")
    try:
        yield conninfo.make_conninfo(admin_dsn, dbname=name)
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(f"drop database if exists {name} with (force)")
