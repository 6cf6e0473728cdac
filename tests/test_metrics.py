"""Metrics: equal to empyrical-reloaded (and scipy) on named fixtures, hand-computed values, invariants.

Reference values come from peer libraries (empyrical-reloaded, scipy,
numpy, pandas, statistics), from hand computations on tiny fixtures, or from
the naive twins in ``reference_metrics.py``; never from our own output.
"""

from __future__ import annotations

import math
import warnings

import empyrical as ep
import numpy as np
import pandas as pd
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st

import reference_metrics as ref
from shortthehype import metrics as M
from shortthehype.constants import ANNUALIZATION
from shortthehype.core import metrics_nb as nb
from shortthehype.errors import ParamError

RTOL = 1e-10
ATOL = 1e-12

HYPO = settings(max_examples=60, deadline=None, derandomize=True)


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def _with_nans() -> np.ndarray:
    r = _rng(3).normal(0.0004, 0.015, 400)
    r[_rng(4).random(400) < 0.1] = np.nan
    r[:3] = np.nan
    return r


#: Named return fixtures: (returns, description).
FIXTURES: dict[str, np.ndarray] = {
    "normal": _rng(1).normal(0.0005, 0.02, 750),
    "fat_tailed": 0.01 * _rng(2).standard_t(3, 600),
    "with_nans": _with_nans(),
    "all_positive": _rng(5).uniform(0.001, 0.02, 120),
    "all_negative": -_rng(6).uniform(0.001, 0.02, 120),
    "empty": np.array([], dtype=float),
    "one": np.array([0.013]),
    "two": np.array([0.01, -0.02]),
    "constant": np.full(60, 0.001),
    "all_zero": np.zeros(40),
    "all_nan": np.full(5, np.nan),
}

#: Benchmark returns of the same length as each fixture.
BENCHMARKS: dict[str, np.ndarray] = {}
for _name, _r in FIXTURES.items():
    _b = 0.5 * np.nan_to_num(_r) + _rng(100 + len(_r)).normal(0.0002, 0.01, len(_r))
    if len(_b) > 10:
        _b[[2, 7]] = np.nan
    BENCHMARKS[_name] = _b


def _as(kind: str, values: np.ndarray) -> np.ndarray | pd.Series:
    if kind == "ndarray":
        return values.copy()
    return pd.Series(values, index=pd.bdate_range("2021-01-04", periods=len(values)), name="r")


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


def assert_same(ours, theirs) -> None:
    """Equal within 1e-10 (relative), with NaN == NaN and infinities equal."""
    ours, theirs = float(ours), float(theirs)
    if math.isnan(theirs) or math.isinf(theirs):
        assert ours == theirs or (math.isnan(ours) and math.isnan(theirs)), (ours, theirs)
    else:
        assert ours == pytest.approx(theirs, rel=RTOL, abs=ATOL), (ours, theirs)


def _drop_nan(values):
    return values[~np.isnan(np.asarray(values, dtype=float))]


# name -> (our function, empyrical/scipy twin); both called with (returns_as_kind,)
SINGLE = {
    "total_return": (M.total_return, ep.cum_returns_final),
    "cagr": (M.cagr, ep.cagr),
    "annual_volatility": (M.annual_volatility, ep.annual_volatility),
    "sharpe_ratio": (M.sharpe_ratio, ep.sharpe_ratio),
    "sharpe_ratio_rf": (lambda r: M.sharpe_ratio(r, risk_free=0.0002), lambda r: ep.sharpe_ratio(r, risk_free=0.0002)),
    "sortino_ratio": (M.sortino_ratio, ep.sortino_ratio),
    "sortino_ratio_req": (
        lambda r: M.sortino_ratio(r, required_return=0.001),
        lambda r: ep.sortino_ratio(r, required_return=0.001),
    ),
    "downside_risk": (M.downside_risk, ep.downside_risk),
    "max_drawdown": (M.max_drawdown, ep.max_drawdown),
    "calmar_ratio": (M.calmar_ratio, ep.calmar_ratio),
    "omega_ratio": (M.omega_ratio, ep.omega_ratio),
    "omega_ratio_thresholds": (
        lambda r: M.omega_ratio(r, risk_free=0.0001, required_return=0.08),
        lambda r: ep.omega_ratio(r, risk_free=0.0001, required_return=0.08),
    ),
    "tail_ratio": (M.tail_ratio, ep.tail_ratio),
    # empyrical's VaR is np.percentile, which gives NaN for any NaN: we skip NaN (documented)
    "value_at_risk": (M.value_at_risk, lambda r: ep.value_at_risk(_drop_nan(r))),
    "value_at_risk_1pct": (lambda r: M.value_at_risk(r, 0.01), lambda r: ep.value_at_risk(_drop_nan(r), 0.01)),
    "conditional_value_at_risk": (M.conditional_value_at_risk, ep.conditional_value_at_risk),
    "cvar_10pct": (
        lambda r: M.conditional_value_at_risk(r, 0.1),
        lambda r: ep.conditional_value_at_risk(r, 0.1),
    ),
    "stability_of_timeseries": (M.stability_of_timeseries, ep.stability_of_timeseries),
    # empyrical lists scipy.stats.skew/kurtosis; we omit NaN (documented)
    "skew": (M.skew, lambda r: scipy.stats.skew(np.asarray(r), nan_policy="omit") if len(r) else np.nan),
    "kurtosis": (M.kurtosis, lambda r: scipy.stats.kurtosis(np.asarray(r), nan_policy="omit") if len(r) else np.nan),
    "best_day": (M.best_day, lambda r: np.nanmax(r) if np.any(~np.isnan(np.asarray(r))) else np.nan),
    "worst_day": (M.worst_day, lambda r: np.nanmin(r) if np.any(~np.isnan(np.asarray(r))) else np.nan),
}

PAIRED = {
    "beta": (M.beta, ep.beta),
    "alpha": (M.alpha, ep.alpha),
    "alpha_rf": (
        lambda r, b: M.alpha(r, b, risk_free=0.0001),
        lambda r, b: ep.alpha(r, b, risk_free=0.0001),
    ),
    "excess_sharpe": (M.excess_sharpe, ep.excess_sharpe),
    "information_ratio": (M.information_ratio, lambda r, b: ep.excess_sharpe(r, b) * np.sqrt(ANNUALIZATION)),
    "correlation": (M.correlation, lambda r, b: ref.correlation(list(np.asarray(r)), list(np.asarray(b)))),
}


# ---------------------------------------------------------------------------
# equal to empyrical / scipy on every named fixture, ndarray and Series
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["ndarray", "series"])
@pytest.mark.parametrize("fixture", list(FIXTURES))
@pytest.mark.parametrize("metric", list(SINGLE))
def test_single_series_metric_matches_peer(metric, fixture, kind):
    ours, theirs = SINGLE[metric]
    returns = FIXTURES[fixture]
    expected = _quiet(theirs, _as(kind, returns))
    got = ours(_as(kind, returns))
    assert isinstance(got, float)
    assert_same(got, expected)


@pytest.mark.parametrize("kind", ["ndarray", "series"])
@pytest.mark.parametrize("fixture", list(FIXTURES))
@pytest.mark.parametrize("metric", list(PAIRED))
def test_benchmark_metric_matches_peer(metric, fixture, kind):
    ours, theirs = PAIRED[metric]
    returns, bench = FIXTURES[fixture], BENCHMARKS[fixture]
    expected = _quiet(theirs, _as(kind, returns), _as(kind, bench))
    assert_same(ours(_as(kind, returns), _as(kind, bench)), expected)


def test_series_inputs_are_aligned_on_dates_like_empyrical():
    dates = pd.bdate_range("2022-01-03", periods=300)
    r = pd.Series(FIXTURES["normal"][:300], index=dates)
    b = pd.Series(BENCHMARKS["normal"][:300], index=dates)
    shuffled = b.iloc[_rng(9).permutation(300)].iloc[20:]  # other order, 20 dates missing
    for ours, theirs in (PAIRED["beta"], PAIRED["alpha"], PAIRED["excess_sharpe"]):
        assert_same(ours(r, shuffled), _quiet(theirs, r, shuffled))
    assert_same(M.beta(r, shuffled), M.beta(r, b.where(b.index.isin(shuffled.index))))


def test_profit_factor_of_period_returns_is_empyrical_omega():
    for name, returns in FIXTURES.items():
        if len(returns) >= 2:
            assert_same(M.profit_factor(returns), _quiet(ep.omega_ratio, returns))


# ---------------------------------------------------------------------------
# hand-computed values on tiny fixtures
# ---------------------------------------------------------------------------


def test_hand_computed_return_metrics():
    assert M.total_return([0.1, -0.05, 0.02]) == pytest.approx(1.1 * 0.95 * 1.02 - 1)  # 0.0659
    assert M.total_return(np.array([0.1, -0.05, 0.02])) == pytest.approx(0.0659)
    assert M.cagr([0.21], periods_per_year=1) == pytest.approx(0.21)
    assert M.cagr([0.1, 0.1], periods_per_year=1) == pytest.approx(0.1)  # 1.21 over 2 years
    assert M.cagr([0.5, -1.0], periods_per_year=1) == -1.0  # everything lost
    assert math.isnan(M.cagr([-1.5, 0.1], periods_per_year=1))  # negative value: undefined
    # Sharpe of [0.01, 0.03]: mean 0.02, sample std 0.01*sqrt(2) -> sqrt(2) per period
    assert M.sharpe_ratio([0.01, 0.03]) == pytest.approx(math.sqrt(2 * 252))
    assert M.annual_volatility([0.01, 0.03]) == pytest.approx(0.01 * math.sqrt(2) * math.sqrt(252))
    # Sortino of [0.02, -0.01]: 0.005*252 / (sqrt(0.0001/2)*sqrt(252)) = sqrt(126)
    assert M.sortino_ratio([0.02, -0.01]) == pytest.approx(math.sqrt(126))
    assert M.downside_risk([0.02, -0.01]) == pytest.approx(math.sqrt(0.00005 * 252))
    assert M.omega_ratio([0.02, -0.01, 0.03, -0.02]) == pytest.approx(0.05 / 0.03)


def test_hand_computed_drawdowns():
    # equity 1, 1.1, 0.88, 0.924: -20 % from the peak at position 1, not recovered
    assert M.max_drawdown([0.1, -0.2, 0.05]) == pytest.approx(-0.2)
    assert M.max_drawdown_positions([0.1, -0.2, 0.05]) == (pytest.approx(-0.2), 1, 2, -1, 2)
    # the peak includes the starting value: equity 1, 0.5, 1.0 -> -50 %, recovered at position 2
    assert M.max_drawdown([-0.5, 1.0]) == pytest.approx(-0.5)
    assert M.max_drawdown_positions([-0.5, 1.0]) == (pytest.approx(-0.5), 0, 1, 2, 2)
    assert M.max_drawdown_duration([-0.5, 1.0]) == 2.0
    # spell 1: peak 1 -> recovery 3 (2 bars, deeper); spell 2: peak 3 -> still open at 6 (3 bars, longer)
    returns = [0.1, -0.1, 0.2, -0.01, -0.01, -0.01]
    assert M.max_drawdown_duration(returns) == 3.0
    assert M.max_drawdown_positions(returns) == (pytest.approx(-0.1), 1, 2, 3, 2)
    assert M.calmar_ratio([0.1, -0.2, 0.05], periods_per_year=3) == pytest.approx((1.1 * 0.8 * 1.05 - 1) / 0.2)
    assert M.max_drawdown([0.01, 0.02]) == 0.0
    assert M.max_drawdown_duration([0.01, 0.02]) == 0.0
    assert M.max_drawdown_positions([0.01, 0.02]) == (0.0, -1, -1, -1, 0)
    assert math.isnan(M.calmar_ratio([0.01, 0.02]))  # no drawdown


def test_hand_computed_quantiles_and_moments():
    r = [0.04, -0.02, 0.0, -0.04, 0.02]  # sorted: -0.04 -0.02 0 0.02 0.04
    assert M.value_at_risk(r) == pytest.approx(-0.04 + 0.02 * 0.2)  # index 4*0.05 = 0.2
    assert M.conditional_value_at_risk(r) == pytest.approx(-0.04)  # int(4*0.05) = 0: the lowest one
    assert M.tail_ratio(r) == pytest.approx(1.0)  # symmetric
    assert M.conditional_value_at_risk(r, cutoff=0.5) == pytest.approx(-0.02)  # mean of the 3 lowest
    assert M.skew([0.0, 0.0, 0.0, 1.0]) == pytest.approx(2 / math.sqrt(3))
    assert M.kurtosis([0.0, 0.0, 0.0, 1.0]) == pytest.approx(-2 / 3)
    assert M.kurtosis([1.0, -1.0]) == pytest.approx(-2.0)
    assert M.skew([1.0, -1.0]) == pytest.approx(0.0)
    assert math.isnan(M.skew([0.01])) and math.isnan(M.kurtosis([0.01, 0.01, 0.01]))
    assert M.best_day([0.01, np.nan, 0.03, -0.2]) == 0.03
    assert M.worst_day([0.01, np.nan, 0.03, -0.2]) == -0.2
    assert M.stability_of_timeseries([0.01] * 10) == pytest.approx(1.0)  # straight log line


def test_hand_computed_trade_exposure_turnover():
    trades = [0.1, -0.05, 0.0, 0.2, np.nan]
    assert M.win_rate(trades) == 0.5  # 2 wins of 4 trades; the flat one is not a win
    assert M.profit_factor(trades) == pytest.approx(0.3 / 0.05)
    assert M.avg_trade_return(trades) == pytest.approx(0.0625)
    assert math.isnan(M.profit_factor([0.1, 0.2]))  # no losing trade
    assert M.profit_factor([-0.1]) == 0.0
    assert math.isnan(M.win_rate([])) and math.isnan(M.avg_trade_return([]))
    assert M.exposure([0.0, 1.0, -0.5, 0.0, np.nan]) == 0.5
    assert M.annual_turnover([0.1, 0.0, 0.1, 0.0]) == pytest.approx(0.05 * 252)
    assert M.annual_turnover([0.5], periods_per_year=12) == pytest.approx(6.0)


def test_hand_computed_benchmark_metrics():
    b = np.array([0.01, -0.01, 0.02, 0.0])
    r = 2 * b + 0.001
    assert M.beta(r, b) == pytest.approx(2.0)
    assert M.correlation(r, b) == pytest.approx(1.0)
    assert M.correlation(-r, b) == pytest.approx(-1.0)
    assert M.alpha(r, b) == pytest.approx(1.001**252 - 1)
    # active returns [0.01, 0.03]: mean 0.02 / std 0.01*sqrt(2) = sqrt(2) per period
    assert M.excess_sharpe([0.02, 0.03], [0.01, 0.0]) == pytest.approx(math.sqrt(2))
    assert M.information_ratio([0.02, 0.03], [0.01, 0.0]) == pytest.approx(math.sqrt(2 * 252))
    assert math.isnan(M.beta(r, np.zeros(4)))  # no benchmark variance
    assert math.isnan(M.correlation(r, np.full(4, 0.01)))


def test_edge_cases_written_in_docstrings():
    assert math.isnan(M.total_return([]))
    assert M.total_return([np.nan, np.nan]) == 0.0
    for fn in (M.sharpe_ratio, M.sortino_ratio, M.annual_volatility, M.omega_ratio, M.stability_of_timeseries):
        assert math.isnan(fn([0.01])), fn.__name__  # fewer than 2 returns
    assert M.sharpe_ratio([0.001] * 5) == math.inf  # zero dispersion, as empyrical
    assert math.isnan(M.sharpe_ratio([0.0] * 5))
    assert M.sortino_ratio([0.01, 0.02]) == math.inf  # no downside
    assert math.isnan(M.stability_of_timeseries([0.0] * 5))
    assert math.isnan(M.value_at_risk([np.nan]))
    assert M.value_at_risk([np.nan, -0.01, 0.02]) == M.value_at_risk([-0.01, 0.02])


def test_float_noise_does_not_make_ratios_finite():
    # returns of an equity growing at a constant rate are equal up to rounding (spread ~1e-18)
    growth = pd.Series(100 * 1.0004 ** np.arange(300)).pct_change().iloc[1:].to_numpy()
    assert np.ptp(growth) > 0  # the noise is really there
    assert M.sharpe_ratio(growth) == math.inf
    assert M.annual_volatility(growth) == 0.0
    assert math.isnan(M.sharpe_ratio(growth, risk_free=0.0004))  # excess return is noise only
    noisy = growth * (1 + 1e-15 * _rng(7).standard_normal(len(growth)))
    assert math.isnan(M.excess_sharpe(noisy, growth)) and math.isnan(M.information_ratio(noisy, growth))
    assert M.excess_sharpe(growth + 0.001, growth) == math.inf


# ---------------------------------------------------------------------------
# invariants (hypothesis)
# ---------------------------------------------------------------------------

# returns rounded to 1e-10: realistic, and free of magnitudes whose squares underflow in the twins
returns_lists = st.lists(
    st.one_of(st.floats(-0.5, 0.5, allow_nan=False).map(lambda x: round(x, 10)), st.just(float("nan"))),
    min_size=0,
    max_size=60,
)
finite_returns = st.lists(st.floats(-0.5, 0.5, allow_nan=False).map(lambda x: round(x, 10)), min_size=3, max_size=60)


@HYPO
@given(finite_returns, st.floats(0.01, 100.0))
def test_sharpe_sortino_invariant_to_positive_scaling(returns, c):
    r = np.array(returns)
    if np.ptp(r) < 1e-6 or np.abs(r).max() * c > 0.9:
        return
    scaled = r * c
    assert M.sharpe_ratio(scaled) == pytest.approx(M.sharpe_ratio(r), rel=1e-9, abs=1e-12)
    assert M.sharpe_ratio(-r) == pytest.approx(-M.sharpe_ratio(r), rel=1e-9, abs=1e-12)
    assert M.sortino_ratio(scaled) == pytest.approx(M.sortino_ratio(r), rel=1e-9, abs=1e-12)


@HYPO
@given(returns_lists)
def test_drawdown_bounds_and_twins(returns):
    r = np.array(returns, dtype=float)
    mdd = M.max_drawdown(r)
    if len(r) == 0:
        assert math.isnan(mdd)
        return
    assert -1.0 <= mdd <= 0.0
    assert_same(mdd, _quiet(ep.max_drawdown, r))
    depth, peak, trough, recovery = nb.max_drawdown_positions_1d_nb(r)
    twin = ref.drawdown_positions(list(r))
    assert (peak, trough, recovery) == twin[1:]
    assert_same(depth, twin[0])
    assert_same(depth, mdd)
    assert nb.max_drawdown_duration_1d_nb(r) == ref.longest_drawdown(list(r))
    duration = M.max_drawdown_duration(r)
    assert 0 <= duration <= len(r)
    assert duration >= M.max_drawdown_positions(r).duration


@HYPO
@given(returns_lists, st.floats(0.01, 0.3))
def test_var_cvar_ordering(returns, cutoff):
    r = np.array(returns, dtype=float)
    valid = r[~np.isnan(r)]
    if valid.size == 0:
        assert math.isnan(M.value_at_risk(r, cutoff)) and math.isnan(M.conditional_value_at_risk(r, cutoff))
        return
    var, cvar = M.value_at_risk(r, cutoff), M.conditional_value_at_risk(r, cutoff)
    slack = 1e-12  # a mean of equal values may land one ulp outside them
    assert valid.min() - slack <= cvar <= var + slack and valid.min() <= var <= valid.max()
    assert var == np.percentile(valid, 100 * cutoff)  # bit for bit
    assert var == pytest.approx(ref.percentile(sorted(valid), 100 * cutoff), rel=1e-12, abs=1e-15)
    assert_same(cvar, ep.conditional_value_at_risk(r, cutoff))


@HYPO
@given(st.floats(-0.5, 2.0), st.integers(1, 4), st.sampled_from([252, 12, 52]))
def test_cagr_of_constant_growth_is_the_growth_rate(annual, years, ppy):
    per_period = (1 + annual) ** (1 / ppy) - 1
    returns = np.full(years * ppy, per_period)
    assert M.cagr(returns, periods_per_year=ppy) == pytest.approx(annual, rel=1e-9, abs=1e-12)
    assert M.total_return(returns) == pytest.approx((1 + annual) ** years - 1, rel=1e-9, abs=1e-12)


@HYPO
@given(finite_returns, finite_returns)
def test_total_return_compounds_over_concatenation(a, b):
    joined = M.total_return(np.array(a + b))
    assert joined == pytest.approx((1 + M.total_return(a)) * (1 + M.total_return(b)) - 1, rel=1e-9, abs=1e-12)


@HYPO
@given(finite_returns, st.floats(-3, 3), st.floats(-0.01, 0.01))
def test_beta_and_correlation_of_a_linear_function(bench, slope, intercept):
    b = np.array(bench)
    if np.var(b) < 1e-6 or abs(slope) < 1e-3:
        return
    r = slope * b + intercept
    assert M.beta(r, b) == pytest.approx(slope, rel=1e-9)
    assert M.correlation(r, b) == pytest.approx(math.copysign(1.0, slope), rel=1e-9)
    assert M.alpha(b, b) == pytest.approx(0.0, abs=1e-9)  # beta is 1 up to rounding, compounded 252 times


@HYPO
@given(returns_lists, returns_lists)
def test_kernels_match_naive_twins(a, b):
    n = min(len(a), len(b))
    x, y = np.array(a[:n], dtype=float), np.array(b[:n], dtype=float)
    assert_same(M.win_rate(x), ref.win_rate(list(x)))
    assert_same(M.profit_factor(x), ref.profit_factor(list(x)))
    assert_same(M.avg_trade_return(x), ref.mean(list(x)))
    assert_same(M.exposure(x), ref.exposure(list(x)))
    assert_same(M.annual_turnover(np.abs(x)), ref.annual_turnover(list(np.abs(x)), 252))
    assert_same(M.correlation(x, y), ref.correlation(list(x), list(y)))


@HYPO
@given(st.lists(st.one_of(st.floats(-50, 200, allow_nan=False), st.just(float("nan"))), max_size=30))
def test_equity_and_price_returns_match_twins(values):
    equity = np.array(values, dtype=float)
    out = np.empty(max(len(equity) - 1, 0))
    if equity.size and not np.isnan(equity).any():
        k = nb.equity_to_returns_1d_nb(equity, out)
        twin, twin_k = ref.equity_to_returns(list(equity))
        assert k == twin_k
        np.testing.assert_array_equal(out, np.array(twin, dtype=float))
    prices = np.where(equity > 0, equity, np.nan)
    got = np.empty(len(prices))
    nb.price_returns_1d_nb(prices, got)
    np.testing.assert_allclose(got, np.array(ref.price_returns(list(prices)), dtype=float), rtol=1e-15)


# ---------------------------------------------------------------------------
# column loops and input handling
# ---------------------------------------------------------------------------

COLUMN_METRICS = [
    M.total_return,
    M.cagr,
    M.annual_volatility,
    M.sharpe_ratio,
    M.sortino_ratio,
    M.downside_risk,
    M.max_drawdown,
    M.max_drawdown_duration,
    M.calmar_ratio,
    M.omega_ratio,
    M.tail_ratio,
    M.value_at_risk,
    M.conditional_value_at_risk,
    M.skew,
    M.kurtosis,
    M.best_day,
    M.worst_day,
    M.stability_of_timeseries,
    M.win_rate,
    M.profit_factor,
    M.avg_trade_return,
    M.exposure,
    M.annual_turnover,
]


@pytest.mark.parametrize("metric", COLUMN_METRICS, ids=lambda f: f.__name__)
def test_dataframe_gives_one_value_per_column(metric):
    n = 120
    frame = pd.DataFrame(
        {
            "normal": FIXTURES["normal"][:n],
            "nans": FIXTURES["with_nans"][:n],
            "zero": np.zeros(n),
            "pos": FIXTURES["all_positive"][:n],
        }
    )
    got = metric(frame)
    assert isinstance(got, pd.Series) and list(got.index) == list(frame.columns)
    for column in frame:
        assert_same(got[column], metric(frame[column].to_numpy()))
    np.testing.assert_array_equal(metric(frame.to_numpy()), got.to_numpy())


@pytest.mark.parametrize(
    "metric", [M.beta, M.alpha, M.correlation, M.excess_sharpe, M.information_ratio], ids=lambda f: f.__name__
)
def test_dataframe_against_one_benchmark(metric):
    frame = pd.DataFrame({"a": FIXTURES["normal"][:100], "b": FIXTURES["with_nans"][:100]})
    bench = BENCHMARKS["normal"][:100]
    got = metric(frame, bench)
    for column in frame:
        assert_same(got[column], metric(frame[column].to_numpy(), bench))


def test_equity_column_loop_matches_the_series_kernel():
    equity = np.column_stack([[100.0, 110.0, 99.0, 120.0], [100.0, 50.0, -1.0, 5.0], [0.0, 1.0, 2.0, 3.0]])
    returns, counts = nb.equity_to_returns_nb(equity)
    assert list(counts) == [3, 2, 0]
    for c in range(equity.shape[1]):
        twin, k = ref.equity_to_returns(list(equity[:, c]))
        assert k == counts[c]
        np.testing.assert_array_equal(returns[:, c], np.array(twin, dtype=float))


def test_read_only_and_integer_inputs_are_accepted():
    values = np.array([0.01, -0.02, 0.03])
    values.setflags(write=False)
    assert M.sharpe_ratio(values) == M.sharpe_ratio(values.copy())
    assert M.total_return([0, 1]) == 1.0
    nullable = pd.Series([0.01, None, 0.03], dtype="Float64")
    assert M.total_return(nullable) == pytest.approx(1.01 * 1.03 - 1)


@pytest.mark.parametrize(
    ("call", "culprit"),
    [
        (lambda: M.sharpe_ratio(["a", "b"]), "returns"),
        (lambda: M.sharpe_ratio(0.01), "returns"),
        (lambda: M.sharpe_ratio(np.zeros((2, 2, 2))), "returns"),
        (lambda: M.sharpe_ratio([0.01, 0.02], periods_per_year=0), "periods_per_year"),
        (lambda: M.sharpe_ratio([0.01, 0.02], periods_per_year=True), "periods_per_year"),
        (lambda: M.sharpe_ratio([0.01, 0.02], risk_free=float("nan")), "risk_free"),
        (lambda: M.sortino_ratio([0.01, 0.02], required_return="x"), "required_return"),
        (lambda: M.value_at_risk([0.01, 0.02], cutoff=5), "cutoff"),
        (lambda: M.beta([0.01, 0.02], [0.01]), "benchmark_returns"),
        (lambda: M.beta([0.01, 0.02], pd.DataFrame({"a": [0.0, 1.0]})), "benchmark_returns"),
        (lambda: M.max_drawdown_positions(pd.DataFrame({"a": [0.0, 1.0]})), "returns"),
        (lambda: M.returns_from_equity(np.ones((3, 2))), "equity"),
    ],
)
def test_bad_inputs_raise_one_line_param_errors(call, culprit):
    with pytest.raises(ParamError) as info:
        call()
    message = str(info.value)
    assert culprit in message and "\n" not in message


# ---------------------------------------------------------------------------
# returns_from_equity and compute_stats
# ---------------------------------------------------------------------------


def _equity(values, start="2023-01-02"):
    return pd.Series(values, index=pd.bdate_range(start, periods=len(values)), dtype=float)


def test_returns_from_equity_is_pct_change_and_stops_at_ruin():
    eq = _equity(1000 * np.cumprod(1 + FIXTURES["normal"][:50]))
    got = M.returns_from_equity(eq)
    pd.testing.assert_series_equal(got, eq.pct_change().iloc[1:], rtol=1e-14)
    ruined = M.returns_from_equity(np.array([100.0, 50.0, -20.0, 10.0]))
    np.testing.assert_array_equal(ruined, [-0.5, -1.0, np.nan])


def test_compute_stats_keys_order_and_types():
    eq = _equity(1e6 * np.cumprod(1 + FIXTURES["normal"][:300]))
    stats = M.compute_stats(eq)
    assert tuple(stats) == M.STATS_KEYS
    assert all(type(v) is float for v in stats.values())
    for key in ("win_rate", "profit_factor", "avg_trade_return", "n_trades", "exposure", "turnover"):
        assert math.isnan(stats[key]), key  # missing inputs
    bench = _equity(100 * np.cumprod(1 + np.nan_to_num(BENCHMARKS["normal"][:300])))
    with_bench = M.compute_stats(eq, benchmark=bench)
    assert tuple(with_bench) == M.STATS_KEYS + M.BENCHMARK_STATS_KEYS


def test_stats_keys_are_all_labelled():
    keys = M.STATS_KEYS + M.BENCHMARK_STATS_KEYS
    assert len(set(keys)) == len(keys)
    assert set(M.STATS_LABELS) == set(keys)
    assert M.PERCENT_KEYS <= set(keys)
    for key in M.PERCENT_KEYS:
        assert "(%)" in M.STATS_LABELS[key], key
    assert not any("%)" in M.STATS_LABELS[k] for k in set(keys) - M.PERCENT_KEYS)


def test_compute_stats_matches_empyrical_on_the_equity_returns():
    returns = FIXTURES["normal"][:500]
    eq = _equity(1e6 * np.cumprod(np.r_[1.0, 1 + returns]))
    rets = eq.pct_change().iloc[1:]
    rf = 0.0001
    stats = M.compute_stats(eq, risk_free=rf)
    assert stats["start_value"] == 1e6 and stats["end_value"] == eq.iloc[-1]
    assert_same(stats["total_return"], ep.cum_returns_final(rets))
    assert_same(stats["cagr"], ep.cagr(rets))
    assert_same(stats["annual_volatility"], ep.annual_volatility(rets))
    assert_same(stats["sharpe"], ep.sharpe_ratio(rets, risk_free=rf))
    assert_same(stats["sortino"], ep.sortino_ratio(rets, required_return=rf))
    assert_same(stats["max_drawdown"], ep.max_drawdown(rets))
    assert_same(stats["calmar"], ep.calmar_ratio(rets))
    assert_same(stats["omega"], ep.omega_ratio(rets, risk_free=rf))
    assert_same(stats["tail_ratio"], ep.tail_ratio(rets))
    assert_same(stats["value_at_risk"], ep.value_at_risk(rets))
    assert_same(stats["cvar"], ep.conditional_value_at_risk(rets))
    assert_same(stats["skew"], scipy.stats.skew(rets))
    assert_same(stats["kurtosis"], scipy.stats.kurtosis(rets))
    assert stats["best_day"] == rets.max() and stats["worst_day"] == rets.min()
    assert stats["max_drawdown_duration"] == ref.longest_drawdown(list(rets))[0]


def test_compute_stats_trades_exposure_turnover():
    eq = _equity([100.0, 101.0, 102.0, 101.0, 103.0])
    gross = pd.Series([0.0, 1.0, 1.0, 0.0], index=eq.index[:4])  # last bar missing -> left out
    turnover = pd.Series([0.0, 1.0, 0.0, 1.0, 0.0], index=eq.index)
    stats = M.compute_stats(
        eq, trade_returns=np.array([0.02, -0.01, np.nan]), gross_exposure=gross, turnover=turnover
    )
    assert stats["n_trades"] == 2.0 and stats["win_rate"] == 0.5
    assert stats["profit_factor"] == pytest.approx(2.0) and stats["avg_trade_return"] == pytest.approx(0.005)
    assert stats["exposure"] == 0.5
    assert stats["turnover"] == pytest.approx(0.4 * 252)
    empty = M.compute_stats(eq, trade_returns=np.array([]))
    assert empty["n_trades"] == 0.0 and math.isnan(empty["win_rate"])


def test_compute_stats_after_ruin():
    # a short blows up: equity 100 -> 50 -> -20 (ruin) -> 10
    eq = _equity([100.0, 50.0, -20.0, 10.0])
    stats = M.compute_stats(eq, gross_exposure=pd.Series([0.0, 1.0, 1.0, 0.0], index=eq.index))
    assert stats["end_value"] == 10.0
    assert stats["total_return"] == pytest.approx(-0.9)  # the true value from start and end
    assert stats["cagr"] == -1.0 and stats["max_drawdown"] == -1.0
    assert stats["worst_day"] == -1.0 and stats["best_day"] == -0.5  # nothing after ruin
    assert stats["exposure"] == pytest.approx(2 / 3)  # bars 0..2 only
    deep = M.compute_stats(_equity([100.0, -30.0]))
    assert deep["total_return"] == pytest.approx(-1.3)  # a loss beyond the capital stays visible


def test_compute_stats_single_bar_and_leading_nans():
    one = M.compute_stats(_equity([100.0]))
    assert one["total_return"] == 0.0 and one["start_value"] == 100.0
    assert math.isnan(one["sharpe"]) and math.isnan(one["max_drawdown"])
    lead = M.compute_stats(_equity([np.nan, np.nan, 100.0, 110.0, 99.0]))
    assert lead["start_value"] == 100.0 and lead["total_return"] == pytest.approx(-0.01)
    assert lead["max_drawdown"] == pytest.approx(-0.1)


def test_compute_stats_benchmark_alignment():
    eq = _equity(1e6 * np.cumprod(1 + FIXTURES["normal"][:200]))
    dates = eq.index
    prices = 100 * np.cumprod(1 + np.nan_to_num(BENCHMARKS["normal"][:200]))
    bench = pd.Series(prices, index=dates)
    # leading part missing, one interior gap, plus dates the equity does not have
    partial = bench.iloc[10:].drop(dates[50])
    extra = pd.Series([1.0, 2.0], index=[dates[0] - pd.Timedelta(days=30), dates[-1] + pd.Timedelta(days=30)])
    partial = pd.concat([partial, extra]).sort_index()
    stats = M.compute_stats(eq, benchmark=partial)
    assert stats["benchmark_total_return"] == pytest.approx(prices[-1] / prices[10] - 1, rel=1e-12)
    own = bench.iloc[10:].drop(dates[50]).pct_change().iloc[1:]  # the gap return spans two days
    own = own.reindex(dates[11:])  # a NaN on the missing day counts as a bar of calendar
    assert_same(stats["benchmark_cagr"], ep.cagr(own))
    assert_same(stats["benchmark_sharpe"], ep.sharpe_ratio(own))
    assert_same(stats["benchmark_max_drawdown"], ep.max_drawdown(own))
    rets = eq.pct_change().iloc[1:]
    paired = own.reindex(rets.index)
    assert_same(stats["beta"], ep.beta(rets, paired))
    assert_same(stats["alpha"], ep.alpha(rets, paired))
    assert_same(stats["information_ratio"], ep.excess_sharpe(rets, paired) * math.sqrt(252))
    assert_same(stats["correlation"], rets.corr(paired))


def test_compute_stats_against_itself_as_benchmark():
    eq = _equity(1e6 * np.cumprod(1 + FIXTURES["fat_tailed"][:250]))
    stats = M.compute_stats(eq, benchmark=eq / 1e4)  # same returns up to rounding
    assert stats["beta"] == pytest.approx(1.0, rel=1e-12)
    assert stats["correlation"] == pytest.approx(1.0, rel=1e-12)
    assert stats["alpha"] == pytest.approx(0.0, abs=1e-12)
    assert math.isnan(stats["information_ratio"])  # zero tracking error and zero mean
    assert stats["benchmark_total_return"] == pytest.approx(stats["total_return"], rel=1e-12)
    assert stats["benchmark_sharpe"] == pytest.approx(stats["sharpe"], rel=1e-12)


def test_compute_stats_accepts_plain_arrays():
    values = 1e6 * np.cumprod(np.r_[1.0, 1 + FIXTURES["normal"][:100]])
    series_stats = M.compute_stats(_equity(values), gross_exposure=_equity(np.ones(101)))
    array_stats = M.compute_stats(values, gross_exposure=np.ones(101))
    assert series_stats == array_stats


@pytest.mark.parametrize(
    ("kwargs", "culprit"),
    [
        ({"equity": pd.DataFrame({"a": [1.0, 2.0]})}, "equity"),
        ({"equity": _equity([np.nan, np.nan])}, "equity"),
        ({"equity": _equity([100.0, np.nan, 101.0])}, "2023-01-03"),
        ({"equity": _equity([0.0, 101.0])}, "starting value"),
        ({"equity": _equity([100.0, 101.0]), "benchmark": _equity([0.01, -0.02])}, "prices, not returns"),
        ({"equity": _equity([100.0, 101.0]), "benchmark": _equity([1.0, 2.0], start="2010-01-01")}, "benchmark"),
        ({"equity": np.array([100.0, 101.0]), "gross_exposure": np.ones(3)}, "gross_exposure"),
        ({"equity": _equity([100.0, 101.0]), "turnover": pd.Series([1.0, 1.0], index=["a", "a"])}, "turnover"),
        ({"equity": _equity([100.0, 101.0]), "trade_returns": np.ones((2, 2))}, "trade_returns"),
        ({"equity": _equity([100.0, 101.0]), "periods_per_year": -1}, "periods_per_year"),
        ({"equity": _equity([100.0, 101.0]), "risk_free": "0.01"}, "risk_free"),
    ],
)
def test_compute_stats_errors_name_the_culprit(kwargs, culprit):
    equity = kwargs.pop("equity")
    with pytest.raises(ParamError) as info:
        M.compute_stats(equity, **kwargs)
    message = str(info.value)
    assert culprit in message and "\n" not in message


def test_public_names():
    assert set(M.__all__) == {n for n in dir(M) if not n.startswith("_")} - {
        "ANNUALIZATION",
        "REPORT_ROLLING_WINDOW",
        "VAR_CUTOFF",
        "Any",
        "ArrayLike",
        "Callable",
        "NamedTuple",
        "ParamError",
        "annotations",
        "math",
        "nb",
        "np",
        "pd",
    }


def test_the_statistics_kernel_is_handed_writable_arrays_whatever_the_caller_holds():
    """A loaded price set's arrays are read-only; the study kernels hand the same kernel writable buffers. numba
    compiles a function once per array type, so compute_stats hands it writable copies: one compilation."""
    from numba import types

    from shortthehype.core import metrics_nb
    from shortthehype.metrics import compute_stats

    index = pd.bdate_range("2022-01-03", periods=60)
    values, level, held, traded, trades = (np.linspace(100.0, 130.0, 60), np.linspace(50.0, 55.0, 60),
                                           np.full(60, 0.8), np.full(60, 0.01), np.array([0.1, -0.05]))
    for array in (values, level, held, traded, trades):
        array.flags.writeable = False
    stats = compute_stats(pd.Series(values, index=index), benchmark=pd.Series(level, index=index),
                          gross_exposure=pd.Series(held, index=index), turnover=pd.Series(traded, index=index),
                          trade_returns=trades)
    assert stats["total_return"] == pytest.approx(0.3)
    for signature in metrics_nb.backtest_stats_nb.signatures:
        assert not any(isinstance(arg, types.Array) and not arg.mutable for arg in signature), signature
