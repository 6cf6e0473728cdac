"""The ``yahoo`` source: yfinance downloads kept in the on-disk catalog.

Prices are Yahoo's split- and dividend-adjusted daily OHLCV
(``auto_adjust=True``: open/high/low scaled by adjusted close / close), so
returns are total returns.  :func:`_download` is the only function that calls
yfinance (tests replace ``yfinance.download`` with recorded frames).

Incremental update (:func:`fetch_ticker`), per ticker, under the ticker's
catalog lock:

* nothing stored (or ``refresh=True``): download the requested range (full
  history when ``start`` is None) and store it;
* days after ``complete_through`` wanted: download from the last stored day
  *inclusive*; rows after it are appended;
* an earlier ``start`` than ever requested (or the full history, after a
  partial one): download up to the first stored day inclusive; rows before it
  are prepended;
* **adjusted history shifts**: Yahoo re-scales every earlier price after a new
  dividend or split, so an appended piece would not join the stored one.  The
  overlap day (downloaded again on purpose) is compared; if its close differs
  by more than :data:`~shortthehype.constants.YAHOO_OVERLAP_RTOL` (or the
  overlap day is missing) the whole history is downloaded again and replaces
  the stored one.  So the catalog always holds one consistently adjusted
  series, anchored at its newest download.
* only complete days are stored: bars dated today or later in New York
  (:data:`~shortthehype.constants.MARKET_TIMEZONE`) may still be live and are
  dropped, so a day enters the catalog the next calendar day;
* leading rows without a valid price (Yahoo has them for some tickers' first
  years, e.g. AMD before 1983-03-21, with no opening price) are dropped with a
  warning; an invalid row after the first valid one fails the download.

A failed download (an exception, an empty frame, missing columns, invalid
rows) raises :class:`~shortthehype.errors.DownloadError` naming the ticker and
the reason; the catalog is not touched because every download of a fetch
happens before the single atomic write.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from shortthehype.constants import MARKET_TIMEZONE, YAHOO_OVERLAP_RTOL, YAHOO_TIMEOUT
from shortthehype.data.catalog import Catalog, CatalogMeta
from shortthehype.data.validate import (
    OHLC,
    check_date_range,
    check_ohlcv,
    format_range,
    normalize_ticker,
    parse_date_param,
    standardize_frame,
)
from shortthehype.errors import DataError, DownloadError

__all__ = ["FetchReport", "fetch_ticker", "frame_from_download"]

#: yfinance logs a failed download instead of raising; its messages give the reason.
_YF_LOGGER = "yfinance"
_ONE_DAY = pd.Timedelta(days=1)
#: Characters of yfinance's log kept in an error message.
_MAX_REASON = 300
#: Appended to every failed download: how to run without Yahoo.
OFFLINE_HINT = (
    "to work offline, point --data-dir (or $SHORTTHEHYPE_DATA_DIR) at a directory of <TICKER>.csv files, "
    "or use --source cache with prices stored earlier by `shortthehype data fetch` or `data import`"
)
#: Words in yfinance's log or an exception that mean the network, not the ticker, failed.
_NETWORK_WORDS = (
    "could not resolve", "resolve host", "connection", "timed out", "timeout", "network", "max retries",
    "failed to perform", "name resolution", "unreachable", "ssl",
)


def _clip(text: str, limit: int = _MAX_REASON) -> str:
    """``text`` cut to about ``limit`` characters at a space (never inside a word or a quoted name)."""
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    return text[: cut if cut > 0 else limit].rstrip(" ,;:([{'\"") + " (...)"


def _is_network_failure(text: str) -> bool:
    lowered = text.lower()
    return any(word in lowered for word in _NETWORK_WORDS)


@dataclass(frozen=True)
class FetchReport:
    """What :func:`fetch_ticker` did for one ticker.

    ``action`` is ``"new"`` (first download), ``"refreshed"`` (whole history
    downloaded again: ``refresh=True`` or shifted adjustments, see ``note``),
    ``"extended"`` (rows added at either end) or ``"up to date"`` (no download).
    """

    ticker: str
    action: str
    rows_added: int
    first: pd.Timestamp
    last: pd.Timestamp
    rows: int
    downloads: int
    note: str = ""
    warnings: tuple[str, ...] = field(default_factory=tuple)


class _LogCapture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.messages.append(" ".join(record.getMessage().split()))
        except Exception:  # a malformed log record must not break the download
            pass


def _download(ticker: str, start: pd.Timestamp | None, end: pd.Timestamp | None) -> pd.DataFrame:
    """The only call into yfinance: adjusted daily OHLCV of one ticker, ``start..end`` inclusive.

    ``start=None`` asks for the full history (``period="max"``), ``end=None``
    for everything up to now.  Returns yfinance's frame as is (MultiIndex
    columns ``(Price, Ticker)``); warnings and errors yfinance logged during
    the call are attached as ``frame.attrs["yfinance_log"]``.

    Raises
    ------
    DownloadError
        yfinance raised (network error, bad arguments).
    """
    import yfinance

    kwargs: dict[str, object] = {
        "auto_adjust": True,
        "actions": False,
        "progress": False,
        "threads": False,
        "group_by": "column",
        "multi_level_index": True,
        "timeout": YAHOO_TIMEOUT,
    }
    if start is None:
        kwargs["period"] = "max"
    else:
        kwargs["start"] = start.strftime("%Y-%m-%d")
    if end is not None:
        kwargs["end"] = (end + _ONE_DAY).strftime("%Y-%m-%d")  # yfinance's end is exclusive
    capture = _LogCapture()
    logger = logging.getLogger(_YF_LOGGER)
    logger.addHandler(capture)
    try:
        with warnings.catch_warnings():
            # yfinance's own pandas deprecations are not the user's business.
            warnings.simplefilter("ignore", DeprecationWarning)
            raw = yfinance.download(ticker, **kwargs)
    except Exception as exc:
        reason = _clip(" ".join(f"{type(exc).__name__}: {exc}".split()))
        network = " (no connection to Yahoo)" if _is_network_failure(reason) or isinstance(exc, OSError) else ""
        raise DownloadError(
            f"yahoo download of {ticker} failed: {reason}{network}; the catalog was not changed; {OFFLINE_HINT}"
        ) from None
    finally:
        logger.removeHandler(capture)
    if isinstance(raw, pd.DataFrame):
        raw.attrs["yfinance_log"] = capture.messages
    return raw


def _market_today() -> pd.Timestamp:
    """Today's date in New York (bars dated today or later may still be live)."""
    return pd.Timestamp.now(tz=MARKET_TIMEZONE).tz_localize(None).normalize()


def frame_from_download(raw: object, ticker: str) -> tuple[pd.DataFrame, list[str]]:
    """Canonical validated frame from what ``yfinance.download`` returned for one ticker.

    Accepts yfinance's MultiIndex columns ``(Price, Ticker)`` (either level
    order) and flat columns.  Rows whose prices are all NaN are dropped (yfinance
    aligns tickers on a union of dates); leading rows with any missing or
    non-positive price are dropped with a warning.

    Raises
    ------
    DownloadError
        Not a frame, no rows, another ticker's columns only, missing OHLC
        columns, or invalid rows after the first valid one.
    """
    origin = f"yahoo {ticker}"
    log = raw.attrs.get("yfinance_log", []) if isinstance(raw, pd.DataFrame) else []
    logged = " ".join(dict.fromkeys(log))  # yfinance repeats itself; keep each message once
    reason = f" (yfinance: {_clip(logged)})" if logged else ""

    def fail(what: str) -> DownloadError:
        return DownloadError(f"yahoo download of {ticker} failed: {what}{reason}; the catalog was not changed; {OFFLINE_HINT}")

    if not isinstance(raw, pd.DataFrame):
        raise fail(f"yfinance returned {type(raw).__name__}, not a DataFrame")
    frame = raw
    if isinstance(frame.columns, pd.MultiIndex):
        frame = _select_ticker(frame, ticker, fail)
    try:
        prices = [label for label in frame.columns if str(label).strip().lower() in OHLC]
        frame = frame.loc[~frame[prices].isna().all(axis=1)] if prices else frame
        if len(frame) == 0:
            if _is_network_failure(logged):
                raise fail("no connection to Yahoo")
            raise fail("yfinance returned no rows (unknown or delisted ticker, no trading day in the range, or the request failed)")
        frame, notes = _drop_leading_invalid(frame, origin)
        canonical = standardize_frame(frame, origin)
        canonical, more = check_ohlcv(canonical, origin)
    except DownloadError:
        raise
    except DataError as exc:
        raise fail(str(exc).removeprefix(f"{origin}: ")) from None
    return canonical, notes + more


def _select_ticker(frame: pd.DataFrame, ticker: str, fail: Callable[[str], DownloadError]) -> pd.DataFrame:
    for level in range(frame.columns.nlevels):
        values = [str(v).upper() for v in frame.columns.get_level_values(level)]
        if ticker in values:
            return frame.xs(frame.columns.get_level_values(level)[values.index(ticker)], axis=1, level=level)
    others = sorted({str(v) for v in frame.columns.get_level_values(-1)})
    raise fail(f"the response has no columns for {ticker} (got {', '.join(others) or 'none'})")


def _drop_leading_invalid(frame: pd.DataFrame, origin: str) -> tuple[pd.DataFrame, list[str]]:
    labels = [label for label in frame.columns if str(label).strip().lower() in OHLC]
    if len(labels) < len(OHLC):
        return frame, []  # standardize_frame names the missing columns
    values = frame[labels].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    valid = np.isfinite(values).all(axis=1) & (values > 0).all(axis=1)
    if valid.all() or not valid.any():
        return frame, []  # nothing leading to drop, or nothing valid at all (check_ohlcv names the first bad value)
    k = int(np.argmax(valid))
    if k == 0:
        return frame, []
    dropped = frame.index[:k]
    warning = (
        f"{origin}: dropped {k} leading row(s) without a valid open/high/low/close "
        f"({pd.Timestamp(dropped[0]).date()}..{pd.Timestamp(dropped[-1]).date()})"
    )
    return frame.iloc[k:], [warning]


def _close_matches(piece: pd.DataFrame, stored: pd.DataFrame, day: pd.Timestamp) -> tuple[bool, str]:
    """Whether ``piece`` and ``stored`` agree on ``day``'s close; with a note when not."""
    if day not in piece.index:
        return False, f"the overlap day {day.date()} is missing from the new download"
    new, old = float(piece.at[day, "close"]), float(stored.at[day, "close"])
    if abs(new / old - 1.0) <= YAHOO_OVERLAP_RTOL:
        return True, ""
    return False, f"close on {day.date()} changed {old:.6g} -> {new:.6g} (new dividend or split adjustment)"


def _earliest(a: pd.Timestamp | None, b: pd.Timestamp | None) -> pd.Timestamp | None:
    """The earlier of two requested starts, where ``None`` (full history) is earliest."""
    return None if a is None or b is None else min(a, b)


class _Downloader:
    """Downloads pieces of one ticker's history, trimmed to complete days, and counts them."""

    def __init__(self, ticker: str, last_complete: pd.Timestamp) -> None:
        self.ticker = ticker
        self.last_complete = last_complete
        self.count = 0
        self.warnings: list[str] = []

    def get(self, lo: pd.Timestamp | None, hi: pd.Timestamp) -> pd.DataFrame:
        self.count += 1
        raw = _download(self.ticker, lo, None if hi >= self.last_complete else hi)
        frame, notes = frame_from_download(raw, self.ticker)
        self.warnings += notes
        frame = frame.loc[frame.index <= hi]
        if lo is not None:
            frame = frame.loc[frame.index >= lo]
        if len(frame) == 0:
            raise DownloadError(
                f"yahoo download of {self.ticker} failed: no complete trading day in {format_range(lo, hi)}; "
                f"the catalog was not changed; {OFFLINE_HINT}"
            )
        return frame


def fetch_ticker(
    ticker: str,
    start: object = None,
    end: object = None,
    *,
    cache_dir: str | os.PathLike[str] | None = None,
    refresh: bool = False,
) -> FetchReport:
    """Bring ``ticker``'s catalog entry up to date with Yahoo for ``start..end`` (see module docstring).

    Parameters
    ----------
    ticker
        Yahoo symbol, any case (``nvda``, ``^IXIC``).
    start, end
        Inclusive dates; ``start=None`` means the full history, ``end=None``
        (or a day not yet complete) means the last complete day (yesterday in
        New York).
    cache_dir
        Catalog directory (default: ``$SHORTTHEHYPE_CACHE_DIR`` or
        ``~/.cache/shortthehype``).
    refresh
        Download the whole stored-plus-requested history again even if it is
        up to date.

    Returns
    -------
    FetchReport

    Raises
    ------
    DownloadError
        A download failed; the catalog entry is unchanged.
    DataError
        ``start > end``, or ``start`` is not before today (no complete day yet).
    """
    ticker = normalize_ticker(ticker)
    start_day, end_day = parse_date_param(start, "start"), parse_date_param(end, "end")
    check_date_range(start_day, end_day)
    last_complete = _market_today() - _ONE_DAY
    want_end = last_complete if end_day is None else min(end_day, last_complete)
    if start_day is not None and start_day > want_end:
        raise DataError(
            f"nothing to fetch for {ticker} in {format_range(start_day, end_day)}: "
            f"the last complete day is {last_complete.date()}"
        )
    catalog = Catalog(cache_dir)
    source = _Downloader(ticker, last_complete)
    with catalog.lock(ticker):
        stored = catalog.read_optional(ticker)
        if stored is None:
            frame = source.get(start_day, want_end)
            meta = catalog.write(ticker, frame, source="yahoo", requested_start=start_day, complete_through=want_end)
            return _report(ticker, "new", len(frame), meta, source, "")
        old, old_meta = stored
        requested = _earliest(start_day, old_meta.requested_start)
        complete_through = max(want_end, old_meta.complete_through)
        need_before = old_meta.requested_start is not None and requested != old_meta.requested_start
        need_after = want_end > old_meta.complete_through
        note = "refresh requested" if refresh else ""
        if not (refresh or need_before or need_after):
            return _report(ticker, "up to date", 0, old_meta, source, "")
        consistent = not refresh
        pieces = [old]
        if consistent and need_after:
            after = source.get(old.index[-1], want_end)
            consistent, note = _close_matches(after, old, old.index[-1])
            pieces.append(after.loc[after.index > old.index[-1]])
        if consistent and need_before:
            before = source.get(start_day, old.index[0])
            consistent, note = _close_matches(before, old, old.index[0])
            pieces.insert(0, before.loc[before.index < old.index[0]])
        if consistent:
            frame, action = pd.concat(pieces), "extended"
        else:
            # Refresh, or the stored history is adjusted differently: replace it with one coherent download.
            frame, action = source.get(requested, complete_through), "refreshed"
        meta = catalog.write(ticker, frame, source="yahoo", requested_start=requested, complete_through=complete_through)
        return _report(ticker, action, len(frame.index.difference(old.index)), meta, source, note)


def _report(ticker: str, action: str, added: int, meta: CatalogMeta, source: _Downloader, note: str) -> FetchReport:
    return FetchReport(
        ticker=ticker,
        action=action,
        rows_added=int(added),
        first=meta.first,
        last=meta.last,
        rows=meta.rows,
        downloads=source.count,
        note=note,
        warnings=tuple(source.warnings),
    )
