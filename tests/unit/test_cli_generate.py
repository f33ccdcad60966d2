"""`llmtel generate`: options, exit codes, error lines, --json, output directory rules."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from llmtelemetry import Manifest, generate
from llmtelemetry.cli import app, main
from tests.conftest import stopped_by
from tests.unit.test_golden import GOLDEN


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_generate_writes_five_tables_and_manifest(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "d"
    code, stdout, _ = run(capsys, "generate", "--seed", "42", "--rows", "10000", "--out", str(out), "--json")
    assert code == 0
    summary = json.loads(stdout.strip().splitlines()[-1])
    assert summary["rows"] == 10_000 and summary["command"] == "generate"
    assert sorted(p.name for p in out.iterdir()) == [
        "api_requests.parquet",
        "dates.parquet",
        "endpoints.parquet",
        "manifest.json",
        "models.parquet",
        "users.parquet",
    ]
    manifest = Manifest.read(out)
    golden = json.loads(GOLDEN.read_text())
    assert manifest.tables["api_requests"].sha256 == golden["tables"]["api_requests"]["sha256"]
    assert summary["tables"]["api_requests"]["sha256"] == manifest.tables["api_requests"].sha256
    assert manifest.seed == 42
    assert manifest.parameters["rows"] == 10_000 and manifest.parameters["days"] == 181
    assert set(manifest.versions) >= {"llmtelemetry", "numpy", "faker", "pyarrow"}
    assert manifest.row_counts() == {
        "users": 2000,
        "models": 16,
        "endpoints": 6,
        "dates": 181,
        "api_requests": 10_000,
    }


def test_manifest_file_hashes_match_the_files(written_dataset: tuple[Path, Manifest]) -> None:
    from llmtelemetry.generator.manifest import file_sha256

    directory, manifest = written_dataset
    assert Manifest.read(directory) == manifest
    for entry in manifest.tables.values():
        assert file_sha256(directory / entry.file) == entry.file_sha256
    assert not [p for p in directory.iterdir() if p.name.startswith(".")]  # no staging left


def test_csv_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, _ = run(
        capsys, "generate", "--rows", "500", "--users", "20", "--format", "csv", "--out", str(tmp_path / "c")
    )
    assert code == 0
    header = (tmp_path / "c" / "api_requests.csv").read_text().splitlines()[0]
    assert header.startswith('"request_id","requested_at","user_id"')


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (["--rows", "0"], "--rows"),
        (["--rows", "-5"], "--rows"),
        (["--rows", "lots"], "--rows"),
        (["--seed", "-1"], "--seed"),
        (["--format", "xlsx"], "--format"),
        (["--workers", "0"], "--workers"),
        (["--chunk-rows", "0"], "--chunk-rows"),
        (["--start", "2025-02-30"], "--start"),
        (["--start", "yesterday"], "--start"),
        (["--days", "0"], "--days"),
        (["--users", "0"], "--users"),
        (["--no-such-option"], "--no-such-option"),
    ],
)
def test_bad_parameters_exit_2_and_write_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], names: str
) -> None:
    out = tmp_path / "never"
    code, stdout, stderr = run(capsys, "generate", "--out", str(out), *args)
    assert code == 2
    lines = stderr.strip().splitlines()
    assert lines[0].startswith("error: ") and names in lines[0]
    assert len(lines) <= 2 and all(line.startswith(("error: ", "fix: ")) for line in lines)
    assert "Traceback" not in stderr + stdout
    assert not out.exists()


def test_missing_out_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, stderr = run(capsys, "generate")
    assert code == 2 and "--out" in stderr


def test_non_empty_out_needs_force(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "d"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    code, _, stderr = run(capsys, "generate", "--rows", "100", "--users", "10", "--out", str(out))
    assert code == 2 and "not empty" in stderr and "--force" in stderr
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    code, _, _ = run(capsys, "generate", "--rows", "100", "--users", "10", "--out", str(out), "--force")
    assert code == 0
    assert (out / "keep.txt").read_text() == "mine"
    assert Manifest.read(out).row_counts()["api_requests"] == 100


def test_force_replaces_the_previous_dataset(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "d"
    assert run(capsys, "generate", "--rows", "100", "--users", "10", "--out", str(out))[0] == 0
    assert (
        run(
            capsys,
            "generate",
            "--rows",
            "200",
            "--users",
            "10",
            "--format",
            "csv",
            "--out",
            str(out),
            "--force",
        )[0]
        == 0
    )
    names = sorted(p.name for p in out.iterdir())
    assert not [n for n in names if n.endswith(".parquet")]  # the old format's files are gone
    assert Manifest.read(out).row_counts()["api_requests"] == 200


def test_unwritable_out(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, _, stderr = run(capsys, "generate", "--rows", "10", "--out", str(blocker / "sub"))
    assert code == 2 and stderr.startswith("error: ") and "Traceback" not in stderr
    code, _, stderr = run(capsys, "generate", "--rows", "10", "--out", str(blocker))
    assert code == 2 and "not a directory" in stderr


def test_failure_midway_keeps_the_previous_dataset(tmp_path: Path) -> None:
    out = tmp_path / "d"
    first = generate(seed=1, rows=1_000, users=10).write(out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def explode(table: str, done: int, total: int) -> None:
        if table == "api_requests":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        generate(seed=2, rows=50_000, users=10).write(out, force=True, progress=explode)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert Manifest.read(out) == first


def test_failure_in_a_new_directory_leaves_nothing(tmp_path: Path) -> None:
    out = tmp_path / "new" / "d"

    def explode(table: str, done: int, total: int) -> None:
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        generate(rows=100, users=10).write(out, progress=explode)
    assert not out.exists()


@stopped_by(signal.SIGINT, signal.SIGHUP)
def test_ctrl_c_or_sighup_exits_and_leaves_no_partial_output(
    tmp_path: Path, stop: signal.Signals, code: int, message: str
) -> None:
    out = tmp_path / "d"
    proc = subprocess.Popen(
        [sys.executable, "-m", "llmtelemetry", "generate", "--rows", "50000000", "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not list(out.glob(".llmtel-staging-*/api_requests.parquet")) and time.monotonic() < deadline:
        time.sleep(0.1)
    proc.send_signal(stop)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == code, stderr
    assert message in stderr and "Traceback" not in stderr
    assert not out.exists()


def test_entry_points_and_version(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "llmtelemetry", "--version"], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.startswith("llmtel ")
    bad = subprocess.run(
        [sys.executable, "-m", "llmtelemetry", "generate", "--rows", "0", "--out", str(tmp_path / "x")],
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert bad.returncode == 2 and bad.stderr.startswith("error: --rows")


def test_debug_shows_the_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, stderr = run(capsys, "--debug", "generate", "--rows", "0", "--out", str(tmp_path / "x"))
    assert code == 2 and "Traceback" in stderr and "error: --rows" in stderr


def test_help_explains_every_option() -> None:
    result = CliRunner().invoke(app, ["generate", "--help"])
    assert result.exit_code == 0
    for option in (
        "--seed",
        "--rows",
        "--out",
        "--format",
        "--workers",
        "--chunk-rows",
        "--start",
        "--days",
        "--users",
        "--force",
        "--json",
    ):
        assert option in result.output


def test_a_second_writer_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "d"
    calls: list[int] = []

    def second_writer(table: str, done: int, total: int) -> None:
        if not calls:
            calls.append(main(["generate", "--rows", "100", "--users", "5", "--out", str(out), "--force"]))

    generate(rows=1_000, users=10).write(out, progress=second_writer)
    assert calls == [2]
    assert "another llmtel process is writing" in capsys.readouterr().err
    assert Manifest.read(out).row_counts()["api_requests"] == 1_000


def test_disk_errors_are_runtime_failures_that_change_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "d"
    generate(rows=100, users=5).write(out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    from llmtelemetry.generator import dataset

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(dataset, "_publish", full)
    code, _, stderr = run(capsys, "generate", "--rows", "200", "--users", "5", "--out", str(out), "--force")
    assert code == 1
    assert stderr.startswith("error: writing to") and "No space left on device" in stderr
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


@pytest.mark.parametrize(("option", "value"), [("--workers", "65"), ("--chunk-rows", "16777217")])
def test_parallelism_is_bounded(tmp_path: Path, capsys: pytest.CaptureFixture[str], option: str, value: str) -> None:
    code, _, stderr = run(capsys, "generate", "--rows", "10", "--out", str(tmp_path / "x"), option, value)
    assert code == 2 and stderr.startswith(f"error: {option} must be")


def test_main_restores_the_callers_signal_handlers(tmp_path: Path) -> None:
    """SIGTERM and SIGHUP become Ctrl-C only while a command runs: a program that calls `main`
    (as the tests do) gets its own handlers back."""
    before = {stop: signal.getsignal(stop) for stop in (signal.SIGTERM, signal.SIGHUP)}
    assert main(["generate", "--rows", "100", "--out", str(tmp_path / "d")]) == 0
    assert {stop: signal.getsignal(stop) for stop in before} == before
