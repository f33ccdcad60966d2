"""The library API over the warehouse: `load`, `transform`, `verify`, and `up` for all three.

Each function takes the connection as `dsn` (else `LLMTEL_DSN`, else the embedded server under
`home`, default `LLMTEL_HOME`) and returns a result object; the CLI commands are thin wrappers
that render those results.

`up` is the whole pipeline, generate (streamed) -> load -> transform -> verify, skipping the stages
whose inputs have not changed since they last ran on this database: the same generator
parameters loaded by the same llmtel version, a passing build of exactly that load, and a
passing verification of exactly that build. `force=True` runs everything.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg

from llmtelemetry import __version__
from llmtelemetry.dbt_runner import NodeCallback, TransformResult, failure, last_build, run_build
from llmtelemetry.errors import CheckFailed, DatabaseError, DataError
from llmtelemetry.generator import GenerateConfig
from llmtelemetry.settings import Settings, get_settings
from llmtelemetry.warehouse.connection import Target, connect, resolve_target
from llmtelemetry.warehouse.load import (
    DirectorySource,
    GeneratorSource,
    LoadRecord,
    LoadResult,
    ProgressCallback,
    Source,
    latest_load,
    load_raw_tables,
)
from llmtelemetry.warehouse.roles import ReaderResult, ensure_reader

if TYPE_CHECKING:
    from llmtelemetry.verification import VerifyReport

#: The relations `up` expects after a full build (a quick check that the build is still there).
MART_FACTS = ("public_star.fct_api_requests", "public_snowflake.fct_api_requests_sf")
STAGES = ("load", "transform", "verify")


def _context(dsn: str | None, home: str | Path | None) -> tuple[Settings, Target]:
    settings = get_settings(home=Path(home).expanduser() if home is not None else None)
    return settings, resolve_target(settings, dsn)


def _reader(settings: Settings, target: Target) -> ReaderResult:
    configured = settings.reader_password.get_secret_value() if settings.reader_password else None
    return ensure_reader(target, settings.home, configured)


# --------------------------------------------------------------------------- the three stages


@dataclasses.dataclass(frozen=True)
class Loaded:
    """A load, where it went, and what it did to the reader role."""

    result: LoadResult
    reader: ReaderResult
    target: str  # the DSN with its password masked
    embedded: bool


def load(
    dsn: str | None = None,
    *,
    source: str | Path | None = None,
    config: GenerateConfig | None = None,
    home: str | Path | None = None,
    workers: int = 2,
    progress: ProgressCallback | None = None,
    lock_timeout: float = 10.0,
    lock_wait: float = 0.0,
    **params: Any,
) -> Loaded:
    """Replace the raw tables in `raw_staging` atomically and refresh `portfolio_reader`.

    Rows come from `source` (a directory written by `generate`), else they are generated on the
    fly from `config` or `params` (any `GenerateConfig` field, e.g. `seed=7, rows=100_000`) and
    streamed straight into COPY.
    """
    rows_from = _source(source, config, params, workers)  # checked before any database work
    settings, target = _context(dsn, home)
    return run_load(settings, target, rows_from, progress, lock_timeout, lock_wait)


def _source(source: str | Path | None, config: GenerateConfig | None, params: dict[str, Any], workers: int) -> Source:
    if source is not None:
        return DirectorySource(source)
    return GeneratorSource(config if config is not None else GenerateConfig(**params), workers=workers)


def run_load(
    settings: Settings,
    target: Target,
    source: Source,
    progress: ProgressCallback | None,
    lock_timeout: float = 10.0,
    lock_wait: float = 0.0,
) -> Loaded:
    result = load_raw_tables(target, source, progress=progress, lock_timeout=lock_timeout, lock_wait=lock_wait)
    return Loaded(result, _reader(settings, target), target.display, target.embedded)


def transform(
    dsn: str | None = None,
    *,
    select: str | None = None,
    full_refresh: bool = False,
    home: str | Path | None = None,
    on_node: NodeCallback | None = None,
    check: bool = True,
) -> TransformResult:
    """`dbt build` of the packaged project on the loaded database (staging, star, snowflake).

    Raises `CheckFailed` naming the failed models and tests unless `check=False`, in which case
    the result (with `.failed`) is returned as it is.
    """
    settings, target = _context(dsn, home)
    return run_transform(settings, target, select=select, full_refresh=full_refresh, on_node=on_node, check=check)


def run_transform(
    settings: Settings,
    target: Target,
    *,
    select: str | None = None,
    full_refresh: bool = False,
    on_node: NodeCallback | None = None,
    check: bool = True,
) -> TransformResult:
    require_raw_tables(target)
    _reader(settings, target)  # the marts' grants name it: it must exist before dbt runs
    result = run_build(target, settings.home, select=select, full_refresh=full_refresh, on_node=on_node)
    if check and result.failed:
        raise failure(result)
    return result


def verify(
    dsn: str | None = None,
    *,
    source: str | Path | None = None,
    home: str | Path | None = None,
    run_dbt_tests: bool | None = None,
) -> VerifyReport:
    """Check the data against the spec and the warehouse against itself; returns a `VerifyReport`.

    With `source`, checks a generated directory instead (no database). The report's `.passed`
    and `.failed` say how it went; nothing is raised for failed checks.
    """
    from llmtelemetry.verification import verify_database, verify_directory  # scipy: only when needed

    if source is not None:
        return verify_directory(source)
    settings, target = _context(dsn, home)
    return verify_database(target, settings.home, run_dbt_tests=run_dbt_tests)


def require_raw_tables(target: Target) -> None:
    with connect(target) as conn:
        try:
            present = conn.execute("select to_regclass('raw_staging.api_requests') is not null").fetchone()
        except psycopg.Error as exc:
            raise DatabaseError(f"cannot inspect {target.display} ({exc})") from None
    if not present or not present[0]:
        raise DatabaseError(
            "raw_staging.api_requests does not exist in this database",
            fix="run `llmtel load` first (with the same --dsn)",
        )


# --------------------------------------------------------------------------- up


@dataclasses.dataclass(frozen=True)
class WarehouseState:
    """What is in the database now, and what llmtel last did to it."""

    loaded: LoadRecord | None
    raw_rows: int | None  # rows in raw_staging.api_requests now
    fact_rows: dict[str, int | None]  # rows in each mart fact now (None: missing)
    build: dict[str, Any] | None  # the last full build record
    verified: dict[str, Any] | None  # the last verification record


def read_state(target: Target, home: Path) -> WarehouseState:
    from llmtelemetry.verification import last_verify

    with connect(target, autocommit=True) as conn:
        loaded = latest_load(conn)
        counts = {name: _count(conn, name) for name in ("raw_staging.api_requests", *MART_FACTS)}
    return WarehouseState(
        loaded=loaded,
        raw_rows=counts.pop("raw_staging.api_requests"),
        fact_rows=counts,
        build=last_build(target, home),
        verified=last_verify(target, home),
    )


def _count(conn: psycopg.Connection[Any], relation: str) -> int | None:
    present = conn.execute("select to_regclass(%s) is not null", [relation]).fetchone()
    if not present or not present[0]:
        return None
    row = conn.execute(f"select count(*) from {relation}").fetchone()  # relation: one of our constants
    return int(row[0]) if row else None


@dataclasses.dataclass(frozen=True)
class Plan:
    """Which stages `up` runs, and why each of the others is up to date."""

    run: tuple[str, ...]
    reasons: dict[str, str]  # stage -> why it runs, or why it is skipped


def plan_up(state: WarehouseState, wanted: GenerateConfig, *, force: bool = False, version: str = __version__) -> Plan:
    """Decide what `up` must do. Pure: the same state always gives the same plan."""
    reasons: dict[str, str] = {}
    loaded = state.loaded
    if force:
        return Plan(STAGES, dict.fromkeys(STAGES, "--force"))

    if loaded is None:
        reasons["load"] = "nothing loaded yet"
    elif _recorded_config(loaded) != wanted:
        seed, count = loaded.parameters.get("seed"), loaded.parameters.get("rows")
        reasons["load"] = f"the database holds other data (seed {seed}, {count} rows)"
    elif loaded.llmtel_version != version:
        reasons["load"] = f"loaded by llmtel {loaded.llmtel_version}, this is {version}"
    elif state.raw_rows != loaded.row_counts.get("api_requests"):
        reasons["load"] = "raw_staging.api_requests changed since the load"
    if "load" in reasons:
        return Plan(STAGES, {**reasons, "transform": "after a load", "verify": "after a build"})
    assert loaded is not None
    reasons["load"] = f"up to date: seed {wanted.seed}, {wanted.rows:,} rows loaded at {_when(loaded.loaded_at)}"

    build = state.build
    if build is None:
        reasons["transform"] = "no build recorded"
    elif build.get("load_id") != loaded.load_id:
        reasons["transform"] = "built before the current load"
    elif build.get("llmtel_version") != version:
        reasons["transform"] = f"built by llmtel {build.get('llmtel_version')}, this is {version}"
    elif build.get("failed"):
        reasons["transform"] = "the last build failed"
    elif any(rows != loaded.row_counts.get("api_requests") for rows in state.fact_rows.values()):
        reasons["transform"] = "the marts are missing or do not match the load"
    if "transform" in reasons:
        return Plan(("transform", "verify"), {**reasons, "verify": "after a build"})
    assert build is not None
    summary = build.get("summary", {})
    reasons["transform"] = (
        f"up to date: {summary.get('tests_passed', '?')} tests passed at {_when(build['finished_at'])}"
    )

    verified = state.verified
    if verified is None:
        reasons["verify"] = "not verified yet"
    elif verified.get("load_id") != loaded.load_id or verified.get("build_finished_at") != build.get("finished_at"):
        reasons["verify"] = "verified before the current build"
    elif verified.get("llmtel_version") != version:
        reasons["verify"] = f"verified by llmtel {verified.get('llmtel_version')}"
    elif not verified.get("passed"):
        reasons["verify"] = "the last verification failed"
    if "verify" in reasons:
        return Plan(("verify",), reasons)
    assert verified is not None
    reasons["verify"] = (
        f"up to date: {verified.get('checks_passed')} of {verified.get('checks')} checks passed "
        f"at {_when(verified.get('finished_at'))}"
    )
    return Plan((), reasons)


def _when(moment: dt.datetime | str | None) -> str:
    try:
        value = moment if isinstance(moment, dt.datetime) else dt.datetime.fromisoformat(str(moment))
    except ValueError:
        return "an unknown time"
    return f"{value.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC"


def _recorded_config(loaded: LoadRecord) -> GenerateConfig | None:
    try:
        return GenerateConfig.from_dict(loaded.parameters)
    except DataError:
        return None


@dataclasses.dataclass(frozen=True)
class StageReport:
    """One stage of `up`: whether it ran, how long it took, and what it found."""

    name: str
    ran: bool
    seconds: float
    reason: str
    detail: dict[str, Any]


@dataclasses.dataclass(frozen=True)
class UpResult:
    """What `up` did, stage by stage, and where to find the result."""

    target: str
    embedded: bool
    config: GenerateConfig
    stages: list[StageReport]
    rows: int
    tests_passed: int
    checks_passed: int
    checks: int
    reader_role: str
    reader_password: str  # where the reader's password is: a file, or LLMTEL_READER_PASSWORD
    reader_warnings: list[str] = dataclasses.field(default_factory=list)  # hardening steps not allowed
    report: VerifyReport | None = None  # when verify ran

    @property
    def changed(self) -> bool:
        return any(stage.ran for stage in self.stages)

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "embedded": self.embedded,
            "seed": self.config.seed,
            "rows": self.rows,
            "changed": self.changed,
            "stages": [dataclasses.asdict(stage) for stage in self.stages],
            "tests_passed": self.tests_passed,
            "checks_passed": self.checks_passed,
            "checks": self.checks,
            "reader": {"role": self.reader_role, "password": self.reader_password, "warnings": self.reader_warnings},
        }


#: on_stage(stage, event, message): event is "start", "skip" or "done"
StageCallback = Callable[[str, str, str], None]


def up(
    dsn: str | None = None,
    *,
    seed: int = 42,
    rows: int = 500_000,
    force: bool = False,
    home: str | Path | None = None,
    workers: int = 2,
    on_stage: StageCallback | None = None,
    progress: ProgressCallback | None = None,
    on_node: NodeCallback | None = None,
    **params: Any,
) -> UpResult:
    """Generate (streamed) -> load -> transform -> verify, skipping stages that are up to date.

    Raises `CheckFailed` if the build or the verification fails (the report is on the
    exception's `report` attribute for the latter); the result says what ran and why.
    """
    config = GenerateConfig(seed=seed, rows=rows, **params)  # validated before any database work
    settings, target = _context(dsn, home)
    return run_up(
        settings, target, config, force=force, workers=workers, on_stage=on_stage, progress=progress, on_node=on_node
    )


def run_up(
    settings: Settings,
    target: Target,
    config: GenerateConfig,
    *,
    force: bool = False,
    workers: int = 2,
    on_stage: StageCallback | None = None,
    progress: ProgressCallback | None = None,
    on_node: NodeCallback | None = None,
) -> UpResult:
    """`up` on a resolved target (the CLI resolves it once and also serves from it)."""
    before = read_state(target, settings.home)
    plan = plan_up(before, config, force=force)
    rows = before.raw_rows or 0
    notify = on_stage or (lambda stage, event, message: None)
    stages: list[StageReport] = []
    reader: ReaderResult | None = None
    tests_passed, report = 0, None

    def stage(name: str, detail: dict[str, Any], started: float) -> None:
        seconds = round(time.perf_counter() - started, 3)
        stages.append(StageReport(name, True, seconds, plan.reasons[name], detail))

    for name in STAGES:
        if name not in plan.run:
            notify(name, "skip", plan.reasons[name])
            stages.append(StageReport(name, False, 0.0, plan.reasons[name], {}))
            continue
        notify(name, "start", plan.reasons[name])
        started = time.perf_counter()
        if name == "load":
            loaded = run_load(settings, target, GeneratorSource(config, workers=workers), progress)
            reader, rows = loaded.reader, loaded.result.tables["api_requests"]
            rate = round(loaded.result.rows_per_second)
            stage(name, {"tables": loaded.result.tables, "rows_per_second": rate}, started)
            notify(name, "done", f"{loaded.result.tables['api_requests']:,} rows")
        elif name == "transform":
            built = run_transform(settings, target, full_refresh=force, on_node=on_node, check=False)
            summary = built.summary()
            tests_passed = summary["tests_passed"]
            stage(name, summary, started)
            if built.failed:
                raise _with(failure(built), result=built)
            notify(name, "done", f"{summary['models']} models, {tests_passed} tests passed")
        else:
            from llmtelemetry.verification import verify_database

            report = verify_database(target, settings.home)
            stage(name, {"checks": len(report.checks), "failed": [c.name for c in report.failed]}, started)
            if not report.passed:
                raise _with(
                    CheckFailed(
                        f"{len(report.failed)} of {len(report.checks)} checks failed",
                        fix="the failing checks are named above; `llmtel verify` shows them all",
                    ),
                    report=report,
                )
            notify(name, "done", f"{len(report.checks)} checks passed")

    if reader is None:  # the load did not run: the role is refreshed (cheap, idempotent) all the same
        reader = _reader(settings, target)
    from llmtelemetry.verification import last_verify

    # The stages that ran have just written these records; the ones skipped had them already.
    build, verified = last_build(target, settings.home) or {}, last_verify(target, settings.home) or {}
    return UpResult(
        target=target.display,
        embedded=target.embedded,
        config=config,
        stages=stages,
        rows=rows,
        tests_passed=tests_passed or int(build.get("summary", {}).get("tests_passed", 0)),
        checks_passed=int(verified.get("checks_passed", 0)),
        checks=int(verified.get("checks", 0)),
        reader_role=reader.role,
        reader_password=reader.password_file or "LLMTEL_READER_PASSWORD",
        reader_warnings=list(reader.warnings),
        report=report,
    )


def _with(error: CheckFailed, **attributes: Any) -> CheckFailed:
    for key, value in attributes.items():
        setattr(error, key, value)
    return error
