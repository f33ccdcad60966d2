"""The built package, as a user gets it: a wheel and an sdist, installed into a fresh virtualenv.

The sdist is built first and the wheel is built from it (`python -m build`), so a file missing
from the sdist is missing from the wheel too. One fresh virtualenv, shared by the tests (and by
the pytest-xdist workers, through a file lock), runs `llmtel up` on the embedded server and on
the machine's server, and uses the library from a script, as another project would.
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import tarfile
import textwrap
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.conftest import processes_mentioning
from tests.integration.conftest import EXTERNAL_DSN

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
#: Package data every installation needs (paths inside the package).
PACKAGE_DATA = [
    "py.typed",
    "generator/catalogue.toml",
    "warehouse/sql/reader_role.sql",
    "dbt_project/dbt_project.yml",
    "dbt_project/models/staging/__sources.yml",
    "dbt_project/models/star/fct_api_requests.sql",
    "dbt_project/models/snowflake/fct_api_requests_sf.sql",
    "dbt_project/macros/generate_surrogate_key.sql",
    "dbt_project/seeds/billing_tiers.csv",
    "forecaster/app.py",
    "forecaster/app_pages/token_forecaster.py",
    "forecaster/app_pages/executive_overview.py",
    "dashboards/cards.yml",
    "compose/compose.yaml",
    "compose/Dockerfile",
    "compose/env.example",
    "compose/nginx/default.conf",
    "compose/nginx/security-headers.conf",
    "compose/postgres/init-metabase.sh",
    "compose/traefik/dynamic/middlewares.yml",
    "compose/wheels/README.md",
    "site/index.html",
    "site/site.css",
    "site/architecture.svg",
    "site/favicon.svg",
]


def _run(command: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, **kwargs)  # type: ignore[call-overload, no-any-return]


@pytest.fixture(scope="session")
def shared_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory shared by all xdist workers of this run (the parent of their base temps)."""
    root = tmp_path_factory.getbasetemp()
    return root.parent if os.environ.get("PYTEST_XDIST_WORKER") else root


@pytest.fixture(scope="session")
def dist(shared_dir: Path) -> dict[str, Path]:
    """sdist and wheel, built once per run."""
    out = shared_dir / "dist"
    with open(shared_dir / "dist.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not list(out.glob("*.whl")):
            built = _run([sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)])
            assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    return {"wheel": next(out.glob("*.whl")), "sdist": next(out.glob("*.tar.gz"))}


@pytest.fixture(scope="session")
def venv(dist: dict[str, Path], shared_dir: Path) -> Path:
    """A fresh virtualenv with only the wheel (and its dependencies) installed."""
    path = shared_dir / "fresh-venv"
    with open(shared_dir / "venv.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (path / "installed").exists():
            assert _run([sys.executable, "-m", "venv", str(path)]).returncode == 0
            pip = _run([str(path / "bin" / "pip"), "install", "-q", "--disable-pip-version-check", str(dist["wheel"])])
            assert pip.returncode == 0, pip.stderr[-3000:]
            (path / "installed").touch()
    return path


def _user_env(home: Path) -> dict[str, str]:
    """The environment of a user with nothing configured: no LLMTEL_ settings, a fresh home."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LLMTEL_", "VIRTUAL_ENV", "PYTHON"))}
    return {**env, "LLMTEL_HOME": str(home), "NO_COLOR": "1"}


def _site_packages(venv: Path) -> Path:
    return next((venv / "lib").glob("python3*/site-packages"))


def _snapshot(directory: Path) -> dict[str, tuple[int, int]]:
    return {
        str(path.relative_to(directory)): (path.stat().st_size, path.stat().st_mtime_ns)
        for path in directory.rglob("*")
        if path.is_file()
    }


@pytest.fixture
def fresh_database() -> Iterator[str]:
    name = f"llmtel_pkg_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(EXTERNAL_DSN, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    yield psycopg.conninfo.make_conninfo(EXTERNAL_DSN, dbname=name)
    with psycopg.connect(EXTERNAL_DSN, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')


def test_the_wheel_and_the_sdist_carry_the_package_data(dist: dict[str, Path]) -> None:
    wheel = set(zipfile.ZipFile(dist["wheel"]).namelist())
    with tarfile.open(dist["sdist"]) as sdist:
        source = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    for item in PACKAGE_DATA:
        assert f"llmtelemetry/{item}" in wheel, f"{item} missing from the wheel"
        assert f"src/llmtelemetry/{item}" in source, f"{item} missing from the sdist"
    assert not any("/target/" in name or name.endswith((".parquet", "pgdata")) for name in wheel)
    assert {"README.md", "pyproject.toml"} <= source


def test_llmtel_up_from_the_wheel_on_the_embedded_server(venv: Path, tmp_path: Path) -> None:
    llmtel = str(venv / "bin" / "llmtel")
    home = tmp_path / "home"
    env = _user_env(home)
    before = _snapshot(_site_packages(venv))

    first = _run([llmtel, "up", "--no-serve", "--rows", "100000"], env=env, cwd=tmp_path)
    assert first.returncode == 0, first.stderr[-3000:]
    assert "the warehouse is ready on the embedded PostgreSQL" in first.stdout
    assert "100,000 requests (seed 42)" in first.stdout
    assert "checks passed" in first.stdout and "dbt tests" in first.stdout
    assert str(home / "secrets" / "reader_password") in first.stdout
    password = (home / "secrets" / "reader_password").read_text().strip()
    assert password not in first.stdout + first.stderr
    assert processes_mentioning(str(home / "pgdata")) == [], "the embedded server outlived `llmtel up --no-serve`"

    second = _run([llmtel, "up", "--no-serve", "--rows", "100000"], env=env, cwd=tmp_path)
    assert second.returncode == 0, second.stderr[-3000:]
    assert "nothing changed" in second.stdout
    assert second.stdout.count("skipped") == 3
    assert processes_mentioning(str(home / "pgdata")) == []

    status = _run([llmtel, "db", "status", "--json"], env=env, cwd=tmp_path)
    assert json.loads(status.stdout.splitlines()[-1])["running"] is False
    assert _snapshot(_site_packages(venv)) == before, "llmtel wrote into site-packages"


def test_llmtel_up_from_the_wheel_with_a_dsn(venv: Path, tmp_path: Path, fresh_database: str) -> None:
    llmtel = str(venv / "bin" / "llmtel")
    env = _user_env(tmp_path / "home")
    command = [llmtel, "up", "--no-serve", "--rows", "100000", "--dsn", fresh_database, "--json"]

    first = _run(command, env=env, cwd=tmp_path)
    assert first.returncode == 0, first.stderr[-3000:]
    summary = json.loads(first.stdout.splitlines()[-1])
    assert summary["embedded"] is False and summary["rows"] == 100_000 and summary["changed"] is True
    assert summary["checks_passed"] == summary["checks"] > 50

    second = _run(command, env=env, cwd=tmp_path)
    assert second.returncode == 0, second.stderr[-3000:]
    again = json.loads(second.stdout.splitlines()[-1])
    assert again["changed"] is False and [s["ran"] for s in again["stages"]] == [False, False, False]
    assert not (tmp_path / "home" / "pgdata").exists(), "the embedded server was started although a DSN was given"


LIBRARY_SCRIPT = textwrap.dedent(
    """
    import json, sys
    from llmtelemetry import generate, load, transform, verify

    dsn, out, home = sys.argv[1], sys.argv[2], sys.argv[3]
    manifest = generate(seed=11, rows=30_000).write(out)
    loaded = load(dsn, source=out, home=home)
    built = transform(dsn, home=home)
    report = verify(dsn, home=home)
    print(json.dumps({
        "written": manifest.tables["api_requests"].rows,
        "loaded": loaded.result.tables["api_requests"],
        "tests_passed": built.summary()["tests_passed"],
        "passed": report.passed,
        "checks": len(report.checks),
        "failed": [check.name for check in report.failed],
    }))
    """
)


def test_the_library_from_another_project(venv: Path, tmp_path: Path, fresh_database: str) -> None:
    script = tmp_path / "use_llmtelemetry.py"
    script.write_text(LIBRARY_SCRIPT, "utf-8")
    home = tmp_path / "home"
    result = _run(
        [str(venv / "bin" / "python"), str(script), fresh_database, str(tmp_path / "data"), str(home)],
        env=_user_env(home),
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    outcome = json.loads(result.stdout.splitlines()[-1])
    assert outcome["written"] == outcome["loaded"] == 30_000
    assert outcome["tests_passed"] > 143
    assert outcome["passed"] is True and outcome["checks"] > 50, outcome["failed"]
