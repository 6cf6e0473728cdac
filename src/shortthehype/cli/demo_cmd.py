"""``shortthehype demo``: the essay's question on the embedded synthetic bubble."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.text import Text

from shortthehype.cli import app, console, err_console
from shortthehype.cli.data_options import DataOptions, TableFormat
from shortthehype.data.source import PriceSource
from shortthehype.errors import ParamError


@app.command()
def demo(
    seed: Annotated[Optional[int], typer.Option(help="Seed of the synthetic scenario (same seed, same numbers).")] = None,
    source: DataOptions.source = None,
    data_dir: DataOptions.data_dir = None,
    cache_dir: DataOptions.cache_dir = None,
    offline: DataOptions.offline = False,
    report_path: Annotated[
        Path, typer.Option("--report", help="Where to write the HTML report of the comparison ('-' for stdout).")
    ] = Path("shortthehype-demo.html"),
    format_: TableFormat = "table",
) -> None:
    """Run every essay strategy through a bubble and its crash and compare them.

    Runs offline on SYNTHETIC data by default (the essay's tickers mapped onto
    fictional ones); with --source csv --data-dir DIR (or --source yahoo) the
    shipped specs run unchanged on real prices from ChatGPT's launch on.
    """
    from shortthehype.cli.backtest_cmd import stdout_is_free
    from shortthehype.cli.notices import print_warnings
    from shortthehype.cli.render import Cell, Column, Grid, check_format, print_caveats, print_grids, stats_grid
    from shortthehype.demo import run_demo

    fmt = check_format(format_)
    if fmt != "table" and str(report_path) == "-":
        raise ParamError(f"--format {fmt} and --report - both print to stdout: write the report to a file")
    load = None
    if source is not None or data_dir is not None:
        load = PriceSource.from_options(source, data_dir, cache_dir, offline)
    about, runs = run_demo(seed=seed, load=load)
    out = console if stdout_is_free(None, report_path) else err_console
    print_caveats([line for run in runs for line in run.caveats], out if fmt == "table" else err_console)
    if fmt == "table":
        out.print(Text(about), highlight=False)
    windows = Grid([Column("strategy"), Column("start"), Column("end"), Column("final equity", right=True)], title="Windows", key="windows")
    for run in runs:
        final = float(run.result.equity.iloc[-1])
        windows.add_row(run.spec.name, f"{run.start:%Y-%m-%d}", f"{run.end:%Y-%m-%d}", Cell(f"{final:,.2f}", final))
    print_grids([stats_grid({run.spec.name: run.stats for run in runs}, title="Demo comparison"), windows], fmt, out)
    for run in runs:
        print_warnings(run.warnings, about=run.spec.name)
    from shortthehype.cli.report_cmd import write_outputs

    document = {"type": "compare", "runs": [run.to_dict() for run in runs]}
    write_outputs(document, report_path=report_path, png=None, format_="html", quiet=out is err_console or fmt != "table")


@app.command()
def precompile(
    workers: Annotated[Optional[int], typer.Option(min=1, help="Processes that compile side by side (default: one per CPU).")] = None,
) -> None:
    """Compile and cache the numba kernels now, so the first backtest, sweep or bubble fit starts at full speed."""
    import time

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from shortthehype.precompile import precompile as run_precompile

    started = time.perf_counter()
    columns = (TextColumn("compiling numba kernels: {task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err_console, transient=True) as bar:
        task = bar.add_task("", total=None)

        def progress(done: int, total: int, label: str) -> None:
            bar.update(task, completed=done, total=total, description=label)

        run_precompile(progress, workers=workers)
    err_console.print(f"numba kernels compiled and cached in {time.perf_counter() - started:,.1f} s", highlight=False)
