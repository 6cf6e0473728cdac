"""``shortthehype results``: inspect sweep results files (Parquet): the top rows, or SQL with DuckDB."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from shortthehype.cli import app, err_console
from shortthehype.cli.data_options import TableFormat
from shortthehype.cli.render import Cell, Column, Grid, check_format, print_grids
from shortthehype.cli.sweep_cmd import check_top, print_sweep

if TYPE_CHECKING:
    import pandas as pd

results_app = typer.Typer(help="Inspect sweep results files (Parquet): top rows, or SQL with DuckDB.", no_args_is_help=True)


@results_app.command("show")
def results_show(
    file: Annotated[Path, typer.Argument(help="Results file written by `sweep --out`.")],
    top: Annotated[int, typer.Option(help="Rows printed.")] = 10,
    sort: Annotated[Optional[str], typer.Option(help="Column to sort by (default: the sweep's objective).")] = None,
    ascending: Annotated[bool, typer.Option("--ascending", help="Smallest first.")] = False,
    format_: TableFormat = "table",
) -> None:
    """Print a sweep results file: counts, the top rows and the overfitting statistics."""
    from shortthehype.sweeps import load_sweep

    fmt = check_format(format_)
    check_top(top)
    print_sweep(load_sweep(file), top, sort, ascending, fmt=fmt)


@results_app.command("sql")
def results_sql(
    query: Annotated[str, typer.Argument(help="SQL over the view `results` (no other file can be read or written).")],
    file: Annotated[
        Optional[Path], typer.Option("--file", "-f", help="Results file (from `sweep --out`) exposed as the view `results`.")
    ] = None,
    limit: Annotated[int, typer.Option(help="Rows printed at most.")] = 50,
    format_: TableFormat = "table",
) -> None:
    """Query sweep results with DuckDB, e.g. `results sql "SELECT fast, avg(sharpe) FROM results GROUP BY fast" --file r.parquet`."""
    fmt = check_format(format_)
    frame = run_sql(query, file)
    grid = Grid([Column(str(c), right=frame[c].dtype.kind in "iuf") for c in frame.columns], key="rows")
    for row in frame.head(limit).itertuples(index=False):
        grid.add_row(*(Cell(_cell(v), v) for v in row))
    print_grids([grid], fmt)
    if len(frame) > limit:
        err_console.print(f"{len(frame) - limit:,} more row(s) not shown (--limit)", highlight=False)


def run_sql(query: str, file: Path | None = None) -> pd.DataFrame:
    """Run ``query`` with DuckDB over ``file`` (the view ``results``) and nothing else; one-line errors.

    The file is read and checksum-verified by :func:`shortthehype.sweeps.load_sweep`
    and handed to DuckDB as the table ``results``; the connection then has
    external access disabled (no files read or written, no extensions
    installed or loaded, no databases attached) and its configuration locked.
    """
    from shortthehype.errors import ParamError
    from shortthehype.sweeps import load_sweep

    try:
        import duckdb
    except ImportError:
        raise ParamError("`results sql` needs DuckDB: pip install duckdb") from None
    if file is None:
        raise ParamError("results sql needs --file RESULTS.parquet: the query sees that file as the view `results` and nothing else")
    table = load_sweep(file).table
    connection = duckdb.connect(
        config={"enable_external_access": False, "autoinstall_known_extensions": False, "autoload_known_extensions": False}
    )
    try:
        connection.register("results", table)
        connection.execute("SET lock_configuration = true")
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
