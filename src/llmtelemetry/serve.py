"""Launching the packaged Streamlit app: a pure function builds the command, subprocess runs it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from importlib import resources
from pathlib import Path

from llmtelemetry.errors import ParameterError


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


def run_app(command: list[str], reader_dsn: str) -> int:
    """Run Streamlit until it exits or Ctrl-C; the reader's DSN travels in the environment only."""
    env = {**os.environ, "LLMTEL_APP_DSN": reader_dsn, "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
    process = subprocess.Popen(command, env=env)
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
