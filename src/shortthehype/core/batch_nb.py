"""Many portfolios that differ only in their target weights, in parallel (numba).

Each portfolio runs :func:`simulate_core_nb` without records into a
per-thread equity buffer and is reduced to a few statistics at once, so
memory grows with threads x bars, never with the number of portfolios.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from shortthehype.core import metrics_nb
from shortthehype.core.simulate_nb import simulate_core_nb
from shortthehype.enums import N_TOTALS



@njit(cache=True)
def reduce_equity_nb(curve, returns, ann_factor, status, out):
    """Statistics of one equity curve (``curve[0]`` is the starting value) into ``out`` (:data:`~shortthehype.constants.KERNEL_STATS` order).

    ``returns`` receives the curve's returns; returns how many are defined
    (the count before ruin).  A ruined curve (bankrupt ``status`` or any value
    <= 0) has no Sharpe, Sortino or Calmar ratio: they are NaN, so that no
    ranking can put a bankrupt run on top.
    """
    k = metrics_nb.equity_to_returns_1d_nb(curve, returns)
    r = returns[:k]
    out[0] = curve[-1]
    out[1] = curve[-1] / curve[0] - 1.0
    out[2] = metrics_nb.cagr_1d_nb(r, ann_factor)
    # the kernels of compute_stats with a zero risk-free rate, sharing the passes they have in common
    if k < 2:
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
    out[8] = status
    if status != 0 or metrics_nb.ruined_1d_nb(curve):
        out[4] = np.nan
        out[5] = np.nan
        out[7] = np.nan
    return k


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
                open_, high, low, close, days, last_valid, row_bar, row_w_batch[p], ap, terms, False, curve[offset:],
                cash, no_positions, no_costs,
            )
            reduce_equity_nb(curve, returns, ann_factor, status, out[p])
    return out
