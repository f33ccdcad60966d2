"""The CLI reference (docs/cli.md), generated from the Typer app itself.

    python -m llmtelemetry.cli.reference > docs/cli.md

A test regenerates it and fails when docs/cli.md is out of date, so the page never drifts from
what `llmtel --help` says.
"""

from __future__ import annotations

import enum
import inspect
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer

HEADER = """\
# CLI reference

Generated from the `llmtel` command itself (`python -m llmtelemetry.cli.reference > docs/cli.md`);
a test keeps it in step. Every command also answers `--help`.

Common to every command: the connection comes from `--dsn`, else `LLMTEL_DSN`, else the embedded
PostgreSQL; progress goes to stderr, results to stdout; `--json` makes the last stdout line one JSON
object; exit codes are 0 (ok), 1 (runtime failure), 2 (bad usage or parameters, before any
database work), 130 (Ctrl-C), and 143 or 129 (SIGTERM or SIGHUP, which clean up as Ctrl-C does);
errors are an `error:` line and a `fix:` line, with the traceback only under `--debug` (or
`LLMTEL_DEBUG=1`).
"""


# Typer ships its own copy of click, so commands and options are recognised by their shape.


def _is_group(command: Any) -> bool:
    return hasattr(command, "commands")


def commands(group: Any, prefix: str = "llmtel") -> Iterator[tuple[str, Any]]:
    """Every command of the app, subcommands of groups included, in the app's order."""
    for name, command in group.commands.items():
        path = f"{prefix} {name}"
        yield path, command
        if _is_group(command):
            yield from commands(command, path)


def options(command: Any) -> list[Any]:
    return [p for p in command.params if p.param_type_name == "option" and not p.hidden]


def _default(option: Any) -> str:
    if option.is_flag or option.default is None or getattr(option, "show_default", True) is False:
        return ""
    value = option.default() if callable(option.default) else option.default
    if isinstance(value, enum.Enum):
        value = value.value
    return f"`{value}`" if value not in ("", None) else ""


def _names(option: Any) -> str:
    names = " / ".join(f"`{name}`" for name in [*option.opts, *option.secondary_opts])
    if not option.is_flag:
        names += f" *{option.metavar or _metavar(option)}*"
    return _cell(names)


def _metavar(option: Any) -> str:
    annotation = getattr(getattr(option, "type_descriptor", None), "annotation", None)
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return "|".join(str(member.value) for member in annotation)
    names = {int: "INTEGER", float: "NUMBER", Path: "PATH", bool: "BOOLEAN"}
    return names.get(annotation, "TEXT") if isinstance(annotation, type) else "TEXT"


def _cell(text: str | None) -> str:
    return " ".join((text or "").split()).replace("|", "\\|")


def _section(path: str, command: Any) -> list[str]:
    lines = [f"## `{path}`", ""]
    help_text = inspect.cleandoc(command.help or "")
    lines += [help_text, ""]
    arguments = " ".join(p.name.upper() for p in command.params if p.param_type_name == "argument" and p.name)
    if _is_group(command):
        lines += [f"Subcommands: {', '.join(f'`{path} {name}`' for name in command.commands)}.", ""]
        return lines
    lines += ["```", f"{path} [OPTIONS]{' ' + arguments if arguments else ''}", "```", ""]
    rows = options(command)
    if rows:
        lines += ["| option | default | what it does |", "|---|---|---|"]
        for option in rows:
            env = f" (env `{option.envvar}`)" if isinstance(option.envvar, str) else ""
            lines.append(f"| {_names(option)} | {_default(option)} | {_cell(option.help)}{env} |")
        lines.append("")
    return lines


def render() -> str:
    """docs/cli.md as Markdown."""
    from llmtelemetry.cli import app

    root = typer.main.get_command(app)
    lines = [HEADER, "## `llmtel`", "", inspect.cleandoc(root.help or ""), ""]
    lines += ["| option | what it does |", "|---|---|"]
    for option in options(root):
        env = f" (env `{option.envvar}`)" if isinstance(option.envvar, str) else ""
        lines.append(f"| {_names(option)} | {_cell(option.help)}{env} |")
    lines.append("")
    for path, command in commands(root):
        lines += _section(path, command)
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":
    print(render(), end="")
