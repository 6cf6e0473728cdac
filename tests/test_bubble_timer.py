"""The ``bubble-timer`` strategy: regimes by hand, no look-ahead, basket wiring, the spec file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import shortthehype.strategies.bubble_timer as bt  # registers the kind
from shortthehype.data.prices import Prices
from shortthehype.errors import SpecError
from shortthehype.spec import load_spec

SPEC = Path(__file__).resolve().parents[1] / "strategies" / "bubble_timer.toml"
#: Small windows keep the indicator cheap in tests.
FAST = dict(window_min=60, window_max=120, window_step=20, step=5)


def params(**overrides):
    values = {p.name: p.default for p in bt.PARAMS}
    values.update(FAST)
    values.update(overrides)
    return values


def bubble_prices(seed: int = 1, ticker: str = "SYN") -> Prices:
    """A clean LPPLS bubble (critical time 8 bars after bar 259), then a noisy decline."""
    rng = np.random.default_rng(seed)
    n = 260
    amp = 0.25 / n**0.5
    x = np.abs(n + 8.0 - np.arange(n))
    bubble = 4.0 + x**0.5 * (-amp + 0.04 * amp * np.cos(8 * np.log(x)) + 0.03 * amp * np.sin(8 * np.log(x)))
    log_p = np.concatenate([bubble + rng.normal(0, 0.003, n), bubble[-1] + np.cumsum(rng.normal(-0.002, 0.01, 60))])
    close = pd.DataFrame({ticker: np.exp(log_p)}, index=pd.bdate_range("2010-01-01", periods=len(log_p)))
    return Prices.from_close(close)


def test_regimes_by_hand():
    index = pd.bdate_range("2020-01-01", periods=12)
    signals = pd.Series([0, 1, 0, -1, 0], index=index[[0, 2, 4, 6, 10]])
    regime = bt.bubble_regimes(index, signals, duration=3)
    # bubble fires on bar 2 (bars 2-4), anti-bubble on bar 6 (bars 6-8), nothing after
    assert regime.tolist() == [0, 0, 1, 1, 1, 0, -1, -1, -1, 0, 0, 0]
    # a later signal takes over before the earlier one runs out
    assert bt.bubble_regimes(index, pd.Series([1, -1], index=index[[2, 3]]), 5).tolist() == [0, 0, 1, -1, -1, -1, -1, -1, 0, 0, 0, 0]
    assert bt.bubble_regimes(index, pd.Series([], dtype=np.int64), 5).tolist() == [0] * 12


def test_targets_follow_the_regimes_of_the_signals():
    prices = bubble_prices()
    p = params(ticker="SYN", bubble_threshold=0.3, bubble_exposure=-1.0, neutral_exposure=0.5, hold=10)
    signals = bt.bubble_signals(prices.close["SYN"].rename("SYN"), p)["signal"]
    assert (signals == 1).any(), "the synthetic bubble should fire the bubble signal"
    weights = bt.BUBBLE_TIMER.target_weights(prices, p)["SYN"]
    regime = bt.bubble_regimes(prices.index, signals, 10)
    exposure = np.where(regime == 1, -1.0, 0.5)
    rows = weights.dropna()
    np.testing.assert_array_equal(rows.to_numpy(), exposure[prices.index.get_indexer(rows.index)])
    # a row on the first bar and on every change of exposure, none elsewhere
    changes = np.flatnonzero(np.diff(exposure) != 0) + 1
    assert list(prices.index.get_indexer(rows.index)) == [0] + list(changes)
    # evaluations every 5 bars from bar 0 of the series, from the first full smallest window on
    positions = prices.index.get_indexer(signals.index)
    assert positions[0] == 60 and (np.diff(positions) == 5).all()


def test_perturbing_the_future_leaves_past_targets_unchanged():
    prices = bubble_prices()
    p = params(ticker="SYN", bubble_threshold=0.2, bubble_exposure=-1.0)
    cut = 240
    close = prices.close.copy()
    close.iloc[cut + 1 :] *= np.linspace(2.0, 0.3, len(close) - cut - 1)[:, None]
    changed = Prices.from_close(close)
    before = bt.BUBBLE_TIMER.target_weights(prices, p).iloc[: cut + 1]
    after = bt.BUBBLE_TIMER.target_weights(changed, p).iloc[: cut + 1]
    pd.testing.assert_frame_equal(before, after)
    # and the evaluation dates do not depend on how much data follows
    shorter = Prices.from_close(prices.close.iloc[: cut + 1])
    pd.testing.assert_frame_equal(before, bt.BUBBLE_TIMER.target_weights(shorter, p))


def test_ai_basket_trades_the_listed_members_with_equal_weights():
    base = bubble_prices(ticker="NVDA").close
    index = base.index
    close = pd.DataFrame(
        {
            "NVDA": base["NVDA"],
            "MSFT": base["NVDA"].to_numpy() * 1.5,
            "PLTR": np.where(np.arange(len(index)) >= 200, base["NVDA"].to_numpy(), np.nan),  # lists on bar 200
        },
        index=index,
    )
    prices = Prices.from_close(close)
    p = params(ticker="ai-basket", rebalance="monthly", neutral_exposure=1.0, bubble_exposure=0.0)
    assert bt.BUBBLE_TIMER.tickers(p) == list(bt.AI_BASKET_TICKERS)
    weights = bt.BUBBLE_TIMER.target_weights(prices, p)
    rows = weights.dropna(how="all")
    listed = close.loc[rows.index].notna()
    invested = rows.sum(axis=1) > 0
    # each invested row: 1/m on each listed member, 0 on the others
    expected = listed.div(listed.sum(axis=1), axis=0)
    np.testing.assert_allclose(rows[invested].to_numpy(), expected[invested].to_numpy())
    assert (rows[~invested].fillna(0.0) == 0.0).all().all()


def test_check_refuses_a_window_range_upside_down():
    with pytest.raises(SpecError, match=r"'window_min' = 300 must not exceed 'window_max' = 200"):
        bt.BUBBLE_TIMER.check(params(window_min=300, window_max=200))


def test_spec_file_loads_with_typed_sweep_ranges():
    spec = load_spec(SPEC)
    assert spec.kind is bt.BUBBLE_TIMER
    assert spec.params["ticker"] == "AI-BASKET"
    assert spec.tickers() == list(bt.AI_BASKET_TICKERS)
    assert spec.sweep["bubble_threshold"] == [0.05, 0.1, 0.2, 0.3]
    assert spec.sweep["hold"] == [5, 21, 63]
    assert spec.params["evaluate_from"] == pd.Timestamp("2014-01-02")


def test_backtest_end_to_end_on_synthetic_prices():
    from shortthehype.runner import backtest

    prices = bubble_prices()
    overrides = dict(FAST, ticker="SYN", bubble_threshold=0.3, bubble_exposure=-1.0, start=None, benchmark=None, evaluate_from=None)
    run = backtest(SPEC, overrides=overrides, prices=prices)
    assert run.result.equity.index[0] == prices.index[0]
    assert np.isfinite(run.result.equity.to_numpy()).all()
    assert run.stats["n_trades"] >= 2  # long at the start, out (short) on the bubble signal


def test_a_sweep_computes_only_the_indicators_its_combinations_use(monkeypatch):
    """The indicator of a set of its parameters is computed on first use: a random draw from a wide grid pays for
    the sets it draws, and its rows equal backtest()'s."""
    from shortthehype.runner import backtest
    from shortthehype.sweeps import sweep

    computed = []
    indicator = bt._indicator
    monkeypatch.setattr(bt, "_indicator", lambda series, p: computed.append(p["window_min"]) or indicator(series, p))
    prices = bubble_prices()
    overrides = dict(FAST, ticker="SYN", start=None, benchmark=None, evaluate_from=None)
    grid = {"window_min": "40,50,60,70,80,90", "hold": "0,5,10,21", "bubble_threshold": "0.1,0.3"}  # 6 sets, 48 combinations
    result = sweep(SPEC, grid, overrides=overrides, prices=prices, random=3, seed=4, n_blocks=0, workers=1, path="fused")
    used = set(result.table["window_min"].tolist())
    # the sets drawn and no other (the overfitting statistics' backtest of the best row prepares its own again)
    assert len(used) < 6 and set(computed) == used
    for _, row in result.table.iterrows():
        combination = {"window_min": int(row["window_min"]), "hold": int(row["hold"]),
                       "bubble_threshold": float(row["bubble_threshold"])}
        run = backtest(SPEC, overrides={**overrides, **combination}, prices=prices)
        assert row["sharpe"] == run.stats["sharpe"] or (np.isnan(row["sharpe"]) and np.isnan(run.stats["sharpe"]))


def test_runs_on_one_loaded_prices_compute_each_indicator_once(monkeypatch):
    """The indicator of a set of its parameters is kept with the loaded prices: generic runs that differ in other
    parameters (a generic sweep's, a study's) share it; other prices compute their own, with the same result."""
    from shortthehype.runner import backtest

    computed = []
    indicator = bt._indicator
    monkeypatch.setattr(bt, "_indicator", lambda series, p: computed.append(p["window_min"]) or indicator(series, p))
    prices = bubble_prices()
    overrides = dict(FAST, ticker="SYN", start=None, benchmark=None, evaluate_from=None, bubble_exposure=-1.0)
    settings = [(0.1, 60, 0), (0.3, 60, 5), (0.3, 80, 5), (0.2, 60, 10), (0.2, 80, 0)]
    runs = [backtest(SPEC, overrides={**overrides, "bubble_threshold": t, "window_min": w, "hold": h}, prices=prices)
            for t, w, h in settings]
    assert computed == [60, 80]
    assert len({run.result.equity.iloc[-1] for run in runs}) > 1
    fresh = backtest(SPEC, overrides={**overrides, "bubble_threshold": 0.3, "window_min": 80, "hold": 5},
                     prices=bubble_prices())
    assert computed == [60, 80, 80] and fresh.result.equity.equals(runs[2].result.equity)


def test_kept_fits_cannot_be_changed_by_a_caller():
    """The fits kept in memory are handed to every later caller of the same indicator: they are read-only."""
    from shortthehype.lppls import lppls_windows

    series = bubble_prices().close["SYN"]
    windows = lppls_windows(60, 80, 20)
    positions = np.array([200, 250])
    first = bt._cached_fits(series, positions, windows)
    with pytest.raises(ValueError, match="read-only"):
        first.records[0, 0, 0] = 0.0
    again = bt._cached_fits(series, positions, windows)
    assert again.records is first.records
