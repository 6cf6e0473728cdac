"""Tables for the terminal, and the same tables as CSV, JSON or Markdown.

Every command that prints a table builds a :class:`Grid` (plain text cells,
each with the raw value that CSV and JSON carry) and hands it to
:func:`print_grids`.  In the terminal a value is never truncated: a grid that
does not fit the console's width is split into several tables that repeat its
first column, and a row that cannot fit even so is printed as ``column: value``
lines.  Only columns marked ``wrap`` (descriptions) are wrapped, at spaces.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

__all__ = [
    "FORMATS",
    "Cell",
    "Column",
    "Grid",
    "check_format",
    "grid_text",
    "options_grid",
    "print_grids",
    "stats_grid",
    "table_keys",
]

#: Output formats of every table-printing command (``--format``).
FORMATS = ("table", "csv", "json", "md")

#: Statistics left out of the default terminal table (shown in JSON and reports).
HIDDEN_KEYS = frozenset({"start_value", "end_value", "omega", "tail_ratio", "skew", "kurtosis", "avg_trade_return"})

#: Default of :attr:`Cell.value`: the cell's text is its value.
_SAME: Any = object()

#: Width of the box drawing around and between rich's columns (one border and a space each side).
_COLUMN_CHROME = 3


@dataclass(frozen=True)
class Cell:
    """One value: ``text`` as the terminal and Markdown show it, ``value`` as CSV and JSON carry it."""

    text: str
    value: Any = _SAME
    style: str | None = None

    @property
    def raw(self) -> Any:
        return self.text if self.value is _SAME else self.value


@dataclass(frozen=True)
class Column:
    name: str
    right: bool = False
    wrap: bool = False  # free text that may wrap at spaces (never inside a word)
    key: str | None = None  # the CSV header and JSON key, when not ``name`` (a label shown to people)

    @property
    def field(self) -> str:
        return self.name if self.key is None else self.key


@dataclass
class Grid:
    """A table: columns, rows of cells, an optional title and a key naming it in JSON."""

    columns: list[Column]
    title: str | None = None
    key: str = "rows"
    rows: list[list[Cell]] = field(default_factory=list)

    def add_row(self, *cells: Cell | str) -> None:
        if len(cells) != len(self.columns):
            raise ValueError(f"{len(cells)} cells for {len(self.columns)} columns")
        self.rows.append([c if isinstance(c, Cell) else Cell(c) for c in cells])

    def records(self) -> list[dict[str, Any]]:
        return [{col.field: _json_value(cell.raw) for col, cell in zip(self.columns, row)} for row in self.rows]


def check_format(fmt: str | None) -> str:
    """``fmt`` lower-cased, or a one-line ParamError naming the accepted formats."""
    from shortthehype.errors import ParamError

    value = (fmt or "table").lower()
    if value not in FORMATS:
        raise ParamError(f"--format must be one of {', '.join(FORMATS)} (got {fmt!r})")
    return value


def print_grids(grids: Sequence[Grid], fmt: str = "table", console: Console | None = None) -> None:
    """Print ``grids`` in ``fmt``: rich tables, CSV (tables separated by a blank line), JSON or Markdown."""
    if console is None:
        from shortthehype.cli import console as default_console

        console = default_console
    if fmt == "table":
        for grid in grids:
            for item in terminal_layout(grid, console.width):
                console.print(item)
        return
    console.file.write(grid_text(grids, fmt))
    console.file.flush()


def grid_text(grids: Sequence[Grid], fmt: str) -> str:
    """``grids`` as CSV, JSON or Markdown text."""
    if fmt == "json":
        payload: Any = grids[0].records() if len(grids) == 1 else {g.key: g.records() for g in grids}
        return json.dumps(payload, indent=1, default=str) + "\n"
    if fmt == "csv":
        return "\n".join(_csv(grid) for grid in grids)
    if fmt == "md":
        return "\n".join(_markdown(grid) for grid in grids)
    raise ValueError(f"not a text format: {fmt!r}")


def _json_value(value: Any) -> Any:
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return value


def _csv(grid: Grid) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([c.field for c in grid.columns])
    for row in grid.rows:
        writer.writerow(["" if (v := _json_value(cell.raw)) is None else v for cell in row])
    return buffer.getvalue()


def _markdown(grid: Grid) -> str:
    def escape(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    lines = [f"**{escape(grid.title)}**", ""] if grid.title else []
    lines.append("| " + " | ".join(escape(c.name) for c in grid.columns) + " |")
    lines.append("|" + "|".join("---:" if c.right else "---" for c in grid.columns) + "|")
    lines += ["| " + " | ".join(escape(cell.text) for cell in row) + " |" for row in grid.rows]
    return "\n".join(lines) + "\n"


# --- the terminal ------------------------------------------------------------------------


#: Where a wrapping column may break a value: after a space, a comma or a slash (never inside a word).
_PIECES = re.compile(r"[^\s,/]*[,/]|[^\s,/]+|\s+")


def _pieces(text: str) -> list[str]:
    return _PIECES.findall(text)


def _natural_width(grid: Grid, index: int) -> int:
    texts = [grid.columns[index].name, *(row[index].text for row in grid.rows)]
    return max(max((cell_len(line) for line in text.splitlines() or [""]), default=0) for text in texts)


def _min_width(grid: Grid, index: int) -> int:
    """Narrowest width column ``index`` can take without breaking a value (a piece, for wrapping columns)."""
    column = grid.columns[index]
    if not column.wrap:
        return _natural_width(grid, index)
    texts = [column.name, *(row[index].text for row in grid.rows)]
    return max((cell_len(p) for text in texts for p in _pieces(text) if not p.isspace()), default=1)


def _wrap(text: str, width: int) -> str:
    """``text`` in lines of at most ``width`` cells, broken only between pieces (see :data:`_PIECES`)."""
    lines: list[str] = []
    line = ""
    for piece in _pieces(text):
        if piece.isspace():
            if line:
                line += " "
            continue
        if line and cell_len(line + piece) > width:
            lines.append(line.rstrip())
            line = ""
        line += piece
    lines.append(line.rstrip())
    return "\n".join(lines)


def _table_width(widths: Iterable[int]) -> int:
    widths = list(widths)
    return sum(widths) + _COLUMN_CHROME * len(widths) + 1


def _allocate(grid: Grid, indices: list[int], width: int) -> list[int]:
    """Column widths for ``indices`` within ``width``: fixed columns whole, wrapping ones share the rest."""
    lows = [_min_width(grid, i) for i in indices]
    highs = [_natural_width(grid, i) for i in indices]
    spare = width - _table_width(lows)
    gaps = [high - low for low, high in zip(lows, highs)]
    if spare >= sum(gaps):
        return highs
    total = sum(gaps)
    widths = [low + (gap * spare) // total for low, gap in zip(lows, gaps)]
    return widths


def terminal_layout(grid: Grid, width: int) -> list[Any]:
    """Rich renderables that show every value of ``grid`` whole within ``width`` columns."""
    everything = list(range(len(grid.columns)))
    widths = [_min_width(grid, i) for i in everything]
    if _table_width(widths) <= width or len(grid.columns) == 1:
        return [_rich_table(grid, everything, grid.title, width)]
    # Split the columns into tables that repeat the first one (the row's name).
    parts: list[list[int]] = []
    for i in range(1, len(grid.columns)):
        if parts and _table_width([widths[0], *(widths[j] for j in parts[-1]), widths[i]]) <= width:
            parts[-1].append(i)
        else:
            parts.append([i])
    if all(_table_width([widths[0], *(widths[j] for j in part)]) <= width for part in parts):
        out: list[Any] = []
        for n, part in enumerate(parts, 1):
            title = f"{grid.title + ' ' if grid.title else ''}(columns part {n} of {len(parts)})"
            out.append(_rich_table(grid, [0, *part], title, width))
        return out
    return _records(grid)


def _rich_table(grid: Grid, indices: list[int], title: str | None, width: int) -> Table:
    table = Table(title=title, title_justify="left", header_style="bold")
    widths = _allocate(grid, indices, width)
    for i, column_width in zip(indices, widths):
        column = grid.columns[i]
        table.add_column(
            _wrap(column.name, column_width) if column.wrap else column.name,
            justify="right" if column.right else "left",
            no_wrap=True,
            overflow="ignore",
            min_width=column_width,
            max_width=column_width,
        )
    for row in grid.rows:
        cells = []
        for i, column_width in zip(indices, widths):
            text = _wrap(row[i].text, column_width) if grid.columns[i].wrap else row[i].text
            cells.append(Text(text, style=row[i].style or ""))
        table.add_row(*cells)
    return table


def _records(grid: Grid) -> list[Any]:
    """One block per row: the first cell as a heading, then ``column: value`` lines (values never cut)."""
    out: list[Any] = []
    if grid.title:
        out.append(Text(grid.title, style="bold"))
    label_width = max(cell_len(c.name) for c in grid.columns[1:])
    for row in grid.rows:
        out.append(Text(f"{grid.columns[0].name}: {row[0].text}", style="bold"))
        for column, cell in zip(grid.columns[1:], row[1:]):
            out.append(Text(f"  {column.name.ljust(label_width)}  {cell.text}", style=cell.style or ""))
    return out


# --- statistics ----------------------------------------------------------------------------


def table_keys() -> tuple[str, ...]:
    """Statistics shown in the default terminal table, in the order of :mod:`shortthehype.metrics`."""
    from shortthehype.metrics import BENCHMARK_STATS_KEYS, STATS_KEYS

    own = STATS_KEYS + tuple(k for k in BENCHMARK_STATS_KEYS if not k.startswith("benchmark_"))
    return tuple(k for k in own if k not in HIDDEN_KEYS)


def stats_grid(
    columns: Mapping[str, Mapping[str, Any]],
    *,
    title: str | None = None,
    keys: Sequence[str] | None = None,
    bankrupt: Collection[str] = (),
) -> Grid:
    """One row per statistic, one column per strategy (or benchmark); CSV/JSON carry the raw fractions.

    ``bankrupt`` names the ruined columns: their undefined ratios read ``bankrupt``.
    """
    from shortthehype.metrics import STATS_LABELS
    from shortthehype.report.formatting import is_missing, shows_row, stat

    keys = table_keys() if keys is None else keys
    grid = Grid([Column("metric"), *(Column(name, right=True) for name in columns)], title=title, key="stats")
    ruined = [name in bankrupt for name in columns]
    for key in keys:
        values = [stats.get(key) for stats in columns.values()]
        if not shows_row(key, values, ruined):
            continue
        grid.add_row(
            Cell(STATS_LABELS.get(key, key), key),
            *(Cell(stat(key, v, r), None if is_missing(v) else float(v)) for v, r in zip(values, ruined)),
        )
    return grid


#: The rows of the option contracts table: a label, the record's key (its raw value in CSV/JSON) and how it shows.
_OPTION_FIELDS: tuple[tuple[str, str, Any], ...] = (
    ("symbol", "symbol", lambda r: str(r["symbol"])),
    ("strike", "strike", lambda r: f"{r['strike']:,.2f}"),
    ("expiry", "expiry", lambda r: str(r["expiry"])),
    ("contracts", "contracts", lambda r: f"{r['contracts']:,.0f}"),
    ("entry", "entry_date", lambda r: str(r["entry_date"])),
    ("paid / share", "entry_price", lambda r: f"{r['entry_price']:,.4f}"),
    ("premium", "premium", lambda r: f"{r['premium']:,.0f}"),
    ("exit", "exit_date", lambda r: str(r["exit_date"] or "open")),
    ("value / share", "exit_price", lambda r: f"{r['exit_price']:,.4f}"),
    ("status", "status", lambda r: str(r["status"])),
    ("P&L", "pnl", lambda r: f"{r['pnl']:,.0f}"),
    ("P&L / premium", "pnl_multiple", lambda r: f"{r['pnl_multiple']:+.2f}x"),
    ("delta at entry", "delta", lambda r: f"{r['delta']:+.4f}"),
    ("delta exposure", "delta_exposure", lambda r: f"{r['delta_exposure'] * 100:+.1f}%"),
)


def options_grid(records: Sequence[Mapping[str, Any]]) -> Grid:
    """The option contracts of a run, one column per contract (a narrow terminal gets it in parts, never truncated).

    Terms, entry, exit, and P&L in currency and as a multiple of the premium.
    """
    names = [f"{r['ticker']} {r['type']} {r['strike']:,.2f} {r['expiry']}" for r in records]
    grid = Grid([Column("field"), *(Column(name, right=True) for name in names)], title="Option contracts", key="options")
    for label, key, show in _OPTION_FIELDS:
        grid.add_row(Cell(label, key), *(Cell(show(r), r.get(key)) for r in records))
    return grid


def print_caveats(lines: Sequence[str], console: Console | None = None) -> None:
    """Print each caveat (synthetic data, oracle timing) once, in bold red, before the numbers."""
    from shortthehype.cli import console as default_console

    out = console or default_console
    for line in dict.fromkeys(lines):
        out.print(Text(line, style="bold red"), highlight=False, soft_wrap=True)


def analysis_grids(name: str, sections: Mapping[str, object], *, factors: bool, bootstrap: bool) -> list[Grid]:
    """A run's bootstrap intervals and factor exposures as tables (:func:`shortthehype.analysis.analysis_sections`)."""
    from shortthehype.bootstrap import format_interval
    from shortthehype.metrics import STATS_LABELS

    grids: list[Grid] = []
    boot = sections.get("bootstrap")
    if bootstrap and isinstance(boot, Mapping):
        vs = boot.get("vs")
        columns = [Column("metric"), Column(f"{name} [interval]", right=True)]
        if vs:
            columns += [Column(f"minus {vs['baseline']} [interval]", right=True), Column(f"P(beats {vs['baseline']})", right=True)]
        title = (
            f"{name}: {boot['confidence']:.0%} bootstrap intervals ({boot['samples']:,} stationary resamples, "
            f"mean block {boot['block_length']:g} bars)"
        )
        grid = Grid(columns, title=title, key="bootstrap")
        for key, entry in boot["metrics"].items():
            cells = [Cell(STATS_LABELS.get(key, key), key), Cell(format_interval(key, entry), entry)]
            if vs:
                diff = vs["metrics"][key]
                cells += [Cell(format_interval(key, diff), diff), Cell(f"{diff['p_beat']:.1%}", diff["p_beat"])]
            grid.add_row(*cells)
        grids.append(grid)
    exposures = sections.get("factors")
    if factors and isinstance(exposures, Mapping):
        if "note" in exposures:
            grid = Grid([Column("factor exposures", wrap=True)], title=f"{name}: factor exposures", key="factors")
            grid.add_row(str(exposures["note"]))
            return grids + [grid]
        title = f"{name}: factor exposures, {exposures['bars']:,} daily returns {exposures['start']} → {exposures['end']} (OLS)"
        grid = Grid([Column("factor"), Column("loading", right=True), Column("t-stat", right=True)], title=title, key="factors")
        for row in exposures["loadings"]:
            grid.add_row(Cell(str(row["factor"]), row["factor"]), Cell(f"{row['beta']:.3f}", row["beta"]), Cell(f"{row['t']:.2f}", row["t"]))
        grid.add_row("alpha (annual)", Cell(f"{exposures['alpha_annual'] * 100:.2f}%", exposures["alpha_annual"]),
                     Cell(f"{exposures['alpha_t']:.2f}", exposures["alpha_t"]))
        grid.add_row("R²", Cell(f"{exposures['r2']:.3f}", exposures["r2"]), Cell("", None))
        grid.add_row("residual (alpha) Sharpe", Cell(f"{exposures['residual_sharpe']:.3f}", exposures["residual_sharpe"]), Cell("", None))
        grids.append(grid)
    return grids


def print_analysis(
    name: str, sections: Mapping[str, object], *, factors: bool, bootstrap: bool, out: Console | None = None
) -> None:
    """Print a run's bootstrap intervals and factor exposures as never-truncated tables."""
    grids = analysis_grids(name, sections, factors=factors, bootstrap=bootstrap)
    if grids:
        print_grids(grids, "table", out)
