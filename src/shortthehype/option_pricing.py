"""Synthetic options: Black–Scholes prices with a volatility skew, option contracts and rolled puts the engine trades.

There are no historical option chains here.  An option is priced with the
Black–Scholes formula (European exercise, no dividends) from the
underlying's own daily prices, with a volatility that depends on the strike:

* **at-the-money volatility** on bar i (:class:`VolModel`, ``vol_source``):
  ``realised`` = the realised volatility of the last ``vol_window`` daily log
  returns up to bar i-1's close (annualised with 252 days, ddof=1,
  :func:`shortthehype.signals.rolling_volatility`; while a window spans a
  missing price the last estimate is carried forward); ``constant`` =
  ``vol_level``; ``csv`` = the implied volatility of a user file on bar i-1's
  date (:func:`load_implied_vol`).  Each is multiplied by ``iv_markup``.  It
  is known at bar i's open, so every price of bar i uses data up to bar i-1
  only;
* **skew**: the strike's volatility is ``atm x m(z)`` with
  ``z = ln(K / F) / (atm sqrt(t))`` (standardised log-moneyness, ``F = S e^{rt}``)
  and ``m(z) = 1 - skew_slope z + skew_curvature z^2`` clipped to
  ``[VOL_SKEW_FLOOR, VOL_SKEW_CAP]``: the put wing is priced above the
  at-the-money level, at-the-money prices are those of a flat volatility;
* time to expiry = calendar days to the nominal expiry / 365 (ACT/365);
* the rate on bar i is a constant (continuous compounding) or, from a dated
  cash-rate series (ACT/360 simple, e.g. the 3-month T-bill), the series'
  last value before bar i's date converted to continuous compounding over a
  bill's 91 days: ``r_c = ln(1 + r x 91/360) x 365/91``
  (:func:`continuous_rates`).

Option contracts
----------------
:func:`price_contract` prices one listed-style contract (a put or a call on a
ticker, a strike given as a price or as moneyness x the decision close, an
expiry given as a date or as a tenor): its *decision bar* is the first bar on
or after the entry date where the underlying and the volatility exist; it
trades as an instrument named by its OCC symbol (``PLTR270115P00050000``),
whose price per share is the model value from the decision bar on; on its
*settlement bar* (the last trading day on or before the expiry) it is worth
its intrinsic value, and the series ends there, so the engine closes a
position still held at that value without costs (``cash_settled``).

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

import os
from dataclasses import dataclass
from typing import Any
from pathlib import Path

import numpy as np
import pandas as pd

from shortthehype.constants import (
    ANNUALIZATION,
    CONTRACT_MULTIPLIER,
    OPTION_DAY_COUNT,
    PUT_IV_MARKUP,
    PUT_MIN_HOLD_BARS,
    PUT_SLOT_SUFFIXES,
    PUT_VALUE_FLOOR,
    PUT_VOL_WINDOW,
    VOL_SKEW_CAP,
    VOL_SKEW_CURVATURE,
    VOL_SKEW_FLOOR,
    VOL_SKEW_SLOPE,
)
from shortthehype.data.prices import Prices
from shortthehype.errors import DataError, ParamError
from shortthehype.params import Param
from shortthehype.schedule import calendar_dates

__all__ = [
    "OPTION_TYPES",
    "VOL_MODEL_PARAMS",
    "VOL_SOURCES",
    "OptionContract",
    "RolledPuts",
    "VolModel",
    "atm_volatility",
    "black_scholes_call",
    "black_scholes_delta",
    "black_scholes_put",
    "black_scholes_vega",
    "continuous_rates",
    "contract_records",
    "load_implied_vol",
    "occ_symbol",
    "price_contract",
    "put_slots",
    "put_volatility",
    "roll_puts",
    "skewed_volatility",
]

#: Where the at-the-money volatility comes from.
VOL_SOURCES = ("realised", "constant", "csv")
#: Option types of a contract.
OPTION_TYPES = ("put", "call")

#: The volatility model's parameters, shared by every kind that prices options.
VOL_MODEL_PARAMS = (
    Param("vol_source", "choice", "realised", "At-the-money volatility: realised = trailing realised vol; constant = vol_level; csv = implied vol from iv_file (all x iv_markup).", choices=VOL_SOURCES),
    Param("vol_window", "int", PUT_VOL_WINDOW, "Trailing daily log returns in the realised volatility (vol_source = realised).", "bars", minimum=2, applies={"vol_source": "realised"}),
    Param("iv_markup", "float", PUT_IV_MARKUP, "At-the-money implied volatility = the source's level x this.", "ratio", minimum=0.0, exclusive_minimum=True),
    Param("vol_level", "float", None, "At-the-money volatility of vol_source = constant.", "fraction/yr", minimum=0.0, exclusive_minimum=True, maximum=10.0, optional=True, applies={"vol_source": "constant"}),
    Param("iv_file", "str", None, "CSV of implied volatility per date in percentage points (columns date and iv, or date and close as in VIX.csv) for vol_source = csv.", optional=True, applies={"vol_source": "csv"}),
    Param("skew_slope", "float", VOL_SKEW_SLOPE, "Skew: -slope x z in the volatility multiplier m(z) = 1 - slope z + curvature z^2, z = ln(K/F) / (atm sqrt(t)).", "ratio", minimum=0.0, maximum=5.0),
    Param("skew_curvature", "float", VOL_SKEW_CURVATURE, "Smile: curvature x z^2 in the volatility multiplier m(z).", "ratio", minimum=0.0, maximum=5.0),
    Param("risk_free", "float", None, "Option pricing rate per year, continuous; default (none): the run's cash rate on each day, converted from ACT/360.", "fraction/yr", minimum=-0.1, maximum=1.0, optional=True),
)


def put_slots(ticker: str) -> tuple[str, str]:
    """The two alternating slot tickers of the puts on ``ticker`` (``PLTR`` -> ``PLTR_PUT_A``, ``PLTR_PUT_B``)."""
    return tuple(f"{ticker}{suffix}" for suffix in PUT_SLOT_SUFFIXES)  # type: ignore[return-value]


def _broadcast(inputs, fill):
    """Broadcast ``inputs`` to one shape, let ``fill(flat_inputs, out)`` compute the flat result; a float for scalars."""
    arrays = np.broadcast_arrays(*(np.asarray(x, dtype=np.float64) for x in inputs))
    flat = [np.ascontiguousarray(a.reshape(-1)) for a in arrays]
    out = np.empty(flat[0].shape[0])
    fill(flat, out)
    out = out.reshape(arrays[0].shape)
    return float(out) if out.ndim == 0 else out


def _bs(is_call: bool, spot, strike, years, rate, vol):
    from shortthehype.core.options_nb import bs_price_1d_nb

    return _broadcast((spot, strike, years, rate, vol), lambda flat, out: bs_price_1d_nb(*flat, is_call, out))


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


def _greek(kernel_name: str, *args):
    from shortthehype.core import options_nb

    kernel = getattr(options_nb, kernel_name)

    def fill(flat, out):
        for i in range(out.shape[0]):
            out[i] = kernel(*(float(a[i]) for a in flat), *args[5:])

    return _broadcast(args[:5], fill)


def black_scholes_delta(spot, strike, years, rate, vol, *, call: bool = False):
    """d value / d spot per share (a put's is in [-1, 0]); the intrinsic slope at or after expiry."""
    return _greek("bs_delta_nb", spot, strike, years, rate, vol, bool(call))


def black_scholes_vega(spot, strike, years, rate, vol):
    """d value / d volatility per share, per 1.00 (100 vol points) of volatility; 0 at or after expiry."""
    return _greek("bs_vega_nb", spot, strike, years, rate, vol)


def skewed_volatility(spot, strike, years, rate, atm, *, slope: float = VOL_SKEW_SLOPE,
                      curvature: float = VOL_SKEW_CURVATURE):
    """The volatility a strike is priced with: ``atm x m(z)`` (module docstring); broadcast over the inputs."""
    from shortthehype.core.options_nb import skewed_vol_1d_nb

    def fill(flat, out):
        skewed_vol_1d_nb(*flat, float(slope), float(curvature), VOL_SKEW_FLOOR, VOL_SKEW_CAP, out)

    return _broadcast((spot, strike, years, rate, atm), fill)


def same_rate(held: Any, rate: Any) -> bool:
    """Whether a value priced at the risk-free rate ``held`` holds for ``rate``: the same dated series (by identity:
    a Series is not hashable), or equal numbers (None included)."""
    if isinstance(held, pd.Series) or isinstance(rate, pd.Series):
        return held is rate
    return held == rate


@dataclass(frozen=True)
class VolModel:
    """How an option's volatility is set (see the module docstring); built from a kind's parameters by :meth:`from_params`."""

    source: str = "realised"
    window: int = PUT_VOL_WINDOW
    markup: float = PUT_IV_MARKUP
    level: float | None = None
    iv_file: str | None = None
    slope: float = VOL_SKEW_SLOPE
    curvature: float = VOL_SKEW_CURVATURE

    @classmethod
    def from_params(cls, params) -> VolModel:
        model = cls(
            source=params["vol_source"],
            window=params["vol_window"],
            markup=params["iv_markup"],
            level=params["vol_level"],
            iv_file=params["iv_file"],
            slope=params["skew_slope"],
            curvature=params["skew_curvature"],
        )
        model.check()
        return model

    def check(self) -> None:
        """One-line ParamError for a model that cannot price (a missing level or file)."""
        if self.source not in VOL_SOURCES:
            raise ParamError(f"parameter 'vol_source' is {self.source!r}; expected one of {', '.join(VOL_SOURCES)}")
        if self.source == "constant" and self.level is None:
            raise ParamError("parameter 'vol_level' needs a value with vol_source = constant (e.g. vol_level=0.5)")
        if self.source == "csv" and not self.iv_file:
            raise ParamError("parameter 'iv_file' needs a CSV path with vol_source = csv")

    def file_state(self) -> tuple[int, int] | None:
        """The implied-volatility file's modification time and size (None without one): part of the key of what is
        priced with the model and kept, so that a file rewritten since is read again."""
        if self.source != "csv" or not self.iv_file:
            return None
        try:
            state = os.stat(self.iv_file)
        except OSError:
            return None  # pricing reports the missing file
        return state.st_mtime_ns, state.st_size

    @property
    def skew(self) -> np.ndarray:
        """The kernels' skew vector: slope, curvature, multiplier floor, multiplier cap."""
        return np.array([self.slope, self.curvature, VOL_SKEW_FLOOR, VOL_SKEW_CAP], dtype=np.float64)

    def describe(self) -> str:
        """One line for reports: what the at-the-money level is and the skew."""
        level = {
            "realised": f"{self.window}-day realised volatility",
            "constant": f"constant {self.level:g}" if self.level is not None else "constant",
            "csv": f"implied volatility from {self.iv_file}",
        }[self.source]
        return (
            f"at-the-money = {level} x {self.markup:g} (known at the previous close); skew m(z) = 1 - {self.slope:g} z"
            f" + {self.curvature:g} z^2, z = ln(K/F) / (atm sqrt(t)), clipped to [{VOL_SKEW_FLOOR:g}, {VOL_SKEW_CAP:g}]"
        )


def load_implied_vol(path: str | Path) -> pd.Series:
    """Implied volatility per date from a CSV, as a fraction per year (``20`` in the file = 0.20).

    The file has a ``date`` column and the volatility in percentage points in
    a column ``iv`` (or ``close``, as in the VIX/VXN files of the shared data).
    Dates must parse and be unique; values must be finite and in (0, 1000].
    Every problem is a one-line :class:`DataError` naming the file.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: implied volatility file not found")
    try:
        frame = pd.read_csv(path)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read the implied volatility CSV ({str(exc).splitlines()[0]})") from None
    columns = {str(c).strip().lower(): c for c in frame.columns}
    value_column = columns.get("iv", columns.get("close"))
    if "date" not in columns or value_column is None:
        raise DataError(f"{path}: expected columns date and iv (or date and close), got {', '.join(map(str, frame.columns))}")
    if frame.empty:
        raise DataError(f"{path}: no rows")
    dates = pd.to_datetime(frame[columns["date"]], errors="coerce", format="ISO8601")
    if dates.isna().any():
        row = int(np.flatnonzero(dates.isna().to_numpy())[0])
        raise DataError(f"{path}: row {row + 2} has an unparsable date {frame[columns['date']].iloc[row]!r}")
    values = pd.to_numeric(frame[value_column], errors="coerce").to_numpy(dtype=np.float64)
    bad = ~(np.isfinite(values) & (values > 0.0) & (values <= 1000.0))
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"{path}: implied volatility on {dates.iloc[row]:%Y-%m-%d} is {frame[value_column].iloc[row]!r}; "
            "expected percentage points in (0, 1000]"
        )
    series = pd.Series(values / 100.0, index=calendar_dates(dates), name="iv")
    if not series.index.is_unique:
        raise DataError(f"{path}: duplicate date {series.index[series.index.duplicated()][0]:%Y-%m-%d}")
    return series.sort_index()


def atm_volatility(close: pd.Series, model: VolModel, *, need_from: pd.Timestamp | None = None) -> pd.Series:
    """At-the-money volatility on each bar of ``close``'s index, known at that bar's open (module docstring).

    With ``vol_source = csv`` every bar from ``need_from`` on (default: all)
    needs the file's value on the previous bar's date; a missing one is a
    :class:`DataError` naming the file and the date (never a silent zero).
    """
    model.check()
    if model.source == "realised":
        return put_volatility(close, model.window, model.markup)
    if model.source == "constant":
        return pd.Series(float(model.level) * model.markup, index=close.index)
    implied = load_implied_vol(model.iv_file)
    index = pd.DatetimeIndex(close.index)
    aligned = implied.reindex(calendar_dates(index))
    aligned.index = index
    start = 1 if need_from is None else max(int(np.searchsorted(index, need_from, side="left")), 1)
    lagged = aligned.shift(1)
    missing = lagged.iloc[start:].isna()
    if missing.any():
        day = index[start:][missing.to_numpy()][0]
        before = index[index.get_loc(day) - 1]
        raise DataError(
            f"{model.iv_file}: no implied volatility on {before:%Y-%m-%d} (needed to price options on {day:%Y-%m-%d})"
        )
    return lagged * model.markup


def continuous_rates(index: pd.DatetimeIndex, rate: float | pd.Series | None) -> np.ndarray:
    """The option-pricing rate on each bar of ``index`` (continuous compounding, per year).

    A number is used as it is (already continuous).  A dated Series is a cash
    rate (ACT/360 simple, fractions per year, e.g. the T-bill): bar i gets its
    last value dated before bar i's date (known at bar i's open), converted
    as ``ln(1 + r x 91/360) x 365/91``; bars before its first value get the
    first value.  ``None`` means 0.
    """
    n = len(index)
    if rate is None:
        return np.zeros(n)
    if not isinstance(rate, pd.Series):
        number = float(rate)
        if not np.isfinite(number):
            raise ParamError(f"parameter 'risk_free' must be finite, got {rate!r}")
        return np.full(n, number)
    from shortthehype.data.rates import continuous_rate

    series = rate.dropna().sort_index()
    if series.empty:
        return np.zeros(n)
    dates = calendar_dates(index)
    known = np.searchsorted(calendar_dates(series.index), dates, side="left") - 1
    simple = series.to_numpy(dtype=np.float64)[np.clip(known, 0, len(series) - 1)]
    return np.asarray(continuous_rate(simple), dtype=np.float64)


def put_volatility(close: pd.Series, vol_window: int, iv_markup: float) -> pd.Series:
    """The volatility a put is priced with on each bar: realised vol up to the previous close x markup.

    NaN until ``vol_window`` returns exist before the bar.  A window that
    spans a missing price (a halt) has no estimate; the last one is carried
    forward until a full window exists again.
    """
    from shortthehype.signals import rolling_volatility

    realised = rolling_volatility(close, vol_window, periods_per_year=ANNUALIZATION)
    return realised.ffill().shift(1) * iv_markup


def _pricing_calendar(prices: Prices) -> tuple[pd.DatetimeIndex, np.ndarray]:
    """The bars' dates at midnight and their day numbers from the first, once per loaded prices."""

    def compute() -> tuple[pd.DatetimeIndex, np.ndarray]:
        dates = calendar_dates(prices.index)
        day = np.asarray((dates - dates[0]).days, dtype=np.float64) if len(dates) else np.zeros(0)
        return dates, day

    return prices.cached(("pricing-calendar",), compute)


def _pricing_rates(prices: Prices, rate: float | pd.Series | None) -> np.ndarray:
    """:func:`continuous_rates` on the bars of ``prices``; a dated series is converted once per loaded prices
    (and kept with them, so the same object is recognised)."""
    def convert() -> tuple[Any, np.ndarray]:
        return rate, np.ascontiguousarray(continuous_rates(prices.index, rate))

    if not isinstance(rate, pd.Series):
        return convert()[1]
    # kept by identity, with the series itself: an id is reused only once its object is gone
    return prices.recent(("pricing-rates",), id(rate), convert, PRICING_RATES_KEPT, lambda held: held[0] is rate)[1]


#: Converted rate series kept per loaded prices (a run's, a sweep's or a study's one series, and a few others).
PRICING_RATES_KEPT = 4


def _atm_array(prices: Prices, ticker: str, model: VolModel, need_from: pd.Timestamp | None) -> np.ndarray:
    """:func:`atm_volatility` of ``ticker`` as the kernels read it; a realised volatility does not depend on when a
    contract is bought, so it is computed once per loaded prices, ticker, window and markup."""

    def compute() -> np.ndarray:
        return np.ascontiguousarray(atm_volatility(prices.close[ticker], model, need_from=need_from).to_numpy(dtype=np.float64))

    if model.source != "realised":
        return compute()  # a file's values are checked from each contract's own first bar
    return prices.cached(("realised-atm-volatility", ticker, model.window, model.markup), compute)


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
    rate: float | pd.Series | None,
    vol_window: int = PUT_VOL_WINDOW,
    iv_markup: float = PUT_IV_MARKUP,
    volatility: VolModel | None = None,
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
    rate : float or Series
        Risk-free rate: a number per year (continuous) or a dated cash-rate
        series (:func:`continuous_rates`).
    vol_window, iv_markup : int, float
        Without ``volatility``: a flat (unskewed) realised-volatility model
        over ``vol_window`` trading days (>= 2) times ``iv_markup`` (> 0).
    volatility : VolModel, optional
        The volatility model (at-the-money source and skew); overrides
        ``vol_window`` and ``iv_markup``.
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
    tenor_days = _integer("tenor_days", tenor_days, 1)
    roll_days = _integer("roll_days", roll_days, 0)
    if volatility is None:
        volatility = VolModel(
            window=_integer("vol_window", vol_window, 2), markup=_positive("iv_markup", iv_markup), slope=0.0,
            curvature=0.0,
        )
    if not isinstance(rate, pd.Series) and rate is not None and not np.isfinite(float(rate)):
        raise ParamError(f"parameter 'rate' must be finite, got {rate!r}")

    index = prices.index
    n = len(index)
    dates, day = _pricing_calendar(prices)
    first_bar = 0 if first is None else int(np.searchsorted(dates, pd.Timestamp(first).normalize(), side="left"))
    stop_bar = n if stop is None else int(np.searchsorted(dates, pd.Timestamp(stop).normalize(), side="left"))

    position = prices.tickers.index(ticker)

    def column(frame: pd.DataFrame) -> np.ndarray:
        return np.ascontiguousarray(frame.to_numpy(dtype=np.float64)[:, position])

    open_, high, low, close = (column(prices.field(name)) for name in ("open", "high", "low", "close"))
    vol = _atm_array(prices, ticker, volatility, index[first_bar] if first_bar < n else None)
    rates = _pricing_rates(prices, rate)
    decision, settle, expiry = put_schedule_nb(
        close, vol, day, first_bar, stop_bar, float(tenor_days), roll_days, PUT_MIN_HOLD_BARS
    )
    outs = [np.full((n, 2), np.nan) for _ in range(4)]
    strike = np.empty(decision.shape[0])
    put_chain_nb(
        open_, high, low, close, vol, rates, day, decision, settle, expiry, moneyness, volatility.skew,
        PUT_VALUE_FLOOR, OPTION_DAY_COUNT, *outs, strike,
    )
    roll = list(index[decision[1:]]) + ([index[stop_bar]] if stop_bar < n else [pd.NaT])
    slots = list(put_slots(ticker))
    columns = pd.Index(slots, name="ticker")  # one for every frame
    frames = {name: pd.DataFrame(arr, index=index, columns=columns)
              for name, arr in zip(("open", "high", "low", "close"), outs)}
    frames["volume"] = pd.DataFrame(np.full((n, 2), np.nan), index=index, columns=columns)
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
            "sigma": vol[decision],  # at-the-money; the strike's own is skewed_volatility(...)
            "premium": np.array([outs[3][d, k % 2] for k, d in enumerate(decision)]),
        }
    )
    return RolledPuts(ticker=ticker, prices=put_prices, contracts=contracts)


def occ_symbol(ticker: str, expiry: pd.Timestamp, option_type: str, strike: float) -> str:
    """The OCC option symbol: root, expiry YYMMDD, P or C, strike x 1000 on 8 digits (``PLTR270115P00050000``)."""
    return f"{ticker}{pd.Timestamp(expiry):%y%m%d}{'C' if option_type == 'call' else 'P'}{int(round(strike * 1000)):08d}"


@dataclass(frozen=True)
class OptionContract:
    """One priced option contract: its terms, its decision and settlement, and its price series.

    ``symbol`` is the instrument the engine trades (price per share, NaN
    before ``decision`` and after ``settlement``); ``shares`` is the position
    the contract count asks for (None when sized by a premium budget).
    """

    name: str
    ticker: str
    option_type: str
    strike: float
    expiry: pd.Timestamp
    symbol: str
    decision: pd.Timestamp | None
    settlement: pd.Timestamp | None
    exit: pd.Timestamp | None
    contracts: float | None
    premium_budget: float | None
    multiplier: int
    prices: Prices
    #: The last date the instrument belongs to this contract (a rolled slot is reused later); None = the end.
    last: pd.Timestamp | None = None

    @property
    def shares(self) -> float | None:
        return None if self.contracts is None else self.contracts * self.multiplier


def price_contract(
    prices: Prices,
    *,
    name: str,
    ticker: str,
    option_type: str,
    entry: pd.Timestamp,
    strike: float | None = None,
    moneyness: float | None = None,
    expiry: pd.Timestamp | None = None,
    tenor_days: int | None = None,
    contracts: float | None = None,
    premium_budget: float | None = None,
    exit: pd.Timestamp | None = None,
    rate: float | pd.Series | None = None,
    volatility: VolModel | None = None,
    multiplier: int = CONTRACT_MULTIPLIER,
) -> OptionContract:
    """Price one option contract on ``ticker`` (rules in the module docstring).

    Exactly one of ``strike`` / ``moneyness``, of ``expiry`` / ``tenor_days``
    and of ``contracts`` / ``premium_budget`` is given (the caller checks).

    Raises
    ------
    DataError
        ``ticker`` has no price (or no volatility) on or after ``entry`` before
        the expiry or the exit: the contract could never be bought.
    ParamError
        The expiry is not after the entry, or the strike is not positive.
    """
    from shortthehype.core.options_nb import contract_bars_nb, settlement_bar_nb

    volatility = volatility or VolModel()
    where = f"contract {name!r}"
    if ticker not in prices.tickers:
        raise DataError(f"{where}: no prices for {ticker!r}")
    if expiry is not None and expiry <= entry:
        raise ParamError(f"{where}: expiry {expiry:%Y-%m-%d} is not after the entry {entry:%Y-%m-%d}")
    if strike is not None and not strike > 0.0:
        raise ParamError(f"{where}: strike must be > 0, got {strike:g}")
    index = prices.index
    n = len(index)
    dates, day = _pricing_calendar(prices)
    column = {f: np.ascontiguousarray(prices.field(f)[ticker].to_numpy(dtype=np.float64)) for f in ("open", "high", "low", "close")}
    first = int(np.searchsorted(dates, entry, side="left"))
    atm = _atm_array(prices, ticker, volatility, index[first] if first < n else None)
    rates = _pricing_rates(prices, rate)
    stop = n
    if exit is not None:
        stop = min(stop, int(np.searchsorted(dates, exit, side="left")))
    if expiry is not None:
        stop = min(stop, int(np.searchsorted(dates, expiry, side="right")))
    decision = first
    close = column["close"]
    while decision < stop and not (np.isfinite(close[decision]) and close[decision] > 0.0 and np.isfinite(atm[decision]) and atm[decision] > 0.0):
        decision += 1
    if decision >= stop:
        after = "the end of the data" if stop >= n else f"{index[stop]:%Y-%m-%d}"
        raise DataError(
            f"{where}: {ticker} has no price{'' if volatility.source != 'realised' else ' or volatility history'} "
            f"from the entry {entry:%Y-%m-%d} to {after}: the contract cannot be bought"
        )
    if strike is None:
        strike = float(moneyness) * close[decision]
    if expiry is None:
        expiry = dates[decision] + pd.Timedelta(days=int(tenor_days))
    expiry_day = float((pd.Timestamp(expiry) - dates[0]).days)
    settle = int(settlement_bar_nb(day, decision, expiry_day))
    last = n - 1 if settle < 0 else settle
    outs = {f: np.full(n, np.nan) for f in ("open", "high", "low", "close")}
    contract_bars_nb(
        column["open"], column["high"], column["low"], close, atm, rates, day, decision, last, settle, expiry_day,
        float(strike), volatility.skew, PUT_VALUE_FLOOR, OPTION_DAY_COUNT, option_type == "call",
        outs["open"], outs["high"], outs["low"], outs["close"],
    )
    symbol = occ_symbol(ticker, expiry, option_type, strike)
    frames = {f: pd.DataFrame({symbol: outs[f]}, index=index) for f in outs}
    frames["volume"] = pd.DataFrame({symbol: np.full(n, np.nan)}, index=index)
    for frame in frames.values():
        frame.columns.name = "ticker"
    return OptionContract(
        name=name,
        ticker=ticker,
        option_type=option_type,
        strike=float(strike),
        expiry=pd.Timestamp(expiry),
        symbol=symbol,
        decision=index[decision],
        settlement=index[settle] if settle >= 0 else None,
        exit=exit,
        contracts=contracts,
        premium_budget=premium_budget,
        multiplier=int(multiplier),
        prices=Prices(**frames, source=prices.source, warnings=prices.warnings),
    )


def contract_records(
    contracts: list[OptionContract],
    result: Any,
    underlying: Prices,
    *,
    execution: str,
    volatility: VolModel,
    rate: float | pd.Series | None,
) -> list[dict[str, Any]]:
    """One record per contract the run bought: terms, entry and exit fills, P&L and the Greeks at entry.

    ``entry_price``/``exit_price`` are per share and include slippage;
    ``premium`` = shares x entry price (fees excluded); ``pnl`` = what the
    exit paid (or the last mark of a contract still open) - premium - fees;
    ``pnl_multiple`` = pnl / premium (-1 = the premium lost).  ``delta`` is per
    share, ``vega`` per share per volatility point (0.01), both at the entry
    fill (the underlying's price at that execution point, the skewed
    volatility known then); ``delta_exposure`` = delta x shares x spot /
    equity at the entry bar's close.  ``status``: ``settled`` (held to expiry),
    ``sold`` or ``open`` (still held on the last bar).
    """
    from shortthehype.core.options_nb import bs_delta_nb, bs_vega_nb, skewed_vol_nb

    orders = result.orders
    equity = result.equity
    index = underlying.index
    field_name = "open" if execution == "next_open" else "close"
    rates = _pricing_rates(underlying, rate)  # kept with the prices, as when the contracts were priced
    atm_of: dict[str, np.ndarray] = {}  # one at-the-money series per underlying (rolled contracts share it)
    # the orders as arrays: a boolean mask on the frame costs about 0.2 ms, on an array a microsecond
    symbols = orders["ticker"].to_numpy()
    dates = orders["date"].to_numpy()
    bought = (orders["side"] == "buy").to_numpy()
    size = orders["size"].to_numpy(dtype=np.float64)
    price = orders["price"].to_numpy(dtype=np.float64)
    paid = orders["fees"].to_numpy(dtype=np.float64)
    settlement = (orders["reason"] == "settlement").to_numpy()
    records = []
    for c in contracts:
        mine = symbols == c.symbol
        if c.decision is not None:
            decision = np.datetime64(c.decision)
            mine &= dates > decision if execution != "close" else dates >= decision
        if c.last is not None:
            mine &= dates <= np.datetime64(c.last)
        buys = mine & bought
        if not buys.any():
            continue
        entry_date = pd.Timestamp(dates[np.argmax(buys)])
        shares = float(size[buys].sum())
        premium = float((size[buys] * price[buys]).sum())
        entry_price = premium / shares
        sells = mine & ~bought
        fees = float(paid[mine].sum())
        held = shares - float(size[sells].sum())
        proceeds = float((size[sells] * price[sells]).sum())
        if held > 1e-9 * shares:
            status, exit_date = "open", None
            last_close = c.prices.close[c.symbol].reindex(equity.index).dropna()
            exit_price = float(last_close.iloc[-1]) if len(last_close) else np.nan
            proceeds += held * exit_price
        else:
            status = "settled" if settlement[sells].any() else "sold"
            exit_date = pd.Timestamp(dates[np.flatnonzero(sells)[-1]])
            exit_price = proceeds / shares
        bar = index.get_loc(entry_date)
        spot = float(underlying.field(field_name)[c.ticker].iloc[bar])
        years = (c.expiry - index[bar].normalize()).days / OPTION_DAY_COUNT
        if c.ticker not in atm_of:
            atm_of[c.ticker] = _atm_array(underlying, c.ticker, volatility, None)
        atm = float(atm_of[c.ticker][bar])
        sigma = skewed_vol_nb(spot, c.strike, years, rates[bar], atm, volatility.slope, volatility.curvature,
                              VOL_SKEW_FLOOR, VOL_SKEW_CAP)
        delta = bs_delta_nb(spot, c.strike, years, rates[bar], sigma, c.option_type == "call")
        vega = bs_vega_nb(spot, c.strike, years, rates[bar], sigma) / 100.0
        pnl = proceeds - premium - fees
        records.append(
            {
                "name": c.name,
                "ticker": c.ticker,
                "symbol": c.symbol,
                "type": c.option_type,
                "strike": c.strike,
                "expiry": f"{c.expiry:%Y-%m-%d}",
                "contracts": shares / c.multiplier,
                "multiplier": c.multiplier,
                "entry_date": f"{entry_date:%Y-%m-%d}",
                "entry_price": entry_price,
                "premium": premium,
                "fees": fees,
                "exit_date": None if exit_date is None else f"{exit_date:%Y-%m-%d}",
                "exit_price": exit_price,
                "status": status,
                "pnl": pnl,
                "pnl_multiple": pnl / premium if premium > 0 else np.nan,
                "implied_vol": sigma,
                "delta": delta,
                "vega": vega,
                "delta_exposure": delta * shares * spot / float(equity.loc[entry_date]),
            }
        )
    return records
