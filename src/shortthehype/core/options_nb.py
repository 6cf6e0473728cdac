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

Volatility skew: an option struck at K with t years to expiry is priced
with ``sigma = atm x m(z)``, where ``z = ln(K / F) / (atm sqrt(t))`` is the
standardised log-moneyness (``F = S e^{rt}`` the forward) and
``m(z) = 1 - slope z + curvature z^2``, clipped to ``[floor, cap]``.  With
``slope, curvature >= 0`` the put wing (z < 0) is never below the
at-the-money level and ``m(0) = 1``: at-the-money prices do not move.

The contract and rolled-put kernels implement the rules documented in
:mod:`shortthehype.option_pricing` (which owns dates, tickers and validation).
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
def bs_delta_nb(spot, strike, t, rate, vol, is_call):
    """d value / d spot per share (call in [0, 1], put in [-1, 0]); the intrinsic slope at t <= 0 or zero vol."""
    if not (np.isfinite(spot) and np.isfinite(strike) and np.isfinite(t) and np.isfinite(vol)) or spot <= 0.0:
        return np.nan
    if t <= 0.0 or vol <= 0.0 or strike <= 0.0:
        forward_strike = strike * math.exp(-rate * max(t, 0.0))
        if is_call:
            return 1.0 if spot > forward_strike else 0.0
        return -1.0 if spot < forward_strike else 0.0
    d1, _ = bs_d1_d2_nb(spot, strike, t, rate, vol)
    return norm_cdf_nb(d1) if is_call else norm_cdf_nb(d1) - 1.0


@njit(cache=True)
def bs_vega_nb(spot, strike, t, rate, vol):
    """d value / d vol per share, per 1.00 of volatility (the same for calls and puts); 0 at t <= 0."""
    if not (np.isfinite(spot) and np.isfinite(strike) and np.isfinite(t) and np.isfinite(vol)):
        return np.nan
    if t <= 0.0 or vol <= 0.0 or spot <= 0.0 or strike <= 0.0:
        return 0.0
    d1, _ = bs_d1_d2_nb(spot, strike, t, rate, vol)
    return spot * math.exp(-0.5 * d1 * d1) / math.sqrt(2.0 * math.pi) * math.sqrt(t)


@njit(cache=True)
def skew_multiplier_nb(spot, strike, t, rate, atm, slope, curvature, floor, cap):
    """``m(z)`` of the module docstring: the ratio of the strike's volatility to the at-the-money level."""
    if not (t > 0.0 and atm > 0.0 and spot > 0.0 and strike > 0.0):
        return 1.0
    z = (math.log(strike / spot) - rate * t) / (atm * math.sqrt(t))
    m = 1.0 - slope * z + curvature * z * z
    return min(max(m, floor), cap)


@njit(cache=True)
def skewed_vol_nb(spot, strike, t, rate, atm, slope, curvature, floor, cap):
    """The volatility an option struck at ``strike`` is priced with: ``atm x m(z)``."""
    return atm * skew_multiplier_nb(spot, strike, t, rate, atm, slope, curvature, floor, cap)


@njit(cache=True)
def skewed_vol_1d_nb(spot, strike, t, rate, atm, slope, curvature, floor, cap, out):
    """Element-wise :func:`skewed_vol_nb` of equal-length arrays (scalars slope .. cap)."""
    for i in range(out.shape[0]):
        out[i] = skewed_vol_nb(spot[i], strike[i], t[i], rate[i], atm[i], slope, curvature, floor, cap)
    return out


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
def live_option_nb(spot, strike, t, rate, atm, skew, floor, is_call):
    """A traded option's value per share: Black–Scholes at the skewed volatility, floored at ``floor`` x strike
    while t > 0; intrinsic at t <= 0.  ``skew`` = (slope, curvature, multiplier floor, multiplier cap)."""
    if t <= 0.0:
        return max(spot - strike, 0.0) if is_call else max(strike - spot, 0.0)
    vol = skewed_vol_nb(spot, strike, t, rate, atm, skew[0], skew[1], skew[2], skew[3])
    return max(bs_value_nb(spot, strike, t, rate, vol, is_call), floor * strike)


@njit(cache=True)
def contract_bars_nb(open_, high, low, close, atm, rate, day, first, last, settle, expiry, strike, skew, floor,
                     year_days, is_call, out_open, out_high, out_low, out_close):
    """OHLC of one contract on bars ``first..last`` (its decision bar .. the last bar it is priced on).

    On bar i it is valued with atm[i] and rate[i] (the last finite ones while
    missing) and t = (expiry - day[i]) / year_days: open at the spot's open,
    close at the spot's close, and high/low at the spot's high/low (a call) or
    low/high (a put: it falls as the spot rises); on the decision bar only the
    close exists.  On the settlement bar ``settle`` every price is the intrinsic
    value; after it the settlement value is frozen (cash-settled).  A bar
    without a spot close is a halt (NaN).  Returns the settlement value (NaN
    when the settlement bar is not in ``first..last``).
    """
    sigma = atm[first]
    r = rate[first]
    spot = close[first]
    settled = np.nan
    for i in range(first, last + 1):
        if settle >= 0 and i > settle:
            out_open[i] = settled
            out_high[i] = settled
            out_low[i] = settled
            out_close[i] = settled
            continue
        if np.isfinite(atm[i]) and atm[i] > 0.0:
            sigma = atm[i]
        if np.isfinite(rate[i]):
            r = rate[i]
        c = close[i]
        if np.isfinite(c):
            spot = c
        if i == settle:
            settled = max(spot - strike, 0.0) if is_call else max(strike - spot, 0.0)
        if not np.isfinite(c):
            continue
        t = 0.0 if i == settle else (expiry - day[i]) / year_days
        out_close[i] = live_option_nb(c, strike, t, r, sigma, skew, floor, is_call)
        if i == first:
            continue
        o = open_[i] if np.isfinite(open_[i]) else c
        h = high[i] if np.isfinite(high[i]) else c
        lo = low[i] if np.isfinite(low[i]) else c
        up = live_option_nb(h, strike, t, r, sigma, skew, floor, is_call)
        down = live_option_nb(lo, strike, t, r, sigma, skew, floor, is_call)
        out_open[i] = live_option_nb(o, strike, t, r, sigma, skew, floor, is_call)
        out_high[i] = max(up, down)
        out_low[i] = min(up, down)
    return settled


@njit(cache=True)
def put_chain_nb(open_, high, low, close, vol, rate, day, decision, settle, expiry, moneyness, skew, floor, year_days,
                 out_open, out_high, out_low, out_close, strike):
    """OHLC of each rolled put in its slot (contract k in column k % 2); NaN before a slot's first contract.

    Contract k is struck at ``moneyness x close[decision]`` and fills its slot
    from its decision bar to the bar before contract k+2's decision (the end
    of the data for the last two), priced by :func:`contract_bars_nb`.
    """
    n = close.shape[0]
    count = decision.shape[0]
    for k in range(count):
        slot = k % 2
        d = decision[k]
        end = decision[k + 2] - 1 if k + 2 < count else n - 1
        strike[k] = moneyness * close[d]
        contract_bars_nb(open_, high, low, close, vol, rate, day, d, end, settle[k], expiry[k], strike[k], skew,
                         floor, year_days, False, out_open[:, slot], out_high[:, slot], out_low[:, slot],
                         out_close[:, slot])
    return strike
