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


def print_analysis(name: str, sections: Mapping[str, object], *, factors: bool, bootstrap: bool) -> None:
    """Print a run's bootstrap intervals and factor exposures (the sections of :func:`shortthehype.analysis.analysis_sections`)."""
    from rich.markup import escape

    from shortthehype.bootstrap import format_interval
    from shortthehype.cli import console
    from shortthehype.metrics import STATS_LABELS

    boot = sections.get("bootstrap")
    if bootstrap and isinstance(boot, Mapping):
        table = Table(
            title=f"{name}: {boot['confidence']:.0%} bootstrap intervals ({boot['samples']:,} stationary resamples, mean block {boot['block_length']:g} bars)",
            title_justify="left",
            header_style="bold",
        )
        table.add_column("metric")
        table.add_column(f"{name} [interval]", justify="right")
        vs = boot.get("vs")
        if vs:
            table.add_column(f"minus {vs['baseline']} [interval]", justify="right")
            table.add_column(f"P(beats {vs['baseline']})", justify="right")
        for key, entry in boot["metrics"].items():
            cells = [format_interval(key, entry)]
            if vs:
                diff = vs["metrics"][key]
                cells += [format_interval(key, diff), f"{diff['p_beat']:.1%}"]
            table.add_row(STATS_LABELS.get(key, key), *cells)
        console.print(table)
    exposures = sections.get("factors")
    if factors and isinstance(exposures, Mapping):
        if "note" in exposures:
            console.print(f"{escape(name)} factor exposures: {escape(str(exposures['note']))}", highlight=False)
            return
        table = Table(
            title=f"{name}: factor exposures, {exposures['bars']:,} daily returns {exposures['start']} → {exposures['end']} (OLS)",
            title_justify="left",
            header_style="bold",
        )
        for column in ("factor", "loading", "t-stat"):
            table.add_column(column, justify="left" if column == "factor" else "right")
        for row in exposures["loadings"]:
            table.add_row(escape(row["factor"]), f"{row['beta']:.3f}", f"{row['t']:.2f}")
        table.add_row("alpha (annual)", f"{exposures['alpha_annual'] * 100:.2f}%", f"{exposures['alpha_t']:.2f}")
        table.add_row("R²", f"{exposures['r2']:.3f}", "")
        table.add_row("residual (alpha) Sharpe", f"{exposures['residual_sharpe']:.3f}", "")
        console.print(table)
