"""The sweep kernels: fused fast path == reference composition bit for bit, == backtest(), == vectorbt
(with ``sma="cumulative"`` to 1e-12 on every pair, exact ties included).

Twins: the fused kernel's reference is the composition of the shared kernels
(:func:`crossover_combo_slow_nb`: signals_nb + simulate_core_nb + metrics_nb,
each with its own pure-Python twin elsewhere) and ``runner.backtest`` per
combination; ``window_rows_nb`` and ``sweep_stats_nb`` have pure-Python /
pandas twins here.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from shortthehype.constants import ANNUALIZATION, KERNEL_STATS, N_KERNEL_STATS
from shortthehype.core.simulate_nb import account_terms
from shortthehype.core.sweep_nb import (
    block_sums_nb,
    ma_crossover_sweep_nb,
    rolling_means_nb,
    sweep_stats_nb,
    window_rows_nb,
)
from shortthehype.data.prices import Prices
from shortthehype.enums import (
    AP_BORROW_FEE,
    AP_FEES,
    AP_FIXED_FEES,
    AP_SLIPPAGE,
    AP_STOP_LOSS,
    AP_TRAILING_STOP,
    N_ASSET_PARAMS,
)
from shortthehype.metrics import compute_stats
from shortthehype.runner import backtest
from shortthehype.sweeps import sweep

WINDOWS = np.array([2, 3, 5, 8, 13, 21, 34], dtype=np.int64)


def one_ticker_market(seed: int, n_bars: int = 600, jumps: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(open, close, days) of a random walk with occasional big up/down jumps (shorts go bankrupt)."""
    rng = np.random.default_rng(seed)
    steps = rng.normal(0.0, 0.02, n_bars)
    if jumps:
        at = rng.random(n_bars) < 0.01
        steps = np.where(at, rng.choice([-0.6, 1.3], size=n_bars), steps)
    close = 50 * np.exp(np.cumsum(steps))
    open_ = np.concatenate([[close[0]], close[:-1]]) * np.exp(rng.normal(0, 0.005, n_bars))
    days = rng.choice([1.0, 1.0, 1.0, 3.0], size=n_bars)
    return open_.reshape(-1, 1), close.reshape(-1, 1), days


def run_kernel(open_, close, days, lo, combos, ap, settings, use_fast, n_blocks=4, cumulative=False):
    """The kernel on the window starting at ``lo``; ``combos`` = (fast, slow, allow_short) rows."""
    ma = np.empty((len(WINDOWS), close.shape[0]))
    rolling_means_nb(np.ascontiguousarray(close[:, 0]), WINDOWS, cumulative, ma)
    position = {int(w): k for k, w in enumerate(WINDOWS)}
    fast_idx = np.array([position[f] for f, _, _ in combos], dtype=np.int64)
    slow_idx = np.array([position[s] for _, s, _ in combos], dtype=np.int64)
    allow_short = np.array([a for _, _, a in combos], dtype=np.bool_)
    w_open = np.ascontiguousarray(open_[lo:])
    w_close = np.ascontiguousarray(close[lo:])
    w_days = np.ascontiguousarray(days[lo:]).copy()
    w_days[0] = 0.0
    close_mode = settings["execution"] == "close"
    n_obs = w_close.shape[0] - 1 + (1 if close_mode else 0)
    length = n_obs // n_blocks
    out = np.full((len(combos), N_KERNEL_STATS), -7.0)
    blocks = np.full((len(combos), n_blocks, 2), -7.0)
    m = w_close.shape[0]
    rate = np.full(m, settings.get("cash_rate", 0.0))
    if settings.get("dated"):  # the rate steps between two levels every 40 bars
        rate = np.where(np.arange(m) % 80 < 40, rate, 0.5 * rate + 0.01)
    rate_negative = np.full(m, settings.get("cash_rate_negative", 0.0))
    ma_crossover_sweep_nb(
        w_open, w_open.copy(), w_open.copy(), w_close, w_days, ma, lo, fast_idx, slow_idx, allow_short,
        np.ascontiguousarray(ap),
        account_terms(1_000_000.0, rate, rate_negative, settings.get("max_gross", np.inf), settings.get("margin", 0.0),
                      settings["execution"] == "next_open", settings.get("integer_shares", False),
                      settings.get("renormalize", False), n_bars=m),
        0 if close_mode else 1, close_mode,
        float(ANNUALIZATION), n_obs - n_blocks * length, length, 2, use_fast, out, blocks,
    )
    return out, blocks


def all_pairs(allow_short_too: bool = True):
    pairs = [(int(f), int(s)) for f in WINDOWS for s in WINDOWS if f < s]
    rows = [(f, s, False) for f, s in pairs]
    if allow_short_too:
        rows += [(f, s, True) for f, s in pairs]
    return rows


SETTINGS = [
    {"execution": "close"},
    {"execution": "next_open"},
    {"execution": "next_close"},
    {"execution": "next_open", "fees": 0.002, "fixed": 3.0, "slippage": 0.001, "integer_shares": True},
    {"execution": "close", "fees": 0.001, "borrow": 0.03, "cash_rate": 0.04, "cash_rate_negative": 0.07},
    {"execution": "next_close", "fees": 0.0005, "max_gross": 0.6, "renormalize": True},
    {"execution": "next_open", "slippage": 0.002, "max_gross": 1.5, "cash_rate": -0.01},
    {"execution": "next_open", "fees": 0.001, "borrow": 0.02, "cash_rate": 0.04, "dated": True},
    {"execution": "close", "fees": 0.001, "max_gross": 1.0},
]


def combination_costs(n: int, settings: dict) -> np.ndarray:
    """Per-combination asset parameters: the costs of ``settings`` (none by default), every stop off."""
    ap = np.zeros((n, N_ASSET_PARAMS))
    ap[:, AP_STOP_LOSS : AP_TRAILING_STOP + 1] = np.nan
    ap[:, AP_FEES] = settings.get("fees", 0.0)
    ap[:, AP_FIXED_FEES] = settings.get("fixed", 0.0)
    ap[:, AP_SLIPPAGE] = settings.get("slippage", 0.0)
    ap[:, AP_BORROW_FEE] = settings.get("borrow", 0.0)
    return ap


@pytest.mark.parametrize("sma", ["windowed", "cumulative"])
@pytest.mark.parametrize("settings", SETTINGS, ids=lambda s: "-".join(f"{k}={v}" for k, v in s.items()))
@pytest.mark.parametrize("lo", [0, 57])
def test_fast_path_equals_the_reference_composition_bit_for_bit(settings, lo, sma):
    open_, close, days = one_ticker_market(seed=lo + len(settings))
    combos = all_pairs()
    ap = combination_costs(len(combos), settings)
    cumulative = sma == "cumulative"
    fast, fast_blocks = run_kernel(open_, close, days, lo, combos, ap, settings, use_fast=True, cumulative=cumulative)
    slow, slow_blocks = run_kernel(open_, close, days, lo, combos, ap, settings, use_fast=False, cumulative=cumulative)
    np.testing.assert_array_equal(fast, slow)  # NaN == NaN here; every bit otherwise
    np.testing.assert_array_equal(fast_blocks, slow_blocks)
    assert (fast[:, KERNEL_STATS.index("total_return")] != 0).mean() > 0.5  # the combinations trade


@pytest.mark.parametrize("settings", [SETTINGS[0], SETTINGS[1], SETTINGS[3]], ids=lambda s: s["execution"])
def test_fast_path_equals_the_reference_through_ties_and_flat_stretches(settings):
    """Stretches of one price (64: every moving average of it is exact) make the averages tie, so the fast
    path's steady runs meet the 'equal' comparison and long flat spells, besides 'above' and 'below'."""
    open_, close, days = one_ticker_market(seed=11, jumps=False)
    for first in (100, 260, 420):
        close[first : first + 60] = 64.0
        open_[first : first + 60] = 64.0
    combos = all_pairs()
    ap = combination_costs(len(combos), settings)
    for cumulative in (False, True):
        fast, fast_blocks = run_kernel(open_, close, days, 0, combos, ap, settings, use_fast=True, cumulative=cumulative)
        slow, slow_blocks = run_kernel(open_, close, days, 0, combos, ap, settings, use_fast=False, cumulative=cumulative)
        np.testing.assert_array_equal(fast, slow)
        np.testing.assert_array_equal(fast_blocks, slow_blocks)
    ma = np.empty((len(WINDOWS), close.shape[0]))
    rolling_means_nb(np.ascontiguousarray(close[:, 0]), WINDOWS, False, ma)
    assert (ma[2, 200:] == ma[5, 200:]).sum() >= 60  # the averages do tie


def test_bankrupt_combinations_take_the_reference_path():
    """Shorts through +270 % jumps go bankrupt: the fast path hands them to the engine (and agrees)."""
    open_, close, days = one_ticker_market(seed=11, n_bars=800)
    combos = all_pairs()  # the long-only half never goes bankrupt
    ap = combination_costs(len(combos), {})
    fast, _ = run_kernel(open_, close, days, 0, combos, ap, {"execution": "next_open"}, use_fast=True)
    slow, _ = run_kernel(open_, close, days, 0, combos, ap, {"execution": "next_open"}, use_fast=False)
    status = fast[:, KERNEL_STATS.index("status")]
    assert (status == 1).any() and (status == 0).any()
    np.testing.assert_array_equal(fast, slow)


def test_stops_and_margin_use_the_engine():
    open_, close, days = one_ticker_market(seed=5)
    combos = all_pairs()
    ap = combination_costs(len(combos), {})
    ap[::2, AP_TRAILING_STOP] = 0.05  # every other combination has a trailing stop
    fast, _ = run_kernel(open_, close, days, 0, combos, ap, {"execution": "next_open", "margin": 0.3}, use_fast=True)
    slow, _ = run_kernel(open_, close, days, 0, combos, ap, {"execution": "next_open", "margin": 0.3}, use_fast=False)
    np.testing.assert_array_equal(fast, slow)


# ---- the kernel through sweep() against backtest() on real prices ----------------------------


@pytest.fixture(scope="module")
def qqq(shared_prices_dir):
    from shortthehype.data.load import load_prices

    return load_prices(["QQQ"], data_dir=shared_prices_dir)


@pytest.mark.parametrize(
    "overrides",
    [
        {"execution": "close", "fees": 0.001, "slippage": 0.0},
        {"start": "2008-06-02", "end": "2016-12-30"},  # the spec's costs, next_open, a window with warm-up
        {"execution": "next_close", "borrow_fee": 0.02, "cash_rate": 0.03, "integer_shares": True},
    ],
    ids=["close", "window", "next_close-accruals"],
)
def test_fused_sweep_equals_backtest_for_every_sampled_combination(qqq, overrides):
    grid = {"fast": [5, 20, 50], "slow": [30, 100, 200], "direction": ["long", "longshort"], "fees": [0.0, 0.002]}
    if "fees" in overrides:
        grid.pop("fees")
    result = sweep("ma-crossover", grid, overrides=overrides, prices=qqq, n_blocks=0)
    assert result.mode == "fused"
    assert result.n_run == 2 * 8 * (2 if "fees" in grid else 1) and result.n_invalid == 2 * (2 if "fees" in grid else 1)
    for _, row in result.table.iloc[::3].iterrows():
        combination = {name: row[name].item() if hasattr(row[name], "item") else row[name] for name in result.grid}
        run = backtest("ma-crossover", overrides={**overrides, **combination}, prices=qqq)
        assert row["end_value"] == run.result.equity.iloc[-1], combination
        for key in ("total_return", "cagr", "annual_volatility", "sharpe", "sortino", "max_drawdown", "calmar"):
            assert row[key] == run.stats[key] or (math.isnan(row[key]) and math.isnan(run.stats[key])), (combination, key)


@pytest.fixture(scope="module")
def qqq_5000(qqq):
    """The benchmark's prices: the last 5,000 QQQ bars."""
    return qqq.between(qqq.index[-5000], None)


@pytest.fixture(scope="module")
def vectorbt_2_30(qqq_5000):
    """vectorbt's MA.run_combs + Portfolio.from_signals over every pair of windows 2..30 (fees 0.1 %, fills at
    the signal bar's close): total return, Sharpe (252 days), max drawdown per (fast, slow)."""
    import vectorbt as vbt
    close = qqq_5000.close["QQQ"]
    fast_ma, slow_ma = vbt.MA.run_combs(close, window=list(range(2, 31)), r=2, short_names=["fast", "slow"])
    pf = vbt.Portfolio.from_signals(
        close, fast_ma.ma_crossed_above(slow_ma), fast_ma.ma_crossed_below(slow_ma), fees=0.001, init_cash=1_000_000.0,
        freq="1D",
    )
    return pd.DataFrame(
        {
            "total_return": pf.total_return().to_numpy(),
            "sharpe": pf.sharpe_ratio(year_freq="252 days").to_numpy(),
            "max_drawdown": pf.max_drawdown().to_numpy(),
        },
        index=pd.MultiIndex.from_tuples(list(pf.wrapper.columns), names=["fast", "slow"]),
    )


@pytest.mark.parametrize("sma", ["cumulative", "windowed"])
def test_fused_sweep_equals_vectorbt_run_combs_from_signals(qqq_5000, vectorbt_2_30, sma):
    """Issue benchmark 1 in small: every pair of windows 2..30 on the benchmark's 5,000 bars, fees 0.1 %, long
    only, fills at the signal bar's close.  With sma=cumulative every pair's total return, Sharpe (252 days) and
    max drawdown equal vectorbt's to 1e-12; the windowed default misses on exactly the 13 pairs whose averages
    meet an exact tie (all 13 of the benchmark's 4,851 lie in 2..30) and equals it to 1e-9 on the 393 others."""
    result = sweep(
        "ma-crossover",
        {"fast": "2:30:1", "slow": "2:30:1"},
        overrides={"execution": "close", "fees": 0.001, "slippage": 0.0, "sma": sma, "cash_rate": 0.0},  # vectorbt pays no interest
        prices=qqq_5000,
        n_blocks=0,
    )
    assert result.mode == "fused"
    theirs = vectorbt_2_30
    ours = result.table.set_index(["fast", "slow"]).loc[theirs.index]
    assert len(ours) == len(theirs) == 29 * 28 // 2
    tol = 1e-12 if sma == "cumulative" else 1e-9
    close = np.ones(len(ours), dtype=bool)
    for key in ("total_return", "sharpe", "max_drawdown"):
        close &= np.isclose(ours[key].to_numpy(), theirs[key].to_numpy(), rtol=tol, atol=tol)
    assert int((~close).sum()) == (0 if sma == "cumulative" else 13), list(ours.index[~close])


@pytest.mark.parametrize(
    "overrides",
    [
        {"execution": "close", "fees": 0.001, "slippage": 0.0},
        {"start": "2008-06-02", "end": "2016-12-30"},  # next_open, a window whose running sums start 9 years before
    ],
    ids=["close", "window"],
)
def test_fused_sweep_over_sma_equals_backtest_bit_for_bit(qqq, overrides):
    """sma as a grid dimension on the fused path, windows with exact ties on QQQ's whole history: every row
    equals backtest() of its combination bit for bit, the two methods really differ on some pairs, and a fixed
    ``sma=cumulative`` override gives the grid's cumulative rows."""
    grid = {"fast": [2, 3, 4], "slow": [4, 5, 6], "sma": ["windowed", "cumulative"]}
    result = sweep("ma-crossover", grid, overrides=overrides, prices=qqq, n_blocks=0)
    assert result.mode == "fused" and result.n_run == 16 and result.n_invalid == 2
    keys = ("end_value", "total_return", "cagr", "annual_volatility", "sharpe", "sortino", "max_drawdown", "calmar")
    for _, row in result.table.iterrows():
        combination = {"fast": int(row["fast"]), "slow": int(row["slow"]), "sma": str(row["sma"])}
        run = backtest("ma-crossover", overrides={**overrides, **combination}, prices=qqq)
        assert row["end_value"] == run.result.equity.iloc[-1], combination
        for key in keys[1:]:
            assert row[key] == run.stats[key] or (math.isnan(row[key]) and math.isnan(run.stats[key])), (combination, key)
    table = result.table.set_index(["sma", "fast", "slow"])[list(keys)]
    windowed, cumulative = table.loc["windowed"], table.loc["cumulative"]
    assert (windowed["end_value"] != cumulative["end_value"]).sum() >= 2  # ties: (2, 4), (2, 5), (4, 5), ...
    fixed = sweep("ma-crossover", {"fast": [2, 3, 4], "slow": [4, 5, 6]}, overrides={**overrides, "sma": "cumulative"},
                  prices=qqq, n_blocks=0)
    assert fixed.mode == "fused"
    pd.testing.assert_frame_equal(fixed.table.set_index(["fast", "slow"])[list(keys)], cumulative)


def test_a_bad_sma_in_a_grid_names_the_parameter(qqq):
    from shortthehype.errors import ParamError

    with pytest.raises(ParamError, match=r"parameter 'sma': 'foo' is not one of windowed, cumulative"):
        sweep("ma-crossover", {"fast": [2], "slow": [4], "sma": ["windowed", "foo"]}, prices=qqq, n_blocks=0)


# ---- building blocks and their twins ---------------------------------------------------------


def twin_window_rows(targets: list[float], lo: int, hi: int, shift: int) -> list[tuple[int, float]]:
    """runner.prepare_window + engine._target_rows for one ticker, written out."""
    in_force = math.nan
    for t in range(lo, -1, -1):
        if not math.isnan(targets[t]):
            in_force = targets[t]
            break
    rows = []
    for t in range(lo, hi + 1):
        w = targets[t]
        if t == lo and math.isnan(w):
            w = in_force
        if math.isnan(w):
            continue
        bar = t - lo + shift
        if bar <= hi - lo:
            rows.append((bar, w))
    return rows


@pytest.mark.parametrize("seed", range(6))
def test_window_rows_equal_the_twin(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 60))
    targets = np.where(rng.random(n) < 0.7, np.nan, rng.choice([-1.0, 0.0, 1.0], size=n))
    lo = int(rng.integers(0, n - 1))
    hi = int(rng.integers(lo + 1, n))
    for shift in (0, 1):
        row_bar = np.empty(n + 1, dtype=np.int64)
        row_w = np.empty((n + 1, 1))
        k = window_rows_nb(targets, lo, hi, shift, row_bar, row_w)
        assert list(zip(row_bar[:k].tolist(), row_w[:k, 0].tolist())) == twin_window_rows(targets.tolist(), lo, hi, shift)


def test_window_rows_match_the_runner_on_a_real_frame():
    from shortthehype.engine import prepare_inputs
    from shortthehype.runner import prepare_window

    index = pd.bdate_range("2022-01-03", periods=12)
    targets = np.array([np.nan, 1.0, np.nan, np.nan, 0.0, np.nan, 1.0, np.nan, np.nan, np.nan, 0.0, np.nan])
    weights = pd.DataFrame({"X": targets}, index=index)
    window, windowed = prepare_window(weights, index, index[3], index[10])
    prices = Prices.from_close(pd.DataFrame({"X": np.linspace(10, 20, 12)}, index=index)).between(window[0], window[-1])
    inputs = prepare_inputs(prices, windowed, execution="next_open")
    row_bar = np.empty(13, dtype=np.int64)
    row_w = np.empty((13, 1))
    k = window_rows_nb(targets, 3, 10, 1, row_bar, row_w)
    np.testing.assert_array_equal(row_bar[:k], inputs.row_bar)
    np.testing.assert_array_equal(row_w[:k], inputs.row_w)


@pytest.mark.parametrize("ruin", [False, True])
def test_sweep_stats_equal_compute_stats(ruin):
    rng = np.random.default_rng(3)
    curve = 100 * np.cumprod(1 + rng.normal(0.001, 0.02, 300))
    if ruin:
        curve[200] = -5.0
        curve[201:] = -5.0
    out = np.empty(N_KERNEL_STATS)
    blocks = np.empty((4, 2))
    sweep_stats_nb(curve, np.empty(300), 252.0, 0, 299 - 4 * 74, 74, out, blocks)
    stats = compute_stats(pd.Series(curve))
    for k, key in enumerate(KERNEL_STATS[:-1]):
        name = "end_value" if key == "end_value" else key
        assert out[k] == stats[name] or (math.isnan(out[k]) and math.isnan(stats[name])), key
    returns = curve[1:] / curve[:-1] - 1
    if ruin:
        returns[199] = -1.0
        returns[200:] = 0.0  # after ruin the blocks count nothing
    kept = returns[299 - 4 * 74 :]
    np.testing.assert_allclose(blocks[:, 0], kept.reshape(4, 74).sum(axis=1), rtol=1e-12)
    np.testing.assert_allclose(blocks[:, 1], (kept.reshape(4, 74) ** 2).sum(axis=1), rtol=1e-12)


def test_block_sums_of_a_short_tail():
    returns = np.array([9.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    out = np.empty((3, 2))
    block_sums_nb(returns, 5, 1, 2, out)  # blocks [1, 2], [3, 4], [5, 6]; positions >= 5 count as 0
    np.testing.assert_array_equal(out, [[3.0, 5.0], [7.0, 25.0], [0.0, 0.0]])


def test_rolling_means_equal_pandas():
    close = np.random.default_rng(4).uniform(10, 20, 200)
    windows = np.array([1, 2, 7, 50, 200], dtype=np.int64)
    out = np.empty((5, 200))
    rolling_means_nb(close, windows, False, out)
    for k, w in enumerate(windows):
        np.testing.assert_allclose(out[k], pd.Series(close).rolling(int(w)).mean().to_numpy(), rtol=1e-12, equal_nan=True)


def test_cumulative_rolling_means_equal_vectorbt_and_the_strategys_kernel_bit_for_bit():
    """The sweep shares one set of running sums between all windows: each row is still the bits of
    vectorbt's rolling mean and of the 1-D kernel the strategy uses."""
    import vectorbt as vbt

    from shortthehype.core.signals_nb import rolling_mean_cumulative_1d_nb

    close = np.round(np.random.default_rng(4).uniform(10, 20, 300), 2)
    close[[0, 1, 40, 41, 150]] = np.nan
    windows = np.array([1, 2, 7, 50, 300, 301], dtype=np.int64)
    out = np.empty((len(windows), 300))
    rolling_means_nb(close, windows, True, out)
    for k, w in enumerate(windows):
        for theirs in (vbt.generic.nb.rolling_mean_1d_nb(close, int(w), int(w)),
                       rolling_mean_cumulative_1d_nb(close, int(w), np.empty(300))):
            assert np.array_equal(out[k].view(np.uint64), theirs.view(np.uint64)), w


def test_one_list_of_statistic_names_serves_backtests_batches_and_sweeps():
    from shortthehype.metrics import STATS_KEYS
    from shortthehype.sweeps import SWEEP_METRICS

    assert KERNEL_STATS[-1] == "status" and set(KERNEL_STATS[:-1]) <= set(STATS_KEYS)
    assert SWEEP_METRICS == KERNEL_STATS[:-1]


