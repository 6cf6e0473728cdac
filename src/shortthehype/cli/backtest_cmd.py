"""``shortthehype backtest`` and ``shortthehype strategies``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from shortthehype.cli import app, console
from shortthehype.cli.options import DataOptions, data_options

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
    source: DataOptions.source = None,
    data_dir: DataOptions.data_dir = None,
    cache_dir: DataOptions.cache_dir = None,
    offline: DataOptions.offline = False,
) -> None:
    """Backtest one strategy spec and print its metrics beside its benchmark's."""
    from shortthehype.runner import backtest as run_backtest
    from shortthehype.cli.render import stats_table
    from shortthehype.spec import parse_assignments

    overrides: dict[str, str] = parse_assignments(set_ or [])
    if start is not None:
        overrides["start"] = start
    if end is not None:
        overrides["end"] = end
    run = run_backtest(spec, overrides=overrides, **data_options(source, data_dir, cache_dir, offline))
    if json_path is not None and str(json_path) == "-":
        typer.echo(json.dumps(run.to_dict(), indent=1))
        return
    columns = {run.spec.name: run.stats}
    if run.benchmark is not None:
        columns[f"{run.spec.run['benchmark']} (buy & hold)"] = {
            key.removeprefix("benchmark_"): value for key, value in run.stats.items() if key.startswith("benchmark_")
        }
    title = f"{run.spec.name}: {run.start:%Y-%m-%d} → {run.end:%Y-%m-%d}, final equity {run.result.equity.iloc[-1]:,.0f}"
    console.print(stats_table(columns, title=title))
    for warning in run.warnings:
        console.print(f"[yellow]data warning:[/] {warning}", highlight=False)
    events = run.result.events
    if len(events):
        console.print(f"{len(events)} event(s): " + ", ".join(f"{k} ×{n}" for k, n in events["kind"].value_counts().items()))
    if json_path is not None:
        json_path.write_text(json.dumps(run.to_dict(), indent=1))
        console.print(f"wrote {json_path}")


@strategies_app.command("list")
def strategies_list() -> None:
    """List the strategy specs found (name, kind, file)."""
    from rich.markup import escape
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
        Optional[list[str]], typer.Option("--set", "-s", help="Override a setting in every spec: key=value (repeatable).")
    ] = None,
    start: Annotated[Optional[str], typer.Option(help="First day (default: the latest of the specs' starts).")] = None,
    end: Annotated[Optional[str], typer.Option(help="Last day (default: the earliest of the specs' ends).")] = None,
    json_path: Annotated[Optional[Path], typer.Option("--json", help="Write every run as JSON to this file ('-' for stdout).")] = None,
    source: DataOptions.source = None,
    data_dir: DataOptions.data_dir = None,
    cache_dir: DataOptions.cache_dir = None,
    offline: DataOptions.offline = False,
) -> None:
    """Run several strategies over the same window and print one table."""
    from shortthehype.cli.render import stats_table
    from shortthehype.runner import compare as run_compare
    from shortthehype.spec import parse_assignments

    overrides: dict[str, str] = parse_assignments(set_ or [])
    if start is not None:
        overrides["start"] = start
    if end is not None:
        overrides["end"] = end
    runs = run_compare(specs, overrides=overrides, **data_options(source, data_dir, cache_dir, offline))
    document = {"runs": [run.to_dict() for run in runs]}
    if json_path is not None and str(json_path) == "-":
        typer.echo(json.dumps(document, indent=1))
        return
    first = runs[0]
    title = f"{len(runs)} strategies: {first.start:%Y-%m-%d} → {first.end:%Y-%m-%d}"
    console.print(stats_table({run.spec.name: run.stats for run in runs}, title=title))
    for run in runs:
        if (run.start, run.end) != (first.start, first.end):
            console.print(f"note: {run.spec.name} ran {run.start:%Y-%m-%d} → {run.end:%Y-%m-%d}", highlight=False)
        for warning in run.warnings:
            console.print(f"[yellow]{run.spec.name}:[/] {warning}", highlight=False)
    if json_path is not None:
        json_path.write_text(json.dumps(document, indent=1))
        console.print(f"wrote {json_path}")
