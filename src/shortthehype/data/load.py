"""``load_prices``: one entry point over every price source."""

from __future__ import annotations

import os
import warnings as _warnings
from collections.abc import Iterable, Mapping

import pandas as pd

from shortthehype.constants import ENV_DATA_DIR
from shortthehype.data.prices import Prices
from shortthehype.data.validate import (
    check_date_range,
    check_rows_in_range,
    normalize_tickers,
    parse_date_param,
    slice_range,
    suspicious_moves,
)
from shortthehype.errors import DataError, DataWarning, ParamError, did_you_mean

__all__ = ["SOURCES", "default_source", "load_prices"]

#: Every value ``source`` accepts.
SOURCES = ("csv", "yahoo", "cache", "synthetic")


def default_source(data_dir: str | os.PathLike[str] | None = None) -> str:
    """``"csv"`` when a data directory is given or ``$SHORTTHEHYPE_DATA_DIR`` is set, else ``"yahoo"``."""
    return "csv" if data_dir is not None or os.environ.get(ENV_DATA_DIR) else "yahoo"


def load_prices(
    tickers: str | Iterable[str] | None,
    start: object = None,
    end: object = None,
    source: str | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    offline: bool = False,
    **source_options: object,
) -> Prices:
    """Load daily OHLCV prices of ``tickers`` for ``start..end``, aligned on the union of their dates.

    Parameters
    ----------
    tickers
        A ticker or a list of tickers, any case (stored upper-case); Yahoo
        index tickers keep their caret (``^IXIC``) and read ``IXIC.csv`` /
        ``IXIC.parquet``.  ``None`` loads every ticker of a ``csv`` directory
        or of the catalog (``cache``); ``yahoo`` needs explicit tickers.
    start, end
        Inclusive bounds (``YYYY-MM-DD``, ``date``, ``Timestamp``); ``None``
        leaves that side open.  ``start > end`` is an error.
    source
        ``"csv"`` (a directory of ``<TICKER>.csv`` files), ``"yahoo"``
        (yfinance, through the on-disk catalog, updated incrementally),
        ``"cache"`` (the catalog only, never the network) or ``"synthetic"``.
        Default: ``"csv"`` if ``data_dir`` is given or ``$SHORTTHEHYPE_DATA_DIR``
        is set, else ``"yahoo"``.
    data_dir
        Directory of the ``csv`` source (default ``$SHORTTHEHYPE_DATA_DIR``).
    cache_dir
        Catalog directory of ``yahoo``/``cache`` (default
        ``$SHORTTHEHYPE_CACHE_DIR``, else ``~/.cache/shortthehype``).
    offline
        With ``yahoo``: read the catalog only (same as ``source="cache"``).
    **source_options
        Passed to the ``synthetic`` generator (``seed=...`` and scenario
        settings); any option for another source is an error.

    Returns
    -------
    Prices
        Wide frames on the union of the tickers' dates within the range; a
        ticker is NaN on dates it has no row (before listing, after
        delisting), never forward-filled.  ``.source`` is the source used
        (``cache`` for ``yahoo`` with ``offline=True``), ``.origin`` the CSV
        directory or catalog read (where the matching rate series is looked
        for, :mod:`shortthehype.data.rates`); ``.warnings`` lists
        suspicious facts (split-sized one-day moves, repaired row order), each
        also emitted as a :class:`~shortthehype.errors.DataWarning`.

    Raises
    ------
    ParamError
        Unknown source or option, invalid or duplicate ticker, unparsable date,
        no directory for ``csv``.
    DataError
        ``start > end``; a ticker with no rows in the range; missing files,
        directories or catalog entries; any validation failure (see
        :mod:`shortthehype.data.validate`).
    DownloadError
        A Yahoo download failed (the catalog is unchanged).
    """
    if source is None:
        source = default_source(data_dir)
    if not isinstance(source, str) or source not in SOURCES:
        raise ParamError(f"unknown source {source!r}: expected one of {', '.join(SOURCES)}{did_you_mean(str(source), SOURCES)}")
    symbols = normalize_tickers(tickers)
    start_day, end_day = parse_date_param(start, "start"), parse_date_param(end, "end")
    check_date_range(start_day, end_day)
    if source == "synthetic":
        return _load_synthetic(symbols, start_day, end_day, data_dir, source_options)
    if source_options:
        raise ParamError(f"unknown option(s) for source {source!r}: {', '.join(sorted(source_options))}")
    if source == "csv":
        frames, notes, origin = _load_csv(symbols, data_dir)
    else:
        if source == "yahoo" and offline:
            source = "cache"
        frames, notes, origin = _load_catalog(symbols, start_day, end_day, cache_dir, fetch=source == "yahoo")
    return _assemble(frames, start_day, end_day, source=source, notes=notes, origin=origin)


def _assemble(
    frames: Mapping[str, pd.DataFrame],
    start: pd.Timestamp | None,
    end: pd.Timestamp | None,
    *,
    source: str,
    notes: Iterable[str] = (),
    origin: str | None = None,
) -> Prices:
    """Slice validated per-ticker frames to ``start..end``, check each has rows, align, and warn.

    Split-sized moves are looked for within the range only.  Every warning
    line (``notes`` first, then moves) is stored in ``Prices.warnings`` and
    emitted once as a :class:`~shortthehype.errors.DataWarning`.
    """
    sliced: dict[str, pd.DataFrame] = {}
    lines = list(notes)
    empty: list[str] = []
    for ticker, frame in frames.items():
        part = slice_range(frame, start, end)
        try:
            check_rows_in_range(part, ticker, start, end, frame)
        except DataError as exc:
            empty.append(str(exc))
        lines += suspicious_moves(part["close"], ticker)
        sliced[ticker] = part
    if len(empty) == len(frames):
        raise DataError(empty[0] if len(empty) == 1 else "no ticker has rows in the range: " + "; ".join(empty))
    # a ticker that lists after the range (or delisted before it) is all NaN there, like any unlisted day
    lines += [f"{message}: its column is empty" for message in empty]
    for line in lines:
        _warnings.warn(line, DataWarning, stacklevel=3)
    return Prices.from_frames(sliced, source=source, warnings=lines, origin=origin)


def _load_csv(
    symbols: list[str] | None, data_dir: str | os.PathLike[str] | None
) -> tuple[dict[str, pd.DataFrame], list[str], str]:
    from shortthehype.data.csv_source import csv_files, find_csv, read_csv_file, resolve_data_dir

    directory = resolve_data_dir(data_dir)
    files = csv_files(directory)
    if symbols is None:
        symbols = list(files)
    frames: dict[str, pd.DataFrame] = {}
    notes: list[str] = []
    for ticker in symbols:
        frame, warned = read_csv_file(find_csv(directory, ticker, files))
        frames[ticker] = frame
        notes += warned
    return frames, notes, str(directory)


def _load_catalog(
    symbols: list[str] | None,
    start: pd.Timestamp | None,
    end: pd.Timestamp | None,
    cache_dir: str | os.PathLike[str] | None,
    *,
    fetch: bool,
) -> tuple[dict[str, pd.DataFrame], list[str], str]:
    from shortthehype.data.catalog import Catalog

    catalog = Catalog(cache_dir)
    if symbols is None:
        if fetch:
            raise ParamError("source 'yahoo' needs tickers (tickers=None lists the catalog only with source='cache')")
        symbols = catalog.tickers()
        if not symbols:
            raise DataError(
                f"the price catalog {catalog.root} is empty; run 'shortthehype data fetch TICKER...' or 'shortthehype data import DIR'"
            )
    notes: list[str] = []
    frames: dict[str, pd.DataFrame] = {}
    for ticker in symbols:
        if fetch:
            from shortthehype.data.yahoo import fetch_ticker

            report = fetch_ticker(ticker, start, end, cache_dir=catalog.root)
            notes += report.warnings
        frames[ticker], _ = catalog.read(ticker)
    return frames, notes, str(catalog.root)


def _load_synthetic(
    symbols: list[str] | None,
    start: pd.Timestamp | None,
    end: pd.Timestamp | None,
    data_dir: object,
    options: dict[str, object],
) -> Prices:
    if data_dir is not None:
        raise ParamError("data_dir does not apply to source 'synthetic' (it generates prices)")
    from shortthehype.data.synthetic import load_synthetic

    seed = options.pop("seed", None)
    return load_synthetic(symbols, start, end, seed=seed, **options)  # type: ignore[arg-type]
