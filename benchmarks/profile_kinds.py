"""Where each kind's fused sweep spends its time: `perf` samples named by numba kernel.

numba's machine code has no symbols, so `perf report` shows its samples as
unknown addresses.  ``run`` compiles every kernel in this process (into an
empty numba cache of its own), writes ``/tmp/perf-<pid>.map`` (the address
and size of every function numba compiled, which `perf` reads to name
them), then runs each kind's fused chunk on the 2,000 random combinations of
``bench_sweep.py``'s wide grid for ``--seconds`` and prints the
``CLOCK_MONOTONIC`` window of each kind.  ``report`` splits the samples of a
``perf record`` of that run by those windows and sums them by where they
fall: the engine, the kind's target kernel, the window's rows, the
statistics, numba's reference counting, and the rest (Python, threads).

    perf record -k CLOCK_MONOTONIC -F 999 -o /tmp/kinds.data \\
        python benchmarks/profile_kinds.py run --seconds 6 > /tmp/kinds.txt
    python benchmarks/profile_kinds.py report /tmp/kinds.data /tmp/kinds.txt

Compilation takes a few minutes (nothing comes from the usual cache).
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

KINDS = ("sixty-forty", "ai-basket", "hype-hedge", "dotcom-analog", "burry-short", "bubble-timer",
         "dotcom-analog-path", "burry-puts")

#: Where a sample falls, by the first pattern its symbol matches (the rest: Python, threads, the C library).
PLACES = (
    ("engine", re.compile(r"simulate_nb")),
    ("target kernel", re.compile(r"targets_nb")),
    ("window rows", re.compile(r"window_rows")),
    ("statistics", re.compile(r"batch_nb|metrics_nb|sweep_nb")),
    ("reference counting", re.compile(r"NRT_(incref|decref)")),
)


def write_perf_map() -> int:
    """``/tmp/perf-<pid>.map``: every function numba compiled in this process (a function ends where the next starts)."""
    import gc

    from numba.core.registry import CPUDispatcher

    functions = set()
    for dispatcher in (obj for obj in gc.get_objects() if isinstance(obj, CPUDispatcher)):
        for compiled in dispatcher.overloads.values():
            library = compiled.library
            module = getattr(library, "_final_module", None)  # None for a kernel loaded from a cache
            for function in module.functions if module is not None else ():
                if not function.is_declaration:
                    address = library.get_pointer_to_function(function.name)
                    if address:
                        functions.add((address, function.name))
    ordered = sorted(functions)
    with open(f"/tmp/perf-{os.getpid()}.map", "w", encoding="utf-8") as out:
        for k, (address, name) in enumerate(ordered):
            size = ordered[k + 1][0] - address if k + 1 < len(ordered) else 1 << 16
            out.write(f"{address:x} {min(size, 1 << 20):x} {name}\n")
    return len(ordered)


def run(kinds: list[str], seconds: float) -> None:
    os.environ["NUMBA_CACHE_DIR"] = tempfile.mkdtemp(prefix="profile-kinds-numba-")  # before numba is imported
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import bench_sweep

    from shortthehype.sweeps import sweep

    chunks = []
    for name in kinds:
        spec, prices = bench_sweep.kind_spec_and_prices(name)
        ids = sweep(spec, bench_sweep.KIND_GRIDS[name], prices=prices, random=2000, seed=1, n_blocks=0, workers=1,
                    path="fused", force=True).table["combination"].to_numpy()
        plan = bench_sweep.kind_chunk_plan(spec, name, prices)
        spec.kind.fused.chunk(plan, ids)  # compiles
        chunks.append((name, plan.spec, plan, ids))
    print(f"# {write_perf_map()} functions mapped", flush=True)
    for name, spec, plan, ids in chunks:
        start, count = time.monotonic(), 0
        while time.monotonic() - start < seconds:
            spec.kind.fused.chunk(plan, ids)
            count += 1
        end = time.monotonic()
        print(f"{name} {start:.6f} {end:.6f} {count * len(ids) / (end - start):.0f}", flush=True)


def report(data: str, windows: str) -> None:
    spans = [line.split() for line in Path(windows).read_text(encoding="utf-8").splitlines() if line and line[0] != "#"]
    # perf names a symbol only when the address is asked for too
    script = subprocess.run(["perf", "script", "-i", data, "-F", "time,ip,sym"], capture_output=True, text=True,
                            check=True).stdout
    samples = []
    for line in script.splitlines():
        match = re.match(r"\s*([0-9.]+):\s+[0-9a-f]+\s+(.*)", line)
        if match:
            samples.append((float(match.group(1)), match.group(2).strip()))
    names = [place for place, _ in PLACES] + ["other"]
    print("| kind | combinations/s | " + " | ".join(names) + " |")
    print("|---" * (len(names) + 2) + "|")
    for name, start, end, rate in spans:
        start_s, end_s = float(start) + 0.5, float(end)  # the first half second: caches and threads settling
        counts = collections.Counter(
            next((place for place, pattern in PLACES if pattern.search(symbol)), "other")
            for t, symbol in samples if start_s <= t <= end_s
        )
        total = sum(counts.values()) or 1
        print(f"| {name} | {int(rate):,} | " + " | ".join(f"{100 * counts[p] / total:.0f} %" for p in names) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run_parser = commands.add_parser("run", help="compile, map the kernels, run each kind's chunk")
    run_parser.add_argument("--kinds", default=",".join(KINDS))
    run_parser.add_argument("--seconds", type=float, default=6.0)
    report_parser = commands.add_parser("report", help="the samples of a perf record of 'run', by kind and place")
    report_parser.add_argument("data")
    report_parser.add_argument("windows")
    args = parser.parse_args()
    if args.command == "run":
        run(args.kinds.split(","), args.seconds)
    else:
        report(args.data, args.windows)


if __name__ == "__main__":
    main()
