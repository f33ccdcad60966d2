"""`llmtel site build`: the static site of the Compose stack (landing page + dbt docs)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from llmtelemetry.cli._options import Dsn, Json
from llmtelemetry.cli._output import emit_json, stdout_console
from llmtelemetry.settings import get_settings
from llmtelemetry.warehouse.connection import resolve_target

site_app = typer.Typer(help="The static site served by nginx in the Compose stack.", no_args_is_help=True)


@site_app.command("build")
def build_command(
    out: Annotated[Path, typer.Argument(help="Directory to write the site to (created if needed).")],
    dsn: Dsn = None,
    json_output: Json = False,
) -> None:
    """Write the landing page (headline figures read as portfolio_reader, the architecture, the
    public Metabase dashboard if `metabase.json` is in OUT) and the dbt docs catalogue to OUT/dbt/.

    Every page loads its assets from the site itself: no fonts, scripts or trackers from elsewhere.
    """
    from llmtelemetry.forecaster.data import reader_target  # pandas: load it only here
    from llmtelemetry.site import build_site

    settings = get_settings()
    target = resolve_target(settings, dsn)
    configured = settings.reader_password.get_secret_value() if settings.reader_password else None
    files = build_site(out, target, settings.home, reader_target(target, settings.home, configured))
    if json_output:
        emit_json({"command": "site build", "out": str(out), "files": files})
        return
    stdout_console().print(f"site written to {out}: {', '.join(files)}")
