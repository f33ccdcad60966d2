"""Check the data against the spec and the warehouse against itself. Rendering is the CLI's job.

Four families of checks, each a `Check` (name, expected, observed, tolerance, passed):

- `data:` every "must show" figure of spec section 2, on the database's raw tables or on a
  generated directory (llmtelemetry.fidelity: tolerances from the sample size);
- `warehouse:` row counts and token/cost sums reconcile raw -> star -> snowflake, every fact row
  joins every dimension, no duplicate keys;
- `dbt:` the last full `llmtel transform` on this database passed every test (or a fresh
  `dbt test` when there is none since the last load);
- `security:` portfolio_reader exists, may SELECT every mart table and write nothing anywhere
  (read from the catalogue: role attributes, memberships, privileges, default privileges).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

import psycopg

from llmtelemetry import __version__, state
from llmtelemetry.dbt_runner import last_build
from llmtelemetry.errors import DatabaseError, DataError
from llmtelemetry.fidelity import Check, evaluate, observe_database, observe_tables
from llmtelemetry.generator import GenerateConfig, Manifest, fingerprint
from llmtelemetry.generator.manifest import file_sha256
from llmtelemetry.generator.schema import SCHEMAS, TABLES
from llmtelemetry.generator.writers import read_table
from llmtelemetry.warehouse.connection import Target, connect
from llmtelemetry.warehouse.load import latest_load
from llmtelemetry.warehouse.roles import MART_SCHEMAS, READER

FACTS = {
    "public_star.fct_api_requests": {
        "user_key": "public_star.dim_users",
        "model_key": "public_star.dim_models",
        "endpoint_key": "public_star.dim_endpoints",
        "date_key": "public_star.dim_date",
    },
    "public_snowflake.fct_api_requests_sf": {
        "user_key": "public_snowflake.dim_users_sf",
        "model_key": "public_snowflake.dim_models",
        "endpoint_key": "public_snowflake.dim_endpoints",
        "date_key": "public_snowflake.dim_date",
    },
}
SNOWFLAKE_LINKS = {
    "public_snowflake.dim_users_sf": {
        "company_key": "public_snowflake.dim_companies",
        "tier_key": "public_snowflake.dim_billing_tiers",
    }
}
KEYS = {
    "public_star.fct_api_requests": "request_key",
    "public_star.dim_users": "user_key",
    "public_star.dim_models": "model_key",
    "public_star.dim_endpoints": "endpoint_key",
    "public_star.dim_date": "date_key",
    "public_snowflake.fct_api_requests_sf": "request_key",
    "public_snowflake.dim_users_sf": "user_key",
    "public_snowflake.dim_companies": "company_key",
    "public_snowflake.dim_billing_tiers": "tier_key",
    "public_snowflake.dim_models": "model_key",
    "public_snowflake.dim_endpoints": "endpoint_key",
    "public_snowflake.dim_date": "date_key",
}


@dataclasses.dataclass(frozen=True)
class VerifyReport:
    """All checks of one verification."""

    subject: str
    checks: list[Check]

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.checks)

    @property
    def failed(self) -> list[Check]:
        return [check for check in self.checks if not check.passed]

    def to_dict(self) -> dict[str, Any]:
        return {"subject": self.subject, "passed": self.passed, "checks": [c.to_dict() for c in self.checks]}


# --------------------------------------------------------------------------- a generated directory


def verify_directory(directory: str | Path) -> VerifyReport:
    """Check a directory written by `llmtel generate`: integrity against its manifest, and fidelity."""
    path = Path(directory)
    if not path.is_dir():
        raise DataError(
            f"--from {path} is not a directory",
            fix="point --from at a directory written by `llmtel generate`",
        )
    manifest = Manifest.read(path)
    config = GenerateConfig.from_dict(manifest.parameters)
    checks: list[Check] = []
    tables = {}
    for name in TABLES:
        entry = manifest.tables.get(name)
        if entry is None or not (path / entry.file).is_file():
            checks.append(Check(f"file: {name}", "present", "missing", None, False))
            continue
        intact = file_sha256(path / entry.file) == entry.file_sha256
        checks.append(
            Check(
                f"file: {name} matches its manifest",
                entry.file_sha256[:12],
                "ok" if intact else "changed",
                None,
                intact,
            )
        )
        table = read_table(path / entry.file, SCHEMAS[name])
        tables[name] = table
        content = fingerprint(table)
        checks.append(
            Check(
                f"file: {name} content fingerprint",
                entry.sha256[:12],
                content[:12],
                None,
                content == entry.sha256,
            )
        )
        checks.append(Check(f"file: {name} rows", entry.rows, table.num_rows, 0, table.num_rows == entry.rows))
    if len(tables) == len(TABLES):
        checks += [_prefixed("data", c) for c in evaluate(config, observe_tables(config, tables))]
    return VerifyReport(str(path), checks)


# --------------------------------------------------------------------------- the database


def verify_database(target: Target, home: Path, *, run_dbt_tests: bool | None = None) -> VerifyReport:
    """All checks on a loaded and transformed database."""
    with connect(target, autocommit=True) as conn:
        loaded = latest_load(conn)
        if loaded is None:
            raise DatabaseError("no llmtel load found in this database", fix="run `llmtel load` first")
        config = GenerateConfig.from_dict(loaded.parameters)
        checks = [_prefixed("data", c) for c in evaluate(config, observe_database(conn, config))]
        checks += _warehouse_checks(conn)
        checks += _security_checks(conn)
    checks += _dbt_checks(target, home, loaded.load_id, run_dbt_tests)
    report = VerifyReport(target.display, checks)
    build = last_build(target, home)
    state.save(
        "verify",
        target,
        home,
        {
            "finished_at": dt.datetime.now(dt.UTC).isoformat(),
            "load_id": loaded.load_id,
            "build_finished_at": build["finished_at"] if build else None,
            "llmtel_version": __version__,
            "passed": report.passed,
            "checks": len(report.checks),
            "checks_passed": len(report.checks) - len(report.failed),
            "failed": [c.name for c in report.failed],
        },
    )
    return report


def last_verify(target: Target, home: Path) -> dict[str, Any] | None:
    """The record of the last `llmtel verify` of `target`'s database, if any."""
    return state.load("verify", target, home)


def _prefixed(family: str, check: Check) -> Check:
    return dataclasses.replace(check, name=f"{family}: {check.name}")


def _exists(conn: psycopg.Connection[Any], relation: str) -> bool:
    row = conn.execute("select to_regclass(%s) is not null", [relation]).fetchone()
    return bool(row and row[0])


def _row(conn: psycopg.Connection[Any], sql: str) -> tuple[Any, ...]:
    row = conn.execute(sql).fetchone()
    assert row is not None
    return tuple(row)


def _one(conn: psycopg.Connection[Any], sql: str, params: list[Any] | None = None) -> Any:
    row = conn.execute(sql, params).fetchone()
    return row[0] if row else None


def _warehouse_checks(conn: psycopg.Connection[Any]) -> list[Check]:
    missing = [rel for rel in KEYS if not _exists(conn, rel)]
    if missing:
        return [
            Check(
                "warehouse: marts built",
                "all present",
                f"missing {', '.join(missing)}",
                None,
                False,
                "run `llmtel transform`",
            )
        ]
    checks = []
    sums = "select count(*), coalesce(sum(total_tokens), 0), coalesce(sum(cost_usd), 0) from "
    raw = _row(conn, sums + "raw_staging.api_requests")
    for fact in FACTS:
        got = _row(conn, sums + fact)
        for label, index in (("rows", 0), ("total_tokens", 1), ("cost_usd", 2)):
            checks.append(
                Check(
                    f"warehouse: {fact.split('.')[1]} {label} = raw",
                    str(raw[index]),
                    str(got[index]),
                    0,
                    got[index] == raw[index],
                )
            )
    for source, links in {**FACTS, **SNOWFLAKE_LINKS}.items():
        for column, dimension in links.items():
            orphans = _one(
                conn,
                f"select count(*) from {source} s left join {dimension} d using ({column}) where d.{column} is null",
            )
            checks.append(
                Check(
                    f"warehouse: every {source.split('.')[1]} row joins {dimension}",
                    0,
                    int(orphans),
                    0,
                    orphans == 0,
                    f"{source}.{column} without a match",
                )
            )
    for relation, key in KEYS.items():
        duplicates = _one(conn, f"select count(*) - count(distinct {key}) from {relation}")
        checks.append(Check(f"warehouse: {relation} {key} unique", 0, int(duplicates), 0, duplicates == 0))
    return checks


def _security_checks(conn: psycopg.Connection[Any]) -> list[Check]:
    role = conn.execute(
        "select rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls, rolconnlimit, "
        "coalesce((select array_to_string(setconfig, ',') from pg_db_role_setting where setrole = r.oid "
        "and setdatabase = 0), '') from pg_roles r where rolname = %s",
        [READER],
    ).fetchone()
    if role is None:
        return [Check(f"security: {READER} exists", "present", "missing", None, False, "run `llmtel load`")]
    login, superuser, createdb, createrole, replication, bypassrls, connlimit, settings = role
    powers = [
        name
        for name, value in (
            ("superuser", superuser),
            ("createdb", createdb),
            ("createrole", createrole),
            ("replication", replication),
            ("bypassrls", bypassrls),
        )
        if value
    ]
    checks = [
        Check(
            f"security: {READER} attributes",
            "login, no superuser/createdb/createrole/replication/bypassrls",
            ", ".join(powers) or ("login" if login else "no login"),
            None,
            bool(login) and not powers,
        ),
        Check(
            f"security: {READER} limits",
            "connection limit and statement_timeout set",
            f"connlimit={connlimit}; {settings}",
            None,
            connlimit >= 0 and "statement_timeout" in settings,
        ),
    ]
    memberships = [
        r[0]
        for r in conn.execute(
            "select g.rolname from pg_auth_members m join pg_roles g on g.oid = m.roleid "
            "join pg_roles u on u.oid = m.member where u.rolname = %s",
            [READER],
        )
    ]
    checks.append(
        Check(
            f"security: {READER} belongs to no other role",
            "none",
            ", ".join(memberships) or "none",
            None,
            not memberships,
        )
    )
    unreadable = [
        r[0]
        for r in conn.execute(
            "select n.nspname || '.' || c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace "
            "where n.nspname = any(%s) and c.relkind in ('r', 'v', 'm', 'p') "
            "and not has_table_privilege(%s, c.oid, 'SELECT')",
            [list(MART_SCHEMAS), READER],
        )
    ]
    mart_tables = _one(
        conn,
        "select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace "
        "where n.nspname = any(%s) and c.relkind in ('r', 'p')",
        [list(MART_SCHEMAS)],
    )
    checks.append(
        Check(
            f"security: {READER} can read every mart table",
            f"{mart_tables} tables readable",
            ", ".join(unreadable) or "all",
            None,
            not unreadable and mart_tables > 0,
        )
    )
    writable = [
        r[0]
        for r in conn.execute(
            "select n.nspname || '.' || c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace "
            "where c.relkind in ('r', 'v', 'm', 'p', 'f') and n.nspname not in ('pg_catalog', 'information_schema') "
            "and has_table_privilege(%s, c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER')",
            [READER],
        )
    ]
    writable += [
        f"sequence {r[0]}"
        for r in conn.execute(
            "select n.nspname || '.' || c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace "
            "where c.relkind = 'S' "
            "and case when c.relkind = 'S' then has_sequence_privilege(%s, c.oid, 'USAGE, UPDATE') else false end",
            [READER],
        )
    ]
    checks.append(
        Check(
            f"security: {READER} can write no table",
            "none",
            ", ".join(writable[:5]) or "none",
            None,
            not writable,
        )
    )
    creatable = [
        r[0]
        for r in conn.execute(
            "select nspname from pg_namespace where nspname not like 'pg\\_%%' and nspname <> 'information_schema' "
            "and has_schema_privilege(%s, oid, 'CREATE')",
            [READER],
        )
    ]
    if _one(conn, "select has_database_privilege(%s, current_database(), 'CREATE')", [READER]):
        creatable.append("database (CREATE)")
    if _one(conn, "select has_database_privilege(%s, current_database(), 'TEMPORARY')", [READER]):
        creatable.append("database (TEMPORARY)")
    if _one(conn, "select has_function_privilege(%s, 'pg_catalog.lo_create(oid)', 'EXECUTE')", [READER]):
        creatable.append("large objects (lo_create)")
    checks.append(
        Check(
            f"security: {READER} can create nothing",
            "none",
            ", ".join(creatable) or "none",
            None,
            not creatable,
        )
    )
    hidden = [
        s
        for s in ("raw_staging", "public_staging")
        if _one(
            conn,
            "select has_schema_privilege(%s, %s, 'USAGE') from pg_namespace where nspname = %s",
            [READER, s, s],
        )
    ]
    checks.append(
        Check(
            f"security: {READER} cannot see raw or staging",
            "no usage",
            ", ".join(hidden) or "no usage",
            None,
            not hidden,
        )
    )
    defaults = {
        r[0]
        for r in conn.execute(
            "select n.nspname from pg_default_acl d join pg_namespace n on n.oid = d.defaclnamespace "
            "where d.defaclobjtype = 'r' and exists (select 1 from aclexplode(d.defaclacl) a join pg_roles g "
            "on g.oid = a.grantee where g.rolname = %s and a.privilege_type = 'SELECT')",
            [READER],
        )
    }
    checks.append(
        Check(
            f"security: future mart tables are granted to {READER}",
            ", ".join(MART_SCHEMAS),
            ", ".join(sorted(defaults)) or "none",
            None,
            defaults >= set(MART_SCHEMAS),
        )
    )
    return checks


def _dbt_checks(target: Target, home: Path, load_id: str, run_dbt_tests: bool | None) -> list[Check]:
    from llmtelemetry.dbt_runner import run_build

    record = last_build(target, home)
    fresh = record is not None and record.get("load_id") == load_id and record.get("llmtel_version") == __version__
    if run_dbt_tests or (run_dbt_tests is None and not fresh):
        result = run_build(target, home, select=None, command="test")
        summary, failed, source = (
            result.summary(),
            [f"{n.kind} {n.name}" for n in result.failed],
            "fresh dbt test",
        )
    elif record is not None:
        summary, failed, source = (
            record["summary"],
            record["failed"],
            f"llmtel transform at {record['finished_at']}",
        )
    else:  # pragma: no cover - covered by the branch above
        return []
    passed = summary["tests_passed"]
    return [
        Check(
            "dbt: every test passes",
            f"{passed + len(failed)} passed",
            f"{passed} passed, {len(failed)} failed",
            0,
            not failed and passed > 0,
            "; ".join(failed[:5]) or source,
        )
    ]
