"""The portfolio simulation kernel: cash, positions, costs, stops, margin, accruals.

numba only: plain float64/int64 arrays in, arrays and record arrays out; no
pandas.  Arrays are ``(n_bars, n_assets)`` with time on axis 0.  The
semantics (timing inside a bar, sizing, costs, stops, margin, delisting) are
documented once, in :mod:`shortthehype.engine`; this module implements them.

The entry point for other kernels (parameter sweeps) is
:func:`simulate_core_nb`: it writes equity and cash into caller-provided
buffers, positions only when the caller passes a full-size buffer, and order /
trade / event records only when ``record`` is true.  It allocates its state
once before the bar loop; record arrays grow by doubling (checked once per
bar, never inside a phase).

Internal state lives in a few small arrays so that the per-phase functions
stay short and allocation-free:

* ``st`` float64 ``(N_ST, n_assets)``: position, average entry price, trailing
  reference, last valid close, and the running sums of the open trade;
* ``sti`` int64 ``(N_STI, n_assets)``: bar the position was opened (stops are
  armed on later bars);
* ``acct`` float64: cash and the cost totals;
* ``flags`` int64: pending action, closed flag, status, record counts.

Round-off: sizes are ``weight * value / price`` computed in that order (as
vectorbt does), a full fill sets the position to the target exactly, and
orders smaller than ``ORDER_SIZE_TOLERANCE`` of the position are skipped.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from shortthehype.constants import (
    CASH_TOLERANCE,
    DAY_COUNT_BASIS,
    GROSS_TOLERANCE,
    MARGIN_TOLERANCE,
    ORDER_SIZE_TOLERANCE,
)
from shortthehype.core.borrow_nb import borrowed_nb
from shortthehype.enums import (
    AP_BORROW_FEE,
    AP_FEES,
    AP_FIXED_FEES,
    AP_SLIPPAGE,
    AP_STOP_LOSS,
    AP_TAKE_PROFIT,
    AP_TRAILING_STOP,
    AP_SETTLES,
    AP_UNITS,
    N_TOTALS,
    Direction,
    EventKind,
    OrderStatus,
    Reason,
    Side,
    SimStatus,
    TradeStatus,
    event_dt,
    order_dt,
    trade_dt,
)

# ---- state layout -------------------------------------------------------------------------

ST_POS = 0  # shares held (negative = short)
ST_BASIS = 1  # average entry fill price of the current position (NaN when flat)
ST_BEST = 2  # trailing reference: best high (long) / low (short) since entry
ST_LAST_PX = 3  # last valid close (NaN before the first one)
ST_TR_ENTRY_NOTIONAL = 4  # open trade: sum of |size| * fill over entering fills
ST_TR_ENTRY_SIZE = 5  # open trade: sum of |size| over entering fills
ST_TR_EXIT_NOTIONAL = 6  # open trade: sum of |size| * fill over exiting fills
ST_TR_EXIT_SIZE = 7  # open trade: sum of |size| over exiting fills
ST_TR_FEES = 8  # open trade: fees paid
ST_TR_BORROW = 9  # open trade: borrow fees paid
N_ST = 10

STI_ENTRY_BAR = 0  # bar the current position was opened (from flat or by reversal)
N_STI = 1

A_CASH = 0
A_TOTALS = 1  # acct[A_TOTALS + TOT_*] are the cost totals
N_ACCT = A_TOTALS + N_TOTALS

FL_PENDING = 0  # PENDING_* action waiting for the next execution point
FL_CLOSED = 1  # 1 once the account has been closed out
FL_STATUS = 2  # SimStatus
FL_N_ORDERS = 3
FL_N_TRADES = 4
FL_N_EVENTS = 5
FL_RECORD = 6  # 1 when records are written
FL_GROSS_CAP = 7  # 1 when a close was above max_gross: cut at the next execution point
N_FLAGS = 8

PENDING_NONE = 0
PENDING_MARGIN = 1
PENDING_LIQUIDATE = 2

# phases per bar that can each emit up to n_assets orders / trades / events
_PHASES_PER_BAR = 6

# the shortest run of quiet bars the bar loop hands to quiet_bars_nb: a call costs about as much as 2 bars of the
# loop, and weekly rebalancing leaves runs of 4
QUIET_RUN_MIN = 4


# ---- records ------------------------------------------------------------------------------


class AccountTerms(NamedTuple):
    """The account's terms for one simulation: the one bundle of engine options every kernel takes.

    Built once by the pandas layer (:meth:`shortthehype.engine.SimulationInputs.terms`)
    and passed whole to :func:`simulate_core_nb` and every batch or sweep
    kernel that calls it.  ``cash_rate`` / ``cash_rate_negative``: the annual
    ACT/360 rates observed at each bar; ``max_gross`` inf and
    ``maintenance_margin`` 0 disable those limits; trades execute at the open
    when ``exec_at_open``, else at the close.
    """

    init_cash: float
    cash_rate: np.ndarray
    cash_rate_negative: np.ndarray
    max_gross: float
    maintenance_margin: float
    exec_at_open: bool
    integer_shares: bool
    renormalize: bool


@njit(cache=True)
def with_max_gross_nb(terms, max_gross):
    """``terms`` with another gross cap (a sweep's combination may set its own)."""
    return AccountTerms(
        terms.init_cash, terms.cash_rate, terms.cash_rate_negative, max_gross, terms.maintenance_margin,
        terms.exec_at_open, terms.integer_shares, terms.renormalize,
    )


@njit(cache=True)
def grow_records_nb(records: np.ndarray, n_used: int, min_free: int) -> np.ndarray:
    """Return ``records`` or a copy (same record dtype) with at least ``min_free`` free rows (capacity doubled)."""
    if n_used + min_free <= records.shape[0]:
        return records
    out = np.empty(max(2 * records.shape[0], n_used + min_free), dtype=records.dtype)
    out[:n_used] = records[:n_used]
    return out


@njit(cache=True)
def write_event_nb(events, flags, bar, kind, asset, value_a, value_b) -> None:
    """Append one event record (no-op unless recording)."""
    events, flags = borrowed_nb(events), borrowed_nb(flags)  # called on every cut of a capped book (core/borrow_nb.py)
    if flags[FL_RECORD] == 0:
        return
    k = flags[FL_N_EVENTS]
    rec = events[k]
    rec["bar"] = bar
    rec["kind"] = kind
    rec["asset"] = asset
    rec["value_a"] = value_a
    rec["value_b"] = value_b
    flags[FL_N_EVENTS] = k + 1


@njit(cache=True)
def write_trade_nb(trades, flags, st, j, direction, entry_bar, exit_bar, status) -> None:
    """Append the trade of asset ``j`` from its running sums (no-op unless recording)."""
    if flags[FL_RECORD] == 0:
        return
    entry_notional = st[ST_TR_ENTRY_NOTIONAL, j]
    entry_size = st[ST_TR_ENTRY_SIZE, j]
    exit_notional = st[ST_TR_EXIT_NOTIONAL, j]
    exit_size = st[ST_TR_EXIT_SIZE, j]
    if status == TradeStatus.OPEN:  # value what is still held at the last valid close
        remaining = abs(st[ST_POS, j])
        exit_notional += remaining * st[ST_LAST_PX, j]
        exit_size += remaining
    sign = 1.0 if direction == Direction.LONG else -1.0
    pnl = sign * (exit_notional - entry_notional) - st[ST_TR_FEES, j] - st[ST_TR_BORROW, j]
    k = flags[FL_N_TRADES]
    rec = trades[k]
    rec["asset"] = j
    rec["direction"] = direction
    rec["entry_bar"] = entry_bar
    rec["exit_bar"] = exit_bar
    rec["size"] = entry_size
    rec["entry_price"] = entry_notional / entry_size if entry_size > 0 else np.nan
    rec["exit_price"] = exit_notional / exit_size if exit_size > 0 else np.nan
    rec["pnl"] = pnl
    rec["ret"] = pnl / entry_notional if entry_notional > 0 else np.nan
    rec["fees"] = st[ST_TR_FEES, j]
    rec["borrow"] = st[ST_TR_BORROW, j]
    rec["status"] = status
    flags[FL_N_TRADES] = k + 1


# ---- fills --------------------------------------------------------------------------------


@njit(cache=True, inline="always")
def open_trade_nb(st, sti, j, bar, qty, fill, fee) -> None:
    """Start a new position/trade of ``qty`` shares at ``fill`` on asset ``j``."""
    st[ST_BASIS, j] = fill
    st[ST_BEST, j] = fill
    sti[STI_ENTRY_BAR, j] = bar
    st[ST_TR_ENTRY_NOTIONAL, j] = qty * fill
    st[ST_TR_ENTRY_SIZE, j] = qty
    st[ST_TR_EXIT_NOTIONAL, j] = 0.0
    st[ST_TR_EXIT_SIZE, j] = 0.0
    st[ST_TR_FEES, j] = fee
    st[ST_TR_BORROW, j] = 0.0


@njit(cache=True, inline="always")
def book_fill_nb(st, sti, flags, trades, j, bar, old, new, fill, fee) -> None:
    """Update average entry, trailing reference and trade sums for a fill from ``old`` to ``new`` shares."""
    qty = abs(new - old)
    if old == 0.0:
        open_trade_nb(st, sti, j, bar, qty, fill, fee)
        return
    direction = Direction.LONG if old > 0 else Direction.SHORT
    if old * new > 0.0 and abs(new) > abs(old):  # add to the position
        st[ST_BASIS, j] = (abs(old) * st[ST_BASIS, j] + qty * fill) / abs(new)
        st[ST_TR_ENTRY_NOTIONAL, j] += qty * fill
        st[ST_TR_ENTRY_SIZE, j] += qty
        st[ST_TR_FEES, j] += fee
        return
    if old * new > 0.0:  # reduce, same side
        st[ST_TR_EXIT_NOTIONAL, j] += qty * fill
        st[ST_TR_EXIT_SIZE, j] += qty
        st[ST_TR_FEES, j] += fee
        return
    # flatten (new == 0) or reverse (new on the other side): the old trade closes
    close_qty = abs(old)
    close_fee = fee * close_qty / qty
    st[ST_TR_EXIT_NOTIONAL, j] += close_qty * fill
    st[ST_TR_EXIT_SIZE, j] += close_qty
    st[ST_TR_FEES, j] += close_fee
    write_trade_nb(trades, flags, st, j, direction, sti[STI_ENTRY_BAR, j], bar, TradeStatus.CLOSED)
    if new == 0.0:
        st[ST_BASIS, j] = np.nan
        st[ST_BEST, j] = np.nan
    else:
        open_trade_nb(st, sti, j, bar, abs(new), fill, fee - close_fee)


@njit(cache=True)
def fill_nb(bar, j, target, price, reason, status, ap, st, sti, acct, flags, orders, trades) -> None:
    """Trade asset ``j`` to ``target`` shares at execution price ``price`` (slippage and fees applied)."""
    fill_inline_nb(bar, j, target, price, reason, status, ap, st, sti, acct, flags, orders, trades)


@njit(cache=True, inline="always")
def fill_inline_nb(bar, j, target, price, reason, status, ap, st, sti, acct, flags, orders, trades) -> None:
    """:func:`fill_nb` written into its caller (the rebalance's, on every bar that trades)."""
    # borrowed arguments spare numba's reference counting (core/borrow_nb.py)
    ap, st, sti, acct = borrowed_nb(ap), borrowed_nb(st), borrowed_nb(sti), borrowed_nb(acct)
    flags, orders, trades = borrowed_nb(flags), borrowed_nb(orders), borrowed_nb(trades)
    old = st[ST_POS, j]
    size = target - old
    if size == 0.0:
        return
    settlement = reason == Reason.SETTLEMENT  # a cash settlement pays its value: no spread, no commission
    slip = 0.0 if settlement else ap[AP_SLIPPAGE, j]
    if size > 0.0:
        fill = price * (1.0 + slip)
    else:
        fill = price * (1.0 - slip)
    qty = abs(size)
    fee = 0.0 if settlement else qty * fill * ap[AP_FEES, j] + ap[AP_FIXED_FEES, j]
    slip_cost = qty * abs(fill - price)
    acct[A_CASH] -= size * fill + fee
    acct[A_TOTALS + 0] += fee
    acct[A_TOTALS + 1] += slip_cost
    st[ST_POS, j] = target
    book_fill_nb(st, sti, flags, trades, j, bar, old, target, fill, fee)
    if flags[FL_RECORD] == 0:
        return
    k = flags[FL_N_ORDERS]
    rec = orders[k]
    rec["bar"] = bar
    rec["asset"] = j
    rec["side"] = Side.BUY if size > 0.0 else Side.SELL
    rec["size"] = qty
    rec["price"] = fill
    rec["fees"] = fee
    rec["slippage"] = slip_cost
    rec["reason"] = reason
    rec["status"] = status
    flags[FL_N_ORDERS] = k + 1


# ---- valuation ----------------------------------------------------------------------------


@njit(cache=True, inline="always")
def valuation_price_nb(px_j: float, last_px_j: float) -> float:
    """Price a held position is valued at: the execution price, else the last valid close."""
    if np.isfinite(px_j):
        return px_j
    return last_px_j


@njit(cache=True, inline="always")
def portfolio_value_nb(px, st, acct) -> float:
    """Cash plus positions valued at ``px`` (last valid close where ``px`` is NaN)."""
    value = acct[A_CASH]
    for j in range(st.shape[1]):
        pos = st[ST_POS, j]
        if pos != 0.0:
            value += pos * valuation_price_nb(px[j], st[ST_LAST_PX, j])
    return value


@njit(cache=True, inline="always")
def gross_value_nb(px, st) -> float:
    """Sum of |position value| at ``px`` (last valid close where ``px`` is NaN)."""
    gross = 0.0
    for j in range(st.shape[1]):
        pos = st[ST_POS, j]
        if pos != 0.0:
            gross += abs(pos * valuation_price_nb(px[j], st[ST_LAST_PX, j]))
    return gross


@njit(cache=True, inline="always")
def is_flat_nb(st) -> bool:
    """True when no asset has a position."""
    st = borrowed_nb(st)  # inlined into the bar loop, which asks on every bar with stops: see accrue_nb
    for j in range(st.shape[1]):
        if st[ST_POS, j] != 0.0:
            return False
    return True


# ---- accruals -----------------------------------------------------------------------------


@njit(cache=True)
def accrual_factors_nb(days, cash_rate, cash_rate_negative, out) -> None:
    """``out[0, i]`` / ``out[1, i]``: interest per unit of positive / negative cash over the days before bar i.

    The rate known at bar i-1 times ``days[i] / 360`` (ACT/360), written as
    ``rate x days / 360``; 0 at bar 0.  The engine multiplies the cash by
    it, so that the division is not on the bar-to-bar chain of the cash (a
    bar that only accrues and marks costs a third less).
    """
    if days.shape[0] == 0:
        return
    out[:, 0] = 0.0
    for i in range(1, days.shape[0]):
        out[0, i] = cash_rate[i - 1] * days[i] / DAY_COUNT_BASIS
    for i in range(1, days.shape[0]):
        out[1, i] = cash_rate_negative[i - 1] * days[i] / DAY_COUNT_BASIS


@njit(cache=True, inline="always")
def accrue_nb(days, factor, factor_negative, ap, st, acct) -> None:
    """Charge interest on cash and borrow on short market value for ``days`` calendar days (ACT/360).

    ``factor`` / ``factor_negative``: the interest per unit of positive / negative cash over those days
    (:func:`accrual_factors_nb`).
    """
    # inlined into the bar loop on every bar that accrues: borrowed arguments spare numba's reference counting, which
    # its early return would otherwise cost there (core/borrow_nb.py)
    ap, st, acct = borrowed_nb(ap), borrowed_nb(st), borrowed_nb(acct)
    if days <= 0.0:
        return
    cash = acct[A_CASH]
    interest = cash * (factor if cash > 0.0 else factor_negative)
    acct[A_CASH] += interest
    acct[A_TOTALS + 3] -= interest
    for j in range(st.shape[1]):
        pos = st[ST_POS, j]
        fee_rate = ap[AP_BORROW_FEE, j]
        if pos < 0.0 and fee_rate > 0.0:
            borrow = fee_rate * (-pos) * st[ST_LAST_PX, j] * days / DAY_COUNT_BASIS
            acct[A_CASH] -= borrow
            acct[A_TOTALS + 2] += borrow
            st[ST_TR_BORROW, j] += borrow


# ---- rebalancing --------------------------------------------------------------------------


@njit(cache=True, inline="always")
def is_noise_nb(size: float, current: float, target: float) -> bool:
    """True when an order of ``size`` shares is round-off rather than a trade."""
    return abs(size) <= ORDER_SIZE_TOLERANCE * max(abs(current), abs(target))


@njit(cache=True, inline="always")
def tradeable_target_nb(price: float, weight: float) -> bool:
    """A target can execute at ``price``: finite and positive, or any finite price for a target of 0 (selling out of a worthless instrument)."""
    return not np.isnan(weight) and np.isfinite(price) and (price > 0.0 or weight == 0.0)


@njit(cache=True, inline="always")
def target_shares_nb(bar, px, w, value, max_gross, integer_shares, renormalize, ap, st, tgt) -> None:
    """Fill ``tgt`` with target shares: ``w * value / px`` for tradeable targets, the position otherwise.

    A share-count asset (``ap[AP_UNITS]``) targets ``w`` shares as given: it is
    neither scaled by ``max_gross`` or renormalisation nor counted in them.
    """
    n = st.shape[1]
    requested = 0.0
    tradeable = 0.0
    for j in range(n):
        if not np.isnan(w[j]) and ap[AP_UNITS, j] != 1.0:
            requested += abs(w[j])
            if tradeable_target_nb(px[j], w[j]):
                tradeable += abs(w[j])
    scale = 1.0
    if renormalize and tradeable > 0.0:
        scale = requested / tradeable
    if tradeable * scale > max_gross:
        scale = max_gross / tradeable
    for j in range(n):
        if not tradeable_target_nb(px[j], w[j]):
            tgt[j] = st[ST_POS, j]
            continue
        if w[j] == 0.0:
            tgt[j] = 0.0
            continue
        if ap[AP_UNITS, j] == 1.0:
            tgt[j] = w[j]
            continue
        shares = (w[j] * scale) * value / px[j]
        if integer_shares:
            shares = np.trunc(shares)
        tgt[j] = shares


@njit(cache=True, inline="always")
def rebalance_nb(bar, px, w, max_gross, integer_shares, renormalize, ap, st, sti, acct, flags, orders, trades,
                 events, tgt) -> None:
    """Trade to the weights ``w`` at prices ``px``: sells first, then buys scaled to the cash available."""
    # inlined into the execution point, on every rebalance: borrowed arguments spare numba's reference counting
    # wherever it is inlined (core/borrow_nb.py)
    px, w, ap = borrowed_nb(px), borrowed_nb(w), borrowed_nb(ap)
    st, sti, acct, flags = borrowed_nb(st), borrowed_nb(sti), borrowed_nb(acct), borrowed_nb(flags)
    orders, trades, events, tgt = borrowed_nb(orders), borrowed_nb(trades), borrowed_nb(events), borrowed_nb(tgt)
    n = st.shape[1]
    value = portfolio_value_nb(px, st, acct)
    if not value > 0.0:
        return
    target_shares_nb(bar, px, w, value, max_gross, integer_shares, renormalize, ap, st, tgt)
    # the cash the targets leave without costs; buys may not push cash below min(0, planned)
    planned = value
    for j in range(n):
        if tgt[j] != 0.0:
            planned -= tgt[j] * valuation_price_nb(px[j], st[ST_LAST_PX, j])
    floor = min(0.0, planned)
    for j in range(n):  # reducing / cash-freeing orders first
        size = tgt[j] - st[ST_POS, j]
        if size < 0.0 and not is_noise_nb(size, st[ST_POS, j], tgt[j]):
            fill_inline_nb(bar, j, tgt[j], px[j], Reason.REBALANCE, OrderStatus.FILLED, ap, st, sti, acct, flags,
                           orders, trades)
    need_var = 0.0
    need_fixed = 0.0
    for j in range(n):
        size = tgt[j] - st[ST_POS, j]
        if size > 0.0 and not is_noise_nb(size, st[ST_POS, j], tgt[j]):
            need_var += size * px[j] * (1.0 + ap[AP_SLIPPAGE, j]) * (1.0 + ap[AP_FEES, j])
            need_fixed += ap[AP_FIXED_FEES, j]
    if need_var == 0.0:
        return
    available = acct[A_CASH] - floor
    if need_var + need_fixed <= available + CASH_TOLERANCE * value:
        k = 1.0
        status = OrderStatus.FILLED
    else:
        k = (available - need_fixed) / need_var
        status = OrderStatus.PARTIAL
        if k <= 0.0:
            write_event_nb(events, flags, bar, EventKind.ORDER_REJECTED, -1, available, need_var + need_fixed)
            return
    for j in range(n):
        pos = st[ST_POS, j]
        size = tgt[j] - pos
        if size > 0.0 and not is_noise_nb(size, pos, tgt[j]):
            if k == 1.0:
                target = tgt[j]
            elif integer_shares:
                target = pos + np.floor(k * size)
            else:
                target = pos + k * size
            if target != pos:
                fill_inline_nb(bar, j, target, px[j], Reason.REBALANCE, status, ap, st, sti, acct, flags, orders,
                               trades)


# ---- margin and liquidation ---------------------------------------------------------------


@njit(cache=True)
def liquidate_nb(bar, px, reason, ap, st, sti, acct, flags, orders, trades) -> int:
    """Close every position that has a finite price in ``px``; return how many were closed."""
    closed = 0
    for j in range(st.shape[1]):
        if st[ST_POS, j] != 0.0 and np.isfinite(px[j]):
            fill_nb(bar, j, 0.0, px[j], reason, OrderStatus.FILLED, ap, st, sti, acct, flags, orders, trades)
            closed += 1
    return closed


@njit(cache=True)
def cut_fraction_nb(px, margin, tolerance, ap, st, acct) -> float:
    """Fraction k of every tradeable position to keep so that equity = margin x gross after the cut's costs.

    With C = sum |n| px (s + f (1 -/+ s)) the variable cost of closing everything,
    F the fixed fees, G_t / G_u the tradeable / untradeable gross and E the equity:
    E - (1 - k) C - F = margin (k G_t + G_u)  =>  k = (E - C - F - margin G_u) / (margin G_t - C).
    Returns 1 when no cut is needed (equity >= margin x gross x (1 - ``tolerance``)) and 0
    when nothing short of closing out helps.  The gross cap is the same rule with
    margin = 1 / max_gross (gross <= max_gross x equity  <=>  equity >= gross / max_gross).
    """
    # a book held at its gross cap is cut on most bars: borrowed arguments spare numba's reference counting
    # (core/borrow_nb.py), here and in the cuts below
    px, ap, st, acct = borrowed_nb(px), borrowed_nb(ap), borrowed_nb(st), borrowed_nb(acct)
    equity = portfolio_value_nb(px, st, acct)
    g_tradeable = 0.0
    g_untradeable = 0.0
    cost_var = 0.0
    cost_fixed = 0.0
    for j in range(st.shape[1]):
        pos = st[ST_POS, j]
        if pos == 0.0:
            continue
        if np.isfinite(px[j]):
            notional = abs(pos) * px[j]
            slip = ap[AP_SLIPPAGE, j]
            side = -1.0 if pos > 0.0 else 1.0  # longs sell at px (1 - s), shorts cover at px (1 + s)
            g_tradeable += notional
            cost_var += notional * (slip + ap[AP_FEES, j] * (1.0 + side * slip))
            cost_fixed += ap[AP_FIXED_FEES, j]
        else:
            g_untradeable += abs(pos) * st[ST_LAST_PX, j]
    if equity >= margin * (g_tradeable + g_untradeable) * (1.0 - tolerance):
        return 1.0
    denominator = margin * g_tradeable - cost_var
    if denominator <= 0.0:
        return 0.0
    k = (equity - cost_var - cost_fixed - margin * g_untradeable) / denominator
    return min(1.0, max(0.0, k))


@njit(cache=True)
def cut_positions_nb(bar, px, k, reason, integer_shares, ap, st, sti, acct, flags, orders, trades) -> None:
    """Trade every position with a price in ``px`` to ``k`` times itself (one common factor)."""
    px, ap, st, sti, acct = borrowed_nb(px), borrowed_nb(ap), borrowed_nb(st), borrowed_nb(sti), borrowed_nb(acct)
    flags, orders, trades = borrowed_nb(flags), borrowed_nb(orders), borrowed_nb(trades)
    for j in range(st.shape[1]):
        pos = st[ST_POS, j]
        if pos != 0.0 and np.isfinite(px[j]):
            target = k * pos
            if integer_shares:
                target = np.trunc(target)
            fill_nb(bar, j, target, px[j], reason, OrderStatus.FILLED, ap, st, sti, acct, flags, orders, trades)


@njit(cache=True)
def margin_cut_nb(bar, px, margin, integer_shares, ap, st, sti, acct, flags, orders, trades, events) -> None:
    """Cut all positions proportionally until equity >= margin x gross at ``px`` (after the cut's costs)."""
    px, ap, st, sti, acct = borrowed_nb(px), borrowed_nb(ap), borrowed_nb(st), borrowed_nb(sti), borrowed_nb(acct)
    flags, orders, trades, events = borrowed_nb(flags), borrowed_nb(orders), borrowed_nb(trades), borrowed_nb(events)
    k = cut_fraction_nb(px, margin, MARGIN_TOLERANCE, ap, st, acct)
    if k >= 1.0:
        return
    cut_positions_nb(bar, px, k, Reason.MARGIN_CALL, integer_shares, ap, st, sti, acct, flags, orders, trades)
    write_event_nb(events, flags, bar, EventKind.MARGIN_CUT, -1, portfolio_value_nb(px, st, acct),
                   gross_value_nb(px, st))


@njit(cache=True)
def gross_cap_cut_nb(bar, px, gross_ratio, integer_shares, ap, st, sti, acct, flags, orders, trades,
                     events) -> None:
    """Cut all positions proportionally until gross <= max_gross x equity at ``px`` (``gross_ratio`` = 1 / max_gross)."""
    px, ap, st, sti, acct = borrowed_nb(px), borrowed_nb(ap), borrowed_nb(st), borrowed_nb(sti), borrowed_nb(acct)
    flags, orders, trades, events = borrowed_nb(flags), borrowed_nb(orders), borrowed_nb(trades), borrowed_nb(events)
    k = cut_fraction_nb(px, gross_ratio, GROSS_TOLERANCE, ap, st, acct)
    if k >= 1.0:
        return
    before = gross_value_nb(px, st) / portfolio_value_nb(px, st, acct)
    cut_positions_nb(bar, px, k, Reason.GROSS_CAP, integer_shares, ap, st, sti, acct, flags, orders, trades)
    write_event_nb(events, flags, bar, EventKind.GROSS_CAP, -1, before,
                   gross_value_nb(px, st) / portfolio_value_nb(px, st, acct))


@njit(cache=True)
def close_account_nb(bar, px, ap, st, sti, acct, flags, orders, trades, events) -> None:
    """Liquidate everything (reason liquidation), mark the account closed and bankrupt."""
    count = liquidate_nb(bar, px, Reason.LIQUIDATION, ap, st, sti, acct, flags, orders, trades)
    flags[FL_CLOSED] = 1
    flags[FL_STATUS] = SimStatus.BANKRUPT
    flags[FL_PENDING] = PENDING_NONE
    write_event_nb(events, flags, bar, EventKind.LIQUIDATION, -1, portfolio_value_nb(px, st, acct), count)


@njit(cache=True)
def flag_bankruptcy_nb(bar, px, equity, st, flags, events) -> None:
    """Record a bankruptcy and schedule the close-out (or close a flat account at once)."""
    if flags[FL_PENDING] == PENDING_LIQUIDATE:
        return
    write_event_nb(events, flags, bar, EventKind.BANKRUPTCY, -1, equity, gross_value_nb(px, st))
    if is_flat_nb(st):
        flags[FL_CLOSED] = 1
        flags[FL_STATUS] = SimStatus.BANKRUPT
        flags[FL_PENDING] = PENDING_NONE
    else:
        flags[FL_PENDING] = PENDING_LIQUIDATE


@njit(cache=True, inline="always")
def execution_point_nb(bar, px, has_row, w, at_open, max_gross, margin, integer_shares, renormalize, ap, st, sti,
                       acct, flags, orders, trades, events, tgt) -> None:
    """Everything that trades at the execution price ``px``: close-out, rebalance, margin cut, gross-cap cut."""
    # called on every bar that trades: borrowed arguments spare numba's reference counting (core/borrow_nb.py)
    px, w, ap = borrowed_nb(px), borrowed_nb(w), borrowed_nb(ap)
    st, sti, acct, flags = borrowed_nb(st), borrowed_nb(sti), borrowed_nb(acct), borrowed_nb(flags)
    orders, trades, events, tgt = borrowed_nb(orders), borrowed_nb(trades), borrowed_nb(events), borrowed_nb(tgt)
    gross_capped = flags[FL_GROSS_CAP] == 1
    flags[FL_GROSS_CAP] = 0
    if flags[FL_CLOSED] == 1:  # retry positions that could not be closed out (no price) earlier
        liquidate_nb(bar, px, Reason.LIQUIDATION, ap, st, sti, acct, flags, orders, trades)
        return
    if flags[FL_PENDING] == PENDING_LIQUIDATE:
        close_account_nb(bar, px, ap, st, sti, acct, flags, orders, trades, events)
        return
    n_before = flags[FL_N_ORDERS]
    traded = False
    if has_row:
        cash_before = acct[A_CASH]
        rebalance_nb(bar, px, w, max_gross, integer_shares, renormalize, ap, st, sti, acct, flags, orders, trades,
                     events, tgt)
        traded = acct[A_CASH] != cash_before or flags[FL_N_ORDERS] != n_before
    if flags[FL_PENDING] == PENDING_MARGIN:
        flags[FL_PENDING] = PENDING_NONE
        equity = portfolio_value_nb(px, st, acct)
        if equity <= 0.0:
            flag_bankruptcy_nb(bar, px, equity, st, flags, events)
            close_account_nb(bar, px, ap, st, sti, acct, flags, orders, trades, events)
            return
        cash_before = acct[A_CASH]
        margin_cut_nb(bar, px, margin, integer_shares, ap, st, sti, acct, flags, orders, trades, events)
        traded = traded or acct[A_CASH] != cash_before
    if gross_capped and portfolio_value_nb(px, st, acct) > 0.0:
        cash_before = acct[A_CASH]
        gross_cap_cut_nb(bar, px, 1.0 / max_gross, integer_shares, ap, st, sti, acct, flags, orders, trades, events)
        traded = traded or acct[A_CASH] != cash_before
    if at_open and traded:  # at a close the close-of-bar check follows anyway
        equity = portfolio_value_nb(px, st, acct)
        if equity <= 0.0:
            flag_bankruptcy_nb(bar, px, equity, st, flags, events)


# ---- stops --------------------------------------------------------------------------------


@njit(cache=True, inline="always")
def stop_exit_nb(pos, basis, best, sl, tp, tsl, o, h, lo):
    """Which stop fires on a bar and at what price: ``(reason, level, price)``, reason -1 for none.

    Longs: stop = max(basis (1 - sl), best (1 - tsl)), take-profit = basis (1 + tp);
    shorts mirror it.  A gap through a level at the open fills at the open; when
    both the stop and the take-profit are touched inside the bar the stop wins.
    """
    if pos > 0.0:
        sl_level = basis * (1.0 - sl) if np.isfinite(sl) else -np.inf
        tsl_level = best * (1.0 - tsl) if np.isfinite(tsl) else -np.inf
        tp_level = basis * (1.0 + tp) if np.isfinite(tp) else np.inf
        if sl_level >= tsl_level:
            stop_level, stop_reason = sl_level, Reason.STOP_LOSS
        else:
            stop_level, stop_reason = tsl_level, Reason.TRAILING_STOP
        if o <= stop_level:
            return stop_reason, stop_level, o
        if o >= tp_level:
            return Reason.TAKE_PROFIT, tp_level, o
        if lo <= stop_level:
            return stop_reason, stop_level, stop_level
        if h >= tp_level:
            return Reason.TAKE_PROFIT, tp_level, tp_level
    else:
        sl_level = basis * (1.0 + sl) if np.isfinite(sl) else np.inf
        tsl_level = best * (1.0 + tsl) if np.isfinite(tsl) else np.inf
        tp_level = basis * (1.0 - tp) if np.isfinite(tp) else -np.inf
        if sl_level <= tsl_level:
            stop_level, stop_reason = sl_level, Reason.STOP_LOSS
        else:
            stop_level, stop_reason = tsl_level, Reason.TRAILING_STOP
        if o >= stop_level:
            return stop_reason, stop_level, o
        if o <= tp_level:
            return Reason.TAKE_PROFIT, tp_level, o
        if h >= stop_level:
            return stop_reason, stop_level, stop_level
        if lo <= tp_level:
            return Reason.TAKE_PROFIT, tp_level, tp_level
    return -1, np.nan, np.nan


@njit(cache=True, inline="always")
def stops_nb(bar, open_, high, low, ap, st, sti, acct, flags, orders, trades, events) -> None:
    """Fire stop-loss / take-profit / trailing stops at ``bar`` on positions opened before it."""
    # inlined into the bar loop, on every bar with a position and stops: see accrue_nb
    open_, high, low, ap = borrowed_nb(open_), borrowed_nb(high), borrowed_nb(low), borrowed_nb(ap)
    st, sti, acct, flags = borrowed_nb(st), borrowed_nb(sti), borrowed_nb(acct), borrowed_nb(flags)
    orders, trades, events = borrowed_nb(orders), borrowed_nb(trades), borrowed_nb(events)
    for j in range(st.shape[1]):
        pos = st[ST_POS, j]
        if pos == 0.0 or sti[STI_ENTRY_BAR, j] >= bar:
            continue
        sl, tp, tsl = ap[AP_STOP_LOSS, j], ap[AP_TAKE_PROFIT, j], ap[AP_TRAILING_STOP, j]
        if np.isnan(sl) and np.isnan(tp) and np.isnan(tsl):
            continue
        o, h, lo = open_[bar, j], high[bar, j], low[bar, j]
        if not (np.isfinite(o) and np.isfinite(h) and np.isfinite(lo)):
            continue
        reason, level, price = stop_exit_nb(pos, st[ST_BASIS, j], st[ST_BEST, j], sl, tp, tsl, o, h, lo)
        if reason < 0:
            continue
        fill_nb(bar, j, 0.0, price, reason, OrderStatus.FILLED, ap, st, sti, acct, flags, orders, trades)
        if reason == Reason.STOP_LOSS:
            kind = EventKind.STOP_LOSS
        elif reason == Reason.TAKE_PROFIT:
            kind = EventKind.TAKE_PROFIT
        else:
            kind = EventKind.TRAILING_STOP
        write_event_nb(events, flags, bar, kind, j, level, price)


@njit(cache=True, inline="always")
def update_trailing_nb(bar, high, low, st, sti) -> None:
    """After the bar: raise the trailing reference to the bar's high (longs) / lower it to its low (shorts)."""
    high, low, st, sti = borrowed_nb(high), borrowed_nb(low), borrowed_nb(st), borrowed_nb(sti)  # see accrue_nb
    for j in range(st.shape[1]):
        pos = st[ST_POS, j]
        if pos == 0.0 or sti[STI_ENTRY_BAR, j] >= bar:
            continue
        if pos > 0.0 and high[bar, j] > st[ST_BEST, j]:
            st[ST_BEST, j] = high[bar, j]
        elif pos < 0.0 and low[bar, j] < st[ST_BEST, j]:
            st[ST_BEST, j] = low[bar, j]


# ---- end of bar ---------------------------------------------------------------------------


@njit(cache=True, inline="always")
def delist_nb(bar, close_row, last_valid, n_bars, ap, st, sti, acct, flags, orders, trades, events) -> None:
    """Close positions at the last valid close of tickers that never trade again (cash-settled ones without costs)."""
    if bar == n_bars - 1:
        return
    for j in range(st.shape[1]):
        if last_valid[j] == bar and st[ST_POS, j] != 0.0:
            shares = st[ST_POS, j]
            if ap[AP_SETTLES, j] == 1.0:
                fill_nb(bar, j, 0.0, close_row[j], Reason.SETTLEMENT, OrderStatus.FILLED, ap, st, sti, acct, flags,
                        orders, trades)
                write_event_nb(events, flags, bar, EventKind.SETTLEMENT, j, close_row[j], shares)
                continue
            fill_nb(bar, j, 0.0, close_row[j], Reason.DELISTING, OrderStatus.FILLED, ap, st, sti, acct, flags, orders,
                    trades)
            write_event_nb(events, flags, bar, EventKind.DELISTING, j, close_row[j], shares)


@njit(cache=True, inline="always")
def mark_to_market_nb(close, bar, st, acct):
    """Update last valid closes at ``bar``; return (equity = cash + sum(shares x close), gross = sum(|shares x close|))."""
    equity = acct[A_CASH]
    gross = 0.0
    for j in range(st.shape[1]):
        c = close[bar, j]
        if np.isfinite(c):
            st[ST_LAST_PX, j] = c
        pos = st[ST_POS, j]
        if pos != 0.0:
            value = pos * st[ST_LAST_PX, j]
            equity += value
            gross += abs(value)  # gross_value_nb at the close: the same terms in the same order
    return equity, gross


@njit(cache=True, inline="always")
def margin_call_nb(equity, gross, margin) -> bool:
    """Equity below the maintenance margin of the gross exposure (``margin`` 0: no margin rule)."""
    return margin > 0.0 and equity < margin * gross * (1.0 - MARGIN_TOLERANCE)


@njit(cache=True, inline="always")
def above_cap_nb(equity, gross, gross_ratio) -> bool:
    """Gross above ``max_gross`` x equity, i.e. equity < gross x ``gross_ratio`` (0: no cap)."""
    return gross_ratio > 0.0 and equity < gross_ratio * gross * (1.0 - GROSS_TOLERANCE)


@njit(cache=True)
def close_check_nb(bar, close_row, equity, gross, margin, gross_ratio, st, flags, events) -> None:
    """At a close: bankruptcy (equity <= 0), a margin call and gross above the cap, each acting at the next execution.

    The bar loop calls it only on an open account where one of them holds (a call costs more than the tests).
    """
    # a book held at its gross cap is above it on most closes: borrowed arguments spare numba's reference counting
    close_row, st, flags, events = borrowed_nb(close_row), borrowed_nb(st), borrowed_nb(flags), borrowed_nb(events)
    if equity <= 0.0:
        flag_bankruptcy_nb(bar, close_row, equity, st, flags, events)
        return
    if margin_call_nb(equity, gross, margin):
        write_event_nb(events, flags, bar, EventKind.MARGIN_CALL, -1, equity, margin * gross)
        if flags[FL_PENDING] == PENDING_NONE:
            flags[FL_PENDING] = PENDING_MARGIN
    if above_cap_nb(equity, gross, gross_ratio):
        flags[FL_GROSS_CAP] = 1


# ---- the bar loop -------------------------------------------------------------------------


@njit(cache=True, inline="always")
def record_bar_nb(bar, equity, st, acct, out_equity, out_cash, out_positions, out_costs, write_positions,
                  write_costs) -> None:
    """The bar's outputs: equity and cash, and the positions and running cost totals when they are kept."""
    out_equity[bar] = equity
    out_cash[bar] = acct[A_CASH]
    if write_positions:
        for j in range(st.shape[1]):
            out_positions[bar, j] = st[ST_POS, j]
    if write_costs:
        for k in range(N_TOTALS):
            out_costs[bar, k] = acct[A_TOTALS + k]


@njit(cache=True)
def quiet_bars_nb(first, stop, close, days, accrual, delist_at, margin, gross_ratio, ap, st, acct, flags, events,
                  out_equity, out_cash, out_positions, out_costs, write_positions, write_costs) -> int:
    """Bars ``first`` .. before ``stop`` that only accrue, mark and check (no row, nothing pending, an open account,
    no stop to watch); returns the first bar not run: ``stop``, a delisting bar, or the bar after a limit is hit.

    What the bar loop does on such a bar, in its order, with few values live (they stay in registers).  A
    function of its own: the same loop written inside the bar loop made its first compilation 10 s longer.
    """
    # called once per run of quiet bars: borrowed arguments spare numba's reference counting (core/borrow_nb.py)
    close, days, accrual, delist_at = borrowed_nb(close), borrowed_nb(days), borrowed_nb(accrual), borrowed_nb(delist_at)
    ap, st, acct, flags, events = borrowed_nb(ap), borrowed_nb(st), borrowed_nb(acct), borrowed_nb(flags), borrowed_nb(events)
    out_equity, out_cash = borrowed_nb(out_equity), borrowed_nb(out_cash)
    out_positions, out_costs = borrowed_nb(out_positions), borrowed_nb(out_costs)
    i = first
    while i < stop and not delist_at[i]:
        if i > 0:
            accrue_nb(days[i], accrual[0, i], accrual[1, i], ap, st, acct)
        equity, gross = mark_to_market_nb(close, i, st, acct)
        record_bar_nb(i, equity, st, acct, out_equity, out_cash, out_positions, out_costs, write_positions, write_costs)
        i += 1
        if equity <= 0.0 or margin_call_nb(equity, gross, margin) or above_cap_nb(equity, gross, gross_ratio):
            close_check_nb(i - 1, close[i - 1], equity, gross, margin, gross_ratio, st, flags, events)
            break
    return i


@njit(cache=True)
def last_valid_bar_nb(close: np.ndarray) -> np.ndarray:
    """Index of the last bar with a finite close per asset (-1 when there is none)."""
    n_bars, n = close.shape
    out = np.full(n, -1, dtype=np.int64)
    for j in range(n):
        for i in range(n_bars - 1, -1, -1):
            if np.isfinite(close[i, j]):
                out[j] = i
                break
    return out


@njit(cache=True)
def simulate_core_nb(
    open_: np.ndarray,
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    days: np.ndarray,
    last_valid: np.ndarray,
    row_bar: np.ndarray,
    row_w: np.ndarray,
    ap: np.ndarray,
    terms: AccountTerms,
    record: bool,
    out_equity: np.ndarray,
    out_cash: np.ndarray,
    out_positions: np.ndarray,
    out_costs: np.ndarray,
):
    """Simulate one portfolio; fill ``out_equity``/``out_cash`` (and ``out_positions``, ``out_costs`` if full size).

    ``out_costs`` ``(n_bars, N_TOTALS)`` receives the running cost totals
    (fees, slippage, borrow, net interest paid) after each bar; pass a
    zero-row array to skip it, as for ``out_positions``.

    Prices are ``(n_bars, n_assets)`` float64 (NaN = not trading); ``days`` the
    calendar days since the previous bar; ``terms`` the account's
    :class:`AccountTerms` (the days before bar i accrue at the rates of bar
    i-1; ``max_gross`` caps each target row and, from the close on, every
    bar); ``row_bar`` the ascending bar at which each row of ``row_w``
    (target weights, NaN = no order) executes — at the open when
    ``terms.exec_at_open`` else at the close; ``ap`` the
    ``(N_ASSET_PARAMS, n_assets)`` per-asset costs and stops (NaN stop = off).

    Returns ``(orders, trades, events, totals, status)``: record arrays (empty
    unless ``record``), the cost totals (fees, slippage, borrow, net interest
    paid) and a :class:`SimStatus` code.
    """
    accrual = np.empty((2, close.shape[0]))
    accrual_factors_nb(days, terms.cash_rate, terms.cash_rate_negative, accrual)
    return simulate_accrued_nb(open_, high, low, close, days, last_valid, row_bar, row_w, ap, terms, accrual, record,
                               out_equity, out_cash, out_positions, out_costs)


@njit(cache=True)
def simulate_accrued_nb(open_, high, low, close, days, last_valid, row_bar, row_w, ap, terms, accrual, record, out_equity,
                        out_cash, out_positions, out_costs):
    """:func:`simulate_core_nb` given the accrual factors ``accrual`` of ``days`` and ``terms``' rates (:func:`accrual_factors_nb`).

    A sweep whose combinations share the window and the rates computes them once for all of them.
    """
    init_cash = terms.init_cash
    max_gross, maintenance_margin = terms.max_gross, terms.maintenance_margin
    exec_at_open, integer_shares, renormalize = terms.exec_at_open, terms.integer_shares, terms.renormalize
    # the bar loop hands rows of these to the execution point: a view of a borrowed array is not counted
    # (core/borrow_nb.py; the caller holds the arguments)
    open_, close, row_w = borrowed_nb(open_), borrowed_nb(close), borrowed_nb(row_w)
    n_bars, n = close.shape
    n_rows = row_bar.shape[0]
    st = np.zeros((N_ST, n))
    st[ST_BASIS, :] = np.nan
    st[ST_BEST, :] = np.nan
    st[ST_LAST_PX, :] = np.nan
    sti = np.zeros((N_STI, n), dtype=np.int64)
    acct = np.zeros(N_ACCT)
    acct[A_CASH] = init_cash
    flags = np.zeros(N_FLAGS, dtype=np.int64)
    flags[FL_RECORD] = 1 if record else 0
    gross_ratio = 1.0 / max_gross  # 0 when there is no cap
    tgt = np.empty(n)
    per_bar = _PHASES_PER_BAR * n + 8
    capacity = 2 * n * (n_rows + 2) + per_bar if record else 0
    orders = np.empty(capacity, dtype=order_dt)
    trades = np.empty(capacity // 2 + per_bar if record else 0, dtype=trade_dt)
    events = np.empty(per_bar if record else 0, dtype=event_dt)
    write_positions = out_positions.shape[0] == n_bars
    write_costs = out_costs.shape[0] == n_bars
    has_stops = False
    has_trailing = False
    for j in range(n):
        for p in (AP_STOP_LOSS, AP_TAKE_PROFIT, AP_TRAILING_STOP):
            if not np.isnan(ap[p, j]):
                has_stops = True
        if not np.isnan(ap[AP_TRAILING_STOP, j]):
            has_trailing = True
    empty_w = np.empty(n)
    delist_at = np.zeros(n_bars, dtype=np.bool_)  # bars that are some ticker's last valid close
    for j in range(n):
        if 0 <= last_valid[j] < n_bars - 1:
            delist_at[last_valid[j]] = True
    r = 0
    quiet_until = 0
    first = 0
    while first < n_bars:
        # The record arrays grow between runs of bars, never inside one: numba counts references (two atomic
        # operations per array) on every pass of a loop that can reassign an array.
        last = n_bars
        if record:
            orders = grow_records_nb(orders, flags[FL_N_ORDERS], per_bar)
            trades = grow_records_nb(trades, flags[FL_N_TRADES], per_bar)
            events = grow_records_nb(events, flags[FL_N_EVENTS], per_bar)
            room = min(orders.shape[0] - flags[FL_N_ORDERS], trades.shape[0] - flags[FL_N_TRADES],
                       events.shape[0] - flags[FL_N_EVENTS])
            last = min(n_bars, first + room // per_bar)
        for i in range(first, last):
            if i < quiet_until:  # run by quiet_bars_nb
                continue
            # A long run of quiet bars (no row, nothing pending, an open account, no stop to watch, no delisting)
            # goes to quiet_bars_nb, which does what the full bar below does on them, faster; a short one stays here,
            # where it costs less than the call.
            stop = last if r >= n_rows else min(last, row_bar[r])
            if (
                stop - i >= QUIET_RUN_MIN and flags[FL_PENDING] == PENDING_NONE and flags[FL_GROSS_CAP] == 0
                and flags[FL_CLOSED] == 0 and not (has_stops and not is_flat_nb(st)) and not delist_at[i]
            ):
                quiet_until = quiet_bars_nb(i, stop, close, days, accrual, delist_at, maintenance_margin, gross_ratio,
                                            ap, st, acct, flags, events, out_equity, out_cash, out_positions, out_costs,
                                            write_positions, write_costs)
                continue
            if i > 0 and not (flags[FL_CLOSED] == 1 and is_flat_nb(st)):
                accrue_nb(days[i], accrual[0, i], accrual[1, i], ap, st, acct)
            while r < n_rows and row_bar[r] < i:  # defensive: rows before this bar can no longer trade
                r += 1
            has_row = r < n_rows and row_bar[r] == i
            row = r
            if has_row:
                r += 1
            act = (
                has_row
                or flags[FL_PENDING] != PENDING_NONE
                or flags[FL_GROSS_CAP] == 1
                or (flags[FL_CLOSED] == 1 and not is_flat_nb(st))
            )
            # phase 0 the open, 1 the close: the execution point is written once (it is inlined, and large)
            for phase in range(2):
                if phase == 1 and has_stops and flags[FL_CLOSED] == 0 and not is_flat_nb(st):  # a flat bar skips them
                    stops_nb(i, open_, high, low, ap, st, sti, acct, flags, orders, trades, events)
                if act and exec_at_open == (phase == 0):
                    # a row of weights or prices is taken only on a bar that acts on it
                    execution_point_nb(i, open_[i] if phase == 0 else close[i], has_row,
                                       row_w[row] if has_row else empty_w, phase == 0, max_gross, maintenance_margin,
                                       integer_shares, renormalize, ap, st, sti, acct, flags, orders, trades, events,
                                       tgt)
            if delist_at[i]:
                delist_nb(i, close[i], last_valid, n_bars, ap, st, sti, acct, flags, orders, trades, events)
            equity, gross = mark_to_market_nb(close, i, st, acct)
            if flags[FL_CLOSED] == 0 and (
                equity <= 0.0 or margin_call_nb(equity, gross, maintenance_margin) or above_cap_nb(equity, gross, gross_ratio)
            ):
                close_check_nb(i, close[i], equity, gross, maintenance_margin, gross_ratio, st, flags, events)
            if has_trailing and not is_flat_nb(st):
                update_trailing_nb(i, high, low, st, sti)
            record_bar_nb(i, equity, st, acct, out_equity, out_cash, out_positions, out_costs, write_positions,
                          write_costs)
        first = last
    if record:
        trades = grow_records_nb(trades, flags[FL_N_TRADES], n)
        for j in range(n):
            pos = st[ST_POS, j]
            if pos != 0.0:
                direction = Direction.LONG if pos > 0 else Direction.SHORT
                write_trade_nb(trades, flags, st, j, direction, sti[STI_ENTRY_BAR, j], n_bars - 1, TradeStatus.OPEN)
    totals = acct[A_TOTALS:].copy()
    return (
        orders[: flags[FL_N_ORDERS]],
        trades[: flags[FL_N_TRADES]],
        events[: flags[FL_N_EVENTS]],
        totals,
        flags[FL_STATUS],
    )


def simulate_arrays(
    open_: np.ndarray,
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    days: np.ndarray,
    row_bar: np.ndarray,
    row_w: np.ndarray,
    ap: np.ndarray,
    terms: AccountTerms,
    record: bool = True,
):
    """Allocate the output buffers and run :func:`simulate_core_nb` (a thin Python convenience).

    Returns ``(equity, cash, positions, costs, orders, trades, events, totals, status)``;
    ``positions`` and ``costs`` (running cost totals per bar) have zero rows unless ``record``.
    """
    n_bars, n = close.shape
    equity = np.empty(n_bars)
    cash = np.empty(n_bars)
    rows = n_bars if record else 0
    positions = np.empty((rows, n))
    costs = np.empty((rows, N_TOTALS))
    last_valid = last_valid_bar_nb(close)
    orders, trades, events, totals, status = simulate_core_nb(
        open_, high, low, close, days, last_valid, row_bar, row_w, ap, terms, bool(record), equity, cash, positions,
        costs,
    )
    return equity, cash, positions, costs, orders, trades, events, totals, int(status)


def account_terms(
    init_cash: float,
    cash_rate: np.ndarray | float = 0.0,
    cash_rate_negative: np.ndarray | float = 0.0,
    max_gross: float = np.inf,
    maintenance_margin: float = 0.0,
    exec_at_open: bool = True,
    integer_shares: bool = False,
    renormalize: bool = False,
    *,
    n_bars: int,
) -> AccountTerms:
    """:class:`AccountTerms` with every value of the kernel's type (rates: per-bar arrays or one number for all bars)."""
    return AccountTerms(
        float(init_cash), per_bar_rate(cash_rate, n_bars), per_bar_rate(cash_rate_negative, n_bars), float(max_gross),
        float(maintenance_margin), bool(exec_at_open), bool(integer_shares), bool(renormalize),
    )


def per_bar_rate(rate: np.ndarray | float, n_bars: int) -> np.ndarray:
    """A rate as the kernel takes it: a contiguous float64 array of one value per bar."""
    if np.ndim(rate) == 0:
        return np.full(n_bars, float(rate))
    return np.ascontiguousarray(rate, dtype=np.float64)
