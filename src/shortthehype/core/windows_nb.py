"""Targets simulated over many windows of one or more histories, in parallel (numba): the entry-date and Monte Carlo studies.

numba only: plain arrays in, arrays out; no pandas.

An entry-date study has one history and many windows of it; a Monte Carlo
study one window per generated history (a path), all on one calendar.  The
targets are computed on the whole history: they never depend on the window
(where an entry moves the strategy's own entry dates, they are computed once
per entry; a path has its own).  Each window takes the rows of
:func:`window_rows_2d_nb` (the targets in force at its first bar carried onto
it, as :func:`shortthehype.runner.prepare_window` does), runs
:func:`simulate_core_nb` with records on the slices of its history's engine
inputs, and is reduced to every statistic of ``Result.stats`` by
:func:`backtest_stats_nb` from the same inputs the pandas layer builds (the
equity, the closed trades' returns, the held flag and turnover per bar, the
benchmark's closes).  So each window's row equals ``backtest()`` over that
window bit for bit.  Windows are dealt round-robin to threads, each with its
own buffers: memory grows with threads x the longest window x assets, never
with the number of windows.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from shortthehype.core.fused_nb import window_rows_2d_nb
from shortthehype.core.literals_nb import at_run_time_nb
from shortthehype.core.metrics_nb import backtest_stats_nb, held_and_turnover_nb
from shortthehype.core.simulate_nb import N_TOTALS, AccountTerms, last_valid_bar_nb, simulate_core_nb
from shortthehype.enums import TradeStatus

#: A window's status in :func:`window_stats_nb`: its row is written; or its inputs would make the pandas layer
#: raise (an equity that is not finite or does not start above 0, a benchmark without a price): run it there.
WINDOW_DONE = 0
WINDOW_ELSEWHERE = 1


@njit(cache=True, parallel=True)
def window_stats_nb(open_, high, low, close, days, cash_rate, cash_rate_negative, bench, market_of, targets, target_of,
                    ap, terms, los, his, shift, prepend_init_cash, has_bench, risk_free, ann_factor, var_cutoff,
                    undefined_when_ruined, n_threads, out, final, status):
    """Window w (bars ``los[w]..his[w]`` of history ``market_of[w]``): every statistic into ``out[w]``, its last
    equity into ``final[w]``.

    ``open_ .. close`` ``(n_markets, n_bars, n_assets)``, ``days``,
    ``cash_rate``, ``cash_rate_negative`` ``(n_markets, n_bars)``: the engine
    inputs of each history on one calendar (one history for an entry-date
    study, one per generated path for a Monte Carlo study); ``terms`` the
    account's other terms, every history's (its own rate arrays are not
    read); ``targets[target_of[w]]`` window w's target weights on its history
    (NaN = no order); ``bench`` ``(n_markets, n_bars)`` the benchmark's close
    per bar (read when ``has_bench``).  A target on bar t executes on bar t + ``shift``;
    ``prepend_init_cash`` starts the statistics' equity with ``init_cash`` (as
    ``Result.stats`` does for ``execution="close"``).  ``out`` takes
    ``STATS_KEYS`` then ``BENCHMARK_STATS_KEYS``; ``status[w]`` is
    :data:`WINDOW_DONE`, or :data:`WINDOW_ELSEWHERE` where the pandas layer
    must run the window (its row is then not written).
    """
    n_windows = los.shape[0]
    n = close.shape[1]
    offset = 1 if prepend_init_cash else 0
    longest = 0
    for w in range(n_windows):
        longest = max(longest, his[w] - los[w] + 1)
    has = np.array([True, True, True, has_bench])
    for thread in prange(n_threads):
        window_days = np.empty(longest)
        row_bar = np.empty(longest + 1, dtype=np.int64)
        row_w = np.empty((longest + 1, n))
        equity = np.empty(longest)
        cash = np.empty(longest)
        positions = np.empty((longest, n))
        no_costs = np.empty((0, N_TOTALS))
        values = np.empty(longest + offset)
        held = np.empty(longest + offset)
        traded = np.empty(longest + offset)
        bench_w = np.empty(longest + offset)
        for w in range(thread, n_windows, n_threads):
            lo = los[w]
            hi = his[w]
            m = hi - lo + 1
            market = market_of[w]
            window_days[:m] = days[market, lo : hi + 1]
            window_days[0] = 0.0  # the days before the window's first bar: none, as for a run that starts there
            window_terms = AccountTerms(
                terms.init_cash, cash_rate[market, lo : hi + 1], cash_rate_negative[market, lo : hi + 1], terms.max_gross,
                terms.maintenance_margin, terms.exec_at_open, terms.integer_shares, terms.renormalize,
            )
            window_close = close[market, lo : hi + 1]
            n_rows = window_rows_2d_nb(targets[target_of[w]], lo, hi, shift, row_bar, row_w)
            orders, trades, _, _, _ = simulate_core_nb(
                open_[market, lo : hi + 1], high[market, lo : hi + 1], low[market, lo : hi + 1], window_close,
                window_days[:m],
                last_valid_bar_nb(window_close), row_bar[:n_rows], row_w[:n_rows], ap, window_terms, at_run_time_nb(True),
                equity[:m], cash[:m], positions[:m], no_costs,
            )
            if offset:
                values[0] = terms.init_cash
                bench_w[0] = np.nan
            finite = True
            priced = False
            for i in range(m):
                values[offset + i] = equity[i]
                finite = finite and np.isfinite(equity[i])
                if has_bench:
                    bench_w[offset + i] = bench[market, lo + i]
                    priced = priced or not np.isnan(bench[market, lo + i])
            if not (finite and values[0] > 0.0) or (has_bench and not priced):
                status[w] = WINDOW_ELSEWHERE
                continue
            held_and_turnover_nb(window_close, positions[:m], equity[:m], orders, offset, held, traded)
            closed = np.empty(trades.shape[0])
            n_closed = 0
            for k in range(trades.shape[0]):
                if trades[k]["status"] == TradeStatus.CLOSED:
                    closed[n_closed] = trades[k]["ret"]
                    n_closed += 1
            backtest_stats_nb(values[: m + offset], closed[:n_closed], held[: m + offset], traded[: m + offset],
                              bench_w[: m + offset], has, risk_free, ann_factor, var_cutoff, undefined_when_ruined,
                              out[w])
            final[w] = equity[m - 1]
            status[w] = WINDOW_DONE
    return out
