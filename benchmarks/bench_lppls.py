"""LPPLS benchmarks (issue 7): shortthehype's fit vs the ``lppls`` package, and the full indicator.

Cases (one process; warm timings after a warm-up call that compiles or loads
the numba cache):

* ``per-fit``: the same windows of the Nasdaq Composite (IXIC, ``--fits``
  windows of 125-750 bars ending on random dates, seeded) fitted by
  ``lppls.LPPLS.fit(25)`` (scipy Nelder–Mead from random starts until one
  succeeds, seeded) and by :func:`shortthehype.lppls.fit_lppls` (grid +
  Levenberg–Marquardt).  Reports the mean wall time per fit of each, the
  ratio, and how often our SSR is <= theirs (+1e-6 relative) on the windows
  whose lppls solution lies inside our search space.
* ``nested``: per-fit cost inside the indicator, where the grid is shared by
  the 26 nested windows ending on a date (mean over ``--nested-dates`` dates).
* ``quality``: on ``--quality-dates`` random dates of IXIC and NVDA (26
  windows each), how often the default search reaches the best optimum
  that it or a far more thorough search finds.
* ``indicator``: the full confidence indicator of IXIC over its last
  ``--days`` trading days (default 6,000), default windows (125..750 by 25),
  one evaluation per day, all cores numba sees.

Run: ``.venv/bin/python benchmarks/bench_lppls.py`` (prints Markdown rows);
``--days 500 --fits 10`` for a quick look.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import SHARED_PRICES, machine_summary, peak_rss_mib  # noqa: E402

SEED = 7


def load_ixic():
    from shortthehype.data.load import load_prices

    return load_prices("IXIC", source="csv", data_dir=SHARED_PRICES).close["IXIC"].dropna()


def windows_for(close, count: int) -> list[np.ndarray]:
    rng = np.random.default_rng(SEED)
    logs = np.log(close.to_numpy(dtype=np.float64))
    out = []
    for _ in range(count):
        n = int(rng.integers(125, 751))
        end = int(rng.integers(n, len(logs)))
        out.append(np.ascontiguousarray(logs[end - n : end]))
    return out


def per_fit(close, count: int) -> dict[str, float]:
    from lppls import lppls as lppls_package

    from shortthehype.lppls import LPPLSSearch, fit_lppls

    search = LPPLSSearch()
    windows = windows_for(close, count)
    fit_lppls(np.exp(windows[0]))  # compile / load the cache
    ours_time = theirs_time = 0.0
    comparable = wins = 0
    for i, y in enumerate(windows):
        n = len(y)
        t = np.arange(n, dtype=np.float64)
        random.seed(i)
        np.random.seed(i)
        model = lppls_package.LPPLS(np.array([t, y]))
        start = time.perf_counter()
        tc, m, w, a, b, c, c1, c2, _, _ = model.fit(25)
        theirs_time += time.perf_counter() - start
        start = time.perf_counter()
        ours = fit_lppls(np.exp(y), search=search)
        ours_time += time.perf_counter() - start
        if tc == 0 and m == 0:
            continue
        tau = tc - (n - 1)
        if search.tc[0] * (n - 1) <= tau <= search.tc[1] * (n - 1) and search.m[0] <= m <= search.m[1] and search.omega[0] <= w <= search.omega[1]:
            theirs = float(((lppls_package.LPPLS.lppls(t, tc, m, w, a, b, c1, c2) - y) ** 2).sum())
            comparable += 1
            wins += ours.ssr <= theirs * (1 + 1e-6)
    return {
        "fits": count,
        "lppls_ms": theirs_time / count * 1e3,
        "ours_ms": ours_time / count * 1e3,
        "comparable": comparable,
        "wins": wins,
    }


def nested(close, count: int) -> dict[str, float]:
    from shortthehype.lppls import lppls_windows, nested_fits

    windows = lppls_windows()
    dates = close.index[np.linspace(len(close) - 3000, len(close) - 1, count).astype(int)]
    nested_fits(close, windows=windows, dates=dates[:1])
    start = time.perf_counter()
    fits = nested_fits(close, windows=windows, dates=dates)
    elapsed = time.perf_counter() - start
    n_fits = int(np.isfinite(fits.records[:, :, 0]).sum())
    return {"fits": n_fits, "ms_per_fit": elapsed / n_fits * 1e3}


def quality(tickers: tuple[str, ...], count: int) -> list[dict[str, float]]:
    """How often the default search reaches the best optimum a far more thorough search finds.

    ``count`` seeded random dates per ticker, all 26 default windows; the
    thorough search refines 6 grid minima and 8 random starts for 300
    iterations each, without warm starts.
    """
    from shortthehype.data.load import load_prices
    from shortthehype.lppls import LPPLSSearch, nested_fits

    thorough = LPPLSSearch(grid_starts=6, random_starts=8, explore_iter=300, max_iter=300, warm_start=False)
    rows = []
    for ticker in tickers:
        close = load_prices(ticker, source="csv", data_dir=SHARED_PRICES).close[ticker].dropna()
        rng = np.random.default_rng(SEED)
        dates = close.index[np.sort(rng.choice(np.arange(800, len(close)), count, replace=False))]
        nested_fits(close, dates=dates[:1])  # warm
        timings = {}
        records = {}
        for name, search in (("default", LPPLSSearch()), ("thorough", thorough)):
            start = time.perf_counter()
            records[name] = nested_fits(close, dates=dates, search=search).records[..., 7]
            timings[name] = time.perf_counter() - start
        ours, best = records["default"], np.fmin(records["default"], records["thorough"])
        fitted = np.isfinite(ours)
        rows.append({
            "ticker": ticker,
            "fits": int(fitted.sum()),
            "exact": float(np.mean(ours[fitted] <= best[fitted] * (1 + 1e-6))),
            "close": float(np.mean(ours[fitted] <= best[fitted] * (1 + 1e-3))),
            "cost": timings["thorough"] / timings["default"],
        })
    return rows


def indicator(close, days: int) -> dict[str, float]:
    from shortthehype.lppls import confidence_indicator

    confidence_indicator(close, dates=close.index[-1:])  # warm
    start = time.perf_counter()
    frame = confidence_indicator(close, start=close.index[-days], step=1)
    elapsed = time.perf_counter() - start
    return {"days": len(frame), "seconds": elapsed, "fits": int(frame["n_fits"].sum())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fits", type=int, default=30)
    parser.add_argument("--nested-dates", type=int, default=40)
    parser.add_argument("--days", type=int, default=6000)
    parser.add_argument("--quality-dates", type=int, default=24)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    import numba

    close = load_ixic()
    load = os.getloadavg()
    command = (
        f"python benchmarks/bench_lppls.py --fits {args.fits} --nested-dates {args.nested_dates} "
        f"--quality-dates {args.quality_dates} --days {args.days}"
    )
    print(f"Machine: {machine_summary()}, numba threads {numba.get_num_threads()}, load average before {load[0]:.2f}")
    print(f"Command: `{command}`\n")
    print("| case | shortthehype | lppls 0.6.24 | ratio | notes |")
    print("|---|---|---|---|---|")
    r = per_fit(close, args.fits)
    print(
        f"| one fit, IXIC windows of 125-750 bars (mean of {r['fits']}) | {r['ours_ms']:.2f} ms | {r['lppls_ms']:.1f} ms | "
        f"{r['lppls_ms'] / r['ours_ms']:.0f}x | our SSR <= theirs (+1e-6) on {r['wins']}/{r['comparable']} windows whose lppls fit is inside our search space |"
    )
    n = nested(close, args.nested_dates)
    print(
        f"| one fit inside the indicator (26 nested windows share the grid; {n['fits']} fits) | {n['ms_per_fit']:.2f} ms | "
        f"{r['lppls_ms']:.1f} ms | {r['lppls_ms'] / n['ms_per_fit']:.0f}x | lppls has no shared work: its per-fit time is the same |"
    )
    for q in quality(("IXIC", "NVDA"), args.quality_dates):
        print(
            f"| search quality, {q['ticker']}: {q['fits']} fits ({args.quality_dates} random dates x 26 windows) | "
            f"{q['exact']:.0%} reach the best known optimum (+1e-6), {q['close']:.0%} within 0.1% | — | — | "
            f"best known = ours or a search {q['cost']:.0f}x as costly (6 grid minima + 8 random starts, 300 iterations each) |"
        )
    ind = indicator(close, args.days)
    print(
        f"| full indicator, IXIC last {ind['days']} trading days, windows 125..750 by 25, daily | {ind['seconds']:.1f} s | — | — | "
        f"{ind['fits']} fits; target < 60 s on 2 cores |"
    )
    print(f"\nload average after: {os.getloadavg()[0]:.2f}; peak RSS of this process (both libraries): {peak_rss_mib():.0f} MiB")


if __name__ == "__main__":
    main()
