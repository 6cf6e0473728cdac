"""``burry-short`` on the real shared prices: hand-computed short P&L, borrow accrual, rolled puts."""

from __future__ import annotations

import math
import statistics
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from shortthehype.errors import ParamError, SpecError
from shortthehype.runner import backtest
from shortthehype.spec import load_spec
from shortthehype.strategies.burry_short import BURRY_FILING_DATE, BURRY_TARGETS

INIT = 1_000_000.0
NO_COSTS = {"fees": 0.0, "slippage": 0.0, "borrow_fee": 0.0, "cash_rate": 0.0}


def read_csv(shared: Path, ticker: str) -> pd.DataFrame:
    """The shared file read directly (independent of the package's loader)."""
    return pd.read_csv(shared / f"{ticker}.csv", index_col="date", parse_dates=["date"])


def run(shared: Path, **overrides):
    return backtest("burry-short", data_dir=shared, source="csv", overrides=overrides)


def norm_cdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def ref_put(s: float, k: float, t: float, r: float, v: float) -> float:
    d1 = (math.log(s / k) + (r + v * v / 2.0) * t) / (v * math.sqrt(t))
    d2 = d1 - v * math.sqrt(t)
    return k * math.exp(-r * t) * norm_cdf(-d2) - s * norm_cdf(-d1)


@pytest.fixture(scope="module")
def shared(shared_prices_dir):
    return shared_prices_dir


@pytest.fixture(scope="module")
def pltr_nvda(shared):
    pltr, nvda = read_csv(shared, "PLTR"), read_csv(shared, "NVDA")
    assert pltr.index.equals(nvda.index[nvda.index >= pltr.index[0]])  # one calendar once both trade
    return {"PLTR": pltr, "NVDA": nvda}


SPLIT = {t: w / sum(BURRY_TARGETS.values()) for t, w in BURRY_TARGETS.items()}


# ---- stock mode: hand computations -------------------------------------------------------------


@pytest.mark.parametrize("execution", ["next_open", "next_close"])
def test_stock_short_pnl_equals_hand_computation(shared, pltr_nvda, execution):
    entry, hold = "2024-01-02", 20
    run_ = run(shared, entry=entry, start=entry, hold_days=hold, execution=execution, **NO_COSTS)
    dates = pltr_nvda["PLTR"].loc[entry:].index
    e, x = 0, hold  # signal bars (positions in `dates`)
    field = "open" if execution == "next_open" else "close"
    shares = {t: -0.8 * SPLIT[t] * INIT / pltr_nvda[t][field].loc[dates[e + 1]] for t in SPLIT}
    expected = []
    for i, day in enumerate(dates):
        if i <= e or (execution == "next_close" and i == e + 1):
            expected.append(INIT)
            continue
        # after the cover every bar keeps the realised P&L; before, mark to the close
        mark = field if i >= x + 1 else "close"
        at = dates[x + 1] if i >= x + 1 else day
        expected.append(INIT + sum(shares[t] * (pltr_nvda[t][mark].loc[at] - pltr_nvda[t][field].loc[dates[e + 1]]) for t in SPLIT))
    equity = run_.result.equity
    assert equity.index.equals(dates)
    np.testing.assert_allclose(equity.to_numpy(), expected, rtol=1e-12)
    orders = run_.result.orders
    assert list(orders["date"]) == [dates[e + 1]] * 2 + [dates[x + 1]] * 2
    assert (run_.result.positions.loc[dates[x + 1]:] == 0).all().all()


def test_borrow_fee_adds_the_act360_accrual_on_short_market_value(shared, pltr_nvda):
    entry, hold = "2024-03-01", 30
    fees = {"NVDA": 0.005, "PLTR": 0.02}
    base = run(shared, entry=entry, start=entry, hold_days=hold, **NO_COSTS)
    costly = run(shared, entry=entry, start=entry, hold_days=hold, fees=0.0, slippage=0.0, cash_rate=0.0, borrow_fee=fees)
    dates = pltr_nvda["PLTR"].loc[entry:].index
    shares = {t: 0.8 * SPLIT[t] * INIT / pltr_nvda[t]["open"].loc[dates[1]] for t in SPLIT}
    accrued = np.zeros(len(dates))
    # the short exists from bar 1's open to bar hold + 1's open: it pays on bars 2 .. hold + 1 for the
    # calendar days since the previous bar, on |shares| x the previous close, ACT/360
    for i in range(2, hold + 2):
        days = (dates[i] - dates[i - 1]).days
        accrued[i] = sum(fees[t] * shares[t] * pltr_nvda[t]["close"].loc[dates[i - 1]] * days / 360.0 for t in SPLIT)
    difference = base.result.equity.to_numpy() - costly.result.equity.to_numpy()
    np.testing.assert_allclose(difference, np.cumsum(accrued), rtol=1e-9, atol=1e-6)
    assert costly.result.costs["borrow"] == pytest.approx(accrued.sum(), rel=1e-12)
    assert accrued.sum() > 100  # ~30 trading days of ~1.8%/yr on $800k


def test_the_2023_short_goes_bankrupt_on_the_hand_computed_date(shared, pltr_nvda):
    entry = "2023-01-03"
    run_ = run(shared, entry=entry, start=entry, **NO_COSTS)
    dates = pltr_nvda["PLTR"].loc[entry:].index
    shares = {t: -0.8 * SPLIT[t] * INIT / pltr_nvda[t]["open"].loc[dates[1]] for t in SPLIT}
    equity = INIT + sum(shares[t] * (pltr_nvda[t]["close"].loc[dates[1]:] - pltr_nvda[t]["open"].loc[dates[1]]) for t in SPLIT)
    wiped = equity.index[np.argmax(equity.to_numpy() <= 0)]
    assert (equity.loc[:wiped].iloc[:-1] > 0).all() and equity.loc[wiped] <= 0
    events = run_.result.events
    assert events.loc[events["kind"] == "bankruptcy", "date"].iloc[0] == wiped
    np.testing.assert_allclose(run_.result.equity.loc[dates[1]:wiped], equity.loc[:wiped], rtol=1e-12)
    assert run_.result.status == "bankrupt"


def test_default_entry_is_the_filing_date_traded_at_the_next_open(shared):
    run_ = run(shared)
    orders = run_.result.orders
    assert pd.Timestamp(BURRY_FILING_DATE) == pd.Timestamp("2025-11-03")
    assert set(orders["date"]) == {pd.Timestamp("2025-11-04")}
    assert set(orders["ticker"]) == {"PLTR", "NVDA"} and (orders["side"] == "sell").all()
    # the weights on the entry bar: 80% of equity short, 83/17 (before costs)
    notional = orders["size"] * orders["price"]
    assert notional.sum() == pytest.approx(0.8 * INIT, rel=2e-3)
    share = (notional / notional.sum()).set_axis(orders["ticker"])
    assert share["PLTR"] == pytest.approx(912 / 1099, rel=1e-3)


def test_flat_before_entry_and_after_exit(shared):
    run_ = run(shared, entry="2024-05-01", start="2024-01-02", exit="2024-09-03", **NO_COSTS)
    positions = run_.result.positions
    assert (positions.loc[:"2024-05-01"] == 0).all().all()
    assert (positions.loc["2024-05-02":"2024-09-03"] < 0).all().all()
    assert (positions.loc["2024-09-04":] == 0).all().all()
    assert run_.result.equity.loc[:"2024-05-01"].eq(INIT).all()


def test_a_target_not_yet_listed_stays_in_cash(shared, pltr_nvda):
    run_ = run(shared, entry="2019-06-03", start="2019-06-03", hold_days=60, **NO_COSTS)
    positions = run_.result.positions
    assert (positions["PLTR"] == 0).all()
    nvda = pltr_nvda["NVDA"]
    day = nvda.loc["2019-06-03":].index[1]
    assert positions["NVDA"].loc[day] == pytest.approx(-0.8 * SPLIT["NVDA"] * INIT / nvda.loc[day, "open"], rel=1e-12)


def test_keep_weights_rebalances_on_month_ends_back_to_the_targets(shared):
    entry, exit_ = "2024-01-02", "2024-06-28"
    run_ = run(shared, entry=entry, start=entry, exit=exit_, rebalance="keep_weights", **NO_COSTS)
    weights = run_.weights.dropna(how="all")
    dates = run_.result.equity.index
    month_ends = pd.Series(dates, index=dates).groupby(dates.to_period("M")).max()
    expected = [pd.Timestamp(entry)] + [d for d in month_ends if pd.Timestamp(entry) < d < pd.Timestamp(exit_)] + [pd.Timestamp(exit_)]
    assert list(weights.index) == expected
    # after each rebalance the short is back at -0.8 x split of the value at the execution open
    prices = run_.prices
    positions, cash = run_.result.positions, run_.result.cash
    for signal in expected[1:-1]:
        i = dates.get_loc(signal)
        day = dates[i + 1]
        value = cash.iloc[i] + (positions.iloc[i] * prices.open.loc[day, positions.columns]).sum()
        realised = positions.loc[day] * prices.open.loc[day, positions.columns] / value
        for t in SPLIT:
            assert realised[t] == pytest.approx(-0.8 * SPLIT[t], rel=1e-9)


def test_stop_loss_is_final_with_hold(shared):
    run_ = run(shared, entry="2024-01-02", start="2024-01-02", stop_loss=0.15)
    events = run_.result.events
    stops = events[events["kind"] == "stop_loss"]
    assert len(stops) >= 1
    first = stops.iloc[0]
    assert (run_.result.positions[first["ticker"]].loc[first["date"]:] == 0).all()


# ---- puts mode ------------------------------------------------------------------------------------


PUTS = dict(
    instrument="puts",
    split={"NVDA": 1.0},
    premium_budget=0.1,
    moneyness=0.95,
    tenor_days=30,
    roll_days=5,
    vol_window=20,
    iv_markup=1.1,
    risk_free=0.03,
    skew_slope=0.0,  # a flat volatility: these tests check the roll's accounting (the skew: test_option_contracts)
    skew_curvature=0.0,
)


def test_roll_pnl_equals_selling_the_old_put_and_buying_the_new_one(shared, pltr_nvda):
    entry = "2024-03-01"
    run_ = run(shared, entry=entry, start=entry, **PUTS, **NO_COSTS)
    nvda = pltr_nvda["NVDA"]
    closes = nvda["close"]
    dates = nvda.index
    logret = np.log(closes / closes.shift(1))

    def sigma(day):  # realised vol of the 20 log returns up to the previous close, x markup
        i = dates.get_loc(day)
        return statistics.stdev(logret.iloc[i - 20:i].tolist()) * math.sqrt(252) * 1.1

    def value(strike, expiry, day, spot):
        return ref_put(spot, strike, (expiry - day).days / 365.0, 0.03, sigma(day))

    d1 = dates.get_loc(pd.Timestamp(entry))
    k1, exp1 = 0.95 * closes.iloc[d1], dates[d1] + pd.Timedelta(days=30)
    settle1 = dates.get_loc(dates[dates <= exp1][-1])
    d2 = settle1 - 5
    k2, exp2 = 0.95 * closes.iloc[d2], dates[d2] + pd.Timedelta(days=30)
    buy1 = value(k1, exp1, dates[d1 + 1], nvda["open"].iloc[d1 + 1])
    n1 = 0.1 * INIT / buy1
    cash1 = INIT - n1 * buy1
    # the roll trades at the open after the roll decision: sell the old put, buy the new one
    sell1 = value(k1, exp1, dates[d2 + 1], nvda["open"].iloc[d2 + 1])
    equity_before = cash1 + n1 * sell1
    buy2 = value(k2, exp2, dates[d2 + 1], nvda["open"].iloc[d2 + 1])
    n2 = 0.1 * equity_before / buy2
    cash2 = equity_before - n2 * buy2
    equity = run_.result.equity
    assert equity.loc[dates[d2]] == pytest.approx(cash1 + n1 * value(k1, exp1, dates[d2], closes.iloc[d2]), rel=1e-10)
    assert equity.loc[dates[d2 + 1]] == pytest.approx(cash2 + n2 * value(k2, exp2, dates[d2 + 1], closes.iloc[d2 + 1]), rel=1e-10)
    orders = run_.result.orders.set_index(["date", "ticker"])
    roll = dates[d2 + 1]
    assert orders.loc[(roll, "NVDA_PUT_A"), "side"] == "sell"
    assert orders.loc[(roll, "NVDA_PUT_A"), "size"] == pytest.approx(n1, rel=1e-12)
    assert orders.loc[(roll, "NVDA_PUT_A"), "price"] == pytest.approx(sell1, rel=1e-10)
    assert orders.loc[(roll, "NVDA_PUT_B"), "side"] == "buy"
    assert orders.loc[(roll, "NVDA_PUT_B"), "size"] == pytest.approx(n2, rel=1e-10)
    assert orders.loc[(roll, "NVDA_PUT_B"), "price"] == pytest.approx(buy2, rel=1e-10)
    # the first contract's trade P&L is exactly (sale - purchase) x contracts
    trade = run_.result.trades.iloc[0]
    assert trade["pnl"] == pytest.approx(n1 * (sell1 - buy1), rel=1e-9)


def test_roll_at_expiry_of_deep_out_of_the_money_puts_loses_the_whole_premium(shared, pltr_nvda):
    entry, end = "2023-06-01", "2024-06-03"
    run_ = run(shared, entry=entry, start=entry, end=end, **{**PUTS, "moneyness": 0.6, "roll_days": 0}, **NO_COSTS)
    trades = run_.result.trades
    closed = trades[trades["status"] == "closed"]
    assert len(closed) >= 10
    # NVDA never fell 40% within a month in this year, so every contract expired worthless
    assert (closed["exit_price"] == 0.0).all()
    np.testing.assert_allclose(closed["pnl"], -closed["size"] * closed["entry_price"], rtol=1e-12)
    assert (closed["return"] == -1.0).all()
    # every purchase spends 10% of the cash, which is all the account holds once the old put is worthless
    buys = run_.result.orders[run_.result.orders["side"] == "buy"]
    cash = run_.result.cash.loc[buys["date"]].to_numpy()
    np.testing.assert_allclose(cash, INIT * 0.9 ** np.arange(1, len(buys) + 1), rtol=1e-12)


def test_put_targets_spend_the_budget_on_each_roll(shared):
    run_ = run(shared, entry="2023-01-03", start="2023-01-03", instrument="puts", **NO_COSTS)
    weights = run_.weights
    slots = ["PLTR_PUT_A", "PLTR_PUT_B", "NVDA_PUT_A", "NVDA_PUT_B"]
    assert list(weights.columns) == ["PLTR", "NVDA"] + slots
    assert weights[["PLTR", "NVDA"]].isna().all().all()
    budget = weights[slots].where(weights[slots] > 0)
    assert np.allclose(budget["PLTR_PUT_A"].dropna(), 0.05 * SPLIT["PLTR"])
    assert np.allclose(budget["NVDA_PUT_B"].dropna(), 0.05 * SPLIT["NVDA"])
    buys = run_.result.orders[run_.result.orders["side"] == "buy"]
    assert set(buys["ticker"]) == set(slots)
    assert (run_.result.positions[["PLTR", "NVDA"]] == 0).all().all()
    # each roll: the sale of the old contract and the purchase of the new one on the same bar
    sells = run_.result.orders[run_.result.orders["side"] == "sell"]
    assert set(sells["date"]) <= set(buys["date"])
    # the premium spent on a purchase is 5% x split of the portfolio value at that open (no costs)
    positions, cash, opens = run_.result.positions, run_.result.cash, run_.prices.open
    dates = positions.index
    for _, order in buys.iterrows():
        i = dates.get_loc(order["date"])
        held = positions.iloc[i - 1]
        held = held[held != 0]
        value = cash.iloc[i - 1] + (held * opens.loc[order["date"], held.index]).sum()
        share = SPLIT[order["ticker"].split("_")[0]]
        assert order["size"] * order["price"] == pytest.approx(0.05 * share * value, rel=1e-12)


def test_puts_are_flat_before_entry_and_sold_at_the_exit(shared):
    run_ = run(shared, entry="2024-02-01", start="2024-01-02", hold_days=100, instrument="puts", **NO_COSTS)
    held = run_.result.positions.filter(like="_PUT_")
    dates = held.index
    entry_bar = dates.get_loc(pd.Timestamp("2024-02-01"))
    assert (held.iloc[: entry_bar + 1] == 0).all().all()
    assert (held.iloc[entry_bar + 1 : entry_bar + 101].gt(0).sum(axis=1) == 2).all()  # one put per ticker
    assert (held.iloc[entry_bar + 101 :] == 0).all().all()
    sells = run_.result.orders
    assert (sells.loc[sells["date"] == dates[entry_bar + 101], "side"] == "sell").sum() == 2


def test_put_targets_use_no_future_prices(shared):
    from shortthehype.data.load import load_prices
    from shortthehype.data.prices import Prices

    prices = load_prices(["PLTR", "NVDA", "SPY"], source="csv", data_dir=shared)
    cut = pd.Timestamp("2024-06-28")
    rng = np.random.default_rng(0)
    factor = pd.Series(np.exp(rng.normal(0, 0.1, len(prices))), index=prices.index).where(prices.index > cut, 1.0)
    frames = {f: prices.field(f).mul(factor, axis=0) for f in ("open", "high", "low", "close")}
    perturbed = Prices(**frames, volume=prices.volume)
    overrides = {"instrument": "puts", "entry": "2023-01-03", "start": "2023-01-03", **NO_COSTS}
    a = backtest("burry-short", prices=prices, overrides=overrides)
    b = backtest("burry-short", prices=perturbed, overrides=overrides)
    pd.testing.assert_frame_equal(a.weights.loc[:cut], b.weights.loc[:cut])
    pd.testing.assert_series_equal(a.result.equity.loc[:cut], b.result.equity.loc[:cut])
    assert not a.result.equity.loc[cut:].equals(b.result.equity.loc[cut:])


# ---- end to end ----------------------------------------------------------------------------------


@pytest.mark.parametrize("instrument", ["stock", "puts"])
@pytest.mark.parametrize("entry", ["2021-01-04", "2023-01-03", "2024-01-02", None])
def test_spec_runs_end_to_end_on_the_shared_data(shared, instrument, entry):
    overrides = {"instrument": instrument}
    if entry is not None:
        overrides.update(entry=entry, start=entry)
    run_ = run(shared, **overrides)
    result = run_.result
    entry_day = pd.Timestamp(entry or BURRY_FILING_DATE)
    assert result.equity.index[0] == entry_day
    assert np.isfinite(result.equity).all()
    first_trade = result.orders["date"].min()
    assert first_trade == result.equity.index[1]  # the bar after the entry signal
    if instrument == "stock":
        # shorting PLTR from 2021, 2023 or 2024 on wiped the account out (see the bankruptcy test)
        assert result.status == ("ok" if entry is None else "bankrupt")
        held = result.positions.iloc[1:]
        if result.status == "bankrupt":
            liquidated = result.events.loc[result.events["kind"] == "liquidation", "date"].iloc[0]
            assert (result.positions.loc[liquidated:] == 0).all().all()
            held = held.loc[: liquidated - pd.Timedelta(days=1)]
        assert (held < 0).all().all()
        assert result.costs["borrow"] > 0
    else:
        assert (result.positions[["PLTR", "NVDA"]] == 0).all().all()
        held = result.positions.filter(like="_PUT_").iloc[1:]
        assert ((held > 0).sum(axis=1) >= 1).all()  # always long a put from the first purchase on
        assert (held >= 0).all().all()
    assert set(run_.stats) >= {"total_return", "sharpe", "max_drawdown", "benchmark_total_return"}


def test_spec_file_loads_with_documented_defaults():
    spec = load_spec("burry-short")
    assert spec.params["entry"] == pd.Timestamp("2025-11-03")
    assert spec.params["exposure"] == 0.8 and spec.params["instrument"] == "stock"
    assert spec.engine["borrow_fee"] == {"NVDA": 0.005, "PLTR": 0.02}
    assert spec.engine["stop_loss"] is None
    assert spec.params["split"]["PLTR"] / sum(spec.params["split"].values()) == pytest.approx(SPLIT["PLTR"], rel=1e-12)
    assert set(spec.sweep) >= {"exposure", "entry", "instrument", "rebalance"}
    text = spec.path.read_text()
    for param in spec.kind.params:
        assert f"#   {param.name}" in text, f"{param.name} is not documented in the spec file"


# ---- errors -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "error", "pattern"),
    [
        ({"exit": "2026-01-02", "hold_days": 10}, SpecError, r"set 'exit' or 'hold_days', not both"),
        ({"exit": "2025-10-01"}, SpecError, r"exit 2025-10-01 must be after entry 2025-11-03"),
        ({"instrument": "puts", "rebalance": "keep_weights"}, SpecError, r"rebalance 'keep_weights' applies to instrument 'stock' only"),
        ({"instrument": "puts", "roll_days": 130}, SpecError, r"roll_days 130 .* tenor_days 182"),
        ({"split": "PLTR:0,NVDA:0"}, SpecError, r"parameter 'split' needs a positive total"),
        ({"split.NVDA": -0.2}, ParamError, r"parameter 'split' must be >= 0"),
        ({"instrument": "options"}, ParamError, r"parameter 'instrument'"),
        ({"moneyness": 0}, ParamError, r"parameter 'moneyness' must be > 0"),
    ],
)
def test_invalid_settings_are_one_line_errors_naming_the_parameter(overrides, error, pattern):
    spec = load_spec("burry-short")
    with pytest.raises(error, match=pattern) as info:
        spec.with_overrides(overrides)
    assert "\n" not in str(info.value)


def test_a_roll_whose_execution_bar_is_a_halt_trades_at_the_first_price_after_it():
    from shortthehype.data.prices import Prices

    rng = np.random.default_rng(4)
    index = pd.bdate_range("2022-01-03", periods=200, name="date")
    paths = np.exp(np.cumsum(rng.normal(0.002, 0.02, (len(index), 2)), axis=0))
    close = pd.DataFrame(50 * paths, index=index, columns=["X", "Y"])  # Y keeps the halted days in the index
    params = {**PUTS, "split": {"X": 1.0, "Y": 1.0}, "entry": "2022-03-01", "start": "2022-03-01", "benchmark": None}
    clean = backtest("burry-short", prices=Prices.from_close(close), overrides={**params, **NO_COSTS})
    trades = clean.result.trades
    roll_exec = trades.loc[trades["ticker"] == "X_PUT_A", "exit_date"].iloc[0]  # X's first roll executes here
    halted = close.copy()
    halted.loc[roll_exec:roll_exec + pd.Timedelta(days=1), "X"] = np.nan  # X halted on the roll bar and the next
    run_ = backtest("burry-short", prices=Prices.from_close(halted), overrides={**params, **NO_COSTS})
    assert run_.result.equity.index.equals(clean.result.equity.index)
    resumed = halted.index[(halted.index > roll_exec) & halted["X"].notna()][0]
    assert (resumed - roll_exec).days >= 2
    orders = run_.result.orders
    x_orders = orders[orders["ticker"].str.startswith("X_")]
    assert not (x_orders["date"] == roll_exec).any()
    roll = x_orders[x_orders["date"] == resumed].set_index("ticker")
    assert roll.loc["X_PUT_A", "side"] == "sell" and roll.loc["X_PUT_B", "side"] == "buy"
    # from then on exactly one X contract is held, so a reused slot never carries an old contract
    held = run_.result.positions[["X_PUT_A", "X_PUT_B"]]
    assert (held.loc[resumed:].gt(0).sum(axis=1) == 1).all()
    assert (held.loc[:resumed].iloc[1:-1].gt(0).sum(axis=1) == 1).all()


def test_a_run_prices_each_roll_once_and_a_changed_rate_or_iv_file_prices_afresh(tmp_path, monkeypatch):
    import shortthehype.option_pricing as option_pricing
    from shortthehype.data.prices import Prices

    calls = []
    roll_puts = option_pricing.roll_puts
    monkeypatch.setattr(option_pricing, "roll_puts", lambda *a, **k: calls.append(a[1]) or roll_puts(*a, **k))
    rng = np.random.default_rng(9)
    index = pd.bdate_range("2022-01-03", periods=260, name="date")
    close = pd.DataFrame(50 * np.exp(np.cumsum(rng.normal(0.0, 0.02, (len(index), 2)), axis=0)), index=index,
                         columns=["X", "Y"])
    prices = Prices.from_close(close)
    params = {**PUTS, **NO_COSTS, "split": {"X": 1.0, "Y": 1.0}, "entry": "2022-03-01", "start": "2022-03-01",
              "benchmark": None}
    first = backtest("burry-short", prices=prices, overrides=params)
    assert sorted(calls) == ["X", "Y"]  # traded prices, targets and contracts share one roll per ticker
    again = backtest("burry-short", prices=prices, overrides=params)
    assert sorted(calls) == ["X", "Y"] and again.result.equity.equals(first.result.equity)
    # another pricing rate is priced afresh, and prices differently
    calls.clear()
    other = backtest("burry-short", prices=prices, overrides={**params, "risk_free": 0.2})
    assert sorted(calls) == ["X", "Y"] and not other.result.equity.equals(first.result.equity)
    # an implied-volatility file rewritten between runs is read again
    iv = tmp_path / "iv.csv"
    iv.write_text("date,iv\n" + "".join(f"{d:%Y-%m-%d},40\n" for d in index))
    with_file = {**params, "vol_source": "csv", "iv_file": str(iv)}
    calls.clear()
    low = backtest("burry-short", prices=prices, overrides=with_file)
    iv.write_text("date,iv\n" + "".join(f"{d:%Y-%m-%d},80\n" for d in index) + "\n")  # another size: another state
    high = backtest("burry-short", prices=prices, overrides=with_file)
    assert sorted(calls) == ["X", "X", "Y", "Y"]
    assert high.result.equity.iloc[-1] != low.result.equity.iloc[-1]


def test_a_named_cash_rate_is_read_once_per_loaded_prices_and_every_run_shares_it(shared):
    """The puts' pricing rate (``risk_free`` unset: the engine's cash rate): one object per loaded prices and setting,
    so a study's or a sweep's runs find the rate series they have already converted."""
    from shortthehype.data.load import load_prices
    from shortthehype.runner import prepare, resolve_spec, spec_needs

    spec = resolve_spec("burry-short", {"instrument": "puts", "cash_rate": "tbill"})
    prices = load_prices(spec_needs(spec), data_dir=shared)
    first = prepare(spec, prices).kind_params["risk_free"]
    later = prepare(spec.with_overrides({"entry": "2025-06-02", "start": "2025-06-02"}), prices).kind_params["risk_free"]
    assert isinstance(first, pd.Series) and later is first
    reloaded = prepare(spec, load_prices(spec_needs(spec), data_dir=shared)).kind_params["risk_free"]
    assert reloaded is not first and reloaded.equals(first)
    fixed = prepare(spec.with_overrides({"cash_rate": 0.04}), prices).kind_params["risk_free"]
    assert fixed == pytest.approx(math.log(1 + 0.04 * 91 / 360) * 365 / 91, rel=1e-15)
