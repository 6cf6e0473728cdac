"""``ma-crossover``: signals against a pure-Python twin and vectorbt, equity against
vectorbt's ``Portfolio.from_signals`` on the shared prices."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from shortthehype.core.signals_nb import crossed_above_1d_nb, signal_targets_1d_nb
from shortthehype.errors import ParamError, SpecError
from shortthehype.runner import backtest
from shortthehype.signals import crossed_above
from shortthehype.spec import load_spec

pytestmark = pytest.mark.filterwarnings("ignore::shortthehype.errors.DataWarning")

RTOL = 1e-9


# ---- twins ---------------------------------------------------------------------------


def twin_crossed_above(a: list[float], b: list[float]) -> list[bool]:
    """From the definition: a > b now, a <= b on the previous bar, and a < b strictly at some
    earlier bar with no NaN in between."""
    out = []
    for t in range(len(a)):
        cross = False
        if t > 0 and not any(math.isnan(v) for v in (a[t], b[t], a[t - 1], b[t - 1])):
            if a[t] > b[t] and a[t - 1] <= b[t - 1]:
                s = t - 1
                while s >= 0 and not (math.isnan(a[s]) or math.isnan(b[s])):
                    if a[s] < b[s]:
                        cross = True
                        break
                    s -= 1
        out.append(cross)
    return out


def twin_targets(entries: list[bool], exits: list[bool], allow_short: bool) -> list[float]:
    side, out = 0.0, []
    for entry, exit_ in zip(entries, exits):
        wanted = None
        if entry and not exit_:
            wanted = 1.0
        elif exit_ and not entry:
            wanted = -1.0 if allow_short else 0.0
        if wanted is not None and wanted != side:
            side = wanted
            out.append(wanted)
        else:
            out.append(math.nan)
    return out


CROSS_CASES = [
    ([], []),
    ([1.0], [0.0]),
    ([0.0, 1.0], [0.5, 0.5]),  # below then above: a cross
    ([1.0, 2.0], [1.5, 1.5]),
    ([1.0, 1.0, 2.0], [1.0, 1.0, 1.0]),  # equal, equal, above: never strictly below, no cross
    ([0.0, 1.0, 2.0], [1.0, 1.0, 1.0]),  # below, equal, above: a cross on the last bar
    ([0.0, 2.0, 1.0, 2.0], [1.0, 1.0, 1.0, 1.0]),  # cross, touch, cross again (vectorbt counts it)
    ([0.0, np.nan, 2.0], [1.0, 1.0, 1.0]),  # NaN in between: memory reset, no cross
    ([0.0, 2.0, np.nan, 0.0, 2.0], [1.0, 1.0, 1.0, 1.0, 1.0]),
    ([np.nan, np.nan, 0.0, 2.0], [np.nan, 1.0, 1.0, 1.0]),
    ([2.0, 0.0, 2.0, 0.0, 2.0], [1.0] * 5),
]


@pytest.mark.parametrize("a, b", CROSS_CASES)
def test_crossed_above_kernel_matches_twin_on_edge_cases(a, b):
    a, b = np.array(a, dtype=float), np.array(b, dtype=float)
    out = np.empty(len(a), dtype=np.bool_)
    crossed_above_1d_nb(a, b, out)
    assert out.tolist() == twin_crossed_above(a.tolist(), b.tolist())


def test_crossed_above_matches_twin_and_vectorbt_on_random_series_with_ties_and_gaps():
    import vectorbt as vbt
    rng = np.random.default_rng(0)
    a = rng.integers(0, 4, 400).astype(float)  # small integers: many exact ties
    b = rng.integers(0, 4, 400).astype(float)
    a[rng.random(400) < 0.05] = np.nan
    b[rng.random(400) < 0.05] = np.nan
    sa, sb = pd.Series(a), pd.Series(b)
    ours = crossed_above(sa, sb)
    assert ours.tolist() == twin_crossed_above(a.tolist(), b.tolist())
    theirs = vbt.generic.nb.crossed_above_1d_nb(a, b)
    assert ours.tolist() == theirs.tolist()
    assert crossed_above(sb, sa).tolist() == vbt.generic.nb.crossed_above_1d_nb(b, a).tolist()


@pytest.mark.parametrize("allow_short", [False, True])
def test_signal_targets_match_twin(allow_short):
    rng = np.random.default_rng(1)
    entries = rng.random(300) < 0.1
    exits = rng.random(300) < 0.1
    out = np.empty(300)
    signal_targets_1d_nb(entries, exits, allow_short, out)
    np.testing.assert_array_equal(out, twin_targets(entries.tolist(), exits.tolist(), allow_short))
    assert set(out[~np.isnan(out)]) <= ({1.0, -1.0} if allow_short else {1.0, 0.0})


# ---- the kind on the shared prices -------------------------------------------------


@pytest.fixture(scope="module")
def qqq(shared_prices_dir):
    from shortthehype.data.load import load_prices

    return load_prices(["QQQ"], data_dir=shared_prices_dir)


@pytest.mark.parametrize("fast, slow", [(10, 50), (20, 100), (50, 200), (5, 30)])
def test_equity_equals_vectorbt_from_signals_with_fees(qqq, fast, slow):
    """vectorbt buys with all cash net of fees (size = cash / (price (1 + fees))); our 100 % target
    is sized on the equity and the buy is then cut by one factor to the cash available, which
    is the same number: the two agree with fees, not only without."""
    import vectorbt as vbt
    init_cash = 1_000_000.0
    run = backtest(
        "ma-crossover",
        overrides={"fast": fast, "slow": slow, "fees": 0.001, "slippage": 0.0, "execution": "close", "init_cash": init_cash},
        prices=qqq,
    )
    close = run.prices.close["QQQ"]
    fast_ma, slow_ma = vbt.MA.run_combs(close, window=[fast, slow], r=2, short_names=["fast", "slow"])
    entries = pd.Series(fast_ma.ma_crossed_above(slow_ma).to_numpy().ravel(), index=close.index)
    exits = pd.Series(fast_ma.ma_crossed_below(slow_ma).to_numpy().ravel(), index=close.index)
    pf = vbt.Portfolio.from_signals(close, entries, exits, fees=0.001, init_cash=init_cash, freq="1D")
    value = pf.value()
    rel = ((run.result.equity - value).abs() / value).max()
    assert rel <= RTOL, f"({fast}, {slow}): equity differs from vectorbt by {rel:.3e}"
    assert len(run.result.orders) == len(pf.orders.records) > 10
    # targets only on crossover bars, 1.0 on entries and 0.0 on exits
    targets = run.weights["QQQ"].dropna()
    assert entries[targets.index[targets == 1.0]].all() and exits[targets.index[targets == 0.0]].all()


def test_longshort_reverses_on_every_cross(qqq):
    run = backtest("ma-crossover", overrides={"direction": "longshort", "fast": 20, "slow": 100}, prices=qqq)
    targets = run.weights["QQQ"].dropna()
    assert set(targets) == {1.0, -1.0}
    assert (targets.to_numpy()[1:] != targets.to_numpy()[:-1]).all()  # alternating sides
    positions = run.result.positions["QQQ"]
    assert (positions < 0).any() and (positions > 0).any()
    # with next_open execution the side flips on the bar after each signal
    signal_bars = [run.prices.index.get_loc(d) for d in targets.index if d != run.prices.index[-1]]
    for bar, side in zip(signal_bars[1:], targets.to_numpy()[1:]):
        assert np.sign(positions.iloc[bar + 1]) == side


def test_spec_file_runs_end_to_end_on_the_shared_data(shared_prices_dir):
    run = backtest("strategies/ma_crossover.toml", data_dir=shared_prices_dir)
    assert run.spec.params == {"ticker": "QQQ", "fast": 50, "slow": 200, "direction": "long"}
    assert run.start == pd.Timestamp("1999-03-10") and len(run.result.orders) >= 10
    assert np.isfinite(run.result.equity).all()


def test_fast_must_be_below_slow():
    with pytest.raises(SpecError, match=r"'fast' = 200 must be smaller than 'slow' = 200"):
        load_spec("ma-crossover").with_overrides({"fast": 200})
    with pytest.raises(SpecError, match=r"'fast' = 60 must be smaller than 'slow' = 50"):
        load_spec("ma-crossover").with_overrides({"fast": 60, "slow": 50})
    with pytest.raises(ParamError, match=r"'direction'.*did you mean 'longshort'"):
        load_spec("ma-crossover").with_overrides({"direction": "longshrt"})
