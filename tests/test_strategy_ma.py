"""``ma-crossover``: signals against a pure-Python twin and vectorbt, equity against
vectorbt's ``Portfolio.from_signals`` on the shared prices; the ``sma="cumulative"``
moving average against vectorbt's bit for bit."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from shortthehype.core.signals_nb import (
    crossed_above_1d_nb,
    prefix_sums_1d_nb,
    rolling_mean_1d_nb,
    rolling_mean_cumulative_1d_nb,
    rolling_mean_prefix_1d_nb,
    signal_targets_1d_nb,
)
from shortthehype.errors import ParamError, SpecError
from shortthehype.runner import backtest
from shortthehype.signals import crossed_above, rolling_mean
from shortthehype.spec import load_spec
from shortthehype.strategies.ma_crossover import crossover_signals

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
        overrides={"fast": fast, "slow": slow, "fees": 0.001, "slippage": 0.0, "execution": "close", "init_cash": init_cash,
                   "cash_rate": 0.0},  # vectorbt pays no interest on cash
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
    assert run.spec.params == {"ticker": "QQQ", "fast": 50, "slow": 200, "direction": "long", "sma": "windowed"}
    assert run.start == pd.Timestamp("1999-03-10") and len(run.result.orders) >= 10
    assert np.isfinite(run.result.equity).all()


def test_fast_must_be_below_slow():
    with pytest.raises(SpecError, match=r"'fast' = 200 must be smaller than 'slow' = 200"):
        load_spec("ma-crossover").with_overrides({"fast": 200})
    with pytest.raises(SpecError, match=r"'fast' = 60 must be smaller than 'slow' = 50"):
        load_spec("ma-crossover").with_overrides({"fast": 60, "slow": 50})
    with pytest.raises(ParamError, match=r"'direction'.*did you mean 'longshort'"):
        load_spec("ma-crossover").with_overrides({"direction": "longshrt"})


# ---- sma = "cumulative": vectorbt's rolling mean, bit for bit ------------------------------


def twin_cumulative_mean(x: list[float], window: int) -> list[float]:
    """vectorbt's rolling mean (``generic/nb.py`` ``rolling_mean_1d_nb``, ``minp=window``) written out:
    running sums of the non-NaN values in order; the mean on bar t is (sum to t - sum to t-window) / window
    when the window's ``window`` values are all non-NaN, else NaN."""
    sums, nans, out = [], [], []
    total, count = 0.0, 0
    for t, value in enumerate(x):
        if math.isnan(value):
            count += 1
        else:
            total += value
        sums.append(total)
        nans.append(count)
        before_sum = sums[t - window] if t >= window else 0.0  # x - 0.0 is x, bit for bit
        before_nans = nans[t - window] if t >= window else 0
        full = t + 1 >= window and count == before_nans
        out.append((total - before_sum) / window if full else math.nan)
    return out


def same_bits(a, b) -> bool:
    """Equal as IEEE-754 bit patterns (NaN payloads and signed zeros included)."""
    a = np.ascontiguousarray(a, dtype=np.float64)
    b = np.ascontiguousarray(b, dtype=np.float64)
    return a.shape == b.shape and np.array_equal(a.view(np.uint64), b.view(np.uint64))


INF = math.inf
MEAN_CASES = {
    "empty": [],
    "one": [5.0],
    "two": [1.0, 2.0],
    "all-nan": [math.nan] * 4,
    "nan-first": [math.nan, 1.0, 2.0, 3.0, 4.0],
    "nan-last": [1.0, 2.0, 3.0, 4.0, math.nan],
    "nan-middle": [1.0, 2.0, math.nan, 3.0, 4.0, 5.0, 6.0],
    "inf": [1.0, 2.0, INF, 3.0, 4.0, 5.0, 6.0],  # +inf while in the window, then inf - inf = NaN for good
    "both-infs": [1.0, -INF, 2.0, INF, 3.0],
    "signed-zeros": [-0.0, -0.0, 0.0, -0.0],
    "cancellation": [1e16, 1.0, 1.0, 1.0],  # the running sum loses the 1.0s
    "cents": [100.01, 99.02, 100.52, 98.51, 101.37, 0.1, 0.2, 0.3],
}


@pytest.mark.parametrize("window", [1, 2, 3, 6, 9])
@pytest.mark.parametrize("name", sorted(MEAN_CASES))
def test_cumulative_mean_kernel_matches_twin_and_vectorbt_on_edge_cases(name, window):
    import vectorbt as vbt
    x = np.array(MEAN_CASES[name], dtype=np.float64)
    out = np.full(len(x), -7.0)
    rolling_mean_cumulative_1d_nb(x, window, out)
    assert same_bits(out, twin_cumulative_mean(x.tolist(), window))
    assert same_bits(out, vbt.generic.nb.rolling_mean_1d_nb(x, window, window))
    sums, nans = np.empty(len(x)), np.empty(len(x), dtype=np.int64)  # the shared running sums the sweep uses
    prefix_sums_1d_nb(x, sums, nans)
    assert nans.tolist() == np.cumsum(np.isnan(x)).tolist()
    assert same_bits(rolling_mean_prefix_1d_nb(sums, nans, window, np.empty(len(x))), out)


def test_the_cancellation_case_shows_why_windowed_is_the_default():
    """Hand computation on [1e16, 1, 1, 1], window 3: 1e16 + 1 is a tie between the doubles 1e16 and 1e16 + 2
    and rounds to the even 1e16, so every running sum is 1e16 and the cumulative mean of the last window
    [1, 1, 1] is (1e16 - 1e16) / 3 = 0; the windowed mean sums 1 + 1 + 1 and gets 1 exactly."""
    x = np.array(MEAN_CASES["cancellation"])
    assert rolling_mean_1d_nb(x, 3, np.empty(4))[3] == 1.0
    assert rolling_mean_cumulative_1d_nb(x, 3, np.empty(4))[3] == 0.0


@pytest.fixture(scope="module")
def nvda_pltr_ixic(shared_prices_dir):
    from shortthehype.data.load import load_prices

    prices = load_prices(["NVDA", "PLTR", "IXIC"], data_dir=shared_prices_dir)
    return prices.close  # PLTR is NaN before its listing (2020-09-30), IXIC where the exchange calendars differ


@pytest.mark.parametrize("window", [1, 2, 5, 50, 200, 2500])
def test_cumulative_mean_equals_vectorbt_ma_bit_for_bit_on_shared_prices(nvda_pltr_ixic, window):
    import vectorbt as vbt
    close = nvda_pltr_ixic
    assert close["PLTR"].isna().any() and close["PLTR"].notna().any()
    ours = rolling_mean(close, window, method="cumulative")
    theirs = vbt.MA.run(close, window).ma
    assert ours.shape == theirs.shape == close.shape
    assert same_bits(ours.to_numpy(), theirs.to_numpy())
    for ticker in close.columns:  # one Series at a time too (vectorbt's 1-D path)
        alone = close[ticker].dropna()
        assert same_bits(rolling_mean(alone, window, method="cumulative"), vbt.MA.run(alone, window).ma)


def test_windowed_and_cumulative_means_agree_to_round_off_only(nvda_pltr_ixic):
    """Both approximate the same real number: NaN in the same places, within 1e-12 relative of each other on
    27 years of IXIC, yet not bit-identical (else the option would be moot)."""
    close = nvda_pltr_ixic["IXIC"].dropna()
    windowed = rolling_mean(close, 50).to_numpy()
    cumulative = rolling_mean(close, 50, method="cumulative").to_numpy()
    assert np.array_equal(np.isnan(windowed), np.isnan(cumulative))
    rel = np.nanmax(np.abs(windowed - cumulative) / windowed)
    assert 0 < rel < 1e-12


@pytest.mark.parametrize("seed", range(4))
def test_cumulative_mean_equals_vectorbt_on_synthetic_series_with_nans(seed):
    import vectorbt as vbt
    rng = np.random.default_rng(seed)
    n = 1_000
    close = pd.DataFrame(
        np.round(100 * np.exp(np.cumsum(rng.normal(0, 0.02, (n, 3)), axis=0)), 2), columns=["A", "B", "C"]
    )
    close[rng.random((n, 3)) < 0.03] = np.nan  # isolated gaps
    close.iloc[:40, 1] = np.nan  # a late listing
    close.iloc[500:530, 2] = np.nan  # a long halt
    for window in (1, 2, 7, 30, 250):
        ours = rolling_mean(close, window, method="cumulative").to_numpy()
        assert same_bits(ours, vbt.MA.run(close, window).ma.to_numpy()), window
        for j in range(3):
            assert same_bits(ours[:, j], twin_cumulative_mean(close.iloc[:, j].tolist(), window)), (window, j)


#: Four closes in cents whose SMA(2) equals their SMA(4) exactly: 100.52 + 98.51 = 100.01 + 99.02.
TIE_TAIL = ["101.00", "100.01", "99.02", "100.52", "98.51", "95.00"]


def tie_series() -> tuple[np.ndarray, int]:
    """Random cent prices, then ``TIE_TAIL``: SMA(2) < SMA(4) on the bar before the tie bar t, equal on t, and
    below again after it.  The first seed whose running sums round SMA(2) above SMA(4) on t (the windowed sums
    give the exact tie there) is used: a deterministic search."""
    from fractions import Fraction

    tail = [Fraction(v) for v in TIE_TAIL]
    assert sum(tail[3:5]) / 2 == sum(tail[1:5]) / 4  # the tie, in exact arithmetic
    assert sum(tail[2:4]) / 2 < sum(tail[0:4]) / 4 and sum(tail[4:6]) / 2 < sum(tail[2:6]) / 4  # below around it
    for seed in range(500):
        rng = np.random.default_rng(seed)
        x = np.concatenate([np.round(rng.uniform(90, 110, int(rng.integers(5, 60))), 2), [float(v) for v in TIE_TAIL]])
        t = len(x) - 2
        windowed = [rolling_mean_1d_nb(x, w, np.empty(len(x)))[t] for w in (2, 4)]
        cumulative = [rolling_mean_cumulative_1d_nb(x, w, np.empty(len(x)))[t] for w in (2, 4)]
        if windowed[0] == windowed[1] and cumulative[0] > cumulative[1]:
            return x, t
    raise AssertionError("no seed in 0..499 gives a tie that the running sums round up")


def test_an_exact_tie_crosses_only_in_the_cumulative_mean_as_in_vectorbt():
    import vectorbt as vbt
    x, t = tie_series()
    close = pd.Series(x, index=pd.bdate_range("2020-01-01", periods=len(x)))
    entries_w, exits_w = crossover_signals(close, 2, 4)
    entries_c, exits_c = crossover_signals(close, 2, 4, sma="cumulative")
    # exact arithmetic: fast == slow on t is no cross above; the windowed mean gets that right
    assert not entries_w.iloc[t - 1 :].any()
    # the running sums round the tie to fast > slow: an entry on t and an exit on t + 1
    assert entries_c.iloc[t] and exits_c.iloc[t + 1] and not entries_c.iloc[t + 1]
    fast, slow = vbt.MA.run_combs(close, window=[2, 4], r=2, short_names=["fast", "slow"])
    assert entries_c.tolist() == fast.ma_crossed_above(slow).to_numpy().ravel().tolist()
    assert exits_c.tolist() == fast.ma_crossed_below(slow).to_numpy().ravel().tolist()
    assert entries_w.tolist() != entries_c.tolist()


@pytest.fixture(scope="module")
def qqq_5000(shared_prices_dir):
    """The benchmark's prices: the last 5,000 QQQ bars, where 13 pairs of windows 2..100 meet exact ties."""
    from shortthehype.data.load import load_prices

    prices = load_prices(["QQQ"], data_dir=shared_prices_dir)
    return prices.between(prices.index[-5000], None)


#: Windows of which 8 of the 14 pairs fast < slow meet an exact tie in ``qqq_5000`` (e.g. (2, 4) on 2013-01-24).
TIE_FAST = [2, 3, 4, 5]
TIE_SLOW = [4, 6, 7, 9]


def test_backtest_with_cumulative_sma_equals_vectorbt_from_signals_on_every_combination(qqq_5000):
    """execution=close, fees 0.1 %: every pair's equity curve, total return, Sharpe (252 days) and max drawdown
    equal vectorbt's MA.run_combs + Portfolio.from_signals to 1e-12 with sma=cumulative; the windowed default
    misses vectorbt by far more on the pairs whose averages tie."""
    import vectorbt as vbt
    init_cash = 1_000_000.0
    close = qqq_5000.close["QQQ"]
    windows = sorted(set(TIE_FAST + TIE_SLOW))
    fast_ma, slow_ma = vbt.MA.run_combs(close, window=windows, r=2, short_names=["fast", "slow"])
    pf = vbt.Portfolio.from_signals(
        close, fast_ma.ma_crossed_above(slow_ma), fast_ma.ma_crossed_below(slow_ma), fees=0.001, init_cash=init_cash,
        freq="1D",
    )
    value = pf.value()
    total_return, max_drawdown = pf.total_return(), pf.max_drawdown()
    sharpe = pf.sharpe_ratio(year_freq="252 days")
    pairs = [(f, s) for f in TIE_FAST for s in TIE_SLOW if f < s]
    assert len(pairs) == 14
    windowed_misses = 0
    for fast, slow in pairs:
        theirs = value[(fast, slow)]
        overrides = {"fast": fast, "slow": slow, "fees": 0.001, "slippage": 0.0, "execution": "close",
                     "init_cash": init_cash, "cash_rate": 0.0}
        run = backtest("ma-crossover", overrides={**overrides, "sma": "cumulative"}, prices=qqq_5000)
        rel = ((run.result.equity - theirs).abs() / theirs).max()
        assert rel <= 1e-12, (fast, slow, rel)
        assert run.stats["total_return"] == pytest.approx(total_return[(fast, slow)], rel=1e-12, abs=1e-12)
        assert run.stats["sharpe"] == pytest.approx(sharpe[(fast, slow)], rel=1e-12, abs=1e-12)
        assert run.stats["max_drawdown"] == pytest.approx(max_drawdown[(fast, slow)], rel=1e-12, abs=1e-12)
        windowed = backtest("ma-crossover", overrides=overrides, prices=qqq_5000)
        windowed_misses += bool(((windowed.result.equity - theirs).abs() / theirs).max() > 1e-9)
    assert windowed_misses == 8


def test_bad_sma_value_is_one_line_naming_the_parameter(capsys, shared_prices_dir):
    from shortthehype.cli import main

    with pytest.raises(ParamError, match=r"parameter 'sma': 'foo' is not one of windowed, cumulative"):
        load_spec("ma-crossover").with_overrides({"sma": "foo"})
    code = main(["backtest", "ma-crossover", "--set", "sma=cumulativ", "--source", "csv",
                 "--data-dir", str(shared_prices_dir)])
    err = capsys.readouterr().err
    assert code == 1 and err.startswith("error:") and err.count("\n") == 1, err
    assert "parameter 'sma'" in err and "did you mean 'cumulative'?" in err, err
    with pytest.raises(ParamError, match=r"^method must be one of windowed, cumulative, got 'cumulativ'; did you mean"):
        rolling_mean(pd.Series([1.0, 2.0]), 2, method="cumulativ")
