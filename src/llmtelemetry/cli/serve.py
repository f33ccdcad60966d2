"""`llmtel serve`: the Streamlit app (Token Forecaster and executive overview)."""

from __future__ import annotations

from typing import Annotated, TextIO

import typer

from llmtelemetry.cli._options import Dsn
from llmtelemetry.cli._output import stderr_console
from llmtelemetry.errors import LlmtelError
from llmtelemetry.serve import app_url, ensure_port_free, run_app, streamlit_command
from llmtelemetry.settings import Settings, get_settings
from llmtelemetry.warehouse.connection import Target, connect, resolve_target


def serve_command(
    dsn: Dsn = None,
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8501,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    base_url_path: Annotated[str, typer.Option(help="Serve under this URL path, e.g. /forecaster.")] = "",
) -> None:
    """Start the Streamlit app, reading the marts as portfolio_reader; Ctrl-C stops it."""
    command = streamlit_command(host, port, base_url_path)
    settings = get_settings()
    serve_app(settings, resolve_target(settings, dsn), command, app_url(host, port, base_url_path), host, port)


def serve_app(
    settings: Settings,
    target: Target,
    command: list[str],
    url: str,
    host: str,
    port: int,
    *,
    stdout: TextIO | None = None,
) -> None:
    """Check the reader can connect and the port is free, then run the app until Ctrl-C."""
    from llmtelemetry.forecaster.data import reader_target  # pandas: load it only here

    configured = settings.reader_password.get_secret_value() if settings.reader_password else None
    reader = reader_target(target, settings.home, configured)
    with connect(reader):  # fail now, in one line, rather than inside the app
        pass
    ensure_port_free(host, port)
    stderr_console().print(f"llmtel app: {url}  (Ctrl-C to stop)")
    code = run_app(command, reader.dsn, stdout=stdout)
    if code not in (0, -2):
        raise LlmtelError(f"streamlit exited with code {code}", fix="run again with --debug")
