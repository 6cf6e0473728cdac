"""max_gross holds on every bar: a close above it is traded back to it at the next execution point."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from shortthehype.constants import GROSS_TOLERANCE
from shortthehype.data.prices import Prices
from shortthehype.engine import simulate
from shortthehype.runner import backtest
from shortthehype.strategies.hype_hedge import HEDGE_GROSS_CAP

DAYS = pd.bdate_range("2024-01-02", periods=4)
# long A, short B; B rallies 50 % on bar 1
CLOSES = pd.DataFrame({"A": [100.0, 100.0, 100.0, 100.0], "B": [100.0, 150.0, 150.0, 150.0]}, index=DAYS)
HEDGE = pd.DataFrame({"A": [1.0], "B": [-1.0]}, index=DAYS[:1])


def test_a_close_above_the_cap_is_cut_back_at_the_next_execution_by_hand():
    result = simulate(CLOSES, HEDGE, init_cash=1000.0, execution="close", max_gross=2.0)
    # bar 0: +10 A, -10 B: cash 1000 + 1000 - 1000 = 1000, gross 2000 = 2 x equity 1000 (at the cap)
    # bar 1: B at 150: equity 1000 + 1000 - 1500 = 500, gross 1000 + 1500 = 2500 = 5 x equity
    # bar 2 (the next execution, at the close): keep k of each position with k 2500 = 2 x 500 -> k = 0.4:
    # sell 6 A at 100 (+600), buy back 6 B at 150 (-900): cash 700, positions 4 A and -4 B,
    # equity 700 + 400 - 600 = 500, gross 1000 = 2 x equity
    np.testing.assert_allclose(result.positions.to_numpy(), [[10, -10], [10, -10], [4, -4], [4, -4]], rtol=1e-14)
    np.testing.assert_allclose(result.cash.to_numpy(), [1000, 1000, 700, 700], rtol=1e-14)
    np.testing.assert_allclose(result.equity.to_numpy(), [1000, 500, 500, 500], rtol=1e-14)
    cut = result.orders[result.orders["reason"] == "gross_cap"]
    assert list(cut["date"]) == [DAYS[2], DAYS[2]] and list(cut["size"]) == pytest.approx([6.0, 6.0])
    events = result.events
    assert list(events["kind"]) == ["gross_cap"] and events["date"].iloc[0] == DAYS[2]
    assert events["detail"].iloc[0] == "positions cut from gross 5x to 2x equity (max_gross)"
    uncapped = simulate(CLOSES, HEDGE, init_cash=1000.0, execution="close")
    np.testing.assert_array_equal(uncapped.positions.to_numpy()[-1], [10, -10])


def test_the_cut_pays_its_costs_and_lands_on_the_cap():
    opens = pd.DataFrame({"A": [100.0] * 4, "B": [100.0, 100.0, 150.0, 150.0]}, index=DAYS)  # B jumps at bar 1's close
    prices = Prices(
        open=opens, high=np.maximum(opens, CLOSES), low=np.minimum(opens, CLOSES), close=CLOSES,
        volume=pd.DataFrame(np.nan, index=DAYS, columns=CLOSES.columns),
    )
    result = simulate(prices, HEDGE, init_cash=1000.0, max_gross=2.0, fees=0.001, slippage=0.002, fixed_fees=0.5)
    # next_open: the hedge is put on at bar 1's open, B closes 50 % higher: far above the cap
    assert result.exposure["gross"].iloc[1] > 4.0
    cut = result.orders[result.orders["reason"] == "gross_cap"]
    assert list(cut["date"]) == [DAYS[2], DAYS[2]] and cut["fees"].sum() > 1.0  # two fixed fees and the proportional ones
    # after the cut at bar 2's open, valued at the open prices, gross = 2 x equity exactly (its costs included)
    shares = result.positions.iloc[2].to_numpy()
    at_open = opens.iloc[2].to_numpy()
    equity = result.cash.iloc[2] + shares @ at_open
    assert np.abs(shares * at_open).sum() / equity == pytest.approx(2.0, rel=1e-12)


def assert_within_cap_after_every_close_above(run, cap: float) -> int:
    """At the execution after each close with gross > cap x equity, gross at the open is <= cap x equity.

    The execution is the next bar's open (next_open); positions and cash after it are the next bar's
    (these strategies trade nothing later in a bar), valued at that open.  Returns how many closes were above.
    """
    result = run.result
    gross = result.exposure["gross"].to_numpy()
    above = np.flatnonzero(gross[:-1] > cap * (1 + GROSS_TOLERANCE))
    opens = run.prices.open[result.tickers].to_numpy()
    closes = run.prices.close[result.tickers].ffill().to_numpy()
    for i in above:
        shares = result.positions.iloc[i + 1].to_numpy()
        price = np.where(np.isfinite(opens[i + 1]), opens[i + 1], closes[i])
        held = shares != 0
        equity = result.cash.iloc[i + 1] + shares[held] @ price[held]
        assert np.abs(shares[held] * price[held]).sum() <= cap * equity * (1 + 1e-9), run.prices.index[i + 1]
    cut_bars = run.prices.index.get_indexer(result.events.loc[result.events["kind"] == "gross_cap", "date"])
    assert len(cut_bars) and set(cut_bars - 1) <= set(above)  # cuts follow closes above the cap, and only those
    return len(above)


def test_hype_hedge_is_back_within_its_cap_at_the_first_execution_after_any_close_above_it(shared_prices_dir):
    run = backtest("hype-hedge", source="csv", data_dir=shared_prices_dir)
    # the short leg rallies between monthly rebalances: without the cut gross stayed above 2 for 71 closes
    assert assert_within_cap_after_every_close_above(run, HEDGE_GROSS_CAP) > 10


def test_a_spec_max_gross_tighter_than_gross_cap_wins(shared_prices_dir):
    run = backtest("hype-hedge", source="csv", data_dir=shared_prices_dir, overrides={"max_gross": 1.5, "start": "2024-01-02"})
    assert assert_within_cap_after_every_close_above(run, 1.5) > 0
