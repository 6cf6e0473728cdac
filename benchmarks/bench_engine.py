"""Engine benchmarks (issue 3): shortthehype vs vectorbt on the same inputs.

Cases, each in its own fresh process (so peak RSS is the case's own):

* ``single-*``: one backtest, 10 assets x ~25 years of real daily prices, monthly
  targets with shorts, fees and slippage, ``execution="close"`` (vectorbt's
  fill convention), warm; equity compared bar by bar to 1e-9.
* ``batch-*``: the same as a sweep of 1,000 weight vectors (one portfolio per
  vector); final equity compared per portfolio.
* ``bar-costs``: the engine alone (two assets, no records): nanoseconds per
  bar never rebalanced, rebalanced weekly and daily, beside a plain loop that
  does the least such a bar needs (the floor of any engine on this machine).
* ``cold``: wall time of a fresh ``shortthehype backtest`` process to its
  first result, with an empty numba cache and then with a warm one.

Run: ``.venv/bin/python benchmarks/bench_engine.py`` (prints a Markdown table).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import SHARED_PRICES, best_time, emit, machine_summary, process_times, run_case  # noqa: E402

TICKERS = ["NVDA", "MSFT", "AMZN", "ORCL", "AMD", "AAPL", "CSCO", "INTC", "QCOM", "SPY"]
START, END = "2001-10-01", "2026-09-30"
FEES, SLIPPAGE, INIT_CASH = 0.001, 0.0005, 1_000_000.0
N_VECTORS = 1000
SCRIPT = Path(__file__).resolve()


def load_close() -> pd.DataFrame:
    from shortthehype.data.load import load_prices

    return load_prices(TICKERS, START, END, source="csv", data_dir=SHARED_PRICES).close


def monthly_rows(index: pd.DatetimeIndex) -> np.ndarray:
    from shortthehype.schedule import rebalance_mask

    return rebalance_mask(index, "monthly")


def random_weights(n_vectors: int, n_assets: int, seed: int = 7) -> np.ndarray:
    """Weight vectors with shorts, gross long <= 60% so neither engine's cash limit binds."""
    rng = np.random.default_rng(seed)
    raw = rng.uniform(-0.10, 0.12, size=(n_vectors, n_assets))
    long_sum = np.clip(raw, 0, None).sum(axis=1, keepdims=True)
    return np.where(raw > 0, raw * np.minimum(1.0, 0.6 / long_sum), raw)


def single_weights(close: pd.DataFrame) -> pd.DataFrame:
    """Monthly targets that change every month (a random vector per month)."""
    mask = monthly_rows(close.index)
    rng_vectors = random_weights(int(mask.sum()), close.shape[1], seed=11)
    weights = pd.DataFrame(np.nan, index=close.index, columns=close.columns)
    weights.loc[mask] = rng_vectors
    return weights


def case_single_ours(out: Path) -> dict:
    from shortthehype import Prices, simulate

    close = load_close()
    prices = Prices.from_close(close)
    weights = single_weights(close)

    def run():
        return simulate(prices, weights, init_cash=INIT_CASH, fees=FEES, slippage=SLIPPAGE, execution="close")

    seconds, result = best_time(run, repeat=20)
    np.save(out, result.equity.to_numpy())
    return {"seconds": seconds, "bars": len(close), "assets": close.shape[1]}


def case_single_vbt(out: Path) -> dict:
    import vectorbt as vbt

    close = load_close()
    weights = single_weights(close)

    def run():
        return vbt.Portfolio.from_orders(
            close, size=weights, size_type="targetpercent", direction="both", fees=FEES, slippage=SLIPPAGE,
            init_cash=INIT_CASH, cash_sharing=True, group_by=True, call_seq="auto", freq="1D",
        ).value()

    seconds, value = best_time(run, repeat=5)
    np.save(out, value.to_numpy())
    return {"seconds": seconds}


def case_batch_ours(out: Path) -> dict:
    from shortthehype import Prices
    from shortthehype.batch import simulate_batch

    close = load_close()
    prices = Prices.from_close(close)
    mask = monthly_rows(close.index)
    vectors = random_weights(N_VECTORS, close.shape[1])
    rows = close.index[mask]
    weights = np.broadcast_to(vectors[:, None, :], (N_VECTORS, len(rows), close.shape[1]))

    def run():
        return simulate_batch(prices, rows, weights, init_cash=INIT_CASH, fees=FEES, slippage=SLIPPAGE, execution="close")

    seconds, batch = best_time(run, repeat=3)
    np.save(out, batch["end_value"].to_numpy())
    return {"seconds": seconds, "portfolios": N_VECTORS}


def case_batch_vbt(out: Path) -> dict:
    import vectorbt as vbt

    close = load_close()
    mask = monthly_rows(close.index)
    vectors = random_weights(N_VECTORS, close.shape[1])
    n_assets = close.shape[1]
    wide_close = pd.concat([close] * N_VECTORS, axis=1, keys=range(N_VECTORS), names=["portfolio", "ticker"])
    size = np.full(wide_close.shape, np.nan)
    size[mask] = vectors.reshape(1, N_VECTORS * n_assets)
    size = pd.DataFrame(size, index=close.index, columns=wide_close.columns)

    def run():
        return vbt.Portfolio.from_orders(
            wide_close, size=size, size_type="targetpercent", direction="both", fees=FEES, slippage=SLIPPAGE,
            init_cash=INIT_CASH, cash_sharing=True, group_by="portfolio", call_seq="auto", freq="1D",
        ).value()

    seconds, value = best_time(run, repeat=1)
    np.save(out, value.iloc[-1].to_numpy())
    return {"seconds": seconds}


def _plain_bars_kernel():
    """The least a bar of ``bar-costs`` needs, as one plain numba loop: the floor any engine pays per bar here.

    Accrue the cash at its precomputed factor, on a rebalance bar value the book and trade each asset to its
    weight at the close with a fee on the notional, mark the book, write equity and cash. None of the engine's
    rules: no sells before buys, no cash floor, no NaN prices, no trade records, no stops, margin or gross cap.
    """
    from numba import njit

    @njit(cache=True)
    def plain_bars_nb(close, factor, factor_negative, row_every, weights, fees, equity, cash_out):
        n, k = close.shape
        cash = 1e6
        pos = np.zeros(k)
        due = 0
        for i in range(n):
            cash += cash * (factor[i] if cash > 0.0 else factor_negative[i])
            if i == due:
                due += row_every
                value = cash
                for j in range(k):
                    value += pos[j] * close[i, j]
                for j in range(k):
                    size = weights[i, j] * value / close[i, j] - pos[j]
                    cash -= size * close[i, j] + abs(size) * close[i, j] * fees
                    pos[j] += size
            marked = cash
            for j in range(k):
                marked += pos[j] * close[i, j]
            equity[i] = marked
            cash_out[i] = cash

    return plain_bars_nb


def case_bar_costs(out: Path) -> dict:
    """The engine alone on SPY and QQQ's last 5,473 common bars: ns per bar never rebalanced, weekly, daily.

    ``simulate_arrays`` without records, fees 0.1 %, cash at 2 % (5 % when negative), 60/40 targets
    jittered so that every rebalance trades; each schedule the mean of many runs, best of 3; beside it
    :func:`_plain_bars_kernel` on the same bars, weights and rates (``plain_*``).
    """
    from shortthehype.core.simulate_nb import account_terms, simulate_arrays
    from shortthehype.data.load import load_prices
    from shortthehype.enums import AP_FEES, AP_STOP_LOSS, AP_TAKE_PROFIT, AP_TRAILING_STOP, N_ASSET_PARAMS

    close = np.ascontiguousarray(
        load_prices(["SPY", "QQQ"], source="csv", data_dir=SHARED_PRICES).close.dropna().to_numpy()[-5473:]
    )
    n = close.shape[0]
    days = np.ones(n)
    ap = np.zeros((N_ASSET_PARAMS, 2))
    ap[AP_FEES] = 0.001
    ap[[AP_STOP_LOSS, AP_TAKE_PROFIT, AP_TRAILING_STOP]] = np.nan
    terms = account_terms(1e6, 0.02, 0.05, n_bars=n)
    plain_bars_nb = _plain_bars_kernel()
    factor, factor_negative = np.full(n, 0.02 / 360), np.full(n, 0.05 / 360)
    equity, cash = np.empty(n), np.empty(n)
    record = {"bars": n}
    for name, step, runs in (("never", n, 2000), ("weekly", 5, 1000), ("daily", 1, 400)):
        row_bar = np.arange(0, n, step, dtype=np.int64)
        row_w = np.tile(np.array([[0.6, 0.4]]), (len(row_bar), 1))
        row_w[:, 0] += np.linspace(0.0, 0.01, len(row_bar))
        per_bar_w = np.repeat(row_w, step, axis=0)[:n]

        def run(rb=row_bar, rw=row_w, k=runs):
            for _ in range(k):
                simulate_arrays(close, close, close, close, days, rb, rw, ap, terms, record=False)

        def plain(w=per_bar_w, every=step, k=runs):
            for _ in range(k):
                plain_bars_nb(close, factor, factor_negative, every, w, 0.001, equity, cash)

        seconds, _ = best_time(run, repeat=3)
        record[f"{name}_ns_per_bar"] = seconds / runs / n * 1e9
        plain(k=1)
        seconds, _ = best_time(plain, repeat=3)
        record[f"plain_{name}_ns_per_bar"] = seconds / runs / n * 1e9
    return record


def cold_start() -> dict:
    """Fresh-process wall time of `shortthehype backtest` with an empty, then a warm, numba cache."""
    exe = Path(sys.executable).with_name("shortthehype")
    command = [str(exe), "backtest", "sixty-forty", "--source", "csv", "--data-dir", str(SHARED_PRICES)]
    cache = Path(tempfile.mkdtemp(prefix="sth-numba-"))
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache)}
    timings = process_times(command, 2, env)
    shutil.rmtree(cache, ignore_errors=True)
    vbt_code = "import time; t=time.perf_counter(); import vectorbt; print(time.perf_counter()-t)"
    vbt_import = float(subprocess.run([sys.executable, "-c", vbt_code], capture_output=True, text=True).stdout)
    return {"first": timings[0], "second": timings[1], "vectorbt_import": vbt_import}


CASES = {
    "single-ours": case_single_ours,
    "single-vbt": case_single_vbt,
    "batch-ours": case_batch_ours,
    "batch-vbt": case_batch_vbt,
    "bar-costs": case_bar_costs,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--case", choices=sorted(CASES))
    parser.add_argument("--out")
    parser.add_argument("--skip-vbt-batch", action="store_true", help="skip vectorbt's 1,000-portfolio run (minutes)")
    args = parser.parse_args()
    if args.case:
        record = CASES[args.case](Path(args.out))
        emit(record)
        return
    tmp = Path(tempfile.mkdtemp(prefix="sth-bench-"))
    results = {}
    for case in CASES:
        if case == "batch-vbt" and args.skip_vbt_batch:
            continue
        results[case] = run_case(SCRIPT, case, "--out", str(tmp / f"{case}.npy"))
    ours, theirs = np.load(tmp / "single-ours.npy"), np.load(tmp / "single-vbt.npy")
    single_diff = float(np.max(np.abs(ours / theirs - 1)))
    batch_diff = None
    if "batch-vbt" in results:
        ours_b, theirs_b = np.load(tmp / "batch-ours.npy"), np.load(tmp / "batch-vbt.npy")
        batch_diff = float(np.max(np.abs(ours_b / theirs_b - 1)))
    cold = cold_start()
    shutil.rmtree(tmp, ignore_errors=True)
    print(f"Machine: {machine_summary()}\n")
    print("| case | shortthehype | vectorbt | ratio | peak RSS (ours / vbt) | max rel. diff |")
    print("|---|---|---|---|---|---|")
    s_o, s_v = results["single-ours"], results["single-vbt"]
    print(
        f"| single backtest, {s_o['assets']} assets x {s_o['bars']} bars, monthly, shorts, fees+slippage | "
        f"{s_o['seconds'] * 1e3:.2f} ms | {s_v['seconds'] * 1e3:.1f} ms | {s_v['seconds'] / s_o['seconds']:.0f}x | "
        f"{s_o['peak_rss_mib']:.0f} / {s_v['peak_rss_mib']:.0f} MiB | {single_diff:.1e} |"
    )
    b_o = results["batch-ours"]
    if "batch-vbt" in results:
        b_v = results["batch-vbt"]
        print(
            f"| {N_VECTORS:,} weight vectors (one portfolio each) | {b_o['seconds']:.3f} s | {b_v['seconds']:.1f} s | "
            f"{b_v['seconds'] / b_o['seconds']:.0f}x | {b_o['peak_rss_mib']:.0f} / {b_v['peak_rss_mib']:.0f} MiB | {batch_diff:.1e} |"
        )
    else:
        print(f"| {N_VECTORS:,} weight vectors | {b_o['seconds']:.3f} s | (skipped) | | {b_o['peak_rss_mib']:.0f} MiB | |")
    bars = results["bar-costs"]
    print(
        f"| the engine alone, 2 assets x {bars['bars']:,} bars, ns per bar: never rebalanced / weekly / daily | "
        f"{bars['never_ns_per_bar']:.1f} / {bars['weekly_ns_per_bar']:.1f} / {bars['daily_ns_per_bar']:.1f} | | | | |"
    )
    print(
        f"| a plain loop on the same bars (the floor), ns per bar: never rebalanced / weekly / daily | "
        f"{bars['plain_never_ns_per_bar']:.1f} / {bars['plain_weekly_ns_per_bar']:.1f} / "
        f"{bars['plain_daily_ns_per_bar']:.1f} | | | | |"
    )
    print(
        f"| cold start `shortthehype backtest` (fresh process) | first {cold['first']:.2f} s, second {cold['second']:.2f} s | "
        f"`import vectorbt` alone: {cold['vectorbt_import']:.2f} s | | | |"
    )
    print("\n" + json.dumps({"results": results, "cold": cold}, default=float))


if __name__ == "__main__":
    main()
