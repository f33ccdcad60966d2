"""What llmtel last did to each database: small JSON records under `LLMTEL_HOME/state`.

`llmtel transform` records its last full build and `llmtel verify` its last result, per target
(keyed by a hash of the DSN, so no secret is written). `llmtel verify` reads the build record
instead of running dbt's tests again, and `llmtel up` reads both to skip what is up to date.
A record is only a hint: everything that reads one also checks it against the database.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from llmtelemetry.warehouse.connection import Target


def target_id(target: Target) -> str:
    """A stable, secret-free identity of a database target (hash of the DSN)."""
    return hashlib.sha256(target.dsn.encode()).hexdigest()[:16]


def _path(kind: str, target: Target, home: Path) -> Path:
    return Path(home) / "state" / f"{kind}_{target_id(target)}.json"


def save(kind: str, target: Target, home: Path, record: dict[str, Any]) -> None:
    """Write a record atomically (a reader never sees half a file)."""
    path = _path(kind, target, home)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.tmp")
    partial.write_text(json.dumps({"target": target_id(target), **record}, default=str), "utf-8")
    partial.replace(path)


def load(kind: str, target: Target, home: Path) -> dict[str, Any] | None:
    """The last record of `kind` for `target`, or None (also when it is unreadable)."""
    path = _path(kind, target, home)
    try:
        record = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None
