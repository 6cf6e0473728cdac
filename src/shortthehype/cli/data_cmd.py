"""``shortthehype data``: list, show, fetch and import price data.

A thin layer over :mod:`shortthehype.data`: parse options, call the library,
render with rich.  Library errors propagate to ``shortthehype.cli.main``,
which prints them as one line with exit code 1.  Data warnings are printed
as ``warning: ...`` lines on stderr instead of Python's warning format.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from shortthehype.cli import console, err_console, styled
from shortthehype.cli.data_options import DataOptions, TableFormat
from shortthehype.cli.render import Cell, Column, Grid, check_format, print_grids
from shortthehype.errors import DataError, DownloadError, ParamError, ShortTheHypeError

if TYPE_CHECKING:
    from shortthehype.data.validate import SeriesInfo

data_app = typer.Typer(
    help="Inspect, fetch and import daily price data (CSV directories and the local catalog).",
    no_args_is_help=True,
)

#: Rows shown at each end by ``data show``.
SHOW_ROWS = 5

Start = Annotated[Optional[str], typer.Option(help="First day, inclusive (YYYY-MM-DD).")]
End = Annotated[Optional[str], typer.Option(help="Last day, inclusive (YYYY-MM-DD).")]


def _day(stamp: object) -> str:
    """``YYYY-MM-DD`` of a Timestamp, ``—`` for None."""
    return "—" if stamp is None else str(stamp.date())  # type: ignore[attr-defined]


def _price(value: float) -> str:
    """Compact price: 2 decimals from 1000 up, 4 from 1, 6 below 1 (the precision of the shared files)."""
    if value != value:
        return "—"
    if abs(value) >= 1000:
        return f"{value:.2f}"
    return f"{value:.4f}" if abs(value) >= 1 else f"{value:.6f}"


def _print_warnings(lines: tuple[str, ...] | list[str]) -> None:
    from shortthehype.cli.notices import print_warnings

    print_warnings(lines)


def _series_grid(infos: list[SeriesInfo], *, title: str, with_source: bool) -> Grid:
    columns = [Column("ticker"), Column("first date"), Column("last date"), Column("rows", right=True)]
    if with_source:
        columns += [Column("source"), Column("fetched (UTC)")]
    grid = Grid(columns, title=title, key="tickers")
    for info in infos:
        if info.error is not None:
            cells = [Cell(info.ticker, style="red"), Cell("invalid", style="red"), Cell("", None), Cell("", None)]
        else:
            cells = [Cell(info.ticker), Cell(_day(info.first)), Cell(_day(info.last)), Cell(str(info.rows), info.rows)]
        if with_source:
            cells += [Cell(info.source), Cell((info.fetched_at or "").replace("+00:00", ""))]
        grid.add_row(*cells)
    return grid


@data_app.command("list")
def list_command(
    source: Annotated[
        Optional[str],
        typer.Option(help="csv (scan a directory) or cache (the catalog; 'yahoo' is an alias). Default: csv when a data dir is set, else cache."),
    ] = None,
    data_dir: DataOptions.data_dir = None,
    cache_dir: DataOptions.cache_dir = None,
    format_: TableFormat = "table",
) -> None:
    """List tickers with their first and last date and row count.

    For ``csv`` every file is read and validated; invalid files are listed in
    red, their errors printed, and the exit code is 1.
    """
    from shortthehype.data.load import default_source

    fmt = check_format(format_)
    kind = source or default_source(data_dir)
    if kind == "csv":
        from shortthehype.data.csv_source import list_csv_dir, resolve_data_dir

        directory = resolve_data_dir(data_dir)
        infos = list_csv_dir(directory)
        print_grids([_series_grid(infos, title=f"CSV files in {directory}", with_source=False)], fmt)
        where = str(directory)
    elif kind in ("cache", "yahoo"):
        from shortthehype.data.catalog import Catalog

        catalog = Catalog(cache_dir)
        infos = catalog.summaries()
        if not infos:
            console.print(
                f"the price catalog {catalog.root} is empty; fill it with 'shortthehype data fetch' or 'data import'",
                markup=False,
                highlight=False,
                soft_wrap=True,
            )
            return
        print_grids([_series_grid(infos, title=f"Price catalog {catalog.root}", with_source=True)], fmt)
        where = str(catalog.root)
    else:
        raise ParamError(f"data list --source must be csv or cache (got {kind!r})")
    bad = [info for info in infos if info.error is not None]
    for info in bad:
        err_console.print(styled("invalid:", "red", " " + (info.error or "")), highlight=False, soft_wrap=True)
    if bad:
        raise DataError(f"{len(bad)} of {len(infos)} price file(s) in {where} are invalid (listed above)")


@data_app.command("show")
def show_command(
    ticker: Annotated[str, typer.Argument(help="Ticker to show (any case; ^IXIC for indexes).")],
    start: Start = None,
    end: End = None,
    rows: Annotated[int, typer.Option(min=0, help="Rows shown at each end.")] = SHOW_ROWS,
    source: DataOptions.source = None,
    data_dir: DataOptions.data_dir = None,
    cache_dir: DataOptions.cache_dir = None,
    offline: DataOptions.offline = False,
    format_: TableFormat = "table",
) -> None:
    """Summary of one ticker (range, rows, closes, warnings) and its first and last rows."""
    from shortthehype.data.source import PriceSource

    fmt = check_format(format_)
    out = console if fmt == "table" else err_console

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # printed below from prices.warnings
        prices = PriceSource.from_options(source, data_dir, cache_dir, offline).load(ticker, start, end)
    name = prices.tickers[0]
    frame = {field: prices.field(field)[name] for field in ("open", "high", "low", "close", "volume")}
    close = frame["close"]
    lo, hi = close.idxmin(), close.idxmax()
    out.print(
        styled(name, "bold", f"  source {prices.source}  {_day(prices.index[0])}..{_day(prices.index[-1])}  {len(prices)} rows"),
        highlight=False,
        soft_wrap=True,
    )
    out.print(
        f"last close {_price(close.iloc[-1])} on {_day(prices.index[-1])}; "
        f"lowest {_price(close[lo])} on {_day(lo)}; highest {_price(close[hi])} on {_day(hi)}",
        highlight=False,
        soft_wrap=True,
    )
    _print_warnings(prices.warnings)
    if rows == 0:
        return
    grid = Grid([Column("date"), *(Column(f, right=True) for f in ("open", "high", "low", "close", "volume"))], key="rows")
    n = len(prices)
    shown = list(range(n)) if n <= 2 * rows else list(range(rows)) + [-1] + list(range(n - rows, n))
    for i in shown:
        if i < 0:
            if fmt == "table":
                grid.add_row(*(["⋮"] * 6))
            continue
        volume = float(frame["volume"].iloc[i])
        grid.add_row(
            _day(prices.index[i]),
            *(Cell(_price(frame[field].iloc[i]), float(frame[field].iloc[i])) for field in ("open", "high", "low", "close")),
            Cell("—" if volume != volume else f"{volume:.0f}", volume),
        )
    print_grids([grid], fmt)


@data_app.command("fetch")
def fetch_command(
    tickers: Annotated[list[str], typer.Argument(help="Yahoo tickers, e.g. NVDA PLTR ^IXIC.")],
    start: Start = None,
    end: End = None,
    refresh: Annotated[bool, typer.Option("--refresh", help="Download the whole history again even if stored.")] = False,
    cache_dir: DataOptions.cache_dir = None,
) -> None:
    """Download adjusted daily prices from Yahoo into the catalog (incrementally).

    Each ticker is fetched on its own: a failure is reported and the others
    continue; the exit code is 1 if any failed.  Without --start the full
    history is fetched.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from shortthehype.data.validate import check_date_range, normalize_tickers, parse_date_param
    from shortthehype.data.yahoo import fetch_ticker

    # Fail on bad arguments before any download.
    symbols = normalize_tickers(tickers) or []
    check_date_range(parse_date_param(start, "--start"), parse_date_param(end, "--end"))
    failed: list[str] = []
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=err_console, transient=True) as progress:
        task = progress.add_task("fetching", total=len(symbols))
        for symbol in symbols:
            progress.update(task, description=f"fetching {symbol}")
            try:
                report = fetch_ticker(symbol, start, end, cache_dir=cache_dir, refresh=refresh)
            except ShortTheHypeError as exc:
                failed.append(symbol)
                progress.console.print(styled(f"{symbol}: failed:", "red", " " + str(exc)), highlight=False, soft_wrap=True)
            else:
                note = f" ({report.note})" if report.note else ""
                console.print(
                    f"{symbol}: {report.action}{note}, {report.rows_added} new row(s); "
                    f"{report.rows} rows {_day(report.first)}..{_day(report.last)}",
                    highlight=False,
                    markup=False,
                    soft_wrap=True,
                )
                _print_warnings(report.warnings)
            progress.advance(task)
    if failed:
        raise DownloadError(f"{len(failed)} of {len(symbols)} ticker(s) failed to fetch: {', '.join(failed)}")


@data_app.command("import")
def import_command(
    directory: Annotated[Path, typer.Argument(help="Directory of <TICKER>.csv files to copy into the catalog.")],
    cache_dir: DataOptions.cache_dir = None,
    format_: TableFormat = "table",
) -> None:
    """Validate every CSV in DIRECTORY and copy it into the catalog (all or nothing).

    Imported tickers are then available offline (--source cache).  A later
    yahoo fetch of the same ticker replaces the imported history (its
    adjustment differs from Yahoo's current one).
    """
    from shortthehype.data.catalog import Catalog

    fmt = check_format(format_)
    catalog = Catalog(cache_dir)
    infos = catalog.import_csv_dir(directory)
    print_grids([_series_grid(infos, title=f"Imported into {catalog.root}", with_source=False)], fmt)
