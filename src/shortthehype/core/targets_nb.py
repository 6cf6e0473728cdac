"""Target-weight kernels of the built-in strategy kinds (numba): one combination's parameters -> targets.

numba only: plain arrays in, arrays out; no pandas.  A kind's kernel has
the signature ``<kind>_targets_nb(data, ip, fp, first, out)``:

* ``data`` is a tuple of arrays the pandas layer prepared once for a whole
  sweep (rebalance calendars, indicators per distinct window), history bars
  on axis 0;
* ``ip`` (int64) and ``fp`` (float64) are one combination's parameters,
  encoded by the kind's :class:`shortthehype.fused.FusedTargets`;
* ``out`` ``(n, n_assets)`` receives the targets of history bars ``0..n-1``
  (NaN = no order), ``n`` at most the prepared history's length: every value
  on bar t uses data up to bar t only, so a caller may stop at the window's
  last bar.  Bars before ``first`` (the window's first bar; 0 for every
  row) matter only through the targets in force at ``first``: a kernel may
  leave them NaN except for the rows that set those, and may leave unwritten
  the rows before a row that sets every asset (the window's reader,
  ``fused_nb.window_rows_2d_nb``, searches back from ``first`` and stops
  there).

Both :func:`shortthehype.backtest` (through the kind's ``target_weights``)
and the fused sweep (:mod:`shortthehype.core.fused_nb`) call these kernels,
so a strategy is written once.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from shortthehype.constants import HEDGE_MIN_BETA
from shortthehype.core.borrow_nb import borrowed_nb
from shortthehype.core.literals_nb import at_run_time_nb

#: ``ip[0]`` of ai-basket: the weighting (the order of ``ai_basket.WEIGHTINGS``).
WEIGHT_EQUAL = 0
WEIGHT_INVERSE_VOL = 1
WEIGHT_MOMENTUM = 2


# ---- rows ---------------------------------------------------------------------------------


@njit(cache=True, inline="always")
def fill_row_nb(row, value) -> None:
    """``row[:] = value`` as a plain loop: numba's slice assignment costs several times more on short rows."""
    row = borrowed_nb(row)  # inlined into loops over bars: see fill_bar_nb
    for j in range(row.shape[0]):
        row[j] = value


@njit(cache=True, inline="always")
def fill_bar_nb(out, t, value) -> None:
    """``out[t, :] = value`` as a plain loop, without taking a view of the row (each view is reference counted)."""
    # inlined into loops over bars: a kernel that returns early (burry_short_targets_nb) otherwise counted a reference
    # to ``out`` on every bar (core/borrow_nb.py)
    out = borrowed_nb(out)
    for j in range(out.shape[1]):
        out[t, j] = value


# ---- fixed-weights ----------------------------------------------------------------------


@njit(cache=True)
def fixed_weights_targets_nb(data, ip, fp, first, out) -> None:
    """``fp`` (one weight per ticker) on the bars of rebalance calendar ``ip[0]``, NaN elsewhere.

    ``data = (calendars,)``: ``calendars`` ``(n_calendars, n_bars)`` bool.
    Rows are written from the last rebalance bar at or before ``first`` (it
    sets every ticker), or from bar 0 when there is none.
    """
    calendar = data[0][ip[0]]
    start = min(first, out.shape[0] - 1)
    while start > 0 and not calendar[start]:
        start -= 1
    for t in range(max(start, 0), out.shape[0]):
        if calendar[t]:
            for j in range(out.shape[1]):
                out[t, j] = fp[j]
        else:
            fill_bar_nb(out, t, np.nan)


# ---- the AI basket ----------------------------------------------------------------------


@njit(cache=True)
def basket_index_nb(close, out) -> None:
    """Equal-weight, daily-rebalanced index of the tickers with a close on t and t-1; ``out[0]`` = 1."""
    n, k = close.shape
    if n == 0:
        return
    level = 1.0
    out[0] = level
    for t in range(1, n):
        total = 0.0
        count = 0
        for j in range(k):
            r = close[t, j] / close[t - 1, j] - 1.0
            if np.isfinite(r):
                total += r
                count += 1
        growth = 1.0 + (total / count if count > 0 else 0.0)
        level = level * growth
        out[t] = level


@njit(cache=True)
def momentum_nb(close, window, out) -> None:
    """Trailing total return ``close[t] / close[t - window] - 1`` (NaN for the first ``window`` bars)."""
    n, k = close.shape
    for t in range(n):
        for j in range(k):
            out[t, j] = close[t, j] / close[t - window, j] - 1.0 if t >= window else np.nan


@njit(cache=True)
def basket_weights_row_nb(weighting, close_row, vol_row, momentum_row, tilt, out) -> None:
    """One bar's basket weights into ``out`` (sum 1 over the members, 0 elsewhere; all NaN without members).

    Members and raw weights as in :mod:`shortthehype.strategies.ai_basket`:
    ``equal`` = the tickers with a close, raw 1; ``inverse_vol`` = those with
    a close and a finite volatility > 0, raw 1/vol; ``momentum`` = those with
    a finite trailing return, raw (1 - tilt)/m + tilt x rank / (m (m + 1)/2)
    with average ranks for ties (1 = lowest).
    """
    # called on every row: borrowed arguments spare numba's reference counting (core/borrow_nb.py)
    close_row, vol_row, momentum_row = borrowed_nb(close_row), borrowed_nb(vol_row), borrowed_nb(momentum_row)
    out = borrowed_nb(out)
    k = out.shape[0]
    m = 0
    for j in range(k):
        if weighting == WEIGHT_EQUAL:
            member = np.isfinite(close_row[j])
        elif weighting == WEIGHT_INVERSE_VOL:
            member = np.isfinite(vol_row[j]) and vol_row[j] > 0.0 and np.isfinite(close_row[j])
        else:
            member = np.isfinite(momentum_row[j])
        out[j] = 1.0 if member else 0.0
        if member:
            m += 1
    total = 0.0
    for j in range(k):
        if out[j] == 0.0:
            continue
        if weighting == WEIGHT_INVERSE_VOL:
            out[j] = 1.0 / vol_row[j]
        elif weighting == WEIGHT_MOMENTUM:
            below = 0
            tied = 0
            for i in range(k):
                if np.isfinite(momentum_row[i]):
                    if momentum_row[i] < momentum_row[j]:
                        below += 1
                    elif momentum_row[i] == momentum_row[j]:
                        tied += 1
            rank = below + (tied + 1) / 2.0
            out[j] = (1.0 - tilt) / m + tilt * (rank / (m * (m + 1.0) / 2.0))
        total += out[j]
    for j in range(k):
        out[j] = out[j] / total if total > 0.0 else np.nan


@njit(cache=True)
def basket_weights_nb(weighting, close, vol, momentum, tilt, out) -> None:
    """:func:`basket_weights_row_nb` on every bar (``vol`` / ``momentum`` may be empty when not used)."""
    for t in range(close.shape[0]):
        vol_row = vol[t] if weighting == WEIGHT_INVERSE_VOL else close[t]
        momentum_row = momentum[t] if weighting == WEIGHT_MOMENTUM else close[t]
        basket_weights_row_nb(weighting, close[t], vol_row, momentum_row, tilt, out[t])


@njit(cache=True)
def trend_side_nb(level, average, out) -> None:
    """1.0 while ``level > average``, 0.0 while below; a tie or an undefined average keeps the state (from 1.0)."""
    state = 1.0
    for t in range(out.shape[0]):
        if level[t] > average[t]:
            state = 1.0
        elif level[t] < average[t]:
            state = 0.0
        out[t] = state


@njit(cache=True)
def side_row_nb(side, rebalance, t, row) -> bool:
    """Bar t's row of a signed-exposure strategy; True when it is ``side[t]`` x the weights (the caller's part).

    A row is emitted on rebalance bars and on bars where ``side`` changes;
    otherwise ``row`` is NaN (no order).  An emitted row with side 0 is all
    zeros (cash), whatever the weights.
    """
    side, rebalance, row = borrowed_nb(side), borrowed_nb(rebalance), borrowed_nb(row)  # (see basket_weights_row_nb)
    if not emits_row_nb(side, rebalance, t):
        fill_row_nb(row, np.nan)
        return False
    if side[t] == 0.0:
        fill_row_nb(row, 0.0)
        return False
    return True


@njit(cache=True, inline="always")
def emits_row_nb(side, rebalance, t) -> bool:
    """Whether bar t has a row: a rebalance bar, or a bar where ``side`` changes."""
    return rebalance[t] or (t > 0 and side[t] != side[t - 1])


@njit(cache=True)
def side_targets_nb(weights, side, rebalance, out) -> None:
    """:func:`side_row_nb` on every bar, with precomputed ``weights`` ``(n, k)``."""
    for t in range(out.shape[0]):
        if side_row_nb(side, rebalance, t, out[t]):
            for j in range(out.shape[1]):
                out[t, j] = weights[t, j] * side[t]


@njit(cache=True)
def ai_basket_targets_nb(data, ip, fp, first, out) -> None:
    """ai-basket's targets: basket weights x trend side x exposure on rebalance and switch bars.

    ``data = (close, calendars, index, trend_means, vols, momenta)``:
    closes ``(n, k)``; rebalance calendars ``(n_cal, n)`` bool; the basket
    index ``(n,)``; its moving average per trend window ``(n_trend, n)``;
    the annualised volatility per vol window ``(n_vol, n, k)``; the trailing
    return per momentum window ``(n_mom, n, k)``.  ``ip`` = (weighting,
    calendar, trend row or -1 for no filter, vol row, momentum row);
    ``fp`` = (exposure, momentum tilt).
    """
    close, calendars, index, trend_means, vols, momenta = data
    weighting = ip[0]
    rebalance = calendars[ip[1]]
    exposure = fp[0]
    n = out.shape[0]
    side = np.empty(n)
    if ip[2] < 0:
        side[:] = 1.0
    else:
        trend_side_nb(index, trend_means[ip[2]], side)
    for t in range(n):
        side[t] = side[t] * exposure
    vol = vols[ip[3]] if weighting == WEIGHT_INVERSE_VOL else close
    momentum = momenta[ip[4]] if weighting == WEIGHT_MOMENTUM else close
    basket_side_targets_nb(weighting, close, vol, momentum, fp[1], side, rebalance, first, out)


@njit(cache=True)
def basket_side_targets_nb(weighting, close, vol, momentum, tilt, side, rebalance, first, out) -> None:
    """The basket's weights x ``side`` on the bars :func:`side_row_nb` emits (all NaN elsewhere).

    Before ``first`` the rows are computed back to the last one that is not
    all NaN, and the earlier ones are left unwritten: a basket row is all NaN
    or all set, so that row is in force at ``first`` for every ticker.
    """
    out = borrowed_nb(out)  # its rows are passed on as views (see basket_weights_row_nb)
    n = out.shape[0]
    for t in range(min(first, n) - 1, -1, -1):
        _basket_row_nb(weighting, close, vol, momentum, tilt, side, rebalance, t, out[t])
        if out.shape[1] > 0 and not np.isnan(out[t, 0]):
            break
    for t in range(first, n):
        if emits_row_nb(side, rebalance, t):
            _basket_row_nb(weighting, close, vol, momentum, tilt, side, rebalance, t, out[t])
        else:  # most bars: NaN written here, as a call that takes the row costs several times more (views, references)
            fill_bar_nb(out, t, np.nan)


@njit(cache=True)
def _basket_row_nb(weighting, close, vol, momentum, tilt, side, rebalance, t, row) -> None:
    """Bar t's ai-basket target row into ``row`` (all NaN, all 0, or side x the basket weights)."""
    close, vol, momentum = borrowed_nb(close), borrowed_nb(vol), borrowed_nb(momentum)  # (see basket_weights_row_nb)
    side, rebalance, row = borrowed_nb(side), borrowed_nb(rebalance), borrowed_nb(row)
    if side_row_nb(side, rebalance, t, row):
        basket_weights_row_nb(weighting, close[t], vol[t], momentum[t], tilt, row)
        for j in range(row.shape[0]):
            row[j] = row[j] * side[t]


# ---- the dotcom analogy, calendar mode ----------------------------------------------------------

#: Phase codes (the order of ``dotcom_analog.PHASES``).
PHASE_PRE = 0
PHASE_BOOM = 1
PHASE_BUST = 2
PHASE_RECOVERY = 3
PHASE_UNKNOWN = 4


@njit(cache=True)
def phase_code_nb(mapped, start, turn, trough) -> int:
    """The dotcom phase of a mapped day number: pre, boom (to ``turn``), bust (to ``trough``), recovery; NaN: unknown."""
    if np.isnan(mapped):
        return PHASE_UNKNOWN
    if mapped < start:
        return PHASE_PRE
    if mapped < turn:
        return PHASE_BOOM
    if mapped < trough:
        return PHASE_BUST
    return PHASE_RECOVERY


@njit(cache=True)
def phase_codes_nb(mapped, start, turn, trough, out) -> None:
    """:func:`phase_code_nb` of every mapped day number."""
    for t in range(mapped.shape[0]):
        out[t] = phase_code_nb(mapped[t], start, turn, trough)


@njit(cache=True)
def dotcom_analog_targets_nb(data, ip, fp, first, out) -> None:
    """dotcom-analog: the equal-weight basket x the exposure of each bar's mapped phase.

    ``data = (close, calendars, days, path_days)``: closes ``(n, k)``,
    rebalance calendars ``(n_cal, n)`` bool, the bars' day numbers ``(n,)``,
    and per path-mode fit ``(n_fits, n)`` the mapped day number of the last
    decision at or before each bar (NaN before the first decision and where
    the fit found no alignment: phase unknown).  ``ip`` = (calendar, fit row
    or -1 for calendar mode); ``fp`` = (ai_start, dotcom_start, the
    lead-adjusted peak, dotcom_trough as day numbers, time_scale, then the
    signed exposure of each phase code).  Calendar mode maps a bar's day to
    ``dotcom_start + (day - ai_start) x time_scale``.
    """
    close, calendars, days, path_days = data
    n = out.shape[0]
    side = np.empty(n)
    for t in range(n):
        if ip[1] < 0:
            mapped = fp[1] + (days[t] - fp[0]) * fp[4]
        else:
            mapped = path_days[ip[1], t]
        side[t] = fp[5 + phase_code_nb(mapped, fp[1], fp[2], fp[3])]
    basket_side_targets_nb(at_run_time_nb(WEIGHT_EQUAL), close, close, close, 0.0, side, calendars[ip[0]], first, out)


# ---- the beta-neutral hedge -------------------------------------------------------------------


@njit(cache=True)
def hype_hedge_targets_nb(data, ip, fp, first, out) -> None:
    """hype-hedge's targets: on each decision bar, the long leg and the beta-neutral short leg (NaN elsewhere).

    ``data = (close, calendars, betas)``: closes ``(n, k)`` of the traded
    tickers, the long leg's ``ip[2]`` first; rebalance calendars ``(n_cal,
    n)`` bool; each ticker's trailing beta on the reference per beta window
    ``(n_windows, n, k)``.  ``ip`` = (calendar, beta row, long-leg size);
    ``fp`` = (long weight, gross cap, the short leg's proportions...).  A
    decision bar where a leg has no price targets 0 everywhere; one whose
    betas are missing or below ``HEDGE_MIN_BETA`` emits nothing (rules in
    :mod:`shortthehype.strategies.hype_hedge`).  Before ``first`` the rows
    are computed back to the last decision that emits a row (it sets every
    ticker), and the earlier ones are left unwritten.
    """
    close, calendars, betas = data
    rebalance = calendars[ip[0]]
    beta = betas[ip[1]]
    n = out.shape[0]
    for t in range(min(first, n) - 1, -1, -1):
        hedge_row_nb(close, rebalance, beta, ip[2], fp, t, out)
        if out.shape[1] > 0 and not np.isnan(out[t, 0]):
            break
    for t in range(first, n):
        hedge_row_nb(close, rebalance, beta, ip[2], fp, t, out)


@njit(cache=True)
def hedge_row_nb(close, rebalance, beta, n_long, fp, t, out) -> None:
    """Bar t's hype-hedge row into ``out[t]``: NaN (no decision, or none possible), all 0, or the two legs."""
    # called on every bar: borrowed arguments spare numba's reference counting (core/borrow_nb.py)
    close, rebalance, beta = borrowed_nb(close), borrowed_nb(rebalance), borrowed_nb(beta)
    fp, out = borrowed_nb(fp), borrowed_nb(out)
    k = out.shape[1]
    long_weight = fp[0]
    cap = fp[1]
    fill_bar_nb(out, t, np.nan)
    if not rebalance[t]:
        return
    any_long = False
    for j in range(n_long):
        any_long = any_long or np.isfinite(close[t, j])
    all_shorts = True
    for j in range(n_long, k):
        all_shorts = all_shorts and np.isfinite(close[t, j])
    if not (any_long and all_shorts):
        fill_bar_nb(out, t, 0.0)  # a leg has nothing to trade: no hedge can be held
        return
    members = 0
    beta_sum = 0.0
    for j in range(n_long):
        if np.isfinite(close[t, j]) and np.isfinite(beta[t, j]):
            members += 1
            beta_sum += beta[t, j]
    beta_short = 0.0
    shorts_ok = True
    for j in range(n_long, k):
        shorts_ok = shorts_ok and np.isfinite(beta[t, j])
        beta_short += fp[2 + j - n_long] * beta[t, j]
    if members == 0 or not shorts_ok:
        return
    beta_long = beta_sum / members
    if beta_long < HEDGE_MIN_BETA or beta_short < HEDGE_MIN_BETA:
        return
    short_notional = long_weight * beta_long / beta_short
    scale = min(1.0, cap / (long_weight + short_notional))
    for j in range(n_long):
        member = np.isfinite(close[t, j]) and np.isfinite(beta[t, j])
        out[t, j] = scale * long_weight / members if member else 0.0
    for j in range(n_long, k):
        out[t, j] = -scale * short_notional * fp[2 + j - n_long]


# ---- option contracts: purchases and sales on prepared bars ---------------------------------------


@njit(cache=True)
def marked_targets_nb(marks, fp, out) -> None:
    """Targets of contracts bought and sold on prepared bars: ``fp[j]`` where ``marks`` is 1, else ``marks``.

    ``marks`` ``(n, k)``: 1 on a purchase bar, 0 on a sale (flat), NaN
    elsewhere (no order); ``fp[j]`` is column j's purchase (a weight, or a
    share count for a share-count column).
    """
    for t in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[t, j] = fp[j] if marks[t, j] > 0.0 else marks[t, j]


@njit(cache=True)
def option_contracts_targets_nb(data, ip, fp, first, out) -> None:
    """option-contracts: each contract bought on its decision bar and sold on its exit bar.

    ``data = (marks,)`` (:func:`marked_targets_nb`); ``fp`` = each
    contract's size (contracts x 100 shares, or its premium budget); ``ip``
    is empty.  Every row is written.
    """
    marked_targets_nb(data[0], fp, out)


# ---- burry-short ------------------------------------------------------------------------------

#: ``ip[0]`` of burry-short: what is traded (the order of ``burry_short.INSTRUMENTS``).
BURRY_STOCK = 0
BURRY_PUTS = 1


@njit(cache=True)
def burry_short_targets_nb(data, ip, fp, first, out) -> None:
    """burry-short: the signed weights from entry to exit (stock), or the rolled puts' purchases and sales.

    ``data = (calendars, rolls)``: the keep_weights calendars ``(n_cal, n)``
    bool; in puts mode the rolls' targets ``(n, k)``: 1 on a contract's
    purchase bar, 0 on its sale, NaN elsewhere (empty in stock mode).

    Stock mode: ``ip`` = (``BURRY_STOCK``, entry bar, exit bar, calendar row
    or -1 for ``hold``); bars count from the prepared history's first, an
    exit at or past its end is none, and entry = exit = -1 is no trade at
    all.  ``fp`` holds the signed weight per ticker: set on the entry bar
    and, with a calendar, again on its bars strictly between entry and exit;
    the exit bar targets 0 (flat); every other row is NaN.

    Puts mode: ``ip[0]`` = ``BURRY_PUTS``; ``fp`` holds per column the
    weight of a purchase (the premium budget x the ticker's share).

    In stock mode every row the kernel sets sets every ticker, so rows are
    written from the last one it sets at or before ``first`` (the entry bar,
    where a sweep's window starts), or from bar 0 when there is none; in puts
    mode every row is written.
    """
    calendars, rolls = data
    if ip[0] == BURRY_PUTS:
        marked_targets_nb(rolls, fp, out)
        return
    entry, exit_bar, row = ip[1], ip[2], ip[3]
    start = min(first, out.shape[0] - 1)
    while start > 0 and not burry_stock_sets_nb(calendars, entry, exit_bar, row, start):
        start -= 1
    for t in range(max(start, 0), out.shape[0]):
        if t == exit_bar:
            fill_bar_nb(out, t, 0.0)
        elif burry_stock_sets_nb(calendars, entry, exit_bar, row, t):
            for j in range(out.shape[1]):
                out[t, j] = fp[j]
        else:
            fill_bar_nb(out, t, np.nan)


@njit(cache=True, inline="always")
def burry_stock_sets_nb(calendars, entry, exit_bar, row, t) -> bool:
    """burry-short's stock mode sets the targets of bar ``t``: its entry, exit, or a keep_weights bar between them."""
    return t == exit_bar or t == entry or (row >= 0 and 0 <= entry < t < exit_bar and calendars[row, t])


# ---- bubble-timer ------------------------------------------------------------------------------

#: Regime codes of bubble-timer (its ``NEUTRAL``, ``BUBBLE``, ``ANTIBUBBLE``).
REGIME_NEUTRAL = 0
REGIME_BUBBLE = 1
REGIME_ANTIBUBBLE = -1


@njit(cache=True)
def bubble_signal_nb(bubble, antibubble, bubble_threshold, antibubble_threshold) -> int:
    """One evaluation's signal: bubble when ``bubble`` reaches its threshold and ``antibubble``; else anti-bubble
    when ``antibubble`` reaches its threshold; else (NaN included) none."""
    if bubble >= bubble_threshold and bubble >= antibubble:
        return REGIME_BUBBLE
    if antibubble >= antibubble_threshold:
        return REGIME_ANTIBUBBLE
    return REGIME_NEUTRAL


@njit(cache=True)
def bubble_signals_nb(bubble, antibubble, bubble_threshold, antibubble_threshold, out) -> None:
    """:func:`bubble_signal_nb` of every evaluation."""
    for t in range(out.shape[0]):
        out[t] = bubble_signal_nb(bubble[t], antibubble[t], bubble_threshold, antibubble_threshold)


@njit(cache=True)
def bubble_regimes_nb(signal, duration, out) -> None:
    """Regime per bar: a non-zero ``signal`` on bar s holds bars s .. s + duration - 1 (a later one takes over)."""
    last_bar = -1
    last_code = REGIME_NEUTRAL
    for t in range(out.shape[0]):
        if signal[t] != REGIME_NEUTRAL:
            last_bar = t
            last_code = signal[t]
        out[t] = last_code if last_bar >= 0 and t - last_bar < duration else REGIME_NEUTRAL


@njit(cache=True)
def bubble_timer_targets_nb(data, ip, fp, first, out) -> None:
    """bubble-timer: the traded weights (equal over the listed tickers) x the exposure of each bar's regime.

    ``data = (close, calendars, bubble, antibubble)``: closes ``(n, k)`` of
    the traded tickers; calendars ``(n_cal, n)`` bool on which the weights are
    re-set; per indicator set ``(n_ind, n)`` the bubble and anti-bubble
    indicators on the evaluation bars (NaN on every other bar: no signal).
    ``ip`` = (calendar, indicator row, regime duration in bars); ``fp`` =
    (bubble threshold, anti-bubble threshold, then the exposure of the
    bubble, anti-bubble and neutral regimes).
    """
    close, calendars, bubble, antibubble = data
    n = out.shape[0]
    signal = np.empty(n, dtype=np.int64)
    bubble_signals_nb(bubble[ip[1], :n], antibubble[ip[1], :n], fp[0], fp[1], signal)
    regime = np.empty(n, dtype=np.int64)
    bubble_regimes_nb(signal, ip[2], regime)
    side = np.empty(n)
    for t in range(n):
        if regime[t] == REGIME_BUBBLE:
            side[t] = fp[2]
        elif regime[t] == REGIME_ANTIBUBBLE:
            side[t] = fp[3]
        else:
            side[t] = fp[4]
    basket_side_targets_nb(at_run_time_nb(WEIGHT_EQUAL), close, close, close, 0.0, side, calendars[ip[0]], first, out)
