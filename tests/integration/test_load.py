"""`llmtel load` against real PostgreSQL: the machine's server and the embedded one."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
import pyarrow as pa
import pytest

from llmtelemetry import GenerateConfig, fingerprint, generate
from llmtelemetry.cli import main
from llmtelemetry.errors import DatabaseError
from llmtelemetry.generator.schema import SCHEMAS
from llmtelemetry.warehouse.connection import Target
from llmtelemetry.warehouse.load import LOAD_LOCK_KEY, DirectorySource, GeneratorSource, load_raw_tables
from tests.conftest import stopped_by
from tests.integration.conftest import Server, query

SMALL = GenerateConfig(seed=11, rows=30_000, users=300)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LLMTEL_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("LLMTEL_DSN", raising=False)
    monkeypatch.delenv("LLMTEL_READER_PASSWORD", raising=False)
    return tmp_path / "home"


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def db_table(target: Target, table: str) -> pa.Table:
    """A raw table read back from the database, in request_id / key order."""
    schema = SCHEMAS[table]
    key = schema.names[0]
    columns = ", ".join(f'"{name}"' for name in schema.names)
    with psycopg.connect(target.dsn) as conn:
        rows = conn.execute(f'select {columns} from raw_staging."{table}" order by "{key}"').fetchall()
    data = {name: [str(r[i]) if name == "request_id" else r[i] for r in rows] for i, name in enumerate(schema.names)}
    return pa.Table.from_pydict(data, schema=schema)


def source_table(config: GenerateConfig, table: str) -> pa.Table:
    tbl = generate(config).table(table)
    return tbl.sort_by([(tbl.schema.names[0], "ascending")])


def counts(target: Target) -> dict[str, int]:
    return {name: query(target, f'select count(*) from raw_staging."{name}"')[0][0] for name in SCHEMAS}  # type: ignore[misc]


# ---------------------------------------------------------------- round trip


def test_streamed_load_round_trips_every_value(database: Target, home: Path) -> None:
    result = load_raw_tables(database, GeneratorSource(SMALL))
    assert result.tables == {"users": 300, "models": 16, "endpoints": 6, "dates": 181, "api_requests": 30_000}
    for table in SCHEMAS:
        assert fingerprint(db_table(database, table)) == fingerprint(source_table(SMALL, table)), table


def test_load_from_a_directory_csv_and_parquet(database: Target, tmp_path: Path) -> None:
    for fmt in ("csv", "parquet"):
        out = tmp_path / fmt
        generate(SMALL).write(out, format=fmt)  # type: ignore[arg-type]
        load_raw_tables(database, DirectorySource(out))
        assert fingerprint(db_table(database, "api_requests")) == fingerprint(source_table(SMALL, "api_requests"))
        assert fingerprint(db_table(database, "users")) == fingerprint(source_table(SMALL, "users"))


def test_keys_are_declared(database: Target) -> None:
    load_raw_tables(database, GeneratorSource(SMALL))
    constraints = {
        (table, kind)
        for table, kind in query(
            database,
            "select conrelid::regclass::text, contype::text from pg_constraint "
            "where connamespace = 'raw_staging'::regnamespace",
        )
    }
    for table in SCHEMAS:
        assert (f"raw_staging.{table}", "p") in constraints
    assert ("raw_staging.api_requests", "f") in constraints
    fks = query(
        database,
        "select count(*) from pg_constraint where contype = 'f' and convalidated "
        "and conrelid = 'raw_staging.api_requests'::regclass",
    )
    assert fks[0][0] == 3
    types = dict(
        query(
            database,
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'raw_staging' and table_name = 'api_requests'",
        )
    )
    assert types["request_id"] == "uuid" and types["requested_at"] == "timestamp with time zone"
    assert types["cost_usd"] == "numeric"


@pytest.mark.parametrize("mode", ["stream", "directory"])
def test_cli_load_500k(
    database: Target, home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], mode: str
) -> None:
    args = ["load", "--dsn", database.dsn, "--seed", "42", "--rows", "500000", "--json"]
    if mode == "directory":
        assert cli(capsys, "generate", "--seed", "42", "--rows", "500000", "--out", str(tmp_path / "d"))[0] == 0
        args = ["load", "--dsn", database.dsn, "--from", str(tmp_path / "d"), "--json"]
    code, out, _ = cli(capsys, *args)
    assert code == 0
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["tables"]["api_requests"] == 500_000
    assert counts(database) == {
        "users": 2000,
        "models": 16,
        "endpoints": 6,
        "dates": 181,
        "api_requests": 500_000,
    }
    before = query(
        database,
        "select sum(total_tokens), sum(cost_usd), min(requested_at), max(request_id::text) "
        "from raw_staging.api_requests",
    )
    code, out, _ = cli(capsys, *args)  # again: nothing changes but the freshness
    assert code == 0
    after = query(
        database,
        "select sum(total_tokens), sum(cost_usd), min(requested_at), max(request_id::text) "
        "from raw_staging.api_requests",
    )
    assert after == before
    history = query(database, "select count(*), count(distinct loaded_at) from raw_staging.load_history")
    assert history[0] == (2, 2)


# ---------------------------------------------------------------- atomic, views, locks


def test_dependent_views_survive_a_reload(database: Target) -> None:
    load_raw_tables(database, GeneratorSource(SMALL))
    with psycopg.connect(database.dsn, autocommit=True) as conn:
        conn.execute("create schema public_staging")
        conn.execute(
            "create view public_staging.stg_api_requests as select request_id, total_tokens, user_id "
            "from raw_staging.api_requests"
        )
        conn.execute("create view public_staging.stg_users as select * from raw_staging.users")
        conn.execute(
            "create view public.tokens_by_user as select s.user_id, sum(s.total_tokens) as tokens "
            "from public_staging.stg_api_requests s join public_staging.stg_users u using (user_id) "
            "group by s.user_id"
        )
    bigger = SMALL.replace(rows=45_000, seed=12)
    result = load_raw_tables(database, GeneratorSource(bigger))
    assert set(result.views_rebound) == {"public_staging.stg_api_requests", "public_staging.stg_users"}
    assert query(database, "select count(*) from public_staging.stg_api_requests")[0][0] == 45_000
    total = query(database, "select sum(tokens) from public.tokens_by_user")[0][0]
    assert total == query(database, "select sum(total_tokens) from raw_staging.api_requests")[0][0]
    assert not query(
        database,
        "select relname from pg_class where relname like '%%\\_\\_old' or relname like '%%\\_\\_loading'",
    )


def test_sigkill_mid_copy_keeps_the_old_data(database: Target, home: Path) -> None:
    load_raw_tables(database, GeneratorSource(SMALL))
    before = fingerprint(db_table(database, "api_requests"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "llmtelemetry", "load", "--dsn", database.dsn, "--rows", "20000000"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    copied = 0
    while time.monotonic() < deadline and copied < 200_000:
        rows = query(database, "select coalesce(max(tuples_processed), 0) from pg_stat_progress_copy")
        copied = int(rows[0][0])  # type: ignore[call-overload]
        time.sleep(0.05)
    assert copied >= 200_000, "the COPY never got going"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert fingerprint(db_table(database, "api_requests")) == before
    assert not query(database, "select relname from pg_class where relname like '%%\\_\\_loading'")
    # The next load succeeds (waiting, if need be, for the killed session's backend to go).
    result = load_raw_tables(database, GeneratorSource(SMALL.replace(seed=99)), lock_wait=30)
    assert result.tables["api_requests"] == SMALL.rows


@stopped_by(signal.SIGINT, signal.SIGTERM)
def test_ctrl_c_or_sigterm_mid_load_exits_and_keeps_the_old_data(
    database: Target, home: Path, stop: signal.Signals, code: int, message: str
) -> None:
    load_raw_tables(database, GeneratorSource(SMALL))
    before = counts(database)
    proc = subprocess.Popen(
        [sys.executable, "-m", "llmtelemetry", "load", "--dsn", database.dsn, "--rows", "20000000"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if query(database, "select count(*) from pg_stat_progress_copy")[0][0]:
            break
        time.sleep(0.05)
    proc.send_signal(stop)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    assert message in err and "Traceback" not in err
    assert counts(database) == before
    time.sleep(0.5)
    assert not query(
        database,
        "select pid from pg_stat_activity where query ilike 'copy%%' and datname = %s",
        [query(database, "select current_database()")[0][0]],
    )


def test_a_second_load_is_refused_or_waits(database: Target, capsys: pytest.CaptureFixture[str], home: Path) -> None:
    with psycopg.connect(database.dsn, autocommit=True) as holder:
        holder.execute("select pg_advisory_lock(%s)", [LOAD_LOCK_KEY])
        code, _, err = cli(capsys, "load", "--dsn", database.dsn, "--rows", "1000", "--users", "10")
        assert code == 1 and "another llmtel load is running" in err and "fix:" in err
        threading.Timer(1.0, lambda: holder.execute("select pg_advisory_unlock(%s)", [LOAD_LOCK_KEY])).start()
        code, _, err = cli(capsys, "load", "--dsn", database.dsn, "--rows", "1000", "--users", "10", "--wait", "20")
        assert code == 0, err
    assert counts(database)["api_requests"] == 1000


def test_concurrent_loads_never_both_write(database: Target, home: Path) -> None:
    command = [sys.executable, "-m", "llmtelemetry", "load", "--dsn", database.dsn, "--rows", "300000"]
    procs = [
        subprocess.Popen([*command, "--seed", str(seed)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for seed in (1, 2)
    ]
    results = [(p.wait(timeout=120), p.stderr.read() if p.stderr else "") for p in procs]
    codes = sorted(code for code, _ in results)
    assert codes[0] == 0
    if codes[1] != 0:
        assert any("another llmtel load is running" in err for _, err in results)
    assert counts(database)["api_requests"] == 300_000
    seeds = query(database, "select seed from raw_staging.load_history")
    assert len(seeds) == codes.count(0)


def test_lock_waits_are_bounded(database: Target) -> None:
    load_raw_tables(database, GeneratorSource(SMALL))
    before = counts(database)
    with psycopg.connect(database.dsn) as reader:  # a long dashboard query holding its lock
        reader.execute("select count(*) from raw_staging.api_requests").fetchone()
        started = time.monotonic()
        with pytest.raises(DatabaseError, match="stayed in use"):
            load_raw_tables(database, GeneratorSource(SMALL.replace(seed=5)), lock_timeout=0.3, swap_attempts=2)
        assert time.monotonic() - started < 30
        reader.rollback()
    assert counts(database) == before
    load_raw_tables(database, GeneratorSource(SMALL.replace(seed=5)), lock_timeout=0.3)


# ---------------------------------------------------------------- bad input


def _damage_cases(tmp_path: Path) -> dict[str, tuple[list[str], str]]:
    good = tmp_path / "good"
    generate(SMALL.replace(rows=2_000)).write(good)
    cases: dict[str, tuple[list[str], str]] = {
        "missing dir": (["--from", str(tmp_path / "nope")], "is not a directory"),
        "zero rows": (["--rows", "0"], "--rows"),
    }
    truncated = tmp_path / "truncated"
    generate(SMALL.replace(rows=2_000)).write(truncated)
    data = (truncated / "api_requests.parquet").read_bytes()
    (truncated / "api_requests.parquet").write_bytes(data[: len(data) // 2])
    cases["truncated parquet"] = (["--from", str(truncated)], "does not match its manifest")
    corrupt = tmp_path / "corrupt"
    generate(SMALL.replace(rows=2_000)).write(corrupt)
    (corrupt / "manifest.json").write_text("{ not json")
    cases["corrupt manifest"] = (["--from", str(corrupt)], "not a valid llmtel manifest")
    columns = tmp_path / "columns"
    generate(SMALL.replace(rows=2_000)).write(columns)
    import pyarrow.parquet as pq

    from llmtelemetry.generator.manifest import Manifest, file_sha256

    table = pq.read_table(columns / "users.parquet").drop_columns(["industry"])
    pq.write_table(table, columns / "users.parquet")
    manifest = json.loads((columns / "manifest.json").read_text())
    manifest["tables"]["users"]["file_sha256"] = file_sha256(columns / "users.parquet")
    (columns / "manifest.json").write_text(json.dumps(manifest))
    assert Manifest.read(columns)
    cases["wrong column count"] = (["--from", str(columns)], "columns")
    return cases


def test_bad_inputs_fail_cleanly_and_change_nothing(
    database: Target, tmp_path: Path, capsys: pytest.CaptureFixture[str], home: Path
) -> None:
    load_raw_tables(database, GeneratorSource(SMALL))
    before = fingerprint(db_table(database, "api_requests"))
    for name, (args, message) in _damage_cases(tmp_path).items():
        code, out, err = cli(capsys, "load", "--dsn", database.dsn, *args)
        assert code in (1, 2), name
        lines = err.strip().splitlines()
        assert lines[0].startswith("error: ") and message in lines[0], (name, err)
        assert "Traceback" not in err + out, name
    assert fingerprint(db_table(database, "api_requests")) == before


def test_unreachable_server_fails_fast(capsys: pytest.CaptureFixture[str], home: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = time.monotonic()
    code, _, err = cli(capsys, "load", "--dsn", f"postgresql://u:hunter2@127.0.0.1:{port}/db", "--rows", "10")
    assert code == 1 and time.monotonic() - started < 5
    assert f"error: cannot reach 127.0.0.1:{port} (connection refused)" in err and "fix:" in err
    assert "hunter2" not in err


def test_silent_server_times_out_within_about_ten_seconds(capsys: pytest.CaptureFixture[str], home: Path) -> None:
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # accepts connections, never speaks
    port = silent.getsockname()[1]
    try:
        started = time.monotonic()
        code, _, err = cli(capsys, "load", "--dsn", f"postgresql://u@127.0.0.1:{port}/db", "--rows", "10")
        elapsed = time.monotonic() - started
    finally:
        silent.close()
    assert code == 1 and 5 < elapsed < 15
    assert "error: cannot reach" in err and "no answer within 10 s" in err


def test_wrong_password_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str], home: Path) -> None:
    from llmtelemetry.warehouse import embedded

    own_home = tmp_path / "pw-home"
    target = embedded.keep_running(own_home)
    try:
        with psycopg.connect(target.dsn, autocommit=True) as conn:
            conn.execute("create role secretive login password 'right-password'")
            hba = Path(conn.execute("show hba_file").fetchone()[0])  # type: ignore[index]
        hba.write_text("local all secretive scram-sha-256\n" + hba.read_text())
        with psycopg.connect(target.dsn, autocommit=True) as conn:
            conn.execute("select pg_reload_conf()")
        time.sleep(0.5)
        wrong = target.with_user("secretive", "wrong-password")
        code, out, err = cli(capsys, "load", "--dsn", wrong.dsn, "--rows", "10")
        assert code == 1
        assert err.startswith("error: wrong password for secretive"), err
        assert "wrong-password" not in out + err
    finally:
        embedded.stop(own_home)


def test_no_password_in_any_output(database: Target, capsys: pytest.CaptureFixture[str], home: Path) -> None:
    dsn = database.with_user("postgres", "sup3r-s3cret").dsn  # trust auth: the password is ignored
    code, out, err = cli(capsys, "load", "--dsn", dsn, "--rows", "1000", "--users", "10")
    code_json, out_json, err_json = cli(capsys, "load", "--dsn", dsn, "--rows", "1000", "--users", "10", "--json")
    assert code == 0 and code_json == 0
    reader_password = (home / "secrets" / "reader_password").read_text().strip()
    everything = out + err + out_json + err_json
    assert "sup3r-s3cret" not in everything and reader_password not in everything
    assert "***" in everything
    assert oct((home / "secrets" / "reader_password").stat().st_mode & 0o777) == "0o600"


# ---------------------------------------------------------------- embedded default


def test_embedded_default_lifecycle(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LLMTEL_")}
    env["LLMTEL_HOME"] = str(tmp_path / "home")

    def llmtel(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "llmtelemetry", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    assert llmtel("generate", "--rows", "20000", "--users", "50", "--out", str(tmp_path / "d")).returncode == 0
    first = llmtel("load", "--from", str(tmp_path / "d"), "--json")
    assert first.returncode == 0, first.stderr
    summary = json.loads(first.stdout.strip().splitlines()[-1])
    assert summary["embedded"] is True and summary["tables"]["api_requests"] == 20_000
    assert "dbname=llmtel" in summary["target"]
    status = json.loads(llmtel("db", "status", "--json").stdout.strip().splitlines()[-1])
    assert status["initialised"] and not status["running"]  # the last user stopped it
    assert llmtel("db", "start").returncode == 0
    again = llmtel("load", "--rows", "30000", "--users", "50", "--json")
    assert again.returncode == 0, again.stderr
    status = json.loads(llmtel("db", "status", "--json").stdout.strip().splitlines()[-1])
    assert status["running"] and status["kept"]
    with psycopg.connect(Target(f"postgresql://postgres@/llmtel?host={status['socket_dir']}").dsn) as conn:
        assert conn.execute("select count(*) from raw_staging.api_requests").fetchone() == (30_000,)
        assert conn.info.server_version >= 180000
    assert "stopped" in llmtel("db", "stop").stdout
    status = json.loads(llmtel("db", "status", "--json").stdout.strip().splitlines()[-1])
    assert not status["running"]


def test_external_and_embedded_both_serve(server: Server, database: Target) -> None:
    version = query(database, "show server_version_num")[0][0]
    assert int(version) >= (180000 if server.kind == "embedded" else 150000)  # type: ignore[call-overload]
    load_raw_tables(database, GeneratorSource(SMALL.replace(rows=1_000)))
    assert counts(database)["api_requests"] == 1_000
