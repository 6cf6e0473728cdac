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


def print_caveats(lines: Sequence[str]) -> None:
    """Print each caveat (synthetic data, oracle timing) once, in bold red, before the numbers."""
    from rich.markup import escape

    from shortthehype.cli import console

    for line in dict.fromkeys(lines):
        console.print(f"[bold red]{escape(line)}[/]", highlight=False)
