"""`llmtel down`: stop what `llmtel up` started."""

from __future__ import annotations

from typing import Annotated

import typer

from llmtelemetry.cli._options import Json
from llmtelemetry.cli._output import emit_json, stdout_console
from llmtelemetry.settings import get_settings


def down_command(
    compose: Annotated[
        bool, typer.Option("--compose", help="Stop the Docker Compose stack (`llmtel up --compose`).")
    ] = False,
    volumes: Annotated[
        bool, typer.Option("--volumes", help="With --compose: also delete the stack's volumes (all its data).")
    ] = False,
    json_output: Json = False,
) -> None:
    """Stop the embedded PostgreSQL server, or with --compose the Compose stack (data is kept
    unless --volumes)."""
    home = get_settings().home
    if compose:
        from llmtelemetry import stack

        stack.require_docker()
        directory = stack.stack_dir(home)
        if not (directory / "compose.yaml").exists():
            if json_output:
                emit_json({"command": "down", "compose": True, "was_running": False})
                return
            stdout_console().print(f"no stack was started from {directory}")
            return
        stack.down_stack(directory, volumes=volumes)
        if json_output:
            emit_json({"command": "down", "compose": True, "volumes_deleted": volumes})
            return
        stdout_console().print("stopped the Compose stack" + (" and deleted its volumes" if volumes else ""))
        return
    from llmtelemetry.warehouse import embedded

    was_running = embedded.stop(home)
    if json_output:
        emit_json({"command": "down", "compose": False, "was_running": was_running})
        return
    stdout_console().print("stopped the embedded server" if was_running else "the embedded server was not running")
