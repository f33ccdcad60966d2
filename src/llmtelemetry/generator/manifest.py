"""manifest.json: what a generated directory holds and how to check it."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

from llmtelemetry.errors import DataError

MANIFEST_NAME = "manifest.json"
MANIFEST_VERSION = 1


@dataclasses.dataclass(frozen=True)
class TableEntry:
    """One written table."""

    file: str
    rows: int
    sha256: str  # content fingerprint (format independent), see generator/fingerprint.py
    file_sha256: str  # SHA-256 of the file's bytes, to detect damage
    columns: dict[str, str]  # column -> Arrow type
    column_sha256: dict[str, str]


@dataclasses.dataclass(frozen=True)
class Manifest:
    """Seed, parameters, versions and per-table fingerprints of a generated dataset."""

    seed: int
    parameters: dict[str, Any]
    format: str
    tables: dict[str, TableEntry]
    versions: dict[str, str]
    run: dict[str, Any]
    manifest_version: int = MANIFEST_VERSION

    def fingerprints(self) -> dict[str, str]:
        return {name: entry.sha256 for name, entry in self.tables.items()}

    def row_counts(self) -> dict[str, int]:
        return {name: entry.rows for name, entry in self.tables.items()}

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def write(self, directory: Path) -> Path:
        path = directory / MANIFEST_NAME
        path.write_text(json.dumps(self.to_dict(), indent=2, sort_keys=False) + "\n", "utf-8")
        return path

    @classmethod
    def read(cls, directory: Path) -> Manifest:
        path = Path(directory) / MANIFEST_NAME
        try:
            data = json.loads(path.read_text("utf-8"))
            tables = {name: TableEntry(**entry) for name, entry in data.pop("tables").items()}
            return cls(tables=tables, **data)
        except FileNotFoundError:
            raise DataError(f"{path} not found", fix="point at a directory written by `llmtel generate`") from None
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise DataError(f"{path} is not a valid llmtel manifest ({exc})") from None


def file_sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()
