"""``shortthehype backtest`` and ``shortthehype strategies``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from shortthehype.cli import app, console, styled
from shortthehype.cli.options import DataOptions, check_output_options, data_options, run_overrides, write_json

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
        typer.Option("--format", "-f", help="Report format, html or md; without --report, md prints a Markdown summary instead of the table."),
    ] = None,
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
    from shortthehype.runner import backtest as run_backtest
    from shortthehype.cli.render import stats_table

    overrides = run_overrides(set_, start, end)
    options = data_options(source, data_dir, cache_dir, offline)
    wants_document = json_path is not None or report_path is not None or png is not None or format_ is not None
    fmt = None
    json_to_stdout = json_path is not None and str(json_path) == "-"
    if wants_document:  # check the output options before the (possibly long) run
        from shortthehype.errors import ParamError
        from shortthehype.report import resolve_format

        fmt = resolve_format(format_, report_path)
        if report_path is None and format_ == "html":
            raise ParamError("--format html writes a file: add --report PATH")
        if json_to_stdout and report_path is None and fmt == "md":
            raise ParamError("--json - and --format md both print to stdout: write one of them to a file")
        check_output_options(json_path=json_path, report_path=report_path)
    if check_lookahead:
        _check_lookahead(spec, overrides, options, quiet=json_to_stdout or (report_path is None and fmt == "md"))
    run = run_backtest(spec, overrides=overrides, **options)
    document = None
    if wants_document:
        from shortthehype.cli.report_cmd import write_outputs
        from shortthehype.report import render, report_document

        md_to_stdout = report_path is None and fmt == "md"
        document = report_document(run, **options)
        if json_to_stdout or md_to_stdout:
            typer.echo(json.dumps(document, indent=1) if json_to_stdout else render(document, "md"), nl=json_to_stdout)
            if json_path is not None and not json_to_stdout:
                write_json(document, json_path)
            write_outputs(document, report_path=report_path, png=png, format_=fmt, quiet=True)
            return
    columns = {run.spec.name: run.stats}
    benchmark_stats = run.benchmark_stats()
    if benchmark_stats is not None:
        columns[f"{run.spec.run['benchmark']} (buy & hold)"] = benchmark_stats
    title = f"{run.spec.name}: {run.start:%Y-%m-%d} → {run.end:%Y-%m-%d}, final equity {run.result.equity.iloc[-1]:,.0f}"
    console.print(stats_table(columns, title=title, bankrupt={run.spec.name} if run.result.bankrupt else ()))
    for warning in run.warnings:
        console.print(styled("data warning:", "yellow", " " + warning), highlight=False)
    events = run.result.events
    if len(events):
        console.print(f"{len(events)} event(s): " + ", ".join(f"{k} ×{n}" for k, n in events["kind"].value_counts().items()))
    if json_path is not None:
        write_json(document, json_path)
        console.print(f"wrote {json_path}", highlight=False)
    if document is not None:
        write_outputs(document, report_path=report_path, png=png, format_=fmt)


def _check_lookahead(spec: str, overrides: dict[str, str], options: dict[str, Any], *, quiet: bool = False) -> None:
    """The look-ahead check of ``spec``: one line when it passes, a SpecError (exit 1) naming the moved target otherwise."""
    from shortthehype.cli import err_console
    from shortthehype.errors import SpecError
    from shortthehype.runner import check_lookahead
    from shortthehype.spec import load_spec

    loaded = load_spec(spec)
    report = check_lookahead(loaded, overrides=overrides, **options)
    if not report.ok:
        raise SpecError(report.message(loaded.where))
    (err_console if quiet else console).print(report.message(loaded.where), highlight=False)


@strategies_app.command("list")
def strategies_list() -> None:
    """List the strategy specs found (name, kind, file); reads the spec files only, never runs a strategy's code."""
    from rich.table import Table

    from shortthehype.errors import ShortTheHypeError
    from shortthehype.spec import available_specs, read_spec_summary

    table = Table(header_style="bold")
    for column in ("name", "kind", "file", "description"):
        table.add_column(column)
    for name, path in available_specs().items():
        try:
            summary = read_spec_summary(path)
        except ShortTheHypeError as exc:  # one broken spec must not hide the others
            table.add_row(name, "?", str(path), styled("invalid:", "red", " " + str(exc)))
            continue
        table.add_row(summary.name, summary.kind, str(path), summary.description.splitlines()[0] if summary.description else "")
    console.print(table)


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
    _check_lookahead(target, run_overrides(set_, start, end), data_options(source, data_dir, cache_dir, offline))


@strategies_app.command("show")
def strategies_show(spec: Annotated[str, typer.Argument(help="Spec file or name.")]) -> None:
    """Show a spec's settings with their meaning, unit and default sweep ranges."""
    from rich.table import Table

    from shortthehype.params import format_value
    from shortthehype.spec import load_spec

    loaded = load_spec(spec)
    console.print(styled(loaded.name, "bold", f" ({loaded.kind.name}) — {loaded.path}"), highlight=False)
    if loaded.description:
        console.print(loaded.description, highlight=False)
    table = Table(header_style="bold")
    for column in ("setting", "value", "unit", "sweep", "meaning"):
        table.add_column(column, overflow="fold")
    values = loaded.values()
    for name, (_, param) in loaded.schema().items():
        sweep = format_value(loaded.sweep[name]) if name in loaded.sweep else ""
        table.add_row(name, format_value(values[name]), param.unit, sweep, param.doc)
    console.print(table)


app.add_typer(strategies_app, name="strategies")


@app.command()
def compare(
    specs: Annotated[list[str], typer.Argument(help="Spec files or names (two or more).")],
    set_: Annotated[
        Optional[list[str]], typer.Option("--set", "-s", help="Override a setting in every spec: key=value (repeatable).")
    ] = None,
    start: Annotated[Optional[str], typer.Option(help="First day (default: the latest of the specs' starts).")] = None,
    end: Annotated[Optional[str], typer.Option(help="Last day (default: the earliest of the specs' ends).")] = None,
    json_path: Annotated[Optional[Path], typer.Option("--json", help="Write every run as JSON to this file ('-' for stdout).")] = None,
    report_path: Annotated[
        Optional[Path],
        typer.Option("--report", help="Write the comparison report to this file: one self-contained HTML page, or Markdown (.md or --format md)."),
    ] = None,
    png: Annotated[Optional[Path], typer.Option("--png", help="Write the comparison's main figures as PNG files into this directory.")] = None,
    format_: Annotated[Optional[str], typer.Option("--format", "-f", help="Report format: html or md (default: from the --report suffix).")] = None,
    source: DataOptions.source = None,
    data_dir: DataOptions.data_dir = None,
    cache_dir: DataOptions.cache_dir = None,
    offline: DataOptions.offline = False,
) -> None:
    """Run several strategies over the same window and print one table (or write their comparison report)."""
    from shortthehype.cli.render import stats_table
    from shortthehype.runner import compare as run_compare

    overrides = run_overrides(set_, start, end)
    from shortthehype.cli.report_cmd import write_outputs
    from shortthehype.report import report_document, resolve_format

    fmt = resolve_format(format_, report_path)  # checked before the runs
    check_output_options(json_path=json_path, report_path=report_path)
    options = data_options(source, data_dir, cache_dir, offline)
    runs = run_compare(specs, overrides=overrides, **options)
    document = {"type": "compare", "runs": [report_document(run, **options) for run in runs]}
    if json_path is not None and str(json_path) == "-":
        typer.echo(json.dumps(document, indent=1))
        write_outputs(document, report_path=report_path, png=png, format_=fmt, quiet=True)
        return
    first = runs[0]
    title = f"{len(runs)} strategies: {first.start:%Y-%m-%d} → {first.end:%Y-%m-%d}"
    bankrupt = {run.spec.name for run in runs if run.result.bankrupt}
    console.print(stats_table({run.spec.name: run.stats for run in runs}, title=title, bankrupt=bankrupt))
    for run in runs:
        if (run.start, run.end) != (first.start, first.end):
            console.print(f"note: {run.spec.name} ran {run.start:%Y-%m-%d} → {run.end:%Y-%m-%d}", highlight=False)
        for warning in run.warnings:
            console.print(styled(f"{run.spec.name}:", "yellow", " " + warning), highlight=False)
    if json_path is not None:
        write_json(document, json_path)
        console.print(f"wrote {json_path}", highlight=False)
    write_outputs(document, report_path=report_path, png=png, format_=fmt)
