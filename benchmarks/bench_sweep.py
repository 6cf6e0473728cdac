"""Sweep benchmarks (issue 5): shortthehype's fused sweep vs vectorbt, bigger grids, an article strategy.

Cases, each in its own fresh process (so peak RSS is the case's own):

1. ``classic-*``: ``ma-crossover`` on one asset (the last 5,000 QQQ bars of
   the shared data), windows 2..100, every pair fast < slow (4,851
   combinations), fees 0.1 %, long only, fills at the signal bar's close;
   total return, Sharpe (252 days) and max drawdown per combination.
   shortthehype runs with ``sma="cumulative"`` (vectorbt's running-sum
   moving average, bit for bit): ``sweep()`` cold (first call in a fresh
   process, numba cache on disk) and warm (best of 5), with and without the
   DSR/PBO, and the kernel alone (ns per bar x combination); then, warm, the
   default ``sma="windowed"``.  vectorbt: ``MA.run_combs`` +
   ``Portfolio.from_signals`` on the same closes, warm (second call).  Every
   combination's three metrics are compared with vectorbt's, for both
   settings: on a few pairs the windowed sums round an exact tie
   SMA(fast) = SMA(slow) to the other side than vectorbt's running sums, and
   those pairs then trade differently.
2. ``ten-assets``: the same grid on 10 tickers (48,510 combinations; vectorbt
   would need 10 x its 4,851-column arrays).
3. ``million``: 999,306 combinations (the pairs x long/longshort x 103 fee
   levels) streamed to Parquet; combinations/s and peak RSS.
4. ``article``: ``dotcom-analog`` over lead_days x time_scale x exposure
   (11,025 combinations) on the real shared prices, by the path ``sweep`` picks;
   combinations/s and the DSR/PBO it reports.
5. ``cold-compile``: the classic sweep in a fresh process with an empty
   numba cache (compilation included).
6. ``fused-<spec>`` / ``generic-<spec>``: a kind with a target kernel
   (``sixty-forty``: fixed-weights; ``ai-basket``; ``hype-hedge``;
   ``dotcom-analog`` in calendar mode and, as ``dotcom-analog-path``, in
   path mode; ``burry-short`` in stock mode; ``bubble-timer`` given its
   indicator; ``burry-puts``: option-contracts) over a 2,000-combination
   random draw of a wide grid of every parameter its kernel takes, on the
   real shared prices, warm, in one process, without the DSR/PBO
   (``n_blocks=0``): the fused path (best of 3; once more with the DSR/PBO)
   against the generic path, which runs a random 200 of the same grid and
   is extrapolated per combination.  ``generic-<spec>`` also runs on a tree
   from before ``sweep(path=...)`` existed: from that checkout, with its
   ``src`` on ``PYTHONPATH`` (its specs are read from the working directory).

Run: ``.venv/bin/python benchmarks/bench_sweep.py`` (add ``--skip-vbt`` /
``--skip-article`` / ``--cases classic-ours,classic-vbt`` to run less).  Prints a
Markdown table, the machine and its load average before each case (the
machine may be shared: say so next to the figures).
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

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import REPO, SHARED_PRICES, best_time, emit, machine_summary, run_case  # noqa: E402

SCRIPT = Path(__file__).resolve()
N_BARS = 5000
WINDOWS = "2:100:1"
FEES = 0.001
INIT_CASH = 1_000_000.0
CLASSIC = {"execution": "close", "fees": FEES, "slippage": 0.0, "init_cash": INIT_CASH, "cash_rate": 0.0}  # vectorbt: no interest
#: The classic case compared with vectorbt: its moving-average arithmetic too.
CLASSIC_VBT = {**CLASSIC, "sma": "cumulative"}
TEN = ["QQQ", "SPY", "MSFT", "AAPL", "NVDA", "AMZN", "ORCL", "AMD", "CSCO", "INTC"]
METRICS = ("total_return", "sharpe", "max_drawdown")


def classic_prices(tickers: list[str] | None = None):
    import warnings

    from shortthehype.data.load import load_prices

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prices = load_prices(tickers or ["QQQ"], data_dir=SHARED_PRICES)
    return prices.between(prices.index[-N_BARS], None)


def _save(out: Path, table) -> None:
    ordered = table.sort_values(["fast", "slow"])
    np.save(out, ordered[list(METRICS)].to_numpy())


def _windowed_path(out: Path) -> Path:
    return out.with_name(out.stem + "-windowed.npy")


def _summation_ties(close, cumulative, windowed) -> tuple[int, int]:
    """(pairs whose results differ between the two summations, how many of them meet an exact tie).

    Not timed.  The first bar where such a pair's signals differ is checked in exact rational arithmetic on
    the prices as the CSV writes them (``repr`` of a double read from 4 decimals gives those decimals back):
    SMA(fast) == SMA(slow) there means a true tie, which the two summations round to opposite sides.
    """
    from fractions import Fraction

    from shortthehype.strategies.ma_crossover import crossover_signals

    keys = ["fast", "slow"]
    a = cumulative.sort_values(keys).reset_index(drop=True)
    b = windowed.sort_values(keys).reset_index(drop=True)
    same = np.all([(a[m] == b[m]) | (a[m].isna() & b[m].isna()) for m in METRICS], axis=0)
    exact = 0
    prices = [Fraction(repr(float(x))) for x in close.to_numpy()]
    for fast, slow in zip(a.loc[~same, "fast"], a.loc[~same, "slow"]):
        signals = [crossover_signals(close, int(fast), int(slow), sma) for sma in ("windowed", "cumulative")]
        differ = np.flatnonzero(
            (signals[0][0].to_numpy() != signals[1][0].to_numpy()) | (signals[0][1].to_numpy() != signals[1][1].to_numpy())
        )
        t = int(differ[0])
        exact += sum(prices[t - fast + 1 : t + 1]) / fast == sum(prices[t - slow + 1 : t + 1]) / slow
    return int((~same).sum()), int(exact)


def case_classic_ours(out: Path) -> dict:
    from shortthehype.sweeps import build_axes, sweep
    from shortthehype.sweeps.plan import Plan

    tic = time.perf_counter()
    prices = classic_prices()
    grid = {"fast": WINDOWS, "slow": WINDOWS}
    first = sweep("ma-crossover", grid, overrides=CLASSIC_VBT, prices=prices, n_blocks=0)
    cold = time.perf_counter() - tic
    warm, result = best_time(lambda: sweep("ma-crossover", grid, overrides=CLASSIC_VBT, prices=prices, n_blocks=0), repeat=5)
    full, with_stats = best_time(lambda: sweep("ma-crossover", grid, overrides=CLASSIC_VBT, prices=prices), repeat=3)
    assert first.table.equals(result.table)
    spec = result  # the kernel alone, on the same plan
    from shortthehype.spec import load_spec

    base = load_spec("ma-crossover").with_overrides(CLASSIC_VBT)
    axes = build_axes(base, grid)
    plan = Plan(spec=base, prices=prices, axes=axes, mode="fused", n_blocks=0)
    ids = result.table["combination"].to_numpy()
    base.kind.fused.chunk(plan, ids)
    kernel, _ = best_time(lambda: base.kind.fused.chunk(plan, ids), repeat=5)
    _save(out, result.table)
    # the default summation, for the comparison with vectorbt (and its speed: only the averages differ)
    warm_windowed, windowed = best_time(
        lambda: sweep("ma-crossover", grid, overrides=CLASSIC, prices=prices, n_blocks=0), repeat=5
    )
    _save(_windowed_path(out), windowed.table)
    moved, exact_ties = _summation_ties(prices.close["QQQ"], result.table, windowed.table)
    n = result.n_run
    return {
        "combinations": n,
        "bars": len(prices),
        "cold": cold,
        "warm": warm,
        "warm_windowed": warm_windowed,
        "summation_changes": moved,
        "exact_ties": exact_ties,
        "warm_with_overfitting": full,
        "kernel": kernel,
        "ns_per_bar_combo_kernel": kernel / (n * len(prices)) * 1e9,
        "ns_per_bar_combo_end_to_end": warm / (n * len(prices)) * 1e9,
        "dsr": with_stats.dsr.dsr,
        "pbo": with_stats.pbo.pbo,
        "spec": spec.spec_name,
    }


def _plain_loop_kernels():
    """The floors the classic case is measured against: plain fused numba loops over combinations and bars.

    Per combination: the crossing of two precomputed moving averages, long
    or flat at the close with a proportional fee, the equity, and the sums
    of the returns and of their squares (a one-pass Sharpe ratio); no engine
    rules.  ``sharpe``: no other statistic.  ``three``: also the total
    return and the maximum drawdown, the three statistics the classic case
    compares with vectorbt; the drawdown of the equity in its cheapest exact
    form (a running peak and the lowest equity under it, one division per
    peak left behind).
    """
    from numba import njit, prange

    @njit(inline="always")
    def step(px, long, cash, pos, prev, fees):
        """One bar: enter or leave at the close; (cash, position, equity, return)."""
        if long and pos == 0.0:
            pos = cash / (px * (1.0 + fees))
            cash -= pos * px * (1.0 + fees)
        elif not long and pos > 0.0:
            cash += pos * px * (1.0 - fees)
            pos = 0.0
        equity = cash + pos * px
        return cash, pos, equity, equity / prev - 1.0

    @njit(parallel=True, cache=True)
    def plain_crossover_nb(close, ma, fast_idx, slow_idx, fees, init_cash, out):
        n = close.shape[0]
        for c in prange(fast_idx.shape[0]):
            fast, slow = ma[fast_idx[c]], ma[slow_idx[c]]
            cash, pos, equity, total, squares = init_cash, 0.0, init_cash, 0.0, 0.0
            for t in range(n):
                cash, pos, equity, r = step(close[t], fast[t] > slow[t], cash, pos, equity, fees)
                total += r
                squares += r * r
            mean = total / n
            out[c, 0] = mean / np.sqrt(squares / n - mean * mean) * np.sqrt(252.0)
        return out

    @njit(parallel=True, cache=True)
    def plain_three_nb(close, ma, fast_idx, slow_idx, fees, init_cash, out):
        n = close.shape[0]
        for c in prange(fast_idx.shape[0]):
            fast, slow = ma[fast_idx[c]], ma[slow_idx[c]]
            cash, pos, equity, total, squares = init_cash, 0.0, init_cash, 0.0, 0.0
            peak, low, deepest = init_cash, init_cash, 0.0
            for t in range(n):
                cash, pos, equity, r = step(close[t], fast[t] > slow[t], cash, pos, equity, fees)
                total += r
                squares += r * r
                low = min(low, equity)
                if equity > peak:
                    deepest = min(deepest, (low - peak) / peak)
                    peak = equity
                    low = equity
            mean = total / n
            out[c, 0] = mean / np.sqrt(squares / n - mean * mean) * np.sqrt(252.0)
            out[c, 1] = equity / init_cash - 1.0
            out[c, 2] = min(deepest, (low - peak) / peak)
        return out

    return {"sharpe": plain_crossover_nb, "three": plain_three_nb}


def case_plain_loop(out: Path) -> dict:
    """:func:`_plain_loop_kernels` on the classic case's bars and 4,851 pairs, beside the fused kernel (same process)."""
    from shortthehype.core.sweep_nb import rolling_means_nb
    from shortthehype.spec import load_spec
    from shortthehype.sweeps import build_axes, sweep
    from shortthehype.sweeps.plan import Plan

    prices = classic_prices()
    close = np.ascontiguousarray(prices.close["QQQ"].to_numpy(dtype=np.float64))
    windows = np.arange(2, 101, dtype=np.int64)
    ma = np.empty((len(windows), len(close)))
    rolling_means_nb(close, windows, True, ma)
    pairs = np.asarray([(f, s) for f in range(len(windows)) for s in range(len(windows)) if f < s], dtype=np.int64)
    kernels = _plain_loop_kernels()
    result = np.empty((len(pairs), 3))
    grid = {"fast": WINDOWS, "slow": WINDOWS}
    base = load_spec("ma-crossover").with_overrides(CLASSIC_VBT)
    ids = sweep(base, grid, prices=prices, n_blocks=0).table["combination"].to_numpy()
    plan = Plan(spec=base, prices=prices, axes=build_axes(base, grid), mode="fused", n_blocks=0)
    runs = {
        "plain": lambda: kernels["sharpe"](close, ma, pairs[:, 0], pairs[:, 1], FEES, INIT_CASH, result),
        "plain_three": lambda: kernels["three"](close, ma, pairs[:, 0], pairs[:, 1], FEES, INIT_CASH, result),
        "ours": lambda: base.kind.fused.chunk(plan, ids),
    }
    record = {"combinations": len(ids), "bars": len(close)}
    for name, run in runs.items():
        run()
        wall, cpu = [], []
        for _ in range(7):  # alternating would not help: each is best of 7, wall and CPU (summed over threads)
            tic, tac = time.perf_counter(), time.process_time()
            run()
            wall.append(time.perf_counter() - tic)
            cpu.append(time.process_time() - tac)
        record[f"{name}_ns"] = min(wall) / (len(close) * len(ids)) * 1e9
        record[f"{name}_cpu_ns"] = min(cpu) / (len(close) * len(ids)) * 1e9
    return record


def case_classic_vbt(out: Path) -> dict:
    import pandas as pd
    import vectorbt as vbt

    close = classic_prices().close["QQQ"]

    def run():
        fast, slow = vbt.MA.run_combs(close, window=list(range(2, 101)), r=2, short_names=["fast", "slow"])
        pf = vbt.Portfolio.from_signals(
            close, fast.ma_crossed_above(slow), fast.ma_crossed_below(slow), fees=FEES, init_cash=INIT_CASH, freq="1D"
        )
        return pd.DataFrame(
            {
                "total_return": pf.total_return().to_numpy(),
                "sharpe": pf.sharpe_ratio(year_freq="252 days").to_numpy(),
                "max_drawdown": pf.max_drawdown().to_numpy(),
            },
            index=pd.MultiIndex.from_tuples(list(pf.wrapper.columns), names=["fast", "slow"]),
        )

    tic = time.perf_counter()
    run()
    cold = time.perf_counter() - tic
    warm, table = best_time(run, repeat=1, warmup=0)
    _save(out, table.reset_index())
    return {"cold": cold, "warm": warm, "combinations": len(table)}


def case_ten_assets(out: Path) -> dict:
    from shortthehype.sweeps import sweep

    prices = classic_prices(TEN)
    grid = {"ticker": ",".join(TEN), "fast": WINDOWS, "slow": WINDOWS}
    sweep("ma-crossover", {"fast": "2,3", "slow": "4,5"}, overrides=CLASSIC, prices=prices, n_blocks=0)  # load the kernels
    tic = time.perf_counter()
    result = sweep("ma-crossover", grid, overrides=CLASSIC, prices=prices)
    seconds = time.perf_counter() - tic
    return {
        "combinations": result.n_run,
        "seconds": seconds,
        "per_second": result.n_run / seconds,
        "dsr": result.dsr.dsr,
        "pbo": result.pbo.pbo if result.pbo else None,
        "pbo_note": result.pbo_note,
    }


def case_million(out: Path) -> dict:
    from shortthehype.sweeps import sweep

    prices = classic_prices()
    grid = {"fast": WINDOWS, "slow": WINDOWS, "direction": "long,longshort", "fees": "0:0.0102:0.0001"}
    sweep("ma-crossover", {"fast": "2,3", "slow": "4,5"}, overrides=CLASSIC, prices=prices, n_blocks=0)
    folder = Path(tempfile.mkdtemp(prefix="sth-million-"))
    try:
        tic = time.perf_counter()
        result = sweep("ma-crossover", grid, overrides={k: v for k, v in CLASSIC.items() if k != "fees"}, prices=prices,
                       out=folder / "million.parquet")
        seconds = time.perf_counter() - tic
        size = (folder / "million.parquet").stat().st_size
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return {
        "combinations": result.n_run,
        "seconds": seconds,
        "per_second": result.n_run / seconds,
        "file_mib": size / 2**20,
        "pbo": result.pbo.pbo,
        "pbo_splits": result.pbo.n_splits,
        "dsr": result.dsr.dsr,
    }


def case_article(out: Path) -> dict:
    import warnings

    from shortthehype.data.load import load_prices
    from shortthehype.spec import load_spec
    from shortthehype.sweeps import sweep

    spec = load_spec("dotcom-analog")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prices = load_prices(spec.tickers(), data_dir=SHARED_PRICES)
    grid = {"lead_days": "0:360:15", "time_scale": "1.0:2.0:0.05", "exposure": "0.5:1.5:0.05"}
    tic = time.perf_counter()
    result = sweep(spec, grid, prices=prices, force=True)
    seconds = time.perf_counter() - tic
    best = result.best
    return {
        "combinations": result.n_run,
        "seconds": seconds,
        "per_second": result.n_run / seconds,
        "workers": os.cpu_count(),
        "mode": result.mode,
        "best": {k: (v.item() if hasattr(v, "item") else v) for k, v in result.best_params.items()},
        "best_sharpe": float(best["sharpe"]),
        "dsr": result.dsr.dsr,
        "pbo": result.pbo.pbo if result.pbo else None,
        "pbo_note": result.pbo_note,
    }


#: Wide grids of the kinds with a target kernel (case 6).
KIND_GRIDS = {
    "sixty-forty": {
        "weights.SPY": "-0.5:1.5:0.1",
        "weights.QQQ": "-0.5:1.5:0.1",
        "rebalance": "daily,weekly,monthly,quarterly,yearly,once",
        "fees": "0:0.002:0.0005",
    },
    "ai-basket": {
        "weighting": "equal,inverse_vol,momentum",
        "rebalance": "daily,weekly,monthly,quarterly,yearly,once",
        "trend_window": "0,10,50,100,150,200",
        "vol_window": "2:252:50",
        "momentum_window": "1:251:50",
        "momentum_tilt": "0,0.5,1",
        "exposure": "0.5,1,1.5",
    },
    "hype-hedge": {
        "market": "SPY,RSP,BASKET",
        "split": "burry,equal",
        "beta_window": "20:252:8",
        "long_weight": "0.5:1.5:0.25",
        "gross_cap": "1:3:0.5",
        "rebalance": "daily,weekly,monthly,quarterly",
    },
    "dotcom-analog": {  # case 4's grid (calendar mode)
        "lead_days": "0:360:15",
        "time_scale": "1.0:2.0:0.05",
        "exposure": "0.5:1.5:0.05",
    },
    "burry-short": {  # stock mode; each entry date moves the window's start (its own engine inputs)
        "split.PLTR": "0.25:2:0.25",
        "exposure": "0.2:1.6:0.1",
        "entry": "2021-01-04,2022-01-03,2023-01-03,2024-01-02,2025-01-02,2025-11-03",
        "hold_days": "none,20,60,120,250",
        "rebalance": "hold,keep_weights",
        "rebalance_freq": "daily,weekly,monthly,quarterly",
        "stop_loss": "none,0.1,0.2,0.5",
        "borrow_fee": "0,0.02,0.05",
    },
    "bubble-timer": {  # the spec's indicator (computed once, on the first call), everything it feeds
        "bubble_threshold": "0.05:0.5:0.05",
        "antibubble_threshold": "0.05:0.5:0.15",
        "hold": "0,5,10,21,42,63",
        "bubble_exposure": "-1:0:0.25",
        "antibubble_exposure": "0,0.5,1,1.5",
        "neutral_exposure": "0.5,1",
        "rebalance": "weekly,monthly,quarterly",
    },
    "dotcom-analog-path": {  # path mode: 6 fits (rebalance x window), the phase rules per combination
        "rebalance": "weekly,monthly,quarterly",
        "window": "252,504",
        "lead_days": "0:360:30",
        "after_peak": "short,cash",
        "after_trough": "long,cash",
        "exposure": "0.5:1.5:0.25",
        "short_exposure": "0.5,1",
        "dotcom_peak": "1999-12-01,2000-03-10",
    },
    "burry-puts": {  # option-contracts: entry x skew price the contracts (35 pricings), costs vary within each
        "entry": "2025-09-02,2025-10-01,2025-10-15,2025-11-03,2025-12-01",
        "skew_slope": "0:0.3:0.05",
        "fees": "0:0.005:0.0005",
        "slippage": "0:0.03:0.005",
    },
}
#: The spec and overrides of a case named otherwise.
KIND_SPECS = {"dotcom-analog-path": ("dotcom-analog", {"mode": "path"})}
KIND_DRAWS = {"fused": 2000, "generic": 200}


def kind_spec_and_prices(name: str):
    """The spec of case ``name`` of :data:`KIND_GRIDS` and the shared prices its grid trades."""
    import warnings

    from shortthehype.data.load import load_prices
    from shortthehype.spec import load_spec

    spec_name, overrides = KIND_SPECS.get(name, (name, {}))
    spec = load_spec(spec_name).with_overrides(overrides) if overrides else load_spec(spec_name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # hype-hedge's grid also trades RSP and its basket as the long leg
        extra = ["RSP", *spec.params["basket"]] if "market" in KIND_GRIDS[name] else []
        prices = load_prices(list(dict.fromkeys([*spec.tickers(), *extra])), data_dir=SHARED_PRICES)
    return spec, prices


def _kind_case(path: str, name: str) -> dict:
    import inspect

    from shortthehype.sweeps import sweep

    spec, prices = kind_spec_and_prices(name)
    n = KIND_DRAWS[path]
    # a tree from before ``path`` existed (run with its own src and from its own checkout) has the generic path only
    if "path" not in inspect.signature(sweep).parameters and path != "generic":
        raise SystemExit(f"this tree's sweep() has no fused path for {name}")
    chosen = {"path": path} if "path" in inspect.signature(sweep).parameters else {}

    def run(n_blocks: int = 0):
        return sweep(spec, KIND_GRIDS[name], prices=prices, random=n, seed=1, n_blocks=n_blocks, workers=1, force=True,
                     **chosen)

    tic = time.perf_counter()
    run()
    first = time.perf_counter() - tic
    warm, result = best_time(run, repeat=3 if path == "fused" else 1)
    record = {"combinations": result.n_run, "first": first, "warm": warm, "per_second": result.n_run / warm,
              "bars": len(prices), "mode": getattr(result, "mode", "generic"), "window": getattr(result, "window", None)}
    if path == "fused":
        record["warm_with_overfitting"], _ = best_time(lambda: run(16), repeat=1)
        record["kernel"] = _kind_kernel_time(spec, name, prices, result.table["combination"].to_numpy())
    return record


def kind_chunk_plan(spec, name: str, prices):
    """The fused plan of case ``name``'s grid whose chunks ``spec.kind.fused.chunk(plan, ids)`` runs alone."""
    from dataclasses import replace

    from shortthehype.sweeps import build_axes
    from shortthehype.sweeps.plan import Plan

    spec = replace(spec, run={**spec.run, "benchmark": None})
    return Plan(spec=spec, prices=prices, axes=build_axes(spec, KIND_GRIDS[name]), mode="fused", n_blocks=0)


def _kind_kernel_time(spec, name: str, prices, ids) -> float:
    """The kind's fused chunk alone on the sweep's combinations (prepared arrays cached): best of 3."""
    plan = kind_chunk_plan(spec, name, prices)
    seconds, _ = best_time(lambda: spec.kind.fused.chunk(plan, ids), repeat=3)
    return seconds


def cold_compile() -> dict:
    """A fresh process with an empty numba cache: the classic sweep's first call, compilation included."""
    cache = Path(tempfile.mkdtemp(prefix="sth-numba-"))
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache)}
    code = (
        "import time; t = time.perf_counter(); import sys; sys.path.insert(0, 'benchmarks'); "
        "from bench_sweep import classic_prices, CLASSIC_VBT, WINDOWS; from shortthehype.sweeps import sweep; "
        "sweep('ma-crossover', {'fast': WINDOWS, 'slow': WINDOWS}, overrides=CLASSIC_VBT, prices=classic_prices(), "
        "n_blocks=0); "
        "print(time.perf_counter() - t)"
    )
    tic = time.perf_counter()
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=REPO)
    wall = time.perf_counter() - tic
    shutil.rmtree(cache, ignore_errors=True)
    if completed.returncode != 0:
        raise RuntimeError(completed.stderr[-2000:])
    return {"first_call": float(completed.stdout.strip().splitlines()[-1]), "process": wall}


CASES = {
    "classic-ours": case_classic_ours,
    "classic-vbt": case_classic_vbt,
    "plain-loop": case_plain_loop,
    "ten-assets": case_ten_assets,
    "million": case_million,
    "article": case_article,
    **{f"{path}-{name}": (lambda out, p=path, k=name: _kind_case(p, k)) for name in KIND_GRIDS for path in KIND_DRAWS},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--case", choices=sorted(CASES))
    parser.add_argument("--out")
    parser.add_argument("--cases", help="comma-separated subset of: " + ", ".join([*CASES, "cold-compile"]))
    parser.add_argument("--skip-vbt", action="store_true", help="skip vectorbt (about 30 s and 3.4 GiB)")
    parser.add_argument("--skip-article", action="store_true", help="skip the 11,025-backtest article sweep (minutes)")
    args = parser.parse_args()
    if args.case:
        emit(CASES[args.case](Path(args.out)))
        return
    wanted = args.cases.split(",") if args.cases else [*CASES, "cold-compile"]
    if args.skip_vbt:
        wanted = [c for c in wanted if c != "classic-vbt"]
    if args.skip_article:
        wanted = [c for c in wanted if c != "article"]
    tmp = Path(tempfile.mkdtemp(prefix="sth-bench-sweep-"))
    results, loads = {}, {}
    for case in wanted:
        loads[case] = os.getloadavg()[0]
        if case == "cold-compile":
            results[case] = cold_compile()
        else:
            results[case] = run_case(SCRIPT, case, "--out", str(tmp / f"{case}.npy"), timeout=3600)
    command = " ".join(["python", "benchmarks/bench_sweep.py", *sys.argv[1:]])
    print(f"Machine: {machine_summary()}; 1-minute load average before each case: "
          + ", ".join(f"{c} {v:.2f}" for c, v in loads.items()) + "\n")
    print(f"Command: `{command}`\n")
    print("| case | shortthehype | vectorbt | ratio | peak RSS (ours / vbt) | notes |")
    print("|---|---|---|---|---|---|")
    if "classic-ours" in results:
        o = results["classic-ours"]
        v = results.get("classic-vbt")
        notes = (
            f"kernel {o['kernel']:.3f} s = {o['ns_per_bar_combo_kernel']:.2f} ns/bar·comb; end to end "
            f"{o['ns_per_bar_combo_end_to_end']:.2f} ns/bar·comb; with DSR+PBO {o['warm_with_overfitting']:.3f} s "
            f"(DSR {o['dsr']:.3f}, PBO {o['pbo']:.3f})"
        )
        notes += f"; sma=windowed (default) warm {o['warm_windowed']:.3f} s"
        if v:
            ours, theirs = np.load(tmp / "classic-ours.npy"), np.load(tmp / "classic-vbt.npy")
            windowed = np.load(_windowed_path(tmp / "classic-ours.npy"))

            def agree(a: np.ndarray, b: np.ndarray, tol: float) -> np.ndarray:
                return np.all((np.abs(a - b) <= tol) | (np.isnan(a) & np.isnan(b)), axis=1)

            diffs = ", ".join(f"{m} {np.nanmax(np.abs(ours[:, k] - theirs[:, k])):.1e}" for k, m in enumerate(METRICS))
            moved = ~agree(windowed, ours, 0.0)  # the pairs whose results the summation changes
            windowed_ok = agree(windowed, theirs, 1e-9)
            notes += (
                f"; vs vectorbt, total return, Sharpe and max drawdown equal to 1e-9 in {int(agree(ours, theirs, 1e-9).sum()):,} "
                f"of {len(ours):,} combinations with sma=cumulative (max abs diff {diffs}); with sma=windowed in "
                f"{int(windowed_ok.sum()):,}: the summation changes the results of {o['summation_changes']} pairs "
                f"({int((moved & ~windowed_ok).sum())} of them off vectorbt), {o['exact_ties']} of which meet an exact "
                "tie SMA(fast) = SMA(slow) of the CSV's decimal prices where their signals first differ"
            )
            print(f"| 1. classic, {o['combinations']:,} comb. x {o['bars']:,} bars, warm | {o['warm']:.3f} s | {v['warm']:.2f} s | "
                  f"{v['warm'] / o['warm']:.0f}x | {o['peak_rss_mib']:.0f} / {v['peak_rss_mib']:.0f} MiB | {notes} |")
            print(f"| 1. classic, cold (fresh process, first call, numba cache on disk) | {o['cold']:.2f} s | {v['cold']:.2f} s | "
                  f"{v['cold'] / o['cold']:.1f}x | | includes loading the prices |")
        else:
            print(f"| 1. classic, {o['combinations']:,} comb. x {o['bars']:,} bars, warm | {o['warm']:.3f} s | — | — | "
                  f"{o['peak_rss_mib']:.0f} MiB | {notes}; cold {o['cold']:.2f} s |")
    if "plain-loop" in results:
        p = results["plain-loop"]
        for key, what in (("plain", "Sharpe ratio only"), ("plain_three", "total return, Sharpe ratio, max drawdown")):
            print(f"| 1. classic, the fused kernel beside a plain fused loop ({what}; same process) | {p['ours_ns']:.2f} "
                  f"ns/bar·comb (CPU {p['ours_cpu_ns']:.2f}) | plain loop {p[key + '_ns']:.2f} ns/bar·comb (CPU "
                  f"{p[key + '_cpu_ns']:.2f}) | {p['ours_ns'] / p[key + '_ns']:.2f}x wall, "
                  f"{p['ours_cpu_ns'] / p[key + '_cpu_ns']:.2f}x CPU | | {p['combinations']:,} comb. x {p['bars']:,} bars, "
                  "numba's threads; CPU = process time summed over threads |")
    if "cold-compile" in results:
        c = results["cold-compile"]
        print(f"| 1. classic, empty numba cache (compilation) | {c['first_call']:.1f} s | | | | whole process {c['process']:.1f} s |")
    if "ten-assets" in results:
        t = results["ten-assets"]
        print(f"| 2. ten assets, {t['combinations']:,} comb. | {t['seconds']:.2f} s | does not fit in 24 GiB | | "
              f"{t['peak_rss_mib']:.0f} MiB | {t['per_second']:,.0f} comb./s; DSR {t['dsr']:.3f}, PBO {t['pbo']} {t['pbo_note']} |")
    if "million" in results:
        m = results["million"]
        print(f"| 3. {m['combinations']:,} comb. streamed to Parquet | {m['seconds']:.1f} s | | | {m['peak_rss_mib']:.0f} MiB | "
              f"{m['per_second']:,.0f} comb./s; file {m['file_mib']:.0f} MiB; PBO {m['pbo']:.3f} from {m['pbo_splits']} splits |")
    if "article" in results:
        a = results["article"]
        print(f"| 4. dotcom-analog, {a['combinations']:,} comb., {a['mode']} path, {a['workers']} cores | {a['seconds']:.1f} s | | | "
              f"{a['peak_rss_mib']:.0f} MiB (parent) | {a['per_second']:,.1f} comb./s; best {json.dumps(a['best'])} "
              f"Sharpe {a['best_sharpe']:.3f}; DSR {a['dsr']:.3f}; PBO {a['pbo']} {a['pbo_note']} |")
    for name in KIND_GRIDS:
        fused, generic = results.get(f"fused-{name}"), results.get(f"generic-{name}")
        if not (fused and generic):
            continue
        print(f"| 6. {name}, {fused['combinations']:,} random comb. of a wide grid, one process, warm, no PBO "
              f"| {fused['warm']:.2f} s = {fused['per_second']:,.0f} comb./s "
              f"| generic: {generic['per_second']:,.1f} comb./s ({generic['combinations']} comb. in {generic['warm']:.1f} s; "
              f"2,000 extrapolated: {fused['combinations'] / generic['per_second']:.0f} s) "
              f"| {fused['per_second'] / generic['per_second']:,.0f}x "
              f"| {fused['peak_rss_mib']:.0f} / {generic['peak_rss_mib']:.0f} MiB (fused / generic) "
              f"| window {fused['window']} of {fused['bars']:,} history bars; the fused chunk alone "
              f"{fused['kernel']:.2f} s = {fused['combinations'] / fused['kernel']:,.0f} comb./s; first call "
              f"{fused['first']:.2f} s; with DSR+PBO {fused['warm_with_overfitting']:.2f} s |")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
