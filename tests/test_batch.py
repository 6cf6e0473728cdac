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


def _curves():
    rng = np.random.default_rng(5)
    yield np.array([100.0])  # no return
    yield np.array([100.0, 101.0])  # one return
    yield np.array([100.0, 100.0, 100.0, 100.0])  # flat: zero dispersion
    yield 100.0 * 1.0004 ** np.arange(300)  # constant growth: dispersion below the noise rule
    yield np.array([100.0, 120.0, 90.0, 0.0, 5.0, 7.0])  # ruined on bar 3
    yield np.array([100.0, 0.0, 3.0])  # ruined on the first return
    for n in (3, 50, 700):
        for scale in (0.001, 0.02, 0.3):
            yield 1e6 * np.exp(np.cumsum(rng.normal(0.0003, scale, n)))


@pytest.mark.parametrize("status", [0, 1])
def test_the_one_pass_statistics_equal_the_metric_kernels_bit_for_bit(status):
    """reduce_equity_nb's one pass (stats_from_returns_nb) against the kernels of compute_stats one by one."""
    from shortthehype.constants import N_KERNEL_STATS
    from shortthehype.core.batch_nb import reduce_equity_nb, reduce_returns_nb
    from shortthehype.core.metrics_nb import equity_to_returns_1d_nb

    for curve in _curves():
        returns = np.empty(max(len(curve) - 1, 0))
        one_pass = np.empty(N_KERNEL_STATS)
        k = reduce_equity_nb(curve, returns, 252.0, status, one_pass)
        kernels = np.empty(N_KERNEL_STATS)
        k_kernels = equity_to_returns_1d_nb(curve, returns)
        reduce_returns_nb(curve, returns[:k_kernels], 252.0, kernels)
        kernels[8] = status
        if status != 0 or (curve <= 0).any():
            kernels[[4, 5, 7]] = np.nan
        assert k == k_kernels
        assert one_pass.tobytes() == kernels.tobytes(), (curve[:5], one_pass, kernels)


def test_a_curve_with_a_nan_takes_the_kernels_that_skip_it():
    from shortthehype.constants import N_KERNEL_STATS
    from shortthehype.core.batch_nb import reduce_equity_nb
    from shortthehype.metrics import max_drawdown, sharpe_ratio

    curve = np.array([100.0, 101.0, np.nan, 103.0, 99.0, 104.0])
    returns = np.empty(5)
    out = np.empty(N_KERNEL_STATS)
    reduce_equity_nb(curve, returns, 252.0, 0, out)
    r = pd.Series(curve).pct_change(fill_method=None).iloc[1:].to_numpy()
    assert out[4] == pytest.approx(sharpe_ratio(r), rel=1e-12)
    assert out[6] == pytest.approx(max_drawdown(r), rel=1e-12)
