"""`llmtel verify`: check the data against the spec and the warehouse against itself."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from llmtelemetry.cli._options import Dsn, Json
from llmtelemetry.cli._output import emit_json, stderr_console, stdout_console
from llmtelemetry.errors import CheckFailed
from llmtelemetry.pipeline import verify

if TYPE_CHECKING:
    from llmtelemetry.verification import VerifyReport


def verify_command(
    dsn: Dsn = None,
    source_dir: Annotated[
        Path | None,
        typer.Option(
            "--from",
            help="Check a directory written by `llmtel generate` instead (no database needed).",
            show_default=False,
        ),
    ] = None,
    dbt_test: Annotated[
        bool, typer.Option("--dbt-test", help="Run a fresh `dbt test` instead of reading the last build's results.")
    ] = False,
    json_output: Json = False,
) -> None:
    """Check every figure of the spec (with sample-size tolerances), reconciliation raw -> star ->
    snowflake, the dbt tests, and that portfolio_reader reads the marts and can write nothing.

    Exits 1 naming every failing check.
    """
    report = verify(dsn, source=source_dir, run_dbt_tests=dbt_test or None)
    if json_output:
        emit_json(report.to_dict())
    else:
        render_report(report)
    if not report.passed:
        report_failed_checks(report)
        raise CheckFailed(
            f"{len(report.failed)} of {len(report.checks)} checks failed", fix="the failing checks are named above"
        )


def report_failed_checks(report: VerifyReport) -> None:
    for check in report.failed:
        stderr_console().print(
            f"error: check failed: {check.name} (expected {check.expected}, observed {check.observed})"
        )


def render_report(report: VerifyReport) -> None:
    table = Table("check", "expected", "observed", "tolerance", "status", title=f"llmtel verify: {report.subject}")
    for check in report.checks:
        tolerance = "" if check.tolerance is None else str(check.tolerance)
        table.add_row(
            check.name, str(check.expected), str(check.observed), tolerance, "pass" if check.passed else "FAIL"
        )
    out = stdout_console()
    out.print(table)
    out.print(f"{sum(c.passed for c in report.checks)} of {len(report.checks)} checks passed")
