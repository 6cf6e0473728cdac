"""Synthetic put options: Black–Scholes prices and a rolled long-put position the engine can trade.

There are no historical option chains here.  A put is priced with the
Black–Scholes formula (European exercise, no dividends, no skew: one
volatility for every strike) from the underlying's own daily prices:

* volatility on bar i = the realised volatility of the last ``vol_window``
  daily log returns up to bar i-1's close (annualised with 252 days, ddof=1,
  :func:`shortthehype.signals.rolling_volatility`) x ``iv_markup`` (implied
  volatility usually trades above realised).  It is known at bar i's open, so
  every price of bar i uses data up to bar i-1 only; while a window spans a
  missing price (a halt) the last estimate is carried forward;
* time to expiry = calendar days to the nominal expiry / 365 (ACT/365);
* the rate is a constant ``rate`` (continuous compounding).

The rolled position
-------------------
A contract is decided on a bar's close: strike = ``moneyness`` x that close,
expiry = that date + ``tenor_days`` calendar days.  It is bought at the
engine's next execution point (the next open by default) at its value there,
is rolled ``roll_days`` trading days (bars of the price index: the exchange
calendar is known in advance) before its *settlement bar* — the last trading
day on or before the nominal expiry, on which the put is worth its intrinsic
value at every price of the bar — and, past settlement, keeps its settlement
value (cash-settled, waiting for the roll sale).  ``roll_days = 0`` rolls at
expiry: the roll decision is taken on the settlement bar and the old contract
is sold for its settlement value.

Consecutive contracts alternate between two *slots*, ``<TICKER>_PUT_A`` and
``<TICKER>_PUT_B``: a slot's price on bar i is the value of the latest
contract placed in it (decided on or before bar i; on its decision bar only
the close exists), NaN before its first contract.  At a roll the strategy
targets 0 on the old slot and the premium budget on the new one, so the
engine *sells* the old contract and *buys* the new one, both at their own
values at the same execution point, with fees and slippage on both legs —
whatever the ``execution`` mode, because each contract is priced on every bar
it may trade on (``close``: the decision bar's close; ``next_open`` /
``next_close``: the next bar), and a slot is reused only two bars or more
after its previous contract was sold (``PUT_MIN_HOLD_BARS``).  A contract
nobody holds any more stays priced until its slot is reused, so a slot never
looks like a ticker whose data stopped.  One engine trade = one contract.

If the underlying has no price on the bar a roll executes (a halt), neither
contract can trade there; ``burry-short`` then repeats the roll's targets on
the halt's last bar so that the roll executes at the first price after it.

A live put is never valued below ``PUT_VALUE_FLOOR`` x strike (a listed put
costs one cent at least); its value at expiry is exactly its intrinsic value.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from shortthehype.constants import (
    ANNUALIZATION,
    OPTION_DAY_COUNT,
    PUT_MIN_HOLD_BARS,
    PUT_SLOT_SUFFIXES,
    PUT_VALUE_FLOOR,
)
from shortthehype.data.prices import Prices
from shortthehype.errors import DataError, ParamError

__all__ = [
    "RolledPuts",
    "black_scholes_call",
    "black_scholes_put",
    "put_slots",
    "put_volatility",
    "roll_puts",
]


def put_slots(ticker: str) -> tuple[str, str]:
    """The two alternating slot tickers of the puts on ``ticker`` (``PLTR`` -> ``PLTR_PUT_A``, ``PLTR_PUT_B``)."""
    return tuple(f"{ticker}{suffix}" for suffix in PUT_SLOT_SUFFIXES)  # type: ignore[return-value]


def _bs(is_call: bool, spot, strike, years, rate, vol):
    from shortthehype.core.options_nb import bs_price_1d_nb

    arrays = np.broadcast_arrays(*(np.asarray(x, dtype=np.float64) for x in (spot, strike, years, rate, vol)))
    shape = arrays[0].shape
    flat = [np.ascontiguousarray(a.reshape(-1)) for a in arrays]
    out = np.empty(flat[0].shape[0])
    bs_price_1d_nb(*flat, is_call, out)
    out = out.reshape(shape)
    return float(out) if out.ndim == 0 else out


def black_scholes_put(spot, strike, years, rate, vol):
    """European put value per share (Black–Scholes, no dividends).

    Parameters
    ----------
    spot, strike : float or array
        Prices in currency per share (>= 0).
    years : float or array
        Time to expiry in years; ``<= 0`` means expired: the intrinsic value
        ``max(strike - spot, 0)``.
    rate : float or array
        Risk-free rate per year, continuous compounding.
    vol : float or array
        Annualised volatility (>= 0); 0 gives ``max(strike e^{-rate years} - spot, 0)``.

    Returns
    -------
    float or ndarray
        Broadcast over the inputs; NaN where an input is NaN or a price or the
        volatility is negative.
    """
    return _bs(False, spot, strike, years, rate, vol)


def black_scholes_call(spot, strike, years, rate, vol):
    """European call value per share; same conventions as :func:`black_scholes_put`."""
    return _bs(True, spot, strike, years, rate, vol)


def put_volatility(close: pd.Series, vol_window: int, iv_markup: float) -> pd.Series:
    """The volatility a put is priced with on each bar: realised vol up to the previous close x markup.

    NaN until ``vol_window`` returns exist before the bar.  A window that
    spans a missing price (a halt) has no estimate; the last one is carried
    forward until a full window exists again.
    """
    from shortthehype.signals import rolling_volatility

    realised = rolling_volatility(close, vol_window, periods_per_year=ANNUALIZATION)
    return realised.ffill().shift(1) * iv_markup


@dataclass(frozen=True)
class RolledPuts:
    """A rolled long-put position on one underlying.

    Attributes
    ----------
    prices : Prices
        OHLC of the two slot series (columns ``<TICKER>_PUT_A``/``_B``, volume
        NaN), on the underlying's dates.
    contracts : DataFrame
        One row per contract: ``slot``, ``decision`` (date of the purchase
        decision), ``strike``, ``expiry`` (nominal), ``settlement`` (its
        settlement bar's date, NaT if after the data), ``roll`` (date of the
        decision that sells it: the next contract's decision, or ``stop``'s
        bar; NaT if held to the end), ``sigma`` (the volatility on the
        decision bar) and ``premium`` (its value at the decision close).
    """

    ticker: str
    prices: Prices
    contracts: pd.DataFrame

    @property
    def slots(self) -> tuple[str, str]:
        return put_slots(self.ticker)


def _positive(name: str, value: float) -> float:
    number = float(value)
    if not np.isfinite(number) or number <= 0.0:
        raise ParamError(f"parameter {name!r} must be a number > 0, got {value!r}")
    return number


def _integer(name: str, value: int, minimum: int) -> int:
    if isinstance(value, bool) or int(value) != value or value < minimum:
        raise ParamError(f"parameter {name!r} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def roll_puts(
    prices: Prices,
    ticker: str,
    *,
    moneyness: float,
    tenor_days: int,
    roll_days: int,
    rate: float,
    vol_window: int,
    iv_markup: float,
    first: pd.Timestamp | str | None = None,
    stop: pd.Timestamp | str | None = None,
) -> RolledPuts:
    """Price a chain of rolled puts on ``ticker`` (see the module docstring for the rules).

    Parameters
    ----------
    prices : Prices
        Must hold ``ticker``; its OHLC on the price index drive the puts.
    ticker : str
        The underlying.
    moneyness : float
        Strike / spot at the purchase decision (> 0; 0.9 = 10 % out of the money).
    tenor_days : int
        Calendar days from the purchase decision to the nominal expiry (>= 1).
    roll_days : int
        Trading days (bars) before the settlement bar on which the roll is
        decided (>= 0; 0 = at expiry).  At least ``PUT_MIN_HOLD_BARS`` bars
        separate a contract's purchase and roll decisions.
    rate : float
        Risk-free rate per year (continuous).
    vol_window : int
        Trading days of the realised volatility (>= 2).
    iv_markup : float
        Implied / realised volatility ratio (> 0).
    first, stop : date, optional
        The first contract is decided on the first bar on or after ``first``
        (and after the volatility exists); no contract is decided on or after
        the first bar on or after ``stop`` (where the strategy sells the last one).

    Returns
    -------
    RolledPuts
        No contract at all (all-NaN slots) when ``first`` is after the data or
        the volatility never exists before ``stop``.

    Raises
    ------
    DataError
        ``ticker`` is not in ``prices``.
    ParamError
        A parameter is out of range (the message names it).
    """
    from shortthehype.core.options_nb import put_chain_nb, put_schedule_nb

    if ticker not in prices.tickers:
        raise DataError(f"cannot price puts on {ticker!r}: it is not in the prices ({', '.join(prices.tickers)})")
    moneyness = _positive("moneyness", moneyness)
    iv_markup = _positive("iv_markup", iv_markup)
    tenor_days = _integer("tenor_days", tenor_days, 1)
    roll_days = _integer("roll_days", roll_days, 0)
    vol_window = _integer("vol_window", vol_window, 2)
    rate = float(rate)
    if not np.isfinite(rate):
        raise ParamError(f"parameter 'rate' must be finite, got {rate!r}")

    index = prices.index
    n = len(index)
    dates = pd.DatetimeIndex(index).normalize()
    day = np.asarray((dates - dates[0]).days, dtype=np.float64) if n else np.zeros(0)
    first_bar = 0 if first is None else int(np.searchsorted(dates, pd.Timestamp(first).normalize(), side="left"))
    stop_bar = n if stop is None else int(np.searchsorted(dates, pd.Timestamp(stop).normalize(), side="left"))

    def column(frame: pd.DataFrame) -> np.ndarray:
        return np.ascontiguousarray(frame[ticker].to_numpy(dtype=np.float64))

    open_, high, low, close = (column(prices.field(name)) for name in ("open", "high", "low", "close"))
    vol = np.ascontiguousarray(
        put_volatility(prices.close[ticker], vol_window, iv_markup).to_numpy(dtype=np.float64)
    )
    decision, settle, expiry = put_schedule_nb(
        close, vol, day, first_bar, stop_bar, float(tenor_days), roll_days, PUT_MIN_HOLD_BARS
    )
    outs = [np.full((n, 2), np.nan) for _ in range(4)]
    strike = np.empty(decision.shape[0])
    put_chain_nb(
        open_, high, low, close, vol, day, decision, settle, expiry, moneyness, rate, PUT_VALUE_FLOOR,
        OPTION_DAY_COUNT, *outs, strike,
    )
    roll = list(index[decision[1:]]) + ([index[stop_bar]] if stop_bar < n else [pd.NaT])
    slots = list(put_slots(ticker))
    frames = {name: pd.DataFrame(arr, index=index, columns=pd.Index(slots, name="ticker")) for name, arr in
              zip(("open", "high", "low", "close"), outs)}
    frames["volume"] = pd.DataFrame(np.nan, index=index, columns=frames["close"].columns)
    put_prices = Prices(**frames, source=prices.source, warnings=prices.warnings)

    origin = dates[0] if n else pd.Timestamp(0)
    contracts = pd.DataFrame(
        {
            "slot": [slots[k % 2] for k in range(decision.shape[0])],
            "decision": index[decision],
            "strike": strike,
            "expiry": origin + pd.to_timedelta(expiry, unit="D"),
            "settlement": pd.DatetimeIndex([index[s] if s >= 0 else pd.NaT for s in settle]),
            "roll": pd.DatetimeIndex(roll[: decision.shape[0]]),
            "sigma": vol[decision],
            "premium": np.array([outs[3][d, k % 2] for k, d in enumerate(decision)]),
        }
    )
    return RolledPuts(ticker=ticker, prices=put_prices, contracts=contracts)
