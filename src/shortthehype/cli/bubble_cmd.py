"""``shortthehype bubble``: the LPPLS bubble / anti-bubble confidence indicators of a ticker or a named series.

Prints a summary, the monthly maxima and sparklines; ``--json`` writes the
indicator document (:func:`shortthehype.bubble.indicator_document`) and ``--report`` renders it
as an HTML page, a Markdown summary or a PNG figure
(:mod:`shortthehype.report.bubble_view`), so ``shortthehype report
bubble.json`` gives the same report later.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer
from shortthehype.cli import app, console, err_console, styled
from shortthehype.cli.notices import in_window, print_warnings
from shortthehype.cli.data_options import DataOptions, TableFormat
from shortthehype.cli.render import check_format
from shortthehype.constants import BUBBLE_AI_BASKET
from shortthehype.errors import ParamError

if TYPE_CHECKING:
    import pandas as pd

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


def parse_filters(items: list[str], preset: str | None = None) -> Any:
    """``--filters PRESET`` then ``--filter key=value`` items -> LPPLSFilters; ParamError naming the bad option.

    ``["rel_err_max=0.1", "m=0.1,0.9"]`` override the preset's values (default
    preset: ``project``); ``none`` removes an optional condition (``rel_err_max``, ``tc_bars``).
    """
    from dataclasses import fields, replace

    from shortthehype.errors import did_you_mean
    from shortthehype.lppls import FILTER_PRESETS, LPPLSFilters

    name = preset or "project"
    if name not in FILTER_PRESETS:
        raise ParamError(
            f"--filters {name!r} is unknown{did_you_mean(name, FILTER_PRESETS)} (known: {', '.join(FILTER_PRESETS)})"
        )
    base = FILTER_PRESETS[name].filters
    known = {f.name: f for f in fields(LPPLSFilters)}
    optional = {"rel_err_max", "tc_bars"}
    values: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ParamError(f"--filter {item!r} is not key=value (e.g. --filter rel_err_max=0.1 --filter m=0.1,0.9)")
        if key not in known:
            raise ParamError(f"--filter {key!r} is unknown{did_you_mean(key, known)} (known: {', '.join(known)})")
        if key in optional and raw.strip().lower() == "none":
            values[key] = None
            continue
        try:
            numbers = [float(v) for v in raw.split(",")]
        except ValueError:
            raise ParamError(f"--filter {item!r}: {raw!r} is not a number or a pair low,high") from None
        pair = key in ("m", "omega", "tc", "tc_bars")
        if pair and len(numbers) != 2:
            raise ParamError(f"--filter {key} needs a pair low,high (e.g. {key}=0.1,0.9), got {raw!r}")
        if not pair and len(numbers) != 1:
            raise ParamError(f"--filter {key} needs one number, got {raw!r}")
        values[key] = tuple(numbers) if pair else numbers[0]
    return replace(base, **values)


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


def _pct(value: float) -> str:
    from shortthehype.report.formatting import percent

    return percent(value, 1)


def _date(value: Any) -> str:
    return "—" if value is None or value != value else value.strftime("%Y-%m-%d")


def render_indicator(name: str, frame: pd.DataFrame, windows: Any, step: int, fmt: str = "table") -> None:
    """Print the summary, the monthly table and the sparklines (tables only, for csv/json/md)."""
    from shortthehype.cli.render import Cell, Column, Grid, print_grids

    out = console if fmt == "table" else err_console
    if frame.empty:
        out.print(f"{name}: no evaluation date in the range")
        return
    span = f"{frame.index[0]:%Y-%m-%d} → {frame.index[-1]:%Y-%m-%d}"
    out.print(
        styled(name, "bold", f": LPPLS confidence, {span}, every {step} bar(s), "
        f"{len(windows)} windows of {windows[0]}..{windows[-1]} bars"),
        highlight=False,
    )

    def share(value: Any) -> Cell:
        return Cell(_pct(value), None if value != value else float(value))

    last = frame.iloc[-1]
    summary = Grid(
        [Column(""), Column("date"), Column("bubble", right=True), Column("anti-bubble", right=True), Column("fits", right=True),
         Column("median tc (qualified bubbles)", wrap=True)],
        key="summary",
    )
    summary.add_row("latest", _date(frame.index[-1]), share(last["bubble"]), share(last["antibubble"]),
                    Cell(str(int(last["n_fits"])), int(last["n_fits"])), _date(last["bubble_tc"]))
    for label, column in (("peak bubble", "bubble"), ("peak anti-bubble", "antibubble")):
        values = frame[column]
        if values.notna().any() and values.max() > 0:
            when = values.idxmax()
            row = frame.loc[when]
            summary.add_row(label, _date(when), share(row["bubble"]), share(row["antibubble"]),
                            Cell(str(int(row["n_fits"])), int(row["n_fits"])), _date(row["bubble_tc"]))
        else:
            summary.add_row(label, "never above 0", "—", "—", "—", "—")
    from shortthehype.report.bubble_view import monthly_maxima

    monthly = monthly_maxima(frame)
    table = Grid(
        [Column("month"), *(Column(c, right=True) for c in ("close", "bubble max", "anti-bubble max", "evaluations"))],
        title="monthly maximum of the indicators",
        key="monthly",
    )
    for period, row in monthly.iterrows():
        table.add_row(str(period), Cell(f"{row['close']:,.2f}", float(row["close"])), share(row["bubble"]), share(row["antibubble"]),
                      Cell(str(int(row["evaluations"])), int(row["evaluations"])))
    print_grids([summary, table], fmt)
    if fmt != "table":
        return
    top = max(float(frame[["bubble", "antibubble"]].max().max()), 1e-12)
    console.print(f"bubble      |{sparkline(frame['bubble'], top=top)}| max {_pct(frame['bubble'].max())}", highlight=False)
    console.print(f"anti-bubble |{sparkline(frame['antibubble'], top=top)}| max {_pct(frame['antibubble'].max())}", highlight=False)
    console.print(f"price       |{sparkline(frame['price'] - frame['price'].min(), top=float(frame['price'].max() - frame['price'].min()) or 1.0)}|", highlight=False)


@app.command()
def bubble(
    ticker: Annotated[str, typer.Argument(help=f"Ticker (e.g. QQQ, IXIC, NVDA) or {BUBBLE_AI_BASKET} (the equal-weight index of its listed members).")],
    start: Annotated[Optional[str], typer.Option(help="First evaluation date (YYYY-MM-DD; default: about a year before --end).")] = None,
    end: Annotated[Optional[str], typer.Option(help="Last evaluation date (YYYY-MM-DD; default: the latest close).")] = None,
    windows: Annotated[str, typer.Option(help="Nested window lengths in bars, MIN:MAX:STEP.")] = "125:750:25",
    step: Annotated[int, typer.Option(help="Bars between evaluations (1 = every day; counted back from --end).")] = 5,
    filters_preset: Annotated[
        Optional[str],
        typer.Option("--filters", help="Qualification filters from the literature: project (default), lppls, sornette2015, gds2019."),
    ] = None,
    filter_: Annotated[
        Optional[list[str]],
        typer.Option("--filter", "-f", help="Override a qualification filter: key=value (repeatable), e.g. rel_err_max=0.1, m=0.1,0.9."),
    ] = None,
    sensitivity: Annotated[
        bool, typer.Option("--sensitivity", help="Also show the indicator under every filter preset, side by side (same fits).")
    ] = False,
    json_path: Annotated[Optional[Path], typer.Option("--json", help="Write the indicator as JSON to this file ('-' for stdout).")] = None,
    report_path: Annotated[
        Optional[Path],
        typer.Option(
            "--report",
            help="Write the report, format from the suffix: .html (self-contained page, works offline), .md (Markdown) or .png (figure).",
        ),
    ] = None,
    format_: TableFormat = "table",
    source: DataOptions.source = None,
    data_dir: DataOptions.data_dir = None,
    cache_dir: DataOptions.cache_dir = None,
    offline: DataOptions.offline = False,
) -> None:
    """Is it a bubble? The Sornette LPPLS confidence indicators of a ticker or a named series (e.g. the index of a ticker list)."""
    from shortthehype.bubble import bubble_indicator
    from shortthehype.constants import BUBBLE_THRESHOLD
    from shortthehype.data.source import PriceSource
    from shortthehype.lppls import lppls_windows
    from shortthehype.params import Param

    window_array = lppls_windows(*parse_windows(windows))
    filters = parse_filters(filter_ or [], filters_preset)
    end_day = Param("end", "date", None, "", optional=True).coerce(end, where="--end")
    start_day = Param("start", "date", None, "", optional=True).coerce(start, where="--start")
    if step < 1:
        raise ParamError(f"--step must be >= 1 bar, got {step}")
    if start_day is not None and end_day is not None and start_day > end_day:
        raise ParamError(f"--start {start_day:%Y-%m-%d} is after --end {end_day:%Y-%m-%d}")
    report_format = check_report_option(report_path)  # before the (possibly long) fits
    fmt = check_format(format_)
    if fmt != "table" and str(json_path) == "-":
        raise ParamError(f"--format {fmt} and --json - both print to stdout: write the JSON to a file")
    from shortthehype.cli.data_options import check_output_options

    check_output_options(json_path=json_path)
    indicator = bubble_indicator(
        ticker, start=start_day, end=end_day, windows=window_array, step=step, filters=filters,
        preset=filters_preset or "project", sensitivity=sensitivity,
        prices_from=PriceSource.from_options(source, data_dir, cache_dir, offline),
    )
    document, frame, name, presets = indicator.document, indicator.frame, indicator.name, indicator.sensitivity
    qualification = indicator.qualification
    if json_path is not None and str(json_path) == "-":
        typer.echo(json.dumps(document, indent=1))
        if report_path is not None:
            write_bubble_report(document, report_path, report_format, quiet=True)
        return
    from shortthehype.cli.render import print_caveats

    out = console if fmt == "table" else err_console
    print_caveats(document.get("caveats") or [], out)
    render_indicator(name, frame, window_array, step, fmt)
    out.print(qualification_text(qualification, filters_preset or "project"), highlight=False)
    if presets is not None:
        render_sensitivity(presets, BUBBLE_THRESHOLD, fmt)
    first = indicator.first_fitted()  # the fits look back up to the longest window before the first evaluation
    if first is not None:
        print_warnings(in_window(indicator.prices.warnings, first, frame.index[-1]))
    if json_path is not None:
        from shortthehype.cli.data_options import write_json

        write_json(document, json_path)
        (console if fmt == "table" else err_console).print(f"wrote {json_path}", highlight=False)
    if report_path is not None:
        write_bubble_report(document, report_path, report_format, quiet=fmt != "table")


def qualification_text(counts: Mapping[str, Any], preset: str) -> str:
    """One line: fits, qualified fits (bubbles / anti-bubbles) and the fits each condition rejected."""
    rejected = ", ".join(f"{k} {v:,}" for k, v in counts["rejected"].items())
    return (
        f"filters {preset}: {counts['fits']:,} fits, {counts['qualified']:,} qualified "
        f"(bubble {counts['qualified_bubble']:,}, anti-bubble {counts['qualified_antibubble']:,}); "
        f"rejected by {rejected} (a fit can fail several)"
    )


def render_sensitivity(presets: Mapping[str, Any], threshold: float, fmt: str = "table") -> None:
    """The indicator under every filter preset, side by side (never truncated; CSV/JSON/Markdown with --format)."""
    import numpy as np

    from shortthehype.cli.render import Cell, Column, Grid, print_grids

    headers = ("preset", "latest bubble", "max bubble", f"dates with bubble >= {threshold:.0%}", "max anti-bubble", "qualified / fits")
    grid = Grid([Column(h, right=h != "preset") for h in headers], title="the indicator under every filter preset (same fits)",
                key="sensitivity")
    for key, value in presets.items():
        bubble = np.asarray(value["bubble"], dtype=np.float64)
        anti = np.asarray(value["antibubble"], dtype=np.float64)
        counts = value["qualification"]
        finite = bubble[np.isfinite(bubble)]
        grid.add_row(
            key,
            _pct(bubble[-1]) if bubble.size else "—",
            _pct(np.nanmax(bubble)) if finite.size else "—",
            Cell(f"{int((finite >= threshold).sum()):,} of {finite.size:,}", int((finite >= threshold).sum())),
            _pct(np.nanmax(anti)) if np.isfinite(anti).any() else "—",
            Cell(f"{counts['qualified']:,} / {counts['fits']:,}", counts["qualified"]),
        )
    print_grids([grid], fmt, console if fmt == "table" else None)


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
