"""The fused sweep (numba): targets -> the engine -> statistics per combination, in parallel, without records.

numba only: plain arrays in, arrays out; no pandas.

Each combination runs a kind's target kernel (:mod:`targets_nb`) over the
history up to the window's last bar, the window's rows exactly as
:func:`shortthehype.runner.prepare_window` and the engine select them
(:func:`window_rows_2d_nb`), the engine (:func:`simulate_accrued_nb`, its
accrual factors computed once for all combinations) without records, and
:func:`sweep_stats_nb` (the statistics and PBO block sums of the generic
path).  So a combination's row equals ``backtest()`` of its spec bit
for bit.  Combinations are dealt round-robin to threads, each with its own
buffers: memory grows with threads x history bars x assets, never with the
number of combinations.

A kind's driver (``<kind>_sweep_nb``) is a few lines that name its target
kernel: numba compiles a function passed as an argument afresh in every
process instead of caching it, so the loop is written once per kind and
everything inside it is shared (:func:`fused_buffers_nb`,
:func:`set_costs_nb`, :func:`targets_backtest_nb`).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit, prange

from shortthehype.core.literals_nb import at_run_time_nb
from shortthehype.core.simulate_nb import N_TOTALS, simulate_accrued_nb, with_max_gross_nb
from shortthehype.core.sweep_nb import sweep_stats_nb
from shortthehype.core.targets_nb import (
    ai_basket_targets_nb,
    bubble_timer_targets_nb,
    burry_short_targets_nb,
    dotcom_analog_targets_nb,
    option_contracts_targets_nb,
    fixed_weights_targets_nb,
    hype_hedge_targets_nb,
)


class FusedEngine(NamedTuple):
    """The engine inputs of the backtest window, shared by every combination of a sweep.

    The account's terms travel beside it, as the drivers' ``terms`` argument
    (:class:`~shortthehype.core.simulate_nb.AccountTerms`: numba's parallel
    loops take no tuple of arrays nested in another).  Prices ``(m, n_assets)`` and ``days`` ``(m,)`` cover the window, which
    starts at history bar ``lo``; a target on bar t executes on bar t +
    ``shift`` (0 for ``execution="close"``); ``prepend_init_cash`` starts the
    statistics' curve with ``init_cash`` (as ``Result.stats`` does for
    ``close``); the PBO's blocks start at return ``block_start`` and hold
    ``block_len`` returns each (``block_len`` 0: no blocks); ``accrual`` the
    window's accrual factors (:func:`~shortthehype.core.simulate_nb.accrual_factors_nb`).
    """

    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    days: np.ndarray
    last_valid: np.ndarray
    lo: int
    shift: int
    prepend_init_cash: bool
    ann_factor: float
    block_start: int
    block_len: int
    accrual: np.ndarray


@njit(cache=True)
def window_rows_2d_nb(targets, lo, hi, shift, row_bar, row_w) -> int:
    """Engine rows of ``targets`` (history bars x assets, NaN = no order) for the window of bars ``lo..hi``.

    The window's first bar carries, per asset, the last target at or before
    ``lo`` (:func:`shortthehype.runner.prepare_window`); rows without any
    target are dropped and a row executes at ``bar - lo + shift``, dropped
    when that is past the window (the engine's ``_target_rows``).  Writes
    ``row_bar[:n]`` and ``row_w[:n]``; returns ``n``.
    """
    k = targets.shape[1]
    last = hi - lo
    n = 0
    for t in range(lo, hi + 1):
        bar = t - lo + shift
        if bar > last:
            break
        if t > lo:  # most bars have no target: look before writing
            any_target = False
            for j in range(k):
                if not np.isnan(targets[t, j]):
                    any_target = True
                    break
            if not any_target:
                continue
        any_target = False
        for j in range(k):
            w = targets[t, j]
            if t == lo and np.isnan(w):
                for s in range(lo - 1, -1, -1):
                    if not np.isnan(targets[s, j]):
                        w = targets[s, j]
                        break
            row_w[n, j] = w
            if not np.isnan(w):
                any_target = True
        if any_target:
            row_bar[n] = bar
            n += 1
    return n


@njit(cache=True)
def fused_buffers_nb(eng, terms, n_assets, ap):
    """One thread's buffers: targets, window rows, per-asset costs, equity curve, cash, returns."""
    m = eng.close.shape[0]
    offset = 1 if eng.prepend_init_cash else 0
    targets = np.empty((eng.lo + m, n_assets))
    row_bar = np.empty(m + 1, dtype=np.int64)
    row_w = np.empty((m + 1, n_assets))
    curve = np.empty(m + offset)
    curve[0] = terms.init_cash
    return targets, row_bar, row_w, ap.copy(), curve, np.empty(m), np.empty(m + offset)


@njit(cache=True)
def set_costs_nb(ap_rows, ap_values, ap) -> None:
    """Per-asset parameter rows ``ap_rows`` of one combination: ``ap_values[i]`` for every asset."""
    for i in range(ap_rows.shape[0]):
        ap[ap_rows[i], :] = ap_values[i]


@njit(cache=True)
def targets_backtest_nb(eng, terms, targets, ap, max_gross, row_bar, row_w, curve, cash, returns, out, blocks) -> None:
    """Backtest one combination's history ``targets`` (its gross cap ``max_gross``): window rows, engine, statistics."""
    m = eng.close.shape[0]
    offset = curve.shape[0] - m
    n_rows = window_rows_2d_nb(targets, eng.lo, eng.lo + m - 1, eng.shift, row_bar, row_w)
    _, _, _, _, status = simulate_accrued_nb(
        eng.open, eng.high, eng.low, eng.close, eng.days, eng.last_valid, row_bar[:n_rows], row_w[:n_rows], ap,
        with_max_gross_nb(terms, max_gross), eng.accrual, at_run_time_nb(False), curve[offset:], cash,
        np.empty((0, eng.close.shape[1])), np.empty((0, N_TOTALS)),
    )
    sweep_stats_nb(curve, returns, eng.ann_factor, status, eng.block_start, eng.block_len, out, blocks)


@njit(cache=True, parallel=True)
def fixed_weights_sweep_nb(eng, terms, data, ip, fp, ap, ap_rows, ap_values, max_gross, n_threads, out, blocks):
    """``fixed-weights`` combination c (``ip[c]``, ``fp[c]``, costs ``ap_values[c]``, gross cap ``max_gross[c]``): statistics into ``out[c]``."""
    for thread in prange(n_threads):
        targets, row_bar, row_w, ap_c, curve, cash, returns = fused_buffers_nb(eng, terms, ap.shape[1], ap)
        for c in range(thread, ip.shape[0], n_threads):
            set_costs_nb(ap_rows, ap_values[c], ap_c)
            fixed_weights_targets_nb(data, ip[c], fp[c], eng.lo, targets)
            targets_backtest_nb(eng, terms, targets, ap_c, max_gross[c], row_bar, row_w, curve, cash, returns, out[c], blocks[c])
    return out


@njit(cache=True, parallel=True)
def ai_basket_sweep_nb(eng, terms, data, ip, fp, ap, ap_rows, ap_values, max_gross, n_threads, out, blocks):
    """``ai-basket`` combination c (``ip[c]``, ``fp[c]``, costs ``ap_values[c]``): statistics into ``out[c]``."""
    for thread in prange(n_threads):
        targets, row_bar, row_w, ap_c, curve, cash, returns = fused_buffers_nb(eng, terms, ap.shape[1], ap)
        for c in range(thread, ip.shape[0], n_threads):
            set_costs_nb(ap_rows, ap_values[c], ap_c)
            ai_basket_targets_nb(data, ip[c], fp[c], eng.lo, targets)
            targets_backtest_nb(eng, terms, targets, ap_c, max_gross[c], row_bar, row_w, curve, cash, returns, out[c], blocks[c])
    return out


@njit(cache=True, parallel=True)
def hype_hedge_sweep_nb(eng, terms, data, ip, fp, ap, ap_rows, ap_values, max_gross, n_threads, out, blocks):
    """``hype-hedge`` combination c (``ip[c]``, ``fp[c]``, costs ``ap_values[c]``): statistics into ``out[c]``."""
    for thread in prange(n_threads):
        targets, row_bar, row_w, ap_c, curve, cash, returns = fused_buffers_nb(eng, terms, ap.shape[1], ap)
        for c in range(thread, ip.shape[0], n_threads):
            set_costs_nb(ap_rows, ap_values[c], ap_c)
            hype_hedge_targets_nb(data, ip[c], fp[c], eng.lo, targets)
            targets_backtest_nb(eng, terms, targets, ap_c, max_gross[c], row_bar, row_w, curve, cash, returns, out[c], blocks[c])
    return out


@njit(cache=True, parallel=True)
def dotcom_analog_sweep_nb(eng, terms, data, ip, fp, ap, ap_rows, ap_values, max_gross, n_threads, out, blocks):
    """``dotcom-analog`` combination c: statistics into ``out[c]``."""
    for thread in prange(n_threads):
        targets, row_bar, row_w, ap_c, curve, cash, returns = fused_buffers_nb(eng, terms, ap.shape[1], ap)
        for c in range(thread, ip.shape[0], n_threads):
            set_costs_nb(ap_rows, ap_values[c], ap_c)
            dotcom_analog_targets_nb(data, ip[c], fp[c], eng.lo, targets)
            targets_backtest_nb(eng, terms, targets, ap_c, max_gross[c], row_bar, row_w, curve, cash, returns, out[c], blocks[c])
    return out


@njit(cache=True, parallel=True)
def burry_short_sweep_nb(eng, terms, data, ip, fp, ap, ap_rows, ap_values, max_gross, n_threads, out, blocks):
    """``burry-short`` combination c: statistics into ``out[c]``."""
    for thread in prange(n_threads):
        targets, row_bar, row_w, ap_c, curve, cash, returns = fused_buffers_nb(eng, terms, ap.shape[1], ap)
        for c in range(thread, ip.shape[0], n_threads):
            set_costs_nb(ap_rows, ap_values[c], ap_c)
            burry_short_targets_nb(data, ip[c], fp[c], eng.lo, targets)
            targets_backtest_nb(eng, terms, targets, ap_c, max_gross[c], row_bar, row_w, curve, cash, returns, out[c], blocks[c])
    return out


@njit(cache=True, parallel=True)
def bubble_timer_sweep_nb(eng, terms, data, ip, fp, ap, ap_rows, ap_values, max_gross, n_threads, out, blocks):
    """``bubble-timer`` combination c: statistics into ``out[c]``."""
    for thread in prange(n_threads):
        targets, row_bar, row_w, ap_c, curve, cash, returns = fused_buffers_nb(eng, terms, ap.shape[1], ap)
        for c in range(thread, ip.shape[0], n_threads):
            set_costs_nb(ap_rows, ap_values[c], ap_c)
            bubble_timer_targets_nb(data, ip[c], fp[c], eng.lo, targets)
            targets_backtest_nb(eng, terms, targets, ap_c, max_gross[c], row_bar, row_w, curve, cash, returns, out[c], blocks[c])
    return out


@njit(cache=True, parallel=True)
def option_contracts_sweep_nb(eng, terms, data, ip, fp, ap, ap_rows, ap_values, max_gross, n_threads, out, blocks):
    """``option-contracts`` combination c: statistics into ``out[c]``."""
    for thread in prange(n_threads):
        targets, row_bar, row_w, ap_c, curve, cash, returns = fused_buffers_nb(eng, terms, ap.shape[1], ap)
        for c in range(thread, ip.shape[0], n_threads):
            set_costs_nb(ap_rows, ap_values[c], ap_c)
            option_contracts_targets_nb(data, ip[c], fp[c], eng.lo, targets)
            targets_backtest_nb(eng, terms, targets, ap_c, max_gross[c], row_bar, row_w, curve, cash, returns, out[c], blocks[c])
    return out
