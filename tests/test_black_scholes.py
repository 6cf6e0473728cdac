"""Black–Scholes kernels and the rolled-put chain against closed forms and a slow pure-Python twin."""

from __future__ import annotations

import datetime as dt
import math
import statistics

import numpy as np
import pandas as pd
import pytest

from shortthehype.constants import PUT_VALUE_FLOOR
from shortthehype.core.options_nb import bs_call_nb, bs_d1_d2_nb, bs_put_nb
from shortthehype.data.prices import Prices
from shortthehype.errors import DataError, ParamError
from shortthehype.option_pricing import black_scholes_call, black_scholes_put, put_slots, put_volatility, roll_puts

NAN = float("nan")


# ---- independent references --------------------------------------------------------------


def norm_cdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def ref_call(s: float, k: float, t: float, r: float, v: float) -> float:
    """Textbook Black–Scholes call (Hull, eq. 15.20), through math.erf."""
    d1 = (math.log(s / k) + (r + v * v / 2.0) * t) / (v * math.sqrt(t))
    d2 = d1 - v * math.sqrt(t)
    return s * norm_cdf(d1) - k * math.exp(-r * t) * norm_cdf(d2)


def ref_put(s: float, k: float, t: float, r: float, v: float) -> float:
    """Textbook Black–Scholes put (Hull, eq. 15.21), through math.erf; intrinsic at t <= 0."""
    if t <= 0:
        return max(k - s, 0.0)
    d1 = (math.log(s / k) + (r + v * v / 2.0) * t) / (v * math.sqrt(t))
    d2 = d1 - v * math.sqrt(t)
    return k * math.exp(-r * t) * norm_cdf(-d2) - s * norm_cdf(-d1)


# ---- closed forms ---------------------------------------------------------------------------


def test_hull_example_15_6():
    # Hull, Options, Futures and Other Derivatives, Example 15.6: c = 4.76, p = 0.81, d1 = 0.7693, d2 = 0.6278
    s, k, r, v, t = 42.0, 40.0, 0.1, 0.2, 0.5
    call, put = bs_call_nb(s, k, t, r, v), bs_put_nb(s, k, t, r, v)
    assert round(call, 2) == 4.76 and round(put, 2) == 0.81
    assert call == pytest.approx(ref_call(s, k, t, r, v), abs=1e-10)
    assert put == pytest.approx(ref_put(s, k, t, r, v), abs=1e-10)
    d1, d2 = bs_d1_d2_nb(s, k, t, r, v)
    assert round(d1, 4) == 0.7693 and round(d2, 4) == 0.6278


def test_scipy_norm_agrees():
    from scipy import stats  # installed with vectorbt: the comparison must run, never skip
    s, k, r, v, t = 100.0, 90.0, 0.03, 0.45, 0.75
    d1 = (math.log(s / k) + (r + v * v / 2) * t) / (v * math.sqrt(t))
    d2 = d1 - v * math.sqrt(t)
    expected = k * math.exp(-r * t) * stats.norm.cdf(-d2) - s * stats.norm.cdf(-d1)
    assert bs_put_nb(s, k, t, r, v) == pytest.approx(expected, abs=1e-10)


def grid():
    rng = np.random.default_rng(7)
    for _ in range(300):
        yield (
            float(rng.uniform(1, 500)),
            float(rng.uniform(1, 500)),
            float(rng.uniform(1 / 365, 3)),
            float(rng.uniform(-0.02, 0.15)),
            float(rng.uniform(0.05, 1.5)),
        )


def test_matches_reference_formula_and_put_call_parity_to_1e10():
    for s, k, t, r, v in grid():
        put, call = bs_put_nb(s, k, t, r, v), bs_call_nb(s, k, t, r, v)
        assert put == pytest.approx(ref_put(s, k, t, r, v), abs=1e-10)
        assert call == pytest.approx(ref_call(s, k, t, r, v), abs=1e-10)
        # parity: c - p = S - K e^{-rT}
        assert call - put == pytest.approx(s - k * math.exp(-r * t), abs=1e-10)
        # no-arbitrage bounds of a European put
        assert max(k * math.exp(-r * t) - s, 0.0) - 1e-12 <= put <= k * math.exp(-r * t) + 1e-12


def test_expiry_and_zero_volatility_limits():
    for s, k in [(80.0, 100.0), (100.0, 100.0), (130.0, 100.0)]:
        # at and after expiry: exactly intrinsic
        assert bs_put_nb(s, k, 0.0, 0.05, 0.3) == max(k - s, 0.0)
        assert bs_put_nb(s, k, -0.1, 0.05, 0.3) == max(k - s, 0.0)
        assert bs_call_nb(s, k, 0.0, 0.05, 0.3) == max(s - k, 0.0)
        # T -> 0: converges to intrinsic (the at-the-money gap is about S sigma sqrt(T / 2 pi) = 1.2e-5)
        assert bs_put_nb(s, k, 1e-12, 0.05, 0.3) == pytest.approx(max(k - s, 0.0), abs=0.3 * s * 1e-6)
        # sigma -> 0: converges to the discounted forward intrinsic, and sigma = 0 is that limit exactly
        forward = max(k * math.exp(-0.05) - s, 0.0)
        assert bs_put_nb(s, k, 1.0, 0.05, 0.0) == forward
        assert bs_put_nb(s, k, 1.0, 0.05, 1e-9) == pytest.approx(forward, abs=1e-8)
        assert bs_call_nb(s, k, 1.0, 0.05, 0.0) == max(s - k * math.exp(-0.05), 0.0)
    # a worthless stock: the put is the discounted strike
    assert bs_put_nb(0.0, 50.0, 2.0, 0.03, 0.4) == pytest.approx(50.0 * math.exp(-0.06), abs=1e-12)


def test_nan_and_invalid_inputs_give_nan():
    assert math.isnan(bs_put_nb(NAN, 100.0, 1.0, 0.0, 0.2))
    assert math.isnan(bs_put_nb(100.0, 100.0, 1.0, 0.0, NAN))
    assert math.isnan(bs_call_nb(100.0, 100.0, NAN, 0.0, 0.2))
    assert math.isnan(bs_put_nb(-1.0, 100.0, 1.0, 0.0, 0.2))
    assert math.isnan(bs_put_nb(100.0, 100.0, 1.0, 0.0, -0.2))


def test_put_is_decreasing_in_spot_and_increasing_in_volatility():
    spots = np.linspace(20, 200, 181)
    values = black_scholes_put(spots, 100.0, 0.5, 0.04, 0.5)
    assert np.all(np.diff(values) < 0)
    vols = np.linspace(0.05, 2.0, 40)
    assert np.all(np.diff(black_scholes_put(100.0, 90.0, 0.5, 0.04, vols)) > 0)


def test_public_wrappers_broadcast_and_return_floats():
    assert isinstance(black_scholes_put(42.0, 40.0, 0.5, 0.1, 0.2), float)
    values = black_scholes_call(np.array([[40.0], [42.0]]), np.array([38.0, 40.0, 42.0]), 0.5, 0.1, 0.2)
    assert values.shape == (2, 3)
    assert values[1, 1] == pytest.approx(ref_call(42.0, 40.0, 0.5, 0.1, 0.2), abs=1e-12)


def test_deep_out_of_the_money_put_is_worth_almost_nothing_and_expires_worthless():
    value = bs_put_nb(100.0, 50.0, 30 / 365, 0.04, 0.3)
    assert 0.0 <= value < 1e-12
    assert bs_put_nb(100.0, 50.0, 0.0, 0.04, 0.3) == 0.0


def test_normal_cdf_kernel_in_the_centre_and_the_tails():
    from shortthehype.core.options_nb import norm_cdf_nb

    for x in np.linspace(-6, 6, 121):
        assert norm_cdf_nb(x) == pytest.approx(norm_cdf(x), abs=1e-15)
        assert norm_cdf_nb(x) + norm_cdf_nb(-x) == pytest.approx(1.0, abs=1e-15)
    # far tail: relative accuracy (1 + erf(x) would round to 0 here); Mills ratio phi(x)/|x| (1 - 1/x^2 + 3/x^4)
    x = -20.0
    mills = math.exp(-x * x / 2) / (abs(x) * math.sqrt(2 * math.pi)) * (1 - 1 / x**2 + 3 / x**4 - 15 / x**6)
    assert norm_cdf_nb(x) == pytest.approx(mills, rel=1e-6)


def test_settlement_bar_is_the_last_trading_day_on_or_before_expiry():
    from shortthehype.core.options_nb import settlement_bar_nb

    # calendar days of Mon 0 .. Fri 4, Mon 7 .. Thu 10 (Friday 11 is a holiday), Mon 14
    day = np.array([0, 1, 2, 3, 4, 7, 8, 9, 10, 14], dtype=np.float64)
    assert settlement_bar_nb(day, 0, 4.0) == 4  # a Friday expiry settles that Friday
    assert settlement_bar_nb(day, 0, 5.0) == 4  # a Saturday expiry settles on the Friday before
    assert settlement_bar_nb(day, 0, 11.0) == 8  # a holiday: the Thursday before
    assert settlement_bar_nb(day, 2, 2.0) == 2  # expiry on the start bar itself
    assert settlement_bar_nb(day, 0, 14.0) == 9  # the last bar is the expiry day: known
    assert settlement_bar_nb(day, 0, 15.0) == -1  # the data end before expiry: not known yet


# ---- the rolled-put chain: slow pure-Python twin ------------------------------------------------


def naive_roll(dates, o, h, lo, c, *, moneyness, tenor, roll, rate, window, markup, first_bar, stop_bar):
    """Slow twin of roll_puts, written from the rules in shortthehype.option_pricing' docstring."""
    n = len(c)
    finite = math.isfinite
    vol = [NAN] * n
    for i in range(n):
        j = i - 1  # the last close known at bar i's open
        if j - window < 0:
            continue
        rets = [math.log(c[q] / c[q - 1]) for q in range(j - window + 1, j + 1)]
        if all(finite(x) for x in rets):
            vol[i] = statistics.stdev(rets) * math.sqrt(252) * markup
        elif i > 0:
            vol[i] = vol[i - 1]  # a window with a gap: the last estimate is carried

    def settlement(start, expiry):
        j = max(q for q in range(start, n) if dates[q] <= expiry)
        return j if (j < n - 1 or dates[j] >= expiry) else None

    contracts = []
    roll_at = None
    for i in range(first_bar, min(stop_bar, n)):
        if contracts and (roll_at is None or i < roll_at):
            continue
        if not (finite(c[i]) and c[i] > 0 and finite(vol[i]) and vol[i] > 0):
            continue
        expiry = dates[i] + dt.timedelta(days=tenor)
        s = settlement(i, expiry)
        contracts.append({"d": i, "K": moneyness * c[i], "expiry": expiry, "s": s})
        roll_at = max(s - roll, i + 2) if s is not None else None
    for k, ct in enumerate(contracts):  # a slot shows its latest contract until the slot is reused
        ct["last"] = contracts[k + 2]["d"] - 1 if k + 2 < len(contracts) else n - 1
        ct["roll"] = contracts[k + 1]["d"] if k + 1 < len(contracts) else (stop_bar if stop_bar < n else None)

    out = {f: [[NAN, NAN] for _ in range(n)] for f in "ohlc"}
    for k, ct in enumerate(contracts):
        slot, d, s, strike = k % 2, ct["d"], ct["s"], ct["K"]
        sigma, spot, settled = vol[d], c[d], NAN
        for i in range(d, ct["last"] + 1):
            if s is not None and i > s:
                for f in "ohlc":
                    out[f][i][slot] = settled
                continue
            if finite(vol[i]) and vol[i] > 0:
                sigma = vol[i]
            if finite(c[i]):
                spot = c[i]
            if i == s:
                settled = max(strike - spot, 0.0)
            if not finite(c[i]):
                continue
            t = 0.0 if i == s else (ct["expiry"] - dates[i]).days / 365.0

            def value(x, t=t, sigma=sigma, strike=strike):
                if t <= 0:
                    return max(strike - x, 0.0)
                return max(ref_put(x, strike, t, rate, sigma), PUT_VALUE_FLOOR * strike)

            out["c"][i][slot] = value(c[i])
            if i == d:
                continue
            out["o"][i][slot] = value(o[i] if finite(o[i]) else c[i])
            out["h"][i][slot] = value(lo[i] if finite(lo[i]) else c[i])
            out["l"][i][slot] = value(h[i] if finite(h[i]) else c[i])
    return contracts, {f: np.array(v) for f, v in out.items()}


def make_prices(n: int, seed: int = 0, halts=(), open_gaps=()) -> Prices:
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2021-01-04", periods=n + n // 7)
    dates = dates.delete(np.arange(5, len(dates), 7)[: n // 7])[:n]  # drop some weekdays: holidays
    close = 50 * np.exp(np.cumsum(rng.normal(0, 0.03, n)))
    open_ = close * np.exp(rng.normal(0, 0.01, n))
    high = np.maximum(open_, close) * (1 + rng.uniform(0, 0.02, n))
    low = np.minimum(open_, close) * (1 - rng.uniform(0, 0.02, n))
    for i in halts:
        open_[i] = high[i] = low[i] = close[i] = np.nan
    for i in open_gaps:
        open_[i] = high[i] = low[i] = np.nan
    frame = lambda x: pd.DataFrame({"X": x}, index=pd.DatetimeIndex(dates, name="date"))  # noqa: E731
    return Prices(open=frame(open_), high=frame(high), low=frame(low), close=frame(close), volume=frame(np.full(n, np.nan)))


CASES = [
    # n, halts, open gaps, tenor, roll, window, first bar, stop bar (None = none)
    (160, (70,), (50, 51), 20, 3, 5, 10, None),
    (160, (70, 71, 90), (), 20, 0, 5, 0, 120),
    (160, (), (), 45, 10, 10, 30, 31),
    (60, (), (), 3, 0, 4, 0, None),  # tenor shorter than the minimum hold: rolls every 2 bars
    (12, (3,), (), 30, 2, 2, 0, None),  # the vol window spans the halt: carried vol
    (3, (), (), 5, 0, 2, 0, None),  # tiny: no vol on the only bars that could decide
    (1, (), (), 5, 0, 2, 0, None),
]


@pytest.mark.parametrize(("n", "halts", "gaps", "tenor", "roll", "window", "first", "stop"), CASES)
def test_roll_puts_matches_the_slow_twin(n, halts, gaps, tenor, roll, window, first, stop):
    prices = make_prices(n, seed=n + tenor, halts=halts, open_gaps=gaps)
    index = prices.index
    kwargs = dict(moneyness=0.95, tenor_days=tenor, roll_days=roll, rate=0.03, vol_window=window, iv_markup=1.3)
    rolled = roll_puts(
        prices,
        "X",
        first=index[first],
        stop=index[stop] if stop is not None else None,
        **kwargs,
    )
    col = lambda f: prices.field(f)["X"].to_numpy()  # noqa: E731
    contracts, expected = naive_roll(
        [d.date() for d in index], col("open"), col("high"), col("low"), col("close"),
        moneyness=0.95, tenor=tenor, roll=roll, rate=0.03, window=window, markup=1.3,
        first_bar=first, stop_bar=stop if stop is not None else n,
    )
    assert len(rolled.contracts) == len(contracts)
    for name, f in (("open", "o"), ("high", "h"), ("low", "l"), ("close", "c")):
        got = rolled.prices.field(name).to_numpy()
        np.testing.assert_array_equal(np.isnan(got), np.isnan(expected[f]), err_msg=name)
        np.testing.assert_allclose(got, expected[f], rtol=1e-11, atol=1e-12, err_msg=name)
    for (_, row), ct in zip(rolled.contracts.iterrows(), contracts):
        assert row["decision"] == index[ct["d"]]
        assert row["strike"] == pytest.approx(ct["K"], rel=1e-15)
        assert row["expiry"].date() == ct["expiry"]
        assert (pd.isna(row["settlement"]) and ct["s"] is None) or row["settlement"] == index[ct["s"]]
        assert (pd.isna(row["roll"]) and ct["roll"] is None) or row["roll"] == index[ct["roll"]]


def test_twin_cases_exercise_rolls_settlements_and_halts():
    # guard against a vacuous twin comparison: the first case has several contracts, settled and frozen bars
    prices = make_prices(160, seed=180, halts=(70,), open_gaps=(50, 51))
    rolled = roll_puts(prices, "X", moneyness=0.95, tenor_days=20, roll_days=0, rate=0.03, vol_window=5, iv_markup=1.3)
    assert len(rolled.contracts) >= 8
    assert rolled.contracts["settlement"].notna().sum() >= 7


def test_slot_series_follow_the_documented_shape():
    prices = make_prices(160, seed=3)
    rolled = roll_puts(prices, "X", moneyness=0.9, tenor_days=30, roll_days=5, rate=0.02, vol_window=10, iv_markup=1.0)
    a, b = put_slots("X")
    assert list(rolled.prices.tickers) == [a, b] == ["X_PUT_A", "X_PUT_B"]
    close, high, low = (rolled.prices.field(f) for f in ("close", "high", "low"))
    # the put's high is its value at the spot's low and its low the value at the spot's high
    c, h, lo = (f.to_numpy() for f in (close, high, low))
    valid = ~np.isnan(h)
    assert valid.sum() > 100
    assert np.all(h[valid] >= c[valid] - 1e-12) and np.all(c[valid] >= lo[valid] - 1e-12)
    # consecutive contracts alternate slots; a slot is NaN only before its first contract
    contracts = rolled.contracts
    assert contracts["slot"].tolist()[:4] == [a, b, a, b]
    assert close[a].first_valid_index() == contracts["decision"].iloc[0]
    assert close[b].first_valid_index() == contracts["decision"].iloc[1]
    assert close.loc[contracts["decision"].iloc[1]:].notna().all().all()
    # a contract is sold on the bar after the next contract's decision: two bars before its slot is reused
    gaps = np.diff([close.index.get_loc(d) for d in contracts["decision"]])
    assert (gaps >= 2).all()
    assert (contracts["roll"].iloc[:-1].to_numpy() == contracts["decision"].iloc[1:].to_numpy()).all()


def test_put_at_settlement_is_worth_exactly_its_intrinsic_value():
    prices = make_prices(200, seed=11)
    rolled = roll_puts(prices, "X", moneyness=1.05, tenor_days=21, roll_days=0, rate=0.04, vol_window=10, iv_markup=1.2)
    settled = rolled.contracts.dropna(subset=["settlement"])
    assert len(settled) >= 5
    spot = prices.close["X"]
    for _, row in settled.iterrows():
        value = rolled.prices.close.loc[row["settlement"], row["slot"]]
        assert value == max(row["strike"] - spot.loc[row["settlement"]], 0.0)
        # frozen from then on: it is sold on the bar after the roll decision (here: the settlement bar)
        assert row["roll"] == row["settlement"]
        sale = rolled.prices.close.index.get_indexer([row["roll"]])[0] + 1
        assert (rolled.prices.close[row["slot"]].loc[row["settlement"]:].iloc[: sale - spot.index.get_loc(row["settlement"]) + 1] == value).all()


def test_put_prices_use_no_future_data():
    prices = make_prices(160, seed=5)
    kwargs = dict(moneyness=0.9, tenor_days=30, roll_days=5, rate=0.02, vol_window=10, iv_markup=1.2)
    base = roll_puts(prices, "X", **kwargs)
    cut = 100
    rng = np.random.default_rng(1)
    factor = np.ones(len(prices))
    factor[cut + 1:] = np.exp(rng.normal(0, 0.2, len(prices) - cut - 1))
    frames = {f: prices.field(f).mul(factor, axis=0) for f in ("open", "high", "low", "close")}
    perturbed = Prices(**frames, volume=prices.volume)
    other = roll_puts(perturbed, "X", **kwargs)
    for f in ("open", "high", "low", "close"):
        pd.testing.assert_frame_equal(base.prices.field(f).iloc[: cut + 1], other.prices.field(f).iloc[: cut + 1])
    assert not base.prices.close.iloc[cut + 1:].equals(other.prices.close.iloc[cut + 1:])


def test_pricing_inputs_kept_with_the_prices_never_go_stale():
    """The calendar, the converted rate series and a realised volatility are kept with the loaded prices: another
    rate series, window or markup is priced afresh, and every result equals one on prices that keep nothing."""
    from shortthehype.constants import PRICE_FIELDS
    from shortthehype.option_pricing import VolModel

    prices = make_prices(200, seed=8)
    index = prices.index
    low_rates = pd.Series(0.01, index=index[::10])
    high_rates = pd.Series(np.linspace(0.02, 0.08, len(index[::10])), index=index[::10])
    settings = [(low_rates, VolModel(window=10, markup=1.2)), (high_rates, VolModel(window=10, markup=1.2)),
                (high_rates, VolModel(window=5, markup=1.2)), (high_rates, VolModel(window=5, markup=1.5)),
                (0.03, VolModel(window=5, markup=1.5)), (low_rates, VolModel(window=10, markup=1.2))]
    closes = []
    for rate, volatility in settings:
        kwargs = dict(moneyness=0.95, tenor_days=30, roll_days=3, rate=rate, volatility=volatility, first=index[15])
        kept = roll_puts(prices, "X", **kwargs)
        fresh = roll_puts(Prices(**{f: prices.field(f) for f in PRICE_FIELDS}), "X", **kwargs)
        pd.testing.assert_frame_equal(kept.prices.close, fresh.prices.close, check_exact=True)
        closes.append(kept.prices.close)
    assert all(not closes[k].equals(closes[k + 1]) for k in range(4)) and closes[5].equals(closes[0])


def test_put_volatility_is_lagged_realised_vol_times_markup():
    prices = make_prices(40, seed=2)
    close = prices.close["X"]
    vol = put_volatility(close, 5, 1.5)
    logret = np.log(close / close.shift(1))
    i = 20
    expected = statistics.stdev(logret.iloc[i - 5:i].tolist()) * math.sqrt(252) * 1.5
    assert vol.iloc[i] == pytest.approx(expected, rel=1e-12)
    assert vol.iloc[:6].isna().all() and np.isfinite(vol.iloc[6])
    # a missing close: the windows that span it carry the last estimate
    gap = close.copy()
    gap.iloc[25] = np.nan
    carried = put_volatility(gap, 5, 1.5)
    assert (carried.iloc[25:32] == vol.iloc[25]).all()  # vol[25] uses returns up to 24: still known
    assert carried.iloc[32] == pytest.approx(vol.iloc[32], rel=1e-12)


def test_roll_puts_validates_its_inputs():
    prices = make_prices(30)
    kwargs = dict(moneyness=0.9, tenor_days=30, roll_days=5, rate=0.02, vol_window=10, iv_markup=1.2)
    with pytest.raises(DataError, match=r"cannot price puts on 'Y'"):
        roll_puts(prices, "Y", **kwargs)
    for name, bad in (("moneyness", 0.0), ("iv_markup", -1.0), ("tenor_days", 0), ("roll_days", -1), ("vol_window", 1)):
        with pytest.raises(ParamError, match=rf"parameter '{name}'"):
            roll_puts(prices, "X", **{**kwargs, name: bad})
    with pytest.raises(ParamError, match=r"parameter 'rate' must be finite"):
        roll_puts(prices, "X", **{**kwargs, "rate": float("inf")})


def test_no_contract_when_first_is_after_the_data():
    prices = make_prices(30)
    rolled = roll_puts(prices, "X", moneyness=0.9, tenor_days=30, roll_days=5, rate=0.02, vol_window=5, iv_markup=1.2,
                       first=prices.index[-1] + pd.Timedelta(days=3))
    assert rolled.contracts.empty and rolled.prices.close.isna().all().all()
