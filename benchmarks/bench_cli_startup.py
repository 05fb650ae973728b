"""Benchmark of the command line's start-up: `--help` and read-only commands against the 0.3 s goal.

Run: `.venv/bin/python benchmarks/bench_cli_startup.py [--runs N]`. Each command runs N times (default 7)
as a new process, as a user would start it; the figure is the median wall time. It is printed as is,
as the ratio to the goal (0.3 s) and as a multiple of `python -c pass` (the interpreter's own start,
which no program can go below).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GOAL_S = 0.3


def median_seconds(command: list[str], runs: int, env: dict[str, str]) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    program = str(Path(sys.executable).with_name("kyphoangle"))
    with tempfile.TemporaryDirectory(prefix="kyphoangle-bench-cli-") as folder:
        work = Path(folder)
        env = {
            **os.environ,
            "KYPHOANGLE_LOG_DIR": str(work / "logs"),
            "KYPHOANGLE_DATA_DIR": str(work / "data"),
        }
        subprocess.run(
            [sys.executable, "-m", "kyphoangle.demo", str(work / "films"), "--subjects", "1"],
            check=True,
            capture_output=True,
        )
        film, marks = work / "films" / "DEMO-001" / "D3.dcm", work / "films" / "truth" / "DEMO-001_D3.json"
        database = str(work / "study.sqlite3")
        subprocess.run(
            [program, "--db", database, "users", "add", "admin", "--role", "admin"],
            env={**env, "KYPHOANGLE_NEW_PASSWORD": "benchmark admin"},
            check=True,
            capture_output=True,
        )
        floor = median_seconds([sys.executable, "-c", "pass"], args.runs, env)
        cases = {
            "kyphoangle --help": [program, "--help"],
            "kyphoangle --version": [program, "--version"],
            "kyphoangle measure --help": [program, "measure", "--help"],
            "kyphoangle measure FILM --landmarks READ.json": [
                program,
                "measure",
                str(film),
                "--landmarks",
                str(marks),
            ],
            "kyphoangle audit verify (SQLite)": [program, "--db", database, "audit", "verify"],
        }
        print(f"python -c pass: {floor * 1000:.0f} ms (the floor)")
        print(f"{'command':<48} {'median':>8} {'x floor':>8} {'ratio to 0.3 s goal':>20}")
        for name, command in cases.items():
            seconds = median_seconds(command, args.runs, env)
            print(f"{name:<48} {seconds * 1000:>6.0f} ms {seconds / floor:>8.1f} {seconds / GOAL_S:>20.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
