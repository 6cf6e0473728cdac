"""Performance metrics as numba kernels on plain float64 arrays.

Every metric is written once as a single-series kernel ``*_1d_nb``;
:mod:`shortthehype.metrics` applies it to each column of 2-D input.  The kernels depend on numpy, numba and named constants
only, and allocate nothing except the quantile kernels' sort buffer, so that
sweep kernels can call them from inside other jitted code; the quantile
metrics also come as ``*_sorted_nb`` variants that read an already sorted,
NaN-free buffer (:func:`sort_valid_into_nb`), so a caller can sort once into
its own buffer and read VaR, CVaR and the tail ratio from it.

Conventions (those of empyrical-reloaded 0.7, which the tests compare with):

* ``returns`` are simple per-period returns (0.01 = +1 %), float64.
* NaN means "no observation": the nan-functions of empyrical skip it.  Where
  empyrical counts NaN in a length (the number of years of :func:`cagr_1d_nb`,
  the "fewer than 2 returns" guards) so do these kernels.
* ``ann_factor`` is the number of periods per year (252 for daily bars).
* Ratios follow IEEE/numpy division (``error_model="numpy"``): x/0 is ±inf
  and 0/0 is NaN, exactly as empyrical's ``np.divide`` under ``errstate``.
* Sums are sequential, so results may differ from numpy's pairwise sums and
  from bottleneck in the last bits (relative differences around 1e-15).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from shortthehype.constants import (
    BETA_MIN_VARIANCE,
    DISPERSION_TOL,
    TAIL_RATIO_LOWER_PCT,
    TAIL_RATIO_UPPER_PCT,
)

# ---------------------------------------------------------------------------
# nan-aware building blocks (the bottleneck functions empyrical uses)
# ---------------------------------------------------------------------------


@njit(cache=True, error_model="numpy")
def nanmean_1d_nb(a):
    """Mean of the non-NaN values of ``a``; NaN when there are none."""
    total = 0.0
    count = 0
    for i in range(a.shape[0]):
        x = a[i]
        if not np.isnan(x):
            total += x
            count += 1
    if count == 0:
        return np.nan
    return total / count


@njit(cache=True, error_model="numpy")
def mean_std_1d_nb(a, b, use_b, shift, ddof):
    """Mean and std (``ddof``) of the non-NaN ``v = a - shift`` (``a - b`` when ``use_b``), noise removed.

    empyrical's ``_zero_dispersion_std``: the deviation of identical values
    is exactly 0, but a float mean can differ from them in the last bit and
    leave a residue near 1e-18 that turns an infinite ratio into an
    arbitrary number.  Values whose spread is at most ``DISPERSION_TOL *
    (1 + magnitude of the inputs)`` count as identical (std 0), and then a
    mean that small counts as 0, so a ratio is +-inf or NaN instead of float
    noise: a return is a ratio minus 1, so its rounding error is relative to
    1 + r, about 1e-16 (e.g. an equity growing at a constant rate, or a
    buy-and-hold equity against its own asset as benchmark).
    """
    total = 0.0
    count = 0
    lo = np.inf
    hi = -np.inf
    scale = abs(shift)
    for i in range(a.shape[0]):
        x = a[i]
        if use_b:
            y = x - b[i]
            mag = max(abs(x), abs(b[i]))
        else:
            y = x - shift
            mag = abs(x) + abs(shift)
        if not np.isnan(y):
            total += y
            count += 1
            lo = min(lo, y)
            hi = max(hi, y)
            scale = max(scale, mag)
    if count == 0:
        return np.nan, np.nan
    mean = total / count
    ss = 0.0
    for i in range(a.shape[0]):
        y = a[i] - b[i] if use_b else a[i] - shift
        if not np.isnan(y):
            d = y - mean
            ss += d * d
    if count <= ddof:
        return mean, np.nan
    std = np.sqrt(ss / (count - ddof))
    tol = DISPERSION_TOL * (1.0 + scale)
    if hi - lo <= tol:
        std = 0.0
        if abs(mean) <= tol:
            mean = 0.0
    return mean, std


@njit(cache=True, error_model="numpy")
def nanmin_1d_nb(a):
    """Smallest non-NaN value; NaN when there is none (used for the worst period)."""
    out = np.nan
    for i in range(a.shape[0]):
        x = a[i]
        if not np.isnan(x) and (np.isnan(out) or x < out):
            out = x
    return out


@njit(cache=True, error_model="numpy")
def nanmax_1d_nb(a):
    """Largest non-NaN value; NaN when there is none (used for the best period)."""
    out = np.nan
    for i in range(a.shape[0]):
        x = a[i]
        if not np.isnan(x) and (np.isnan(out) or x > out):
            out = x
    return out


# ---------------------------------------------------------------------------
# equity / prices -> returns
# ---------------------------------------------------------------------------


@njit(cache=True, error_model="numpy")
def equity_to_returns_1d_nb(equity, out):
    """Simple returns of an equity curve into ``out`` (length ``n - 1``); returns the count before ruin.

    ``out[i] = equity[i + 1] / equity[i] - 1``.  Ruin is the first bar whose
    equity is <= 0: its return is clipped to -1 (everything lost) and every
    later entry of ``out`` is NaN, because a return on a non-positive base is
    undefined.  The result ``k`` is the number of defined returns
    (``n - 1`` without ruin), so ``out[:k]`` holds them; with ``equity[0] <= 0``
    it is 0.  NaN equity gives NaN returns around it (callers validate).
    """
    n = equity.shape[0]
    m = max(n - 1, 0)
    k = m
    if n > 0 and equity[0] <= 0.0:
        k = 0
    else:
        for i in range(m):
            nxt = equity[i + 1]
            if nxt <= 0.0:
                out[i] = -1.0
                k = i + 1
                break
            out[i] = nxt / equity[i] - 1.0
    for i in range(k, m):
        out[i] = np.nan
    return k


@njit(cache=True)
def ruined_1d_nb(equity) -> bool:
    """True when any equity value is <= 0 (the account was wiped out)."""
    for i in range(equity.shape[0]):
        if equity[i] <= 0.0:
            return True
    return False


@njit(cache=True, error_model="numpy")
def price_returns_1d_nb(prices, out):
    """Gap-aware simple returns of a price level series into ``out`` (same length as ``prices``).

    ``out[0]`` is NaN; ``out[i] = prices[i] / p_prev - 1`` where ``p_prev`` is
    the last non-NaN price before ``i``, so a return spans a missing day and
    the total return is preserved; NaN where ``prices[i]`` is NaN or no
    earlier price exists.
    """
    prev = np.nan
    for i in range(prices.shape[0]):
        p = prices[i]
        if np.isnan(p):
            out[i] = np.nan
            continue
        out[i] = p / prev - 1.0 if not np.isnan(prev) else np.nan
        prev = p


# ---------------------------------------------------------------------------
# return metrics
# ---------------------------------------------------------------------------


@njit(cache=True, error_model="numpy")
def total_return_1d_nb(returns):
    """Compounded return (fraction): prod(1 + r) - 1 over non-NaN r (empyrical ``cum_returns_final``); NaN if empty."""
    if returns.shape[0] == 0:
        return np.nan
    growth = 1.0
    for i in range(returns.shape[0]):
        x = returns[i]
        if not np.isnan(x):
            growth *= 1.0 + x
    return growth - 1.0


@njit(cache=True, error_model="numpy")
def cagr_1d_nb(returns, ann_factor):
    """Compound annual growth rate (fraction/year), empyrical ``cagr``: growth ** (ann_factor / n) - 1.

    ``n`` counts NaN entries too (a NaN bar is a bar of calendar); NaN if
    empty or when the growth is negative (a fractional power of a negative).
    """
    n = returns.shape[0]
    if n < 1:
        return np.nan
    ending = total_return_1d_nb(returns) + 1.0
    num_years = n / ann_factor
    return ending ** (1.0 / num_years) - 1.0


@njit(cache=True, error_model="numpy")
def annual_volatility_1d_nb(returns, ann_factor):
    """Annualised volatility (fraction): nanstd(ddof=1) * sqrt(ann_factor); 0 if identical, NaN if n < 2."""
    if returns.shape[0] < 2:
        return np.nan
    _, std = mean_std_1d_nb(returns, returns, False, 0.0, 1)
    return annual_volatility_from_std_nb(std, ann_factor)


@njit(cache=True, error_model="numpy")
def annual_volatility_from_std_nb(std, ann_factor):
    """:func:`annual_volatility_1d_nb` from the per-period deviation (ddof=1)."""
    return std * ann_factor ** (1.0 / 2.0)


@njit(cache=True, error_model="numpy")
def sharpe_ratio_1d_nb(returns, risk_free, ann_factor):
    """Annualised Sharpe ratio, empyrical: mean(r - rf) / std(r - rf, ddof=1) * sqrt(ann_factor).

    ``risk_free`` is per period.  Identical excess returns (to
    ``DISPERSION_TOL``) have zero deviation: +-inf for a nonzero mean, NaN
    for all zeros; NaN if n < 2.
    """
    if returns.shape[0] < 2:
        return np.nan
    mean, std = mean_std_1d_nb(returns, returns, False, risk_free, 1)
    return sharpe_from_moments_nb(mean, std, ann_factor)


@njit(cache=True, error_model="numpy")
def sharpe_from_moments_nb(mean, std, ann_factor):
    """:func:`sharpe_ratio_1d_nb` from the mean and deviation (ddof=1) of the excess returns."""
    return mean / std * np.sqrt(ann_factor)


@njit(cache=True, error_model="numpy")
def downside_risk_1d_nb(returns, required_return, ann_factor):
    """Annualised downside deviation, empyrical: sqrt(nanmean(min(r - req, 0)^2)) * sqrt(ann_factor).

    The mean runs over every non-NaN observation (not only the losing
    ones); NaN if empty or all NaN.
    """
    if returns.shape[0] < 1:
        return np.nan
    total = 0.0
    count = 0
    for i in range(returns.shape[0]):
        x = returns[i]
        if not np.isnan(x):
            d = min(x - required_return, 0.0)
            total += d * d
            count += 1
    if count == 0:
        return np.nan
    return downside_risk_from_sum_nb(total, count, ann_factor)


@njit(cache=True, error_model="numpy")
def downside_risk_from_sum_nb(total, count, ann_factor):
    """:func:`downside_risk_1d_nb` from the sum of squared shortfalls over ``count`` observations."""
    return np.sqrt(total / count) * np.sqrt(ann_factor)


@njit(cache=True, error_model="numpy")
def sortino_ratio_1d_nb(returns, required_return, ann_factor):
    """Annualised Sortino ratio, empyrical: nanmean(r - req) * ann_factor / downside_risk; NaN if n < 2.

    +inf when no observation falls below ``required_return`` and the mean
    excess is positive.
    """
    if returns.shape[0] < 2:
        return np.nan
    mean, _ = mean_std_1d_nb(returns, returns, False, required_return, 1)
    return sortino_from_parts_nb(mean, downside_risk_1d_nb(returns, required_return, ann_factor), ann_factor)


@njit(cache=True, error_model="numpy")
def sortino_from_parts_nb(mean, downside_risk, ann_factor):
    """:func:`sortino_ratio_1d_nb` from the mean excess return and :func:`downside_risk_1d_nb`."""
    return mean * ann_factor / downside_risk


@njit(cache=True, error_model="numpy")
def max_drawdown_1d_nb(returns):
    """Maximum drawdown (negative fraction, 0 if none), empyrical: peak taken from the starting value.

    The equity starts at 1 before the first return and NaN returns count as
    0; NaN if ``returns`` is empty.
    """
    n = returns.shape[0]
    if n < 1:
        return np.nan
    equity = 1.0
    peak = 1.0
    out = np.nan
    for i in range(n):
        x = returns[i]
        if not np.isnan(x):
            equity *= 1.0 + x
        if equity > peak:  # np.fmax.accumulate: a NaN equity does not replace the peak
            peak = equity
        dd = (equity - peak) / peak
        if not np.isnan(dd) and (np.isnan(out) or dd < out):
            out = dd
    return out


@njit(cache=True, error_model="numpy")
def max_drawdown_positions_1d_nb(returns):
    """Deepest drawdown and where it happened: (depth, peak, trough, recovery).

    Positions index the equity curve implied by ``returns``: position 0 is the
    start value, position ``i`` the value after ``returns[i - 1]`` (for an
    equity series, its own bar numbers).  ``peak`` is the last position at the
    running maximum before the trough, ``trough`` the first position of the
    deepest drawdown, ``recovery`` the first later position back at or above
    the peak value, -1 if never.  Without any drawdown: (0.0, -1, -1, -1);
    empty input: (NaN, -1, -1, -1).
    """
    n = returns.shape[0]
    if n < 1:
        return np.nan, -1, -1, -1
    equity = 1.0
    peak = 1.0
    peak_pos = 0
    depth = 0.0
    best_peak = -1
    best_trough = -1
    best_peak_value = np.nan
    for i in range(n):
        x = returns[i]
        if not np.isnan(x):
            equity *= 1.0 + x
        if equity >= peak:
            peak = equity
            peak_pos = i + 1
            continue
        dd = (equity - peak) / peak
        if dd < depth:
            depth = dd
            best_peak = peak_pos
            best_trough = i + 1
            best_peak_value = peak
    if best_trough < 0:
        return 0.0, -1, -1, -1
    recovery = -1
    equity = 1.0
    for i in range(n):
        x = returns[i]
        if not np.isnan(x):
            equity *= 1.0 + x
        if i + 1 > best_trough and equity >= best_peak_value:
            recovery = i + 1
            break
    return depth, best_peak, best_trough, recovery


@njit(cache=True, error_model="numpy")
def max_drawdown_duration_1d_nb(returns):
    """Longest drawdown in bars, with its (peak, end) positions: (duration, peak, end).

    A drawdown lasts from the last position at the running peak to the first
    position back at or above it (its recovery); one still open at the end
    lasts to the last position ``n``.  A one-bar dip therefore lasts 2 bars
    (peak -> dip -> recovery), the backtesting.py/vectorbt convention.
    Positions are those of :func:`max_drawdown_positions_1d_nb`.  No drawdown:
    (0.0, -1, -1); empty input: (NaN, -1, -1).  The first longest wins ties.
    """
    n = returns.shape[0]
    if n < 1:
        return np.nan, -1, -1
    equity = 1.0
    peak = 1.0
    peak_pos = 0
    under = False
    best = 0
    best_peak = -1
    best_end = -1
    for i in range(n):
        x = returns[i]
        if not np.isnan(x):
            equity *= 1.0 + x
        pos = i + 1
        if equity >= peak:
            if under:
                if pos - peak_pos > best:
                    best = pos - peak_pos
                    best_peak = peak_pos
                    best_end = pos
                under = False
            peak = equity
            peak_pos = pos
        else:
            under = True
    if under and n - peak_pos > best:
        best = n - peak_pos
        best_peak = peak_pos
        best_end = n
    return float(best), best_peak, best_end


@njit(cache=True, error_model="numpy")
def calmar_ratio_1d_nb(returns, ann_factor):
    """Calmar ratio, empyrical: cagr / |max_drawdown|; NaN without a drawdown or when infinite."""
    mdd = max_drawdown_1d_nb(returns)
    if not mdd < 0.0:
        return np.nan
    return calmar_from_parts_nb(cagr_1d_nb(returns, ann_factor), mdd)


@njit(cache=True, error_model="numpy")
def calmar_from_parts_nb(cagr, max_drawdown):
    """:func:`calmar_ratio_1d_nb` from the CAGR and the max drawdown."""
    if not max_drawdown < 0.0:
        return np.nan
    out = cagr / abs(max_drawdown)
    if np.isinf(out):
        return np.nan
    return out


@njit(cache=True, error_model="numpy")
def omega_ratio_1d_nb(returns, risk_free, required_return, ann_factor):
    """Omega ratio, empyrical: sum of gains over sum of losses of ``r - risk_free - threshold``.

    ``required_return`` is annual; the per-period threshold is
    ``(1 + required_return) ** (1 / ann_factor) - 1`` (taken as is when
    ``ann_factor == 1``).  NaN if n < 2, ``required_return <= -1`` or no loss.
    """
    if returns.shape[0] < 2:
        return np.nan
    if ann_factor == 1:
        threshold = required_return
    elif required_return <= -1.0:
        return np.nan
    else:
        threshold = (1.0 + required_return) ** (1.0 / ann_factor) - 1.0
    gains = 0.0
    losses = 0.0
    for i in range(returns.shape[0]):
        x = returns[i] - risk_free - threshold
        if x > 0.0:
            gains += x
        elif x < 0.0:
            losses -= x
    if losses > 0.0:
        return gains / losses
    return np.nan


# ---------------------------------------------------------------------------
# quantile metrics: sort once, read many
# ---------------------------------------------------------------------------


@njit(cache=True, error_model="numpy")
def sort_valid_into_nb(a, buf):
    """Copy the non-NaN values of ``a`` into ``buf[:k]``, sort them in place and return ``k``."""
    k = 0
    for i in range(a.shape[0]):
        x = a[i]
        if not np.isnan(x):
            buf[k] = x
            k += 1
    buf[:k].sort()
    return k


@njit(cache=True, error_model="numpy")
def percentile_sorted_nb(sorted_values, q):
    """numpy's default ('linear') percentile of sorted, NaN-free values; ``q`` in [0, 100]; NaN if empty.

    Reproduces ``np.percentile`` bit for bit: virtual index ``(n - 1) * q / 100``
    and numpy's two-sided linear interpolation.
    """
    n = sorted_values.shape[0]
    if n == 0:
        return np.nan
    frac = q / 100.0
    h = (n - 1) * frac
    if h >= n - 1:
        return sorted_values[n - 1]
    if h < 0.0:
        return sorted_values[0]
    lo = int(np.floor(h))
    gamma = h - lo
    a = sorted_values[lo]
    b = sorted_values[lo + 1]
    diff = b - a
    if gamma >= 0.5:
        return b - diff * (1.0 - gamma)
    return a + diff * gamma


@njit(cache=True, error_model="numpy")
def value_at_risk_sorted_nb(sorted_values, cutoff):
    """Historical VaR (a return, fraction): the ``cutoff`` percentile of sorted, NaN-free returns."""
    return percentile_sorted_nb(sorted_values, 100.0 * cutoff)


@njit(cache=True, error_model="numpy")
def conditional_value_at_risk_sorted_nb(sorted_values, cutoff):
    """Historical CVaR (a return, fraction), empyrical: mean of the ``int((n-1)*cutoff) + 1`` lowest; NaN if empty."""
    n = sorted_values.shape[0]
    if n == 0:
        return np.nan
    k = int((n - 1) * cutoff) + 1
    total = 0.0
    for i in range(k):
        total += sorted_values[i]
    return total / k


@njit(cache=True, error_model="numpy")
def tail_ratio_sorted_nb(sorted_values):
    """Tail ratio, empyrical: |95th percentile| / |5th percentile| of sorted, NaN-free returns; NaN if empty."""
    if sorted_values.shape[0] == 0:
        return np.nan
    upper = percentile_sorted_nb(sorted_values, TAIL_RATIO_UPPER_PCT)
    lower = percentile_sorted_nb(sorted_values, TAIL_RATIO_LOWER_PCT)
    return abs(upper) / abs(lower)


@njit(cache=True, error_model="numpy")
def value_at_risk_1d_nb(returns, cutoff):
    """Historical VaR (a return, fraction) of the non-NaN returns; see :func:`value_at_risk_sorted_nb`."""
    buf = np.empty(returns.shape[0])
    k = sort_valid_into_nb(returns, buf)
    return value_at_risk_sorted_nb(buf[:k], cutoff)


@njit(cache=True, error_model="numpy")
def conditional_value_at_risk_1d_nb(returns, cutoff):
    """Historical CVaR (a return, fraction) of the non-NaN returns; see :func:`conditional_value_at_risk_sorted_nb`."""
    buf = np.empty(returns.shape[0])
    k = sort_valid_into_nb(returns, buf)
    return conditional_value_at_risk_sorted_nb(buf[:k], cutoff)


@njit(cache=True, error_model="numpy")
def tail_ratio_1d_nb(returns):
    """Tail ratio of the non-NaN returns; see :func:`tail_ratio_sorted_nb`."""
    buf = np.empty(returns.shape[0])
    k = sort_valid_into_nb(returns, buf)
    return tail_ratio_sorted_nb(buf[:k])


# ---------------------------------------------------------------------------
# distribution shape and extremes
# ---------------------------------------------------------------------------


@njit(cache=True, error_model="numpy")
def _central_moments_nb(returns):
    """(count, mean, m2, m3, m4) of the non-NaN values, population (biased) moments.

    Identical values get moments of exactly 0, whatever residue the float
    mean leaves (scipy's pairwise mean happens to avoid it where ours may not).
    """
    mean = nanmean_1d_nb(returns)
    count = 0
    m2 = 0.0
    m3 = 0.0
    m4 = 0.0
    lo = np.inf
    hi = -np.inf
    for i in range(returns.shape[0]):
        x = returns[i]
        if not np.isnan(x):
            d = x - mean
            d2 = d * d
            m2 += d2
            m3 += d2 * d
            m4 += d2 * d2
            count += 1
            lo = min(lo, x)
            hi = max(hi, x)
    if count == 0:
        return 0, np.nan, np.nan, np.nan, np.nan
    if lo == hi:
        return count, mean, 0.0, 0.0, 0.0
    return count, mean, m2 / count, m3 / count, m4 / count


@njit(cache=True, error_model="numpy")
def skew_1d_nb(returns):
    """Sample skewness (biased, Fisher-Pearson m3 / m2^1.5) of the non-NaN returns, ``scipy.stats.skew``.

    NaN if empty or when the values are all equal (scipy's test
    ``m2 <= (eps * mean)^2``), hence also for a single observation.
    """
    count, mean, m2, m3, _ = _central_moments_nb(returns)
    if count == 0 or m2 <= (np.finfo(np.float64).eps * mean) ** 2:
        return np.nan
    return m3 / m2**1.5


@njit(cache=True, error_model="numpy")
def kurtosis_1d_nb(returns):
    """Excess kurtosis (biased, m4 / m2^2 - 3) of the non-NaN returns, ``scipy.stats.kurtosis`` defaults.

    0 for a normal distribution; NaN if empty or all values equal.
    """
    count, mean, m2, _, m4 = _central_moments_nb(returns)
    if count == 0 or m2 <= (np.finfo(np.float64).eps * mean) ** 2:
        return np.nan
    return m4 / m2**2.0 - 3.0


@njit(cache=True, error_model="numpy")
def stability_of_timeseries_1d_nb(returns):
    """R^2 of a least-squares line through cumulative log returns, empyrical ``stability_of_timeseries``.

    NaN values are dropped first; NaN if the input has fewer than 2 entries,
    fewer than 2 non-NaN values, or when the cumulative log return is
    constant (all returns zero).  Allocation-free: the cumulative sum is
    recomputed in the second pass.
    """
    if returns.shape[0] < 2:
        return np.nan
    count = 0
    cum = 0.0
    ysum = 0.0
    lo = np.inf
    hi = -np.inf
    for i in range(returns.shape[0]):
        x = returns[i]
        if not np.isnan(x):
            cum += np.log1p(x)
            ysum += cum
            lo = min(lo, cum)
            hi = max(hi, cum)
            count += 1
    if count < 2:
        return np.nan
    xmean = (count - 1) / 2.0
    ymean = ysum / count
    sxx = 0.0
    syy = 0.0
    sxy = 0.0
    cum = 0.0
    j = 0
    for i in range(returns.shape[0]):
        x = returns[i]
        if not np.isnan(x):
            cum += np.log1p(x)
            dx = j - xmean
            dy = cum - ymean
            sxx += dx * dx
            syy += dy * dy
            sxy += dx * dy
            j += 1
    if lo == hi:
        syy = 0.0
    if syy == 0.0:
        return np.nan  # scipy.stats.linregress: r is NaN when both deviations vanish
    r = sxy / np.sqrt(sxx * syy)
    r = min(max(r, -1.0), 1.0)
    return r * r


# ---------------------------------------------------------------------------
# trades, exposure, turnover
# ---------------------------------------------------------------------------


@njit(cache=True, error_model="numpy")
def win_rate_1d_nb(returns):
    """Fraction of non-NaN returns that are > 0 (a zero counts as not winning); NaN if none."""
    wins = 0
    count = 0
    for i in range(returns.shape[0]):
        x = returns[i]
        if not np.isnan(x):
            count += 1
            if x > 0.0:
                wins += 1
    if count == 0:
        return np.nan
    return wins / count


@njit(cache=True, error_model="numpy")
def profit_factor_1d_nb(returns):
    """Sum of positive returns / |sum of negative returns|; NaN without a negative one (as backtesting.py)."""
    gains = 0.0
    losses = 0.0
    for i in range(returns.shape[0]):
        x = returns[i]
        if x > 0.0:
            gains += x
        elif x < 0.0:
            losses -= x
    if losses > 0.0:
        return gains / losses
    return np.nan


@njit(cache=True, error_model="numpy")
def exposure_1d_nb(gross_exposure):
    """Fraction of non-NaN bars whose gross exposure is nonzero (time in market); NaN if none."""
    active = 0
    count = 0
    for i in range(gross_exposure.shape[0]):
        x = gross_exposure[i]
        if not np.isnan(x):
            count += 1
            if x != 0.0:
                active += 1
    if count == 0:
        return np.nan
    return active / count


@njit(cache=True, error_model="numpy")
def annual_turnover_1d_nb(turnover, ann_factor):
    """Annualised turnover (multiple of equity per year): nanmean(per-bar traded notional / equity) * ann_factor."""
    return nanmean_1d_nb(turnover) * ann_factor


# ---------------------------------------------------------------------------
# against a benchmark (returns and benchmark_returns have the same length)
# ---------------------------------------------------------------------------


@njit(cache=True, error_model="numpy")
def beta_1d_nb(returns, benchmark_returns):
    """Beta, empyrical: cov(r, b) / var(b) over the pairs where both are non-NaN (population moments).

    NaN if ``returns`` is empty, ``benchmark_returns`` has fewer than 2
    entries, there is no pair, or var(b) < ``BETA_MIN_VARIANCE``.
    """
    n = returns.shape[0]
    if n < 1 or benchmark_returns.shape[0] < 2:
        return np.nan
    total = 0.0
    count = 0
    for i in range(n):
        r = returns[i]
        b = benchmark_returns[i]
        if not np.isnan(r) and not np.isnan(b):
            total += b
            count += 1
    if count == 0:
        return np.nan
    bmean = total / count
    cov = 0.0
    var = 0.0
    for i in range(n):
        r = returns[i]
        b = benchmark_returns[i]
        if not np.isnan(r) and not np.isnan(b):
            d = b - bmean
            cov += d * r
            var += d * d
    cov /= count
    var /= count
    if var < BETA_MIN_VARIANCE:
        return np.nan
    return cov / var


@njit(cache=True, error_model="numpy")
def alpha_1d_nb(returns, benchmark_returns, risk_free, ann_factor):
    """Annualised Jensen alpha (fraction/year), empyrical: (1 + mean(r - rf - beta (b - rf))) ** ann_factor - 1.

    The mean runs over the pairs where both are non-NaN, beta is
    :func:`beta_1d_nb` (on raw returns, as empyrical); NaN if n < 2.
    """
    if returns.shape[0] < 2:
        return np.nan
    beta = beta_1d_nb(returns, benchmark_returns)
    total = 0.0
    count = 0
    for i in range(returns.shape[0]):
        a = (returns[i] - risk_free) - beta * (benchmark_returns[i] - risk_free)
        if not np.isnan(a):
            total += a
            count += 1
    if count == 0:
        return np.nan
    return (1.0 + total / count) ** float(ann_factor) - 1.0


@njit(cache=True, error_model="numpy")
def correlation_1d_nb(returns, benchmark_returns):
    """Pearson correlation over the pairs where both are non-NaN; NaN with < 2 pairs or a constant side."""
    n = returns.shape[0]
    rsum = 0.0
    bsum = 0.0
    count = 0
    rlo = np.inf
    rhi = -np.inf
    blo = np.inf
    bhi = -np.inf
    for i in range(n):
        r = returns[i]
        b = benchmark_returns[i]
        if not np.isnan(r) and not np.isnan(b):
            rsum += r
            bsum += b
            count += 1
            rlo = min(rlo, r)
            rhi = max(rhi, r)
            blo = min(blo, b)
            bhi = max(bhi, b)
    if count < 2 or rlo == rhi or blo == bhi:
        return np.nan
    rmean = rsum / count
    bmean = bsum / count
    srr = 0.0
    sbb = 0.0
    srb = 0.0
    for i in range(n):
        r = returns[i]
        b = benchmark_returns[i]
        if not np.isnan(r) and not np.isnan(b):
            dr = r - rmean
            db = b - bmean
            srr += dr * dr
            sbb += db * db
            srb += dr * db
    c = srb / np.sqrt(srr * sbb)
    return min(max(c, -1.0), 1.0)


@njit(cache=True, error_model="numpy")
def excess_sharpe_1d_nb(returns, benchmark_returns):
    """Per-period information ratio, empyrical ``excess_sharpe``: mean(r - b) / std(r - b, ddof=1).

    Over the non-NaN differences; identical differences (to
    ``DISPERSION_TOL``) give +-inf, NaN if all zero; NaN if n < 2.  Not
    annualised.
    """
    if returns.shape[0] < 2:
        return np.nan
    mean, std = mean_std_1d_nb(returns, benchmark_returns, True, 0.0, 1)
    return mean / std


@njit(cache=True, error_model="numpy")
def information_ratio_1d_nb(returns, benchmark_returns, ann_factor):
    """Annualised information ratio: :func:`excess_sharpe_1d_nb` * sqrt(ann_factor)."""
    return excess_sharpe_1d_nb(returns, benchmark_returns) * np.sqrt(ann_factor)


# ---------------------------------------------------------------------------
# column loop of the returns (the metrics' column loop is the pandas layer's)
# ---------------------------------------------------------------------------


@njit(cache=True, error_model="numpy")
def equity_to_returns_nb(equity):
    """Column loop of :func:`equity_to_returns_1d_nb`: (returns (n-1, m) with NaN after ruin, counts (m,))."""
    n, m = equity.shape
    out = np.empty((max(n - 1, 0), m))
    counts = np.empty(m, dtype=np.int64)
    for c in range(m):
        counts[c] = equity_to_returns_1d_nb(equity[:, c], out[:, c])
    return out, counts


# ---------------------------------------------------------------------------
# every statistic of a backtest at once (compute_stats' arithmetic)
# ---------------------------------------------------------------------------


@njit(cache=True)
def held_and_turnover_nb(close, positions, equity, orders, offset, held, traded) -> None:
    """The held flag and turnover per bar of a simulation (``Result``'s, the statistics' inputs) into ``held`` /
    ``traded`` from position ``offset`` on (NaN before).

    ``close``, ``positions`` ``(bars, assets)`` and ``equity`` are the
    engine's inputs and outputs, ``orders`` its order records (``order_dt``).
    Held: 1.0 where some position has a nonzero value at the last valid
    close (before the first one a position has no value), 0.0 where none
    does, NaN where equity <= 0.  Turnover: each bar's traded notional (the
    orders' size x price, summed in record order) / equity, NaN where equity <= 0.
    """
    m, n = close.shape
    for i in range(offset):  # before the first bar (the statistics' prepended starting value): none
        held[i] = np.nan
        traded[i] = np.nan
    marks = np.full(n, np.nan)
    for i in range(m):
        any_value = False
        for j in range(n):
            if not np.isnan(close[i, j]):
                marks[j] = close[i, j]
            position = positions[i, j]
            value = position * marks[j] if position != 0.0 else 0.0
            if value > 0.0 or value < 0.0:
                any_value = True
        held[offset + i] = (1.0 if any_value else 0.0) if equity[i] > 0.0 else np.nan
        traded[offset + i] = 0.0
    for k in range(orders.shape[0]):
        traded[offset + orders[k]["bar"]] += orders[k]["size"] * orders[k]["price"]
    for i in range(m):
        traded[offset + i] = traded[offset + i] / equity[i] if equity[i] > 0.0 else np.nan


@njit(cache=True, error_model="numpy")
def backtest_stats_nb(values, trades, held, traded, bench, has, risk_free, ann_factor, var_cutoff, undefined_when_ruined,
                      out) -> None:
    """The statistics of :func:`shortthehype.metrics.compute_stats` from validated arrays into ``out``.

    ``values``: the equity (finite, the first > 0); ``trades``, ``held``,
    ``traded``, ``bench``: closed-trade returns, held flag and turnover per
    equity bar, benchmark price level per equity bar (NaN: none), each read
    only where ``has`` (4 flags, in that order) says it was given.  ``out``
    takes ``STATS_KEYS`` then ``BENCHMARK_STATS_KEYS`` (NaN where an input is
    missing); the positions ``undefined_when_ruined`` are NaN when the
    account was ruined.  One function for the pandas layer and the study
    kernels, so that both compute every value the same way.
    """
    n = values.shape[0]
    returns_all = np.empty(max(n - 1, 0))
    k = equity_to_returns_1d_nb(values, returns_all)
    returns = returns_all[:k]
    buf = np.empty(k)
    m = sort_valid_into_nb(returns, buf)
    sorted_returns = buf[:m]
    out[:] = np.nan
    out[0] = values[0]
    out[1] = values[n - 1]
    out[2] = values[n - 1] / values[0] - 1.0
    out[3] = cagr_1d_nb(returns, ann_factor)
    out[4] = annual_volatility_1d_nb(returns, ann_factor)
    out[5] = sharpe_ratio_1d_nb(returns, risk_free, ann_factor)
    out[6] = sortino_ratio_1d_nb(returns, risk_free, ann_factor)
    out[7] = max_drawdown_1d_nb(returns)
    out[8] = max_drawdown_duration_1d_nb(returns)[0]
    out[9] = calmar_ratio_1d_nb(returns, ann_factor)
    out[10] = omega_ratio_1d_nb(returns, risk_free, 0.0, ann_factor)
    out[11] = tail_ratio_sorted_nb(sorted_returns)
    out[12] = value_at_risk_sorted_nb(sorted_returns, var_cutoff)
    out[13] = conditional_value_at_risk_sorted_nb(sorted_returns, var_cutoff)
    out[14] = skew_1d_nb(returns)
    out[15] = kurtosis_1d_nb(returns)
    out[16] = nanmax_1d_nb(returns)
    out[17] = nanmin_1d_nb(returns)
    if has[0]:
        out[18] = win_rate_1d_nb(trades)
        out[19] = profit_factor_1d_nb(trades)
        out[20] = nanmean_1d_nb(trades)
        counted = 0
        for i in range(trades.shape[0]):
            if not np.isnan(trades[i]):
                counted += 1
        out[21] = float(counted)
    if has[1]:
        out[22] = exposure_1d_nb(held[: k + 1])
    if has[2]:
        out[23] = annual_turnover_1d_nb(traded[: k + 1], ann_factor)
    if has[3]:
        bench_all = np.empty(n)
        price_returns_1d_nb(bench, bench_all)
        paired = bench_all[1 : k + 1]
        first = -1
        last = -1
        for i in range(n):
            if not np.isnan(bench[i]):
                if first < 0:
                    first = i
                last = i
        own = bench_all[first + 1 : last + 1]
        out[24] = beta_1d_nb(returns, paired)
        out[25] = alpha_1d_nb(returns, paired, risk_free, ann_factor)
        out[26] = correlation_1d_nb(returns, paired)
        out[27] = information_ratio_1d_nb(returns, paired, ann_factor)
        out[28] = total_return_1d_nb(own)
        out[29] = cagr_1d_nb(own, ann_factor)
        out[30] = sharpe_ratio_1d_nb(own, risk_free, ann_factor)
        out[31] = max_drawdown_1d_nb(own)
    if ruined_1d_nb(values):
        for position in undefined_when_ruined:
            out[position] = np.nan
