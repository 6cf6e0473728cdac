"""Rolling-window indicators shared by strategies (numba, arrays in and out).

Every kernel writes into a caller-provided ``out`` array and follows one NaN
rule: a window that contains a non-finite value gives NaN, and so do the
first ``window - 1`` positions.  Values at position t use inputs up to t
only.  Windows are summed directly (O(n·window)) rather than with running
sums, so results do not drift with series length: the windowed mean is
exact to ~1e-16 relative.

The one exception is the *cumulative* simple moving average
(:func:`rolling_mean_cumulative_1d_nb`), which reproduces vectorbt's rolling
mean (``vectorbt.generic.nb.rolling_mean_1d_nb`` with ``minp=window``, what
``vbt.MA.run(close, window).ma`` returns) bit for bit: a difference of
running sums ``(S[t] - S[t-window]) / window``, whose round-off grows with
the running sum (~1e-12 relative after 5,000 prices).  An exact tie of two
averages can round one way in one method and the other way in the other.
Its NaN rule is vectorbt's: a NaN is left out of the running sum, and a
window holding one is NaN; an infinity is summed like any number (the mean
is ±inf while the window holds it and NaN at every later bar, as
``inf - inf`` is NaN).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(cache=True)
def log_returns_1d_nb(prices, out):
    """out[t] = log(prices[t] / prices[t-1]); out[0] = NaN; NaN where either price is missing."""
    out[0] = np.nan
    for t in range(1, prices.shape[0]):
        out[t] = np.log(prices[t] / prices[t - 1])
    return out


@njit(cache=True)
def window_totals_nb(x, window, totals):
    """``totals[s]`` = x[s] + ... + x[s+window-1], added in index order from 0.0, for every s of ``totals``.

    The same bits as one loop per window; the loop runs over the offsets in
    the window instead, every window advancing together, so that it
    vectorises across windows (a sum per window is a chain of dependent adds).
    """
    totals[:] = 0.0
    for i in range(window):
        for s in range(totals.shape[0]):
            totals[s] += x[s + i]


@njit(cache=True)
def clean_windows_nb(x, y, window, clean):
    """``clean[s]``: every value of x[s .. s+window-1] and of y at the same positions is finite."""
    run = 0  # finite values (in both series) ending here
    for i in range(x.shape[0]):
        run = run + 1 if np.isfinite(x[i]) and np.isfinite(y[i]) else 0
        if i >= window - 1:
            clean[i - window + 1] = run >= window


@njit(cache=True)
def rolling_mean_1d_nb(x, window, out):
    """Mean of x[t-window+1 .. t] (same unit as x)."""
    n = x.shape[0]
    out[:] = np.nan
    if n < window or window < 1:
        return out
    totals = np.empty(n - window + 1)
    window_totals_nb(x, window, totals)
    clean = np.empty(totals.shape[0], dtype=np.bool_)
    clean_windows_nb(x, x, window, clean)
    for s in range(totals.shape[0]):
        if clean[s]:
            out[s + window - 1] = totals[s] / window
    return out


@njit(cache=True)
def prefix_sums_1d_nb(x, sums, nans):
    """Running sums: ``sums[t]`` = x[0] + ... + x[t] in order, NaNs left out; ``nans[t]`` = NaNs among them.

    vectorbt's running sums (``rolling_mean_1d_nb`` in ``vectorbt/generic/nb.py``):
    one sum for every window length of the same series.
    """
    total = 0.0
    count = 0
    for t in range(x.shape[0]):
        if np.isnan(x[t]):
            count += 1
        else:
            total = total + x[t]
        sums[t] = total
        nans[t] = count


@njit(cache=True)
def rolling_mean_prefix_1d_nb(sums, nans, window, out):
    """Mean of the last ``window`` values from running sums: (sums[t] - sums[t-window]) / window (unit of x).

    NaN for the first ``window - 1`` positions and where the window holds a
    NaN; on the first full window the mean is ``sums[window-1] / window`` (no
    subtraction), as in vectorbt.
    """
    for t in range(sums.shape[0]):
        if t < window:
            full = t + 1 - nans[t] >= window
            total = sums[t]
        else:
            full = nans[t] == nans[t - window]
            total = sums[t] - sums[t - window]
        out[t] = total / window if full else np.nan
    return out


@njit(cache=True)
def rolling_mean_cumulative_1d_nb(x, window, out):
    """Mean of x[t-window+1 .. t] from running sums, as vectorbt (bit for bit ``vbt.MA.run(x, window).ma``)."""
    n = x.shape[0]
    sums = np.empty(n)
    nans = np.empty(n, dtype=np.int64)
    prefix_sums_1d_nb(x, sums, nans)
    return rolling_mean_prefix_1d_nb(sums, nans, window, out)


@njit(cache=True)
def rolling_std_1d_nb(x, window, ddof, out):
    """Standard deviation of x[t-window+1 .. t] with ``ddof`` (two-pass within each window, sums in index order)."""
    n = x.shape[0]
    out[:] = np.nan
    if n < window or window - ddof <= 0:
        return out
    m = n - window + 1
    means = np.empty(m)
    window_totals_nb(x, window, means)
    for s in range(m):
        means[s] = means[s] / window
    squares = np.zeros(m)
    for i in range(window):  # window by window the second pass, in index order (see window_totals_nb)
        for s in range(m):
            squares[s] += (x[s + i] - means[s]) ** 2
    clean = np.empty(m, dtype=np.bool_)
    clean_windows_nb(x, x, window, clean)
    for s in range(m):
        if clean[s]:
            out[s + window - 1] = np.sqrt(squares[s] / (window - ddof))
    return out


@njit(cache=True)
def rolling_beta_1d_nb(y, x, window, out):
    """OLS slope of y on x over the window: cov(y, x) / var(x); NaN if var(x) is 0 (two-pass, sums in index order)."""
    n = y.shape[0]
    out[:] = np.nan
    if n < window or window < 1:
        return out
    m = n - window + 1
    mean_x = np.empty(m)
    mean_y = np.empty(m)
    window_totals_nb(x, window, mean_x)
    window_totals_nb(y, window, mean_y)
    for s in range(m):
        mean_x[s] = mean_x[s] / window
        mean_y[s] = mean_y[s] / window
    cov = np.zeros(m)
    var = np.zeros(m)
    for i in range(window):  # window by window the second pass, in index order (see window_totals_nb)
        for s in range(m):
            cov[s] += (x[s + i] - mean_x[s]) * (y[s + i] - mean_y[s])
            var[s] += (x[s + i] - mean_x[s]) ** 2
    clean = np.empty(m, dtype=np.bool_)
    clean_windows_nb(x, y, window, clean)
    for s in range(m):
        if clean[s]:
            out[s + window - 1] = cov[s] / var[s] if var[s] > 0.0 else np.nan
    return out


@njit(cache=True, parallel=True)
def rolling_stds_nb(x, windows, ddof, out):
    """``out[w, :, j]``: :func:`rolling_std_1d_nb` of column j of ``x`` over ``windows[w]``, the pairs in parallel."""
    k = x.shape[1]
    for pair in prange(windows.shape[0] * k):
        w = pair // k
        j = pair % k
        rolling_std_1d_nb(np.ascontiguousarray(x[:, j]), windows[w], ddof, out[w, :, j])
    return out


@njit(cache=True, parallel=True)
def rolling_betas_nb(close, reference, windows, first, out):
    """``out[w, :, j]``: :func:`rolling_beta_1d_nb` of column j's simple returns on ``reference``'s, window ``windows[w]``.

    ``close`` (bars x tickers), ``reference`` (bars,) closes; each return is
    ``p[t] / p[t-1] - 1`` (NaN on the first bar), so every value from bar
    ``first`` on equals a separate call per ticker and window bit for bit;
    the bars before ``first`` are NaN (not computed).  The (window, ticker)
    pairs run in parallel.
    """
    n, k = close.shape
    returns = np.full((n, k), np.nan)
    market = np.full(n, np.nan)
    for t in range(1, n):
        market[t] = reference[t] / reference[t - 1] - 1.0
        for j in range(k):
            returns[t, j] = close[t, j] / close[t - 1, j] - 1.0
    for pair in prange(windows.shape[0] * k):
        w = pair // k
        j = pair % k
        lo = max(0, first - windows[w] + 1)  # the returns the first computed value reads
        rolling_beta_1d_nb(np.ascontiguousarray(returns[lo:, j]), market[lo:], windows[w], out[w, lo:, j])
        out[w, :first, j] = np.nan
    return out


@njit(cache=True)
def rolling_means_2d_nb(x, window, cumulative, out):
    """Column loop of the 1-D means: each window summed afresh, or from running sums when ``cumulative``."""
    for j in range(x.shape[1]):
        column = np.ascontiguousarray(x[:, j])  # the windowed sums vectorise over contiguous values only
        if cumulative:
            rolling_mean_cumulative_1d_nb(column, window, out[:, j])
        else:
            rolling_mean_1d_nb(column, window, out[:, j])
    return out


# --- crossovers and signal-to-target state machine (ma-crossover; basket engineer) ---


@njit(cache=True)
def crossed_above_1d_nb(a, b, out):
    """out[t] = True where ``a`` crosses above ``b`` at t (vectorbt's ``crossed_above`` with wait=0).

    A cross at t needs a[t] > b[t], a[t-1] <= b[t-1], and a[s] < b[s] strictly
    at some s < t since the last bar where either input was NaN; a NaN in
    either input resets that memory and is never a cross.
    """
    was_below = False
    above_before = False  # a > b on the previous bar (both defined)
    for t in range(a.shape[0]):
        if np.isnan(a[t]) or np.isnan(b[t]):
            was_below = False
            above_before = False
            out[t] = False
        elif a[t] > b[t]:
            out[t] = was_below and not above_before
            above_before = True
        else:
            if a[t] < b[t]:
                was_below = True
            above_before = False
            out[t] = False
    return out


@njit(cache=True)
def signal_targets_1d_nb(entries, exits, allow_short, out):
    """Targets of a one-ticker signal strategy: +1 on an entry, 0 (or -1 if ``allow_short``) on an exit.

    Like vectorbt's ``from_signals`` without accumulation: a signal that would
    not change the side held (an entry while long, an exit while already out)
    gives no order (NaN).  The side starts flat; an entry and an exit on the
    same bar cancel (no order).
    """
    side = 0.0
    exit_side = -1.0 if allow_short else 0.0
    for t in range(entries.shape[0]):
        out[t] = np.nan
        if entries[t] and exits[t]:
            continue
        if entries[t] and side != 1.0:
            side = 1.0
            out[t] = side
        elif exits[t] and side != exit_side:
            side = exit_side
            out[t] = side
    return out
