"""``shortthehype backtest`` and ``shortthehype strategies``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from shortthehype.cli import app, console, err_console, styled
from shortthehype.cli.data_options import (
    AnalysisOptions,
    DataOptions,
    TableFormat,
    analysis_request,
    check_output_options,
    run_overrides,
    write_json,
)
from shortthehype.constants import BOOTSTRAP_BLOCK_LENGTH, BOOTSTRAP_SAMPLES, BOOTSTRAP_SEED
from shortthehype.data.source import PriceSource

strategies_app = typer.Typer(help="List and inspect strategy specs.", no_args_is_help=True)


@app.command()
def backtest(
    spec: Annotated[str, typer.Argument(help="Spec file (strategies/x.toml) or spec name (see `strategies list`).")],
    set_: Annotated[
        Optional[list[str]],
        typer.Option("--set", "-s", help="Override a setting: key=value (repeatable), e.g. --set fees=0.001 --set weights.SPY=0.5."),
    ] = None,
    start: Annotated[Optional[str], typer.Option(help="First day of the backtest (YYYY-MM-DD).")] = None,
    end: Annotated[Optional[str], typer.Option(help="Last day of the backtest (YYYY-MM-DD).")] = None,
    json_path: Annotated[Optional[Path], typer.Option("--json", help="Write the result as JSON to this file ('-' for stdout).")] = None,
    report_path: Annotated[
        Optional[Path],
        typer.Option("--report", help="Write the report to this file: one self-contained HTML page (works offline), or Markdown (.md or --format md)."),
    ] = None,
    png: Annotated[Optional[Path], typer.Option("--png", help="Write the main figures as PNG files into this directory.")] = None,
    format_: Annotated[
        Optional[str],
        typer.Option(
            "--format",
            "-f",
            help="table, csv, json or md: how the metrics are printed (md: the Markdown summary); with --report, html or md chooses the report's format.",
        ),
    ] = None,
    bootstrap: AnalysisOptions.bootstrap = False,
    vs: AnalysisOptions.vs = None,
    block_length: AnalysisOptions.block_length = BOOTSTRAP_BLOCK_LENGTH,
    samples: AnalysisOptions.samples = BOOTSTRAP_SAMPLES,
    bootstrap_seed: AnalysisOptions.seed = BOOTSTRAP_SEED,
    factors: AnalysisOptions.factors = None,
    exposures: AnalysisOptions.exposures = False,
    check_lookahead: Annotated[
        bool,
        typer.Option(
            "--check-lookahead",
            help="First rerun the strategy with a different future after several cut dates; refuse it if any earlier target moves.",
        ),
    ] = False,
    source: DataOptions.source = None,
    data_dir: DataOptions.data_dir = None,
    cache_dir: DataOptions.cache_dir = None,
    offline: DataOptions.offline = False,
) -> None:
    """Backtest one strategy spec and print its metrics beside its benchmark's (or write its report)."""
    from rich.text import Text

    from shortthehype.cli.notices import print_warnings
    from shortthehype.cli.render import options_grid, print_analysis, print_caveats, print_grids, stats_grid
    from shortthehype.runner import backtest as run_backtest

    overrides = run_overrides(set_, start, end)
    origin = PriceSource.from_options(source, data_dir, cache_dir, offline)
    table_format, fmt = output_formats(format_, report_path, json_path)  # checked before the (possibly long) run
    wants_document = json_path is not None or report_path is not None or png is not None or table_format == "md"
    request = analysis_request(bootstrap, vs, block_length, samples, bootstrap_seed, factors)  # checked before the run
    check_output_options(json_path=json_path, report_path=report_path)
    if check_lookahead:
        _check_lookahead(spec, overrides, origin, quiet=not stdout_is_free(json_path, report_path) or table_format != "table")
    run = run_backtest(spec, overrides=overrides, prices_from=origin)
    out = console if stdout_is_free(json_path, report_path) else err_console
    print_warnings(run.spec.warnings())
    show_factors = exposures or bool(request["extra_factors"])
    analysis: dict = {}
    if wants_document or show_factors or bootstrap or vs is not None:
        from shortthehype.analysis import analysis_sections

        analysis = analysis_sections([run], factors=wants_document or show_factors, **request, prices_from=origin)[0]
    document = None
    if wants_document:
        from shortthehype.report import render, report_document

        document = {**report_document(run, prices_from=origin), **analysis}
        if str(json_path) == "-":
            typer.echo(json.dumps(document, indent=1))
        elif table_format == "md" and report_path is None:
            typer.echo(render(document, "md"), nl=False)
    if table_format != "md" or report_path is not None:
        print_caveats(run.caveats, out)
        columns = {run.spec.name: run.stats}
        benchmark_stats = run.benchmark_stats()
        if benchmark_stats is not None:
            columns[f"{run.spec.run['benchmark']} (buy & hold)"] = benchmark_stats
        title = f"{run.spec.name}: {run.start:%Y-%m-%d} → {run.end:%Y-%m-%d}, final equity {run.result.equity.iloc[-1]:,.0f}"
        grids = [stats_grid(columns, title=title, bankrupt={run.spec.name} if run.result.bankrupt else ())] + ([options_grid(run.options)] if run.options else [])
        print_grids(grids, table_format if table_format != "md" else "table", out)
        if run.options and table_format in ("table", "md"):
            out.print(
                "paid/value per share after slippage; premium = shares x paid (fees excluded); P&L net of fees (an open "
                "contract at its last mark); delta exposure = delta x shares x spot / equity at entry",
                highlight=False,
            )
        print_analysis(run.spec.name, analysis, factors=show_factors, bootstrap=bootstrap or vs is not None, out=out)
    print_warnings(run.warnings)
    notes_out = out if table_format == "table" else err_console  # stdout carries only the CSV/JSON/Markdown
    for name, label in run.rates.items():
        notes_out.print(Text(f"{name}: {label}"), highlight=False, soft_wrap=True)
    print_events(run.result.events, out if table_format == "table" else err_console)
    if document is not None:
        quiet = out is err_console or table_format != "table"
        write_document_outputs(document, json_path=json_path, report_path=report_path, png=png, format_=fmt, quiet=quiet)


def output_formats(format_: str | None, report_path: Path | None, json_path: Path | None) -> tuple[str, str | None]:
    """``--format`` split into the table's format and the report's (html/md, None without a report); one-line errors."""
    from shortthehype.cli.render import check_format
    from shortthehype.errors import ParamError
    from shortthehype.report import resolve_format

    if format_ is not None and format_.lower() == "html":
        if report_path is None:
            raise ParamError("--format html writes a file: add --report PATH")
        return "table", "html"
    table_format = check_format(format_)
    report_format = resolve_format(format_ if table_format == "md" else None, report_path) if report_path is not None else None
    to_stdout = [name for name, used in (
        ("--json -", str(json_path) == "-"),
        ("--report -", str(report_path) == "-"),
        (f"--format {table_format}", table_format != "table" and report_path is None),
    ) if used]
    if len(to_stdout) > 1:
        both = "both" if len(to_stdout) == 2 else "all"
        raise ParamError(f"{' and '.join(to_stdout)} {both} print to stdout: write all but one of them to a file")
    return table_format, report_format


def stdout_is_free(json_path: Path | None, report_path: Path | None) -> bool:
    """False when stdout carries a document (``--json -``, ``--report -``): the table then goes to stderr."""
    return str(json_path) != "-" and str(report_path) != "-"


def print_events(events: Any, out: Any) -> None:
    """Margin calls, bankruptcy, liquidations ... with their dates, one line each."""
    from rich.text import Text

    if not len(events):
        return
    out.print(f"{len(events)} event(s):", highlight=False)
    for row in events.itertuples(index=False):
        ticker = f" {row.ticker}" if isinstance(row.ticker, str) else ""
        out.print(Text(f"  {row.date:%Y-%m-%d} {row.kind}{ticker}: {row.detail}"), highlight=False, soft_wrap=True)


def write_document_outputs(
    document: Any, *, json_path: Path | None, report_path: Path | None, png: Path | None, format_: str | None, quiet: bool
) -> None:
    """``--json FILE``, ``--report PATH|-`` and ``--png DIR`` of one document (``--json -`` is printed by the caller).

    The "wrote ..." lines go to stderr when ``quiet`` (stdout carries a document or a CSV/JSON/Markdown table).
    """
    from shortthehype.cli.report_cmd import write_outputs

    if json_path is not None and str(json_path) != "-":
        write_json(document, json_path)
        (err_console if quiet else console).print(f"wrote {json_path}", highlight=False)
    write_outputs(document, report_path=report_path, png=png, format_=format_, quiet=quiet)


def _check_lookahead(spec: str, overrides: dict[str, str], prices_from: PriceSource, *, quiet: bool = False) -> None:
    """The look-ahead check of ``spec``: one line when it passes, a SpecError (exit 1) naming the moved target otherwise."""
    from shortthehype.cli import err_console
    from shortthehype.errors import SpecError
    from shortthehype.runner import check_lookahead
    from shortthehype.spec import load_spec

    loaded = load_spec(spec)
    report = check_lookahead(loaded, overrides=overrides, prices_from=prices_from)
    if not report.ok:
        raise SpecError(report.message(loaded.where))
    (err_console if quiet else console).print(report.message(loaded.where), highlight=False)


@strategies_app.command("list")
def strategies_list(format_: TableFormat = "table") -> None:
    """List the strategy specs found (name, kind, file)."""
    from shortthehype.cli.render import Cell, Column, Grid, check_format, print_grids
    from shortthehype.errors import ShortTheHypeError
    from shortthehype.spec import available_specs, read_spec_summary

    fmt = check_format(format_)
    grid = Grid([Column("name"), Column("kind"), Column("file", wrap=True), Column("description", wrap=True)], key="strategies")
    for name, path in available_specs().items():
        try:
            summary = read_spec_summary(path)
        except ShortTheHypeError as exc:  # one broken spec must not hide the others
            grid.add_row(name, "?", str(path), Cell(f"invalid: {exc}", style="red"))
            continue
        grid.add_row(summary.name, summary.kind, str(path), summary.description.splitlines()[0] if summary.description else "")
    print_grids([grid], fmt)


@strategies_app.command("check")
def strategies_check(
    spec: Annotated[str, typer.Argument(help="Spec file or name, or a strategy's .py file (its PARAMS defaults are used).")],
    set_: Annotated[Optional[list[str]], typer.Option("--set", "-s", help="Override a setting: key=value (repeatable).")] = None,
    start: Annotated[Optional[str], typer.Option(help="First day (YYYY-MM-DD).")] = None,
    end: Annotated[Optional[str], typer.Option(help="Last day of the prices checked (YYYY-MM-DD).")] = None,
    source: DataOptions.source = None,
    data_dir: DataOptions.data_dir = None,
    cache_dir: DataOptions.cache_dir = None,
    offline: DataOptions.offline = False,
) -> None:
    """Check a strategy for look-ahead: rerun it with a different future after several cut dates (exit 1 if a target moves)."""
    target: Any = spec
    if spec.endswith(".py"):
        target = {"name": Path(spec).stem, "kind": "python", "params": {"file": str(Path(spec).resolve())}}
    _check_lookahead(target, run_overrides(set_, start, end), PriceSource.from_options(source, data_dir, cache_dir, offline))


@strategies_app.command("show")
def strategies_show(spec: Annotated[str, typer.Argument(help="Spec file or name.")], format_: TableFormat = "table") -> None:
    """Show a spec's settings with their meaning, unit and default sweep ranges."""
    from rich.text import Text

    from shortthehype.cli.render import Cell, Column, Grid, check_format, print_grids
    from shortthehype.params import format_value, json_value
    from shortthehype.spec import load_spec

    fmt = check_format(format_)
    loaded = load_spec(spec)
    if fmt == "table":
        console.print(Text.assemble((loaded.name, "bold"), f" ({loaded.kind.name}) — {loaded.path}"), highlight=False)
        if loaded.description:
            console.print(Text(loaded.description), highlight=False)
    grid = Grid(
        [Column("setting"), Column("value", wrap=True), Column("unit", wrap=True), Column("sweep", wrap=True), Column("meaning", wrap=True)],
        key="settings",
    )
    values = loaded.values()
    inactive = loaded.inactive()
    for name, (_, param) in loaded.schema().items():
        sweep = Cell(format_value(loaded.sweep[name]), json_value(loaded.sweep[name])) if name in loaded.sweep else Cell("", None)
        meaning = param.doc
        if param.applies:
            meaning += f" Applies only when {param.describe_applies()}."
        if param.moves_window:
            meaning += " Moves the backtest's start with it unless start is set too."
        value = format_value(values[name]) + (" (does not apply)" if name in inactive else "")
        grid.add_row(name, Cell(value, json_value(values[name])), param.unit, sweep, meaning)
    print_grids([grid], fmt)


app.add_typer(strategies_app, name="strategies")


@app.command()
def compare(
    specs: Annotated[list[str], typer.Argument(help="Spec files or names (two or more).")],
    set_: Annotated[
        Optional[list[str]],
        typer.Option(
            "--set",
            "-s",
            help="Override a setting: key=value for every spec, NAME.key=value for the spec called NAME only (repeatable).",
        ),
    ] = None,
    start: Annotated[Optional[str], typer.Option(help="First day (default: the latest of the specs' starts).")] = None,
    end: Annotated[Optional[str], typer.Option(help="Last day (default: the earliest of the specs' ends, after their data limits).")] = None,
    benchmark: Annotated[
        Optional[str],
        typer.Option(help="Benchmark of every column, for beta, alpha and the buy-and-hold column (default: the first spec's)."),
    ] = None,
    json_path: Annotated[Optional[Path], typer.Option("--json", help="Write every run as JSON to this file ('-' for stdout).")] = None,
    report_path: Annotated[
        Optional[Path],
        typer.Option("--report", help="Write the comparison report to this file: one self-contained HTML page, or Markdown (.md or --format md)."),
    ] = None,
    png: Annotated[Optional[Path], typer.Option("--png", help="Write the comparison's main figures as PNG files into this directory.")] = None,
    format_: Annotated[
        Optional[str],
        typer.Option("--format", "-f", help="table, csv, json or md: how the table is printed; with --report, html or md chooses the report's format."),
    ] = None,
    bootstrap: AnalysisOptions.bootstrap = False,
    vs: AnalysisOptions.vs = None,
    block_length: AnalysisOptions.block_length = BOOTSTRAP_BLOCK_LENGTH,
    samples: AnalysisOptions.samples = BOOTSTRAP_SAMPLES,
    bootstrap_seed: AnalysisOptions.seed = BOOTSTRAP_SEED,
    factors: AnalysisOptions.factors = None,
    exposures: AnalysisOptions.exposures = False,
    source: DataOptions.source = None,
    data_dir: DataOptions.data_dir = None,
    cache_dir: DataOptions.cache_dir = None,
    offline: DataOptions.offline = False,
) -> None:
    """Run several strategies over one common window against one benchmark and print one table.

    The window is the latest of the specs' starts and the earliest of their
    ends, taken after each spec's own data limits are known (a traded ticker
    whose data stop early ends every column there).
    """
    from rich.text import Text

    from shortthehype.analysis import analysis_sections
    from shortthehype.cli.notices import print_warnings
    from shortthehype.cli.render import print_analysis, print_caveats, print_grids, stats_grid
    from shortthehype.report import report_document
    from shortthehype.runner import compare as run_compare

    overrides = run_overrides(set_, start, end)
    table_format, fmt = output_formats(format_, report_path, json_path)  # checked before the runs
    check_output_options(json_path=json_path, report_path=report_path)
    origin = PriceSource.from_options(source, data_dir, cache_dir, offline)
    request = analysis_request(bootstrap, vs, block_length, samples, bootstrap_seed, factors)
    runs = run_compare(specs, overrides=overrides, benchmark=benchmark.upper() if benchmark else None, prices_from=origin)
    print_warnings([line for run in runs for line in run.spec.warnings()])
    show_factors = exposures or bool(request["extra_factors"])
    analysis = analysis_sections(runs, factors=True, **request, prices_from=origin)
    document = {"type": "compare", "runs": [{**report_document(run, prices_from=origin), **extra} for run, extra in zip(runs, analysis, strict=True)]}
    if str(json_path) == "-":
        typer.echo(json.dumps(document, indent=1))
    out = console if stdout_is_free(json_path, report_path) else err_console
    print_caveats([line for run in runs for line in run.caveats], out)
    first = runs[0]
    bench = first.spec.run.get("benchmark")
    title = f"{len(runs)} strategies: {first.start:%Y-%m-%d} → {first.end:%Y-%m-%d}"
    columns = {run.spec.name: run.stats for run in runs}
    if bench:
        title += f"; beta, alpha, correlation and information ratio against {bench}"
        columns[f"{bench} (buy & hold)"] = first.benchmark_stats()
    bankrupt = {run.spec.name for run in runs if run.result.bankrupt}
    print_grids([stats_grid(columns, title=title, bankrupt=bankrupt)], table_format, out)
    for run, extra in zip(runs, analysis, strict=True):
        print_analysis(run.spec.name, extra, factors=show_factors, bootstrap=bootstrap or vs is not None, out=out)
    for key in ("cash_rate", "sharpe_risk_free"):
        for label in dict.fromkeys(run.rates.get(key, "") for run in runs):
            if not label:
                continue
            names = ", ".join(run.spec.name for run in runs if run.rates.get(key, "") == label)
            (out if table_format == "table" else err_console).print(Text(f"{key} ({names}): {label}"), highlight=False, soft_wrap=True)
    for run in runs:
        if (run.start, run.end) != (first.start, first.end):
            err_console.print(f"note: {run.spec.name} ran {run.start:%Y-%m-%d} → {run.end:%Y-%m-%d}", highlight=False)
        print_warnings(run.warnings, about=run.spec.name)
    quiet = out is err_console or table_format != "table"
    write_document_outputs(document, json_path=json_path, report_path=report_path, png=png, format_=fmt, quiet=quiet)
