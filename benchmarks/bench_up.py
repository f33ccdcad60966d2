"""`llmtel up --no-serve` end to end: wall time and peak RSS, per stage, then a re-run.

Each run is a fresh `llmtel` process with a fresh LLMTEL_HOME (so a fresh embedded PostgreSQL,
initdb included), or, with --dsn, a fresh scratch database on that server. The second run of the
same command finds everything up to date. Peak RSS is the llmtel process's (kernel `wait4`); the
PostgreSQL server is a separate process tree and is not included.

    python benchmarks/bench_up.py [--rows 500000] [--dsn postgresql://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile

from _measure import run_tracked, scratch_database

SCRATCH_DB = "llmtel_bench_up"


def up(rows: int, dsn: str | None) -> tuple[dict[str, object], float, float]:
    command = [sys.executable, "-m", "llmtelemetry", "up", "--no-serve", "--rows", str(rows), "--json"]
    if dsn:
        command += ["--dsn", dsn]
    out, wall, rss = run_tracked(command)
    return json.loads(out.strip().splitlines()[-1]), wall, rss


def report(label: str, summary: dict[str, object], wall: float, rss: float) -> None:
    stages = summary["stages"]
    assert isinstance(stages, list)
    staged = sum(float(stage["seconds"]) for stage in stages)
    print(f"\n{label}: {wall:.1f} s wall, peak RSS {rss:.0f} MiB, changed: {summary['changed']}")
    print(f"  {'stage':<10} {'ran':<4} {'seconds':>8}")
    for stage in stages:
        print(f"  {stage['name']:<10} {'yes' if stage['ran'] else 'no':<4} {float(stage['seconds']):>8.2f}")
    note = "(Python start-up, embedded server start if any, reading the state)"
    print(f"  {'other':<10} {'':<4} {wall - staged:>8.2f}   {note}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--dsn", help="an external server (a scratch database is created and dropped)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="llmtel-bench-up-") as home:
        os.environ["LLMTEL_HOME"] = home
        os.environ.pop("LLMTEL_DSN", None)
        scratch = scratch_database(args.dsn, SCRATCH_DB) if args.dsn else contextlib.nullcontext(None)
        with scratch as target:
            where = "external server" if target else "embedded server (fresh, initdb included)"
            print(f"llmtel up --no-serve --rows {args.rows:,} on the {where}")
            report("first run", *up(args.rows, target))
            report("second run (nothing changed)", *up(args.rows, target))


if __name__ == "__main__":
    main()
