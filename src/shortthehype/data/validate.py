"""Validation of daily price data: the one home for every check a source applies.

Every source (CSV files, Yahoo downloads, the on-disk catalog) turns its input
into the *canonical frame* and passes it through :func:`check_ohlcv`:

* a ``DatetimeIndex`` named ``date`` (midnight, tz-naive, unit
  :data:`~shortthehype.constants.DATE_UNIT`), sorted and unique;
* float64 columns ``open, high, low, close, volume`` in that order.

Policy, decided once here:

* **refused** (:class:`~shortthehype.errors.DataError`, one line naming the
  file or ticker, the column, the date and, for files, the line): no rows,
  duplicate dates, unparsable dates or numbers, intraday timestamps, missing
  OHLC columns, NaN/inf or non-positive prices, ``high < low``, negative volume;
* **repaired with a warning**: dates out of order are sorted;
* **warned only**: a one-day close-to-close move beyond
  :data:`~shortthehype.constants.SUSPICIOUS_MOVE` (the size of an unadjusted
  split; real moves such as AMD on 2016-04-22 also trip it, so it is never an
  error), an open or close outside ``[low, high]``;
* **accepted silently**: ``open == high == low == close`` rows and zero volume
  (index history and illiquid days have them), NaN volume and a missing volume
  column (volume becomes NaN: some sources have none).

Prices with an ``Adj Close`` column (Yahoo's CSV export) are adjusted the
Yahoo way: open, high and low are multiplied by ``adj_close / close`` and the
close becomes the adjusted close, so returns are total returns.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from shortthehype.constants import DATE_UNIT, MIN_PRICE, OHLC_RANGE_RTOL, PRICE_FIELDS, SUSPICIOUS_MOVE
from shortthehype.errors import DataError, ParamError, did_you_mean

__all__ = [
    "OHLC",
    "SeriesInfo",
    "canonical_column_map",
    "check_date_range",
    "check_ohlcv",
    "check_rows_in_range",
    "dated_suspicious_moves",
    "did_you_mean",
    "format_range",
    "normalize_ticker",
    "normalize_tickers",
    "parse_date_param",
    "parse_price_table",
    "series_info",
    "slice_range",
    "standardize_frame",
    "suspicious_moves",
    "ticker_stem",
]

#: Price columns that must be present, positive and finite.
OHLC = ("open", "high", "low", "close")

#: A Yahoo ticker: letters, digits, ``.``, ``-``, ``=``; indexes start with ``^``.
_TICKER_RE = re.compile(r"^\^?[A-Z0-9][A-Z0-9.\-=]{0,19}$")

#: An ISO date, optionally followed by a midnight time and a UTC offset
#: (``2020-01-02``, ``2020-01-02 00:00:00-05:00``); groups: date, time.
_DATE_RE = r"^(\d{4}-\d{2}-\d{2})(?:[ T](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)(?:Z|[+-]\d{2}:?\d{2})?)?$"

#: Column names (lower-cased, spaces/underscores/dashes removed) and what they mean.
_COLUMN_ALIASES = {
    "date": "date",
    "open": "open",
    "high": "high",
    "low": "low",
    "close": "close",
    "adjclose": "adj_close",
    "volume": "volume",
}

_EXPECTED_HEADER = "date,open,high,low,close[,volume] or Yahoo's Date,Open,High,Low,Close,Adj Close,Volume"


# --------------------------------------------------------------------------- tickers


def normalize_ticker(ticker: object) -> str:
    """Upper-case, stripped ticker; raise ``ParamError`` if it is not a plausible Yahoo symbol.

    ``" nvda "`` → ``"NVDA"``, ``"^ixic"`` → ``"^IXIC"``.  Accepted characters
    are letters, digits, ``. - =`` and one leading ``^`` (indexes); at most 20
    characters.  Anything else (empty, spaces, commas, path separators) is an
    error naming the value.
    """
    if not isinstance(ticker, str):
        raise ParamError(f"ticker {ticker!r} must be a string like 'NVDA' or '^IXIC'")
    symbol = ticker.strip().upper()
    if not _TICKER_RE.match(symbol):
        hint = "; pass several tickers as a list" if ("," in symbol or " " in symbol) else ""
        raise ParamError(f"invalid ticker {ticker!r}: use letters, digits, '.', '-', '=' and a leading '^' for indexes{hint}")
    return symbol


def normalize_tickers(tickers: str | Iterable[str] | None) -> list[str] | None:
    """Normalised list of tickers (see :func:`normalize_ticker`); ``None`` stays ``None`` ("all").

    A single string is one ticker.  An empty list or the same ticker twice
    (after upper-casing) is a ``ParamError``.
    """
    if tickers is None:
        return None
    items = [tickers] if isinstance(tickers, str) else list(tickers)
    if not items:
        raise ParamError("tickers is empty: pass at least one ticker")
    out = [normalize_ticker(t) for t in items]
    seen: set[str] = set()
    for symbol in out:
        if symbol in seen:
            raise ParamError(f"ticker {symbol} is listed twice in tickers")
        seen.add(symbol)
    return out


def ticker_stem(ticker: str) -> str:
    """File-name stem of a (normalised) ticker: Yahoo index tickers lose the caret (``^IXIC`` → ``IXIC``)."""
    return ticker.lstrip("^")


# --------------------------------------------------------------------------- dates


def parse_date_param(value: object, name: str) -> pd.Timestamp | None:
    """A ``start``/``end`` argument as a midnight ``Timestamp`` (``None`` stays ``None``).

    Accepts ``YYYY-MM-DD`` strings, ``datetime.date``/``datetime``,
    ``numpy.datetime64`` and ``pd.Timestamp``; a time of day is dropped and a
    time zone is ignored (the calendar date is kept).  Anything else is a
    ``ParamError`` naming the parameter.
    """
    if value is None:
        return None
    if isinstance(value, str) and not value.strip():
        raise ParamError(f"{name} is an empty string: expected a date YYYY-MM-DD")
    if not isinstance(value, (str, _dt.date, np.datetime64, pd.Timestamp)):
        raise ParamError(f"{name}={value!r} is not a date: expected YYYY-MM-DD")
    try:
        stamp = pd.Timestamp(value.strip() if isinstance(value, str) else value)
    except (ValueError, TypeError, OverflowError):
        raise ParamError(f"{name}={value!r} is not a date: expected YYYY-MM-DD") from None
    if stamp is pd.NaT:
        raise ParamError(f"{name}={value!r} is not a date: expected YYYY-MM-DD")
    if stamp.tzinfo is not None:
        stamp = stamp.tz_localize(None)
    return stamp.normalize().as_unit(DATE_UNIT)


def check_date_range(start: pd.Timestamp | None, end: pd.Timestamp | None) -> None:
    """Raise ``DataError`` if both bounds are given and ``start > end`` (equal is one day)."""
    if start is not None and end is not None and start > end:
        raise DataError(f"empty date range: start {start.date()} is after end {end.date()}")


def format_range(start: pd.Timestamp | None, end: pd.Timestamp | None) -> str:
    """``"2020-01-01..2020-12-31"``, with ``start``/``end`` for a missing bound."""
    lo = "start" if start is None else str(start.date())
    hi = "end" if end is None else str(end.date())
    return f"{lo}..{hi}"


def slice_range(frame: pd.DataFrame, start: pd.Timestamp | None, end: pd.Timestamp | None) -> pd.DataFrame:
    """Rows with ``start <= date <= end`` (inclusive; a missing bound is open)."""
    mask = np.ones(len(frame), dtype=bool)
    if start is not None:
        mask &= frame.index >= start
    if end is not None:
        mask &= frame.index <= end
    return frame.loc[mask]


def check_rows_in_range(
    frame: pd.DataFrame, ticker: str, start: pd.Timestamp | None, end: pd.Timestamp | None, full: pd.DataFrame
) -> None:
    """Raise ``DataError`` if ``frame`` (already sliced) is empty; the message names the range and ``full``'s span."""
    if len(frame):
        return
    span = f"its data runs {full.index[0].date()}..{full.index[-1].date()}" if len(full) else "it has no rows"
    raise DataError(f"{ticker} has no rows in {format_range(start, end)} ({span})")


# --------------------------------------------------------------------------- columns


def canonical_column_map(columns: Iterable[object], origin: str) -> dict[str, object]:
    """Map canonical names (``date, open, high, low, close, adj_close, volume``) to the given column labels.

    Matching ignores case, spaces, underscores and dashes (``Adj Close`` =
    ``adj_close``); unknown columns are ignored.  Two columns with the same
    meaning are a ``DataError``.  ``date`` is included only when present.
    """
    found: dict[str, object] = {}
    for label in columns:
        key = re.sub(r"[\s_\-]", "", str(label)).lower()
        name = _COLUMN_ALIASES.get(key)
        if name is None:
            continue
        if name in found:
            raise DataError(f"{origin}: columns {found[name]!r} and {label!r} both mean {name}; keep one")
        found[name] = label
    return found


def _require_columns(found: dict[str, object], origin: str, *, need_date: bool) -> None:
    needed = (("date",) if need_date else ()) + OHLC
    missing = [name for name in needed if name not in found]
    if missing:
        raise DataError(f"{origin}: missing column(s) {', '.join(missing)}; expected {_EXPECTED_HEADER}")


def _adjust_to_adj_close(values: dict[str, np.ndarray]) -> None:
    """Yahoo adjustment in place: O/H/L times adj_close/close; close becomes adj_close."""
    adj = values.pop("adj_close", None)
    if adj is None:
        return
    factor = adj / values["close"]
    for name in ("open", "high", "low"):
        values[name] = values[name] * factor
    values["close"] = adj


def standardize_frame(frame: pd.DataFrame, origin: str) -> pd.DataFrame:
    """Canonical frame from a numeric frame indexed by dates with any-case OHLCV column names.

    Used for frames that are already typed (a Yahoo download, a catalog file):
    columns are matched as in :func:`canonical_column_map`, ``Adj Close`` is
    applied, a missing volume becomes NaN; the result still has to pass
    :func:`check_ohlcv`.  The index must be a ``DatetimeIndex`` (a time zone is
    dropped, keeping the local calendar date).
    """
    found = canonical_column_map(frame.columns, origin)
    _require_columns(found, origin, need_date=False)
    if not isinstance(frame.index, pd.DatetimeIndex):
        raise DataError(f"{origin}: index is not a date index ({type(frame.index).__name__})")
    index = frame.index
    if index.tz is not None:
        index = index.tz_localize(None)
    if len(index) and not (index == index.normalize()).all():
        bad = index[index != index.normalize()][0]
        raise DataError(f"{origin}: intraday timestamp {bad}; only daily bars are supported")
    values: dict[str, np.ndarray] = {}
    for name, label in found.items():
        if name == "date":
            continue
        values[name] = pd.to_numeric(frame[label], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    for name in OHLC + ("adj_close",):
        if name in values:
            _check_finite_positive(values[name], pd.DatetimeIndex(index), None, origin, name)
    _adjust_to_adj_close(values)
    if "volume" not in values:
        values["volume"] = np.full(len(index), np.nan)
    return _canonical(values, pd.DatetimeIndex(index))


def _canonical(values: dict[str, np.ndarray], index: pd.DatetimeIndex) -> pd.DataFrame:
    index = pd.DatetimeIndex(index, name="date").as_unit(DATE_UNIT)
    return pd.DataFrame({name: np.asarray(values[name], dtype=np.float64) for name in PRICE_FIELDS}, index=index)


# --------------------------------------------------------------------------- parsing a text table


def parse_price_table(table: pd.DataFrame, origin: str, *, lines: Sequence[int] | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Canonical, validated frame from a table of strings as read from a CSV file.

    Parameters
    ----------
    table
        One row per data row, columns as in the file header, cells as strings
        (missing cells NaN).
    origin
        What to call the input in messages (the file path).
    lines
        The file line number of each row (header = line 1) for messages;
        default ``row + 2``.

    Returns
    -------
    frame, warnings
        The canonical frame (see module docstring) and warning lines.

    Raises
    ------
    DataError
        No rows, missing columns, an unparsable date or number (first bad value
        and its line), an intraday timestamp, and every check of
        :func:`check_ohlcv`.
    """
    if len(table) == 0:
        raise DataError(f"{origin} has a header but no data rows")
    line_no = np.arange(2, len(table) + 2) if lines is None else np.asarray(lines)
    found = canonical_column_map(table.columns, origin)
    _require_columns(found, origin, need_date=True)
    index = _parse_dates(table[found["date"]], origin, line_no)
    values: dict[str, np.ndarray] = {}
    for name, label in found.items():
        if name == "date":
            continue
        values[name] = _parse_numbers(table[label], origin, name, index, line_no)
    # Check the raw prices before adjusting so that a bad close is named as such.
    order = np.argsort(index.to_numpy(), kind="stable")
    sorted_index = index[order]
    for name in OHLC + ("adj_close",):
        if name in values:
            _check_finite_positive(values[name][order], sorted_index, line_no[order], origin, name)
    _adjust_to_adj_close(values)
    if "volume" not in values:
        values["volume"] = np.full(len(index), np.nan)
    frame = _canonical(values, index)
    return check_ohlcv(frame, origin, lines=line_no)


def _iso_dates(column: pd.Series) -> pd.DatetimeIndex | None:
    """The dates of a column of ``YYYY-MM-DD`` strings by Arrow's strict date cast (10x faster), or None for any other cell.

    Arrow refuses what the format parse below reads otherwise (spaces,
    ``2024-1-2``, times) and impossible days; years before 1000 are left to
    pandas too.
    """
    import pyarrow as pa
    import pyarrow.compute as pa_compute

    if not isinstance(column.dtype, pd.StringDtype):
        return None
    try:
        days = pa_compute.cast(pa.array(column.array), pa.date32())
    except pa.ArrowException:
        return None
    if days.null_count:
        return None
    stamps = pa_compute.cast(days, pa.timestamp(DATE_UNIT)).to_numpy()
    if stamps.size and stamps.min() < np.datetime64("1000-01-01"):
        return None
    return pd.DatetimeIndex(stamps, name="date")


def _parse_dates(column: pd.Series, origin: str, lines: np.ndarray) -> pd.DatetimeIndex:
    iso = _iso_dates(column)
    if iso is not None:
        return iso
    text = column.astype("string").str.strip()
    fast = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")  # plain dates: the common case
    if not fast.isna().any():
        return pd.DatetimeIndex(fast, name="date").as_unit(DATE_UNIT)
    parts = text.str.extract(_DATE_RE)
    date_part, time_part = parts[0], parts[1]
    parsed = pd.to_datetime(date_part, format="%Y-%m-%d", errors="coerce")
    bad = parsed.isna().to_numpy()
    if bad.any():
        i = int(np.argmax(bad))
        value = column.iloc[i]
        shown = "an empty cell" if pd.isna(value) else repr(str(value))
        raise DataError(f"{origin}: cannot parse date {shown} at line {lines[i]} (expected YYYY-MM-DD)")
    time_text = time_part.fillna("00:00")
    intraday = ~time_text.str.fullmatch(r"00:00(?::00(?:\.0+)?)?").fillna(False).to_numpy(dtype=bool)
    if intraday.any():
        i = int(np.argmax(intraday))
        raise DataError(
            f"{origin}: intraday timestamp {str(column.iloc[i]).strip()!r} at line {lines[i]}; only daily bars are supported"
        )
    return pd.DatetimeIndex(parsed, name="date").as_unit(DATE_UNIT)


def _decimal_strings_as_floats(column: pd.Series) -> np.ndarray | None:
    """The floats of a column of strings by Arrow's strict cast, or None when a cell is not a plain decimal number.

    About 7x faster than ``pd.to_numeric`` on a price file and correctly
    rounded like it; Arrow refuses what pandas would read differently
    (spaces, ``1_000``).  A cell it reads as NaN (``NAN``, not one of
    pandas' missing values) or -0 gives None, so that pandas' parse names or
    reads it.
    """
    import pyarrow as pa
    import pyarrow.compute as pa_compute

    if not isinstance(column.dtype, pd.StringDtype):
        return None
    try:
        values = pa_compute.cast(pa.array(column.array), pa.float64()).to_numpy(zero_copy_only=False)
    except pa.ArrowException:
        return None
    if np.count_nonzero(np.isnan(values)) != int(column.isna().sum()):
        return None
    if np.any(np.signbit(values) & (values == 0.0)):  # pandas reads "-0" as the integer 0
        return None
    return values


def _parse_numbers(column: pd.Series, origin: str, name: str, index: pd.DatetimeIndex, lines: np.ndarray) -> np.ndarray:
    fast = _decimal_strings_as_floats(column)
    if fast is not None:
        return fast
    numbers = pd.to_numeric(column, errors="coerce")
    unparsable = (numbers.isna() & column.notna()).to_numpy()
    if unparsable.any():
        i = int(np.argmax(unparsable))
        raise DataError(
            f"{origin}: cannot parse {_label(name)} value {str(column.iloc[i])!r} on {index[i].date()} (line {lines[i]})"
        )
    return numbers.to_numpy(dtype=np.float64, na_value=np.nan)


def _label(name: str) -> str:
    return "adj close" if name == "adj_close" else name


def _where(index: pd.DatetimeIndex, lines: np.ndarray | None, i: int) -> str:
    where = f"on {index[i].date()}"
    return where if lines is None else f"{where} (line {lines[i]})"


def _check_finite_positive(values: np.ndarray, index: pd.DatetimeIndex, lines: np.ndarray | None, origin: str, name: str) -> None:
    missing = ~np.isfinite(values)
    if missing.any():
        i = int(np.argmax(missing))
        what = "missing (NaN)" if np.isnan(values[i]) else f"non-finite ({values[i]})"
        raise DataError(f"{origin}: {what} {_label(name)} {_where(index, lines, i)}")
    bad = values <= 0
    if bad.any():
        i = int(np.argmax(bad))
        raise DataError(
            f"{origin}: non-positive {_label(name)} {values[i]:g} {_where(index, lines, i)}; prices must be > 0"
        )
    tiny = values < MIN_PRICE
    if tiny.any():
        i = int(np.argmax(tiny))
        raise DataError(
            f"{origin}: {_label(name)} {values[i]:g} {_where(index, lines, i)} is below {MIN_PRICE:g}, the smallest "
            f"normal number: no trade could ever be sized on it (rescale the prices)"
        )


# --------------------------------------------------------------------------- checks on the canonical frame


def check_ohlcv(frame: pd.DataFrame, origin: str, *, lines: Sequence[int] | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Validate a canonical OHLCV frame; return it sorted by date, with warning lines.

    Parameters
    ----------
    frame
        ``DatetimeIndex`` of dates; float columns ``open, high, low, close, volume``.
    origin
        The file or ticker named in messages.
    lines
        File line of each row, for messages (optional).

    Returns
    -------
    frame, warnings
        The frame sorted by date (a new object when sorting was needed) and one
        line per repair or suspicion (unsorted dates, open/close outside
        ``[low, high]``).  Split-sized moves are *not* checked here because they
        depend on the loaded range: see :func:`suspicious_moves`.

    Raises
    ------
    DataError
        No rows; a duplicate date (refused: which row is right is unknowable);
        NaN/inf or non-positive open/high/low/close; high < low; NaN-free but
        negative or infinite volume.
    """
    warnings: list[str] = []
    if len(frame) == 0:
        raise DataError(f"{origin} has no rows")
    line_no = None if lines is None else np.asarray(lines)
    index = pd.DatetimeIndex(frame.index)
    duplicated = index.duplicated(keep=False)
    if duplicated.any():
        first = index[duplicated][0]
        where = ""
        if line_no is not None:
            where = " (lines " + ", ".join(str(n) for n in line_no[index == first]) + ")"
        raise DataError(f"{origin}: duplicate date {first.date()}{where}; each date must appear once")
    if not index.is_monotonic_increasing:
        steps = np.flatnonzero(index[1:] < index[:-1]) + 1
        i = int(steps[0])
        at = "" if line_no is None else f" at line {line_no[i]}"
        warnings.append(
            f"{origin}: dates were not in ascending order ({index[i].date()}{at} follows {index[i - 1].date()}); sorted them"
        )
        order = np.argsort(index.to_numpy(), kind="stable")
        frame = frame.iloc[order]
        index = pd.DatetimeIndex(frame.index)
        line_no = None if line_no is None else line_no[order]
    values = {name: frame[name].to_numpy(dtype=np.float64, na_value=np.nan) for name in PRICE_FIELDS}
    for name in OHLC:
        _check_finite_positive(values[name], index, line_no, origin, name)
    inverted = values["high"] < values["low"]
    if inverted.any():
        i = int(np.argmax(inverted))
        raise DataError(
            f"{origin}: high {values['high'][i]:g} < low {values['low'][i]:g} {_where(index, line_no, i)}"
        )
    volume = values["volume"]
    bad_volume = (volume < 0) | np.isinf(volume)
    if bad_volume.any():
        i = int(np.argmax(bad_volume))
        raise DataError(f"{origin}: invalid volume {volume[i]:g} {_where(index, line_no, i)}; volume must be >= 0")
    tol_hi = values["high"] * (1.0 + OHLC_RANGE_RTOL)
    tol_lo = values["low"] * (1.0 - OHLC_RANGE_RTOL)
    outside = np.zeros(len(index), dtype=bool)
    for name in ("open", "close"):
        outside |= (values[name] > tol_hi) | (values[name] < tol_lo)
    if outside.any():
        i = int(np.argmax(outside))
        count = int(outside.sum())
        warnings.append(
            f"{origin}: {count} row(s) with open or close outside [low, high], first {_where(index, line_no, i)}"
        )
    return frame, warnings


def suspicious_moves(close: pd.Series, ticker: str, *, threshold: float = SUSPICIOUS_MOVE) -> list[str]:
    """One warning line per one-day close-to-close move beyond ``±threshold``.

    The move on day *t* is ``close[t] / close[t-1] - 1`` over the ticker's own
    consecutive rows (NaN rows, e.g. before listing, are skipped), so the first
    row never warns.  A move of exactly ``threshold`` does not warn.

    Examples
    --------
    A 2-for-1 split left unadjusted halves the price: ``-50.0%`` is reported.
    """
    return [line for _, _, line in dated_suspicious_moves(close, ticker, threshold=threshold)]


def dated_suspicious_moves(
    close: pd.Series, ticker: str, *, threshold: float = SUSPICIOUS_MOVE
) -> list[tuple[int, int, str]]:
    """:func:`suspicious_moves` with the rows of ``close`` each move spans: ``(row before, row of the move, line)``.

    The moves of any contiguous range of rows are those whose two rows lie in it.
    """
    values = close.to_numpy(dtype=np.float64)
    rows = np.flatnonzero(~np.isnan(values))
    if len(rows) < 2:
        return []
    values = values[rows]
    moves = values[1:] / values[:-1] - 1.0
    hits = np.flatnonzero(np.abs(moves) > threshold)
    return [
        (
            int(rows[i]),
            int(rows[i + 1]),
            f"{ticker} {close.index[rows[i + 1]].date()}: one-day close-to-close move {moves[i]:+.1%} "
            f"exceeds ±{threshold:.0%} (an unadjusted split?)",
        )
        for i in hits
    ]


# --------------------------------------------------------------------------- summaries


@dataclass(frozen=True)
class SeriesInfo:
    """What ``data list`` shows about one stored series.

    ``first``/``last`` are ``None`` and ``error`` holds the one-line reason
    when the series could not be read or validated.
    """

    ticker: str
    first: pd.Timestamp | None
    last: pd.Timestamp | None
    rows: int
    location: str
    source: str
    fetched_at: str | None = None
    error: str | None = None


def series_info(frame: pd.DataFrame, ticker: str, location: str, source: str, fetched_at: str | None = None) -> SeriesInfo:
    """Summary of a validated canonical frame."""
    if len(frame) == 0:
        return SeriesInfo(ticker, None, None, 0, location, source, fetched_at)
    return SeriesInfo(ticker, frame.index[0], frame.index[-1], len(frame), location, source, fetched_at)
