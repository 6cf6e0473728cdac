"""Option contracts: hand-computed accounting, parity, the skew's shape, no look-ahead, the October-2025 quote."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from shortthehype.data.prices import Prices
from shortthehype.engine import simulate
from shortthehype.errors import DataError, ParamError, ShortTheHypeError, SpecError
from shortthehype.option_pricing import (
    VolModel,
    atm_volatility,
    black_scholes_call,
    black_scholes_put,
    continuous_rates,
    load_implied_vol,
    occ_symbol,
    price_contract,
    skewed_volatility,
)
from shortthehype.runner import backtest

NO_SKEW = VolModel(source="constant", level=0.4, markup=1.0, slope=0.0, curvature=0.0)


def norm_cdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def ref_bs(s: float, k: float, t: float, r: float, v: float, call: bool) -> float:
    """Black–Scholes written out from the textbook formula (independent of the package)."""
    d1 = (math.log(s / k) + (r + v * v / 2.0) * t) / (v * math.sqrt(t))
    d2 = d1 - v * math.sqrt(t)
    if call:
        return s * norm_cdf(d1) - k * math.exp(-r * t) * norm_cdf(d2)
    return k * math.exp(-r * t) * norm_cdf(-d2) - s * norm_cdf(-d1)


def tiny_prices(closes, opens=None, start="2024-01-01") -> Prices:
    """One ticker X on consecutive calendar days (so calendar days = bars, easy by hand)."""
    dates = pd.date_range(start, periods=len(closes), freq="D", name="date")
    close = pd.DataFrame({"X": np.asarray(closes, dtype=float)}, index=dates)
    open_ = pd.DataFrame({"X": np.asarray(opens if opens is not None else closes, dtype=float)}, index=dates)
    volume = pd.DataFrame({"X": np.full(len(closes), np.nan)}, index=dates)
    return Prices(open=open_, high=pd.concat([open_, close]).groupby(level=0).max(),
                  low=pd.concat([open_, close]).groupby(level=0).min(), close=close, volume=volume)


# ---- pricing -------------------------------------------------------------------------------------


def test_contract_series_is_black_scholes_then_intrinsic_at_settlement():
    closes = [100, 98, 95, 97, 90, 92]
    prices = tiny_prices(closes)
    c = price_contract(prices, name="p", ticker="X", option_type="put", entry=prices.index[1], strike=96.0,
                       expiry=prices.index[4], contracts=2, rate=0.03, volatility=NO_SKEW)
    assert c.symbol == "X240105P00096000"
    assert c.decision == prices.index[1] and c.settlement == prices.index[4]
    got = c.prices.close["X240105P00096000"].to_numpy()
    assert np.isnan(got[0]) and np.isnan(got[5])  # nothing before the decision, nothing after settlement
    for i in (1, 2, 3):
        t = (4 - i) / 365.0
        assert got[i] == pytest.approx(ref_bs(closes[i], 96.0, t, 0.03, 0.4, call=False), rel=1e-12)
    assert got[4] == pytest.approx(96.0 - 90.0, abs=1e-12)  # intrinsic on the settlement bar


def test_put_call_parity_of_priced_contracts_with_skew():
    prices = tiny_prices(100 * np.exp(np.cumsum(np.random.default_rng(1).normal(0, 0.02, 80))))
    model = VolModel(source="realised", window=10, markup=1.2, slope=0.3, curvature=0.05)
    kwargs = dict(ticker="X", entry=prices.index[20], strike=90.0, expiry=prices.index[70], contracts=1, rate=0.04,
                  volatility=model)
    put = price_contract(prices, name="p", option_type="put", **kwargs).prices.close.iloc[:, 0]
    call = price_contract(prices, name="c", option_type="call", **kwargs).prices.close.iloc[:, 0]
    spot = prices.close["X"]
    days = (prices.index[70] - prices.index).days.to_numpy()
    for i in range(20, 70):
        t = days[i] / 365.0
        # C - P = S - K e^{-rt}: the same skewed volatility prices both at one strike
        assert call.iloc[i] - put.iloc[i] == pytest.approx(spot.iloc[i] - 90.0 * math.exp(-0.04 * t), abs=1e-9)


def test_skew_shape_put_wing_at_or_above_atm_and_atm_unchanged():
    strikes = np.linspace(20, 200, 181)
    vols = skewed_volatility(100.0, strikes, 1.0, 0.0, 0.5)
    at_the_money = skewed_volatility(100.0, 100.0, 1.0, 0.0, 0.5)
    assert at_the_money == pytest.approx(0.5, rel=1e-15)  # m(0) = 1
    assert (vols[strikes < 100.0] >= 0.5).all()  # put wing >= at-the-money
    put_wing = vols[strikes < 100.0]
    assert (np.diff(put_wing) <= 0).all()  # rising toward deep out-of-the-money puts
    # the formula by hand at K = 50: z = ln(50/100) / (0.5 x 1) = -1.386..., m = 1 + 0.10 * 1.386 + 0.045 * 1.386^2
    z = math.log(0.5) / 0.5
    assert skewed_volatility(100.0, 50.0, 1.0, 0.0, 0.5) == pytest.approx(0.5 * (1 - 0.10 * z + 0.045 * z * z), rel=1e-14)
    # clipped at the documented floor and cap
    assert skewed_volatility(100.0, 1e6, 1.0, 0.0, 0.5, slope=2.0, curvature=0.0) == pytest.approx(0.125)
    assert skewed_volatility(100.0, 1e-3, 1.0, 0.0, 0.5, slope=2.0, curvature=1.0) == pytest.approx(2.0)


def test_volatility_inputs_never_look_ahead():
    base = tiny_prices(100 * np.exp(np.cumsum(np.random.default_rng(2).normal(0, 0.02, 60))))
    model = VolModel(source="realised", window=10, markup=1.2)
    kwargs = dict(name="p", ticker="X", option_type="put", entry=base.index[15], moneyness=0.9, tenor_days=60,
                  contracts=1, rate=0.03, volatility=model)
    before = price_contract(base, **kwargs).prices.close.iloc[:, 0]
    close = base.close.copy()
    close.iloc[40:] *= 1.5  # change only the future from bar 40 on
    after = price_contract(Prices(open=close, high=close, low=close, close=close, volume=base.volume), **kwargs)
    after = after.prices.close.iloc[:, 0]
    np.testing.assert_array_equal(before.iloc[:40].to_numpy(), after.iloc[:40].to_numpy())
    assert not np.allclose(before.iloc[40:].dropna(), after.iloc[40:].dropna())


def test_rates_use_the_value_before_each_bar_and_the_bill_conversion():
    index = pd.date_range("2024-01-01", periods=4, freq="D")
    series = pd.Series([0.04, 0.05, 0.06, 0.07], index=index)
    got = continuous_rates(index, series)
    # bar 1 uses 2024-01-01's 4 %: ln(1 + 0.04 x 91/360) x 365/91 = 0.040358...
    expected = math.log(1 + 0.04 * 91 / 360) * 365 / 91
    assert got[1] == pytest.approx(expected, rel=1e-15) and got[0] == pytest.approx(expected, rel=1e-15)
    assert got[3] == pytest.approx(math.log(1 + 0.06 * 91 / 360) * 365 / 91, rel=1e-15)
    assert 0.0403 < expected < 0.0404


# ---- accounting by hand --------------------------------------------------------------------------


def test_contract_purchase_and_settlement_by_hand():
    closes = [100, 98, 95, 97, 90, 92, 93]
    prices = tiny_prices(closes)
    c = price_contract(prices, name="p", ticker="X", option_type="put", entry=prices.index[1], strike=96.0,
                       expiry=prices.index[4], contracts=3, rate=0.0, volatility=NO_SKEW)
    symbol = c.symbol
    weights = pd.DataFrame({symbol: [np.nan, 300.0, np.nan, np.nan, np.nan, np.nan, np.nan]}, index=prices.index)
    result = simulate(c.prices, weights, init_cash=10_000.0, fees=0.01, slippage=0.02, target_units=[symbol],
                      cash_settled=[symbol])
    premium_px = c.prices.open[symbol].iloc[2]  # bought at bar 2's open (signal on bar 1)
    fill = premium_px * 1.02
    fee = 300 * fill * 0.01
    cash_after_buy = 10_000.0 - 300 * fill - fee
    settlement = 96.0 - 90.0  # intrinsic at bar 4, paid without slippage or fees
    orders = result.orders
    assert list(orders["side"]) == ["buy", "sell"] and list(orders["reason"]) == ["rebalance", "settlement"]
    assert orders["size"].tolist() == [300.0, 300.0]
    assert orders["price"].iloc[0] == pytest.approx(fill, rel=1e-15)
    assert orders["fees"].iloc[1] == 0.0 and orders["slippage"].iloc[1] == 0.0
    assert result.equity.iloc[3] == pytest.approx(cash_after_buy + 300 * c.prices.close[symbol].iloc[3], rel=1e-12)
    assert result.equity.iloc[-1] == pytest.approx(cash_after_buy + 300 * settlement, rel=1e-12)
    assert "settlement" in set(result.events["kind"])


def test_contract_exit_sale_by_hand():
    closes = [100, 98, 95, 97, 90, 92, 93]
    prices = tiny_prices(closes)
    c = price_contract(prices, name="p", ticker="X", option_type="call", entry=prices.index[0], strike=95.0,
                       expiry=prices.index[6], contracts=1, rate=0.0, volatility=NO_SKEW)
    symbol = c.symbol
    weights = pd.DataFrame({symbol: [100.0, np.nan, np.nan, 0.0, np.nan, np.nan, np.nan]}, index=prices.index)
    result = simulate(c.prices, weights, init_cash=1_000.0, fixed_fees=1.0, slippage=0.01, target_units=[symbol],
                      cash_settled=[symbol])
    buy = c.prices.open[symbol].iloc[1] * 1.01
    sell = c.prices.open[symbol].iloc[4] * 0.99
    assert result.equity.iloc[-1] == pytest.approx(1_000.0 - 100 * buy - 1.0 + 100 * sell - 1.0, rel=1e-12)
    assert list(result.orders["reason"]) == ["rebalance", "rebalance"]


# ---- the specs on real prices ----------------------------------------------------------------


@pytest.fixture(scope="module")
def shared(shared_prices_dir) -> Path:
    return shared_prices_dir


def test_default_skew_prices_burrys_contract_near_the_price_paid_in_october_2025(shared):
    """PLTR 2027-01-15 $50 put: within +-20 % of the $1.84 paid on every trading day of October 2025."""
    from shortthehype.data.load import load_prices

    prices = load_prices(["PLTR"], source="csv", data_dir=shared)
    rates = pd.read_csv(shared.parent / "rates" / "DTB3.csv", index_col="date", parse_dates=["date"])["rate"] / 100
    rates = rates / (1 - rates * 91 / 360)  # discount basis -> ACT/360 money-market yield
    c = price_contract(prices, name="pltr", ticker="PLTR", option_type="put", entry=pd.Timestamp("2025-10-01"),
                       strike=50.0, expiry=pd.Timestamp("2027-01-15"), contracts=50_000, rate=rates,
                       volatility=VolModel())
    october = c.prices.close[c.symbol].loc["2025-10-01":"2025-10-31"]
    assert len(october) == 23
    assert ((october / 1.84 - 1).abs() <= 0.20).all(), october
    # at-the-money the skew changes nothing: same price as a flat volatility
    atm = price_contract(prices, name="a", ticker="PLTR", option_type="put", entry=pd.Timestamp("2025-10-01"),
                         moneyness=1.0, tenor_days=365, contracts=1, rate=0.0, volatility=VolModel())
    flat = price_contract(prices, name="a", ticker="PLTR", option_type="put", entry=pd.Timestamp("2025-10-01"),
                          moneyness=1.0, tenor_days=365, contracts=1, rate=0.0,
                          volatility=VolModel(slope=0.0, curvature=0.0))
    first = atm.prices.close.iloc[:, 0].dropna().iloc[0]
    assert first == pytest.approx(flat.prices.close.iloc[:, 0].dropna().iloc[0], rel=1e-6)


def test_burry_puts_spec_records_the_contract(shared):
    run = backtest("burry-puts", source="csv", data_dir=shared)
    (record,) = run.options
    assert record["symbol"] == "PLTR270115P00050000" and record["contracts"] == 50_000
    assert record["entry_date"] == "2025-11-04"  # the first open after the 2025-11-03 filing
    assert record["premium"] == pytest.approx(record["entry_price"] * 5_000_000, rel=1e-12)
    assert record["delta"] < 0 and record["vega"] > 0
    spot = run.prices  # the traded prices hold the option only; the exposure is checked by its definition
    assert record["delta_exposure"] == pytest.approx(
        record["delta"] * 5_000_000 * _pltr_open(shared, "2025-11-04") / run.result.equity.loc["2025-11-04"], rel=1e-12
    )
    assert spot.tickers == ["PLTR270115P00050000"]
    # P&L: the last mark (open contract) less premium and fees: the equity's change less the interest cash earned
    assert record["status"] == "open"
    earned = -run.result.costs["interest"]  # net interest paid is negative when cash earns the T-bill
    assert earned > 0 and run.rates["cash_rate"].startswith("DTB3")
    assert record["pnl"] == pytest.approx(run.result.equity.iloc[-1] - run.result.init_cash - earned, rel=1e-9)
    assert record["pnl_multiple"] == pytest.approx(record["pnl"] / record["premium"], rel=1e-15)
    assert run.to_dict()["options"][0]["symbol"] == record["symbol"]


def _pltr_open(shared: Path, day: str) -> float:
    frame = pd.read_csv(shared / "PLTR.csv", index_col="date", parse_dates=["date"])
    return float(frame.loc[day, "open"])


def test_burry_puts_nvda_leg_and_october_timing(shared):
    both = backtest("burry-puts", source="csv", data_dir=shared, overrides={"contracts.nvda.enabled": "true"})
    assert [r["ticker"] for r in both.options] == ["PLTR", "NVDA"]
    october = backtest("burry-puts", source="csv", data_dir=shared,
                       overrides={"entry": "2025-10-15", "start": "2025-10-15"})
    assert october.options[0]["entry_date"] == "2025-10-16"


# ---- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides, fragment",
    [
        ({"contracts.pltr.expiry": "2025-06-01"}, "expiry"),
        ({"contracts.pltr.strike": "-5"}, "strike"),
        ({"contracts.pltr.ticker": "ARM", "entry": "2020-01-02", "contracts.pltr.expiry": "2021-01-15"}, "ARM"),
        ({"vol_source": "constant"}, "vol_level"),
        ({"contracts.pltr.moneyness": "0.5"}, None),  # replacing the strike by moneyness is allowed
    ],
)
def test_bad_contracts_are_one_line_errors(shared, overrides, fragment):
    if fragment is None:
        run = backtest("burry-puts", source="csv", data_dir=shared, overrides=overrides)
        # struck at half the close of the decision bar (the 2025-11-03 signal)
        decision_close = pd.read_csv(shared / "PLTR.csv", index_col="date", parse_dates=["date"]).loc["2025-11-03", "close"]
        assert run.options[0]["strike"] == pytest.approx(0.5 * decision_close, rel=1e-15)
        return
    with pytest.raises(ShortTheHypeError) as info:
        backtest("burry-puts", source="csv", data_dir=shared, overrides=overrides)
    message = str(info.value)
    assert "\n" not in message and fragment in message


def test_iv_csv_errors_name_the_file_and_the_date(tmp_path):
    path = tmp_path / "iv.csv"
    path.write_text("date,iv\n2024-01-01,40\n2024-01-02,41\n2024-01-04,42\n")
    prices = tiny_prices([100, 101, 102, 103, 104])
    model = VolModel(source="csv", iv_file=str(path))
    with pytest.raises(DataError, match=r"iv\.csv: no implied volatility on 2024-01-03"):
        atm_volatility(prices.close["X"], model)
    bad = tmp_path / "bad.csv"
    bad.write_text("date,iv\n2024-01-01,40\n2024-01-02,abc\n")
    with pytest.raises(DataError, match=r"bad\.csv: implied volatility on 2024-01-02"):
        load_implied_vol(bad)
    ok = tmp_path / "ok.csv"
    ok.write_text("date,close\n2024-01-01,40\n2024-01-02,50\n")
    assert load_implied_vol(ok).tolist() == [0.4, 0.5]
    full = tmp_path / "full.csv"
    full.write_text("date,iv\n" + "".join(f"2024-01-0{d},{40 + d}\n" for d in range(1, 6)))
    vol = atm_volatility(prices.close["X"], VolModel(source="csv", iv_file=str(full), markup=1.0))
    assert np.isnan(vol.iloc[0]) and vol.iloc[1:].tolist() == pytest.approx([0.41, 0.42, 0.43, 0.44])  # previous day's


def test_vix_file_is_a_valid_iv_source(shared):
    vix = load_implied_vol(shared.parent / "volatility" / "VIX.csv")
    assert vix.index.is_monotonic_increasing and (vix > 0.05).all() and (vix < 1.0).all()


def test_engine_rejects_unknown_unit_tickers():
    prices = tiny_prices([100, 101, 102])
    weights = pd.DataFrame({"X": [1.0, np.nan, np.nan]}, index=prices.index)
    with pytest.raises(ParamError, match="target_units.*'Y'"):
        simulate(prices, weights, target_units=["Y"])


def test_occ_symbol():
    assert occ_symbol("NVDA", pd.Timestamp("2027-01-15"), "call", 12.5) == "NVDA270115C00012500"


def test_spec_without_entry_is_refused():
    spec = {"name": "x", "kind": "option-contracts",
            "params": {"contracts": {"a": {"ticker": "X", "strike": 1.0, "expiry": "2025-01-01", "contracts": 1}}}}
    from shortthehype.spec import load_spec

    with pytest.raises(SpecError, match="no entry date"):
        load_spec(spec)


def test_reports_show_the_contracts_and_their_value(shared, tmp_path):
    from shortthehype.report import render

    run = backtest("burry-puts", source="csv", data_dir=shared)
    document = run.to_dict()
    values = document["option_values"]["PLTR270115P00050000"]
    assert len(values) == len(document["equity"]["dates"])
    # the position's value at each close is shares x the option's close (0 before the purchase)
    close = run.result.position_values["PLTR270115P00050000"]
    assert values[0] == 0.0 and values[-1] == pytest.approx(5_000_000 * run.options[0]["exit_price"], rel=1e-12)
    assert np.allclose(values, close.to_numpy(), rtol=0, atol=0)
    html = render(document, "html")
    assert 'id="sec-options"' in html and "PLTR270115P00050000" in html and 'id="fig-option-values"' in html
    markdown = render(document, "md")
    assert "## Option contracts" in markdown and "-0.48x" not in markdown.split("## Option contracts")[0]
    row = next(line for line in markdown.splitlines() if line.startswith("| PLTR put"))
    assert f"{run.options[0]['pnl_multiple']:+.2f}x" in row


def test_delta_and_vega_are_the_derivatives_of_the_price():
    """Central differences of the Black–Scholes price (an independent check), over arrays and scalars."""
    from shortthehype.option_pricing import black_scholes_delta, black_scholes_vega

    spot = np.array([60.0, 100.0, 140.0])
    h = 1e-4
    for call, price in ((False, black_scholes_put), (True, black_scholes_call)):
        numeric = (price(spot + h, 100.0, 0.75, 0.03, 0.4) - price(spot - h, 100.0, 0.75, 0.03, 0.4)) / (2 * h)
        np.testing.assert_allclose(black_scholes_delta(spot, 100.0, 0.75, 0.03, 0.4, call=call), numeric, rtol=1e-6)
    numeric_vega = (black_scholes_put(100.0, 90.0, 0.75, 0.03, 0.4 + h) - black_scholes_put(100.0, 90.0, 0.75, 0.03, 0.4 - h)) / (2 * h)
    assert black_scholes_vega(100.0, 90.0, 0.75, 0.03, 0.4) == pytest.approx(numeric_vega, rel=1e-6)
    assert black_scholes_delta(80.0, 100.0, 0.0, 0.03, 0.4) == -1.0  # expired in the money: the intrinsic slope


def test_contracts_are_priced_once_per_price_set_and_afresh_when_a_rate_an_iv_file_or_the_prices_change(tmp_path, monkeypatch):
    """The priced contracts are kept with the prices they were priced on: a second run (or another group of a sweep)
    reuses them, and another risk-free rate, a rewritten implied-volatility file or changed prices price afresh."""
    import shortthehype.strategies.option_contracts as option_contracts

    calls = []
    price_contract_ = option_contracts.price_contract
    monkeypatch.setattr(option_contracts, "price_contract", lambda *a, **k: calls.append(k["name"]) or price_contract_(*a, **k))
    rng = np.random.default_rng(3)
    index = pd.bdate_range("2024-01-02", periods=120, name="date")
    prices = Prices.from_close(pd.DataFrame({"X": 50 * np.exp(np.cumsum(rng.normal(0.0, 0.02, len(index))))}, index=index))
    spec = {"name": "puts", "kind": "option-contracts", "benchmark": None,
            "params": {"entry": "2024-02-01", "risk_free": 0.04,
                       "contracts": {"p": {"ticker": "X", "type": "put", "moneyness": 0.9, "tenor_days": 120, "contracts": 10}}}}
    first = backtest(spec, prices=prices).result.equity
    again = backtest(spec, prices=prices).result.equity
    assert calls == ["p"] and again.equals(first)
    other_rate = backtest({**spec, "params": {**spec["params"], "risk_free": 0.2}}, prices=prices).result.equity
    assert calls == ["p", "p"] and not other_rate.equals(first)
    iv = tmp_path / "iv.csv"
    iv.write_text("date,iv\n" + "".join(f"{d:%Y-%m-%d},40\n" for d in index))
    with_file = {**spec, "params": {**spec["params"], "vol_source": "csv", "iv_file": str(iv)}}
    low = backtest(with_file, prices=prices).result.equity
    iv.write_text("date,iv\n" + "".join(f"{d:%Y-%m-%d},80\n" for d in index) + "\n")  # another size: another state
    high = backtest(with_file, prices=prices).result.equity
    assert calls == ["p"] * 4 and high.iloc[-1] != low.iloc[-1]
    for frame in (prices.open, prices.high, prices.low, prices.close):  # whole columns assigned: seen by the next run
        frame["X"] = frame["X"] * 1.5
    changed = backtest(spec, prices=prices).result.equity
    fresh = backtest(spec, prices=Prices.from_close(prices.close)).result.equity
    assert calls == ["p"] * 6 and changed.equals(fresh) and not changed.equals(first)


@pytest.mark.parametrize(
    "name, overrides, statuses",
    [
        ("burry-short", {"instrument": "puts"}, {"sold", "open"}),  # rolled puts: each roll sells the last one
        ("burry-puts", {"contracts.pltr.expiry": "2026-01-16"}, {"settled"}),
        ("burry-puts", {"contracts.nvda.enabled": "true"}, {"open"}),
    ],
)
def test_contract_records_are_their_own_orders(shared, name, overrides, statuses):
    """Each record's fills, P&L and dates rebuilt by hand from the run's order table, contract by contract."""
    run = backtest(name, source="csv", data_dir=shared, overrides=overrides)
    orders = run.result.orders
    assert {r["status"] for r in run.options} == statuses
    seen = 0
    for record in run.options:
        mine = orders[(orders["ticker"] == record["symbol"]) & (orders["date"] >= record["entry_date"])]
        if record["exit_date"] is not None:
            mine = mine[mine["date"] <= record["exit_date"]]
        buys, sells = mine[mine["side"] == "buy"], mine[mine["side"] == "sell"]
        seen += len(mine)
        assert record["entry_date"] == f"{buys['date'].iloc[0]:%Y-%m-%d}"
        assert record["premium"] == pytest.approx(float((buys["size"] * buys["price"]).sum()), rel=1e-15)
        assert record["contracts"] * record["multiplier"] == pytest.approx(float(buys["size"].sum()), rel=1e-15)
        assert record["fees"] == pytest.approx(float(mine["fees"].sum()), rel=1e-15, abs=0.0)
        if record["status"] == "open":
            assert sells.empty or float(sells["size"].sum()) < float(buys["size"].sum())
            continue
        assert record["exit_date"] == f"{sells['date'].iloc[-1]:%Y-%m-%d}"
        assert (record["status"] == "settled") == (sells["reason"] == "settlement").any()
        proceeds = float((sells["size"] * sells["price"]).sum())
        assert record["pnl"] == pytest.approx(proceeds - record["premium"] - record["fees"], rel=1e-12)
        assert record["exit_price"] == pytest.approx(proceeds / float(buys["size"].sum()), rel=1e-15)
    assert seen == len(orders)  # every order belongs to one contract's record
