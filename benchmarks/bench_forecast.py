"""Forecaster speed: one `forecast_usage` (fit, conformal calibration, backtest) per grain.

Builds the default warehouse (500K rows, seed 42) in a scratch database with `llmtel up
--no-serve`, then times the forecast the app's first page runs (14 days, overall) in a fresh
process per case: as shipped (scikit-learn's boosting on one OpenMP thread) and, for
comparison, on two threads. With `--busy K`, K busy-looping processes run alongside each case,
as on a shared CI machine where other tests, a browser and PostgreSQL compete for the cores.

    python benchmarks/bench_forecast.py [--dsn postgresql://postgres@127.0.0.1:5432/postgres] [--busy 0 4]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

import psycopg
from _measure import run_tracked, scratch_database

SCRATCH_DB = "llmtel_bench_forecast"


def child(dsn: str, grain: str, threads: int) -> None:
    """One forecast in this process with boosting on `threads` OpenMP threads; prints seconds."""
    from threadpoolctl import threadpool_limits

    from llmtelemetry.forecaster import forecast_usage, model

    # The shipped limit is looked up when a fit starts: replace it to measure other thread counts.
    model.threadpool_limits = lambda limits, user_api: threadpool_limits(threads, user_api)  # type: ignore[assignment,misc]
    with psycopg.connect(dsn) as conn:
        started = time.perf_counter()
        result = forecast_usage(conn, grain, 14, "overall")
        print(json.dumps({"seconds": time.perf_counter() - started, "wape": result.backtest.wape}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dsn", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--busy", type=int, nargs="+", default=[0, 4], help="busy processes alongside")
    parser.add_argument("--child", nargs=3, metavar=("DSN", "GRAIN", "THREADS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1], int(args.child[2]))
        return
    with scratch_database(args.dsn, SCRATCH_DB) as dsn:
        subprocess.run(
            [sys.executable, "-m", "llmtelemetry", "up", "--no-serve", "--dsn", dsn, "--json"],
            check=True,
            capture_output=True,
        )
        print("| grain | OpenMP threads | busy processes | forecast s | process s | peak RSS |")
        print("|---|---:|---:|---:|---:|---:|")
        for busy in args.busy:
            hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(busy)]
            try:
                for grain in ("day", "hour"):
                    for threads in (1, 2):
                        out, wall, rss = run_tracked([sys.executable, __file__, "--child", dsn, grain, str(threads)])
                        seconds = json.loads(out)["seconds"]
                        shipped = " (shipped)" if threads == 1 else ""
                        print(f"| {grain} | {threads}{shipped} | {busy} | {seconds:.1f} | {wall:.1f} | {rss:.0f} MiB |")
            finally:
                for hog in hogs:
                    hog.kill()
                    hog.wait()


if __name__ == "__main__":
    main()
