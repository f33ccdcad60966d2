"""`llmtel db`: the embedded PostgreSQL server's lifecycle."""

from __future__ import annotations

import typer

from llmtelemetry.cli._options import Json
from llmtelemetry.cli._output import emit_json, stdout_console
from llmtelemetry.settings import get_settings
from llmtelemetry.warehouse import embedded

db_app = typer.Typer(
    help="Manage the embedded PostgreSQL server (used when no --dsn or LLMTEL_DSN is set).",
    no_args_is_help=True,
)


@db_app.command("start")
def start_command(json_output: Json = False) -> None:
    """Start the embedded server and keep it running until `llmtel db stop`.

    Without it, commands start the server themselves and the last one to finish stops it.
    """
    home = get_settings().home
    target = embedded.keep_running(home)
    info = embedded.status(home)
    if json_output:
        emit_json({"command": "db start", "dsn": target.display, **info})
        return
    stdout_console().print(f"embedded PostgreSQL {info['postgres_major']} is running; connect with:\n{target.display}")


@db_app.command("stop")
def stop_command(json_output: Json = False) -> None:
    """Stop the embedded server now (commands using it will lose their connection)."""
    was_running = embedded.stop(get_settings().home)
    if json_output:
        emit_json({"command": "db stop", "was_running": was_running})
        return
    stdout_console().print("stopped the embedded server" if was_running else "the embedded server was not running")


@db_app.command("status")
def status_command(json_output: Json = False) -> None:
    """Show whether the embedded server runs, where its data lives and who uses it."""
    info = embedded.status(get_settings().home)
    if json_output:
        emit_json({"command": "db status", **info})
        return
    out = stdout_console()
    state = "running" if info["running"] else "stopped"
    out.print(f"embedded PostgreSQL: {state}" + (" (kept by `llmtel db start`)" if info["kept"] else ""))
    out.print(f"data: {info['pgdata']} (initialised: {'yes' if info['initialised'] else 'no'})")
    if info["running"]:
        out.print(
            f"socket: {info['socket_dir']}  pid: {info['pid']}  in use by {len(info['leases'])} llmtel process(es)"
        )
