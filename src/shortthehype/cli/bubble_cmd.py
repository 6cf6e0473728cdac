"""``shortthehype bubble``: the LPPLS bubble / anti-bubble confidence indicators of a ticker or the AI basket.

Prints a summary, the monthly maxima and sparklines; ``--json`` writes the
indicator document (:func:`indicator_document`) and ``--report`` renders it
as an HTML page, a Markdown summary or a PNG figure
(:mod:`shortthehype.report.bubble_view`), so ``shortthehype report
bubble.json`` gives the same report later.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from shortthehype.cli import app, console, styled
from shortthehype.cli.options import DataOptions, data_options
from shortthehype.errors import ParamError

if TYPE_CHECKING:
    import pandas as pd

#: Bars shown when no --start is given (about one year).
DEFAULT_LOOKBACK_BARS = 252
#: Characters of the sparklines.
SPARK_WIDTH = 64
SPARK_CHARS = "▁▂▃▄▅▆▇█"


def parse_windows(text: str) -> tuple[int, int, int]:
    """``"MIN:MAX:STEP"`` (or ``"MIN:MAX"``, step 25) -> (min, max, step) bars; ParamError naming --windows."""
    from shortthehype.constants import LPPLS_WINDOW_STEP

    parts = text.split(":")
    try:
        values = [int(p) for p in parts]
    except ValueError:
        raise ParamError(f"--windows {text!r} is not MIN:MAX:STEP in bars (e.g. 125:750:25)") from None
    if len(values) == 2:
        values.append(LPPLS_WINDOW_STEP)
    if len(values) != 3:
        raise ParamError(f"--windows {text!r} is not MIN:MAX:STEP in bars (e.g. 125:750:25)")
    return values[0], values[1], values[2]


def parse_filters(items: list[str]) -> Any:
    """``["rel_err_max=0.1", "m=0.1,0.9"]`` -> LPPLSFilters; ParamError naming the bad --filter."""
    from dataclasses import fields

    from shortthehype.errors import did_you_mean
    from shortthehype.lppls import LPPLSFilters

    known = {f.name: f for f in fields(LPPLSFilters)}
    values: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ParamError(f"--filter {item!r} is not key=value (e.g. --filter rel_err_max=0.1 --filter m=0.1,0.9)")
        if key not in known:
            raise ParamError(f"--filter {key!r} is unknown{did_you_mean(key, known)} (known: {', '.join(known)})")
        try:
            numbers = [float(v) for v in raw.split(",")]
        except ValueError:
            raise ParamError(f"--filter {item!r}: {raw!r} is not a number or a pair low,high") from None
        pair = isinstance(getattr(LPPLSFilters, key, None), tuple)
        if pair and len(numbers) != 2:
            raise ParamError(f"--filter {key} needs a pair low,high (e.g. {key}=0.1,0.9), got {raw!r}")
        if not pair and len(numbers) != 1:
            raise ParamError(f"--filter {key} needs one number, got {raw!r}")
        values[key] = tuple(numbers) if pair else numbers[0]
    return LPPLSFilters(**values)


def sparkline(values: Any, width: int = SPARK_WIDTH, top: float = 1.0) -> str:
    """Unicode sparkline of ``values`` in [0, top]: buckets of consecutive values show their maximum; NaN = space."""
    import numpy as np

    data = np.asarray(values, dtype=np.float64)
    if data.size == 0:
        return ""
    buckets = np.array_split(data, min(width, data.size))
    out = []
    for bucket in buckets:
        finite = bucket[np.isfinite(bucket)]
        if finite.size == 0:
            out.append(" ")
            continue
        level = min(max(float(finite.max()) / top, 0.0), 1.0) if top > 0 else 0.0
        out.append(SPARK_CHARS[min(int(level * len(SPARK_CHARS)), len(SPARK_CHARS) - 1)])
    return "".join(out)


def indicator_document(
    name: str,
    frame: pd.DataFrame,
    windows: Any,
    step: int,
    filters: Any,
    search: Any,
    *,
    source: str | None = None,
    members: Mapping[str, Any] | None = None,
    history: pd.Series | None = None,
    thresholds: Mapping[str, float] | None = None,
    warnings: Sequence[str] = (),
    generated_at: str | None = None,
) -> dict[str, Any]:
    """The JSON document of ``bubble --json`` (NaN/NaT become null); every bubble report is rendered from it.

    Parameters
    ----------
    name, frame, windows, step, filters, search
        The series name, the frame of :func:`shortthehype.lppls.confidence_indicator`
        and the settings that produced it.
    source
        The price source (``Prices.source``).
    members
        AI basket only: member ticker -> its first date with a close (``None`` if none).
    history
        The analysed series' daily level; the part from the first to the last
        evaluation date is stored (the report's price line).
    thresholds
        ``{"bubble": x, "antibubble": y}``: the levels the report marks
        (default: bubble-timer's ``BUBBLE_THRESHOLD`` for both).
    warnings
        Data warnings of the load.
    generated_at
        When the indicator was computed (ISO 8601, UTC); default: now.

    Returns
    -------
    dict
        ``type = "bubble"`` plus the keys listed in
        :mod:`shortthehype.report.bubble_view`; JSON-serialisable.
    """
    import datetime as _dt
    from dataclasses import asdict

    from shortthehype import __version__
    from shortthehype.constants import BUBBLE_THRESHOLD

    def num(value: float) -> float | None:
        return float(value) if math.isfinite(value) else None

    def day(value: Any) -> str | None:
        return None if value is None or value != value else value.strftime("%Y-%m-%d")

    if history is not None and len(frame):
        history = history.loc[frame.index[0] : frame.index[-1]]
    elif history is not None:
        history = history.iloc[:0]
    if generated_at is None:
        generated_at = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    limits = dict(thresholds) if thresholds is not None else {"bubble": BUBBLE_THRESHOLD, "antibubble": BUBBLE_THRESHOLD}
    return {
        "type": "bubble",
        "kind": "lppls-confidence",
        "series": name,
        "members": None if members is None else {str(t): day(d) for t, d in members.items()},
        "source": source,
        "start": day(frame.index[0]) if len(frame) else None,
        "end": day(frame.index[-1]) if len(frame) else None,
        "windows": [int(w) for w in windows],
        "step": int(step),
        "filters": asdict(filters),
        "search": asdict(search),
        "thresholds": {key: float(value) for key, value in limits.items()},
        "dates": [day(d) for d in frame.index],
        "price": [num(v) for v in frame["price"]],
        "bubble": [num(v) for v in frame["bubble"]],
        "antibubble": [num(v) for v in frame["antibubble"]],
        "n_fits": [int(v) for v in frame["n_fits"]],
        "bubble_tc": [day(v) for v in frame["bubble_tc"]],
        "antibubble_tc": [day(v) for v in frame["antibubble_tc"]],
        "history": None
        if history is None
        else {"dates": [day(d) for d in history.index], "values": [num(float(v)) for v in history.to_numpy(dtype="float64")]},
        "warnings": [str(w) for w in warnings],
        "generated_at": generated_at,
        "version": __version__,
    }


def _pct(value: float) -> str:
    from shortthehype.report.formatting import percent

    return percent(value, 1)


def _date(value: Any) -> str:
    return "—" if value is None or value != value else value.strftime("%Y-%m-%d")


def render_indicator(name: str, frame: pd.DataFrame, windows: Any, step: int) -> None:
    """Print the summary, the monthly table and the sparklines."""
    from rich.table import Table

    if frame.empty:
        console.print(f"{name}: no evaluation date in the range")
        return
    span = f"{frame.index[0]:%Y-%m-%d} → {frame.index[-1]:%Y-%m-%d}"
    console.print(
        styled(name, "bold", f": LPPLS confidence, {span}, every {step} bar(s), "
        f"{len(windows)} windows of {windows[0]}..{windows[-1]} bars"),
        highlight=False,
    )
    last = frame.iloc[-1]
    summary = Table(header_style="bold", title_justify="left")
    for column in ("", "date", "bubble", "anti-bubble", "fits", "median tc (qualified bubbles)"):
        summary.add_column(column)
    summary.add_row("latest", _date(frame.index[-1]), _pct(last["bubble"]), _pct(last["antibubble"]), str(int(last["n_fits"])), _date(last["bubble_tc"]))
    for label, column in (("peak bubble", "bubble"), ("peak anti-bubble", "antibubble")):
        values = frame[column]
        if values.notna().any() and values.max() > 0:
            when = values.idxmax()
            row = frame.loc[when]
            summary.add_row(label, _date(when), _pct(row["bubble"]), _pct(row["antibubble"]), str(int(row["n_fits"])), _date(row["bubble_tc"]))
        else:
            summary.add_row(label, "never above 0", "—", "—", "—", "—")
    console.print(summary)
    from shortthehype.report.bubble_view import monthly_maxima

    monthly = monthly_maxima(frame)
    table = Table(title="monthly maximum of the indicators", title_justify="left", header_style="bold")
    for column in ("month", "close", "bubble max", "anti-bubble max", "evaluations"):
        table.add_column(column, justify="right")
    for period, row in monthly.iterrows():
        table.add_row(str(period), f"{row['close']:,.2f}", _pct(row["bubble"]), _pct(row["antibubble"]), str(int(row["evaluations"])))
    console.print(table)
    top = max(float(frame[["bubble", "antibubble"]].max().max()), 1e-12)
    console.print(f"bubble      |{sparkline(frame['bubble'], top=top)}| max {_pct(frame['bubble'].max())}", highlight=False)
    console.print(f"anti-bubble |{sparkline(frame['antibubble'], top=top)}| max {_pct(frame['antibubble'].max())}", highlight=False)
    console.print(f"price       |{sparkline(frame['price'] - frame['price'].min(), top=float(frame['price'].max() - frame['price'].min()) or 1.0)}|", highlight=False)


@app.command()
def bubble(
    ticker: Annotated[str, typer.Argument(help="Ticker (e.g. QQQ, IXIC, NVDA) or ai-basket (equal-weight index of the AI basket's listed members).")],
    start: Annotated[Optional[str], typer.Option(help="First evaluation date (YYYY-MM-DD; default: about a year before --end).")] = None,
    end: Annotated[Optional[str], typer.Option(help="Last evaluation date (YYYY-MM-DD; default: the latest close).")] = None,
    windows: Annotated[str, typer.Option(help="Nested window lengths in bars, MIN:MAX:STEP.")] = "125:750:25",
    step: Annotated[int, typer.Option(help="Bars between evaluations (1 = every day; counted back from --end).")] = 5,
    filter_: Annotated[
        Optional[list[str]],
        typer.Option("--filter", "-f", help="Override a qualification filter: key=value (repeatable), e.g. rel_err_max=0.1, m=0.1,0.9."),
    ] = None,
    json_path: Annotated[Optional[Path], typer.Option("--json", help="Write the indicator as JSON to this file ('-' for stdout).")] = None,
    report_path: Annotated[
        Optional[Path],
        typer.Option(
            "--report",
            help="Write the report, format from the suffix: .html (self-contained page, works offline), .md (Markdown) or .png (figure).",
        ),
    ] = None,
    source: DataOptions.source = None,
    data_dir: DataOptions.data_dir = None,
    cache_dir: DataOptions.cache_dir = None,
    offline: DataOptions.offline = False,
) -> None:
    """Is it a bubble? The Sornette LPPLS confidence indicators of a ticker or the AI basket."""
    from shortthehype.constants import BUBBLE_AI_BASKET, BUBBLE_THRESHOLD
    from shortthehype.data.load import load_prices
    from shortthehype.lppls import (
        LPPLSSearch,
        basket_members,
        bubble_series,
        bubble_tickers,
        confidence_indicator,
        lppls_windows,
    )
    from shortthehype.params import Param

    window_array = lppls_windows(*parse_windows(windows))
    filters = parse_filters(filter_ or [])
    end_day = Param("end", "date", None, "", optional=True).coerce(end, where="--end")
    start_day = Param("start", "date", None, "", optional=True).coerce(start, where="--start")
    if step < 1:
        raise ParamError(f"--step must be >= 1 bar, got {step}")
    report_format = check_report_option(report_path)  # before the (possibly long) fits
    from shortthehype.cli.options import check_output_options

    check_output_options(json_path=json_path)
    tickers = bubble_tickers(ticker)
    prices = load_prices(tickers, end=end_day, **data_options(source, data_dir, cache_dir, offline))
    series = bubble_series(prices, ticker)
    if start_day is None and len(series):
        start_day = series.index[max(len(series) - DEFAULT_LOOKBACK_BARS, 0)]
    if start_day is not None and end_day is not None and start_day > end_day:
        raise ParamError(f"--start {start_day:%Y-%m-%d} is after --end {end_day:%Y-%m-%d}")
    search = LPPLSSearch()
    frame = confidence_indicator(
        series, windows=window_array, start=start_day, end=end_day, step=step, filters=filters, search=search
    )
    name = str(series.name)
    members = basket_members(prices) if ticker.strip().lower() == BUBBLE_AI_BASKET else None
    document = indicator_document(
        name, frame, window_array, step, filters, search,
        source=prices.source, members=members, history=series,
        thresholds={"bubble": BUBBLE_THRESHOLD, "antibubble": BUBBLE_THRESHOLD}, warnings=prices.warnings,
    )
    if json_path is not None and str(json_path) == "-":
        typer.echo(json.dumps(document, indent=1))
        if report_path is not None:
            write_bubble_report(document, report_path, report_format, quiet=True)
        return
    render_indicator(name, frame, window_array, step)
    for warning in prices.warnings:
        console.print(styled("data warning:", "yellow", " " + warning), highlight=False)
    if json_path is not None:
        from shortthehype.cli.options import write_json

        write_json(document, json_path)
        console.print(f"wrote {json_path}", highlight=False)
    if report_path is not None:
        write_bubble_report(document, report_path, report_format)


def check_report_option(report_path: Path | None) -> str | None:
    """The format of ``--report PATH`` from its suffix (html, md or png), checked before any work; None without it.

    Raises ParamError naming --report for an unknown suffix, ``-``, a missing
    directory or a directory in the file's place.
    """
    if report_path is None:
        return None
    from shortthehype.report import check_report_path, format_from_suffix

    if str(report_path) == "-":
        raise ParamError("--report - : the report is a file (.html, .md or .png); use --json - for stdout")
    fmt = format_from_suffix(report_path, option="--report")
    check_report_path(report_path, option="--report")
    return fmt


def write_bubble_report(document: dict[str, Any], report_path: Path, report_format: str | None, *, quiet: bool = False) -> Path:
    """Write the report of a bubble document (atomically) and print the path written (to stderr when ``quiet``)."""
    from shortthehype.cli import err_console
    from shortthehype.report import write_png, write_report

    document = json.loads(json.dumps(document))  # exactly what its JSON file reads back: same report either way
    where = str(report_path)
    if report_format == "png":
        path = write_png(document, report_path, where=where, option="--report")
    else:
        path = write_report(document, report_path, format=report_format, where=where)
    (err_console if quiet else console).print(f"wrote {path}", highlight=False)
    return path
