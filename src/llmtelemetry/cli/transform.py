"""`llmtel transform`: build the packaged dbt project (staging views, star and snowflake schemas)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated

import typer

from llmtelemetry.cli._options import Dsn, Json
from llmtelemetry.cli._output import emit_json, progress_enabled, stderr_console, stdout_console
from llmtelemetry.dbt_runner import TransformResult, failure, generate_docs
from llmtelemetry.pipeline import run_transform
from llmtelemetry.settings import get_settings
from llmtelemetry.warehouse.connection import resolve_target

_MARK = {"success": "ok", "pass": "ok", "warn": "warn", "skipped": "skip", "error": "ERROR", "fail": "FAIL"}


def transform_command(
    dsn: Dsn = None,
    select: Annotated[
        str | None,
        typer.Option(
            help="What to build: star, snowflake or staging (with what they need upstream), "
            "or any dbt selector. Default: everything."
        ),
    ] = None,
    full_refresh: Annotated[bool, typer.Option("--full-refresh", help="Rebuild from scratch.")] = False,
    docs: Annotated[
        Path | None,
        typer.Option(
            "--docs",
            help="Also write the static dbt docs site (index.html) to this directory.",
            show_default=False,
        ),
    ] = None,
    json_output: Json = False,
) -> None:
    """Run `dbt build` on the packaged project: models, seeds, data tests and unit tests.

    Staging views land in public_staging, the star schema in public_star, the snowflake schema
    in public_snowflake; the marts are readable by portfolio_reader. Exits 1 naming every
    failing model or test.
    """
    err = stderr_console()
    show = progress_enabled()

    def on_node(kind: str, name: str, status: str, seconds: float, message: str) -> None:
        if show and kind != "exposure":
            err.print(f"{_MARK.get(status, status):>5}  {kind:<9} {name}  [{seconds:.2f}s]")

    settings = get_settings()
    target = resolve_target(settings, dsn)
    result = run_transform(settings, target, select=select, full_refresh=full_refresh, on_node=on_node, check=False)
    summary = {"command": "transform", "target": target.display, "select": select, **result.summary()}
    if result.failed:
        report_failed_nodes(result)
        if json_output:
            summary["failed"] = [dataclasses.asdict(n) for n in result.failed]
            emit_json(summary)
        raise failure(result)
    if docs is not None:
        summary["docs"] = {"dir": str(docs), "files": generate_docs(target, settings.home, docs)}
    if json_output:
        emit_json(summary)
        return
    out = stdout_console()
    out.print(
        f"dbt build: {summary['models']} models, {summary['seeds']} seeds, {summary['tests_passed']} tests "
        f"passed ({summary['unit_tests']} unit tests), {summary['tests_failed']} failed "
        f"in {summary['seconds']:.1f} s on {target.display}"
    )
    if docs is not None:
        out.print(f"docs written to {docs}/index.html")


def report_failed_nodes(result: TransformResult) -> None:
    """One `error:` line per failed model or test, with its compiled SQL."""
    err = stderr_console()
    for node in result.failed:
        where = f" (compiled SQL: {node.compiled_path})" if node.compiled_path else ""
        err.print(f"error: {node.kind} {node.name} {node.status}: {_reason(node.message)}{where}")


def _reason(message: str) -> str:
    """The informative line of a dbt message ("Database Error in model x" says little)."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    useful = [line for line in lines if not line.startswith(("Database Error in", "compiled code at"))]
    return (useful or lines or ["no message"])[0]
