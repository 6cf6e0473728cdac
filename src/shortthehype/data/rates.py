"""Interest-rate series for the engine's cash rate: loading, conversion, validation, alignment.

Conventions
-----------
* The engine's cash rate is an annual **simple rate on an ACT/360 day count**,
  as a fraction (0.04 = 4 %): cash earns ``cash x r x days / 360``.
* FRED's DTB3 and Yahoo's ^IRX quote the 3-month (13-week, 91-day) Treasury
  bill in percent per year on a **discount basis**: a bill paying 100 at
  maturity costs ``P = 100 (1 - d x 91/360)``.  Holding it to maturity earns
  ``100/P - 1 = (d x 91/360) / (1 - d x 91/360)`` over 91 days, which is the
  ACT/360 simple rate ``r = d / (1 - d x 91/360)`` (:func:`bill_yield`;
  d = 4.00 % gives r = 4.0409 %).  The discount rate understates the yield
  because it is quoted on the face value, not on the price paid.
* Option pricing wants a continuously compounded rate on calendar years:
  ``r_c = ln(1 + r x 91/360) x 365/91`` (:func:`continuous_rate`), the same
  91-day growth ``1 + r x 91/360`` written as ``exp(r_c x 91/365)``.

Where series come from
----------------------
A rate is named like a price ticker.  ``"tbill"`` is the 3-month bill of the
source the prices come from: FRED DTB3 for CSV prices (the file
``rates/DTB3.csv`` next to the price directory D: ``D/../rates/DTB3.csv`` or
``D/rates/DTB3.csv``), ^IRX for the Yahoo source and its catalog.  Synthetic
prices come with no bill series: their ``tbill`` is the constant
:data:`~shortthehype.constants.SYNTHETIC_CASH_RATE`.  Prices built in memory
(source ``frame``) have none either: ``tbill`` then falls back to 0 with a
warning that says so.

A rates file has two columns, a date (``YYYY-MM-DD``) and the rate in percent
(header ``date,rate``; FRED's own download header ``observation_date,DTB3``
works too).  Every value must be a number (FRED marks bond-market holidays
with ``.``: delete those rows), dates ascending and unique, values within
:data:`~shortthehype.constants.RATE_BOUNDS`, and no run of more than
:data:`~shortthehype.constants.RATE_MAX_GAP_WEEKDAYS` missing weekdays.

On a bar the engine uses the last observation on or before the bar's date
(DTB3 skips bond-market holidays the stock market trades on).  Where the
series does not cover the backtest window the first observation is carried
back and the last carried forward, and one warning says which dates that
concerns.
"""

from __future__ import annotations

import functools
import os
import warnings as _warnings
from collections.abc import Mapping
from dataclasses import dataclass
from numbers import Real
from pathlib import Path
from stat import S_ISREG
from typing import Any

import numpy as np
import pandas as pd

from shortthehype.constants import (
    DATE_UNIT,
    DAY_COUNT_BASIS,
    RATE_BOUNDS,
    RATE_MAX_GAP_WEEKDAYS,
    SYNTHETIC_CASH_RATE,
    TBILL_DAYS,
)
from shortthehype.data.prices import Prices
from shortthehype.errors import DataError, DataWarning, ParamError, did_you_mean

__all__ = [
    "RATE_OPTIONS",
    "RATE_SERIES",
    "TBILL",
    "CashRate",
    "bill_yield",
    "check_rates",
    "continuous_rate",
    "find_rate_file",
    "load_rate",
    "rate_on_bars",
    "read_rate_file",
    "resolve_engine_rates",
    "resolve_rate",
]

#: The name that means "the 3-month bill of the prices' own source".
TBILL = "tbill"

#: Named series: name -> (the price sources it is read with, what it is).
RATE_SERIES: dict[str, tuple[tuple[str, ...], str]] = {
    "DTB3": (("csv",), "FRED DTB3, 3-month Treasury bill, secondary market, discount basis"),
    "^IRX": (("yahoo", "cache"), "Yahoo ^IRX, 13-week Treasury bill, discount basis"),
}

#: The series ``tbill`` stands for, per price source.
_TBILL_BY_SOURCE = {"csv": "DTB3", "yahoo": "^IRX", "cache": "^IRX"}

#: Engine options that take a rate (``cash_rate_negative`` defaults to ``cash_rate``).
RATE_OPTIONS = ("cash_rate", "cash_rate_negative")


@dataclass(frozen=True)
class CashRate:
    """A resolved rate: what the engine takes (``value``: a number or a dated Series) and what it is (``label``)."""

    value: float | pd.Series
    label: str


# ---- conversions -------------------------------------------------------------------------


def bill_yield(discount: Any) -> Any:
    """ACT/360 simple rate of a 91-day bill quoted at ``discount`` (fractions): ``d / (1 - d x 91/360)``.

    Works on numbers, arrays and Series alike (0.04 -> 0.0404086).
    """
    return discount / (1.0 - discount * TBILL_DAYS / DAY_COUNT_BASIS)


def continuous_rate(rate: Any) -> Any:
    """Continuously compounded ACT/365 equivalent of an ACT/360 bill rate: ``ln(1 + r x 91/360) x 365/91``.

    The rate option pricing discounts with (``exp(-r_c x T)``, ``T`` in years
    of 365 days); works on numbers, arrays and Series.
    """
    return np.log1p(rate * TBILL_DAYS / DAY_COUNT_BASIS) * 365.0 / TBILL_DAYS


# ---- validation --------------------------------------------------------------------------


def check_rates(
    rates: pd.Series, origin: str, *, max_gap: int | None = None, lines: np.ndarray | None = None
) -> None:
    """Raise a one-line :class:`DataError` naming ``origin`` if ``rates`` (fractions) cannot be used.

    Checks: a DatetimeIndex of ascending, unique dates; finite numbers within
    :data:`RATE_BOUNDS`; with ``max_gap``, no run of more than ``max_gap``
    missing weekdays between two observations.  ``lines`` (file line of each
    row) makes messages point into a file.
    """
    if not isinstance(rates.index, pd.DatetimeIndex):
        raise DataError(f"{origin}: rates must be indexed by dates, got {type(rates.index).__name__}")
    if len(rates) == 0:
        raise DataError(f"{origin} has no rates")

    def where(i: int) -> str:
        text = f"{rates.index[i]:%Y-%m-%d}"
        return text if lines is None else f"{text} (line {lines[i]})"

    days = rates.index.to_numpy()
    if len(days) > 1:
        step = days[1:] - days[:-1]
        bad = np.flatnonzero(step <= np.timedelta64(0))
        if len(bad):
            i = int(bad[0]) + 1
            what = "duplicate date" if step[bad[0]] == np.timedelta64(0) else "date out of order"
            raise DataError(f"{origin}: {what} {where(i)} after {rates.index[i - 1]:%Y-%m-%d}; dates must be ascending and unique")
    values = rates.to_numpy(dtype=np.float64, na_value=np.nan)
    missing = ~np.isfinite(values)
    if missing.any():
        i = int(np.argmax(missing))
        raise DataError(f"{origin}: rate on {where(i)} is missing or not finite")
    low, high = RATE_BOUNDS
    outside = (values < low) | (values > high)
    if outside.any():
        i = int(np.argmax(outside))
        raise DataError(
            f"{origin}: rate {values[i]:.4%} on {where(i)} is outside the plausible {low:.0%}..{high:.0%} "
            "(rates are fractions in code, percent in files)"
        )
    if max_gap is not None and len(days) > 1:
        dates = days.astype("datetime64[D]")
        skipped = np.busday_count(dates[:-1] + 1, dates[1:])
        long = np.flatnonzero(skipped > max_gap)
        if len(long):
            i = int(long[0])
            raise DataError(
                f"{origin}: no rate for {int(skipped[i])} weekdays between {rates.index[i]:%Y-%m-%d} and "
                f"{where(i + 1)} (at most {max_gap} may be missing)"
            )


# ---- files ---------------------------------------------------------------------------------


def find_rate_file(data_dir: str | os.PathLike[str], name: str) -> Path:
    """``NAME.csv`` of the ``rates`` folder next to the CSV price directory (``D/../rates``, then ``D/rates``)."""
    found = _rate_file(data_dir, name)
    if found is None:
        candidates = _rate_file_candidates(data_dir, name)
        raise DataError(f"no rates file for {name}: looked for {candidates[0]} and {candidates[1]}")
    return found[0]


def _rate_file(data_dir: str | os.PathLike[str], name: str) -> tuple[Path, os.stat_result] | None:
    """The first of :func:`find_rate_file`'s places that is a file, with its ``stat``; None if neither is."""
    for path in _rate_file_candidates(data_dir, name):
        try:
            state = os.stat(path)
        except OSError:
            continue
        if S_ISREG(state.st_mode):
            return path, state
    return None


@functools.lru_cache(maxsize=64)
def _rate_file_candidates(data_dir: str | os.PathLike[str], name: str) -> tuple[Path, Path]:
    directory = Path(data_dir).expanduser()
    return directory.parent / "rates" / f"{name}.csv", directory / "rates" / f"{name}.csv"


def read_rate_file(path: str | os.PathLike[str]) -> pd.Series:
    """A validated rates file (a date and a discount-basis percent rate per row) as ACT/360 fractions.

    Raises
    ------
    DataError
        The file is missing, unreadable, not two columns, or fails
        :func:`check_rates` (unparsable or missing values, absurd values,
        unsorted or duplicate dates, gaps); the message names the file.
    """
    path = Path(path)
    try:
        stat = path.stat()
    except OSError:
        raise DataError(f"rates file {path} does not exist") from None
    return _read_rate_file(str(path), stat.st_mtime_ns, stat.st_size).copy()


@functools.lru_cache(maxsize=16)
def _read_rate_file(origin: str, _mtime_ns: int, _size: int) -> pd.Series:
    """The parsed file (cached per path and version: a sweep reads it once)."""
    try:
        table = pd.read_csv(origin, dtype=str, encoding="utf-8-sig", skip_blank_lines=True)
    except pd.errors.EmptyDataError:
        raise DataError(f"{origin} is empty (expected a header date,rate and one row per day)") from None
    except (pd.errors.ParserError, OSError, UnicodeDecodeError) as exc:
        reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise DataError(f"cannot read {origin}: {reason}") from None
    if table.shape[1] != 2:
        raise DataError(f"{origin}: expected two columns (date,rate), found {table.shape[1]}: {', '.join(map(str, table.columns))}")
    lines = np.arange(2, len(table) + 2)
    text = table.iloc[:, 0].astype("string").str.strip()
    dates = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
    if dates.isna().any():
        i = int(np.argmax(dates.isna().to_numpy()))
        raise DataError(f"{origin}: cannot parse date {table.iloc[i, 0]!r} at line {lines[i]} (expected YYYY-MM-DD)")
    raw = table.iloc[:, 1]
    percent = pd.to_numeric(raw, errors="coerce")
    unparsable = percent.isna().to_numpy()
    if unparsable.any():
        i = int(np.argmax(unparsable))
        shown = "an empty cell" if pd.isna(raw.iloc[i]) else repr(str(raw.iloc[i]))
        raise DataError(
            f"{origin}: cannot parse rate {shown} on {dates.iloc[i]:%Y-%m-%d} (line {lines[i]}); "
            "delete rows without a value (FRED marks holidays with '.')"
        )
    index = pd.DatetimeIndex(dates, name="date").as_unit(DATE_UNIT)
    discount = pd.Series(percent.to_numpy(dtype=np.float64) / 100.0, index=index, name=Path(origin).stem)
    check_rates(discount, origin, max_gap=RATE_MAX_GAP_WEEKDAYS, lines=lines)
    return bill_yield(discount)


def rate_file_state(value: Any, prices: Prices) -> Any:
    """The version of the file the rate setting ``value`` is read from for ``prices``: a CSV file's or the catalog's.

    The modification time and size of the file (:meth:`Catalog.version` for
    a catalog); None where it reads no file (a number, a Series, synthetic
    prices) or cannot be resolved (:func:`resolve_rate` says why).  Part of
    the key of a rate kept with loaded prices: a file rewritten since is read
    again.
    """
    if not isinstance(value, str) or prices.origin is None or prices.source not in _TBILL_BY_SOURCE:
        return None
    try:
        series = _series_name(value, prices.source)
    except ParamError:
        return None
    if prices.source != "csv":
        from shortthehype.data.catalog import Catalog

        return Catalog(prices.origin).version(series)
    found = _rate_file(prices.origin, series)
    return None if found is None else (found[1].st_mtime_ns, found[1].st_size)


# ---- named series --------------------------------------------------------------------------


def load_rate(
    name: str = TBILL,
    *,
    source: str | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    offline: bool = False,
) -> pd.Series:
    """Load a named bill-rate series as ACT/360 simple annual rates (fractions), indexed by date.

    Parameters
    ----------
    name
        ``"tbill"`` (the 3-month bill of ``source``: DTB3 for ``csv``, ^IRX
        for ``yahoo``/``cache``) or a name of :data:`RATE_SERIES`.
    source, data_dir, cache_dir, offline
        As for :func:`shortthehype.load_prices`: DTB3 is the file
        ``rates/DTB3.csv`` next to ``data_dir``; ^IRX is read through the
        price catalog (downloaded with ``yahoo``).

    Returns
    -------
    Series
        Converted with :func:`bill_yield` (both series quote a discount rate
        in percent); ``.name`` is the series name.

    Raises
    ------
    ParamError
        Unknown name, a source without that series (``synthetic``).
    DataError
        A missing or invalid rates file or catalog entry (one line naming it).
    """
    from shortthehype.data.load import default_source

    source = default_source(data_dir) if source is None else source
    if source == "yahoo" and offline:
        source = "cache"
    series = _series_name(name, source)
    if series == "DTB3":
        from shortthehype.data.csv_source import resolve_data_dir

        return read_rate_file(find_rate_file(resolve_data_dir(data_dir), series))
    from shortthehype.data.catalog import resolve_cache_dir

    return _load_catalog_rate(series, source, str(resolve_cache_dir(cache_dir))).copy()


def _load_catalog_rate(series: str, source: str, cache_dir: str) -> pd.Series:
    """A Yahoo bill index from the catalog (fetched with ``yahoo``): read once per process and version of its file."""
    from shortthehype.data.catalog import Catalog

    # the version is taken before the read: a file written during it (a download) is read again
    return _read_catalog_rate(series, source, cache_dir, Catalog(cache_dir).version(series))


@functools.lru_cache(maxsize=8)
def _read_catalog_rate(series: str, source: str, cache_dir: str, _version: Any) -> pd.Series:
    """The catalog's ``series`` as ACT/360 rates (cached per catalog and version of the file, as :func:`_read_rate_file`)."""
    from shortthehype.data.load import load_prices

    with _warnings.catch_warnings():
        _warnings.simplefilter("ignore", DataWarning)  # rates move by "split-sized" fractions near zero
        prices = load_prices([series], source=source, cache_dir=cache_dir)
    discount = prices.close[series].dropna() / 100.0
    discount.name = series
    check_rates(discount, f"{series} ({prices.origin})", max_gap=RATE_MAX_GAP_WEEKDAYS)
    return bill_yield(discount)


def _series_name(name: Any, source: str) -> str:
    """The series a rate name stands for with prices of ``source`` (``tbill`` resolved); ParamError otherwise."""
    if not isinstance(name, str) or not name.strip():
        raise ParamError(f"a rate series name must be text like 'tbill' or 'DTB3', got {name!r}")
    text = name.strip()
    if text.lower() == TBILL:
        if source not in _TBILL_BY_SOURCE:
            raise ParamError(f"source {source!r} has no bill-rate series for 'tbill'; set the cash rate to a number")
        return _TBILL_BY_SOURCE[source]
    upper = text.upper()
    if upper not in RATE_SERIES:
        known = [TBILL, *RATE_SERIES]
        raise ParamError(f"unknown rate series {text!r}{did_you_mean(upper, known)} (known: {', '.join(known)})")
    sources, _ = RATE_SERIES[upper]
    if source not in sources:
        raise ParamError(f"rate series {upper} is read with source {' or '.join(sources)}, not {source!r}")
    return upper


# ---- the engine's per-bar rates -----------------------------------------------------------


def rate_on_bars(rate: pd.Series, index: pd.DatetimeIndex, name: str = "cash_rate") -> tuple[np.ndarray, list[str]]:
    """The rate in force on each bar of ``index``: the last observation on or before the bar's date.

    Parameters
    ----------
    rate
        Dated ACT/360 simple annual rates (fractions), checked with
        :func:`check_rates` (no gap limit: any observation frequency works).
    index
        The bars' dates.
    name
        Parameter name used in messages.

    Returns
    -------
    (ndarray, list of str)
        One rate per bar, and at most one note: where the series does not
        cover the window, the bars before its first observation get the first
        value and the bars more than
        :data:`~shortthehype.constants.RATE_MAX_GAP_WEEKDAYS` weekdays after
        its last one carry the last value; the note says which dates.
    """
    if not isinstance(rate, pd.Series):
        raise ParamError(f"parameter {name!r} must be a number, a series name or a pandas Series, got {type(rate).__name__}")
    label = f"parameter {name!r}" + (f" (series {rate.name})" if rate.name is not None else "")
    try:
        values = pd.to_numeric(rate, errors="raise").astype(np.float64)
    except (TypeError, ValueError):
        raise DataError(f"{label}: rates must be numbers") from None
    check_rates(values, label)
    if values.index.equals(index):  # already read as of each bar (resolve_engine_rates does so)
        return np.ascontiguousarray(values.to_numpy()), []
    dates = _naive(values.index)
    bars = _naive(index)
    position = dates.searchsorted(bars, side="right") - 1
    per_bar = values.to_numpy()[np.maximum(position, 0)]
    notes: list[str] = []
    early = bars[position < 0]
    stale_after = pd.Timestamp(np.busday_offset(dates[-1].to_datetime64().astype("datetime64[D]"), RATE_MAX_GAP_WEEKDAYS, roll="forward"))
    late = bars[bars > stale_after]
    if len(early) or len(late):
        parts = []
        if len(early):
            parts.append(f"{_span(early[0], early[-1])} uses its first value {values.iloc[0]:.4%}")
        if len(late):
            parts.append(f"{_span(late[0], late[-1])} uses its last value {values.iloc[-1]:.4%}")
        notes.append(
            f"{label} covers {_span(dates[0], dates[-1])}, not the whole window {_span(bars[0], bars[-1])}: "
            + " and ".join(parts)
        )
    return np.ascontiguousarray(per_bar), notes


def _span(first: pd.Timestamp, last: pd.Timestamp) -> str:
    return f"{first:%Y-%m-%d}" if first == last else f"{first:%Y-%m-%d}..{last:%Y-%m-%d}"


def _naive(index: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """Dates in their own zone without it, so that rates and prices compare day by day."""
    index = pd.DatetimeIndex(index)
    return index.tz_localize(None) if index.tz is not None else index


def resolve_rate(value: Any, prices: Prices, name: str = "cash_rate") -> tuple[CashRate, list[str]]:
    """A rate setting (number, series name or Series) as the engine takes it, with its label and notes.

    A name is resolved for ``prices``: their ``source`` picks the series that
    ``tbill`` means and their ``origin`` (CSV directory, catalog) where it is
    read.  Prices without a rate source give ``tbill`` a stated constant
    (synthetic: :data:`SYNTHETIC_CASH_RATE`; in-memory prices: 0 with a note).
    """
    if isinstance(value, pd.Series):
        first, last = _naive(value.index)[[0, -1]] if len(value) else (None, None)
        span = f" {first:%Y-%m-%d}..{last:%Y-%m-%d}" if first is not None else ""
        return CashRate(value, f"a dated series{span} (ACT/360)"), []
    if isinstance(value, (Real, np.floating, np.integer)) and not isinstance(value, bool):
        return CashRate(float(value), f"constant {float(value) * 100:.6g} %/yr (ACT/360)"), []
    if not isinstance(value, str):
        raise ParamError(f"parameter {name!r} must be a number, a series name or a pandas Series, got {value!r}")
    source = prices.source
    if value.strip().lower() == TBILL and source == "synthetic":
        label = f"constant {SYNTHETIC_CASH_RATE * 100:.6g} %/yr (ACT/360): synthetic prices have no bill series"
        return CashRate(SYNTHETIC_CASH_RATE, label), []
    if value.strip().lower() == TBILL and (source not in _TBILL_BY_SOURCE or prices.origin is None):
        note = (
            f"parameter {name!r} is {value!r}, but these prices (source {source!r}) come without a rate series: "
            f"cash earns 0; set {name} to a number or a dated Series"
        )
        return CashRate(0.0, "constant 0 %/yr: no rate series for these prices"), [note]
    if prices.origin is None:
        raise ParamError(f"parameter {name!r} is {value!r}: these prices (source {source!r}) have no data directory to read it from")
    series = _series_name(value, source)
    if source == "csv":
        path = find_rate_file(prices.origin, series)
        rates = read_rate_file(path)
        where = str(path)
    else:
        rates = _load_catalog_rate(series, source, prices.origin).copy()
        where = f"the {source} catalog {prices.origin}"
    label = f"{series}: {RATE_SERIES[series][1]}, converted to ACT/360 (d / (1 - d x 91/360)), from {where}"
    return CashRate(rates, label), []


def resolve_engine_rates(
    engine: Mapping[str, Any], prices: Prices, index: pd.DatetimeIndex | None = None
) -> tuple[dict[str, Any], dict[str, str], list[str]]:
    """Engine options with their rate settings resolved for ``prices``: (options, labels, notes).

    ``labels`` says what each rate is (``cash_rate_negative`` unset: "same as
    cash_rate"), for the run's output; ``notes`` are fallbacks to report.
    With ``index`` (the bars to simulate) a series is read as of each bar
    here (:func:`rate_on_bars`), so that its coverage note is one of
    ``notes`` rather than a warning from the engine.
    """
    options = dict(engine)
    labels: dict[str, str] = {}
    notes: list[str] = []
    for name in RATE_OPTIONS:
        value = options.get(name)
        if value is None:
            if name == "cash_rate":
                value = 0.0
            else:
                labels[name] = "same as cash_rate"
                continue
        resolved, found = resolve_rate(value, prices, name)
        options[name] = resolved.value
        labels[name] = resolved.label
        notes += found
        if index is not None and isinstance(resolved.value, pd.Series):
            per_bar, coverage = rate_on_bars(resolved.value, index, name)
            options[name] = pd.Series(per_bar, index=index)
            notes += coverage
    return options, labels, notes
