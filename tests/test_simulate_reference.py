"""The numba kernel against the slow per-bar twin in tests/reference.py.

Each case builds random prices (jumps, late listings, delistings, halts) and
random targets, prepares the inputs once, and runs both implementations on
them; every output must agree: equity, cash and shares at every bar, every
order, trade and event, the cost totals and the final status.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from reference import random_prices, random_weights, reference_simulate

from shortthehype.data.prices import Prices
from shortthehype.engine import prepare_inputs
from shortthehype.enums import Direction, EventKind, OrderStatus, Reason, Side, TradeStatus

RTOL = 1e-9


def close(a, b, scale=1.0):
    return abs(a - b) <= RTOL * max(abs(a), abs(b), scale)


def compare(inputs, result, ref):
    scale = inputs.init_cash
    np.testing.assert_allclose(result._equity, ref["equity"], rtol=RTOL, atol=RTOL * scale)
    np.testing.assert_allclose(result._cash, ref["cash"], rtol=RTOL, atol=RTOL * scale)
    np.testing.assert_allclose(result._positions, ref["positions"], rtol=RTOL, atol=1e-9)
    assert result.status == ref["status"]

    orders = result.order_records
    assert len(orders) == len(ref["orders"]), (len(orders), len(ref["orders"]))
    for got, want in zip(orders, ref["orders"]):
        assert (int(got["bar"]), int(got["asset"])) == (want["bar"], want["asset"])
        assert Side(int(got["side"])).label == want["side"]
        assert Reason(int(got["reason"])).label == want["reason"]
        assert OrderStatus(int(got["status"])).label == want["status"]
        for key in ("size", "price", "fees"):
            assert close(float(got[key]), want[key], 1e-6), (key, got, want)

    trades = result.trade_records
    assert len(trades) == len(ref["trades"])
    got_trades = sorted(trades.tolist(), key=lambda t: (t[0], t[2], t[3]))
    want_trades = sorted(ref["trades"], key=lambda t: (t["asset"], t["entry_bar"], t["exit_bar"]))
    names = trades.dtype.names
    for got, want in zip(got_trades, want_trades):
        got = dict(zip(names, got))
        assert (got["asset"], got["entry_bar"], got["exit_bar"]) == (want["asset"], want["entry_bar"], want["exit_bar"])
        assert Direction(got["direction"]).label == want["direction"]
        assert TradeStatus(got["status"]).label == want["status"]
        for key in ("size", "entry_price", "exit_price", "pnl", "fees", "borrow"):
            assert close(got[key], want[key], 1e-6 * scale), (key, got, want)

    events = result.event_records
    assert [(int(e["bar"]), EventKind(int(e["kind"])).label, int(e["asset"])) for e in events] == [
        (e["bar"], e["kind"], e["asset"]) for e in ref["events"]
    ]
    for got, want in zip(events, ref["events"]):
        assert close(float(got["value_a"]), want["value_a"], 1e-6 * scale)
        assert close(float(got["value_b"]), want["value_b"], 1e-6 * scale)

    for key, value in result.costs.items():
        assert close(value, ref["costs"][key], 1e-9 * scale), key


def run_both(seed, **overrides):
    rng = np.random.default_rng(seed)
    n_bars = int(rng.integers(2, 70))
    n_assets = int(rng.integers(1, 6))
    prices = random_prices(rng, n_bars, n_assets)
    weights = random_weights(rng, prices, n_rows=int(rng.integers(1, 12)), gross=float(rng.uniform(0.3, 3.0)))
    params = {
        "execution": str(rng.choice(["next_open", "next_close", "close"])),
        "fees": float(rng.choice([0.0, 0.001, 0.01])),
        "fixed_fees": float(rng.choice([0.0, 0.0, 5.0])),
        "slippage": float(rng.choice([0.0, 0.0005, 0.01])),
        "borrow_fee": float(rng.choice([0.0, 0.03, 0.5])),
        "cash_rate": float(rng.choice([0.0, 0.04])),
        "cash_rate_negative": float(rng.choice([0.0, 0.07])),
        "init_cash": float(rng.choice([1e4, 1e6])),
    }
    if rng.random() < 0.3:  # a dated rate observed on some of the bars (and on the first and last: no fallback)
        ends = np.isin(np.arange(len(prices.index)), [0, len(prices.index) - 1])
        observed = prices.index[(rng.random(len(prices.index)) < 0.3) | ends]
        params["cash_rate"] = pd.Series(rng.uniform(-0.01, 0.08, len(observed)), index=observed)
    if rng.random() < 0.4:
        params["maintenance_margin"] = float(rng.choice([0.25, 0.5, 1.0]))
    if rng.random() < 0.3:
        params["max_gross"] = float(rng.uniform(0.5, 2.0))
    if rng.random() < 0.4:
        params["stop_loss"] = float(rng.uniform(0.02, 0.2))
    if rng.random() < 0.3:
        params["take_profit"] = float(rng.uniform(0.02, 0.3))
    if rng.random() < 0.3:
        params["trailing_stop"] = float(rng.uniform(0.02, 0.2))
    params["integer_shares"] = bool(rng.random() < 0.25)
    params["renormalize_unlisted"] = bool(rng.random() < 0.25)
    if rng.random() < 0.3:  # a share-count instrument (an option position): targets are shares
        ticker = str(rng.choice(prices.tickers))
        typical = float(np.nanmedian(prices.close[ticker])) if prices.close[ticker].notna().any() else 1.0
        weights[ticker] = (weights[ticker] * params["init_cash"] / typical).round()
        params["target_units"] = [ticker]
    if rng.random() < 0.3:  # a cash-settled instrument: closed at its last close without costs
        params["cash_settled"] = [str(rng.choice(prices.tickers))]
    params.update(overrides)
    inputs = prepare_inputs(prices, weights, **params)
    return inputs, inputs.run(), reference_simulate(inputs)


@pytest.mark.parametrize("seed", range(150))
def test_kernel_matches_reference_on_random_cases(seed):
    inputs, result, ref = run_both(seed)
    compare(inputs, result, ref)


@pytest.mark.parametrize("execution", ["next_open", "next_close", "close"])
@pytest.mark.parametrize("seed", range(1000, 1012))
def test_kernel_matches_reference_leveraged_with_margin_and_stops(seed, execution):
    inputs, result, ref = run_both(
        seed,
        execution=execution,
        maintenance_margin=0.3,
        stop_loss=0.08,
        trailing_stop=0.12,
        take_profit=0.15,
        fees=0.002,
        borrow_fee=0.2,
    )
    compare(inputs, result, ref)


def test_random_cases_exercise_every_path():
    """The random cases above are only worth something if they reach every rule."""
    reasons, kinds, statuses = set(), set(), set()
    for seed in list(range(150)) + list(range(1000, 1012)):
        _, result, _ = run_both(seed)
        reasons |= {Reason(int(r)).label for r in result.order_records["reason"]}
        kinds |= {EventKind(int(k)).label for k in result.event_records["kind"]}
        statuses |= {OrderStatus(int(s)).label for s in result.order_records["status"]}
        statuses.add(result.status)
    assert reasons >= {r.label for r in Reason}
    assert kinds >= {k.label for k in EventKind} - {"order_rejected"}
    assert statuses >= {"filled", "partial", "ok", "bankrupt"}


def test_single_bar_and_single_asset():
    inputs, result, ref = run_both(7, execution="close")
    compare(inputs, result, ref)
    rng = np.random.default_rng(3)
    prices = random_prices(rng, 1, 1, gaps=False)
    weights = random_weights(rng, prices, n_rows=1)
    for execution in ("close", "next_open"):
        inputs = prepare_inputs(prices, weights, execution=execution, fees=0.01)
        compare(inputs, inputs.run(), reference_simulate(inputs))


def test_zero_bars_give_empty_curves():
    """The per-bar accrual factors of an empty window write nothing (no bar 0 to zero)."""
    from shortthehype.core.simulate_nb import account_terms, accrual_factors_nb, simulate_arrays
    from shortthehype.enums import AP_STOP_LOSS, AP_TAKE_PROFIT, AP_TRAILING_STOP, N_ASSET_PARAMS

    accrual_factors_nb(np.empty(0), np.empty(0), np.empty(0), np.empty((2, 0)))
    ap = np.zeros((N_ASSET_PARAMS, 1))
    ap[[AP_STOP_LOSS, AP_TAKE_PROFIT, AP_TRAILING_STOP]] = np.nan
    empty = np.empty((0, 1))
    equity, cash, *_, status = simulate_arrays(empty, empty, empty, empty, np.empty(0), np.empty(0, dtype=np.int64),
                                               np.empty((0, 1)), ap, account_terms(1e6, 0.04, n_bars=0))
    assert equity.shape == cash.shape == (0,) and status == 0


def test_last_valid_bar_matches_a_python_scan():
    from shortthehype.core.simulate_nb import last_valid_bar_nb

    nan = np.nan
    close = np.array([[1.0, nan, nan, 2.0], [nan, nan, 3.0, 2.0], [4.0, nan, nan, nan]])
    expected = [max((i for i in range(close.shape[0]) if np.isfinite(close[i, j])), default=-1) for j in range(4)]
    assert last_valid_bar_nb(close).tolist() == expected == [2, -1, 1, 1]
    assert last_valid_bar_nb(np.empty((0, 2))).tolist() == [-1, -1]


def _scaled(prices: Prices, factor: np.ndarray, delisted: int | None = None) -> Prices:
    """New prices: each bar's open, high, low and close times ``factor``; the second ticker gone from bar ``delisted``."""
    frames = {}
    for name in ("open", "high", "low", "close"):
        values = getattr(prices, name).to_numpy() * factor[:, None]
        if delisted is not None:
            values[delisted:, 1] = np.nan
        frames[name] = pd.DataFrame(values, index=prices.index, columns=prices.close.columns)
    return Prices(**frames, volume=prices.volume)


def test_records_that_outgrow_their_first_capacity_match_the_reference():
    """A leveraged long in a falling market gets a margin call and a cut on most bars: the order and event records
    outgrow the kernel's first allocation (sized from the target rows) many times over, and grow between runs of bars."""
    rng = np.random.default_rng(11)
    n_bars = 400
    prices = _scaled(random_prices(rng, n_bars, 2, jumps=False, gaps=False), np.exp(-0.004 * np.arange(n_bars)))
    weights = pd.DataFrame([[1.5, 1.5]], index=prices.index[:1], columns=prices.tickers)
    inputs = prepare_inputs(prices, weights, execution="close", maintenance_margin=0.5, fees=0.001)
    result = inputs.run()
    events = result.event_records
    assert (events["kind"] == EventKind.MARGIN_CALL).sum() > 100  # first capacity: 6 x 2 + 8 = 20 events
    assert len(result.order_records) > 100  # first capacity: 2 x 2 x (1 row + 2) + 20 = 32 orders
    compare(inputs, result, reference_simulate(inputs))


@pytest.mark.parametrize("limit", ["margin", "cap", "bankruptcy", "delisting"])
def test_limits_met_between_rows_match_the_reference(limit):
    """One row at the first bar, then bars that only accrue and mark (the bar loop's inner loop for quiet bars):
    a margin call, a gross above the cap, a bankruptcy and a delisting met there act as on any other bar."""
    rng = np.random.default_rng(5)
    n_bars = 60
    drop = np.ones(n_bars)
    drop[30:] = {"margin": 0.55, "cap": 0.55, "bankruptcy": 0.2, "delisting": 1.0}[limit]  # a crash on bar 30
    delisted = 45 if limit == "delisting" else None
    prices = _scaled(random_prices(rng, n_bars, 2, jumps=False, gaps=False), drop, delisted)
    weights = pd.DataFrame([[1.2, 1.0]], index=prices.index[:1], columns=prices.tickers)
    settings = {"margin": {"maintenance_margin": 0.5}, "cap": {"max_gross": 2.5}, "bankruptcy": {},
                "delisting": {}}[limit]
    inputs = prepare_inputs(prices, weights, execution="close", fees=0.001, cash_rate=0.04, cash_rate_negative=0.07,
                            **settings)
    result = inputs.run()
    compare(inputs, result, reference_simulate(inputs))
    kinds = {EventKind(int(k)).label for k in result.event_records["kind"]}
    expected = {"margin": "margin_call", "cap": None, "bankruptcy": "bankruptcy", "delisting": "delisting"}[limit]
    if expected:
        assert expected in kinds
    if limit == "cap":  # the cut after the crash: a sale on the bar after it
        assert (result.order_records["bar"] == 31).any()
