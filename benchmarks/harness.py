"""Measurement helpers shared by the benchmark scripts.

Each measured case runs in a fresh subprocess so that its peak resident
memory (``ru_maxrss``) belongs to that case alone; inside it, warm timings
are the best of several repeats after one warm-up call.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SHARED_PRICES = Path(os.environ.get("SHORTTHEHYPE_SHARED_DATA", REPO.parent / "shared" / "data" / "prices"))


def best_time(fn: Callable[[], Any], repeat: int = 5, warmup: int = 1) -> tuple[float, Any]:
    """Best wall time over ``repeat`` calls after ``warmup`` calls, and the last return value."""
    result = None
    for _ in range(warmup):
        result = fn()
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def process_times(command: list[str], runs: int, env: dict[str, str] | None = None) -> list[float]:
    """Wall time of ``runs`` fresh processes of ``command``, one after the other (any failure raises)."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        completed = subprocess.run(command, capture_output=True, text=True, env=env, cwd=REPO)
        times.append(time.perf_counter() - start)
        if completed.returncode != 0:
            raise RuntimeError(completed.stderr[-2000:])
    return times


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def run_case(script: Path, case: str, *args: str, timeout: float = 1800) -> dict[str, Any]:
    """Run ``script --case CASE ARGS`` in a fresh interpreter; it prints one JSON line last."""
    completed = subprocess.run(
        [sys.executable, str(script), "--case", case, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"case {case} failed:\n{completed.stderr[-4000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def emit(record: dict[str, Any]) -> None:
    """Print a case's result as the final JSON line (read by :func:`run_case`)."""
    record["peak_rss_mib"] = round(peak_rss_mib(), 1)
    print(json.dumps(record))


def machine_summary() -> str:
    import platform

    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
