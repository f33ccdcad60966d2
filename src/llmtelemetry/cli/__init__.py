"""The `llmtel` command: a thin Typer app over the library; one handler maps errors to exits.

Exit codes: 0 ok, 1 runtime failure, 2 bad usage or parameters, 130 interrupted (Ctrl-C),
143 or 129 stopped by SIGTERM or SIGHUP (which run the same clean-up as Ctrl-C).
Errors print as `error: ...` and, where there is one, `fix: ...`; tracebacks only with --debug.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import traceback
from collections.abc import Iterator
from types import FrameType
from typing import Annotated

import typer

from llmtelemetry import __version__
from llmtelemetry.cli.db import db_app
from llmtelemetry.cli.doctor import doctor_command
from llmtelemetry.cli.down import down_command
from llmtelemetry.cli.forecast import forecast_command
from llmtelemetry.cli.generate import generate_command
from llmtelemetry.cli.load import load_command
from llmtelemetry.cli.metabase import metabase_app
from llmtelemetry.cli.serve import serve_command
from llmtelemetry.cli.site import site_app
from llmtelemetry.cli.transform import transform_command
from llmtelemetry.cli.up import up_command
from llmtelemetry.cli.verify import verify_command
from llmtelemetry.errors import LlmtelError, ParameterError
from llmtelemetry.settings import get_settings

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

# Typer ships click's exception classes (vendored in recent releases, click's own before):
# reach them through a public name rather than a private module path.
_ClickUsageError: type[Exception] = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "UsageError")

app = typer.Typer(
    name="llmtel",
    help="A realistic LLM-usage analytics warehouse: generate, load, transform, verify, visualise.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"llmtel {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_show_version, is_eager=True, help="Show the version and exit."),
    ] = False,
    debug: Annotated[
        bool, typer.Option("--debug", envvar="LLMTEL_DEBUG", help="Show full tracebacks on errors.")
    ] = False,
) -> None:
    """llmtel: synthetic LLM API telemetry to a tested PostgreSQL warehouse and dashboards."""
    ctx.obj = {"debug": debug}


app.command("up")(up_command)
app.command("generate")(generate_command)
app.command("load")(load_command)
app.command("transform")(transform_command)
app.command("verify")(verify_command)
app.command("forecast")(forecast_command)
app.command("serve")(serve_command)
app.command("down")(down_command)
app.command("doctor")(doctor_command)
app.add_typer(db_app, name="db")
app.add_typer(site_app, name="site")
app.add_typer(metabase_app, name="metabase")


def _debug_requested(argv: list[str]) -> bool:
    """--debug on the command line, or LLMTEL_DEBUG in the environment or .env."""
    if "--debug" in argv:
        return True
    try:
        return get_settings().debug
    except Exception:  # broken settings are reported by the command that needs them
        return os.environ.get("LLMTEL_DEBUG", "").lower() in {"1", "true", "yes", "on"}


def _fail(message: str, fix: str | None, code: int) -> int:
    sys.stdout.flush()
    print(f"error: {message}", file=sys.stderr)
    if fix:
        print(f"fix: {fix}", file=sys.stderr)
    return code


def _option_name(exc: ParameterError) -> str:
    """Name the CLI option in a library parameter error (`rows must …` -> `--rows must …`)."""
    if exc.param and exc.message.startswith(exc.param):
        return "--" + exc.param.replace("_", "-") + exc.message[len(exc.param) :]
    return exc.message


@contextlib.contextmanager
def _signals_as_interrupts() -> Iterator[list[int]]:
    """SIGTERM and SIGHUP stop a command the way Ctrl-C does, so the same clean-up runs: the app
    and the embedded server stop, a load rolls back. Yields the signals caught. Only the main
    thread can set handlers; a signal already ignored (as under nohup) stays ignored."""
    caught: list[int] = []

    def interrupt(signum: int, frame: FrameType | None) -> None:
        caught.append(signum)
        raise KeyboardInterrupt

    previous = {}
    if threading.current_thread() is threading.main_thread():
        for stop in (signal.SIGTERM, signal.SIGHUP):
            if signal.getsignal(stop) is signal.SIG_DFL:
                previous[stop] = signal.signal(stop, interrupt)
    try:
        yield caught
    finally:
        for stop, handler in previous.items():
            signal.signal(stop, handler)


def _interrupted(caught: list[int]) -> int:
    if caught:
        return _fail(f"stopped by {signal.Signals(caught[0]).name}", None, 128 + caught[0])
    return _fail("interrupted", None, EXIT_INTERRUPTED)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit code (the console script exits with it)."""
    args = list(sys.argv[1:] if argv is None else argv)
    with _signals_as_interrupts() as caught:
        return _dispatch(args, caught)


def _dispatch(args: list[str], caught: list[int]) -> int:
    debug = _debug_requested(args)
    command = typer.main.get_command(app)
    try:
        result = command.main(args=args, prog_name="llmtel", standalone_mode=False)
        if result == EXIT_INTERRUPTED:  # typer turns Ctrl-C into Exit(130)
            return _interrupted(caught)
        return result if isinstance(result, int) else EXIT_OK
    except typer.Exit as exc:
        return int(exc.exit_code)
    except typer.Abort:
        return _interrupted(caught)
    except _ClickUsageError as exc:
        ctx = getattr(exc, "ctx", None)
        where = ctx.command_path if ctx is not None else "llmtel"
        return _fail(exc.format_message(), f"see `{where} --help`", EXIT_USAGE)  # type: ignore[attr-defined]
    except ParameterError as exc:
        if debug:
            traceback.print_exc()
        return _fail(_option_name(exc), exc.fix, exc.exit_code)
    except LlmtelError as exc:
        if debug:
            traceback.print_exc()
        return _fail(exc.message, exc.fix, exc.exit_code)
    except KeyboardInterrupt:
        return _interrupted(caught)
    except Exception as exc:  # a bug, or an error we did not anticipate
        if debug:
            traceback.print_exc()
        return _fail(
            f"{type(exc).__name__}: {exc}",
            "run again with --debug for the traceback, and report it if it looks like a bug",
            EXIT_FAILURE,
        )


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
