"""``ai-basket``: weights against slow pure-Python twins, the engine fed by hand, and vectorbt.

Twins here recompute every definition of :mod:`shortthehype.strategies.ai_basket`
with plain loops (``statistics.stdev``, hand ranks, running sums) so that a
vectorisation slip in the module shows up as a mismatch.
"""

from __future__ import annotations

import math
import statistics
import warnings

import numpy as np
import pandas as pd
import pytest

from shortthehype.runner import backtest
from shortthehype.baskets import AI_BASKET
from shortthehype.data.prices import Prices
from shortthehype.engine import simulate
from shortthehype.errors import ParamError, SpecError
from shortthehype.spec import load_spec
from shortthehype.strategies.ai_basket import basket_index, basket_weights, side_targets, trend_side

pytestmark = pytest.mark.filterwarnings("ignore::shortthehype.errors.DataWarning")

RTOL = 1e-9


# ---- slow twins -----------------------------------------------------------------------


def twin_index(close: pd.DataFrame) -> list[float]:
    rows = close.to_numpy().tolist()
    level = [1.0]
    for t in range(1, len(rows)):
        returns = [
            rows[t][j] / rows[t - 1][j] - 1.0
            for j in range(len(rows[t]))
            if not math.isnan(rows[t][j]) and not math.isnan(rows[t - 1][j])
        ]
        level.append(level[-1] * (1.0 + (sum(returns) / len(returns) if returns else 0.0)))
    return level


def twin_average_ranks(values: dict[str, float]) -> dict[str, float]:
    ordered = sorted(values, key=lambda k: values[k])
    ranks: dict[str, float] = {}
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and values[ordered[j + 1]] == values[ordered[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[ordered[k]] = (i + 1 + j + 1) / 2.0
        i = j + 1
    return ranks


def twin_weights_row(close: pd.DataFrame, t: int, weighting: str, vol_window: int, momentum_window: int, tilt: float):
    """Weights of bar t, or None when no ticker qualifies."""
    tickers = list(close.columns)
    col = {c: close[c].to_numpy().tolist() for c in tickers}
    raw: dict[str, float] = {}
    if weighting == "equal":
        for c in tickers:
            if not math.isnan(col[c][t]):
                raw[c] = 1.0
    elif weighting == "inverse_vol":
        for c in tickers:
            if t - vol_window < 0:
                continue
            window = col[c][t - vol_window : t + 1]
            if any(math.isnan(v) for v in window):
                continue
            logs = [math.log(window[i] / window[i - 1]) for i in range(1, len(window))]
            sigma = statistics.stdev(logs) * math.sqrt(252)
            if sigma > 0:
                raw[c] = 1.0 / sigma
    else:
        momentum = {}
        for c in tickers:
            if t - momentum_window < 0:
                continue
            now, then = col[c][t], col[c][t - momentum_window]
            if math.isnan(now) or math.isnan(then):
                continue
            momentum[c] = now / then - 1.0
        ranks = twin_average_ranks(momentum)
        m = len(momentum)
        for c in momentum:
            raw[c] = (1.0 - tilt) / m + tilt * ranks[c] / (m * (m + 1) / 2.0)
    total = sum(raw.values())
    if not raw or total <= 0:
        return None
    return {c: raw.get(c, 0.0) / total for c in tickers}


def twin_trend(index: list[float], window: int) -> list[float]:
    state = 1.0
    out = []
    for t in range(len(index)):
        if window > 0 and t + 1 >= window:
            average = sum(index[t - window + 1 : t + 1]) / window
            if index[t] > average:
                state = 1.0
            elif index[t] < average:
                state = 0.0
        out.append(state)
    return out


# ---- fixtures -------------------------------------------------------------------------


def toy_close(seed: int = 0, n: int = 160) -> pd.DataFrame:
    """Three tickers: one lists at bar 30, one has a missing day at bar 90."""
    rng = np.random.default_rng(seed)
    index = pd.bdate_range("2021-01-04", periods=n)
    values = 50 * np.exp(np.cumsum(rng.normal(0.0005, 0.02, size=(n, 3)), axis=0))
    frame = pd.DataFrame(values, index=index, columns=["AAA", "BBB", "CCC"])
    frame.iloc[:30, 1] = np.nan
    frame.iloc[90, 2] = np.nan
    return frame


@pytest.fixture(scope="module")
def basket_prices(shared_prices_dir) -> Prices:
    from shortthehype.data.load import load_prices

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # QQQ: the spec's benchmark
        return load_prices(list(AI_BASKET) + ["QQQ"], start="2018-01-01", end="2026-06-30", data_dir=shared_prices_dir)


# ---- building blocks against twins ----------------------------------------------------


def test_basket_index_matches_twin_with_late_listing_and_gap():
    close = toy_close()
    np.testing.assert_allclose(basket_index(close).to_numpy(), twin_index(close), rtol=1e-13)


def test_basket_index_of_one_ticker_is_its_normalised_price():
    close = toy_close()[["AAA"]]
    expected = close["AAA"] / close["AAA"].iloc[0]
    np.testing.assert_allclose(basket_index(close).to_numpy(), expected.to_numpy(), rtol=1e-12)


@pytest.mark.parametrize(
    "weighting, tilt", [("equal", 1.0), ("inverse_vol", 1.0), ("momentum", 1.0), ("momentum", 0.4), ("momentum", 0.0)]
)
def test_weights_match_twin_on_toy_data(weighting, tilt):
    close = toy_close(1)
    weights = basket_weights(close, weighting, vol_window=20, momentum_window=25, momentum_tilt=tilt)
    for t in range(len(close)):
        expected = twin_weights_row(close, t, weighting, 20, 25, tilt)
        row = weights.iloc[t]
        if expected is None:
            assert row.isna().all(), f"bar {t}"
        else:
            np.testing.assert_allclose(row.to_numpy(), [expected[c] for c in close.columns], rtol=1e-12, atol=1e-15)
            assert row.sum() == pytest.approx(1.0, abs=1e-12)
            assert (row >= 0).all()


@pytest.mark.parametrize("weighting", ["equal", "inverse_vol", "momentum"])
def test_weights_match_twin_on_real_month_ends(basket_prices, weighting):
    close = basket_prices.close[list(AI_BASKET)]
    weights = basket_weights(close, weighting, vol_window=63, momentum_window=126, momentum_tilt=0.7)
    month_ends = close.index.to_series().groupby(close.index.to_period("M")).max()
    for date in month_ends.iloc[::5]:
        t = close.index.get_loc(date)
        expected = twin_weights_row(close, t, weighting, 63, 126, 0.7)
        if expected is None:  # the first months of the data: no full window yet
            assert weighting != "equal" and t < 126 and weights.iloc[t].isna().all()
            continue
        np.testing.assert_allclose(
            weights.iloc[t].to_numpy(), [expected[c] for c in close.columns], rtol=1e-10, atol=1e-14
        )


def test_inverse_vol_closed_form():
    """Log returns alternating +-a and +-2a: sigma_B = 2 sigma_A, so w_A = 2/3 and w_B = 1/3."""
    n = 41
    a = 0.01
    signs = np.array([1.0 if i % 2 else -1.0 for i in range(n - 1)])
    log_a = np.concatenate([[0.0], np.cumsum(a * signs)])
    log_b = np.concatenate([[0.0], np.cumsum(2 * a * signs)])
    close = pd.DataFrame({"A": 10 * np.exp(log_a), "B": 20 * np.exp(log_b)}, index=pd.bdate_range("2022-01-03", periods=n))
    weights = basket_weights(close, "inverse_vol", vol_window=20)
    assert weights.iloc[:20].isna().all().all()  # fewer than 20 returns
    np.testing.assert_allclose(weights.iloc[20:]["A"], 2.0 / 3.0, rtol=1e-12)
    np.testing.assert_allclose(weights.iloc[20:]["B"], 1.0 / 3.0, rtol=1e-12)


def test_momentum_ranks_by_hand():
    """Returns over 2 bars: A +50 %, B -10 %, C +20 %, D +20 % -> ranks 4, 1, 2.5, 2.5 out of sum 10."""
    close = pd.DataFrame(
        {"A": [10, 11, 15], "B": [10, 9, 9], "C": [10, 12, 12], "D": [5, 5, 6]},
        index=pd.bdate_range("2022-01-03", periods=3),
        dtype=float,
    )
    weights = basket_weights(close, "momentum", momentum_window=2, momentum_tilt=1.0).iloc[2]
    np.testing.assert_allclose(weights.to_numpy(), [0.4, 0.1, 0.25, 0.25], rtol=1e-14)
    half = basket_weights(close, "momentum", momentum_window=2, momentum_tilt=0.5).iloc[2]
    np.testing.assert_allclose(half.to_numpy(), [0.325, 0.175, 0.25, 0.25], rtol=1e-14)


@pytest.mark.parametrize("window", [2, 5, 30])
def test_trend_side_matches_twin(window):
    close = toy_close(2)
    index = basket_index(close)
    np.testing.assert_array_equal(trend_side(index, window), twin_trend(index.tolist(), window))
    assert (trend_side(index, 0) == 1.0).all()


def test_trend_side_keeps_state_on_a_tie():
    index = pd.Series([1.0, 2.0, 1.0, 1.0, 1.0, 3.0], index=pd.bdate_range("2022-01-03", periods=6))
    # SMA(2): nan, 1.5, 1.5, 1.0, 1.0, 2.0 -> in (warm-up), in, out, tie keeps out, tie keeps out, in
    np.testing.assert_array_equal(trend_side(index, 2), [1, 1, 0, 0, 0, 1])


def test_side_targets_emit_rebalances_and_switches_only():
    index = pd.bdate_range("2022-01-03", periods=6)
    weights = pd.DataFrame({"A": [0.5] * 6, "B": [0.5] * 6}, index=index)
    side = np.array([1.0, 1.0, 0.0, 0.0, 1.0, 1.0])
    rebalance = np.array([True, False, False, True, False, False])
    out = side_targets(weights, side, rebalance)
    expected = [[0.5, 0.5], [np.nan, np.nan], [0, 0], [0, 0], [0.5, 0.5], [np.nan, np.nan]]
    np.testing.assert_array_equal(out.to_numpy(), np.array(expected))


# ---- the kind on the shared prices ----------------------------------------------------


def hand_monthly_equal_weights(close: pd.DataFrame) -> pd.DataFrame:
    """Last trading day of each month (and the first bar): 1/m over the tickers with a close that day."""
    dates = list(close.index)
    rows = {}
    for i, date in enumerate(dates):
        last_of_month = i + 1 < len(dates) and dates[i + 1].month != date.month
        if i == 0 or last_of_month:
            listed = [c for c in close.columns if not math.isnan(close.at[date, c])]
            rows[date] = {c: (1.0 / len(listed) if c in listed else 0.0) for c in close.columns}
    return pd.DataFrame.from_dict(rows, orient="index").reindex(close.index)[list(close.columns)]


def test_pltr_joins_at_the_first_rebalance_once_listed(basket_prices):
    run = backtest("ai-basket", overrides={"start": "2020-01-02", "end": "2021-03-31"}, prices=basket_prices)
    weights = run.weights.dropna(how="all")
    assert weights.loc["2020-08-31", "PLTR"] == 0.0 and weights.loc["2020-08-31"].sum() == pytest.approx(1.0)
    assert weights.loc["2020-09-30", "PLTR"] == pytest.approx(0.1)  # PLTR's first close is 2020-09-30
    pltr = run.result.orders[run.result.orders["ticker"] == "PLTR"]
    assert pltr["date"].min() == pd.Timestamp("2020-10-01")  # traded at the next open


def test_equal_weight_monthly_equals_the_engine_fed_the_same_weights_by_hand(basket_prices):
    overrides = {"start": "2019-06-03", "end": "2026-06-30", "fees": 0.001, "slippage": 0.0005, "cash_rate": 0.0}
    run = backtest("ai-basket", overrides=overrides, prices=basket_prices)
    window = basket_prices.between("2019-06-03", "2026-06-30")
    hand = hand_monthly_equal_weights(basket_prices.close[list(AI_BASKET)])
    # the month-end target in force on the first bar is carried onto it (backtest's rule)
    hand_window = hand.loc[window.index].copy()
    hand_window.iloc[0] = hand.loc[: window.index[0]].dropna(how="all").iloc[-1]
    pd.testing.assert_frame_equal(run.weights, hand_window, check_names=False, check_freq=False, atol=1e-15, rtol=0)
    by_hand = simulate(window, hand_window, fees=0.001, slippage=0.0005)
    np.testing.assert_allclose(run.result.equity.to_numpy(), by_hand.equity.to_numpy(), rtol=1e-12)
    assert len(run.result.orders) > 600


@pytest.mark.parametrize("fees, exposure", [(0.0, 1.0), (0.001, 0.95)])
def test_equal_weight_monthly_matches_vectorbt_from_orders(basket_prices, fees, exposure):
    """vectorbt fills targetpercent orders at the signal bar's close: our execution="close".

    With fees, a 100 % target makes both engines short of cash but they cut the
    buys differently (vectorbt order by order, ours by one common factor), so
    the fee case runs at 95 % exposure where cash never binds.
    """
    import vectorbt as vbt
    init_cash = 1_000_000.0
    run = backtest(
        "ai-basket",
        overrides={
            "start": "2019-06-03",
            "end": "2026-06-30",
            "execution": "close",
            "fees": fees,
            "slippage": 0.0,
            "exposure": exposure,
            "init_cash": init_cash,
            "cash_rate": 0.0,  # vectorbt pays no interest on cash
        },
        prices=basket_prices,
    )
    close = run.prices.close[run.weights.columns]
    # vectorbt refuses an order at a NaN price: no order where the ticker has no close (our engine skips those)
    size = run.weights.where(close.notna())
    pf = vbt.Portfolio.from_orders(
        close,
        size=size,
        size_type="targetpercent",
        cash_sharing=True,
        group_by=True,
        call_seq="auto",
        direction="both",
        fees=fees,
        init_cash=init_cash,
        freq="1D",
    )
    value = pf.value()
    rel = ((run.result.equity - value).abs() / value).max()
    assert rel <= RTOL, f"equity differs from vectorbt by {rel:.3e}"
    assert len(pf.orders.records) == len(run.result.orders)


def test_trend_filter_goes_to_cash_on_the_switch_day_and_back(basket_prices):
    run = backtest(
        "ai-basket",
        overrides={"start": "2019-06-03", "end": "2026-06-30", "trend_window": 100, "fees": 0.0, "slippage": 0.0,
                   "cash_rate": 0.0},
        prices=basket_prices,
    )
    close = basket_prices.close[list(AI_BASKET)]
    side = twin_trend(twin_index(close), 100)
    side = pd.Series(side, index=close.index).loc[run.weights.index]
    switches = side.index[1:][side.to_numpy()[1:] != side.to_numpy()[:-1]]
    assert len(switches) >= 4
    for date in switches:
        row = run.weights.loc[date]
        if side[date] == 0.0:
            assert (row == 0.0).all(), f"{date:%Y-%m-%d}: not all cash"
        else:
            assert row.sum() == pytest.approx(1.0) and (row > 0).sum() >= 9
    # while out of the market (traded next open, back in next open) the equity is flat: no positions, no interest
    equity = run.result.equity
    positions = run.result.positions
    flat = positions.abs().sum(axis=1) == 0
    still_flat = flat & flat.shift(1, fill_value=False)  # flat at this close and the previous one
    assert still_flat.sum() > 20
    np.testing.assert_array_equal(equity[still_flat].to_numpy(), equity.shift(1)[still_flat].to_numpy())


def test_trend_filter_uses_no_future_prices(basket_prices):
    spec = load_spec("ai-basket").with_overrides({"trend_window": 50, "weighting": "inverse_vol"})
    decision = pd.Timestamp("2022-03-15")
    before = spec.kind.target_weights(basket_prices, spec.params)
    close = basket_prices.close.copy()
    rng = np.random.default_rng(7)
    future = close.index > decision
    close.loc[future] = close.loc[future] * rng.uniform(0.5, 1.5, size=close.loc[future].shape)
    after = spec.kind.target_weights(Prices.from_close(close), spec.params)
    pd.testing.assert_frame_equal(before.loc[:decision], after.loc[:decision])
    assert not before.loc[decision:].equals(after.loc[decision:])


@pytest.mark.parametrize("weighting", ["inverse_vol", "momentum"])
def test_every_weighting_runs_end_to_end_with_weights_in_bounds(basket_prices, weighting):
    run = backtest(
        "ai-basket",
        overrides={"weighting": weighting, "exposure": 0.8, "trend_window": 200, "start": "2021-01-04"},
        prices=basket_prices,
    )
    rows = run.weights.dropna(how="all")
    sums = rows.sum(axis=1)
    assert ((sums.abs() < 1e-12) | ((sums - 0.8).abs() < 1e-12)).all()
    assert (rows >= 0).all().all()
    assert run.result.status == "ok" and np.isfinite(run.result.equity).all()


def test_spec_file_runs_end_to_end_on_the_shared_data(shared_prices_dir):
    run = backtest("strategies/ai_basket.toml", data_dir=shared_prices_dir)
    assert run.spec.name == "ai-basket" and run.start == pd.Timestamp("2022-11-30")
    assert run.result.equity.iloc[-1] > 0 and len(run.result.orders) > 100
    spec = load_spec("ai-basket")
    assert set(spec.sweep) == {"weighting", "rebalance", "trend_window"}


def test_invalid_parameters_name_the_culprit():
    with pytest.raises(SpecError, match=r"'trend_window' = 1"):
        load_spec("ai-basket").with_overrides({"trend_window": 1})
    with pytest.raises(ParamError, match=r"'weighting'.*did you mean 'momentum'"):
        load_spec("ai-basket").with_overrides({"weighting": "momentun"})
    with pytest.raises(ParamError, match=r"'exposure' must be > 0"):
        load_spec("ai-basket").with_overrides({"exposure": 0})


def test_basket_weights_validates_its_arguments():
    close = toy_close()
    with pytest.raises(ParamError, match=r"'weighting' is 'cap'"):
        basket_weights(close, "cap")
    with pytest.raises(ParamError, match=r"'momentum_window' must be an integer >= 1, got 0"):
        basket_weights(close, "momentum", momentum_window=0)
    with pytest.raises(ParamError, match=r"'momentum_tilt' must be in \[0, 1\], got 1.5"):
        basket_weights(close, "momentum", momentum_tilt=1.5)
    with pytest.raises(ParamError, match=r"window must be an integer >= 2, got 1"):
        basket_weights(close, "inverse_vol", vol_window=1)
