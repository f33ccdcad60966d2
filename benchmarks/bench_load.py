"""Load speed: `llmtel load` (all five tables) against `psql \\copy` of api_requests alone.

For each size: generate a directory (Parquet) and a CSV copy of api_requests, time
`psql \\copy` of that CSV into a plain table (the ceiling), then `llmtel load --from DIR` and
`llmtel load --rows N` (generate and stream). Each llmtel run is a fresh process; peak RSS comes
from the kernel (wait4). Never asserts on time.

    python benchmarks/bench_load.py [--dsn postgresql://postgres@127.0.0.1:5432/postgres] [--rows 500000]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import psycopg
from _measure import run_tracked, scratch_database

SCRATCH_DB = "llmtel_bench"


def llmtel(*args: str) -> tuple[dict[str, object], float, float]:
    """Run llmtel with --json; (summary, wall seconds, peak RSS MiB)."""
    stdout, wall, rss = run_tracked([sys.executable, "-m", "llmtelemetry", *args, "--json"])
    return json.loads(stdout.strip().splitlines()[-1]), wall, rss


def _psql_copy(psql: str, dsn: str, copy_cmd: str) -> float:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("truncate public.psql_copy")
    return run_tracked([psql, dsn, "-q", "-c", copy_cmd])[1]


def best(repeat: int, *args: str) -> tuple[dict[str, object], float, float]:
    """The fastest of `repeat` runs (by the load's own seconds), with the largest peak RSS."""
    runs = [llmtel(*args) for _ in range(repeat)]
    fastest = min(runs, key=lambda run: float(run[0]["seconds"]))  # type: ignore[arg-type]
    return fastest[0], fastest[1], max(run[2] for run in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--dsn",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="an admin connection; a scratch database is created beside it",
    )
    parser.add_argument("--rows", type=int, nargs="+", default=[500_000, 5_000_000])
    parser.add_argument("--psql", default=shutil.which("psql") or "psql")
    parser.add_argument("--repeat", type=int, default=2, help="runs per measurement; the fastest is kept")
    args = parser.parse_args()

    with psycopg.connect(args.dsn) as conn:
        server = conn.execute("show server_version").fetchone()[0]  # type: ignore[index]
    scratch = Path(tempfile.mkdtemp(prefix="llmtel-bench-load-"))
    env_home = scratch / "home"
    os.environ["LLMTEL_HOME"] = str(env_home)
    results = []
    try:
        with scratch_database(args.dsn, SCRATCH_DB) as dsn:
            for rows in args.rows:
                data = scratch / f"d{rows}"
                csv = scratch / f"c{rows}"
                run_tracked([sys.executable, "-m", "llmtelemetry", "generate", "--rows", str(rows), "--out", str(data)])
                run_tracked(
                    [
                        sys.executable,
                        "-m",
                        "llmtelemetry",
                        "generate",
                        "--rows",
                        str(rows),
                        "--format",
                        "csv",
                        "--out",
                        str(csv),
                    ]
                )
                # Ceiling: psql \copy of the same api_requests rows into a plain table (no keys).
                llmtel("load", "--dsn", dsn, "--rows", "10", "--users", "5")  # creates raw_staging for LIKE
                with psycopg.connect(dsn, autocommit=True) as conn:
                    conn.execute("drop table if exists public.psql_copy")
                    conn.execute("create table public.psql_copy (like raw_staging.api_requests)")
                copy_cmd = f"\\copy public.psql_copy from '{csv / 'api_requests.csv'}' with (format csv, header)"
                psql_seconds = min(_psql_copy(args.psql, dsn, copy_cmd) for _ in range(args.repeat))
                from_dir, dir_wall, dir_rss = best(args.repeat, "load", "--dsn", dsn, "--from", str(data))
                streamed, stream_wall, stream_rss = best(args.repeat, "load", "--dsn", dsn, "--rows", str(rows))
                result = {
                    "rows": rows,
                    "psql_copy_api_requests_s": round(psql_seconds, 3),
                    "load_from_dir_s": from_dir["seconds"],
                    "load_from_dir_process_s": round(dir_wall, 3),
                    "load_from_dir_peak_rss_mib": round(dir_rss, 1),
                    "ratio_from_dir_vs_psql": round(float(from_dir["seconds"]) / psql_seconds, 3),  # type: ignore[arg-type]
                    "load_streamed_s": streamed["seconds"],
                    "load_streamed_process_s": round(stream_wall, 3),
                    "load_streamed_peak_rss_mib": round(stream_rss, 1),
                    "ratio_streamed_vs_psql": round(float(streamed["seconds"]) / psql_seconds, 3),  # type: ignore[arg-type]
                    "streamed_rows_per_s": streamed["rows_per_second"],
                }
                results.append(result)
                print(
                    f"rows={rows:>10,}  psql \\copy api_requests {psql_seconds:6.2f} s | "
                    f"llmtel load --from {result['load_from_dir_s']:6.2f} s "
                    f"(x{result['ratio_from_dir_vs_psql']:.2f},"
                    f" RSS {dir_rss:.0f} MiB) | streamed {result['load_streamed_s']:6.2f} s "
                    f"(x{result['ratio_streamed_vs_psql']:.2f}, RSS {stream_rss:.0f} MiB)",
                    flush=True,
                )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(json.dumps({"server": server, "cpus": os.cpu_count(), "results": results}))


if __name__ == "__main__":
    main()
