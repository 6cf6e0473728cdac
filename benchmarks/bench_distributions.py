"""Distribution benchmarks: an entry-date study, Monte Carlo over synthetic bubble paths, bootstrap intervals.

Cases (each in a fresh process; the numba cache is warm from earlier runs,
so compile time is not measured, but the first path / entry is):

* ``rolling-burry``: ``rolling burry-short --every 1m --hold 12m --from 2021-06-01
  --to 2025-10-01`` on the shared prices (53 entries; its ``entry`` date moves
  with each window, so every entry computes its own targets).
* ``rolling-ma``: ``rolling ma-crossover --every 1m --hold 12m --from 2021-01-01``
  (targets computed once, then one simulation per entry).
* ``montecarlo``: ``montecarlo ma-crossover --paths N`` (default 1,000), worker
  processes chosen by the command (``--workers`` to force).
* ``bootstrap``: 2,000 stationary resamples (mean block 21) of ai-basket's
  2022-11-30 → 2025-12-31 returns, paired with buy-and-hold-qqq (``--vs``).
* ``study-paths``: an entry-date study with an entry on every trading day
  (``--every 1d --hold 6m``, over each spec's whole history) of the
  built-in specs (burry-short's entry date moves with each entry), on the
  fused path (every entry in one parallel kernel call) beside the generic one
  (one backtest per entry),
  each in a fresh process with the prices loaded beforehand; the two must
  give the same rows (a hash of them is compared).  Options priced from each
  entry (burry-short's puts, burry-puts) enter every week, each held 3 months.
* ``montecarlo-paths``: ``montecarlo SPEC --paths N --workers 1`` (default
  300 paths) of the built-in specs mapped onto the synthetic market, on the
  fused path (batches of generated markets in one parallel kernel call)
  beside the generic one (one backtest per path), each in a fresh process
  after a warm-up of 3 paths; the rows' hashes are compared.

Run: ``.venv/bin/python benchmarks/bench_distributions.py`` (prints Markdown rows);
``--paths 100`` for a quick look.  Wall times include loading prices, except in
``--case study-paths`` and ``--case montecarlo-paths`` (each run on its own: ``bench_distributions.py --case
study-paths``).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import REPO, SHARED_PRICES, emit, machine_summary, run_case  # noqa: E402


def case_rolling(spec: str, first: str, last: str | None) -> None:
    from shortthehype.studies import rolling

    start = time.perf_counter()
    study = rolling(spec, every="1m", hold="12m", first=first, last=last, source="csv", data_dir=SHARED_PRICES)
    seconds = time.perf_counter() - start
    summary = study.summary()
    emit({"seconds": seconds, "entries": len(study.rows), "median": summary.at["median", "total_return"],
          "share_positive": summary.at["share_positive", "total_return"]})


def case_study_path(spec: str, path: str, overrides: dict[str, str], every: str, hold: str) -> None:
    import hashlib

    from shortthehype.data.load import load_prices
    from shortthehype.runner import resolve_spec, spec_needs
    from shortthehype.studies import rolling

    prices = load_prices(spec_needs(resolve_spec(spec, overrides)), data_dir=SHARED_PRICES)
    # the kernels loaded, the spec's indicators cached
    rolling(spec, every="1y", hold=hold, prices=prices, path=path, overrides=overrides)
    start = time.perf_counter()
    study = rolling(spec, every=every, hold=hold, prices=prices, path=path, overrides=overrides)
    seconds = time.perf_counter() - start
    emit({"seconds": seconds, "entries": len(study.rows),
          "rows_hash": hashlib.sha256(study.rows.to_csv().encode()).hexdigest()[:16]})


def case_montecarlo(paths: int, workers: int | None) -> None:
    from shortthehype.montecarlo import montecarlo

    start = time.perf_counter()
    study = montecarlo("ma-crossover", paths=paths, seed=0, workers=workers)
    seconds = time.perf_counter() - start
    summary = study.summary()
    emit({"seconds": seconds, "paths": len(study.rows), "median": summary.at["median", "total_return"],
          "share_positive": summary.at["share_positive", "total_return"]})


def case_montecarlo_path(spec: str, path: str, paths: int) -> None:
    import hashlib

    from shortthehype.montecarlo import montecarlo

    montecarlo(spec, paths=3, seed=1, workers=1, path=path)  # the kernels loaded
    start = time.perf_counter()
    study = montecarlo(spec, paths=paths, seed=0, workers=1, path=path)
    seconds = time.perf_counter() - start
    emit({"seconds": seconds, "paths": len(study.rows),
          "rows_hash": hashlib.sha256(study.rows.to_csv().encode()).hexdigest()[:16]})


def case_bootstrap() -> None:
    from shortthehype.bootstrap import bootstrap_section
    from shortthehype.runner import backtest

    run = backtest("ai-basket", overrides={"end": "2025-12-31"}, source="csv", data_dir=SHARED_PRICES)
    base = backtest("buy-and-hold-qqq", overrides={"start": run.start, "end": run.end}, source="csv", data_dir=SHARED_PRICES)
    bootstrap_section(run, base, samples=100)  # loads the kernels
    start = time.perf_counter()
    section = bootstrap_section(run, base)
    seconds = time.perf_counter() - start
    emit({"seconds": seconds, "bars": section["bars"], "p_beat_sharpe": section["vs"]["metrics"]["sharpe"]["p_beat"]})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case")
    parser.add_argument("--paths", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--spec")
    parser.add_argument("--path")
    parser.add_argument("--set", action="append", default=[])
    parser.add_argument("--every", default="1d")
    parser.add_argument("--hold", default="6m")
    args = parser.parse_args()
    if args.case == "study-path":
        return case_study_path(args.spec, args.path, dict(item.split("=", 1) for item in args.set), args.every, args.hold)
    if args.case == "study-paths":
        return study_paths()
    if args.case == "montecarlo-path":
        return case_montecarlo_path(args.spec, args.path, args.paths)
    if args.case == "montecarlo-paths":
        return montecarlo_paths(args.paths if args.paths != parser.get_default("paths") else 300)
    if args.case == "rolling-burry":
        return case_rolling("burry-short", "2021-06-01", "2025-10-01")
    if args.case == "rolling-ma":
        return case_rolling("ma-crossover", "2021-01-01", None)
    if args.case == "montecarlo":
        return case_montecarlo(args.paths, args.workers)
    if args.case == "bootstrap":
        return case_bootstrap()
    load = os.getloadavg()[0]
    print(f"machine: {machine_summary()}; load average {load:.2f} before")
    print("| case | wall time | result |")
    print("|---|---|---|")
    script = Path(__file__)
    for case, label in (("rolling-burry", "entry-date study, burry-short, monthly 2021-06 → 2025-10, 12-month holds"),
                        ("rolling-ma", "entry-date study, ma-crossover, monthly from 2021-01, 12-month holds")):
        r = run_case(script, case)
        print(f"| {label} | {r['seconds']:.2f} s ({r['entries']} entries) | median total return {r['median']:+.1%}, "
              f"positive in {r['share_positive']:.0%}; peak RSS {r['peak_rss_mib']:.0f} MiB |")
    extra = ["--paths", str(args.paths)] + (["--workers", str(args.workers)] if args.workers else [])
    r = run_case(script, "montecarlo", *extra)
    print(f"| Monte Carlo, ma-crossover, {r['paths']:,} synthetic bubble paths | {r['seconds']:.1f} s "
          f"({r['seconds'] / r['paths'] * 1000:.0f} ms per path) | median total return {r['median']:+.1%}, positive in "
          f"{r['share_positive']:.0%}; peak RSS {r['peak_rss_mib']:.0f} MiB (parent) |")
    r = run_case(script, "bootstrap")
    print(f"| bootstrap, 2,000 paired stationary resamples of {r['bars']:,} daily returns | {r['seconds']:.2f} s | "
          f"P(ai-basket's Sharpe beats buy-and-hold-qqq's) {r['p_beat_sharpe']:.1%} |")
    print(f"load average {os.getloadavg()[0]:.2f} after; repository {REPO.name}")


def study_paths() -> None:
    """The ``study-paths`` table: each spec's daily-entry study on both paths, each run in a fresh process."""
    script = Path(__file__)
    print(f"machine: {machine_summary()}; load average {os.getloadavg()[0]:.2f} before")
    print("| spec | entries | generic (one backtest per entry) | fused (one kernel call) | ratio | peak RSS (generic / fused) | rows |")
    print("|---|---|---|---|---|---|---|")
    cases = [(spec, []) for spec in ("sixty-forty", "ai-basket", "hype-hedge", "dotcom-analog", "bubble-timer",
                                     "ma-crossover", "burry-short")]
    # options priced from each entry: an entry every week, each held 3 months
    cases += [("burry-short", ["--set", "instrument=puts", "--every", "1w", "--hold", "3m"]),
              ("burry-puts", ["--every", "1w", "--hold", "3m"])]
    for spec, extra in cases:
        generic = run_case(script, "study-path", "--spec", spec, "--path", "generic", *extra)
        fused = run_case(script, "study-path", "--spec", spec, "--path", "fused", *extra)
        same = "identical" if generic["rows_hash"] == fused["rows_hash"] else "DIFFERENT"
        label = f"{spec} {' '.join(extra)}".strip()
        print(f"| {label} | {fused['entries']:,} | {generic['seconds']:.2f} s | {fused['seconds']:.3f} s | "
              f"{generic['seconds'] / fused['seconds']:.0f}x | {generic['peak_rss_mib']:.0f} / {fused['peak_rss_mib']:.0f} MiB "
              f"| {same} |")
    print(f"load average {os.getloadavg()[0]:.2f} after; repository {REPO.name}")


def montecarlo_paths(paths: int) -> None:
    """The ``montecarlo-paths`` table: each mapped spec's Monte Carlo on both paths, each run in a fresh process."""
    script = Path(__file__)
    print(f"machine: {machine_summary()}; load average {os.getloadavg()[0]:.2f} before")
    print("| spec | paths | generic (one backtest per path) | fused (batches in one kernel call) | ratio | "
          "peak RSS (generic / fused) | rows |")
    print("|---|---|---|---|---|---|---|")
    for spec in ("sixty-forty", "ai-basket", "hype-hedge", "dotcom-analog", "ma-crossover", "burry-short"):
        generic = run_case(script, "montecarlo-path", "--spec", spec, "--path", "generic", "--paths", str(paths))
        fused = run_case(script, "montecarlo-path", "--spec", spec, "--path", "fused", "--paths", str(paths))
        same = "identical" if generic["rows_hash"] == fused["rows_hash"] else "DIFFERENT"
        print(f"| {spec} | {fused['paths']:,} | {generic['seconds']:.2f} s ({generic['seconds'] / paths * 1000:.1f} ms/path) | "
              f"{fused['seconds']:.2f} s ({fused['seconds'] / paths * 1000:.1f} ms/path) | "
              f"{generic['seconds'] / fused['seconds']:.2f}x | {generic['peak_rss_mib']:.0f} / {fused['peak_rss_mib']:.0f} MiB "
              f"| {same} |")
    print(f"load average {os.getloadavg()[0]:.2f} after; repository {REPO.name}")


if __name__ == "__main__":
    main()
