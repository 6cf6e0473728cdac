"""Stationary block bootstrap (Politis & Romano 1994) of return series, as numba kernels.

A resample of ``n`` bars is built block by block: it starts at a uniformly
drawn bar; each next bar continues the block (the next bar, wrapping from the
last to the first) with probability ``1 - 1 / mean_block``, or starts a new
block at a uniformly drawn bar.  Block lengths are geometric with mean
``mean_block``, so the resample is stationary and keeps the dependence
(volatility clustering) within blocks.  Several series are resampled with
the *same* bars (a paired bootstrap), so a difference between a strategy
and its baseline keeps their correlation.

Random numbers come from numba's Mersenne Twister seeded inside the kernel,
and the loop is sequential, so a seed gives the same resamples bit for bit
in every process.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from shortthehype.core.metrics_nb import cagr_1d_nb, max_drawdown_1d_nb, sharpe_ratio_1d_nb

#: Columns of :func:`bootstrap_metrics_nb`'s output, in order.
BOOTSTRAP_METRICS = ("sharpe", "cagr", "max_drawdown")


@njit(cache=True)
def stationary_indices_1d_nb(n, mean_block, out):
    """Fill ``out`` (n,) with the bar indices of one stationary-bootstrap resample (numba's global RNG)."""
    p_new = 1.0 / mean_block
    j = np.random.randint(0, n)
    for t in range(n):
        if t > 0:
            if np.random.random() < p_new:
                j = np.random.randint(0, n)
            else:
                j += 1
                if j == n:
                    j = 0
        out[t] = j


@njit(cache=True, error_model="numpy")
def bootstrap_metrics_nb(returns, n_samples, mean_block, ann_factor, seed):
    """(n_samples, n_series, 3): Sharpe (rf 0), CAGR and max drawdown of paired stationary resamples of ``returns`` (n, n_series)."""
    np.random.seed(seed)
    n, k = returns.shape
    out = np.empty((n_samples, k, 3))
    idx = np.empty(n, dtype=np.int64)
    buf = np.empty(n)
    for s in range(n_samples):
        stationary_indices_1d_nb(n, mean_block, idx)
        for c in range(k):
            for t in range(n):
                buf[t] = returns[idx[t], c]
            out[s, c, 0] = sharpe_ratio_1d_nb(buf, 0.0, ann_factor)
            out[s, c, 1] = cagr_1d_nb(buf, ann_factor)
            out[s, c, 2] = max_drawdown_1d_nb(buf)
    return out
