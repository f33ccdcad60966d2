"""The static site of the Compose stack: a landing page and the dbt docs catalogue.

`build_site(out, target, home)` writes:

- `index.html`, `site.css`, `architecture.svg`, `favicon.svg`: what the stack is, headline figures
  read from the marts as portfolio_reader, the public Metabase dashboard (an iframe, when
  `metabase.json` from `llmtel metabase provision` is in `out`) and a link to the forecaster;
- `dbt/index.html`: dbt's static docs site (one self-contained file).

Everything is served from the site's own origin: system fonts, no scripts, no CDN.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import shutil
import string
import tempfile
from importlib import resources
from pathlib import Path
from typing import Any

from llmtelemetry import __version__
from llmtelemetry.errors import OutputError
from llmtelemetry.warehouse.connection import Target, connect

ASSETS = ("site.css", "architecture.svg", "favicon.svg")
METABASE_RECORD = "metabase.json"


def _asset(name: str) -> str:
    return resources.files("llmtelemetry.site").joinpath(name).read_text("utf-8")


def headline_figures(reader: Target) -> dict[str, Any]:
    """The executive dashboard's key figures (its `kpis` card), as portfolio_reader."""
    from llmtelemetry.dashboards import load_dashboard, run_card

    card = next(c for c in load_dashboard().cards if c.id == "kpis")
    with connect(reader) as conn:
        row: dict[str, Any] = run_card(conn, card).iloc[0].to_dict()
    return row


def render_index(figures: dict[str, Any], *, seed: int | None, public_dashboard: str | None) -> str:
    """The landing page's HTML (pure: figures in, HTML out)."""
    if public_dashboard:
        dashboard = (
            f'<iframe src="{html.escape(public_dashboard)}" title="Executive dashboard" loading="lazy"></iframe>'
        )
    else:
        dashboard = (
            '<p class="note">The public Metabase dashboard appears here once it is provisioned '
            "(<code>llmtel up --compose</code> does it).</p>"
        )
    values = {
        "requests": f"{int(figures['requests']):,}",
        "tokens": f"{int(figures['tokens']):,}",
        "cost": f"${float(figures['cost_usd']):,.2f}",
        "users": f"{int(figures['active_users']):,}",
        "error_rate": f"{float(figures['error_rate']):.2%}",
        "rate_limited": f"{float(figures['rate_limited_rate']):.2%}",
        "flagged": f"{float(figures['safety_flag_rate']):.2%}",
        "seed": "?" if seed is None else str(seed),
        "version": html.escape(__version__),
        "built_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "dashboard": dashboard,
    }
    return string.Template(_asset("index.html")).substitute(values)


def public_dashboard_url(out: Path) -> str | None:
    """The public dashboard's URL from the provisioning record in `out`, as a same-origin path."""
    record = out / METABASE_RECORD
    if not record.exists():
        return None
    try:
        url = json.loads(record.read_text("utf-8")).get("public_url")
    except ValueError:
        return None
    if not isinstance(url, str) or "/public/dashboard/" not in url:
        return None
    return "/public/dashboard/" + url.split("/public/dashboard/", 1)[1]


def build_site(out: Path, target: Target, home: Path, reader: Target) -> list[str]:
    """Write the site into `out` (created if needed); returns the files written, relative to it."""
    from llmtelemetry.dbt_runner import generate_docs
    from llmtelemetry.warehouse.load import latest_load

    out = Path(out)
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out} exists and is not a directory", fix="choose another directory")
    out.mkdir(parents=True, exist_ok=True)
    with connect(target) as conn:
        loaded = latest_load(conn)
    figures = headline_figures(reader)
    seed = loaded.parameters.get("seed") if loaded else None
    page = render_index(figures, seed=seed, public_dashboard=public_dashboard_url(out))
    with tempfile.TemporaryDirectory(prefix="llmtel-docs-") as scratch:
        generate_docs(target, home, Path(scratch))
        (out / "dbt").mkdir(exist_ok=True)
        shutil.copyfile(Path(scratch) / "static_index.html", out / "dbt" / "index.html.partial")
    (out / "dbt" / "index.html.partial").replace(out / "dbt" / "index.html")
    for name in ASSETS:
        (out / name).write_text(_asset(name), "utf-8")
    (out / "index.html.partial").write_text(page, "utf-8")
    (out / "index.html.partial").replace(out / "index.html")
    return ["index.html", *ASSETS, "dbt/index.html"]
