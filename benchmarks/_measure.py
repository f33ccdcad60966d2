"""Shared by the benchmark scripts: run a command as a fresh process and measure it."""

from __future__ import annotations

import os
import subprocess
import tempfile
import time


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
