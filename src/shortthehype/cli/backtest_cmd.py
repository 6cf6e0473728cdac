"""``shortthehype backtest`` and ``shortthehype strategies``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape

from shortthehype.cli import app, console
from shortthehype.cli.options import AnalysisOptions, DataOptions, analysis_request, data_options, run_overrides
from shortthehype.constants import BOOTSTRAP_BLOCK_LENGTH, BOOTSTRAP_SAMPLES, BOOTSTRAP_SEED
from shortthehype.cli.render import print_analysis, print_caveats

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
    request = analysis_request(bootstrap, vs, block_length, samples, bootstrap_seed, factors)  # checked before the run
    run = run_backtest(spec, overrides=overrides, **options)
    show_factors = exposures or bool(request["extra_factors"])
    analysis: dict = {}
    if wants_document or show_factors or bootstrap or vs is not None:
        from shortthehype.analysis import analysis_sections

        analysis = analysis_sections([run], factors=wants_document or show_factors, **request, **options)[0]
    document = None
    if wants_document:
        from shortthehype.cli.report_cmd import write_outputs
        from shortthehype.report import render, report_document

        md_to_stdout = report_path is None and fmt == "md"
        document = {**report_document(run, **options), **analysis}
        if json_to_stdout or md_to_stdout:
            typer.echo(json.dumps(document, indent=1) if json_to_stdout else render(document, "md"), nl=json_to_stdout)
            if json_path is not None and not json_to_stdout:
                json_path.write_text(json.dumps(document, indent=1))
            write_outputs(document, report_path=report_path, png=png, format_=fmt, quiet=True)
            return
    print_caveats(run.caveats)
    columns = {run.spec.name: run.stats}
    benchmark_stats = run.benchmark_stats()
    if benchmark_stats is not None:
        columns[f"{run.spec.run['benchmark']} (buy & hold)"] = benchmark_stats
    title = f"{run.spec.name}: {run.start:%Y-%m-%d} → {run.end:%Y-%m-%d}, final equity {run.result.equity.iloc[-1]:,.0f}"
    console.print(stats_table(columns, title=title))
    print_analysis(run.spec.name, analysis, factors=show_factors, bootstrap=bootstrap or vs is not None)
    for warning in run.warnings:
        console.print(f"[yellow]data warning:[/] {escape(warning)}", highlight=False)
    events = run.result.events
    if len(events):
        console.print(f"{len(events)} event(s): " + ", ".join(f"{k} ×{n}" for k, n in events["kind"].value_counts().items()))
    if json_path is not None:
        json_path.write_text(json.dumps(document, indent=1))
        console.print(f"wrote {json_path}")
    if document is not None:
        write_outputs(document, report_path=report_path, png=png, format_=fmt)


@strategies_app.command("list")
def strategies_list() -> None:
    """List the strategy specs found (name, kind, file)."""
    from rich.table import Table

    from shortthehype.errors import ShortTheHypeError
    from shortthehype.spec import available_specs, load_spec

    table = Table(header_style="bold")
    for column in ("name", "kind", "file", "description"):
        table.add_column(column)
    for name, path in available_specs().items():
        try:
            spec = load_spec(path)
        except ShortTheHypeError as exc:  # one broken spec must not hide the others
            table.add_row(name, "?", str(path), f"[red]invalid:[/] {escape(str(exc))}")
            continue
        table.add_row(spec.name, spec.kind.name, str(path), spec.description.splitlines()[0] if spec.description else "")
    console.print(table)


@strategies_app.command("show")
def strategies_show(spec: Annotated[str, typer.Argument(help="Spec file or name.")]) -> None:
    """Show a spec's settings with their meaning, unit and default sweep ranges."""
    from rich.table import Table

    from shortthehype.params import format_value
    from shortthehype.spec import load_spec

    loaded = load_spec(spec)
    console.print(f"[bold]{loaded.name}[/] ({loaded.kind.name}) — {loaded.path}")
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
    format_: Annotated[Optional[str], typer.Option("--format", "-f", help="Report format: html or md (default: from the --report suffix).")] = None,
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
    from shortthehype.cli.render import stats_table
    from shortthehype.runner import compare as run_compare

    overrides = run_overrides(set_, start, end)
    from shortthehype.cli.report_cmd import write_outputs
    from shortthehype.report import report_document, resolve_format

    fmt = resolve_format(format_, report_path)  # checked before the runs
    options = data_options(source, data_dir, cache_dir, offline)
    request = analysis_request(bootstrap, vs, block_length, samples, bootstrap_seed, factors)
    runs = run_compare(specs, overrides=overrides, benchmark=benchmark.upper() if benchmark else None, **options)
    from shortthehype.analysis import analysis_sections

    show_factors = exposures or bool(request["extra_factors"])
    analysis = analysis_sections(runs, factors=True, **request, **options)
    document = {"type": "compare", "runs": [{**report_document(run, **options), **extra} for run, extra in zip(runs, analysis, strict=True)]}
    if json_path is not None and str(json_path) == "-":
        typer.echo(json.dumps(document, indent=1))
        write_outputs(document, report_path=report_path, png=png, format_=fmt, quiet=True)
        return
    print_caveats([line for run in runs for line in run.caveats])
    first = runs[0]
    bench = first.spec.run.get("benchmark")
    title = f"{len(runs)} strategies: {first.start:%Y-%m-%d} → {first.end:%Y-%m-%d}"
    columns = {run.spec.name: run.stats for run in runs}
    if bench:
        title += f"; beta, alpha, correlation and information ratio against {bench}"
        columns[f"{bench} (buy & hold)"] = first.benchmark_stats()
    console.print(stats_table(columns, title=title))
    for run, extra in zip(runs, analysis, strict=True):
        print_analysis(run.spec.name, extra, factors=show_factors, bootstrap=bootstrap or vs is not None)
    for run in runs:
        for warning in run.warnings:
            console.print(f"[yellow]{run.spec.name}:[/] {escape(warning)}", highlight=False)
    if json_path is not None:
        json_path.write_text(json.dumps(document, indent=1))
        console.print(f"wrote {json_path}")
    write_outputs(document, report_path=report_path, png=png, format_=fmt)
