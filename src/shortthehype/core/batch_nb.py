"""Many portfolios that differ only in their target weights, in parallel (numba).

Each portfolio runs :func:`simulate_core_nb` without records into a
per-thread equity buffer and is reduced to a few statistics at once, so
memory grows with threads x bars, never with the number of portfolios.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from shortthehype.constants import DISPERSION_TOL
from shortthehype.core import metrics_nb
from shortthehype.core.literals_nb import at_run_time_nb
from shortthehype.core.simulate_nb import simulate_core_nb
from shortthehype.enums import N_TOTALS


@njit(cache=True)
def reduce_equity_nb(curve, returns, ann_factor, status, out):
    """Statistics of one equity curve (``curve[0]`` is the starting value) into ``out`` (:data:`~shortthehype.constants.KERNEL_STATS` order).

    ``returns`` receives the curve's returns; returns how many are defined
    (the count before ruin).  A ruined curve (bankrupt ``status`` or any value
    <= 0) has no Sharpe, Sortino or Calmar ratio: they are NaN, so that no
    ranking can put a bankrupt run on top.  Returns without NaN (every engine
    curve) take :func:`stats_from_returns_nb`'s one pass, others the kernels
    of :func:`shortthehype.metrics.compute_stats` one by one: the same values.
    """
    k = metrics_nb.equity_to_returns_1d_nb(curve, returns)
    total = 0.0
    for i in range(k):
        total += returns[i]
    if np.isnan(total):
        reduce_returns_nb(curve, returns[:k], ann_factor, out)
    else:
        stats_from_returns_nb(returns, k, total, curve[-1], curve[0], ann_factor, 0, 0, out, np.empty((0, 2)))
    out[8] = status
    if status != 0 or metrics_nb.ruined_1d_nb(curve):
        out[4] = np.nan
        out[5] = np.nan
        out[7] = np.nan
    return k


@njit(cache=True)
def reduce_returns_nb(curve, r, ann_factor, out) -> None:
    """:func:`reduce_equity_nb`'s statistics from the defined returns ``r``, kernel by kernel (NaN returns are skipped)."""
    out[0] = curve[-1]
    out[1] = curve[-1] / curve[0] - 1.0
    out[2] = metrics_nb.cagr_1d_nb(r, ann_factor)
    # the kernels of compute_stats with a zero risk-free rate, sharing the passes they have in common
    if r.shape[0] < 2:
        out[3] = np.nan
        out[4] = np.nan
        out[5] = np.nan
    else:
        mean, std = metrics_nb.mean_std_1d_nb(r, r, False, 0.0, 1)
        out[3] = metrics_nb.annual_volatility_from_std_nb(std, ann_factor)
        out[4] = metrics_nb.sharpe_from_moments_nb(mean, std, ann_factor)
        out[5] = metrics_nb.sortino_from_parts_nb(mean, metrics_nb.downside_risk_1d_nb(r, 0.0, ann_factor), ann_factor)
    out[6] = metrics_nb.max_drawdown_1d_nb(r)
    out[7] = metrics_nb.calmar_from_parts_nb(out[2], out[6])


@njit(cache=True, error_model="numpy")
def stats_from_returns_nb(returns, k, total, equity, first_value, ann_factor, block_start, block_len, out, blocks) -> None:
    """The statistics of ``k`` returns whose sequential sum is ``total`` into ``out`` (``KERNEL_STATS`` order, status 0).

    For returns without NaN (the caller checks) every value equals the
    :mod:`metrics_nb` kernel's, as :func:`reduce_equity_nb` computes it.

    One pass over the returns holds every running quantity of the
    :mod:`metrics_nb` kernels, each in their order of operations (sequential
    sums and products, the same dispersion rule): the two-pass standard
    deviation's second pass (the mean is known), the compounded growth, the
    drawdown (one division per peak: the deepest point under a peak gives
    that peak's deepest ratio, as rounding is monotonic), the downside sum,
    the extremes, and the block sums of the PBO.
    """
    n_blocks = blocks.shape[0]
    mean = total / k if k > 0 else 0.0
    ss = 0.0
    lo_r = np.inf
    hi_r = -np.inf
    scale = 0.0
    dd_equity = 1.0
    dd_peak = 1.0
    dd_low = 1.0  # lowest dd_equity under the current peak
    mdd = np.nan
    down_total = 0.0
    block = -1
    next_block = block_start
    block_sum = 0.0
    block_sq = 0.0
    for j in range(k):
        r = returns[j]
        if n_blocks > 0:
            if j == next_block and block < n_blocks - 1:
                if block >= 0:
                    blocks[block, 0] = block_sum
                    blocks[block, 1] = block_sq
                block += 1
                next_block += block_len
                block_sum = 0.0
                block_sq = 0.0
            block_sum += r
            block_sq += r * r
        dev = r - mean
        ss += dev * dev
        lo_r = min(lo_r, r)
        hi_r = max(hi_r, r)
        dd_equity *= 1.0 + r  # also the compounded growth: both start at 1 and take the same products
        # one branch, not two (a new peak or a new low is a coin toss on many bars): a new peak leaves the low as it was
        dd_low = min(dd_low, dd_equity)
        if dd_equity > dd_peak:
            dd = (dd_low - dd_peak) / dd_peak
            if np.isnan(mdd) or dd < mdd:
                mdd = dd
            dd_peak = dd_equity
            dd_low = dd_equity
        d = min(r, 0.0)
        down_total += d * d
    if block >= 0:
        blocks[block, 0] = block_sum
        blocks[block, 1] = block_sq
    growth = dd_equity
    if k > 0:
        scale = max(hi_r, -lo_r, 0.0)  # the largest |r|: max and negation are exact
    out[0] = equity
    out[1] = equity / first_value - 1.0
    out[8] = 0.0
    cagr = np.nan  # cagr_1d_nb
    if k >= 1:
        cagr = ((growth - 1.0) + 1.0) ** (1.0 / (k / ann_factor)) - 1.0
    out[2] = cagr
    if k < 2:  # mean_std_1d_nb (ddof 1) -> annual_volatility_1d_nb, sharpe_ratio_1d_nb, sortino_ratio_1d_nb
        out[3] = np.nan
        out[4] = np.nan
        out[5] = np.nan
    else:
        std = np.sqrt(ss / (k - 1))
        tol = DISPERSION_TOL * (1.0 + scale)
        if hi_r - lo_r <= tol:
            std = 0.0
            if abs(mean) <= tol:
                mean = 0.0
        out[3] = metrics_nb.annual_volatility_from_std_nb(std, ann_factor)
        out[4] = metrics_nb.sharpe_from_moments_nb(mean, std, ann_factor)
        out[5] = metrics_nb.sortino_from_parts_nb(mean, metrics_nb.downside_risk_from_sum_nb(down_total, k, ann_factor), ann_factor)
    mdd_out = np.nan  # max_drawdown_1d_nb, calmar_ratio_1d_nb
    if k >= 1:
        mdd_out = (dd_low - dd_peak) / dd_peak
        if not np.isnan(mdd) and mdd < mdd_out:
            mdd_out = mdd
    out[6] = mdd_out
    out[7] = metrics_nb.calmar_from_parts_nb(cagr, mdd_out)


@njit(cache=True, parallel=True)
def simulate_batch_nb(
    open_, high, low, close, days, last_valid, row_bar, row_w_batch, ap, terms, prepend_init_cash, ann_factor, n_threads,
    out,
):
    """Simulate ``row_w_batch[p]`` (rows x assets) for every portfolio p; statistics into ``out[p]``.

    ``terms``: the account's :class:`~shortthehype.core.simulate_nb.AccountTerms`.
    With ``prepend_init_cash`` the curve the statistics see starts with
    ``init_cash`` before the first bar (costs paid on bar 0 then count).
    Portfolios are dealt round-robin to ``n_threads`` workers, each with its
    own buffers.
    """
    n_portfolios = row_w_batch.shape[0]
    n_bars, n_assets = close.shape
    offset = 1 if prepend_init_cash else 0
    for thread in prange(n_threads):
        curve = np.empty(n_bars + offset)
        curve[0] = terms.init_cash
        cash = np.empty(n_bars)
        no_positions = np.empty((0, n_assets))
        no_costs = np.empty((0, N_TOTALS))
        returns = np.empty(n_bars + offset)
        for p in range(thread, n_portfolios, n_threads):
            _, _, _, _, status = simulate_core_nb(
                open_, high, low, close, days, last_valid, row_bar, row_w_batch[p], ap, terms, at_run_time_nb(False),
                curve[offset:],
                cash, no_positions, no_costs,
            )
            reduce_equity_nb(curve, returns, ann_factor, status, out[p])
    return out
