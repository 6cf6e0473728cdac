"""Invariants of the simulation, checked with hypothesis on random markets and targets."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reference import random_prices, random_weights

from shortthehype.data.prices import Prices
from shortthehype.engine import simulate

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

executions = st.sampled_from(["next_open", "next_close", "close"])


@st.composite
def engine_options(draw, *, fixed_fees=True, integer=True):
    options = {
        "execution": draw(executions),
        "fees": draw(st.sampled_from([0.0, 0.001, 0.02])),
        "slippage": draw(st.sampled_from([0.0, 0.002])),
        "borrow_fee": draw(st.sampled_from([0.0, 0.1])),
        "cash_rate": draw(st.sampled_from([0.0, 0.05])),
        "maintenance_margin": draw(st.sampled_from([None, 0.3, 0.8])),
        "stop_loss": draw(st.sampled_from([None, 0.05])),
        "take_profit": draw(st.sampled_from([None, 0.1])),
        "trailing_stop": draw(st.sampled_from([None, 0.08])),
        "max_gross": draw(st.sampled_from([None, 1.5])),
        "renormalize_unlisted": draw(st.booleans()),
    }
    if fixed_fees:
        options["fixed_fees"] = draw(st.sampled_from([0.0, 3.0]))
    if integer:
        options["integer_shares"] = draw(st.booleans())
    return options


def market(seed: int, n_bars: int, n_assets: int, gross: float):
    rng = np.random.default_rng(seed)
    prices = random_prices(rng, n_bars, n_assets)
    weights = random_weights(rng, prices, n_rows=max(1, n_bars // 5), gross=gross)
    return prices, weights


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), n_bars=st.integers(1, 60), n_assets=st.integers(1, 5),
       gross=st.floats(0.1, 4.0), options=engine_options())
def test_equity_is_cash_plus_shares_times_close_at_every_bar(seed, n_bars, n_assets, gross, options):
    prices, weights = market(seed, n_bars, n_assets, gross)
    r = simulate(prices, weights, **options)
    marks = prices.close[r.tickers].ffill().to_numpy()
    held = r.positions.to_numpy()
    values = np.where(held != 0, held * marks, 0.0)
    expected = r.cash.to_numpy() + values.sum(axis=1)
    np.testing.assert_allclose(r.equity.to_numpy(), expected, rtol=1e-12, atol=1e-9)
    # and trade P&L adds up to the equity change (net of cash interest)
    total_pnl = r.trades["pnl"].sum()
    assert total_pnl == pytest.approx(r.equity.iloc[-1] - r.init_cash + r.costs["interest"], abs=1e-6 * r.init_cash)


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), n_bars=st.integers(3, 50), n_assets=st.integers(1, 4),
       gross=st.floats(0.1, 3.0), cut=st.integers(0, 49), options=engine_options())
def test_future_prices_do_not_change_past_equity(seed, n_bars, n_assets, gross, cut, options):
    prices, weights = market(seed, n_bars, n_assets, gross)
    t = cut % (n_bars - 1)
    base = simulate(prices, weights, **options)
    rng = np.random.default_rng(seed + 1)
    factor = np.exp(rng.normal(0, 0.3, prices.close.shape))
    factor[: t + 1] = 1.0  # rows 0..t untouched; later rows moved (NaN stays NaN)

    def moved(frame):
        return frame * factor

    changed = Prices(open=moved(prices.open), high=moved(prices.high), low=moved(prices.low),
                     close=moved(prices.close), volume=prices.volume)
    other = simulate(changed, weights, **options)
    np.testing.assert_array_equal(base.equity.to_numpy()[: t + 1], other.equity.to_numpy()[: t + 1])


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), n_bars=st.integers(2, 40), n_assets=st.integers(1, 5),
       gross=st.floats(0.1, 3.0), execution=executions)
def test_zero_cost_round_trip_at_constant_prices_restores_cash(seed, n_bars, n_assets, gross, execution):
    rng = np.random.default_rng(seed)
    index = pd.date_range("2024-01-01", periods=n_bars, freq="D")
    levels = rng.uniform(1, 500, n_assets)
    close = pd.DataFrame(np.tile(levels, (n_bars, 1)), index=index, columns=[f"T{j}" for j in range(n_assets)])
    prices = Prices.from_close(close)
    weights = random_weights(rng, prices, n_rows=max(1, n_bars // 3), gross=gross)
    last = prices.index[-1] if execution == "close" else prices.index[-2]
    weights.loc[last] = 0.0  # close everything
    r = simulate(prices, weights.sort_index(), init_cash=12_345.0, execution=execution)
    assert r.cash.iloc[-1] == pytest.approx(12_345.0, rel=1e-12)
    assert (r.positions.iloc[-1] == 0).all()
    np.testing.assert_allclose(r.equity.to_numpy(), 12_345.0, rtol=1e-12)


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), n_bars=st.integers(1, 50), n_assets=st.integers(1, 4),
       gross=st.floats(0.1, 3.0), scale=st.sampled_from([0.001, 7.0, 1e6]),
       options=engine_options(fixed_fees=False, integer=False))
def test_fractional_equity_scales_linearly_with_init_cash(seed, n_bars, n_assets, gross, scale, options):
    prices, weights = market(seed, n_bars, n_assets, gross)
    small = simulate(prices, weights, init_cash=1000.0, **options)
    big = simulate(prices, weights, init_cash=1000.0 * scale, **options)
    np.testing.assert_allclose(big.equity.to_numpy(), scale * small.equity.to_numpy(), rtol=1e-9, atol=1e-9 * scale)
    assert list(big.orders["reason"]) == list(small.orders["reason"])


@SETTINGS
@given(weight=st.floats(0.05, 2.0), rate=st.floats(0.001, 1.0), price=st.floats(0.5, 1000.0),
       n_bars=st.integers(2, 40), seed=st.integers(0, 1000))
def test_borrow_on_a_constant_short_matches_the_closed_form(weight, rate, price, n_bars, seed):
    rng = np.random.default_rng(seed)
    gaps = rng.integers(1, 5, n_bars - 1)  # calendar days between bars: weekends, holidays
    index = pd.DatetimeIndex(pd.Timestamp("2024-01-02") + pd.to_timedelta(np.concatenate(([0], np.cumsum(gaps))), "D"))
    close = pd.DataFrame({"S": np.full(n_bars, price)}, index=index)
    weights = pd.DataFrame({"S": [-weight]}, index=index[:1])
    r = simulate(close, weights, init_cash=10_000.0, execution="close", borrow_fee=rate)
    shares = weight * 10_000.0 / price
    # borrow = rate x |shares| x price x days / 360 per gap, simple (not compounded): the short value is constant
    expected = rate * shares * price * gaps.sum() / 360.0
    assert r.costs["borrow"] == pytest.approx(expected, rel=1e-12)
    assert r.equity.iloc[-1] == pytest.approx(10_000.0 - expected, rel=1e-12)
