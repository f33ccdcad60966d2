"""Transform speed: `llmtel transform` against running the models' compiled SQL directly.

For each size: load generated rows into a scratch database, run `llmtel transform` (a fresh
process; full `dbt build`: models, seeds, 291 data tests, unit tests), then execute the compiled
SQL of every model in dependency order as plain `CREATE TABLE/VIEW ... AS` statements in a
scratch schema (the ceiling: the same SQL with no dbt, no tests, no contracts or keys). Prints
dbt's overhead ratio and where dbt's time goes (models, tests, unit tests, the rest).

    python benchmarks/bench_transform.py [--dsn postgresql://postgres@127.0.0.1:5432/postgres] [--rows N ...]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
from _measure import scratch_database

SCRATCH_DB = "llmtel_bench_transform"


def run(*args: str) -> tuple[dict[str, object], float]:
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "llmtelemetry", *args, "--json"], capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"llmtel {' '.join(args)} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1]), time.perf_counter() - started


def direct_sql_seconds(dsn: str, target_dir: Path) -> float:
    """Run each model's compiled SQL as CREATE TABLE/VIEW in schema bench_direct, in DAG order."""
    manifest = json.loads((target_dir / "manifest.json").read_text())
    nodes = {uid: n for uid, n in manifest["nodes"].items() if n["resource_type"] == "model"}
    order: list[str] = []
    seen: set[str] = set()

    def visit(uid: str) -> None:
        if uid in seen or uid not in nodes:
            return
        seen.add(uid)
        for parent in nodes[uid]["depends_on"]["nodes"]:
            visit(parent)
        order.append(uid)

    for uid in sorted(nodes):
        visit(uid)
    total = 0.0
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("drop schema if exists bench_direct cascade")
        conn.execute("create schema bench_direct")
        for uid in order:
            node = nodes[uid]
            compiled = target_dir / "compiled" / node["package_name"] / node["original_file_path"]
            sql = "\n".join(line for line in compiled.read_text().splitlines() if "depends_on" not in line)
            kind = "view" if node["config"]["materialized"] == "view" else "table"
            name = f"bench_direct.{node['name']}"
            started = time.perf_counter()
            conn.execute(f"create {kind} {name} as {sql}")  # type: ignore[arg-type]
            total += time.perf_counter() - started
        conn.execute("drop schema bench_direct cascade")
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dsn", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--rows", type=int, nargs="+", default=[500_000, 5_000_000])
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="llmtel-bench-transform-"))
    os.environ["LLMTEL_HOME"] = str(home)
    results = []
    try:
        with scratch_database(args.dsn, SCRATCH_DB) as dsn:
            for rows in args.rows:
                run("load", "--dsn", dsn, "--rows", str(rows))
                summary, wall = run("transform", "--dsn", dsn)
                run_results = json.loads((home / "dbt" / "target" / "run_results.json").read_text())
                by_kind: dict[str, float] = {}
                for item in run_results["results"]:
                    kind = item["unique_id"].split(".")[0]
                    by_kind[kind] = by_kind.get(kind, 0.0) + item["execution_time"]
                direct = direct_sql_seconds(dsn, home / "dbt" / "target")
                result = {
                    "rows": rows,
                    "transform_s": summary["seconds"],
                    "transform_process_s": round(wall, 2),
                    "models_direct_sql_s": round(direct, 2),
                    "overhead_ratio": round(float(summary["seconds"]) / direct, 2),  # type: ignore[arg-type]
                    # summed over dbt's 4 threads, so larger than the elapsed time
                    "node_seconds_by_kind": {k: round(v, 2) for k, v in by_kind.items()},
                    "dbt_elapsed_s": round(run_results["elapsed_time"], 2),
                    "tests_passed": summary["tests_passed"],
                }
                results.append(result)
                print(
                    f"rows={rows:>10,}  llmtel transform {result['transform_s']:7.2f} s  "
                    f"(process {wall:.1f} s)  compiled model SQL alone {direct:6.2f} s  "
                    f"ratio x{result['overhead_ratio']}  node seconds by kind: {result['node_seconds_by_kind']}",
                    flush=True,
                )
    finally:
        shutil.rmtree(home, ignore_errors=True)
    print(json.dumps({"cpus": os.cpu_count(), "results": results}))


if __name__ == "__main__":
    main()
