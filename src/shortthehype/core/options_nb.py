"""Black–Scholes prices and a rolled long-put position (numba, arrays in and out).

European options on a stock without dividends, priced with the
Black–Scholes–Merton formula.  Units: spot and strike in currency per share,
time to expiry in years, rate and volatility per year (continuous
compounding, annualised standard deviation of log returns).  Values are per
share of underlying (one "put" = the right to sell one share).

Edge cases are limits, not errors: at or after expiry (``t <= 0``) an option
is worth its intrinsic value; with zero volatility it is worth its discounted
forward intrinsic value (``max(K e^{-rt} - S, 0)`` for a put); a NaN input
gives NaN.

The rolled-put kernels implement the contract chain documented in
:mod:`shortthehype.options` (which owns dates, tickers and validation).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

_SQRT2 = math.sqrt(2.0)


@njit(cache=True)
def norm_cdf_nb(x):
    """Standard normal CDF, via erfc (accurate in both tails)."""
    return 0.5 * math.erfc(-x / _SQRT2)


@njit(cache=True)
def bs_d1_d2_nb(spot, strike, t, rate, vol):
    """Black–Scholes d1 and d2 (needs spot, strike, t, vol > 0)."""
    sd = vol * math.sqrt(t)
    d1 = (math.log(spot / strike) + (rate + 0.5 * vol * vol) * t) / sd
    return d1, d1 - sd


@njit(cache=True)
def bs_value_nb(spot, strike, t, rate, vol, is_call):
    """European call (``is_call``) or put value per share; t in years, rate and vol per year.

    NaN for non-finite input or a negative spot, strike or vol; intrinsic
    value at t <= 0; the discounted forward payoff at zero vol (or a zero
    spot or strike).
    """
    if not (np.isfinite(spot) and np.isfinite(strike) and np.isfinite(t) and np.isfinite(rate) and np.isfinite(vol)):
        return np.nan
    if spot < 0.0 or strike < 0.0 or vol < 0.0:
        return np.nan
    if t <= 0.0:
        return max(spot - strike, 0.0) if is_call else max(strike - spot, 0.0)
    discounted = strike * math.exp(-rate * t)
    if vol == 0.0 or spot == 0.0 or strike == 0.0:
        return max(spot - discounted, 0.0) if is_call else max(discounted - spot, 0.0)
    d1, d2 = bs_d1_d2_nb(spot, strike, t, rate, vol)
    if is_call:
        return spot * norm_cdf_nb(d1) - discounted * norm_cdf_nb(d2)
    return discounted * norm_cdf_nb(-d2) - spot * norm_cdf_nb(-d1)


@njit(cache=True)
def bs_put_nb(spot, strike, t, rate, vol):
    """European put value per share (:func:`bs_value_nb`)."""
    return bs_value_nb(spot, strike, t, rate, vol, False)


@njit(cache=True)
def bs_call_nb(spot, strike, t, rate, vol):
    """European call value per share (:func:`bs_value_nb`)."""
    return bs_value_nb(spot, strike, t, rate, vol, True)


@njit(cache=True)
def bs_price_1d_nb(spot, strike, t, rate, vol, is_call, out):
    """Element-wise call (is_call) or put values of equal-length arrays."""
    for i in range(out.shape[0]):
        out[i] = bs_value_nb(spot[i], strike[i], t[i], rate[i], vol[i], is_call)
    return out


@njit(cache=True)
def settlement_bar_nb(day, start, expiry):
    """Last bar >= start dated on or before ``expiry`` (calendar days); -1 if the data ends before it is known."""
    n = day.shape[0]
    j = start
    while j + 1 < n and day[j + 1] <= expiry:
        j += 1
    if j + 1 < n or day[j] >= expiry:
        return j
    return -1


@njit(cache=True)
def put_schedule_nb(close, vol, day, first_bar, stop_bar, tenor_days, roll_days, min_hold):
    """Bars of a chain of put contracts: purchase decision, settlement bar (-1: after the data), expiry day.

    A contract is decided on a bar's close (first on the first bar >= first_bar
    where close and vol are finite and positive); its roll decision (the next
    contract's purchase decision) is ``roll_days`` bars before its settlement
    bar but at least ``min_hold`` bars after its own decision, postponed while
    the new contract cannot be priced; no decision is taken at or after
    ``stop_bar``.
    """
    n = close.shape[0]
    decision = np.empty(n, dtype=np.int64)
    settle = np.empty(n, dtype=np.int64)
    expiry = np.empty(n, dtype=np.float64)
    count = 0
    roll_at = -1
    for i in range(max(first_bar, 0), min(stop_bar, n)):
        due = count == 0 or (roll_at >= 0 and i >= roll_at)
        if not due:
            continue
        if not (np.isfinite(close[i]) and close[i] > 0.0 and np.isfinite(vol[i]) and vol[i] > 0.0):
            continue
        decision[count] = i
        expiry[count] = day[i] + tenor_days
        s = settlement_bar_nb(day, i, expiry[count])
        settle[count] = s
        roll_at = max(s - roll_days, i + min_hold) if s >= 0 else -1
        count += 1
    return decision[:count], settle[:count], expiry[:count]


@njit(cache=True)
def live_put_nb(spot, strike, t, rate, vol, floor):
    """A traded put's value: Black–Scholes, floored at ``floor`` x strike while t > 0; intrinsic at t <= 0."""
    if t <= 0.0:
        return max(strike - spot, 0.0)
    return max(bs_put_nb(spot, strike, t, rate, vol), floor * strike)


@njit(cache=True)
def put_chain_nb(open_, high, low, close, vol, day, decision, settle, expiry, moneyness, rate, floor, year_days,
                 out_open, out_high, out_low, out_close, strike):
    """OHLC of each contract in its slot (contract k in column k % 2); NaN before a slot's first contract.

    Contract k is struck at ``moneyness x close[decision]`` and fills its slot
    from its decision bar to the bar before contract k+2's decision (the end
    of the data for the last two).  On bar i it is valued with vol[i] (the
    last finite one while vol is missing) and t = (expiry - day[i]) /
    year_days: open at the spot's open, high at the spot's low, low at the
    spot's high (the put falls as the spot rises), close at the spot's close;
    on its decision bar only the close exists.  On its settlement bar every
    price is the intrinsic value, after it the settlement value is frozen
    (cash-settled).  A bar without a spot close is a halt (NaN).
    """
    n = close.shape[0]
    count = decision.shape[0]
    for k in range(count):
        slot = k % 2
        d = decision[k]
        s = settle[k]
        end = decision[k + 2] - 1 if k + 2 < count else n - 1
        strike_k = moneyness * close[d]
        strike[k] = strike_k
        sigma = vol[d]
        spot = close[d]
        settled = np.nan
        for i in range(d, end + 1):
            if s >= 0 and i > s:
                out_open[i, slot] = settled
                out_high[i, slot] = settled
                out_low[i, slot] = settled
                out_close[i, slot] = settled
                continue
            if np.isfinite(vol[i]) and vol[i] > 0.0:
                sigma = vol[i]
            c = close[i]
            if np.isfinite(c):
                spot = c
            if i == s:
                settled = max(strike_k - spot, 0.0)
            if not np.isfinite(c):
                continue
            t = (expiry[k] - day[i]) / year_days
            if i == s:
                t = 0.0
            out_close[i, slot] = live_put_nb(c, strike_k, t, rate, sigma, floor)
            if i == d:
                continue
            o = open_[i] if np.isfinite(open_[i]) else c
            h = high[i] if np.isfinite(high[i]) else c
            lo = low[i] if np.isfinite(low[i]) else c
            out_open[i, slot] = live_put_nb(o, strike_k, t, rate, sigma, floor)
            out_high[i, slot] = live_put_nb(lo, strike_k, t, rate, sigma, floor)
            out_low[i, slot] = live_put_nb(h, strike_k, t, rate, sigma, floor)
    return strike
