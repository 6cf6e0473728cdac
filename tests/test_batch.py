"""simulate_batch: every portfolio's statistics equal simulate(...).stats() of the same weights."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from shortthehype import Prices, simulate
from shortthehype.batch import simulate_batch
from shortthehype.errors import DataError
from shortthehype.schedule import rebalance_mask

KEYS = ("total_return", "cagr", "annual_volatility", "sharpe", "sortino", "max_drawdown", "calmar")


def market(seed: int = 3, n_bars: int = 400, n_assets: int = 4) -> Prices:
    rng = np.random.default_rng(seed)
    index = pd.bdate_range("2021-01-04", periods=n_bars)
    close = 50 * np.exp(np.cumsum(rng.normal(0, 0.02, (n_bars, n_assets)), axis=0))
    open_ = close * np.exp(rng.normal(0, 0.005, close.shape))
    frame = lambda a: pd.DataFrame(a, index=index, columns=[f"T{i}" for i in range(n_assets)])  # noqa: E731
    close_f = frame(close)
    close_f.iloc[:60, 2] = np.nan  # lists late
    open_f = frame(open_).where(close_f.notna())
    high = np.maximum(open_f, close_f) * 1.01
    low = np.minimum(open_f, close_f) * 0.99
    return Prices(open=open_f, high=high, low=low, close=close_f, volume=frame(np.ones_like(close)), source="test")


@pytest.mark.parametrize("execution", ["close", "next_open", "next_close"])
def test_batch_equals_single_runs(execution):
    prices = market()
    dates = prices.index[rebalance_mask(prices.index, "monthly")]
    rng = np.random.default_rng(5)
    batch = rng.uniform(-0.4, 0.6, size=(7, len(dates), 4))
    batch[3, 2, :2] = np.nan  # some "no order" cells
    options = {"fees": 0.001, "slippage": 0.0005, "borrow_fee": 0.02, "execution": execution}
    table = simulate_batch(prices, dates, batch, **options)
    assert list(table.index) == list(range(7))
    for p in range(7):
        weights = pd.DataFrame(batch[p], index=dates, columns=prices.tickers)
        result = simulate(prices, weights, **options)
        stats = result.stats()
        assert table.loc[p, "end_value"] == pytest.approx(result.equity.iloc[-1], rel=1e-13)
        for key in KEYS:
            assert table.loc[p, key] == pytest.approx(stats[key], rel=1e-12, nan_ok=True), (p, key)


def test_batch_with_a_ticker_subset_in_another_order():
    prices = market()
    dates = prices.index[[0, 100, 200]]
    batch = np.array([[[0.5, -0.2]] * 3, [[0.1, 0.3]] * 3])
    table = simulate_batch(prices, dates, batch, tickers=["T3", "T0"], execution="close")
    single = simulate(prices, pd.DataFrame(batch[1], index=dates, columns=["T3", "T0"]), execution="close")
    assert table.loc[1, "end_value"] == pytest.approx(single.equity.iloc[-1], rel=1e-13)


def test_batch_input_errors():
    prices = market()
    dates = prices.index[[0, 10]]
    with pytest.raises(DataError, match=r"shape \(n_portfolios, 2 dates, 4 tickers\)"):
        simulate_batch(prices, dates, np.zeros((3, 2, 3)))
    bad = np.zeros((2, 2, 4))
    bad[1, 1] = np.nan
    with pytest.raises(DataError, match=r"portfolio 1 has no target on"):
        simulate_batch(prices, dates, bad)
