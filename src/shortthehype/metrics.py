"""Performance metrics of a backtest: one small function per metric, and :func:`compute_stats`.

Every metric matches empyrical-reloaded (0.7) wherever empyrical defines it,
including its edge cases, and the tests compare the two to 1e-10:

* **Returns** are simple per-period returns (0.01 = +1 %) in an ndarray,
  Series or, for single-series metrics, a DataFrame / 2-D array (one value
  per column; a Series indexed by the columns for a DataFrame).
* **Annualisation** uses ``periods_per_year`` periods a year, 252 by default
  (daily bars); CAGR counts ``n / periods_per_year`` years.
* **NaN** is a missing observation and is skipped (empyrical's
  nan-functions); it still counts as a bar of calendar in CAGR's years and
  in the "fewer than 2 returns" guards.  Total return and drawdowns treat it
  as a zero return.
* **Fractions**: returns, CAGR, volatility, drawdowns, VaR, exposure, win
  rate and alpha are fractions (0.25 = 25 %); ratios are pure numbers.

Deliberate differences from empyrical, each stated where it applies:
``value_at_risk`` skips NaN (empyrical's ``np.percentile`` returns NaN for
any NaN, while its own CVaR skips them); ``skew`` and ``kurtosis`` are
scipy's biased estimators with NaN omitted (empyrical lists
``scipy.stats.skew/kurtosis`` with their NaN-propagating default);
``information_ratio`` is empyrical's ``excess_sharpe`` annualised by
``sqrt(periods_per_year)``; returns equal to within 1e-12 count as
identical in the Sharpe, Sortino, volatility and information ratios
(empyrical only treats bitwise-equal values so, and turns float noise into
arbitrary finite ratios).

Sums are sequential in the numba kernels (:mod:`shortthehype.core.metrics_nb`),
so values can differ from numpy's pairwise sums in the last bits.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from shortthehype.constants import ANNUALIZATION, REPORT_ROLLING_WINDOW, STATS_KEYS, VAR_CUTOFF
from shortthehype.core import metrics_nb as nb
from shortthehype.errors import ParamError

__all__ = [
    "ALL_STATS_KEYS",
    "BANKRUPT_UNDEFINED_KEYS",
    "BENCHMARK_STATS_KEYS",
    "DrawdownPositions",
    "PERCENT_KEYS",
    "STATS_KEYS",
    "STATS_LABELS",
    "Stats",
    "TRADE_STATS_KEYS",
    "alpha",
    "annual_turnover",
    "annual_volatility",
    "avg_trade_return",
    "best_day",
    "beta",
    "cagr",
    "calmar_ratio",
    "compute_stats",
    "conditional_value_at_risk",
    "correlation",
    "downside_risk",
    "drawdown_table",
    "excess_sharpe",
    "exposure",
    "information_ratio",
    "kurtosis",
    "max_drawdown",
    "max_drawdown_duration",
    "max_drawdown_positions",
    "monthly_returns",
    "omega_ratio",
    "period_returns",
    "profit_factor",
    "returns_from_equity",
    "rolling_beta",
    "rolling_sharpe",
    "sharpe_ratio",
    "skew",
    "sortino_ratio",
    "stats_series",
    "stability_of_timeseries",
    "tail_ratio",
    "total_return",
    "trade_stats",
    "value_at_risk",
    "win_rate",
    "worst_day",
]

ArrayLike = np.ndarray | pd.Series | pd.DataFrame


#: Ratios that are undefined (NaN, shown as "bankrupt") for a ruined account: a
#: run that lost everything has no meaningful risk-adjusted return, whatever its
#: returns before the ruin looked like.
BANKRUPT_UNDEFINED_KEYS: tuple[str, ...] = ("sharpe", "sortino", "calmar", "omega", "tail_ratio", "information_ratio")

#: Keys :func:`compute_stats` adds after :data:`STATS_KEYS` when given a benchmark.
BENCHMARK_STATS_KEYS: tuple[str, ...] = (
    "beta",
    "alpha",
    "correlation",
    "information_ratio",
    "benchmark_total_return",
    "benchmark_cagr",
    "benchmark_sharpe",
    "benchmark_max_drawdown",
)

#: :data:`STATS_KEYS` then :data:`BENCHMARK_STATS_KEYS`: the order of :func:`~shortthehype.core.metrics_nb.backtest_stats_nb`'s output.
ALL_STATS_KEYS: tuple[str, ...] = STATS_KEYS + BENCHMARK_STATS_KEYS
_UNDEFINED_WHEN_RUINED = np.array([ALL_STATS_KEYS.index(key) for key in BANKRUPT_UNDEFINED_KEYS], dtype=np.int64)

#: Human label with unit of every stats key, for tables.  Keys in
#: :data:`PERCENT_KEYS` hold fractions and are rendered times 100 with "%".
STATS_LABELS: dict[str, str] = {
    "start_value": "Start value",
    "end_value": "End value",
    "total_return": "Total return (%)",
    "cagr": "CAGR (%)",
    "annual_volatility": "Annual volatility (%)",
    "sharpe": "Sharpe ratio",
    "sortino": "Sortino ratio",
    "max_drawdown": "Max drawdown (%)",
    "max_drawdown_duration": "Longest drawdown (bars)",
    "calmar": "Calmar ratio",
    "omega": "Omega ratio",
    "tail_ratio": "Tail ratio",
    "value_at_risk": "Value at risk, 5% historical (%)",
    "cvar": "Conditional VaR, 5% historical (%)",
    "skew": "Skew",
    "kurtosis": "Excess kurtosis",
    "best_day": "Best day (%)",
    "worst_day": "Worst day (%)",
    "win_rate": "Win rate (%)",
    "profit_factor": "Profit factor",
    "avg_trade_return": "Average trade return (%)",
    "n_trades": "Closed trades",
    "exposure": "Exposure time (%)",
    "turnover": "Annual turnover (x equity)",
    "beta": "Beta",
    "alpha": "Alpha, annualised (%)",
    "correlation": "Correlation",
    "information_ratio": "Information ratio, annualised",
    "benchmark_total_return": "Benchmark total return (%)",
    "benchmark_cagr": "Benchmark CAGR (%)",
    "benchmark_sharpe": "Benchmark Sharpe ratio",
    "benchmark_max_drawdown": "Benchmark max drawdown (%)",
}

#: Stats keys whose values are fractions to render as percentages.
PERCENT_KEYS: frozenset[str] = frozenset(
    {
        "total_return",
        "cagr",
        "annual_volatility",
        "max_drawdown",
        "value_at_risk",
        "cvar",
        "best_day",
        "worst_day",
        "win_rate",
        "avg_trade_return",
        "exposure",
        "alpha",
        "benchmark_total_return",
        "benchmark_cagr",
        "benchmark_max_drawdown",
    }
)


class DrawdownPositions(NamedTuple):
    """The deepest drawdown of a return series and where it happened.

    Positions index the equity curve implied by the returns: 0 is the value
    before the first return and ``i`` the value after the ``i``-th return
    (for an equity series of ``n + 1`` bars, its own bar numbers).
    """

    depth: float  #: the drawdown, a negative fraction (0.0 when there is none)
    peak: int  #: last position at the running peak before the trough (-1 when none)
    trough: int  #: position of the lowest point (-1 when none)
    recovery: int  #: first position back at or above the peak (-1 when not recovered)
    duration: int  #: bars from peak to recovery, or to the last position when not recovered


# ---------------------------------------------------------------------------
# input checks
# ---------------------------------------------------------------------------


def _to_values(x: Any, name: str, *, allow_2d: bool = True) -> tuple[np.ndarray, pd.Index | None]:
    """float64 contiguous values of ``x`` and, for a DataFrame, its columns."""
    if isinstance(x, pd.DataFrame):
        if not allow_2d:
            raise ParamError(f"{name} must be one series (ndarray or Series), got a DataFrame")
        columns: pd.Index | None = x.columns
    else:
        columns = None
    try:
        if isinstance(x, (pd.Series, pd.DataFrame)):
            values = x.to_numpy(dtype=np.float64, na_value=np.nan)
        else:
            values = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise ParamError(f"{name} must hold numbers, got {type(x).__name__}") from None
    if values.ndim == 0:
        raise ParamError(f"{name} must be an array or Series of values, got the scalar {x!r}")
    values = np.ascontiguousarray(values)
    if values.ndim > 2 or (values.ndim == 2 and not allow_2d):
        kind = "1-D" if not allow_2d else "1-D or 2-D"
        raise ParamError(f"{name} must be {kind}, got an array of shape {values.shape}")
    return values, columns


def _periods(periods_per_year: Any) -> float:
    if isinstance(periods_per_year, bool) or not isinstance(periods_per_year, (int, float, np.integer, np.floating)):
        raise ParamError(f"periods_per_year must be a positive number (252 for daily bars), got {periods_per_year!r}")
    value = float(periods_per_year)
    if not (math.isfinite(value) and value > 0):
        raise ParamError(f"periods_per_year must be a positive number (252 for daily bars), got {periods_per_year!r}")
    return value


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ParamError(f"{name} must be a number, got {value!r}")
    out = float(value)
    if not math.isfinite(out):
        raise ParamError(f"{name} must be finite, got {value!r}")
    return out


def _cutoff(cutoff: Any) -> float:
    value = _number(cutoff, "cutoff")
    if not 0.0 < value < 1.0:
        raise ParamError(f"cutoff must be a tail probability in (0, 1), e.g. 0.05, got {cutoff!r}")
    return value


def _apply(x: ArrayLike, name: str, kernel_1d: Callable, *args: Any) -> Any:
    """Run a 1-D kernel on a series, or on each column of a 2-D input."""
    values, columns = _to_values(x, name)
    if values.ndim == 1:
        return float(kernel_1d(values, *args))
    return _per_column(kernel_1d, values, columns, *args)


def _per_column(kernel_1d: Callable, values: np.ndarray, columns: pd.Index | None, *args: Any) -> Any:
    """``kernel_1d`` on each column of ``values`` (copied to Fortran order: each column is a contiguous array,
    the type the 1-D call compiled for); a Series over ``columns`` when given."""
    values = np.asfortranarray(values)
    out = np.array([kernel_1d(values[:, c], *args) for c in range(values.shape[1])], dtype=np.float64)
    return pd.Series(out, index=columns, dtype=np.float64) if columns is not None else out


def _paired(returns: ArrayLike, benchmark_returns: ArrayLike) -> tuple[np.ndarray, np.ndarray, pd.Index | None]:
    """Strategy values (1-D or 2-D) and a 1-D benchmark on the same rows.

    Two pandas objects are aligned on the union of their indexes (empyrical's
    ``_aligned_series``); otherwise the rows are paired by position and the
    lengths must match.
    """
    if isinstance(benchmark_returns, pd.DataFrame):
        raise ParamError("benchmark_returns must be one series (ndarray or Series), got a DataFrame")
    if isinstance(returns, (pd.Series, pd.DataFrame)) and isinstance(benchmark_returns, pd.Series):
        if not returns.index.is_unique or not benchmark_returns.index.is_unique:
            raise ParamError("returns and benchmark_returns must have unique index labels to be aligned")
        returns, benchmark_returns = returns.align(benchmark_returns, join="outer", axis=0)
    values, columns = _to_values(returns, "returns")
    bench, _ = _to_values(benchmark_returns, "benchmark_returns", allow_2d=False)
    if bench.shape[0] != values.shape[0]:
        raise ParamError(
            f"returns has {values.shape[0]} rows but benchmark_returns has {bench.shape[0]}; "
            "pass Series to align them on dates"
        )
    return values, bench, columns


def _apply_paired(returns: ArrayLike, benchmark_returns: ArrayLike, kernel_1d: Callable, *args: Any) -> Any:
    values, bench, columns = _paired(returns, benchmark_returns)
    if values.ndim == 1:
        return float(kernel_1d(values, bench, *args))
    return _per_column(kernel_1d, values, columns, bench, *args)


# ---------------------------------------------------------------------------
# equity -> returns
# ---------------------------------------------------------------------------


def returns_from_equity(equity: np.ndarray | pd.Series) -> np.ndarray | pd.Series:
    """Simple per-bar returns of an equity curve, undefined after ruin.

    Parameters
    ----------
    equity : ndarray or Series
        Account value per bar, in money.

    Returns
    -------
    ndarray or Series
        ``equity[i + 1] / equity[i] - 1``, one fewer value than ``equity``
        (a Series keeps the dates of the later bar).  Ruin is the first bar
        whose equity is <= 0 (a short that lost more than the account): its
        return is clipped to -1 (all capital lost) and every later return is
        NaN, since a return on a non-positive base is undefined.  An equity
        starting at or below 0 gives only NaN; fewer than 2 values give an
        empty result.
    """
    values, _ = _to_values(equity, "equity", allow_2d=False)
    out = np.empty(max(values.shape[0] - 1, 0))
    nb.equity_to_returns_1d_nb(values, out)
    if isinstance(equity, pd.Series):
        return pd.Series(out, index=equity.index[1:], name=equity.name)
    return out


# ---------------------------------------------------------------------------
# single-series metrics
# ---------------------------------------------------------------------------


def total_return(returns: ArrayLike) -> Any:
    """Compounded total return (fraction), empyrical ``cum_returns_final``.

    Parameters
    ----------
    returns : ndarray, Series or DataFrame
        Simple per-period returns.

    Returns
    -------
    float (or one per column)
        ``prod(1 + r) - 1`` over the non-NaN returns.  NaN for no returns;
        0.0 when every return is NaN or zero.
    """
    return _apply(returns, "returns", nb.total_return_1d_nb)


def cagr(returns: ArrayLike, periods_per_year: float = ANNUALIZATION) -> Any:
    """Compound annual growth rate (fraction per year), empyrical ``cagr`` / ``annual_return``.

    Parameters
    ----------
    returns : ndarray, Series or DataFrame
        Simple per-period returns.
    periods_per_year : float
        Periods in a year (252 for daily bars); years = ``len(returns) / periods_per_year``.

    Returns
    -------
    float (or one per column)
        ``(1 + total_return) ** (1 / years) - 1``.  NaN for no returns or
        when the compounded value is negative (a return below -100 %); -1.0
        when it is exactly 0.  NaN entries count in ``len(returns)``.
    """
    ann = _periods(periods_per_year)
    return _apply(returns, "returns", nb.cagr_1d_nb, ann)


def annual_volatility(returns: ArrayLike, periods_per_year: float = ANNUALIZATION) -> Any:
    """Annualised volatility (fraction), empyrical: ``nanstd(r, ddof=1) * sqrt(periods_per_year)``.

    Returns
    -------
    float (or one per column)
        NaN with fewer than 2 returns or fewer than 2 non-NaN ones; 0.0 for
        constant returns (within 1e-12 of each other; empyrical may leave a
        residue near 1e-17).
    """
    ann = _periods(periods_per_year)
    return _apply(returns, "returns", nb.annual_volatility_1d_nb, ann)


def sharpe_ratio(returns: ArrayLike, risk_free: float = 0.0, periods_per_year: float = ANNUALIZATION) -> Any:
    """Annualised Sharpe ratio, empyrical: ``mean(r - rf) / std(r - rf, ddof=1) * sqrt(periods_per_year)``.

    Parameters
    ----------
    returns : ndarray, Series or DataFrame
        Simple per-period returns.
    risk_free : float
        Risk-free return **per period** (de-annualised, e.g. 0.04 / 252).
    periods_per_year : float
        Periods in a year (252 for daily bars).

    Returns
    -------
    float (or one per column)
        NaN with fewer than 2 returns, fewer than 2 non-NaN ones, or when every
        excess return is zero; +-inf when every excess return is the same
        nonzero value (zero deviation, as empyrical).  Values within 1e-12
        of each other count as the same (float noise, e.g. returns
        of an equity growing at a constant rate); empyrical only treats
        bitwise-identical values so and returns a noise-driven number there.
    """
    ann = _periods(periods_per_year)
    rf = _number(risk_free, "risk_free")
    return _apply(returns, "returns", nb.sharpe_ratio_1d_nb, rf, ann)


def downside_risk(returns: ArrayLike, required_return: float = 0.0, periods_per_year: float = ANNUALIZATION) -> Any:
    """Annualised downside deviation (fraction), empyrical ``downside_risk``.

    ``sqrt(mean(min(r - required_return, 0) ** 2)) * sqrt(periods_per_year)``
    with the mean over **all** non-NaN observations (a gain counts as 0).
    ``required_return`` is per period.  NaN for no returns or all NaN.
    """
    ann = _periods(periods_per_year)
    req = _number(required_return, "required_return")
    return _apply(returns, "returns", nb.downside_risk_1d_nb, req, ann)


def sortino_ratio(returns: ArrayLike, required_return: float = 0.0, periods_per_year: float = ANNUALIZATION) -> Any:
    """Annualised Sortino ratio, empyrical: ``mean(r - req) * periods_per_year / downside_risk``.

    Parameters
    ----------
    returns : ndarray, Series or DataFrame
        Simple per-period returns.
    required_return : float
        Minimum acceptable return **per period**.
    periods_per_year : float
        Periods in a year (252 for daily bars).

    Returns
    -------
    float (or one per column)
        NaN with fewer than 2 returns, or all zero excess returns; +inf when
        no return is below ``required_return`` and the mean excess is positive.
    """
    ann = _periods(periods_per_year)
    req = _number(required_return, "required_return")
    return _apply(returns, "returns", nb.sortino_ratio_1d_nb, req, ann)


def max_drawdown(returns: ArrayLike) -> Any:
    """Maximum drawdown (negative fraction), empyrical: the peak includes the starting value.

    The equity starts at 1 before the first return, NaN returns count as 0.

    Returns
    -------
    float (or one per column)
        ``min(equity / running_peak - 1)``, 0.0 when the equity never falls
        below a previous peak, NaN for no returns.
    """
    return _apply(returns, "returns", nb.max_drawdown_1d_nb)


def max_drawdown_duration(returns: ArrayLike) -> Any:
    """Longest drawdown, in bars (not necessarily the deepest one).

    A drawdown lasts from the last bar at the running peak to the first bar
    back at or above it (a one-bar dip lasts 2 bars, the backtesting.py and
    vectorbt convention); one still open at the end lasts to the last bar.
    Empyrical has no such metric.

    Returns
    -------
    float (or one per column)
        0.0 without drawdown, NaN for no returns.
    """
    return _apply(returns, "returns", lambda v: nb.max_drawdown_duration_1d_nb(v)[0])


def max_drawdown_positions(returns: np.ndarray | pd.Series) -> DrawdownPositions:
    """Depth and positions (peak, trough, recovery) of the deepest drawdown.

    Parameters
    ----------
    returns : ndarray or Series
        Simple per-period returns (one series).

    Returns
    -------
    DrawdownPositions
        Positions on the implied equity curve (0 = before the first return);
        ``duration`` is the length of this drawdown in bars (peak to recovery,
        or to the last position if not recovered).  Without any drawdown:
        depth 0.0, positions -1, duration 0; no returns: depth NaN.
    """
    values, _ = _to_values(returns, "returns", allow_2d=False)
    depth, peak, trough, recovery = nb.max_drawdown_positions_1d_nb(values)
    if trough < 0:
        duration = 0
    else:
        duration = (recovery if recovery >= 0 else values.shape[0]) - peak
    return DrawdownPositions(float(depth), int(peak), int(trough), int(recovery), int(duration))


def calmar_ratio(returns: ArrayLike, periods_per_year: float = ANNUALIZATION) -> Any:
    """Calmar ratio, empyrical: ``cagr / |max_drawdown|``.

    Returns
    -------
    float (or one per column)
        NaN without a drawdown (max drawdown 0), for no returns, or when the
        ratio would be infinite.
    """
    ann = _periods(periods_per_year)
    return _apply(returns, "returns", nb.calmar_ratio_1d_nb, ann)


def omega_ratio(
    returns: ArrayLike,
    risk_free: float = 0.0,
    required_return: float = 0.0,
    periods_per_year: float = ANNUALIZATION,
) -> Any:
    """Omega ratio, empyrical: gains over losses of ``r - risk_free - threshold``.

    Parameters
    ----------
    returns : ndarray, Series or DataFrame
        Simple per-period returns.
    risk_free : float
        Risk-free return per period.
    required_return : float
        Minimum acceptable **annual** return; the per-period threshold is
        ``(1 + required_return) ** (1 / periods_per_year) - 1`` (used as is
        when ``periods_per_year == 1``).
    periods_per_year : float
        Periods in a year (252 for daily bars).

    Returns
    -------
    float (or one per column)
        ``sum(max(x, 0)) / sum(max(-x, 0))``.  NaN with fewer than 2 returns,
        ``required_return <= -1`` or no period below the threshold.  With
        both rates 0 it is the per-period profit factor.
    """
    ann = _periods(periods_per_year)
    rf = _number(risk_free, "risk_free")
    req = _number(required_return, "required_return")
    return _apply(returns, "returns", nb.omega_ratio_1d_nb, rf, req, ann)


def tail_ratio(returns: ArrayLike) -> Any:
    """Tail ratio, empyrical: ``|95th percentile| / |5th percentile|`` of the non-NaN returns.

    Percentiles are numpy's default (linear interpolation).  0.25 means the
    left tail is four times the right one.  NaN for no non-NaN returns; inf
    when the 5th percentile is 0.
    """
    return _apply(returns, "returns", nb.tail_ratio_1d_nb)


def value_at_risk(returns: ArrayLike, cutoff: float = VAR_CUTOFF) -> Any:
    """Historical value at risk (a return, fraction): the ``cutoff`` quantile of the returns.

    Empyrical's historical definition, ``np.percentile(returns, 100 * cutoff)``
    (linear interpolation), not a parametric (normal) VaR.  The value is a
    return, so a loss is negative: -0.03 means "on the worst 5 % of days the
    loss is at least 3 %".  Unlike empyrical, which returns NaN if any return
    is NaN, NaN returns are skipped (as empyrical's own CVaR does).  NaN for
    no non-NaN returns.
    """
    c = _cutoff(cutoff)
    return _apply(returns, "returns", nb.value_at_risk_1d_nb, c)


def conditional_value_at_risk(returns: ArrayLike, cutoff: float = VAR_CUTOFF) -> Any:
    """Historical conditional VaR / expected shortfall (a return, fraction), empyrical's definition.

    The mean of the ``int((n - 1) * cutoff) + 1`` lowest of the ``n``
    non-NaN returns; always <= :func:`value_at_risk`.  NaN for no non-NaN
    returns.
    """
    c = _cutoff(cutoff)
    return _apply(returns, "returns", nb.conditional_value_at_risk_1d_nb, c)


def skew(returns: ArrayLike) -> Any:
    """Skewness of the non-NaN returns: ``scipy.stats.skew(returns, nan_policy="omit")``.

    Biased (Fisher-Pearson) estimator ``m3 / m2 ** 1.5``.  NaN for fewer
    than 2 non-NaN values or when all are equal.
    """
    return _apply(returns, "returns", nb.skew_1d_nb)


def kurtosis(returns: ArrayLike) -> Any:
    """Excess kurtosis of the non-NaN returns: ``scipy.stats.kurtosis(returns, nan_policy="omit")``.

    Biased estimator ``m4 / m2 ** 2 - 3`` (0 for a normal distribution, as
    empyrical's use of scipy's default Fisher definition).  NaN for fewer
    than 2 non-NaN values or when all are equal.
    """
    return _apply(returns, "returns", nb.kurtosis_1d_nb)


def best_day(returns: ArrayLike) -> Any:
    """Best period return (fraction): the largest non-NaN return; NaN when there is none."""
    return _apply(returns, "returns", nb.nanmax_1d_nb)


def worst_day(returns: ArrayLike) -> Any:
    """Worst period return (fraction): the smallest non-NaN return; NaN when there is none."""
    return _apply(returns, "returns", nb.nanmin_1d_nb)


def stability_of_timeseries(returns: ArrayLike) -> Any:
    """R-squared of a linear fit to the cumulative log returns, empyrical ``stability_of_timeseries``.

    1.0 for steady compounding.  NaN values are dropped first; NaN for
    fewer than 2 returns or 2 non-NaN ones, and when every return is 0.
    """
    return _apply(returns, "returns", nb.stability_of_timeseries_1d_nb)


# ---------------------------------------------------------------------------
# trades, exposure, turnover
# ---------------------------------------------------------------------------


def win_rate(trade_returns: ArrayLike) -> Any:
    """Fraction of trades with a positive return.

    Parameters
    ----------
    trade_returns : ndarray, Series or DataFrame
        One return per closed trade (fraction, net of costs).  Any returns
        work: per-period returns give the fraction of winning periods
        (empyrical has no such metric).  NaN entries are ignored (a DataFrame
        may pad columns of different trade counts with NaN).

    Returns
    -------
    float (or one per column)
        ``#(r > 0) / #(non-NaN r)``: a flat trade counts as not winning.
        NaN for no trades.
    """
    return _apply(trade_returns, "trade_returns", nb.win_rate_1d_nb)


def profit_factor(trade_returns: ArrayLike) -> Any:
    """Sum of winning trade returns over the absolute sum of losing ones.

    Each trade weighs by its return, not its money PnL (the backtesting.py
    definition).  On per-period returns this is empyrical's ``omega_ratio``
    with zero thresholds.

    Returns
    -------
    float (or one per column)
        NaN when no trade lost (as backtesting.py and empyrical's omega),
        0.0 when some lost and none won.
    """
    return _apply(trade_returns, "trade_returns", nb.profit_factor_1d_nb)


def avg_trade_return(trade_returns: ArrayLike) -> Any:
    """Arithmetic mean of the non-NaN trade returns (fraction); NaN for no trades.

    backtesting.py reports a geometric mean instead; the two differ by about
    half the variance of the trade returns.
    """
    return _apply(trade_returns, "trade_returns", nb.nanmean_1d_nb)


def exposure(gross_exposure: ArrayLike) -> Any:
    """Time in market: fraction of bars with nonzero gross exposure.

    Parameters
    ----------
    gross_exposure : ndarray, Series or DataFrame
        Per bar, the gross exposure (sum of absolute position values, in any
        unit: money or a fraction of equity); only zero versus nonzero matters.

    Returns
    -------
    float (or one per column)
        ``#(x != 0) / #(non-NaN x)``; NaN bars are left out, NaN when none.
    """
    return _apply(gross_exposure, "gross_exposure", nb.exposure_1d_nb)


def annual_turnover(turnover: ArrayLike, periods_per_year: float = ANNUALIZATION) -> Any:
    """Annualised turnover, as a multiple of equity per year.

    Parameters
    ----------
    turnover : ndarray, Series or DataFrame
        Per bar, the traded notional (buys plus sells, absolute, in money)
        divided by the equity at that bar.  Buying 100 % of equity and later
        selling it is 2.0 in total.
    periods_per_year : float
        Periods in a year (252 for daily bars).

    Returns
    -------
    float (or one per column)
        ``mean(turnover) * periods_per_year`` over the non-NaN bars: 2.0 means
        the portfolio traded twice its value per year (e.g. one full round
        trip).  NaN when there is no non-NaN bar.
    """
    ann = _periods(periods_per_year)
    return _apply(turnover, "turnover", nb.annual_turnover_1d_nb, ann)


# ---------------------------------------------------------------------------
# against a benchmark
# ---------------------------------------------------------------------------


def beta(returns: ArrayLike, benchmark_returns: np.ndarray | pd.Series) -> Any:
    """Beta to a benchmark, empyrical: ``cov(r, b) / var(b)`` over the periods where both exist.

    Parameters
    ----------
    returns : ndarray, Series or DataFrame
        Simple per-period returns of the strategy.
    benchmark_returns : ndarray or Series
        Simple per-period returns of the benchmark.  Two pandas objects are
        aligned on the union of their dates (missing = NaN); otherwise rows
        pair by position and the lengths must match.

    Returns
    -------
    float (or one per column)
        NaN with fewer than 2 periods, no common period, or a benchmark
        variance below 1e-30.
    """
    return _apply_paired(returns, benchmark_returns, nb.beta_1d_nb)


def alpha(
    returns: ArrayLike,
    benchmark_returns: np.ndarray | pd.Series,
    risk_free: float = 0.0,
    periods_per_year: float = ANNUALIZATION,
) -> Any:
    """Annualised Jensen alpha (fraction per year), empyrical ``alpha``.

    ``(1 + mean(r - rf - beta * (b - rf))) ** periods_per_year - 1`` with
    :func:`beta`, the mean over the periods where both exist, ``risk_free``
    per period.  Alignment as in :func:`beta`; NaN with fewer than 2 periods
    or when beta is NaN.
    """
    ann = _periods(periods_per_year)
    rf = _number(risk_free, "risk_free")
    return _apply_paired(returns, benchmark_returns, nb.alpha_1d_nb, rf, ann)


def correlation(returns: ArrayLike, benchmark_returns: np.ndarray | pd.Series) -> Any:
    """Pearson correlation with the benchmark over the periods where both exist.

    Alignment as in :func:`beta`; NaN with fewer than 2 common periods or
    when either side is constant.  Empyrical has no such metric (it equals
    ``pandas.Series.corr``).
    """
    return _apply_paired(returns, benchmark_returns, nb.correlation_1d_nb)


def excess_sharpe(returns: ArrayLike, benchmark_returns: np.ndarray | pd.Series) -> Any:
    """Per-period information ratio, empyrical ``excess_sharpe``: ``mean(r - b) / std(r - b, ddof=1)``.

    Not annualised (see :func:`information_ratio`).  Alignment as in
    :func:`beta`; NaN with fewer than 2 periods; +-inf when every active
    return is the same nonzero value, NaN when all are zero.  "The same"
    allows float noise of 1e-12, so a buy-and-hold equity against its own
    asset gives NaN, not a number made of rounding errors (empyrical returns
    the latter).
    """
    return _apply_paired(returns, benchmark_returns, nb.excess_sharpe_1d_nb)


def information_ratio(
    returns: ArrayLike, benchmark_returns: np.ndarray | pd.Series, periods_per_year: float = ANNUALIZATION
) -> Any:
    """Annualised information ratio: ``mean(r - b) / std(r - b, ddof=1) * sqrt(periods_per_year)``.

    empyrical-reloaded has no information ratio; this is its
    :func:`excess_sharpe` (mean active return over tracking error) scaled
    like the Sharpe ratio, so the two are comparable.  Edge cases as
    :func:`excess_sharpe`.
    """
    ann = _periods(periods_per_year)
    return _apply_paired(returns, benchmark_returns, nb.information_ratio_1d_nb, ann)


# ---------------------------------------------------------------------------
# compute_stats
# ---------------------------------------------------------------------------


def _equity_values(equity: Any) -> tuple[np.ndarray, pd.Index | None, int]:
    """Validated equity values after the leading NaNs, its index (if a Series) and how many were dropped."""
    if isinstance(equity, pd.DataFrame):
        raise ParamError("equity must be one series (a Series of account values), got a DataFrame")
    values, _ = _to_values(equity, "equity", allow_2d=False)
    valid = ~np.isnan(values)
    if not valid.any():
        raise ParamError("equity is empty or all NaN; compute_stats needs at least one account value")
    offset = int(np.argmax(valid))
    values = values[offset:]
    index = equity.index[offset:] if isinstance(equity, pd.Series) else None
    bad = ~np.isfinite(values)
    if bad.any():
        where = _where(index, int(np.argmax(bad)) + offset, offset)
        raise ParamError(f"equity is NaN or infinite at {where}; an equity curve must be finite after its first value")
    if values[0] <= 0:
        where = _where(index, offset, offset)
        raise ParamError(f"equity starts at {values[0]:g} at {where}; the starting value must be positive")
    return values, index, offset


def _where(index: pd.Index | None, position: int, offset: int) -> str:
    if index is not None:
        return str(index[position - offset])
    return f"position {position}"


def _aux(x: Any, name: str, equity: Any, index: pd.Index | None, offset: int) -> np.ndarray:
    """An input per equity bar on the equity's bars (after its leading NaNs)."""
    if isinstance(x, pd.DataFrame):
        raise ParamError(f"{name} must be one series per bar, got a DataFrame")
    if isinstance(x, pd.Series) and index is not None:
        if not x.index.is_unique:
            raise ParamError(f"{name} has duplicate dates; it must have one value per equity bar")
        values, _ = _to_values(x.reindex(index), name, allow_2d=False)
        return values
    values, _ = _to_values(x, name, allow_2d=False)
    if values.shape[0] != len(equity):
        raise ParamError(
            f"{name} has {values.shape[0]} values but equity has {len(equity)}; pass Series to align on dates"
        )
    return values[offset:]


def _benchmark_prices(benchmark: Any, equity: Any, index: pd.Index | None, offset: int) -> np.ndarray:
    prices = _aux(benchmark, "benchmark", equity, index, offset)
    if np.isinf(prices).any():
        raise ParamError("benchmark has infinite prices; it must be a price (level) series")
    nonpositive = prices <= 0
    if nonpositive.any():
        where = _where(index, int(np.argmax(nonpositive)) + offset, offset)
        raise ParamError(
            f"benchmark is {prices[nonpositive][0]:g} at {where}; it must be a positive price level "
            "(pass prices, not returns)"
        )
    if np.isnan(prices).all():
        raise ParamError("benchmark has no price on the equity's dates; check its dates and ticker")
    return prices


class Stats(pd.Series):
    """Statistics by key (a float Series): ``stats["sharpe"]``, ``stats.get("cagr")``, ``dict(stats)`` all work.

    Iterating it yields the keys, as the dict it replaced did (a plain Series yields values).

    Its repr writes each value as the reports do (percentages for the
    fractions of :data:`PERCENT_KEYS`); arithmetic and selections give plain
    Series.
    """

    @property
    def _constructor(self) -> type[pd.Series]:
        return pd.Series

    def __iter__(self) -> Any:
        """The keys, as iterating the dict it replaces did (``set(stats)``, ``for key in stats``)."""
        return iter(self.index)

    def items(self) -> Any:
        return zip(self.index, self._values)

    def __repr__(self) -> str:
        from shortthehype.report.formatting import stat

        width = max((len(str(k)) for k in self.index), default=0)
        lines = [f"{str(key).ljust(width)}  {stat(str(key), value):>14}" for key, value in self.items()]
        header = [str(self.name)] if self.name is not None else []
        return "\n".join(header + lines)


def stats_series(stats: Any, name: str | None = None) -> Stats:
    """``stats`` (a mapping of floats) as :class:`Stats`."""
    stats = dict(stats)
    return Stats(np.fromiter(stats.values(), dtype=np.float64, count=len(stats)), index=list(stats), name=name)


# ---------------------------------------------------------------------------
# tables: drawdown periods, calendar returns, rolling ratios, per-trade statistics
# ---------------------------------------------------------------------------


def drawdown_table(equity: pd.Series, top: int = 5) -> pd.DataFrame:
    """The ``top`` deepest drawdowns of an equity curve, deepest first (pyfolio's ``gen_drawdown_table``).

    Parameters
    ----------
    equity : Series
        Account value per bar with a DatetimeIndex (the first value is the first peak).
    top : int
        Rows returned at most.

    Returns
    -------
    DataFrame
        ``peak`` (last date at the running high), ``trough`` (lowest date),
        ``recovery`` (first date back at the peak; NaT if not recovered),
        ``depth`` (trough / peak - 1, a negative fraction) and ``length`` (bars
        from peak to recovery, or to the last bar if not recovered, as
        :func:`max_drawdown_duration` counts them).  The curve stops at ruin
        (the first value <= 0, depth -100 %).  Without a drawdown: no rows.
    """
    if not isinstance(equity, pd.Series):
        raise ParamError("drawdown_table: equity must be a Series with dates")
    if top < 1:
        raise ParamError(f"drawdown_table: top must be >= 1, got {top}")
    values = equity.to_numpy(dtype=np.float64)
    ruined = np.flatnonzero(values <= 0.0)
    if ruined.size:
        values = values[: ruined[0] + 1].copy()
        values[-1] = 0.0
    dates = equity.index[: values.size]
    peaks = np.fmax.accumulate(values)
    under = values < peaks
    rows = []
    n = values.size
    start = 0
    while start < n:
        if not under[start]:
            start += 1
            continue
        stop = start
        while stop < n and under[stop]:
            stop += 1
        peak = start - 1
        trough = start + int(np.argmin(values[start:stop]))
        recovered = stop < n
        rows.append(
            {
                "peak": dates[peak],
                "trough": dates[trough],
                "recovery": dates[stop] if recovered else pd.NaT,
                "depth": values[trough] / values[peak] - 1.0,
                "length": (stop if recovered else n - 1) - peak,
            }
        )
        start = stop
    columns = ["peak", "trough", "recovery", "depth", "length"]
    table = pd.DataFrame(rows, columns=columns)
    if table.empty:
        return table
    return table.sort_values("depth", kind="stable").head(top).reset_index(drop=True)


def period_returns(returns: pd.Series, freq: str) -> pd.Series:
    """Per-bar returns compounded within each calendar month (``"M"``) or year (``"Y"``).

    Indexed by ``(year, month)`` pairs or years; NaN for a period whose
    returns are all missing (empyrical's ``aggregate_returns``).
    """
    growth = 1.0 + returns
    index = pd.DatetimeIndex(returns.index)
    keys = [index.year, index.month] if freq == "M" else [index.year]
    return growth.groupby(keys).prod(min_count=1) - 1.0


def monthly_returns(returns: pd.Series) -> pd.DataFrame:
    """Compounded returns by month: one row per year, columns 1..12 and ``year`` (the year's compounded return).

    A month without any return is NaN.  Fractions (0.02 = +2 %).
    """
    if not isinstance(returns, pd.Series) or not isinstance(returns.index, pd.DatetimeIndex):
        raise ParamError("monthly_returns: returns must be a Series with a DatetimeIndex")
    months = period_returns(returns, "M").unstack()
    months = months.reindex(columns=range(1, 13))
    months.index.name = "year"
    months.columns.name = "month"
    months["year"] = period_returns(returns, "Y")
    return months


def rolling_sharpe(returns: pd.Series, window: int = REPORT_ROLLING_WINDOW, risk_free: float = 0.0, periods_per_year: float = ANNUALIZATION) -> pd.Series:
    """Annualised Sharpe ratio of the last ``window`` returns at each bar (empyrical's ``roll_sharpe_ratio``).

    NaN before the first full window and where a window holds a missing return.
    """
    values = _rolling_input(returns, window)
    out = np.full(values.shape[0], np.nan)
    if values.shape[0] >= window:
        columns = np.ascontiguousarray(np.lib.stride_tricks.sliding_window_view(values, window).T)
        sharpe = np.asarray(sharpe_ratio(columns, risk_free, periods_per_year), dtype=np.float64)
        missing = np.concatenate(([0], np.cumsum(np.isnan(values))))
        complete = (missing[window:] - missing[:-window]) == 0
        out[window - 1 :] = np.where(complete, sharpe, np.nan)
    return pd.Series(out, index=returns.index, name="rolling_sharpe")


def rolling_beta(returns: pd.Series, benchmark_returns: pd.Series, window: int = REPORT_ROLLING_WINDOW) -> pd.Series:
    """Beta to the benchmark over the last ``window`` bars at each bar (empyrical's ``roll_beta``).

    The two series are aligned on the returns' dates; NaN before the first
    full window and where a window holds a missing return of either.
    """
    values = _rolling_input(returns, window)
    bench = benchmark_returns.reindex(returns.index).to_numpy(dtype=np.float64)
    out = np.full(values.shape[0], np.nan)
    both = np.isnan(values) | np.isnan(bench)
    missing = np.concatenate(([0], np.cumsum(both)))
    for end in range(window, values.shape[0] + 1):
        if missing[end] == missing[end - window]:
            out[end - 1] = nb.beta_1d_nb(values[end - window : end], bench[end - window : end])
    return pd.Series(out, index=returns.index, name="rolling_beta")


def _rolling_input(returns: Any, window: int) -> np.ndarray:
    if not isinstance(returns, pd.Series):
        raise ParamError("rolling statistics need returns as a Series")
    if int(window) != window or window < 2:
        raise ParamError(f"rolling window must be an integer >= 2 bars, got {window!r}")
    return returns.to_numpy(dtype=np.float64)


#: Keys of :func:`trade_stats`, in display order.
TRADE_STATS_KEYS = (
    "n_trades", "win_rate", "avg_win", "avg_loss", "best_trade", "worst_trade", "expectancy", "sqn",
    "avg_holding_bars", "avg_holding_days",
)


def trade_stats(trades: pd.DataFrame) -> pd.Series:
    """Statistics of closed round trips (``Result.trades`` with ``status == "closed"``, or any such frame).

    Parameters
    ----------
    trades : DataFrame
        Columns ``return`` (fraction, net of costs), ``pnl`` (money),
        ``entry_date``, ``exit_date``, and optionally ``holding_bars``.

    Returns
    -------
    Series (:data:`TRADE_STATS_KEYS`)
        ``avg_win``/``avg_loss``: mean return of winning (> 0) / losing (< 0)
        trades; ``best_trade``/``worst_trade``: extreme returns;
        ``expectancy``: mean return per trade (= win rate x avg win + loss
        rate x avg loss); ``sqn``: Van Tharp's system quality number,
        ``sqrt(n) x mean(pnl) / std(pnl)`` (ddof 1, as backtesting.py);
        ``avg_holding_bars`` / ``avg_holding_days``: mean bars and calendar
        days from entry to exit.  NaN where undefined (no trades, no winner,
        fewer than 2 trades for the SQN).
    """
    ret = trades["return"].to_numpy(dtype=np.float64)
    pnl = trades["pnl"].to_numpy(dtype=np.float64)
    n = ret.shape[0]
    wins, losses = ret[ret > 0], ret[ret < 0]

    def mean(values: np.ndarray) -> float:
        return float(values.mean()) if values.size else math.nan

    std = float(pnl.std(ddof=1)) if n >= 2 else math.nan
    days = (pd.DatetimeIndex(trades["exit_date"]) - pd.DatetimeIndex(trades["entry_date"])).days.to_numpy(dtype=np.float64)
    bars = trades["holding_bars"].to_numpy(dtype=np.float64) if "holding_bars" in trades else np.full(n, np.nan)
    values = {
        "n_trades": float(n),
        "win_rate": wins.size / n if n else math.nan,
        "avg_win": mean(wins),
        "avg_loss": mean(losses),
        "best_trade": float(ret.max()) if n else math.nan,
        "worst_trade": float(ret.min()) if n else math.nan,
        "expectancy": mean(ret),
        "sqn": math.sqrt(n) * float(pnl.mean()) / std if n >= 2 and std > 0 else math.nan,
        "avg_holding_bars": mean(bars),
        "avg_holding_days": mean(days),
    }
    return pd.Series(values, name="trades", dtype=np.float64)


def compute_stats(
    equity: pd.Series,
    *,
    trade_returns: np.ndarray | None = None,
    gross_exposure: pd.Series | None = None,
    turnover: pd.Series | None = None,
    benchmark: pd.Series | None = None,
    risk_free: float = 0.0,
    periods_per_year: int = ANNUALIZATION,
) -> dict[str, float]:
    """Summary statistics of one backtest, as plain floats in display order.

    Parameters
    ----------
    equity : Series (or 1-D ndarray)
        Account value per bar, in money, starting before the first trade.
        Leading NaNs are dropped; the first remaining value must be > 0 and
        every later one finite.
    trade_returns : array-like, optional
        One return per closed trade (fraction); NaN entries are ignored.
        Without it the trade keys are NaN.
    gross_exposure : Series (or ndarray), optional
        Gross exposure per equity bar (only zero versus nonzero matters).
        A Series is aligned on the equity's dates (missing = NaN, left out);
        an ndarray must have the equity's length.  Without it ``exposure`` is NaN.
    turnover : Series (or ndarray), optional
        Per bar, traded notional (buys plus sells) / equity; aligned like
        ``gross_exposure``.  Without it ``turnover`` is NaN.
    benchmark : Series (or ndarray), optional
        Benchmark **price level** (e.g. SPY closes, not returns), aligned on
        the equity's dates; dates the equity lacks are ignored, missing ones
        are NaN and a return then spans the gap (last price to next price).
        With it the :data:`BENCHMARK_STATS_KEYS` are added.
    risk_free : float
        Risk-free return per period (e.g. 0.04 / 252), used by the Sharpe,
        Sortino (as the required return), omega and alpha.
    periods_per_year : int
        Periods in a year (252 for daily bars).

    Returns
    -------
    dict[str, float]
        The :data:`STATS_KEYS` (plus :data:`BENCHMARK_STATS_KEYS` with a
        benchmark), labelled in :data:`STATS_LABELS`:

        * ``start_value``, ``end_value``: first and last equity (money);
          ``total_return = end_value / start_value - 1``, the true value,
          below -1 when a short lost more than the account.
        * Return metrics use the per-bar returns of the equity (see
          :func:`returns_from_equity`) **up to ruin**, the first bar with
          equity <= 0, whose return counts as -100 %: after ruin CAGR and
          max drawdown are -1 and later bars are ignored.  ``exposure`` and
          ``turnover`` also stop at that bar; trades do not.
        * ``sharpe``, ``sortino``, ``calmar``, ``omega`` etc. are the metric
          functions of this module; ``max_drawdown_duration`` is the longest
          drawdown in bars; ``value_at_risk``/``cvar`` are historical at 5 %;
          ``best_day``/``worst_day`` the extreme per-bar returns;
          ``n_trades`` counts the non-NaN trade returns.
        * Benchmark keys: ``beta``, ``alpha``, ``correlation`` and
          ``information_ratio`` pair strategy and benchmark returns bar by
          bar (up to ruin, where both exist); the ``benchmark_*`` keys
          describe the benchmark alone from its first to its last price
          within the equity's dates.

        Equity of a single bar gives ``total_return`` 0.0 and NaN for the
        return metrics.  A ruined account (any equity <= 0) has the
        :data:`BANKRUPT_UNDEFINED_KEYS` NaN.
    """
    ann = _periods(periods_per_year)
    rf = _number(risk_free, "risk_free")
    values, index, offset = _equity_values(equity)
    none = np.empty(0)
    trades = held = traded = bench = none
    if trade_returns is not None:
        trades, _ = _to_values(trade_returns, "trade_returns", allow_2d=False)
    if gross_exposure is not None:
        held = _aux(gross_exposure, "gross_exposure", equity, index, offset)
    if turnover is not None:
        traded = _aux(turnover, "turnover", equity, index, offset)
    if benchmark is not None:
        bench = _benchmark_prices(benchmark, equity, index, offset)
    given = np.array([trade_returns is not None, gross_exposure is not None, turnover is not None,
                      benchmark is not None])
    out = np.empty(len(ALL_STATS_KEYS))
    # writable copies (a loaded price set's and a result's arrays are read-only): the kernel compiles once for these
    # calls and the study kernels', which hand it their own buffers, instead of once per mix of read-only inputs
    values, trades, held, traded, bench = (np.array(a, dtype=np.float64) for a in (values, trades, held, traded, bench))
    nb.backtest_stats_nb(values, trades, held, traded, bench, given, rf, float(ann), VAR_CUTOFF, _UNDEFINED_WHEN_RUINED,
                         out)
    keys = ALL_STATS_KEYS if benchmark is not None else STATS_KEYS
    return {key: float(value) if value == value else np.nan for key, value in zip(keys, out)}  # NaN: the one np.nan
