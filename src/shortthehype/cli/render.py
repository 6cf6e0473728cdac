"""Rich rendering of results for the terminal."""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence

from rich.table import Table

#: Statistics left out of the default terminal table (shown in JSON and reports).
HIDDEN_KEYS = frozenset({"start_value", "end_value", "omega", "tail_ratio", "skew", "kurtosis", "avg_trade_return"})


def table_keys() -> tuple[str, ...]:
    """Statistics shown in the default terminal table, in the order of :mod:`shortthehype.metrics`."""
    from shortthehype.metrics import BENCHMARK_STATS_KEYS, STATS_KEYS

    own = STATS_KEYS + tuple(k for k in BENCHMARK_STATS_KEYS if not k.startswith("benchmark_"))
    return tuple(k for k in own if k not in HIDDEN_KEYS)


def stats_table(
    columns: Mapping[str, Mapping[str, float]],
    *,
    title: str | None = None,
    keys: Sequence[str] | None = None,
    bankrupt: Collection[str] = (),
) -> Table:
    """One row per statistic, one column per strategy (or benchmark); ``bankrupt`` names the ruined columns."""
    from shortthehype.metrics import STATS_LABELS

    keys = table_keys() if keys is None else keys
    table = Table(title=title, title_justify="left", header_style="bold")
    table.add_column("metric")
    for name in columns:
        table.add_column(name, justify="right")
    for key in keys:
        values = [stats.get(key) for stats in columns.values()]
        if all(v is None or (isinstance(v, float) and math.isnan(v)) for v in values):
            continue
        table.add_row(STATS_LABELS.get(key, key), *(stat_cell(key, v, name in bankrupt) for name, v in zip(columns, values)))
    return table


def stat_cell(key: str, value: object, bankrupt: bool) -> str:
    """A statistic as the terminal shows it: ``bankrupt`` for a ratio a ruined account does not have."""
    from shortthehype.metrics import BANKRUPT_UNDEFINED_KEYS
    from shortthehype.report.formatting import is_missing, stat

    if bankrupt and key in BANKRUPT_UNDEFINED_KEYS and is_missing(value):
        return "bankrupt"
    return stat(key, value)
