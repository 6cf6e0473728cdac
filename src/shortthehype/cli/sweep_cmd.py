"""``shortthehype sweep``: backtest every combination of a grid; shared by ``walkforward`` and ``results``."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from shortthehype.cli import app, console, err_console, styled
from shortthehype.cli.data_options import DataOptions, TableFormat, run_overrides
from shortthehype.cli.render import Cell, Column, Grid, check_format, print_grids
from shortthehype.data.source import PriceSource
from shortthehype.documents import python_scalar

if TYPE_CHECKING:
    import pandas as pd

    from shortthehype.sweeps import SweepResult

GRID_HELP = (
    "A swept setting: key=start:stop:step (stop included) or key=v1,v2,v3 (repeatable). "
    "Default: the spec's \\[sweep] table."
)
OBJECTIVE_HELP = "Metric to maximise: sharpe, cagr, calmar, sortino, total_return or max_drawdown."
#: Metric columns shown in the terminal tables (all are in the results file).
_SHOWN_METRICS = ("total_return", "cagr", "sharpe", "sortino", "max_drawdown", "calmar")


class Progress:
    """A rich progress bar on stderr: combinations done, combinations/s and the time left."""

    def __init__(self, what: str) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.bar = Progress(
            TextColumn(f"[bold]{what}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=err_console,
            transient=True,
        )
        self.task = self.bar.add_task(what, total=None, rate="")

    def __enter__(self) -> Progress:
        self.bar.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.__exit__(*exc)

    def __call__(self, done: int, total: int) -> None:
        self.bar.update(self.task, completed=done, total=total)
        speed = self.bar.tasks[0].speed
        self.bar.update(self.task, rate=f"{speed:,.0f}/s" if speed else "")


@app.command()
def sweep(
    spec: Annotated[str, typer.Argument(help="Spec file (strategies/x.toml) or spec name (see `strategies list`).")],
    grid: Annotated[Optional[list[str]], typer.Option("--grid", "-g", help=GRID_HELP)] = None,
    set_: Annotated[
        Optional[list[str]], typer.Option("--set", "-s", help="Fix a setting for every combination: key=value (repeatable).")
    ] = None,
    start: Annotated[Optional[str], typer.Option(help="First day of every backtest (YYYY-MM-DD).")] = None,
    end: Annotated[Optional[str], typer.Option(help="Last day of every backtest (YYYY-MM-DD).")] = None,
    objective: Annotated[str, typer.Option(help=OBJECTIVE_HELP)] = "sharpe",
    random: Annotated[Optional[int], typer.Option("--random", help="Backtest N random valid combinations instead of all.")] = None,
    seed: Annotated[Optional[int], typer.Option(help="Seed of --random.")] = None,
    top: Annotated[int, typer.Option(help="Rows of the table printed.")] = 10,
    out: Annotated[
        Optional[Path], typer.Option(help="Parquet file of every combination's results, streamed in chunks as they finish.")
    ] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Complete the interrupted sweep whose chunks are in OUT.parts/.")] = False,
    executor: Annotated[str, typer.Option(help="local (processes / numba threads) or dask.")] = "local",
    scheduler: Annotated[
        Optional[str], typer.Option(help="Dask scheduler address (tcp://host:8786); default: a local cluster.")
    ] = None,
    workers: Annotated[Optional[int], typer.Option(help="Local worker processes (default: CPU count when worth it).")] = None,
    chunk_size: Annotated[Optional[int], typer.Option(help="Combinations per chunk (default: about a second of work).")] = None,
    blocks: Annotated[int, typer.Option(help="Blocks of the PBO's cross-validation (even; 0 skips the PBO).")] = 16,
    force: Annotated[bool, typer.Option("--force", help="Run a grid refused as too large or too slow.")] = False,
    path: Annotated[
        str, typer.Option("--path", help="auto (the strategy's fused kernel when it takes the grid), fused or generic.")
    ] = "auto",
    report: Annotated[
        Optional[Path], typer.Option("--report", help="Write the sweep's report: HTML (self-contained) or .md Markdown.")
    ] = None,
    x: Annotated[Optional[str], typer.Option("--x", help="Swept setting on the x axis of the report's objective heatmap.")] = None,
    y: Annotated[Optional[str], typer.Option("--y", help="Swept setting on the y axis of the report's objective heatmap.")] = None,
    format_: TableFormat = "table",
    source: DataOptions.source = None,
    data_dir: DataOptions.data_dir = None,
    cache_dir: DataOptions.cache_dir = None,
    offline: DataOptions.offline = False,
) -> None:
    """Backtest every combination of a parameter grid; rank them and report the overfitting statistics."""
    from shortthehype.cli.notices import captured_warnings
    from shortthehype.sweeps import parse_grid
    from shortthehype.sweeps import sweep as run_sweep

    fmt = report_table_format(format_, report)
    check_top(top)
    check_report_option(report)
    try:
        with Progress("sweep") as progress, captured_warnings() as data_warnings:
            result = run_sweep(
                spec,
                parse_grid(grid or []) or None,
                overrides=run_overrides(set_, start, end),
                objective=objective,
                random=random,
                seed=seed,
                out=out,
                resume=resume,
                executor=executor,
                scheduler=scheduler,
                workers=workers,
                chunk_size=chunk_size,
                n_blocks=blocks,
                force=force,
                progress=progress,
                path=path,
                prices_from=PriceSource.from_options(source, data_dir, cache_dir, offline),
            )
    except (KeyboardInterrupt, SystemError) as exc:  # numba turns a Ctrl-C inside a kernel into a SystemError
        from shortthehype.cli import was_interrupted

        if not was_interrupted(exc):
            raise
        if out is not None:
            parts = out.with_name(out.name + ".parts")
            saved = len(list(parts.glob("part-*.parquet"))) if parts.is_dir() else 0
            err_console.print(
                f"interrupted: {saved} finished chunk(s) kept in {parts}; run the same command with --resume to complete it",
                highlight=False,
            )
        else:
            err_console.print("interrupted (nothing saved: pass --out FILE to keep finished chunks)", highlight=False)
        raise typer.Exit(130) from None
    print_sweep(result, top, fmt=fmt, to_stderr=str(report) == "-")
    _print_window_warnings(data_warnings, result.window)
    if out is not None:
        quiet = fmt != "table" or str(report) == "-"
        (err_console if quiet else console).print(f"wrote {out} ({len(result.table):,} rows)", highlight=False)
    if report is not None:
        emit_report(result.to_document(x=x, y=y), report, fmt)


def check_report_option(report: Path | None) -> None:
    """``--report PATH`` checked before the run (format from the suffix, a writable directory); ``-`` is stdout."""
    if report is not None and str(report) != "-":
        from shortthehype.cli.data_options import check_output_options
        from shortthehype.report import resolve_format

        resolve_format(None, report)
        check_output_options(report_path=report)


def check_top(top: int) -> None:
    if top < 0:
        from shortthehype.errors import ParamError

        raise ParamError(f"--top must be >= 0 (rows printed), got {top}")


def emit_report(document: dict[str, Any], path: Path, fmt: str = "table") -> None:
    """The report to ``path`` (``-``: the document alone on stdout; the tables went to stderr)."""
    from shortthehype.report import render, resolve_format, write_report

    if str(path) == "-":
        typer.echo(render(document, resolve_format(None, path), where="report"), nl=False)
        return
    write_report(document, path, where=str(path))
    (console if fmt == "table" else err_console).print(f"wrote {path}", highlight=False)


def report_table_format(format_: str, report: Path | None) -> str:
    """``--format`` checked; with ``--report -`` stdout carries the report, so tables may only be printed as tables (to stderr)."""
    from shortthehype.errors import ParamError

    fmt = check_format(format_)
    if str(report) == "-" and fmt != "table":
        raise ParamError(f"--format {fmt} and --report - both print to stdout: write the report to a file")
    return fmt


def _print_window_warnings(lines: list[str], window: str) -> None:
    """The data warnings of a sweep's load, without one-day moves outside its backtest window."""
    from shortthehype.cli.notices import in_window, print_warnings

    dates, _, count = window.partition("/")
    first, _, last = dates.partition("..")
    print_warnings(in_window(lines, first, last) if count.isdigit() and last else lines)


def print_sweep(
    result: SweepResult, top: int, sort: str | None = None, ascending: bool = False, fmt: str = "table", to_stderr: bool = False
) -> None:
    from shortthehype.cli.notices import print_warnings
    from shortthehype.cli.render import print_caveats
    from shortthehype.report.formatting import trial_counts, window_text

    out = console if fmt == "table" and not to_stderr else err_console
    print_caveats(result.caveats, out)
    print_warnings(list(result.warnings))  # kept with a results file: `results show` prints them too
    if result.seconds:
        per_second = result.n_run / result.seconds
        rate = f"{per_second:,.0f}" if per_second >= 10 else f"{per_second:.2g}"
        timing = f" in {result.seconds:,.2f} s ({rate} combinations/s, numba compilation included on a first run)"
    else:
        timing = ""
    out.print(
        styled(
            result.spec_name,
            "bold",
            f" ({result.kind}): {trial_counts(result.metadata())}{timing} ({result.mode} path); {window_text(result.window)}",
        ),
        highlight=False,
    )
    rows = result.top(top, by=sort, ascending=ascending)
    title = f"top {len(rows)} by {sort or result.objective}"
    print_grids([_frame_grid(rows, list(result.grid), title)], fmt, err_console if to_stderr else console)
    for line in overfitting_lines(result):
        out.print(line, highlight=False)


def overfitting_lines(result: SweepResult) -> list[str]:
    """The DSR and PBO, each on one line with what it means."""
    lines = []
    dsr = result.dsr
    if dsr is not None and not math.isnan(dsr.dsr):
        lines.append(
            f"Deflated Sharpe ratio of the best: {dsr.dsr:.3f} = probability its true Sharpe ratio beats the "
            f"best of {dsr.n_trials:,} skill-less trials (per-bar SR {dsr.sharpe:.4f} vs expected max {dsr.expected_max:.4f};"
            f" {dsr.n_obs:,} returns, skew {dsr.skew:.2f}, kurtosis {dsr.kurtosis:.1f})"
        )
    else:
        lines.append("Deflated Sharpe ratio of the best: undefined (no finite Sharpe ratio)")
    pbo = result.pbo
    if pbo is not None and not math.isnan(pbo.pbo):
        lines.append(
            f"Probability of backtest overfitting: {pbo.pbo:.3f} (CSCV, {pbo.n_blocks} blocks of {pbo.block_len} bars,"
            f" {pbo.n_splits:,} splits): how often the in-sample best is at or below the median out of sample"
        )
    if result.pbo_note:
        lines.append(f"note: {result.pbo_note}")
    return lines


def _frame_grid(frame: pd.DataFrame, params: list[str], title: str) -> Grid:
    from shortthehype.params import format_value, json_value
    from shortthehype.report.formatting import is_missing, stat

    from shortthehype.sweeps import is_empty_cell

    metrics = [m for m in _SHOWN_METRICS if m in frame.columns]
    show_bankrupt = "bankrupt" in frame.columns and bool(frame["bankrupt"].any())
    columns = [Column(name) for name in params] + [Column(name, right=True) for name in metrics]
    grid = Grid(columns + ([Column("bankrupt")] if show_bankrupt else []), title=title, key="top")
    for _, row in frame.iterrows():
        cells = [
            Cell("", None) if is_empty_cell(row[name]) else Cell(format_value(python_scalar(row[name])), json_value(python_scalar(row[name])))
            for name in params
        ]
        ruined = bool(row.get("bankrupt", False))
        cells += [Cell(stat(name, row[name], ruined), None if is_missing(row[name]) else float(row[name])) for name in metrics]
        if show_bankrupt:
            cells.append(Cell("yes" if row["bankrupt"] else "", bool(row["bankrupt"])))
        grid.add_row(*cells)
    return grid
