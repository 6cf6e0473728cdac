"""Rich rendering of results for the terminal."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from rich.table import Table

#: Statistics left out of the default terminal table (shown in JSON and reports).
HIDDEN_KEYS = frozenset({"start_value", "end_value", "omega", "tail_ratio", "skew", "kurtosis", "avg_trade_return"})


def table_keys() -> tuple[str, ...]:
    """Statistics shown in the default terminal table, in the order of :mod:`shortthehype.metrics`."""
    from shortthehype.metrics import BENCHMARK_STATS_KEYS, STATS_KEYS

    own = STATS_KEYS + tuple(k for k in BENCHMARK_STATS_KEYS if not k.startswith("benchmark_"))
    return tuple(k for k in own if k not in HIDDEN_KEYS)


def stats_table(
    columns: Mapping[str, Mapping[str, float]], *, title: str | None = None, keys: Sequence[str] | None = None
) -> Table:
    """One row per statistic, one column per strategy (or benchmark)."""
    from shortthehype.metrics import STATS_LABELS
    from shortthehype.report.formatting import stat

    keys = table_keys() if keys is None else keys
    table = Table(title=title, title_justify="left", header_style="bold")
    table.add_column("metric")
    for name in columns:
        table.add_column(name, justify="right")
    for key in keys:
        values = [stats.get(key) for stats in columns.values()]
        if all(v is None or (isinstance(v, float) and math.isnan(v)) for v in values):
            continue
        table.add_row(STATS_LABELS.get(key, key), *(stat(key, v) for v in values))
    return table


def options_tables(records: Sequence[Mapping[str, object]], width: int) -> list[Table]:
    """The option contracts of a run, one column per contract (as many tables as ``width`` needs).

    Terms, entry, exit, and P&L in currency and as a multiple of the premium;
    never truncated: a narrow terminal gets more, narrower tables.
    """
    fields = (
        ("contract", lambda r: f"{r['ticker']} {r['type']}"),
        ("symbol", lambda r: str(r["symbol"])),
        ("strike", lambda r: f"{r['strike']:,.2f}"),
        ("expiry", lambda r: str(r["expiry"])),
        ("contracts", lambda r: f"{r['contracts']:,.0f}"),
        ("entry", lambda r: str(r["entry_date"])),
        ("paid / share", lambda r: f"{r['entry_price']:,.4f}"),
        ("premium", lambda r: f"{r['premium']:,.0f}"),
        ("exit", lambda r: str(r["exit_date"] or "open")),
        ("value / share", lambda r: f"{r['exit_price']:,.4f}"),
        ("status", lambda r: str(r["status"])),
        ("P&L", lambda r: f"{r['pnl']:,.0f}"),
        ("P&L / premium", lambda r: f"{r['pnl_multiple']:+.2f}x"),
        ("delta at entry", lambda r: f"{r['delta']:+.4f}"),
        ("delta exposure", lambda r: f"{r['delta_exposure'] * 100:+.1f}%"),
    )
    cells = [[render(r) for _, render in fields] for r in records]
    label_width = max(len(name) for name, _ in fields) + 3
    column_widths = [max(len(text) for text in column) + 3 for column in cells]
    tables, group, used = [], [], label_width
    for k, column_width in enumerate(column_widths):
        if group and used + column_width > width:
            tables.append(group)
            group, used = [], label_width
        group.append(k)
        used += column_width
    if group:
        tables.append(group)
    out = []
    for n, group in enumerate(tables):
        title = "Option contracts" + (f" ({n + 1}/{len(tables)})" if len(tables) > 1 else "")
        table = Table(title=title, header_style="bold", title_justify="left", show_header=False)
        table.add_column("field", no_wrap=True)
        for _ in group:
            table.add_column(justify="right", no_wrap=True)
        for row, (name, _) in enumerate(fields):
            table.add_row(name, *(cells[k][row] for k in group))
        out.append(table)
    return out


def print_setting_warnings(lines: Sequence[str]) -> None:
    """Settings that have no effect or were adjusted to the window, one ``warning:`` line each on stderr."""
    from rich.markup import escape

    from shortthehype.cli import err_console

    for line in lines:
        err_console.print(f"[yellow]warning:[/] {escape(line)}", highlight=False)
