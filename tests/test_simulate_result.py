"""The Result views (orders, trades, events, exposure, stats) and the kernel's sweep entry point."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from numba import njit
from reference import random_prices, random_weights

from shortthehype.core.simulate_nb import account_terms, last_valid_bar_nb, simulate_core_nb
from shortthehype.engine import prepare_inputs, simulate
from shortthehype.enums import N_TOTALS, order_dt

INDEX = pd.date_range("2024-01-01", periods=6, freq="D", name="date")
CLOSE = pd.DataFrame(
    {"NVDA": [100.0, 110, 120, 90, 100, 100], "PLTR": [np.nan, 20, 25, 30, 15, 10]}, index=INDEX
)


def sample_result(**options):
    weights = pd.DataFrame(
        {"NVDA": [0.5, 0.8, -0.5], "PLTR": [-0.3, -0.3, np.nan]}, index=INDEX[[0, 1, 3]]
    )
    return simulate(CLOSE, weights, init_cash=1000, execution="close", fees=0.01, **options)


def test_orders_frame():
    r = sample_result()
    orders = r.orders
    assert list(orders.columns) == ["date", "ticker", "side", "size", "price", "fees", "slippage", "reason", "status"]
    # bar 0: PLTR unlisted -> only NVDA: 5 shares at 100, fee 5.
    first = orders.iloc[0]
    assert (first["date"], first["ticker"], first["side"], first["size"], first["fees"]) == (
        INDEX[0], "NVDA", "buy", pytest.approx(5), pytest.approx(5)
    )
    assert set(orders["reason"]) == {"rebalance"}
    assert (orders["size"] > 0).all()


def test_trades_frame_splits_a_reversal_into_two_round_trips():
    r = sample_result()
    trades = r.trades
    assert list(trades.columns) == [
        "ticker", "direction", "entry_date", "exit_date", "entry_price", "exit_price", "size", "pnl", "return",
        "fees", "borrow", "status",
    ]
    nvda = trades[trades["ticker"] == "NVDA"].reset_index(drop=True)
    # NVDA long (bars 0-3), reversed to a short on bar 3 that is still open at the end.
    assert list(nvda["direction"]) == ["long", "short"]
    assert list(nvda["status"]) == ["closed", "open"]
    assert nvda.loc[0, "exit_date"] == INDEX[3] and nvda.loc[1, "entry_date"] == INDEX[3]
    assert nvda.loc[1, "exit_date"] == INDEX[-1] and nvda.loc[1, "exit_price"] == pytest.approx(100)
    # long trade: bought 5 at 100 and more at 110; all sold at 90 on bar 3
    orders = r.orders[r.orders["ticker"] == "NVDA"]
    buys = orders[orders["side"] == "buy"]
    entry = (buys["size"] * buys["price"]).sum() / buys["size"].sum()
    assert nvda.loc[0, "entry_price"] == pytest.approx(entry)
    assert nvda.loc[0, "size"] == pytest.approx(buys["size"].sum())
    assert nvda.loc[0, "exit_price"] == pytest.approx(90)
    # the reversal order's fee is split by quantity between the two trades
    assert trades["fees"].sum() == pytest.approx(r.costs["fees"])
    # pnl adds up to the equity change
    assert trades["pnl"].sum() == pytest.approx(r.equity.iloc[-1] - 1000)


def test_events_frame_names_ticker_and_detail():
    r = sample_result(stop_loss={"PLTR": 0.2})
    events = r.events
    assert list(events.columns) == ["date", "kind", "ticker", "detail"]
    # PLTR short from 20 (bar 1); stop 24; bar 2 closes at 25 (O=H=L=C: gap) -> stopped at 25.
    stop = events.iloc[0]
    assert (stop["kind"], stop["ticker"], stop["date"]) == ("stop_loss", "PLTR", INDEX[2])
    assert "24.0000" in stop["detail"] and "25.0000" in stop["detail"]
    empty = simulate(CLOSE, pd.DataFrame({"NVDA": [0.5]}, index=INDEX[:1])).events
    assert len(empty) == 0 and list(empty.columns) == ["date", "kind", "ticker", "detail"]


def test_weights_exposure_turnover_returns():
    r = sample_result()
    values = r.positions * CLOSE.ffill().fillna(0.0)
    np.testing.assert_allclose(r.weights.to_numpy(), (values.div(r.equity, axis=0)).to_numpy(), rtol=1e-12)
    exposure = r.exposure
    assert list(exposure.columns) == ["long", "short", "gross", "net"]
    np.testing.assert_allclose(exposure["gross"], exposure["long"] - exposure["short"])
    np.testing.assert_allclose(exposure["net"], r.weights.sum(axis=1), atol=1e-12)
    assert (exposure["short"] <= 0).all() and (exposure["long"] >= 0).all()
    # turnover on bar 0: 5 shares x 100 / equity
    assert r.turnover.iloc[0] == pytest.approx(500 / r.equity.iloc[0])
    assert r.turnover.iloc[2] == 0.0
    assert r.returns.iloc[0] == pytest.approx(r.equity.iloc[0] / 1000 - 1)
    assert r.returns.iloc[1] == pytest.approx(r.equity.iloc[1] / r.equity.iloc[0] - 1)


def test_weights_are_nan_when_equity_is_not_positive():
    close = pd.DataFrame({"S": [10.0, 40.0, 40.0]}, index=INDEX[:3])
    r = simulate(close, pd.DataFrame({"S": [-1.0]}, index=INDEX[:1]), execution="close")
    assert r.equity.iloc[1] < 0
    assert math.isnan(r.weights["S"].iloc[1]) and math.isnan(r.exposure["gross"].iloc[1])


def test_costs_and_repr():
    r = sample_result(slippage=0.001, borrow_fee=0.1)
    assert set(r.costs) == {"fees", "slippage", "borrow", "interest"}
    assert r.costs["fees"] == pytest.approx(r.orders["fees"].sum())
    assert r.costs["slippage"] == pytest.approx(r.orders["slippage"].sum())
    assert r.costs["borrow"] > 0
    assert "final equity" in repr(r) and "status ok" in repr(r)
    assert r.order_records.dtype == order_dt


def test_stats_uses_the_metrics_module():
    r = sample_result()
    stats = r.stats()
    # close execution: the series starts at init_cash one day before the first bar
    assert stats["start_value"] == 1000
    assert stats["end_value"] == pytest.approx(r.equity.iloc[-1])
    assert stats["total_return"] == pytest.approx(r.equity.iloc[-1] / 1000 - 1)
    with_benchmark = r.stats(benchmark="NVDA")
    assert "beta" in with_benchmark
    assert r.stats(benchmark=CLOSE["NVDA"])["beta"] == pytest.approx(with_benchmark["beta"], nan_ok=True)
    default = simulate(CLOSE, pd.DataFrame({"NVDA": [0.5]}, index=INDEX[:1]))
    assert default.stats()["start_value"] == default.equity.iloc[0] == default.init_cash


@njit(cache=True)
def _sweep_equity_nb(open_, high, low, close, days, last_valid, row_bar, row_w_all, ap, terms, out):
    """What a parameter sweep does: one kernel call per weights array, equity only."""
    n_bars = close.shape[0]
    cash = np.empty(n_bars)
    no_positions = np.empty((0, close.shape[1]))
    no_costs = np.empty((0, N_TOTALS))
    for c in range(row_w_all.shape[0]):
        simulate_core_nb(open_, high, low, close, days, last_valid, row_bar, row_w_all[c], ap, terms, False, out[c], cash,
                         no_positions, no_costs)


def test_kernel_is_callable_from_a_sweep_kernel_without_records():
    rng = np.random.default_rng(11)
    prices = random_prices(rng, 80, 3)
    base = random_weights(rng, prices, n_rows=8)
    variants = [base, base * 0.5, -base]
    inputs = [prepare_inputs(prices, w, fees=0.001) for w in variants]
    row_w_all = np.stack([x.row_w for x in inputs])
    x = inputs[0]
    out = np.empty((len(variants), len(prices)))
    _sweep_equity_nb(x.open, x.high, x.low, x.close, x.days, last_valid_bar_nb(x.close), x.row_bar, row_w_all,
                     x.asset_params, account_terms(x.init_cash, n_bars=len(prices)), out)
    for k, w in enumerate(variants):
        np.testing.assert_array_equal(out[k], simulate(prices, w, fees=0.001).equity.to_numpy())


def test_cumulative_costs_run_up_to_the_totals():
    # A 20% short at 10.0 over a weekend (Fri -> Mon: 3 calendar days) pays borrow 0.2*1000/10 = 20 shares
    # x 10.0 x 0.36 x 3/360 = 0.6 on Monday; the short sale paid fees 0.001 x 200 = 0.2 on Friday.
    index = pd.DatetimeIndex(["2024-01-04", "2024-01-05", "2024-01-08"])
    close = pd.DataFrame({"X": [10.0, 10.0, 10.0]}, index=index)
    weights = pd.DataFrame({"X": [-0.2]}, index=index[:1])
    result = simulate(close, weights, init_cash=1_000.0, fees=0.001, borrow_fee=0.36, execution="next_close")
    costs = result.cumulative_costs
    assert list(costs.columns) == ["fees", "slippage", "borrow", "interest"]
    np.testing.assert_allclose(costs["fees"].to_numpy(), [0.0, 0.2, 0.2])
    np.testing.assert_allclose(costs["borrow"].to_numpy(), [0.0, 0.0, 0.6])
    assert costs.iloc[-1].to_dict() == pytest.approx(result.costs)



@pytest.mark.parametrize("seed", range(6))
def test_held_flag_and_turnover_follow_their_definitions(seed):
    """The held flag (a position of nonzero value at the last valid close) and turnover (traded notional /
    equity), both NaN where equity <= 0, on random markets with late listings, halts, delistings and leverage."""
    rng = np.random.default_rng(seed)
    prices = random_prices(rng, 160, 3)
    weights = random_weights(rng, prices, n_rows=40, gross=3.0 if seed % 2 else 1.0)
    r = simulate(prices, weights, init_cash=1e4, fees=0.002, execution=("close", "next_open")[seed % 2])
    marks = prices.close[r.tickers].ffill().to_numpy()
    positions = r.positions.to_numpy()
    values = np.where(positions != 0, positions * marks, 0.0)
    equity = r.equity.to_numpy()
    held = np.where(equity > 0, ((values > 0) | (values < 0)).any(axis=1).astype(float), np.nan)
    notional = np.zeros(len(equity))
    np.add.at(notional, r.order_records["bar"], r.order_records["size"] * r.order_records["price"])
    turnover = notional / np.where(equity > 0, equity, np.nan)
    assert np.array_equal(r._held, held, equal_nan=True)
    assert np.array_equal(r.turnover.to_numpy(), turnover, equal_nan=True)
    assert len(r.order_records) > 0 and (held == 1.0).any()
