"""``shortthehype rolling`` and ``shortthehype montecarlo``: distributions of a strategy's outcome."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from shortthehype.cli import app, console, err_console
from shortthehype.cli.data_options import DataOptions, TableFormat
from shortthehype.data.source import PriceSource
from shortthehype.cli.render import print_caveats
from shortthehype.cli.sweep_cmd import report_table_format
from shortthehype.constants import MONTECARLO_DEFAULT_PATHS, MONTECARLO_DEFAULT_SEED, STUDY_DEFAULT_EVERY, STUDY_DEFAULT_HOLD

SetOption = Annotated[
    Optional[list[str]], typer.Option("--set", "-s", help="Override a setting of the spec: key=value (repeatable).")
]
OutOption = Annotated[Optional[Path], typer.Option("--out", help="Write one row per run to this Parquet file.")]
JsonOption = Annotated[Optional[Path], typer.Option("--json", help="Write the study as JSON to this file ('-' for stdout).")]
ReportOption = Annotated[
    Optional[Path],
    typer.Option("--report", help="Write the report: HTML (return of every run, histogram) or Markdown (.md)."),
]


def _check_outputs(out: Path | None, report_path: Path | None) -> str | None:
    """Check the output paths before the (possibly long) study; returns the report format."""
    from shortthehype.errors import ParamError
    from shortthehype.report import check_report_path, resolve_format

    if out is not None:
        if out.suffix.lower() != ".parquet":
            raise ParamError(f"--out {out}: the rows are written as Parquet; give a .parquet file")
        check_report_path(out, option="--out")
    if report_path is None:
        return None
    fmt = resolve_format(None, report_path)
    if str(report_path) != "-":
        check_report_path(report_path, option="--report")
    return fmt


def _table_format(format_: str, json_path: Path | None, report_path: Path | None) -> str:
    """``--format`` checked against the outputs that also print to stdout (``--json -``, ``--report -``)."""
    from shortthehype.errors import ParamError

    table_format = report_table_format(format_, report_path)
    if json_path is not None and str(json_path) == "-" and table_format != "table":
        raise ParamError(f"--format {table_format} and --json - both print to stdout: write the JSON to a file")
    return table_format


def emit_study(
    study: Any, *, out: Path | None, json_path: Path | None, report_path: Path | None, fmt: str | None,
    table_format: str = "table",
) -> None:
    """Print a study's caveats and distribution table (as ``table_format``: the terminal's table, CSV, JSON or
    Markdown on stdout, the rest then on stderr), and write the files asked for."""
    from shortthehype.cli.render import Cell, Column, Grid, print_grids
    from shortthehype.cli.report_cmd import write_outputs
    from shortthehype.report import formatting
    from shortthehype.report.distribution_view import SUMMARY_LABELS, summary_cell

    document = json.loads(json.dumps(study.to_document()))
    if json_path is not None and str(json_path) == "-":
        typer.echo(json.dumps(document, indent=1))
        if out is not None:
            study.to_parquet(out)
        write_outputs(document, report_path=report_path, png=None, format_=fmt, quiet=True)
        return
    to_stderr = report_path is not None and str(report_path) == "-"  # stdout carries the report
    text = console if table_format == "table" and not to_stderr else err_console  # a machine format keeps stdout
    print_caveats(study.caveats, text)
    summary = study.summary()
    settings = ", ".join(f"{k} {formatting.param_text(v)}" for k, v in document["settings"].items())
    grid = Grid(
        [Column("statistic"), *(Column(formatting.stat_label(m), right=True, key=m) for m in summary.columns)],
        title=f"{study.strategy} ({study.kind}): {settings}", key="distribution",
    )
    for statistic, label in SUMMARY_LABELS.items():
        values = [summary.at[statistic, m] for m in summary.columns]
        if statistic == "count":  # a count is a whole number in CSV and JSON too
            values = [int(v) for v in values]
        grid.add_row(Cell(label, statistic), *(Cell(summary_cell(m, statistic, v), v) for m, v in zip(summary.columns, values)))
    print_grids([grid], table_format, err_console if to_stderr else console)
    for note in study.notes:
        text.print(f"note: {note}", highlight=False)
    if out is not None:
        study.to_parquet(out)
        text.print(f"wrote {out}", highlight=False)
    if json_path is not None:
        from shortthehype.report import write_atomically

        write_atomically(json_path, json.dumps(document, indent=1), option="--json")
        text.print(f"wrote {json_path}", highlight=False)
    write_outputs(document, report_path=report_path, png=None, format_=fmt, quiet=text is err_console)


@app.command()
def rolling(
    spec: Annotated[str, typer.Argument(help="Spec file or name.")],
    every: Annotated[str, typer.Option(help="Spacing of the entry dates: 1m, 2w, 1y (calendar) or 21d (trading days).")] = STUDY_DEFAULT_EVERY,
    hold: Annotated[str, typer.Option(help="How long each entry is held: 12m, 1y, 26w or 252d.")] = STUDY_DEFAULT_HOLD,
    from_: Annotated[
        Optional[str],
        typer.Option("--from", help="First entry date (default: the first day every ticker of the spec has a price)."),
    ] = None,
    to: Annotated[Optional[str], typer.Option("--to", help="Last entry date (default: the latest whose hold fits in the data).")] = None,
    set_: SetOption = None,
    out: OutOption = None,
    json_path: JsonOption = None,
    report_path: ReportOption = None,
    source: DataOptions.source = None,
    data_dir: DataOptions.data_dir = None,
    cache_dir: DataOptions.cache_dir = None,
    offline: DataOptions.offline = False,
    path: Annotated[
        str, typer.Option("--path", help="auto (every entry in one parallel kernel call when it can run), fused or generic (one backtest per entry).")
    ] = "auto",
    format_: TableFormat = "table",
) -> None:
    """Entry-date study: run the spec from every entry date (its entry dates shifted together), one row per entry.

    Prints the distribution of total return, CAGR, max drawdown and Sharpe
    (median, quartiles, 5 %/95 %, share positive, worst); --out writes every
    row to Parquet, --report the HTML with the return by entry date and its
    histogram.  Each row equals `backtest SPEC --start ENTRY --end EXIT`
    (with the kind's entry dates moved along, see `strategies show`).
    """
    from shortthehype.spec import parse_assignments
    from shortthehype.studies import rolling as run_rolling

    fmt = _check_outputs(out, report_path)
    table_format = _table_format(format_, json_path, report_path)
    study = run_rolling(
        spec, every=every, hold=hold, first=from_, last=to, overrides=parse_assignments(set_ or []),
        prices_from=PriceSource.from_options(source, data_dir, cache_dir, offline), path=path,
    )
    emit_study(study, out=out, json_path=json_path, report_path=report_path, fmt=fmt, table_format=table_format)


@app.command()
def montecarlo(
    spec: Annotated[str, typer.Argument(help="Spec file or name (the essay's specs are mapped onto the synthetic tickers).")],
    paths: Annotated[int, typer.Option(help="Number of synthetic markets.")] = MONTECARLO_DEFAULT_PATHS,
    seed: Annotated[int, typer.Option(help="Seed: the same seed gives the same rows, bit for bit.")] = MONTECARLO_DEFAULT_SEED,
    scenario: Annotated[
        Optional[list[str]],
        typer.Option(
            "--scenario",
            help="A drawn range key=low:high (peak, run_up, crash_depth, crash_days) or a fixed value key=value (repeatable).",
        ),
    ] = None,
    set_: SetOption = None,
    workers: Annotated[Optional[int], typer.Option(help="Processes (default: every CPU when the run is long, else 1).")] = None,
    out: OutOption = None,
    json_path: JsonOption = None,
    report_path: ReportOption = None,
    path: Annotated[
        str, typer.Option("--path", help="auto (batches of paths in parallel kernel calls when it can run), fused or generic (one backtest per path).")
    ] = "auto",
    format_: TableFormat = "table",
) -> None:
    """Monte Carlo over synthetic bubble paths: the spec on N generated markets, one row per path.

    Each path draws its bubble's peak date, run-up, crash depth and crash
    duration from ranges (defaults: peak 2025-01-02..2027-06-30, run-up
    +80..+250 %, crash 40..85 %, 120..500 trading days); the essay's tickers
    are mapped onto the synthetic ones as in the demo.  Prints the same
    distribution table as `rolling`; every output is labelled SYNTHETIC.
    """
    from shortthehype.montecarlo import montecarlo as run_montecarlo
    from shortthehype.spec import parse_assignments

    fmt = _check_outputs(out, report_path)
    table_format = _table_format(format_, json_path, report_path)
    items = {}
    for item in scenario or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            from shortthehype.errors import ParamError

            raise ParamError(f"--scenario {item!r} is not key=value or key=low:high")
        items[key.strip()] = value.strip()
    study = run_montecarlo(spec, paths=paths, seed=seed, scenario=items, overrides=parse_assignments(set_ or []), workers=workers,
                           path=path)
    emit_study(study, out=out, json_path=json_path, report_path=report_path, fmt=fmt, table_format=table_format)
