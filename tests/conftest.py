"""Shared fixtures: generated datasets are made once per session and reused."""

from __future__ import annotations

import signal
import socket
from pathlib import Path

import pyarrow as pa
import pytest

from llmtelemetry import GenerateConfig, Manifest, generate


def materialise(config: GenerateConfig, workers: int = 1, chunk_rows: int = 131_072) -> dict[str, pa.Table]:
    dataset = generate(config)
    tables = {name: dataset.table(name) for name in dataset.tables if name != "api_requests"}
    batches = list(dataset.batches("api_requests", workers=workers, chunk_rows=chunk_rows))
    tables["api_requests"] = pa.Table.from_batches(batches, dataset.schema("api_requests"))
    return tables


@pytest.fixture(scope="session")
def default_tables() -> dict[str, pa.Table]:
    """The spec's default dataset: --seed 42 --rows 500000, in memory."""
    return materialise(GenerateConfig(seed=42, rows=500_000))


@pytest.fixture(scope="session")
def written_dataset(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Manifest]:
    """--seed 42 --rows 500000 written as Parquet by the library."""
    out = tmp_path_factory.mktemp("gen") / "d"
    manifest = generate(seed=42, rows=500_000).write(out)
    return out, manifest


def processes_mentioning(text: str) -> list[str]:
    """Command lines of running processes that contain `text` (e.g. a data directory or a port)."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            line = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in line:
            found.append(line)
    return found


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


#: How an llmtel command ends on each signal: its exit code and its `error:` line.
STOPS = {
    signal.SIGINT: (130, "error: interrupted"),
    signal.SIGTERM: (143, "error: stopped by SIGTERM"),
    signal.SIGHUP: (129, "error: stopped by SIGHUP"),
}


def stopped_by(*signals: signal.Signals) -> pytest.MarkDecorator:
    """Parametrize a test over `signals` as (stop, code, message)."""
    cases = [(stop, *STOPS[stop]) for stop in signals]
    return pytest.mark.parametrize(("stop", "code", "message"), cases, ids=[stop.name for stop in signals])
