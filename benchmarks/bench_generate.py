"""Generation speed and memory: `llmtel generate` to Parquet at 500K and 5M rows, 1 and 2 workers.

Each run is a fresh `llmtel generate` process; its peak RSS comes from the kernel (wait4).
Prints one line per run and a JSON summary. Never asserts on time: machines are noisy.

    python benchmarks/bench_generate.py [--rows 500000 5000000] [--workers 1 2] [--repeat 1]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

from _measure import run_tracked


def run_once(rows: int, workers: int, out: Path) -> dict[str, float]:
    command = [
        sys.executable,
        "-m",
        "llmtelemetry",
        "generate",
        "--rows",
        str(rows),
        "--workers",
        str(workers),
        "--out",
        str(out),
        "--force",
        "--json",
    ]
    stdout, wall, peak_rss = run_tracked(command)
    manifest = json.loads((out / "manifest.json").read_text())
    requests_seconds = manifest["run"]["table_seconds"]["api_requests"]
    summary = json.loads(stdout.strip().splitlines()[-1])
    return {
        "rows": rows,
        "workers": workers,
        "api_requests_seconds": requests_seconds,
        "api_requests_rows_per_s": round(rows / requests_seconds),
        "generate_seconds": summary["seconds"],
        "process_wall_seconds": round(wall, 3),
        "peak_rss_mib": round(peak_rss, 1),
        "parquet_mib": round((out / "api_requests.parquet").stat().st_size / 2**20, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[500_000, 5_000_000])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeat", type=int, default=1, help="runs per case; the fastest is kept")
    args = parser.parse_args()

    results = []
    scratch = Path(tempfile.mkdtemp(prefix="llmtel-bench-"))
    try:
        for rows in args.rows:
            for workers in args.workers:
                runs = [run_once(rows, workers, scratch / "out") for _ in range(args.repeat)]
                best = min(runs, key=lambda r: r["api_requests_seconds"])
                best["peak_rss_mib"] = max(r["peak_rss_mib"] for r in runs)
                results.append(best)
                b = best
                print(
                    f"rows={rows:>11,} workers={workers}"
                    f"  api_requests {b['api_requests_rows_per_s']:>11,} rows/s"
                    f" ({b['api_requests_seconds']:.2f} s)"
                    f"  whole command {b['process_wall_seconds']:.2f} s"
                    f"  peak RSS {b['peak_rss_mib']:.0f} MiB  parquet {b['parquet_mib']:.0f} MiB",
                    flush=True,
                )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(json.dumps({"cpus": os.cpu_count(), "results": results}))


if __name__ == "__main__":
    main()
