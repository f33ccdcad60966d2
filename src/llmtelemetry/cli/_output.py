"""How commands talk: progress on stderr, results on stdout, one JSON line with --json."""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterator
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)


def stderr_console() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True, no_color="NO_COLOR" in os.environ)


def stdout_console() -> Console:
    # Tables stay readable in pipes and logs, where rich would otherwise assume 80 columns.
    width = None if sys.stdout.isatty() else 160
    return Console(highlight=False, soft_wrap=True, width=width, no_color="NO_COLOR" in os.environ)


def progress_enabled() -> bool:
    """Live progress only for a person at a terminal: not in pipes, CI logs or with NO_COLOR."""
    return sys.stderr.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


class RowProgress:
    """A bar per table, fed by the library's progress(table, done, total) callbacks."""

    def __init__(self, progress: Progress | None) -> None:
        self._progress = progress
        self._tasks: dict[str, TaskID] = {}

    def __call__(self, table: str, done: int, total: int) -> None:
        if self._progress is None:
            return
        if table not in self._tasks:
            self._tasks[table] = self._progress.add_task(table, total=total)
        self._progress.update(self._tasks[table], completed=done, total=total)


@contextlib.contextmanager
def row_progress() -> Iterator[RowProgress]:
    if not progress_enabled():
        yield RowProgress(None)
        return
    progress = Progress(
        TextColumn("[bold]{task.description:<14}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("rows"),
        TimeElapsedColumn(),
        console=stderr_console(),
        transient=False,
    )
    with progress:
        yield RowProgress(progress)


def emit_json(payload: dict[str, Any]) -> None:
    """Print one JSON object as the last line of stdout."""
    sys.stdout.write(json.dumps(payload, default=str, separators=(",", ":")) + "\n")
    sys.stdout.flush()
