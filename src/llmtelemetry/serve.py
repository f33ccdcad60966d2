"""Launching the packaged Streamlit app: a pure function builds the command, subprocess runs it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from importlib import resources
from pathlib import Path
from typing import TextIO

from llmtelemetry.errors import LlmtelError, ParameterError


def app_path() -> Path:
    return Path(str(resources.files("llmtelemetry.forecaster").joinpath("app.py")))


def normalise_base_path(base_url_path: str) -> str:
    path = base_url_path.strip().strip("/")
    if any(c in path for c in " ?#\\"):
        raise ParameterError(
            f"--base-url-path must be a URL path like /forecaster, got {base_url_path!r}", param="base_url_path"
        )
    return path


def streamlit_command(host: str, port: int, base_url_path: str) -> list[str]:
    """The `streamlit run` command line: headless, no usage stats, XSRF on, no secrets in it."""
    if not 1 <= port <= 65535:
        raise ParameterError(f"--port must be between 1 and 65535, got {port}", param="port")
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(app_path()),
        "--server.headless=true",
        f"--server.address={host}",
        f"--server.port={port}",
        f"--server.baseUrlPath={normalise_base_path(base_url_path)}",
        "--server.enableXsrfProtection=true",
        "--server.fileWatcherType=none",
        "--browser.gatherUsageStats=false",
        "--global.developmentMode=false",
        "--client.toolbarMode=viewer",
        "--client.showErrorDetails=false",
    ]


def app_url(host: str, port: int, base_url_path: str) -> str:
    path = normalise_base_path(base_url_path)
    shown = "localhost" if host in ("127.0.0.1", "0.0.0.0", "::") else host
    return f"http://{shown}:{port}/{path + '/' if path else ''}"


def ensure_port_free(host: str, port: int) -> None:
    """Fail in one line now, rather than after Streamlit has started, if the port is taken."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise LlmtelError(
                f"cannot listen on {host}:{port} ({exc.strerror or exc})",
                fix=f"stop what uses port {port}, or choose another with --port",
            ) from None


def run_app(command: list[str], reader_dsn: str, *, stdout: TextIO | None = None) -> int:
    """Run Streamlit until it exits or Ctrl-C; the reader's DSN travels in the environment only.

    `stdout` redirects Streamlit's own messages (e.g. to stderr, keeping stdout for results).
    """
    env = {**os.environ, "LLMTEL_APP_DSN": reader_dsn, "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
    process = subprocess.Popen(command, env=env, stdout=stdout)
    try:
        return process.wait()
    except KeyboardInterrupt:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        raise
