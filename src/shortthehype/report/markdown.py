"""Markdown summaries of a backtest or a comparison (GitHub-flavoured tables).

The summary holds the header facts, the metrics table beside the benchmark,
calendar-year returns, costs, the largest trades and the events; the
figures are in the HTML report and the PNGs.  User-provided strings are
escaped (see :func:`md`), so a ticker named ``<script>`` or ``a|b`` is
shown as written and cannot break a table.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from shortthehype.report import formatting as fmt
from shortthehype.report.analysis_view import analysis_markdown
from shortthehype.report.model import COST_KEYS, BacktestView, CompareView, report_metric_keys
from shortthehype.report.options_view import OPTION_COLUMNS, OPTIONS_EXPLANATION, option_records

__all__ = ["caveat_lines", "render_backtest_markdown", "render_compare_markdown"]

#: Trades listed in a Markdown summary (the largest by |P&L|).
MARKDOWN_TOP_TRADES = 10
#: Events listed in a Markdown summary (the first ones; counts by kind are complete).
MARKDOWN_EVENTS = 20

_SPECIAL = re.compile(r"([\\`*\[\]|#])|(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])")
_ENTITY = re.compile(r"&(?=#?\w+;)")


def md(text: object) -> str:
    """A user string made literal in Markdown, on one line.

    ``<`` and ``>`` become entities (no HTML can start), ``&`` only where it
    would start an entity; ``\\ ` * [ ] | #`` and underscores at a word edge
    are backslash-escaped (GitHub does not emphasise intraword underscores,
    so ``init_cash`` stays readable).
    """
    escaped = _ENTITY.sub("&amp;", str(text)).replace("<", "&lt;").replace(">", "&gt;")
    escaped = _SPECIAL.sub(lambda m: "\\" + m.group(0), escaped)
    return escaped.replace("\r", " ").replace("\n", " ")


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], numeric: Sequence[bool] | None = None) -> str:
    numeric = numeric or [False] * len(headers)
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---:" if n else "---" for n in numeric) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def caveat_lines(document: Any) -> list[str]:
    """The document's caveats (synthetic data, oracle timing) as bold quoted lines, then a blank line."""
    from shortthehype.caveats import document_caveats

    lines = document_caveats(document)
    return [f"> **{md(line)}**" for line in lines] + ([""] if lines else [])


def _metrics(columns: Sequence[tuple[str, Mapping[str, Any]]], keys: Sequence[str], bankrupt: Collection[str] = ()) -> str:
    ruined = [name in bankrupt for name, _ in columns]
    rows = []
    for key in keys:
        values = [values.get(key) for _, values in columns]
        if not fmt.shows_row(key, values, ruined):
            continue
        rows.append([md(fmt.stat_label(key))] + [fmt.stat(key, v, r) for v, r in zip(values, ruined)])
    return table(["Metric"] + [md(name) for name, _ in columns], rows, [False] + [True] * len(columns))


def _yearly(columns: Sequence[tuple[str, pd.Series]]) -> str:
    years = sorted({int(y) for _, series in columns for y in series.index})
    rows = [[str(y)] + [fmt.percent(series.get(y, np.nan)) for _, series in columns] for y in years]
    return table(["Year"] + [md(name) for name, _ in columns], rows, [False] + [True] * len(columns))


def render_backtest_markdown(view: BacktestView) -> str:
    """The Markdown summary of one backtest."""
    doc = view.document
    out = [f"# {md(view.name)}: backtest report", ""] + caveat_lines(doc)
    if doc.get("description"):
        out += [md(doc["description"]), ""]
    facts = [
        ("Strategy kind", md(doc.get("kind", ""))),
        ("Period", f"{view.dates[0]:%Y-%m-%d} → {view.dates[-1]:%Y-%m-%d} ({len(view.dates):,} bars)"),
        ("Status", md(doc.get("status", "ok"))),
        ("Data source", md(doc.get("source", ""))),
        ("Tickers", md(", ".join(str(t) for t in doc.get("tickers") or []))),
        ("Benchmark", md(f"{view.benchmark} (buy & hold)") if view.benchmark else "none"),
        ("Engine version", f"shortthehype {md(doc.get('version', '?'))}"),
        ("Starting value", fmt.money(view.start_value)),
        ("Final equity", fmt.money(view.final_equity)),
    ]
    out += [table(["", ""], [[k, v] for k, v in facts]), ""]
    params = doc.get("params") or {}
    settings = [[md(k), md(fmt.param_text(v))] for k, v in params.items()]
    settings += [[md(k), md(v)] for k, v in fmt.engine_settings(doc)]
    out += ["## Settings", "", table(["Setting", "Value"], settings), ""]
    for line in doc.get("warnings") or []:
        out.append(f"> data warning: {md(line)}")
    for line in view.notes:
        out.append(f"> note: {md(line)}")
    if doc.get("warnings") or view.notes:
        out.append("")

    rows = view.metric_rows(report_metric_keys())
    columns: list[tuple[str, Mapping[str, Any]]] = [(view.name, {k: v for k, v, _ in rows})]
    if view.benchmark:
        columns.append((f"{view.benchmark} (buy & hold)", {k: b for k, _, b in rows}))
    bankrupt = {view.name} if doc.get("status") == "bankrupt" else set()
    out += ["## Metrics", "", _metrics(columns, [k for k, _, _ in rows], bankrupt), ""]
    out += analysis_markdown([doc])

    yearly = [(view.name, view.yearly)]
    if view.benchmark_yearly is not None:
        yearly.append((str(view.benchmark), view.benchmark_yearly))
    out += ["## Calendar-year returns", "", _yearly(yearly), ""]

    costs = doc.get("costs") or {}
    cost_rows = [[key, fmt.money(costs.get(key)), fmt.percent(_ratio(costs.get(key), view.start_value))] for key in COST_KEYS]
    out += ["## Costs paid", "", table(["Cost", "Amount", "Of start value"], cost_rows, [False, True, True]), ""]

    options = option_records(doc, view.where)
    if options is not None:
        option_rows = [
            [
                md(r[key]) if formatter is None else _date(r[key]) if formatter == "date" else formatter(r[key])
                for key, _, formatter, _ in OPTION_COLUMNS
            ]
            for r in options.to_dict(orient="records")
        ]
        out += [
            "## Option contracts",
            "",
            table([title for _, title, _, _ in OPTION_COLUMNS], option_rows, [numeric for *_, numeric in OPTION_COLUMNS]),
            "",
            md(OPTIONS_EXPLANATION),
            "",
        ]

    from shortthehype.strategies.base import kind_report

    hooks = kind_report(doc.get("kind"))
    if hasattr(hooks, "markdown"):
        out += list(hooks.markdown(view))

    if view.trades is not None:
        trades = view.trades
        orders = (doc.get("orders") or {}).get("count")
        out += ["## Trades", ""]
        if orders is not None:
            out += [f"{orders:,} order(s), {len(trades):,} trade(s).", ""]
        if len(trades):
            top = trades.iloc[np.argsort(-np.abs(trades["pnl"].to_numpy(dtype=np.float64)), kind="stable")[:MARKDOWN_TOP_TRADES]]
            trade_rows = [
                [
                    md(t["ticker"]),
                    md(t["direction"]),
                    _date(t["entry_date"]),
                    _date(t["exit_date"]),
                    fmt.money(t["pnl"]),
                    fmt.percent(t["return"]),
                    md(t["status"]),
                ]
                for t in top.to_dict(orient="records")
            ]
            out += [
                f"The {len(top)} largest by |P&L|:",
                "",
                table(["Ticker", "Direction", "Entry", "Exit", "P&L", "Return", "Status"], trade_rows,
                      [False, False, False, False, True, True, False]),
                "",
            ]
    events = view.events
    out += ["## Events", ""]
    if len(events):
        counts = events["kind"].value_counts()
        out += [f"{len(events):,} event(s): " + ", ".join(f"{md(k)} ×{n}" for k, n in counts.items()) + ".", ""]
        shown = events.iloc[:MARKDOWN_EVENTS]
        event_rows = [[_date(r["date"]), md(r["kind"]), md(r.get("ticker") or ""), md(r.get("detail") or "")]
                      for r in shown.to_dict(orient="records")]
        out += [table(["Date", "Kind", "Ticker", "Detail"], event_rows), ""]
        if len(events) > len(shown):
            out += [f"(the first {len(shown)} of {len(events):,}; the JSON has all)", ""]
    else:
        out += ["No events.", ""]
    return "\n".join(out).rstrip() + "\n"


def _date(value: Any) -> str:
    return "" if value is None or pd.isna(value) else pd.Timestamp(value).strftime("%Y-%m-%d")


def _ratio(value: Any, base: float) -> float | None:
    return None if fmt.is_missing(value) else float(value) / base


def render_compare_markdown(view: CompareView) -> str:
    """The Markdown summary of a comparison: runs, metrics side by side, calendar-year returns, costs."""
    out = [f"# Comparison of {len(view.runs)} strategies", ""] + caveat_lines([run.document for run in view.runs])
    runs = [
        [md(run.name), md(run.document.get("kind", "")), f"{run.dates[0]:%Y-%m-%d} → {run.dates[-1]:%Y-%m-%d}",
         md(run.benchmark or "none"), fmt.money(run.final_equity), md(run.document.get("status", "ok"))]
        for run in view.runs
    ]
    out += [table(["Strategy", "Kind", "Period", "Benchmark", "Final equity", "Status"], runs,
                  [False, False, False, False, True, False]), ""]
    keys = report_metric_keys()
    columns: list[tuple[str, Mapping[str, Any]]] = []
    benchmarks: dict[str, dict[str, Any]] = {}
    for run in view.runs:
        rows = run.metric_rows(keys)
        columns.append((run.name, {k: v for k, v, _ in rows}))
        if run.benchmark and run.benchmark not in benchmarks:
            benchmarks[run.benchmark] = {k: b for k, _, b in rows}
    columns += [(f"{ticker} (buy & hold)", values) for ticker, values in benchmarks.items()]
    bankrupt = {run.name for run in view.runs if run.document.get("status") == "bankrupt"}
    out += ["## Metrics", "", _metrics(columns, keys, bankrupt), ""]
    out += analysis_markdown([run.document for run in view.runs])
    out += ["## Calendar-year returns", "", _yearly([(run.name, run.yearly) for run in view.runs]), ""]
    cost_rows = [[md(run.name)] + [fmt.money((run.document.get("costs") or {}).get(k)) for k in COST_KEYS] for run in view.runs]
    out += ["## Costs paid", "", table(["Strategy"] + [k.capitalize() for k in COST_KEYS], cost_rows,
                                       [False] + [True] * len(COST_KEYS)), ""]
    return "\n".join(out).rstrip() + "\n"
