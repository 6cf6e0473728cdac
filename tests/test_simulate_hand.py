"""Hand-computed cases: every expected number is worked out in the comments.

Prices are on consecutive calendar days (so accruals, when used, run one day
per bar).  Unless a test says otherwise costs are zero.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from shortthehype.data.prices import Prices
from shortthehype.engine import simulate


def bars(rows_by_ticker: dict[str, list[tuple[float, float, float, float]]], start: str = "2024-01-01") -> Prices:
    """Prices from (open, high, low, close) rows per ticker on consecutive calendar days (NaN rows allowed)."""
    n = len(next(iter(rows_by_ticker.values())))
    index = pd.date_range(start, periods=n, freq="D", name="date")
    frames = {}
    for field_no, name in enumerate(("open", "high", "low", "close")):
        frames[name] = pd.DataFrame(
            {t: [row[field_no] for row in rows] for t, rows in rows_by_ticker.items()}, index=index, dtype=float
        )
    frames["volume"] = pd.DataFrame(np.nan, index=index, columns=list(rows_by_ticker))
    return Prices(**frames)


def flat(c: float) -> tuple[float, float, float, float]:
    return (c, c, c, c)


def targets(prices: Prices, rows: dict[int, dict[str, float]]) -> pd.DataFrame:
    """Weights rows on bar numbers {bar: {ticker: w}} (other tickers NaN)."""
    frame = pd.DataFrame(np.nan, index=prices.index[list(rows)], columns=prices.tickers)
    for bar, row in rows.items():
        for ticker, w in row.items():
            frame.loc[prices.index[bar], ticker] = w
    return frame


# ---- margin call ------------------------------------------------------------------------------


def test_margin_call_cuts_a_leveraged_long_to_the_requirement():
    prices = bars({"A": [flat(100), flat(80), flat(80), flat(80)]})
    w = targets(prices, {0: {"A": 2.0}})
    r = simulate(prices, w, init_cash=1000, execution="close", maintenance_margin=0.5)
    # bar 0: value 1000, target 2 x 1000 / 100 = 20 shares, cash 1000 - 2000 = -1000.
    #        equity 1000 = 0.5 x gross 2000: on the requirement, no call.
    assert r.positions["A"].iloc[0] == pytest.approx(20)
    assert r.cash.iloc[0] == pytest.approx(-1000)
    # bar 1: equity -1000 + 20 x 80 = 600 < 0.5 x 1600 = 800 -> margin call, cut at the next close.
    assert r.equity.iloc[1] == pytest.approx(600)
    calls = r.events[r.events["kind"] == "margin_call"]
    assert list(calls["date"]) == [prices.index[1]]
    # bar 2 (close 80): keep k = equity / (0.5 x gross) = 600 / 800 = 0.75 -> 15 shares; sell 5 at 80.
    #        cash -1000 + 400 = -600, equity 600 = 0.5 x gross 1200.
    assert r.positions["A"].iloc[2] == pytest.approx(15)
    assert r.cash.iloc[2] == pytest.approx(-600)
    assert r.equity.iloc[2] == pytest.approx(600)
    cut = r.orders.iloc[-1]
    assert (cut["reason"], cut["side"], cut["size"], cut["price"]) == ("margin_call", "sell", pytest.approx(5), 80)
    # the cut lands on the requirement: no new call on bar 2 or 3
    assert len(calls) == 1


def test_margin_cut_pays_its_own_fees():
    prices = bars({"A": [flat(100), flat(80), flat(80)]})
    w = targets(prices, {0: {"A": 2.0}})
    r = simulate(prices, w, init_cash=1000, execution="close", maintenance_margin=0.5, fees=0.01)
    # bar 0: planned cash 1000 - 2000 = -1000 is the floor; 20 shares would cost 2000 x 1.01 = 2020 > 2000
    #        available, so the buy is scaled: n0 = 2000 / (100 x 1.01) = 19.80198..., cash = -1000 exactly.
    n0 = 2000 / 101
    assert r.positions["A"].iloc[0] == pytest.approx(n0)
    assert r.orders.iloc[0]["status"] == "partial"
    assert r.cash.iloc[0] == pytest.approx(-1000)
    # the fee already breaks the requirement on bar 0: equity 1000 - 2000/101 x ... = -1000 + 100 n0 = 980.20
    #        < 0.5 x gross 100 n0 = 990.10 -> margin call on bar 0, cut at bar 1's close (80).
    assert r.equity.iloc[0] == pytest.approx(-1000 + 100 * n0)
    assert r.events.iloc[0]["kind"] == "margin_call" and r.events.iloc[0]["date"] == prices.index[0]
    # bar 1 before the cut: E = -1000 + 80 n0 = 584.158, G = 80 n0 = 1584.158.  Closing everything would
    #        cost C = 1 % of G; keeping k: E - (1 - k) C = 0.5 k G  =>  k = (E - C) / (0.5 G - C) = 0.7321.
    #        Sell (1 - k) n0 at 80, paying 1 % of the proceeds; afterwards equity = 0.5 x gross exactly.
    e1 = -1000 + 80 * n0
    g = 80 * n0
    c = 0.01 * g
    k = (e1 - c) / (0.5 * g - c)
    assert k == pytest.approx(0.7321, abs=1e-4)
    assert r.positions["A"].iloc[1] == pytest.approx(k * n0)
    sold = (1 - k) * n0
    assert r.cash.iloc[1] == pytest.approx(-1000 + sold * 80 * 0.99)
    assert r.equity.iloc[1] == pytest.approx(0.5 * 80 * k * n0)
    # on the requirement: no further call on bar 1 or 2
    assert list(r.events["kind"]) == ["margin_call", "margin_cut"]
    assert r.positions["A"].iloc[2] == r.positions["A"].iloc[1]


# ---- bankruptcy -------------------------------------------------------------------------------


def test_short_gap_up_bankrupts_and_the_equity_stays_negative():
    prices = bars({"S": [flat(100), flat(100), flat(350), (320, 330, 300, 310), flat(50), flat(40)]})
    w = targets(prices, {0: {"S": -1.0}, 3: {"S": 0.5}})
    r = simulate(prices, w, init_cash=1000)  # next_open
    # bar 1 open 100: short 1000 / 100 = 10 shares, cash 1000 + 1000 = 2000; equity 2000 - 1000 = 1000.
    assert r.positions["S"].iloc[1] == pytest.approx(-10)
    assert r.equity.iloc[1] == pytest.approx(1000)
    # bar 2: gap to 350 -> equity 2000 - 3500 = -1500 <= 0: bankruptcy, close-out at the next open.
    assert r.equity.iloc[2] == pytest.approx(-1500)
    # bar 3 open 320: buy back 10 -> cash 2000 - 3200 = -1200; the account is closed from then on:
    #        the bar-3 target (0.5, executing at bar 4) is ignored and the equity stays at -1200, never clamped.
    assert r.positions["S"].iloc[3] == 0
    assert list(r.equity.iloc[3:]) == pytest.approx([-1200, -1200, -1200])
    assert r.status == "bankrupt" and r.bankrupt
    kinds = list(r.events["kind"])
    assert kinds == ["bankruptcy", "liquidation"]
    assert list(r.orders["reason"]) == ["rebalance", "liquidation"]
    assert r.orders.iloc[-1]["price"] == 320


# ---- stops ------------------------------------------------------------------------------------


def test_stop_loss_gap_through_fills_at_the_open_with_slippage():
    prices = bars({"A": [flat(100), flat(100), (95, 96, 91, 92), (85, 88, 80, 86), flat(70)]})
    w = targets(prices, {0: {"A": 0.5}})
    r = simulate(prices, w, init_cash=10_000, slippage=0.01, stop_loss=0.1)
    # bar 1 open 100: target 0.5 x 10000 / 100 = 50 shares, filled at 100 x 1.01 = 101 -> cash 4950.
    #        average entry = 101, stop level = 101 x 0.9 = 90.9.
    # bar 2: low 91 > 90.9: no stop.
    assert r.positions["A"].iloc[2] == pytest.approx(50)
    # bar 3: opens at 85, below 90.9: gap-through, filled at the open 85 x 0.99 = 84.15.
    #        cash 4950 + 50 x 84.15 = 9157.5; flat afterwards (no new target).
    stop = r.orders.iloc[-1]
    assert (stop["reason"], stop["price"]) == ("stop_loss", pytest.approx(84.15))
    assert r.cash.iloc[3] == pytest.approx(9157.5)
    assert list(r.equity.iloc[3:]) == pytest.approx([9157.5, 9157.5])
    event = r.events.iloc[0]
    assert event["kind"] == "stop_loss" and event["ticker"] == "A"
    assert "90.9000" in event["detail"] and "85.0000" in event["detail"] and "gapped" in event["detail"]


def test_short_squeeze_stop_fills_at_the_level():
    prices = bars({"S": [flat(50), (52, 65, 51, 63), (70, 100, 70, 95)]})
    w = targets(prices, {0: {"S": -0.5}})
    r = simulate(prices, w, init_cash=1000, execution="close", stop_loss=0.2)
    # bar 0 close 50: short 0.5 x 1000 / 50 = 10 shares, cash 1500. Stop level 50 x 1.2 = 60.
    # bar 1: open 52 < 60, high 65 >= 60 -> bought back at 60: cash 1500 - 600 = 900.
    assert r.orders.iloc[-1]["price"] == pytest.approx(60)
    assert r.orders.iloc[-1]["reason"] == "stop_loss"
    # bar 2: the squeeze goes on to 100 but the account is flat: equity 900.
    assert list(r.equity) == pytest.approx([1000, 900, 900])
    trade = r.trades.iloc[0]
    # short 10 at 50, covered at 60: pnl = (50 - 60) x 10 = -100, return -100 / 500 = -20 %.
    assert (trade["direction"], trade["pnl"], trade["return"]) == ("short", pytest.approx(-100), pytest.approx(-0.2))


def test_short_squeeze_margin_call_without_stop():
    prices = bars({"S": [flat(50), flat(80), flat(90), flat(90)]})
    w = targets(prices, {0: {"S": -1.0}})
    r = simulate(prices, w, init_cash=1000, execution="close", maintenance_margin=0.3)
    # bar 0: short 20 at 50, cash 2000.
    # bar 1: equity 2000 - 1600 = 400 < 0.3 x 1600 = 480: margin call.
    # bar 2 (close 90): equity 2000 - 1800 = 200, gross 1800; k = 200 / (0.3 x 1800) = 0.37037:
    #        keep 20 k = 7.4074 short, buy back 12.5926 at 90 = 1133.33 -> cash 866.67,
    #        equity 866.67 - 7.4074 x 90 = 200 = 0.3 x gross 666.67.
    k = 200 / 540
    assert r.positions["S"].iloc[2] == pytest.approx(-20 * k)
    assert r.cash.iloc[2] == pytest.approx(2000 - 20 * (1 - k) * 90)
    assert r.equity.iloc[2] == pytest.approx(200)
    assert r.exposure["gross"].iloc[2] == pytest.approx(1 / 0.3)
    assert list(r.events["kind"]) == ["margin_call", "margin_cut"]


def test_stop_beats_take_profit_when_both_are_touched():
    prices = bars({"A": [flat(100), (100, 106, 94, 100)], "B": [flat(100), (100, 106, 94, 100)]})
    w = targets(prices, {0: {"A": 0.5, "B": -0.5}})
    r = simulate(prices, w, init_cash=1000, execution="close", stop_loss=0.05, take_profit=0.05)
    # A long 5 at 100: stop 95, take-profit 105; bar 1 touches both (low 94, high 106): the stop wins, fill 95.
    # B short 5 at 100: stop 105, take-profit 95; bar 1 touches both: the stop wins, fill 105.
    fills = r.orders.set_index("ticker")
    assert fills.loc["A"].iloc[-1]["price"] == 95 and fills.loc["A"].iloc[-1]["reason"] == "stop_loss"
    assert fills.loc["B"].iloc[-1]["price"] == 105 and fills.loc["B"].iloc[-1]["reason"] == "stop_loss"
    # cash: 1000 - 500 + 500 (bar 0) + 5 x 95 - 5 x 105 = 950
    assert r.equity.iloc[1] == pytest.approx(950)


def test_take_profit_gap_fills_at_the_better_open():
    prices = bars({"A": [flat(100), (110, 112, 104, 108)]})
    w = targets(prices, {0: {"A": 0.5}})
    r = simulate(prices, w, init_cash=1000, execution="close", stop_loss=0.05, take_profit=0.05)
    # take-profit level 105; bar 1 opens at 110 above it: filled at the open 110 (even though low 104 < 105
    # happened later, the open came first). equity = 500 + 5 x 110 = 1050.
    assert r.orders.iloc[-1]["reason"] == "take_profit" and r.orders.iloc[-1]["price"] == 110
    assert r.equity.iloc[1] == pytest.approx(1050)


def test_trailing_stop_follows_the_best_high():
    prices = bars({"A": [flat(100), (101, 120, 110, 118), (115, 116, 107, 109), flat(50)]})
    w = targets(prices, {0: {"A": 1.0}})
    r = simulate(prices, w, init_cash=1000, execution="close", trailing_stop=0.1)
    # bar 0: 10 shares at 100; trailing reference 100 -> level 90.
    # bar 1: low 110 > 90, no stop; afterwards the reference is the bar's high 120 -> level 108.
    # bar 2: open 115, low 107 <= 108: filled at 108. equity = 10 x 108 = 1080, flat after.
    assert r.orders.iloc[-1]["reason"] == "trailing_stop"
    assert r.orders.iloc[-1]["price"] == pytest.approx(108)
    assert list(r.equity) == pytest.approx([1000, 1180, 1080, 1080])


def test_stop_not_checked_on_the_entry_bar_and_rearmed_by_a_new_target():
    prices = bars({"A": [flat(100), (100, 100, 80, 90), (90, 95, 85, 90), flat(90), (90, 90, 70, 75)]})
    w = targets(prices, {0: {"A": 1.0}, 2: {"A": 1.0}})
    r = simulate(prices, w, init_cash=1000, stop_loss=0.1)  # next_open
    # bar 1 open 100: buy 10. The bar's low 80 is not checked (entry bar).
    # bar 2: low 85 <= 90 -> stopped at 90 (open 90 <= 90: the open is already at the level).
    # bar 3 open 90: the bar-2 target re-enters: value 900 -> 10 shares at 90, stop level 81.
    # bar 4: low 70 <= 81 -> stopped at 81; equity 10 x 81 = 810.
    assert list(r.orders["reason"]) == ["rebalance", "stop_loss", "rebalance", "stop_loss"]
    assert list(r.orders["price"]) == pytest.approx([100, 90, 90, 81])
    assert r.equity.iloc[-1] == pytest.approx(810)


# ---- sizing, cash and listing -----------------------------------------------------------------


def test_fees_scale_a_fully_invested_buy_down_to_the_cash():
    prices = bars({"A": [flat(100), flat(100)]})
    r = simulate(prices, targets(prices, {0: {"A": 1.0}}), init_cash=1000, execution="close", fees=0.01)
    # 10 shares would cost 1000 x 1.01 = 1010 > 1000: scaled to 1000 / 101 = 9.90099 shares, fee 9.90099, cash 0.
    assert r.positions["A"].iloc[0] == pytest.approx(1000 / 101)
    assert r.cash.iloc[0] == pytest.approx(0, abs=1e-9)
    assert r.orders.iloc[0]["fees"] == pytest.approx(1000 / 101)
    assert r.costs["fees"] == pytest.approx(1000 / 101)


def test_buys_rejected_when_fixed_fees_eat_the_cash():
    prices = bars({"A": [flat(100), flat(100)]})
    r = simulate(prices, targets(prices, {0: {"A": 1.0}}), init_cash=1000, execution="close", fixed_fees=1500)
    # needs 1000 + 1500; after the fixed fee nothing is left: no order, an order_rejected event.
    assert len(r.orders) == 0
    assert list(r.events["kind"]) == ["order_rejected"]
    assert list(r.equity) == [1000, 1000]


def test_leveraged_book_may_borrow_cash_but_fees_may_not():
    prices = bars({"A": [flat(50), flat(50)], "B": [flat(20), flat(20)]})
    r = simulate(prices, targets(prices, {0: {"A": 1.0, "B": 0.5}}), init_cash=1000, execution="close", fees=0.002)
    # planned cash = 1000 - 1500 = -500 (the floor); buys need 1500 x 1.002 = 1503 > 1000 + 500:
    # both scaled by k = 1500 / 1503: A 20k shares, B 25k shares; cash ends at -500.
    k = 1500 / 1503
    assert r.positions.iloc[0].tolist() == pytest.approx([20 * k, 25 * k])
    assert r.cash.iloc[0] == pytest.approx(-500)


def test_unlisted_weight_stays_in_cash_or_is_renormalised():
    nan = (math.nan,) * 4
    prices = bars({"A": [flat(10), flat(10), flat(10)], "B": [nan, flat(20), flat(20)]})
    w = targets(prices, {0: {"A": 0.4, "B": 0.4}})
    held = simulate(prices, w, init_cash=1000, execution="close")
    # B has no price on bar 0: its 40 % stays in cash; A gets 0.4 x 1000 / 10 = 40 shares.
    assert held.positions.iloc[0].tolist() == [40, 0]
    assert held.cash.iloc[0] == pytest.approx(600)
    spread = simulate(prices, w, init_cash=1000, execution="close", renormalize_unlisted=True)
    # renormalised: A's 0.4 is scaled by 0.8 / 0.4 = 2 -> 0.8 x 1000 / 10 = 80 shares.
    assert spread.positions.iloc[0].tolist() == [80, 0]


def test_max_gross_scales_targets_and_integer_shares_round_toward_zero():
    prices = bars({"A": [flat(30), flat(30)], "B": [flat(7), flat(7)]})
    w = targets(prices, {0: {"A": 1.5, "B": -1.5}})
    r = simulate(prices, w, init_cash=1000, execution="close", max_gross=2.0, integer_shares=True)
    # sum|w| = 3 > 2: scaled by 2/3 -> A 1.0, B -1.0. A: 1000 / 30 = 33.3 -> 33; B: -1000 / 7 = -142.86 -> -142.
    assert r.positions.iloc[0].tolist() == [33, -142]
    assert r.cash.iloc[0] == pytest.approx(1000 - 33 * 30 + 142 * 7)


def test_delisted_position_closes_at_the_last_close():
    nan = (math.nan,) * 4
    prices = bars({"A": [flat(10), flat(12), flat(15), nan, nan], "B": [flat(5)] * 5})
    w = targets(prices, {0: {"A": 0.5, "B": 0.2}, 3: {"A": 0.5, "B": 0.2}})
    r = simulate(prices, w, init_cash=1000, execution="close", fees=0.001)
    # bar 0: A 50 shares (fee 0.5), B 40 shares (fee 0.2); cash 1000 - 500 - 200 - 0.7 = 299.3.
    # bar 2 is A's last close: 50 sold at 15 = 750, fee 0.75 -> cash 1048.55. event "delisting".
    # bar 3: A has no price, its 0.5 target stays in cash; B is rebalanced to 20 % of
    #        1048.55 + 200 = 1248.55 -> 49.942 shares.
    assert r.positions["A"].tolist()[2:] == [0, 0, 0]
    assert r.cash.iloc[2] == pytest.approx(1048.55)
    delist = r.events[r.events["kind"] == "delisting"].iloc[0]
    assert (delist["ticker"], delist["date"]) == ("A", prices.index[2])
    assert r.positions["B"].iloc[3] == pytest.approx(0.2 * 1248.55 / 5, rel=1e-3)


def test_halted_position_is_kept_and_valued_at_the_last_close():
    nan = (math.nan,) * 4
    prices = bars({"A": [flat(10), nan, flat(14), flat(14)]})
    r = simulate(prices, targets(prices, {0: {"A": 1.0}, 1: {"A": 0.0}}), init_cash=1000)  # next_open
    # next_open: the bar-0 target trades at bar 1's open, which is halted (NaN): the target stays in cash.
    assert list(r.equity) == [1000, 1000, 1000, 1000]
    assert len(r.orders) == 0
    r2 = simulate(prices, targets(prices, {0: {"A": 1.0}}), init_cash=1000, execution="close")
    # bought 100 at 10 on bar 0; bar 1 halted: valued at 10 -> 1000; bar 2: 1400.
    assert list(r2.equity) == [1000, 1000, 1400, 1400]
    assert len(r2.events) == 0


def test_next_close_trades_at_the_following_close():
    prices = bars({"A": [flat(10), (11, 13, 10, 12), flat(12)]})
    r = simulate(prices, targets(prices, {0: {"A": 1.0}}), init_cash=1200, execution="next_close")
    # the bar-0 target trades at bar 1's close 12: 100 shares.
    assert r.orders.iloc[0]["date"] == prices.index[1]
    assert r.orders.iloc[0]["price"] == 12
    assert r.positions["A"].tolist() == [0, 100, 100]


def test_interest_and_borrow_accrue_act_360_on_calendar_days():
    index = pd.DatetimeIndex(["2024-01-05", "2024-01-08", "2024-01-09"], name="date")  # Fri, Mon, Tue
    close = pd.DataFrame({"S": [100.0, 100.0, 100.0]}, index=index)
    w = pd.DataFrame({"S": [-0.5]}, index=index[:1])
    r = simulate(close, w, init_cash=1000, execution="close", borrow_fee=0.36, cash_rate=0.036)
    # bar 0: short 5 at 100 -> cash 1500.
    # bar 1 (3 days): interest 1500 x 0.036 x 3/360 = 0.45; borrow 0.36 x 500 x 3/360 = 1.5 -> cash 1498.95.
    # bar 2 (1 day): interest 1498.95 x 0.036/360 = 0.149895; borrow 0.5 -> cash 1498.599895.
    assert r.cash.tolist() == pytest.approx([1500, 1498.95, 1498.599895])
    assert r.costs["borrow"] == pytest.approx(2.0)
    assert r.costs["interest"] == pytest.approx(-(0.45 + 0.149895))  # negative: earned
    assert r.trades.iloc[0]["borrow"] == pytest.approx(2.0)


def test_a_worthless_instrument_can_be_sold_at_zero_but_not_bought():
    # A put bought at 2.0 expires worthless (price 0). Bar 0: target 10% of 1,000 -> 50 contracts at 2.0.
    # Bar 2: price 0, target 0 -> sell 50 at 0: proceeds 0, cash stays 900, equity 900.
    # Bar 3: price 0 again with target 0.5: a zero price cannot be bought, the target is held in cash.
    index = pd.bdate_range("2024-01-01", periods=4)
    close = pd.DataFrame({"PUT": [2.0, 1.0, 0.0, 0.0]}, index=index)
    weights = pd.DataFrame({"PUT": [0.1, np.nan, 0.0, 0.5]}, index=index)
    result = simulate(Prices.from_close(close), weights, init_cash=1_000.0, execution="close")
    np.testing.assert_allclose(result.equity.to_numpy(), [1_000.0, 950.0, 900.0, 900.0])
    np.testing.assert_allclose(result.cash.to_numpy(), [900.0, 900.0, 900.0, 900.0])
    assert result.positions["PUT"].tolist() == [50.0, 50.0, 0.0, 0.0]
    assert len(result.orders) == 2 and result.orders["price"].tolist() == [2.0, 0.0]
