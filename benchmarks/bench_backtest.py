"""``backtest()`` per built-in spec, warm and in-process, and the CLI's own start.

Cases, each in a fresh process (so peak RSS is the case's own):

* ``backtest``: every shipped spec (and burry-short with ``instrument=puts``) on the shared prices, loaded once; after
  three warm-up calls (kernels loaded, per-data-set values computed), the
  best and the median of 40 calls of ``backtest(spec, prices=prices)``, and
  the median CPU time of this process per call (less sensitive to other jobs).
  ``--fresh`` also times a call on a new copy of the prices each time (what
  is cached per loaded data set is computed again: the worst case of a warm
  process).
* ``cli``: ``load_prices`` of ai-basket's CSV files in-process (best of 10),
  wall time of ``shortthehype --help`` and of ``shortthehype
  backtest ai-basket`` in fresh processes (best of 3; numba cache warm), and of
  ``shortthehype backtest bubble-timer`` with no LPPLS fits kept on disk, then
  the best of 3 later runs.

``--src DIR`` runs the cases against another checkout's ``src`` (e.g. an
unpacked ``git archive`` of an earlier commit), so that two versions are
measured side by side in one run.

Run: ``.venv/bin/python benchmarks/bench_backtest.py [--src OTHER/src] [--fresh]`` (prints Markdown rows).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import REPO, SHARED_PRICES, emit, machine_summary, process_times  # noqa: E402

SCRIPT = Path(__file__).resolve()
SPECS = ("sixty-forty", "buy-and-hold-qqq", "ai-basket", "dotcom-analog", "hype-hedge", "static-hype-hedge",
         "burry-short", "burry-short instrument=puts", "burry-puts", "ma-crossover", "bubble-timer")
CALLS = 40


def case_backtest(fresh: bool) -> None:
    import warnings

    from shortthehype.data.load import load_prices
    from shortthehype.data.prices import Prices
    from shortthehype.runner import backtest, resolve_spec, spec_needs

    record: dict = {}
    for name in SPECS:
        spec_name, *settings = name.split()  # "SPEC key=value ...": the spec with those settings
        spec = resolve_spec(spec_name, dict(setting.split("=", 1) for setting in settings))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            prices = load_prices(spec_needs(spec), end=spec.run.get("end"), source="csv", data_dir=SHARED_PRICES)
        for _ in range(3):
            run = backtest(spec, prices=prices)
        times, cpu = [], []
        for _ in range(CALLS):
            tic, tac = time.perf_counter(), time.process_time()
            backtest(spec, prices=prices)
            times.append(time.perf_counter() - tic)
            cpu.append(time.process_time() - tac)
        entry = {"best_ms": min(times) * 1e3, "median_ms": statistics.median(times) * 1e3,
                 "cpu_median_ms": statistics.median(cpu) * 1e3, "bars": len(run.prices), "tickers": len(run.prices.tickers)}
        if fresh:
            copies = [Prices(**{f: getattr(prices, f).copy() for f in ("open", "high", "low", "close", "volume")},
                             source=prices.source, warnings=prices.warnings, origin=prices.origin) for _ in range(10)]
            times = []
            for copy in copies:
                tic = time.perf_counter()
                backtest(spec, prices=copy)
                times.append(time.perf_counter() - tic)
            entry["fresh_best_ms"] = min(times) * 1e3
        record[name] = entry
    emit({"specs": record})


def case_cli() -> None:
    import warnings

    from harness import best_time

    from shortthehype.data.load import load_prices
    from shortthehype.runner import resolve_spec, spec_needs

    tickers = spec_needs(resolve_spec("ai-basket", {}))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loading, _ = best_time(lambda: load_prices(tickers, source="csv", data_dir=SHARED_PRICES), repeat=10)
    python = [sys.executable, "-m", "shortthehype"]
    data = ["--source", "csv", "--data-dir", str(SHARED_PRICES)]
    record = {
        f"load_prices of ai-basket's {len(tickers)} CSV files (in-process, best of 10)": loading,
        "help": min(process_times([*python, "--help"], 3)),
        "backtest ai-basket": min(process_times([*python, "backtest", "ai-basket", *data], 3)),
    }
    # bubble-timer's LPPLS fits: a first run with nothing kept on disk (kernels loaded from numba's cache as
    # usual), then the best of 3 later runs
    from shortthehype._numba_setup import numba_cache_dir

    with tempfile.TemporaryDirectory() as empty:
        env = {**os.environ, "SHORTTHEHYPE_CACHE_DIR": empty, "NUMBA_CACHE_DIR": str(numba_cache_dir())}
        times = process_times([*python, "backtest", "bubble-timer", *data], 4, env)
    record["backtest bubble-timer, first run (no LPPLS fits on disk)"] = times[0]
    record["backtest bubble-timer, later runs"] = min(times[1:])
    emit(record)


def _run(case: str, src: Path, *args: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(src)}
    done = subprocess.run([sys.executable, str(SCRIPT), "--case", case, *args], capture_output=True, text=True,
                          env=env, cwd=REPO, timeout=1800)
    if done.returncode != 0:
        raise RuntimeError(f"case {case} ({src}) failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", choices=("backtest", "cli"))
    parser.add_argument("--src", type=Path, help="also measure this checkout's src directory, side by side")
    parser.add_argument("--fresh", action="store_true", help="also time calls on a new copy of the prices")
    args = parser.parse_args()
    if args.case == "backtest":
        return case_backtest(args.fresh)
    if args.case == "cli":
        return case_cli()
    sources = {"this tree": REPO / "src"}
    if args.src:
        sources = {f"{args.src}": args.src.resolve(), **sources}
    print(f"machine: {machine_summary()}; load average {os.getloadavg()[0]:.2f} before")
    results = {label: _run("backtest", src, *(["--fresh"] if args.fresh else [])) for label, src in sources.items()}
    clis = {label: _run("cli", src) for label, src in sources.items()}
    labels = list(sources)
    fresh = " / fresh prices (best)" if args.fresh else ""
    print("| spec (window bars x tickers) | "
          + " | ".join(f"{label}: best / median / median CPU{fresh} (ms)" for label in labels) + " |")
    print("|---|" + "---|" * len(labels))
    for name in SPECS:
        first = results[labels[-1]]["specs"][name]
        cells = []
        for label in labels:
            e = results[label]["specs"][name]
            cells.append(f"{e['best_ms']:.2f} / {e['median_ms']:.2f} / {e['cpu_median_ms']:.2f}"
                         + (f" / {e['fresh_best_ms']:.2f}" if args.fresh else ""))
        print(f"| {name} ({first['bars']:,} x {first['tickers']}) | " + " | ".join(cells) + " |")
    for command in [c for c in clis[labels[-1]] if c != "peak_rss_mib"]:
        if command.startswith("load_prices"):
            print(f"| `{command}`, ms | " + " | ".join(f"{clis[label][command] * 1e3:.1f}" for label in labels) + " |")
            continue
        how = "one run" if "first run" in command else "best of 3"
        print(f"| `shortthehype {command}` (fresh process, {how}, s) | "
              + " | ".join(f"{clis[label][command]:.2f}" for label in labels) + " |")
    print(f"load average {os.getloadavg()[0]:.2f} after")


if __name__ == "__main__":
    main()
