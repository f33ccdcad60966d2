"""`llmtel metabase provision`: the executive dashboard in Metabase, from cards.yml, idempotently."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from psycopg import conninfo

from llmtelemetry.cli._options import Dsn, Json
from llmtelemetry.cli._output import emit_json, stderr_console, stdout_console
from llmtelemetry.errors import ParameterError
from llmtelemetry.settings import get_settings
from llmtelemetry.warehouse.connection import resolve_target
from llmtelemetry.warehouse.roles import READER, reader_password

metabase_app = typer.Typer(help="Provision Metabase (the Compose stack's BI tool).", no_args_is_help=True)


@metabase_app.command("provision")
def provision_command(
    url: Annotated[
        str | None, typer.Option(help="Metabase's address, reachable from here. Default: LLMTEL_METABASE_URL.")
    ] = None,
    public_url: Annotated[
        str | None,
        typer.Option(help="Address public links start with. Default: LLMTEL_METABASE_PUBLIC_URL, else --url."),
    ] = None,
    dsn: Dsn = None,
    warehouse_host: Annotated[
        str | None, typer.Option(help="Warehouse host as Metabase sees it. Default: the DSN's host.")
    ] = None,
    warehouse_port: Annotated[int | None, typer.Option(help="Warehouse port as Metabase sees it.")] = None,
    warehouse_db: Annotated[str | None, typer.Option(help="Warehouse database name. Default: the DSN's.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the plan; change nothing.")] = False,
    wait: Annotated[float, typer.Option(help="Seconds to wait for Metabase to become healthy.")] = 300.0,
    out: Annotated[
        Path | None, typer.Option(help="Also write the public URLs to this JSON file (read by `llmtel site build`).")
    ] = None,
    json_output: Json = False,
) -> None:
    """Complete Metabase's first-time setup if needed, register the warehouse (as portfolio_reader),
    create or update the cards of cards.yml and the executive dashboard, enable public sharing,
    and print the public URL and an iframe snippet. A second run changes nothing.

    The administrator comes from LLMTEL_METABASE_ADMIN_EMAIL and LLMTEL_METABASE_ADMIN_PASSWORD.
    """
    from llmtelemetry.dashboards import load_dashboard
    from llmtelemetry.dashboards.metabase import Admin, HttpApi, Warehouse, ensure_setup, provision, wait_until_healthy

    settings = get_settings()
    if settings.metabase_admin_password is None:
        raise ParameterError(
            "LLMTEL_METABASE_ADMIN_PASSWORD is not set",
            fix="set it (and LLMTEL_METABASE_ADMIN_EMAIL) in the environment or .env",
        )
    base = url or settings.metabase_url
    target = resolve_target(settings, dsn)
    params = conninfo.conninfo_to_dict(target.dsn)
    host = warehouse_host or str(params.get("host") or "localhost")
    if host.startswith("/"):
        raise ParameterError(
            "the warehouse is reached over a Unix socket, which Metabase cannot use",
            fix="pass --warehouse-host (and --warehouse-port) as Metabase sees the server",
        )
    configured = settings.reader_password.get_secret_value() if settings.reader_password else None
    warehouse = Warehouse(
        host=host,
        port=warehouse_port or int(params.get("port") or 5432),
        dbname=warehouse_db or str(params.get("dbname") or "postgres"),
        user=READER,
        password=reader_password(settings.home, configured)[0],
    )
    admin = Admin(settings.metabase_admin_email, settings.metabase_admin_password.get_secret_value())
    wait_until_healthy(base, timeout=wait)
    api = HttpApi(base)
    if not dry_run and ensure_setup(api, admin):
        stderr_console().print("metabase: first-time setup done")
    api.login(admin)
    result = provision(
        api, load_dashboard(), warehouse, public_url or settings.metabase_public_url or base, dry_run=dry_run
    )
    summary = {
        "command": "metabase provision",
        "url": base,
        "applied": result.applied,
        "actions": [a.describe() for a in result.actions],
        "dashboard_id": result.dashboard_id,
        "public_url": result.public_url,
        "iframe": result.iframe(),
    }
    if out is not None and not dry_run:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps({k: summary[k] for k in ("public_url", "iframe", "dashboard_id")}, indent=2), "utf-8")
    if json_output:
        emit_json(summary)
        return
    console = stdout_console()
    if not result.actions:
        console.print("metabase: up to date, nothing to change")
    for action in result.actions:
        console.print(f"{'would ' if dry_run else ''}{action.describe()}")
    if result.public_url:
        console.print(f"public dashboard: {result.public_url}")
        console.print(f"embed: {result.iframe()}")
