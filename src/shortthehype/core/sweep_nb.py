"""Parameter-sweep kernels (numba): the fused ma-crossover sweep, its statistics, and the CSCV of the PBO.

numba only: plain arrays in, arrays out; no pandas.

* :func:`ma_crossover_sweep_nb` runs one ``ma-crossover`` backtest per
  parameter combination, in parallel over combinations (per-thread buffers;
  memory grows with threads x bars, never with the number of combinations).
  Every moving average is computed once by the caller (``ma``, one row per
  window and ``sma`` summation method, :func:`rolling_means_nb`; the kernel
  only picks rows).  A combination takes one of two paths that give the
  same bits:

  - :func:`crossover_combo_fast_nb`, one pass over the bars that steps the
    crossing state machines, trades through a one-asset copy of the engine's
    rebalance (:func:`rebalance_one_nb`, :func:`fill_one_nb`) and accumulates
    the statistics as it goes.  It applies when every bar has a price and
    there are no stops, no maintenance margin, no bankruptcy and no close
    above ``max_gross`` (it gives up and returns False at the first equity
    <= 0 or gross-cap breach);
  - :func:`crossover_combo_slow_nb`, the composition of the shared kernels
    (``signals_nb`` crossings, :func:`window_rows_nb`, the engine's
    ``simulate_core_nb``, :func:`sweep_stats_nb`): every engine feature.

  The one-asset copy is the price of speed (about 3x): the tests compare the
  two paths bit for bit on random markets with every cost, accrual, limit
  and execution mode, so a change of the engine's arithmetic that the copy
  misses fails them.
* :func:`sweep_stats_nb` reduces an equity curve with the kernels of
  :mod:`metrics_nb` (those of :func:`shortthehype.metrics.compute_stats`), so
  a sweep row equals ``Result.stats()``; the generic sweep uses it too.
* :func:`cscv_logits_nb` is the combinatorially symmetric cross-validation of
  Bailey, Borwein, López de Prado & Zhu (2015) on per-block return sums.

Round-off: the per-split Sharpe ratios of the CSCV come from block sums and
squares (one pass), which differ from a two-pass standard deviation in the
last bits only (ties between identical trials stay ties).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from shortthehype.constants import CASH_TOLERANCE, DAY_COUNT_BASIS, DISPERSION_TOL, GROSS_TOLERANCE
from shortthehype.core.batch_nb import reduce_equity_nb, stats_from_returns_nb
from shortthehype.core.literals_nb import at_run_time_nb
from shortthehype.core import simulate_nb as simnb
from shortthehype.core.signals_nb import (
    crossed_above_1d_nb,
    prefix_sums_1d_nb,
    rolling_mean_1d_nb,
    rolling_mean_prefix_1d_nb,
    signal_targets_1d_nb,
)
from shortthehype.core.simulate_nb import last_valid_bar_nb, simulate_core_nb
from shortthehype.enums import (
    AP_BORROW_FEE,
    AP_FEES,
    AP_FIXED_FEES,
    AP_SLIPPAGE,
    AP_STOP_LOSS,
    AP_TAKE_PROFIT,
    AP_TRAILING_STOP,
)

#: Per block: sum of returns, sum of squared returns.
N_BLOCK_SUMS = 2


# ---- targets of one combination, restricted to the backtest window ----------------------


@njit(cache=True)
def window_rows_nb(targets, lo, hi, shift, row_bar, row_w) -> int:
    """Kernel rows of one ticker's ``targets`` (NaN = no order) for the window of bars ``lo..hi``.

    As :func:`shortthehype.runner.prepare_window` and the engine build them:
    the window's first bar carries the last target at or before ``lo``; rows
    are the bars with a target, at ``bar - lo + shift`` (``shift`` 1 for the
    ``next_*`` executions), dropped when that is past the window.  Writes
    ``row_bar[:n]`` and ``row_w[:n, 0]``; returns ``n``.
    """
    in_force = np.nan
    for t in range(lo, -1, -1):
        if not np.isnan(targets[t]):
            in_force = targets[t]
            break
    last = hi - lo
    n = 0
    for t in range(lo, hi + 1):
        w = in_force if t == lo else targets[t]
        if np.isnan(w):
            continue
        bar = t - lo + shift
        if bar > last:
            break
        row_bar[n] = bar
        row_w[n, 0] = w
        n += 1
    return n


# ---- statistics of one equity curve --------------------------------------------------------


@njit(cache=True)
def block_sums_nb(returns, k, start, block_len, out) -> None:
    """Sum and sum of squares of ``returns`` over ``out.shape[0]`` consecutive blocks of ``block_len``.

    Blocks start at ``start`` (the first ``start`` returns are left out, so the
    blocks are equal); a return at or after position ``k`` (after ruin) counts
    as 0, as a dead account earns nothing.
    """
    for b in range(out.shape[0]):
        s = 0.0
        q = 0.0
        first = start + b * block_len
        for i in range(first, first + block_len):
            r = returns[i] if i < k else 0.0
            s += r
            q += r * r
        out[b, 0] = s
        out[b, 1] = q


@njit(cache=True)
def sweep_stats_nb(curve, returns, ann_factor, status, block_start, block_len, out, blocks) -> None:
    """Statistics of one equity curve (``curve[0]`` = start value) into ``out`` (:data:`~shortthehype.constants.KERNEL_STATS` order).

    The batch statistics (:func:`~shortthehype.core.batch_nb.reduce_equity_nb`,
    the same kernels as :func:`shortthehype.metrics.compute_stats` on the same
    returns, so each value equals ``Result.stats()``'s).  ``blocks`` (S, 2)
    receives the per-block return sums for the PBO (nothing when S is 0).
    """
    k = reduce_equity_nb(curve, returns, ann_factor, status, out)
    if blocks.shape[0] > 0:
        block_sums_nb(returns, k, block_start, block_len, blocks)


# ---- the fused ma-crossover sweep ----------------------------------------------------------


@njit(cache=True)
def crossover_combo_slow_nb(
    open_, high, low, close, days, last_valid, fast, slow, allow_short, ap, lo, hi, terms, shift, ann_factor,
    block_start, block_len, up, down, targets, row_bar, row_w, curve, cash, returns, out, blocks,
) -> None:
    """One combination by composition of the shared kernels: signals, window rows, engine, statistics.

    The reference path, valid for every engine feature (stops, margin calls,
    bankruptcy, halts).  ``open_ .. close``, ``days`` and ``last_valid`` cover
    the window ``lo..hi`` only, ``fast``/``slow`` the whole history; ``curve``
    has one extra leading slot holding ``init_cash`` when the statistics start
    before the window's first bar.
    """
    m = close.shape[0]
    offset = curve.shape[0] - m
    crossed_above_1d_nb(fast[: hi + 1], slow[: hi + 1], up)
    crossed_above_1d_nb(slow[: hi + 1], fast[: hi + 1], down)
    signal_targets_1d_nb(up[: hi + 1], down[: hi + 1], allow_short, targets)
    n_rows = window_rows_nb(targets, lo, hi, shift, row_bar, row_w)
    _, _, _, _, status = simulate_core_nb(
        open_, high, low, close, days, last_valid, row_bar[:n_rows], row_w[:n_rows], ap, terms, at_run_time_nb(False), curve[offset:], cash, np.empty((0, close.shape[1])), np.empty((0, simnb.N_TOTALS)),
    )
    sweep_stats_nb(curve, returns, ann_factor, status, block_start, block_len, out, blocks)


@njit(cache=True, inline="always")
def fill_one_nb(cash, pos, target, price, fees, fixed_fees, slippage):
    """``fill_nb`` for one asset on scalars: trade ``pos`` to ``target`` shares at ``price``; returns (cash, pos)."""
    size = target - pos
    if size == 0.0:
        return cash, pos
    if size > 0.0:
        fill = price * (1.0 + slippage)
    else:
        fill = price * (1.0 - slippage)
    qty = abs(size)
    fee = qty * fill * fees + fixed_fees
    return cash - (size * fill + fee), target


@njit(cache=True, inline="always")
def rebalance_one_nb(cash, pos, px, w, max_gross, integer_shares, renormalize, fees, fixed_fees, slippage):
    """``rebalance_nb`` for one asset with a finite price ``px`` on scalars; returns (cash, pos).

    The same operations in the same order as the engine's: value, target
    shares, the cash floor, sell first, then a buy cut to the cash available.
    """
    value = cash
    if pos != 0.0:
        value += pos * px
    if not value > 0.0:
        return cash, pos
    tradeable = simnb.tradeable_target_nb(px, w)
    requested = abs(w)
    tradeable_w = requested if tradeable else 0.0
    scale = 1.0
    if renormalize and tradeable_w > 0.0:
        scale = requested / tradeable_w
    if tradeable_w * scale > max_gross:
        scale = max_gross / tradeable_w
    if not tradeable:
        tgt = pos
    elif w == 0.0:
        tgt = 0.0
    else:
        tgt = (w * scale) * value / px
        if integer_shares:
            tgt = np.trunc(tgt)
    planned = value
    if tgt != 0.0:
        planned -= tgt * px
    floor = min(0.0, planned)
    size = tgt - pos
    if size < 0.0 and not simnb.is_noise_nb(size, pos, tgt):
        cash, pos = fill_one_nb(cash, pos, tgt, px, fees, fixed_fees, slippage)
    size = tgt - pos
    if not (size > 0.0 and not simnb.is_noise_nb(size, pos, tgt)):
        return cash, pos
    need_var = 0.0 + size * px * (1.0 + slippage) * (1.0 + fees)
    need_fixed = 0.0 + fixed_fees
    if need_var == 0.0:
        return cash, pos
    available = cash - floor
    if need_var + need_fixed <= available + CASH_TOLERANCE * value:
        target = tgt
    else:
        k = (available - need_fixed) / need_var
        if k <= 0.0:
            return cash, pos
        if integer_shares:
            target = pos + np.floor(k * size)
        else:
            target = pos + k * size
    if target != pos:
        cash, pos = fill_one_nb(cash, pos, target, px, fees, fixed_fees, slippage)
    return cash, pos


@njit(cache=True, error_model="numpy")
def crossover_combo_fast_nb(
    open_, close, days, accrual, earns_interest, fast, slow, allow_short, ap, lo, hi, terms, shift, prepend_init_cash,
    ann_factor, block_start, block_len, returns, out, blocks,
) -> bool:
    """One combination in a single pass over the bars; returns False (``out`` untouched) when it cannot.

    Valid when the window has no missing close and there are no stops and no
    maintenance margin (the caller checks) and equity stays > 0 and gross
    exposure within ``max_gross`` at every close (checked here: a bankruptcy
    or a breach returns False and the caller takes the reference path).  Under those conditions it equals :func:`crossover_combo_slow_nb`
    bit for bit, because it runs the same arithmetic in the same order (the
    tests compare the two on random markets, costs and settings):

    * the two crossings and the side are the state machines of
      ``crossed_above_1d_nb`` (twice) and ``signal_targets_1d_nb`` stepped
      together; targets before ``lo`` only set the target in force;
    * accrual, the rebalance and the marking are the engine's (``accrue_nb``,
      ``rebalance_nb``, ``mark_to_market_nb``) written for one asset on
      scalars, in ``simulate_core_nb``'s order within a bar;
    * the statistics repeat the :mod:`metrics_nb` kernels operation for
      operation (sequential sums, the same dispersion rule); the two-pass
      standard deviation reads the returns kept in ``returns``, and the
      drawdown divides once per peak (the deepest point under a peak gives
      that peak's deepest ratio, as rounding is monotonic).
    """
    init_cash = terms.init_cash
    max_gross, integer_shares, renormalize, exec_at_open = (
        terms.max_gross, terms.integer_shares, terms.renormalize, terms.exec_at_open
    )
    fees = ap[AP_FEES, 0]
    fixed_fees = ap[AP_FIXED_FEES, 0]
    slippage = ap[AP_SLIPPAGE, 0]
    borrow_fee = ap[AP_BORROW_FEE, 0]
    accrues = earns_interest or borrow_fee != 0.0
    gross_ratio = 1.0 / max_gross  # close_check_nb's test of the cap
    capped = gross_ratio > 0.0  # max_gross finite: without a cap the test never holds
    exit_side = -1.0 if allow_short else 0.0
    cash = init_cash
    pos = 0.0
    last_px = np.nan
    # signals: crossed_above(fast, slow) and crossed_above(slow, fast) state, the side held
    below_up = False
    above_up = False
    below_dn = False
    above_dn = False
    side = 0.0
    in_force = np.nan
    pending = np.nan  # the previous bar's target: it executes now when shift == 1
    # statistics: the mean's sum here, the rest from the kept returns after the loop (stats_from_returns_nb)
    first_value = init_cash
    prev = init_cash
    k = 0
    total = 0.0
    equity = init_cash
    t = -1
    while t < hi:
        t += 1
        f = fast[t]
        s = slow[t]
        up = False
        dn = False
        if np.isnan(f) or np.isnan(s):
            below_up = False
            above_up = False
            below_dn = False
            above_dn = False
        elif f > s:
            up = below_up and not above_up
            above_up = True
            below_dn = True
            above_dn = False
        elif f < s:
            below_up = True
            above_up = False
            dn = below_dn and not above_dn
            above_dn = True
        else:
            above_up = False
            above_dn = False
        target = np.nan
        if up and side != 1.0:
            side = 1.0
            target = side
        elif dn and side != exit_side:
            side = exit_side
            target = side
        if t < lo:
            if not np.isnan(target):
                in_force = target
            continue
        if t == lo and np.isnan(target):
            target = in_force
        i = t - lo
        if i > 0 and accrues and days[i] > 0.0:
            cash = _accrue_one_nb(cash, pos, last_px, accrual[0, i], accrual[1, i], borrow_fee, days[i])
        w = target if shift == 0 else pending
        pending = target
        if not np.isnan(w):
            px = open_[i, 0] if exec_at_open else close[i, 0]
            cash, pos = rebalance_one_nb(cash, pos, px, w, max_gross, integer_shares, renormalize, fees, fixed_fees,
                                         slippage)
            if exec_at_open:  # execution_point_nb's bankruptcy check after trading at the open
                after = cash
                if pos != 0.0:
                    after += pos * px
                if not after > 0.0:
                    return False
        last_px = close[i, 0]
        equity, alive = _mark_one_nb(cash, pos, last_px, capped, gross_ratio)
        if not alive:
            return False
        if i == 0 and not prepend_init_cash:
            first_value = equity
            prev = equity
            continue
        r = equity / prev - 1.0
        prev = equity
        returns[k] = r
        total += r
        k += 1
        if not (shift == 0 or np.isnan(pending)):
            continue
        # The bars that compare fast and slow as bar t did (above, below, equal or undefined) leave the crossing
        # state as it is and set no target: they only accrue and mark the position, in this loop.
        code = _comparison_nb(f, s)
        # (t >= lo >= 0 and k >= 0 here: an unsigned index spares numba's test for a negative one on every bar)
        if pos == 0.0 and not accrues:  # flat: equity is the cash, the previous equity: each return is 0 (x / x - 1)
            while t < hi and _compares_as_nb(code, fast[np.uint64(t + 1)], slow[np.uint64(t + 1)]):
                t += 1
                returns[np.uint64(k)] = 0.0
                k += 1
            continue
        while t < hi and _compares_as_nb(code, fast[np.uint64(t + 1)], slow[np.uint64(t + 1)]):
            t += 1
            i = np.uint64(t - lo)
            if accrues and days[i] > 0.0:
                cash = _accrue_one_nb(cash, pos, last_px, accrual[0, i], accrual[1, i], borrow_fee, days[i])
            last_px = close[i, 0]
            equity, alive = _mark_one_nb(cash, pos, last_px, capped, gross_ratio)
            if not alive:
                return False
            r = equity / prev - 1.0
            prev = equity
            returns[np.uint64(k)] = r
            total += r
            k += 1
    stats_from_returns_nb(returns, k, total, equity, first_value, ann_factor, block_start, block_len, out, blocks)
    return True


@njit(cache=True, inline="always")
def _accrue_one_nb(cash, pos, last_px, factor, factor_negative, borrow_fee, days):
    """``accrue_nb`` for one asset on scalars: the cash after ``days`` calendar days of interest and borrow."""
    cash += cash * (factor if cash > 0.0 else factor_negative)
    if pos < 0.0 and borrow_fee > 0.0:
        cash -= borrow_fee * (-pos) * last_px * days / DAY_COUNT_BASIS
    return cash


@njit(cache=True, inline="always")
def _mark_one_nb(cash, pos, px, capped, gross_ratio):
    """``mark_to_market_nb`` and the fast path's limits: (equity at ``px``, whether it is > 0 and within the cap)."""
    equity = cash
    if pos != 0.0:
        equity += pos * px
        if capped and equity < gross_ratio * (0.0 + abs(pos * px)) * (1.0 - GROSS_TOLERANCE):
            return equity, False
    return equity, equity > 0.0


@njit(cache=True, inline="always")
def _comparison_nb(f, s) -> int:
    """1 when ``f > s``, 2 when ``f < s``, 3 when equal, 0 when either is NaN (what the crossing state reads)."""
    return (f > s) + 2 * (f < s) + 3 * (f == s)


@njit(cache=True, inline="always")
def _compares_as_nb(code, f, s) -> bool:
    """Whether ``_comparison_nb(f, s) == code``, with one comparison for the code at hand."""
    if code == 1:
        return f > s
    if code == 2:
        return f < s
    if code == 3:
        return f == s
    return np.isnan(f) or np.isnan(s)


@njit(cache=True, parallel=True)
def rolling_means_nb(close, windows, cumulative, out):
    """``out[k]`` = simple moving average of ``close`` over ``windows[k]`` bars, in parallel over windows.

    ``cumulative`` False: :func:`rolling_mean_1d_nb` (each window summed);
    True: vectorbt's arithmetic, the running sums computed once and shared
    by every window (:func:`rolling_mean_prefix_1d_nb`, the same bits as
    :func:`rolling_mean_cumulative_1d_nb`).
    """
    if cumulative:
        n = close.shape[0]
        sums = np.empty(n)
        nans = np.empty(n, dtype=np.int64)
        prefix_sums_1d_nb(close, sums, nans)
        for k in prange(windows.shape[0]):
            rolling_mean_prefix_1d_nb(sums, nans, windows[k], out[k])
    else:
        for k in prange(windows.shape[0]):
            rolling_mean_1d_nb(close, windows[k], out[k])
    return out


@njit(cache=True, parallel=True)
def ma_crossover_sweep_nb(
    open_, high, low, close, days, ma, lo, fast_idx, slow_idx, allow_short, combo_ap, terms, shift, prepend_init_cash,
    ann_factor, block_start, block_len, n_threads, use_fast, out, blocks,
):
    """One ``ma-crossover`` backtest per combination c: statistics into ``out[c]``, block sums into ``blocks[c]``.

    ``open_ .. close`` ``(m, 1)``, ``days`` and ``terms`` (:class:`~shortthehype.core.simulate_nb.AccountTerms`, rates per bar) are
    the engine inputs of the backtest window, which starts at bar ``lo`` of the ticker's whole
    history; ``ma`` ``(n_rows, >= lo + m)`` holds the moving averages over
    that history (a row per window and ``sma`` method).  Combination c
    crosses ``ma[fast_idx[c]]`` with ``ma[slow_idx[c]]`` (long/cash, or
    long/short when ``allow_short[c]``) and
    trades with the per-asset parameters ``combo_ap[c]`` (``N_ASSET_PARAMS``
    values).  A target on bar t executes on bar t + ``shift`` (0 for
    ``execution="close"``, else 1); ``prepend_init_cash`` starts the
    statistics' curve with ``init_cash`` (as ``Result.stats`` does for
    ``close``).  Each combination takes :func:`crossover_combo_fast_nb` when it
    applies (``use_fast``, every bar tradeable, no stops, no maintenance
    margin, no bankruptcy) and :func:`crossover_combo_slow_nb` otherwise.  Combinations are dealt round-robin to
    ``n_threads`` workers, each with its own buffers.
    """
    n_combos = fast_idx.shape[0]
    m = close.shape[0]
    hi = lo + m - 1
    offset = 1 if prepend_init_cash else 0
    last_valid = last_valid_bar_nb(close)
    n_ap = combo_ap.shape[1]
    # the fast path needs every bar tradeable and no margin rule; stops are checked per combination
    fast_ok = use_fast and terms.maintenance_margin == 0.0
    for i in range(m):
        if not (np.isfinite(close[i, 0]) and np.isfinite(open_[i, 0])):
            fast_ok = False
    accrual = np.empty((2, m))
    simnb.accrual_factors_nb(days, terms.cash_rate, terms.cash_rate_negative, accrual)
    earns_interest = False  # any bar's cash rate not zero (the same for every combination)
    for i in range(m):
        if terms.cash_rate[i] != 0.0 or terms.cash_rate_negative[i] != 0.0:
            earns_interest = True
            break
    for thread in prange(n_threads):
        up = np.empty(hi + 1, dtype=np.bool_)
        down = np.empty(hi + 1, dtype=np.bool_)
        targets = np.empty(hi + 1)
        row_bar = np.empty(m + 1, dtype=np.int64)
        row_w = np.empty((m + 1, 1))
        ap = np.empty((n_ap, 1))
        curve = np.empty(m + offset)
        curve[0] = terms.init_cash
        cash = np.empty(m)
        returns = np.empty(m + offset)
        for c in range(thread, n_combos, n_threads):
            for p in range(n_ap):
                ap[p, 0] = combo_ap[c, p]
            fast = ma[fast_idx[c]]
            slow = ma[slow_idx[c]]
            no_stops = np.isnan(ap[AP_STOP_LOSS, 0]) and np.isnan(ap[AP_TAKE_PROFIT, 0]) and np.isnan(
                ap[AP_TRAILING_STOP, 0]
            )
            if fast_ok and no_stops and crossover_combo_fast_nb(
                open_, close, days, accrual, earns_interest, fast, slow, allow_short[c], ap, lo, hi, terms, shift,
                prepend_init_cash, ann_factor, block_start, block_len, returns, out[c], blocks[c],
            ):
                continue
            crossover_combo_slow_nb(
                open_, high, low, close, days, last_valid, fast, slow, allow_short[c], ap, lo, hi, terms, shift,
                ann_factor, block_start, block_len, up, down, targets, row_bar, row_w, curve, cash, returns, out[c],
                blocks[c],
            )
    return out


# ---- combinatorially symmetric cross-validation (PBO) -------------------------------------


@njit(cache=True, error_model="numpy")
def split_scores_nb(sums_t, blocks_of_set, n_obs, s, q, out) -> None:
    """A score ordered like every trial's Sharpe ratio over the union of ``blocks_of_set``, into ``out``.

    ``sums_t`` is ``(S, 2, n_trials)``: block-major, so the loops run over
    trials.  With ``s``, ``q`` the sum and sum of squares of ``n`` returns,
    the per-period Sharpe ratio (ddof 1) is ``SR = s / sqrt((n q - s^2) (n -
    1) / n)`` and the score ``s |s| / (n q - s^2)`` is ``SR |SR|`` times a
    positive constant: the same order, without a square root and with one
    division.  -inf when undefined: a variance at most ``DISPERSION_TOL``
    times the mean square (identical returns, whose one-pass variance is
    round-off, not zero).  ``s``, ``q``: scratch.
    """
    n = out.shape[0]
    s[:] = 0.0
    q[:] = 0.0
    for b in blocks_of_set:
        block_s = sums_t[b, 0]
        block_q = sums_t[b, 1]
        for i in range(n):
            s[i] += block_s[i]
            q[i] += block_q[i]
    threshold = DISPERSION_TOL * (n_obs - 1.0)
    for i in range(n):
        spread = n_obs * q[i] - s[i] * s[i]  # n (n - 1) variance
        if spread > threshold * q[i]:
            out[i] = s[i] * abs(s[i]) / spread
        else:
            out[i] = -np.inf


@njit(cache=True)
def relative_rank_logit_nb(scores, best):
    """``log(w / (1 - w))`` with ``w = rank / (n + 1)``, the average rank (1 = lowest) of ``scores[best]``."""
    mine = scores[best]
    less = 0
    equal = 0
    for i in range(scores.shape[0]):
        if scores[i] < mine:
            less += 1
        elif scores[i] == mine:
            equal += 1
    rank = less + (equal + 1) / 2.0
    w = rank / (scores.shape[0] + 1.0)
    return np.log(w / (1.0 - w))


@njit(cache=True)
def first_argmax_nb(values) -> int:
    """Position of the first largest value."""
    best = 0
    for i in range(1, values.shape[0]):
        if values[i] > values[best]:
            best = i
    return best


@njit(cache=True, parallel=True, error_model="numpy")
def cscv_logits_nb(sums_t, first_sets, second_sets, block_len, n_threads, out):
    """CSCV logits of complementary pairs of splits: ``out[c, 0]`` trains on ``first_sets[c]`` and tests on
    ``second_sets[c]``, ``out[c, 1]`` the reverse.

    ``sums_t`` ``(S, 2, n_trials)`` holds each block's sum and sum of squares
    of every trial's returns; a set is ``S/2`` block numbers.  The in-sample
    best is the first trial with the highest Sharpe ratio; ``out`` gets the
    logit of its out-of-sample relative rank (:func:`relative_rank_logit_nb`).
    A trial with an undefined Sharpe ratio ranks below every defined one.
    """
    n_trials = sums_t.shape[2]
    n_pairs = first_sets.shape[0]
    n_obs = first_sets.shape[1] * block_len
    for thread in prange(n_threads):
        first = np.empty(n_trials)
        second = np.empty(n_trials)
        s = np.empty(n_trials)
        q = np.empty(n_trials)
        for c in range(thread, n_pairs, n_threads):
            split_scores_nb(sums_t, first_sets[c], n_obs, s, q, first)
            split_scores_nb(sums_t, second_sets[c], n_obs, s, q, second)
            out[c, 0] = relative_rank_logit_nb(second, first_argmax_nb(first))
            out[c, 1] = relative_rank_logit_nb(first, first_argmax_nb(second))
    return out
