"""``shortthehype sweep``, ``shortthehype walkforward`` and ``shortthehype results show|sql``."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from shortthehype.cli import app, console, err_console
from shortthehype.cli.options import DataOptions, data_options, run_overrides

if TYPE_CHECKING:
    import pandas as pd

    from shortthehype.sweeps import SweepResult

results_app = typer.Typer(help="Inspect sweep results files (Parquet): top rows, or SQL with DuckDB.", no_args_is_help=True)

_GRID_HELP = (
    "A swept setting: key=start:stop:step (stop included) or key=v1,v2,v3 (repeatable). "
    "Default: the spec's [sweep] table."
)
_OBJECTIVE_HELP = "Metric to maximise: sharpe, cagr, calmar, sortino, total_return or max_drawdown."
#: Metric columns shown in the terminal tables (all are in the results file).
_SHOWN_METRICS = ("total_return", "cagr", "sharpe", "sortino", "max_drawdown", "calmar")


class _Progress:
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

    def __enter__(self) -> _Progress:
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
    grid: Annotated[Optional[list[str]], typer.Option("--grid", "-g", help=_GRID_HELP)] = None,
    set_: Annotated[
        Optional[list[str]], typer.Option("--set", "-s", help="Fix a setting for every combination: key=value (repeatable).")
    ] = None,
    start: Annotated[Optional[str], typer.Option(help="First day of every backtest (YYYY-MM-DD).")] = None,
    end: Annotated[Optional[str], typer.Option(help="Last day of every backtest (YYYY-MM-DD).")] = None,
    objective: Annotated[str, typer.Option(help=_OBJECTIVE_HELP)] = "sharpe",
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
    source: DataOptions.source = None,
    data_dir: DataOptions.data_dir = None,
    cache_dir: DataOptions.cache_dir = None,
    offline: DataOptions.offline = False,
) -> None:
    """Backtest every combination of a parameter grid; rank them and report the overfitting statistics."""
    from shortthehype.cli.render import print_setting_warnings
    from shortthehype.sweeps import parse_grid
    from shortthehype.sweeps import sweep as run_sweep

    try:
        with _Progress("sweep") as progress:
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
                **data_options(source, data_dir, cache_dir, offline),
            )
    except KeyboardInterrupt:
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
    print_setting_warnings(list(result.warnings))
    _print_sweep(result, top)
    if out is not None:
        console.print(f"wrote {out} ({len(result.table):,} rows)", highlight=False)
    if report is not None:
        _write_report(result.to_document(x=x, y=y), report)


def _write_report(document: dict[str, Any], path: Path) -> None:
    from shortthehype.report import write_report

    write_report(document, path, where=str(path))
    console.print(f"wrote {path}", highlight=False)


def _print_sweep(result: SweepResult, top: int, sort: str | None = None, ascending: bool = False) -> None:
    from shortthehype.report.formatting import trial_counts

    per_second = result.n_run / result.seconds if result.seconds else 0.0
    rate = f", {per_second:,.0f} combinations/s" if per_second >= 10 else f", {per_second:.2g} combinations/s"
    rate = rate if result.seconds else ""
    console.print(
        f"[bold]{result.spec_name}[/] ({result.kind}): {trial_counts(result.metadata())}"
        f" in {result.seconds:,.2f} s{rate} ({result.mode} path); {_window_text(result.window)}",
        highlight=False,
    )
    rows = result.top(top, by=sort, ascending=ascending)
    title = f"top {len(rows)} by {sort or result.objective}"
    console.print(_frame_table(rows, list(result.grid), title))
    for line in overfitting_lines(result):
        console.print(line, highlight=False)


def _window_text(window: str) -> str:
    """``"2005-01-03..2020-12-31/4026"`` -> ``"2005-01-03 → 2020-12-31 (4,026 returns)"``."""
    dates, _, count = window.partition("/")
    first, _, last = dates.partition("..")
    if not (count.isdigit() and last):
        return "backtest windows vary by combination" if window == "varies" else window
    return f"{first} → {last} ({int(count):,} returns)"


def overfitting_lines(result: SweepResult) -> list[str]:
    """The DSR and PBO, each on one line with what it means."""
    lines = []
    dsr = result.dsr
    if dsr is not None and not math.isnan(dsr.dsr):
        lines.append(
            f"Deflated Sharpe ratio of the best: [bold]{dsr.dsr:.3f}[/] = probability its true Sharpe ratio beats the "
            f"best of {dsr.n_trials:,} skill-less trials (per-bar SR {dsr.sharpe:.4f} vs expected max {dsr.expected_max:.4f};"
            f" {dsr.n_obs:,} returns, skew {dsr.skew:.2f}, kurtosis {dsr.kurtosis:.1f})"
        )
    else:
        lines.append("Deflated Sharpe ratio of the best: undefined (no finite Sharpe ratio)")
    pbo = result.pbo
    if pbo is not None and not math.isnan(pbo.pbo):
        lines.append(
            f"Probability of backtest overfitting: [bold]{pbo.pbo:.3f}[/] (CSCV, {pbo.n_blocks} blocks of {pbo.block_len} bars,"
            f" {pbo.n_splits:,} splits): how often the in-sample best is at or below the median out of sample"
        )
    if result.pbo_note:
        lines.append(f"note: {result.pbo_note}")
    return lines


def _frame_table(frame: pd.DataFrame, params: list[str], title: str) -> Any:
    from rich.table import Table

    from shortthehype.params import format_value
    from shortthehype.report.formatting import stat
    from shortthehype.sweeps import is_empty_cell

    table = Table(title=title, title_justify="left", header_style="bold")
    metrics = [m for m in _SHOWN_METRICS if m in frame.columns]
    show_bankrupt = "bankrupt" in frame.columns and bool(frame["bankrupt"].any())
    for name in params:
        table.add_column(name)
    for name in metrics:
        table.add_column(name, justify="right")
    if show_bankrupt:
        table.add_column("bankrupt")
    for _, row in frame.iterrows():
        cells = ["" if is_empty_cell(row[name]) else format_value(_plain(row[name])) for name in params]
        cells += [stat(name, row[name]) for name in metrics]
        if show_bankrupt:
            cells.append("yes" if row["bankrupt"] else "")
        table.add_row(*cells)
    return table


def _plain(value: Any) -> Any:
    import pandas as pd

    if hasattr(value, "item") and not isinstance(value, pd.Timestamp):
        return value.item()
    return value


@results_app.command("show")
def results_show(
    file: Annotated[Path, typer.Argument(help="Results file written by `sweep --out`.")],
    top: Annotated[int, typer.Option(help="Rows printed.")] = 10,
    sort: Annotated[Optional[str], typer.Option(help="Column to sort by (default: the sweep's objective).")] = None,
    ascending: Annotated[bool, typer.Option("--ascending", help="Smallest first.")] = False,
) -> None:
    """Print a sweep results file: counts, the top rows and the overfitting statistics."""
    from shortthehype.sweeps import load_sweep

    _print_sweep(load_sweep(file), top, sort, ascending)


@results_app.command("sql")
def results_sql(
    query: Annotated[str, typer.Argument(help="SQL; read files with FROM 'results.parquet', or use the view `results`.")],
    file: Annotated[
        Optional[Path], typer.Option("--file", "-f", help="Results file exposed as the view `results`.")
    ] = None,
    limit: Annotated[int, typer.Option(help="Rows printed at most.")] = 50,
) -> None:
    """Query sweep results with DuckDB, e.g. `results sql "SELECT fast, avg(sharpe) FROM 'r.parquet' GROUP BY fast"`."""
    frame = run_sql(query, file)
    from rich.table import Table

    table = Table(header_style="bold")
    for column in frame.columns:
        table.add_column(str(column), justify="right" if frame[column].dtype.kind in "iuf" else "left")
    for row in frame.head(limit).itertuples(index=False):
        table.add_row(*(_cell(v) for v in row))
    console.print(table)
    if len(frame) > limit:
        console.print(f"{len(frame) - limit:,} more row(s) not shown (--limit)", highlight=False)


def run_sql(query: str, file: Path | None = None) -> pd.DataFrame:
    """Run ``query`` with DuckDB (``results`` = ``file`` when given); one-line errors."""
    from shortthehype.errors import DataError, ParamError

    try:
        import duckdb
    except ImportError:
        raise ParamError("`results sql` needs DuckDB: pip install duckdb") from None
    connection = duckdb.connect()
    try:
        if file is not None:
            if not Path(file).is_file():
                raise DataError(f"{file}: results file not found")
            escaped = str(file).replace("'", "''")
            connection.execute(f"CREATE VIEW results AS SELECT * FROM read_parquet('{escaped}')")
        return connection.execute(query).fetchdf()
    except duckdb.Error as exc:
        message = " ".join(str(exc).split())
        raise ParamError(f"SQL error: {message}") from None
    finally:
        connection.close()


def _cell(value: Any) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "—"
        return f"{value:,.6g}"
    return str(value)


app.add_typer(results_app, name="results")


@app.command()
def walkforward(
    spec: Annotated[str, typer.Argument(help="Spec file or name.")],
    grid: Annotated[Optional[list[str]], typer.Option("--grid", "-g", help=_GRID_HELP)] = None,
    train: Annotated[str, typer.Option(help="Training window: a number and d (bars), w, m or y, e.g. 3y.")] = "3y",
    test: Annotated[str, typer.Option(help="Test window, e.g. 6m.")] = "6m",
    anchored: Annotated[bool, typer.Option("--anchored", help="Every training window starts at the first bar.")] = False,
    set_: Annotated[Optional[list[str]], typer.Option("--set", "-s", help="Fix a setting: key=value (repeatable).")] = None,
    start: Annotated[Optional[str], typer.Option(help="First day of the walk (YYYY-MM-DD).")] = None,
    end: Annotated[Optional[str], typer.Option(help="Last day of the walk (YYYY-MM-DD).")] = None,
    objective: Annotated[str, typer.Option(help=_OBJECTIVE_HELP)] = "sharpe",
    blocks: Annotated[int, typer.Option(help="Blocks of each training sweep's PBO (even; 0 skips it).")] = 16,
    workers: Annotated[Optional[int], typer.Option(help="Local worker processes of each training sweep.")] = None,
    report: Annotated[
        Optional[Path], typer.Option("--report", help="Write the walk-forward's report: HTML (self-contained) or .md Markdown.")
    ] = None,
    source: DataOptions.source = None,
    data_dir: DataOptions.data_dir = None,
    cache_dir: DataOptions.cache_dir = None,
    offline: DataOptions.offline = False,
) -> None:
    """Optimise on each training window, trade the next test window, and stitch the out-of-sample equity."""
    from rich.table import Table

    from shortthehype.cli.render import stats_table
    from shortthehype.params import format_value
    from shortthehype.report.formatting import stat
    from shortthehype.sweeps import parse_grid
    from shortthehype.walk_forward import walkforward as run_walkforward

    with _Progress("windows") as progress:
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
            **data_options(source, data_dir, cache_dir, offline),
        )
    kind = "anchored" if anchored else "rolling"
    table = Table(
        title=f"{result.spec_name}: walk-forward, {kind} {train} training / {test} test, objective {objective}",
        title_justify="left",
        header_style="bold",
    )
    for column in ("train", "test", *result.grid, f"in-sample {objective}", f"out-of-sample {objective}", "DSR", "PBO"):
        table.add_column(column, justify="right" if column not in ("train", "test") else "left")
    for w in result.windows:
        table.add_row(
            f"{w.train_start:%Y-%m-%d} → {w.train_end:%Y-%m-%d}",
            f"{w.test_start:%Y-%m-%d} → {w.test_end:%Y-%m-%d}",
            *(format_value(w.params[name]) for name in result.grid),
            stat(objective, w.in_sample),
            stat(objective, w.out_of_sample),
            stat("dsr", w.dsr),
            stat("pbo", w.pbo),
        )
    console.print(table)
    console.print(
        f"mean {objective}: in sample {stat(objective, result.in_sample_mean)}, "
        f"out of sample {stat(objective, result.out_of_sample_mean)} (per window); "
        f"stitched out-of-sample {objective}: {stat(objective, result.stats.get(objective))}",
        highlight=False,
    )
    console.print(stats_table({"out of sample (stitched)": result.stats}, title="stitched out-of-sample equity"))
    if report is not None:
        _write_report(result.to_document(), report)
