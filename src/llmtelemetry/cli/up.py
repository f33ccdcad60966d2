"""`llmtel up`: the whole pipeline (generate -> load -> transform -> verify), then the app."""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

from llmtelemetry.cli._options import Dsn, Json, Rows, Seed
from llmtelemetry.cli._output import emit_json, progress_enabled, stderr_console, stdout_console
from llmtelemetry.cli.serve import serve_app
from llmtelemetry.cli.transform import report_failed_nodes
from llmtelemetry.cli.verify import report_failed_checks
from llmtelemetry.errors import CheckFailed, ParameterError
from llmtelemetry.generator import GenerateConfig
from llmtelemetry.pipeline import STAGES, UpResult, run_up
from llmtelemetry.serve import app_url, ensure_port_free, streamlit_command
from llmtelemetry.settings import get_settings
from llmtelemetry.warehouse.connection import resolve_target

HOST = "127.0.0.1"
_LABELS = {"load": "generate + load", "transform": "transform (dbt)", "verify": "verify"}


def up_command(
    dsn: Dsn = None,
    seed: Seed = 42,
    rows: Rows = 500_000,
    no_serve: Annotated[
        bool, typer.Option("--no-serve", help="Stop after verify; start no app and leave no server running.")
    ] = False,
    port: Annotated[int, typer.Option(help="Port for the app.")] = 8501,
    force: Annotated[bool, typer.Option("--force", help="Run every stage, even those that are up to date.")] = False,
    compose: Annotated[
        bool,
        typer.Option(
            "--compose",
            help="Start the self-hosted Docker Compose stack instead (traefik, PostgreSQL, Metabase, "
            "the app, the static site); needs Docker with the Compose plugin.",
        ),
    ] = False,
    domain: Annotated[
        str, typer.Option(help="With --compose: the stack's domain, written to a new env file.")
    ] = "localhost",
    email: Annotated[
        str, typer.Option(help="With --compose: ACME (Let's Encrypt) and Metabase admin e-mail for a new env file.")
    ] = "admin@example.com",
    wheel: Annotated[
        Path | None,
        typer.Option(help="With --compose: install this llmtelemetry wheel in the image instead of PyPI's."),
    ] = None,
    json_output: Json = False,
) -> None:
    """Generate, load, transform and verify the warehouse, then serve the app (Ctrl-C stops it).

    Stages whose inputs have not changed since they last ran on this database are skipped and
    said so: run it again and it only checks. With no --dsn and no LLMTEL_DSN it uses the
    embedded PostgreSQL, which stops again when `up` ends.
    """
    config = GenerateConfig(seed=seed, rows=rows)  # bad values: exit 2 before any work
    if compose:
        if dsn:
            raise ParameterError("--dsn cannot be used with --compose (the stack runs its own PostgreSQL)")
        _compose_up(config, domain, email, wheel, json_output)
        return
    command = None if no_serve else streamlit_command(HOST, port, "")
    if command is not None:
        ensure_port_free(HOST, port)  # before minutes of work, not after
    settings = get_settings()
    target = resolve_target(settings, dsn)
    with _stage_display() as display:
        try:
            result = run_up(
                settings,
                target,
                config,
                force=force,
                on_stage=display.stage,
                progress=display.rows,
                on_node=display.node,
            )
        except CheckFailed as exc:
            display.fail()
            failed_build, report = getattr(exc, "result", None), getattr(exc, "report", None)
            if failed_build is not None:
                report_failed_nodes(failed_build)
            if report is not None:
                report_failed_checks(report)
            raise
    for warning in result.reader_warnings:
        stderr_console().print(f"warning: {warning}")
    url = None if command is None else app_url(HOST, port, "")
    if json_output:
        emit_json({"command": "up", **result.to_dict(), "app_url": url})
    else:
        _summary(result, url)
    if command is not None and url is not None:
        serve_app(settings, target, command, url, HOST, port, stdout=sys.stderr)


def _compose_up(config: GenerateConfig, domain: str, email: str, wheel: Path | None, json_output: bool) -> None:
    from llmtelemetry import stack

    compose_version = stack.require_docker()  # exit 1 with error/fix before anything is written
    prepared = stack.prepare(get_settings().home, domain=domain, email=email, wheel=wheel)
    err = stderr_console()
    err.print(
        f"compose {compose_version}: starting the stack from {prepared.directory}"
        + (f" (new env file {prepared.env_file}, mode 600)" if prepared.env_created else "")
    )
    env = stack.parse_env(prepared.env_file.read_text("utf-8"))
    if (env.get("LLMTEL_ROWS"), env.get("LLMTEL_SEED")) != (str(config.rows), str(config.seed)):
        err.print(f"note: the stack generates LLMTEL_ROWS/LLMTEL_SEED from {prepared.env_file}")
    err.print("building the image, then waiting for the pipeline, Metabase and the health checks (minutes)")
    links = stack.up_stack(prepared.directory)
    site = f"https://{env.get('LLMTEL_DOMAIN', domain)}/"
    summary = {
        "command": "up",
        "compose": True,
        "directory": str(prepared.directory),
        "site": site,
        "forecaster": site + "forecaster/",
        "dbt_docs": site + "dbt/",
        "public_dashboard": links.get("public_url"),
    }
    if json_output:
        emit_json(summary)
        return
    out = stdout_console()
    out.print("llmtel up --compose: the stack is up")
    for key in ("site", "forecaster", "dbt_docs", "public_dashboard"):
        out.print(f"  {key.replace('_', ' '):<17} {summary[key]}")
    out.print(f"  {'stop it with':<17} llmtel down --compose")


def _summary(result: UpResult, url: str | None) -> None:
    out = stdout_console()
    where = "the embedded PostgreSQL" if result.embedded else result.target
    if result.changed:
        out.print(f"llmtel up: the warehouse is ready on {where}")
    else:
        out.print(f"llmtel up: nothing changed, the warehouse on {where} is up to date (--force rebuilds)")
    for stage in result.stages:
        timing = f"{stage.seconds:6.1f} s" if stage.ran else "skipped "
        out.print(f"  {stage.name:<10} {timing}  {_stage_text(result, stage.name) if stage.ran else stage.reason}")
    out.print(
        f"  {'warehouse':<10} {result.rows:,} requests (seed {result.config.seed}), "
        f"{result.tests_passed} dbt tests and {result.checks_passed} of {result.checks} checks passed"
    )
    out.print(f"  {'reader':<10} {result.reader_role}, password in {result.reader_password}")
    out.print(f"  {'app':<10} {url or 'not started (--no-serve); `llmtel serve` starts it'}")


def _stage_text(result: UpResult, name: str) -> str:
    stage = next(s for s in result.stages if s.name == name)
    detail = stage.detail
    if name == "load":
        return f"{detail['tables']['api_requests']:,} rows generated and loaded ({detail['rows_per_second']:,} rows/s)"
    if name == "transform":
        return f"{detail['models']} models, {detail['tests_passed']} tests passed"
    return f"{detail['checks'] - len(detail['failed'])} of {detail['checks']} checks passed"


class _StageDisplay:
    """One progress display for the whole run: a line per stage with its rows or nodes and time.

    At a terminal it is a live rich display on stderr; elsewhere (pipes, CI logs) one plain
    line per stage event.
    """

    def __init__(self, progress: Progress | None) -> None:
        self._progress = progress
        self._tasks: dict[str, TaskID] = {}
        self._current: str | None = None
        self._nodes = 0
        self._started = 0.0
        if progress is not None:
            for name in STAGES:
                self._tasks[name] = progress.add_task(_LABELS[name], total=None, start=False, status="waiting")

    def stage(self, name: str, event: str, message: str) -> None:
        if self._progress is None:
            if event == "start":
                self._started = time.perf_counter()
                stderr_console().print(f"up: {name}: running ({message})")
            elif event == "done":
                stderr_console().print(f"up: {name}: {message} in {time.perf_counter() - self._started:.1f} s")
            else:
                stderr_console().print(f"up: {name}: skipped, {message}")
            return
        task = self._tasks[name]
        if event == "start":
            self._current, self._nodes = name, 0
            self._progress.start_task(task)
            self._progress.update(task, status=message)
        elif event == "done":
            self._progress.update(task, total=1, completed=1, status=message)
        else:
            self._progress.update(task, total=1, completed=1, status=f"skipped: {message}")

    def rows(self, table: str, done: int, total: int) -> None:
        if self._progress is None:
            return
        task = self._tasks["load"]
        if table == "api_requests":
            self._progress.update(task, total=total, completed=done, status=f"{done:,} / {total:,} rows")
        else:
            self._progress.update(task, status=f"{table}: {done:,} rows")

    def node(self, kind: str, name: str, status: str, seconds: float, message: str) -> None:
        if self._progress is None or kind == "exposure":
            return
        self._nodes += 1
        self._progress.update(self._tasks["transform"], status=f"{self._nodes} nodes done, last: {kind} {name}")

    def fail(self) -> None:
        if self._progress is not None and self._current is not None:
            self._progress.stop_task(self._tasks[self._current])


@contextlib.contextmanager
def _stage_display() -> Iterator[_StageDisplay]:
    if not progress_enabled():
        yield _StageDisplay(None)
        return
    progress = Progress(
        SpinnerColumn(finished_text="✓"),
        TextColumn("[bold]{task.description:<16}"),
        BarColumn(bar_width=24),
        TimeElapsedColumn(),
        TextColumn("{task.fields[status]}"),
        console=stderr_console(),
    )
    with progress:
        yield _StageDisplay(progress)
