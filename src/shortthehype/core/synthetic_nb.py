"""Numba kernels of the synthetic market generator: one deterministic bar loop per path.

Everything random is drawn beforehand by the Python layer
(:mod:`shortthehype.data.synthetic`) with numpy's seeded ``Generator`` and handed
in as arrays, so these kernels are pure functions of their inputs: the same
arrays give the same prices bit for bit, whatever the thread count, because each
path is computed by one thread in a fixed order.

The model, per asset ``i`` and bar ``t`` (log prices, daily units)::

    z[t, i]   = sum_k loadings[i, k] * e[t, k]            correlated unit-variance shock
    eps[t, i] = sqrt(h[t, i]) * z[t, i]                   GARCH(1,1) shock
    r[t, i]   = mu[i] + bubble_beta[i] * dg[t] + vol_scale[t] * eps[t, i]
    h[t+1, i] = omega[i] + alpha[i] * eps[t, i]**2 + beta[i] * h[t, i],   h[0, i] = h0[i]

The log close is the previous log close (``log_p0`` before bar 0) plus ``r``.
Within the day, the log price is treated as a Brownian bridge from the previous
close to the close with variance ``vol_scale[t]**2 * h[t, i]``: the open is its
value after the ``overnight`` fraction of that variance, and the high and low
are exact draws of the bridge's maximum and minimum between open and close
(drawn independently of each other, so their joint law is approximate).
Volume is ``base_volume * (1 + volume_sens * |vol_scale * eps| / sqrt(h0)) *
lognormal(volume_noise)`` with unit-mean log-normal noise.

Caveats: a NaN innovation makes the rest of the path NaN for every asset
(``0 * NaN`` is NaN in the mixing sum, and the GARCH state is poisoned); the
Python layer never draws NaN; prices are ``exp`` of log prices, positive unless a log
price falls below about -745 (underflow to 0).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(cache=True)
def bridge_max_nb(a: float, b: float, var: float, expo: float) -> float:
    """Maximum of a Brownian bridge from ``a`` to ``b`` (log units), total variance ``var``, given an Exp(1) draw.

    Inverts the survival function ``P(max > m) = exp(-2 (m - a)(m - b) / var)``, ``m >= max(a, b)``.
    """
    d = b - a
    return 0.5 * (a + b + np.sqrt(d * d + 2.0 * var * expo))


@njit(cache=True)
def bridge_min_nb(a: float, b: float, var: float, expo: float) -> float:
    """Minimum of a Brownian bridge from ``a`` to ``b`` (log units), total variance ``var``, given an Exp(1) draw."""
    d = b - a
    return 0.5 * (a + b - np.sqrt(d * d + 2.0 * var * expo))


@njit(cache=True)
def simulate_path_nb(
    log_p0: np.ndarray,
    mu: np.ndarray,
    bubble_beta: np.ndarray,
    dg: np.ndarray,
    vol_scale: np.ndarray,
    omega: np.ndarray,
    alpha: np.ndarray,
    beta: np.ndarray,
    h0: np.ndarray,
    loadings: np.ndarray,
    overnight: float,
    base_volume: np.ndarray,
    volume_sens: float,
    volume_noise: float,
    e: np.ndarray,
    u_gap: np.ndarray,
    x_high: np.ndarray,
    x_low: np.ndarray,
    n_vol: np.ndarray,
    out_open: np.ndarray,
    out_high: np.ndarray,
    out_low: np.ndarray,
    out_close: np.ndarray,
    out_volume: np.ndarray,
) -> None:
    """One path: fill the ``(n_bars, n_assets)`` OHLCV outputs (prices in currency, volume in shares).

    Per-asset inputs are ``(n_assets,)`` in daily log units (``mu`` log drift per
    bar, ``omega``/``h0`` daily variances); ``dg``/``vol_scale`` are ``(n_bars,)``;
    ``loadings`` is ``(n_assets, n_sources)``; ``e`` is ``(n_bars, n_sources)`` of
    unit-variance innovations; ``u_gap``, ``n_vol`` standard normals and
    ``x_high``, ``x_low`` Exp(1) draws, each ``(n_bars, n_assets)``.
    """
    n_bars, n_assets = out_close.shape
    n_sources = loadings.shape[1]
    gap_weight = np.sqrt(overnight * (1.0 - overnight))
    volume_shift = -0.5 * volume_noise * volume_noise
    for i in range(n_assets):
        h = h0[i]
        sigma_unc = np.sqrt(h0[i])
        x_prev = log_p0[i]
        for t in range(n_bars):
            z = 0.0
            for k in range(n_sources):
                z += loadings[i, k] * e[t, k]
            eps = np.sqrt(h) * z
            shock = vol_scale[t] * eps
            r = mu[i] + bubble_beta[i] * dg[t] + shock
            x = x_prev + r
            var_day = vol_scale[t] * vol_scale[t] * h
            a = x_prev + overnight * r + gap_weight * np.sqrt(var_day) * u_gap[t, i]
            var_intraday = (1.0 - overnight) * var_day
            o = np.exp(a)
            c = np.exp(x)
            hi = np.exp(bridge_max_nb(a, x, var_intraday, x_high[t, i]))
            lo = np.exp(bridge_min_nb(a, x, var_intraday, x_low[t, i]))
            # exp and the bridge formula round independently: enforce the OHLC invariants exactly
            if o > hi:
                hi = o
            if c > hi:
                hi = c
            if o < lo:
                lo = o
            if c < lo:
                lo = c
            out_open[t, i] = o
            out_high[t, i] = hi
            out_low[t, i] = lo
            out_close[t, i] = c
            rel_move = abs(shock) / sigma_unc if sigma_unc > 0.0 else 0.0
            out_volume[t, i] = (
                base_volume[i] * (1.0 + volume_sens * rel_move) * np.exp(volume_noise * n_vol[t, i] + volume_shift)
            )
            h = omega[i] + alpha[i] * eps * eps + beta[i] * h
            x_prev = x


@njit(cache=True, parallel=True)
def simulate_paths_nb(
    log_p0: np.ndarray,
    mu: np.ndarray,
    bubble_beta: np.ndarray,
    dg: np.ndarray,
    vol_scale: np.ndarray,
    omega: np.ndarray,
    alpha: np.ndarray,
    beta: np.ndarray,
    h0: np.ndarray,
    loadings: np.ndarray,
    overnight: float,
    base_volume: np.ndarray,
    volume_sens: float,
    volume_noise: float,
    e: np.ndarray,
    u_gap: np.ndarray,
    x_high: np.ndarray,
    x_low: np.ndarray,
    n_vol: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`simulate_path_nb` over the leading path axis (``prange``).

    Returns open, high, low, close, volume, each ``(n_paths, n_bars, n_assets)``.
    """
    n_paths, n_bars, n_assets = u_gap.shape
    out_open = np.empty((n_paths, n_bars, n_assets))
    out_high = np.empty((n_paths, n_bars, n_assets))
    out_low = np.empty((n_paths, n_bars, n_assets))
    out_close = np.empty((n_paths, n_bars, n_assets))
    out_volume = np.empty((n_paths, n_bars, n_assets))
    for p in prange(n_paths):
        simulate_path_nb(
            log_p0,
            mu,
            bubble_beta,
            dg,
            vol_scale,
            omega,
            alpha,
            beta,
            h0,
            loadings,
            overnight,
            base_volume,
            volume_sens,
            volume_noise,
            e[p],
            u_gap[p],
            x_high[p],
            x_low[p],
            n_vol[p],
            out_open[p],
            out_high[p],
            out_low[p],
            out_close[p],
            out_volume[p],
        )
    return out_open, out_high, out_low, out_close, out_volume
