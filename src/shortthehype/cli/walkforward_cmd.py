"""``shortthehype walkforward``: optimise on each training window, trade the next test window, stitch the out-of-sample equity."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from shortthehype.cli import app, console, err_console
from shortthehype.cli.data_options import DataOptions, TableFormat, run_overrides
from shortthehype.cli.render import Cell, Column, Grid, print_grids
from shortthehype.cli.sweep_cmd import GRID_HELP, OBJECTIVE_HELP, Progress, check_report_option, emit_report, report_table_format
from shortthehype.data.source import PriceSource


@app.command()
def walkforward(
    spec: Annotated[str, typer.Argument(help="Spec file or name.")],
    grid: Annotated[Optional[list[str]], typer.Option("--grid", "-g", help=GRID_HELP)] = None,
    train: Annotated[str, typer.Option(help="Training window: a number and d (bars), w, m or y, e.g. 3y.")] = "3y",
    test: Annotated[str, typer.Option(help="Test window, e.g. 6m.")] = "6m",
    anchored: Annotated[bool, typer.Option("--anchored", help="Every training window starts at the first bar.")] = False,
    set_: Annotated[Optional[list[str]], typer.Option("--set", "-s", help="Fix a setting: key=value (repeatable).")] = None,
    start: Annotated[Optional[str], typer.Option(help="First day of the walk (YYYY-MM-DD).")] = None,
    end: Annotated[Optional[str], typer.Option(help="Last day of the walk (YYYY-MM-DD).")] = None,
    objective: Annotated[str, typer.Option(help=OBJECTIVE_HELP)] = "sharpe",
    blocks: Annotated[int, typer.Option(help="Blocks of each training sweep's PBO (even; 0 skips it).")] = 16,
    workers: Annotated[Optional[int], typer.Option(help="Local worker processes of each training sweep.")] = None,
    report: Annotated[
        Optional[Path], typer.Option("--report", help="Write the walk-forward's report: HTML (self-contained) or .md Markdown.")
    ] = None,
    format_: TableFormat = "table",
    source: DataOptions.source = None,
    data_dir: DataOptions.data_dir = None,
    cache_dir: DataOptions.cache_dir = None,
    offline: DataOptions.offline = False,
) -> None:
    """Optimise on each training window, trade the next test window, and stitch the out-of-sample equity."""
    from shortthehype.cli.notices import captured_warnings, in_window, print_warnings
    from shortthehype.cli.render import stats_grid
    from shortthehype.params import format_value, json_value
    from shortthehype.report.formatting import is_missing, stat
    from shortthehype.sweeps import parse_grid
    from shortthehype.walk_forward import walkforward as run_walkforward

    fmt = report_table_format(format_, report)
    check_report_option(report)
    with Progress("windows") as progress, captured_warnings() as data_warnings:
        result = run_walkforward(
            spec,
            parse_grid(grid or []) or None,
            train=train,
            test=test,
            anchored=anchored,
            overrides=run_overrides(set_, start, end),
            objective=objective,
            n_blocks=blocks,
            workers=workers,
            progress=progress,
            prices_from=PriceSource.from_options(source, data_dir, cache_dir, offline),
        )
    kind = "anchored" if anchored else "rolling"
    columns = [Column("train"), Column("test"), *(Column(name) for name in result.grid)]
    columns += [Column(f"{label} {objective}", right=True) for label in ("in-sample", "out-of-sample")]
    windows = Grid(
        columns + [Column("DSR", right=True), Column("PBO", right=True)],
        title=f"{result.spec_name}: walk-forward, {kind} {train} training / {test} test, objective {objective}",
        key="windows",
    )

    def number(key: str, value: Any) -> Cell:
        return Cell(stat(key, value), None if is_missing(value) else float(value))

    for w in result.windows:
        windows.add_row(
            f"{w.train_start:%Y-%m-%d} → {w.train_end:%Y-%m-%d}",
            f"{w.test_start:%Y-%m-%d} → {w.test_end:%Y-%m-%d}",
            *(Cell(format_value(w.params[name]), json_value(w.params[name])) for name in result.grid),
            number(objective, w.in_sample),
            number(objective, w.out_of_sample),
            number("dsr", w.dsr),
            number("pbo", w.pbo),
        )
    stitched = stats_grid({"out of sample (stitched)": result.stats}, title="stitched out-of-sample equity")
    stitched.key = "stitched"
    to_stderr = str(report) == "-"
    out = console if fmt == "table" and not to_stderr else err_console
    from shortthehype.cli.render import print_caveats

    print_caveats(result.caveats, out)
    print_grids([windows], fmt, err_console if to_stderr else console)
    out.print(
        f"mean {objective}: in sample {stat(objective, result.in_sample_mean)}, "
        f"out of sample {stat(objective, result.out_of_sample_mean)} (per window); "
        f"stitched out-of-sample {objective}: {stat(objective, result.stats.get(objective))}",
        highlight=False,
    )
    if fmt == "table":
        print_grids([stitched], fmt, out)
    for note in result.notes:
        out.print(f"note: {note}", highlight=False)
    if result.windows:
        print_warnings(in_window(data_warnings, result.windows[0].train_start, result.windows[-1].test_end))
    if report is not None:
        emit_report(result.to_document(), report, fmt)
