"""Self-contained HTML reports: one file, plotly.js embedded, no network.

The page is plain HTML (header, tables: readable and searchable without
JavaScript) plus one figure payload (JSON, see :mod:`shortthehype.report.figures`)
that a small inline script draws with the embedded plotly.js.  Every
user-provided string (strategy, description, tickers, parameters, data
warnings, event details) is HTML-escaped; JSON inside ``<script>`` elements
has ``<``, ``>`` and ``&`` written as ``\\u`` escapes, so no value can close
the element.

Every number in a table carries the document's exact value in a
``data-value`` attribute (Python's shortest round-trip repr), next to its
rounded display; the sortable tables sort on it.  The output is
deterministic: the same document gives the same bytes (no timestamps).
"""

from __future__ import annotations

import html
import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from shortthehype.constants import REPORT_MAX_TABLE_ROWS, REPORT_ROLLING_WINDOW
from shortthehype.report import formatting as fmt
from shortthehype.report.assets import PAGE_CSS, PAGE_JS, plotly_payload, plotly_version
from shortthehype.report.figures import Figure, backtest_figures, compare_figures, figure_specs
from shortthehype.report.model import COST_KEYS, BacktestView, CompareView, report_metric_keys
from shortthehype.report.options_view import OPTION_COLUMNS, OPTIONS_EXPLANATION, option_records

__all__ = ["render_backtest_html", "render_compare_html"]

#: Trades table columns: document key, heading, formatter, numeric.
TRADE_COLUMNS = (
    ("ticker", "Ticker", None, False),
    ("direction", "Direction", None, False),
    ("entry_date", "Entry", "date", False),
    ("exit_date", "Exit", "date", False),
    ("size", "Size", fmt.quantity, True),
    ("entry_price", "Entry price", fmt.price, True),
    ("exit_price", "Exit price", fmt.price, True),
    ("pnl", "P&L", fmt.money, True),
    ("return", "Return", fmt.percent, True),
    ("fees", "Fees", fmt.money, True),
    ("borrow", "Borrow", fmt.money, True),
    ("status", "Status", None, False),
)
EVENT_COLUMNS = (("date", "Date", "date", False), ("kind", "Kind", None, False), ("ticker", "Ticker", None, False),
                 ("detail", "Detail", None, False))


def e(value: Any) -> str:
    """HTML-escape any value (quotes too: safe in attributes)."""
    return html.escape(str(value), quote=True)


def script_json(value: Any) -> str:
    """JSON that is safe inside a ``<script>`` element (no ``<``, ``>`` or ``&`` characters)."""
    text = json.dumps(value, separators=(",", ":"), allow_nan=False, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


# ---- building blocks ------------------------------------------------------------------------


def kv_table(rows: Iterable[tuple[str, str, Any]], css: str = "kv") -> str:
    """A two-column table; each row is (label, display text, exact number or None)."""
    body = []
    for label, text, value in rows:
        attr = f' data-value="{e(fmt.number_attr(value))}"' if value is not None else ""
        cls = ' class="num"' if value is not None else ""
        body.append(f"<tr><th scope=\"row\">{e(label)}</th><td{cls}{attr}>{e(text)}</td></tr>")
    return f'<table class="{css}"><tbody>{"".join(body)}</tbody></table>'


def num_cell(text: str, value: Any, key: str | None = None) -> str:
    attr = f' data-value="{e(fmt.number_attr(value))}"'
    if key:
        attr += f' data-key="{e(key)}"'
    negative = isinstance(value, (int, float)) and not fmt.is_missing(value) and value < 0
    css = "num neg" if negative else "num"
    return f'<td class="{css}"{attr}>{e(text)}</td>'


def metrics_table(
    columns: Sequence[tuple[str, Mapping[str, Any]]], keys: Sequence[str], bankrupt: Collection[str] = ()
) -> str:
    """Statistics table: one row per key with a value somewhere, one column per (heading, values).

    ``bankrupt`` names the columns of ruined accounts: their undefined ratios read "bankrupt".
    """
    head = "".join(f'<th class="num" scope="col">{e(name)}</th>' for name, _ in columns)
    ruined = [name in bankrupt for name, _ in columns]
    rows = []
    for key in keys:
        values = [values.get(key) for _, values in columns]
        if not fmt.shows_row(key, values, ruined):
            continue
        cells = "".join(num_cell(fmt.stat(key, v, r), v, key) for v, r in zip(values, ruined))
        rows.append(f'<tr data-key="{e(key)}"><th scope="row">{e(fmt.stat_label(key))}</th>{cells}</tr>')
    return (
        f'<table class="metrics" id="metrics"><thead><tr><th scope="col">Metric</th>{head}</tr></thead>'
        f'<tbody>{"".join(rows)}</tbody></table>'
    )


def _cell(value: Any, formatter: Any, numeric: bool) -> str:
    if formatter == "date":
        text = "" if value is None or pd.isna(value) else pd.Timestamp(value).strftime("%Y-%m-%d")
        return f'<td class="date" data-value="{e(text)}">{e(text)}</td>'
    if numeric:
        number = None if value is None or pd.isna(value) else float(value)
        return num_cell(formatter(number), number)
    return f"<td>{e('' if value is None or (isinstance(value, float) and pd.isna(value)) else value)}</td>"


def records_table(frame: pd.DataFrame, columns: Sequence[tuple[str, str, Any, bool]], table_id: str) -> str:
    numeric_attr = ' class="num" data-type="number"'
    head = "".join(
        f'<th scope="col"{numeric_attr if numeric else ""}>{e(title)}</th>' for _, title, _, numeric in columns
    )
    rows = []
    for record in frame.to_dict(orient="records"):
        rows.append("<tr>" + "".join(_cell(record.get(key), f, numeric) for key, _, f, numeric in columns) + "</tr>")
    return (
        f'<div class="scroll"><table class="sortable records" id="{e(table_id)}"><thead><tr>{head}</tr></thead>'
        f'<tbody>{"".join(rows)}</tbody></table></div>'
    )


def figure_section(figure: Figure) -> str:
    caption = f'<p class="caption">{e(figure.caption)}</p>' if figure.caption else ""
    return (
        f'<section id="sec-{e(figure.key)}"><h2>{e(figure.title)}</h2>'
        f'<div class="figure" id="fig-{e(figure.key)}"></div>{caption}</section>'
    )


def caveats_banner(document: Any) -> str:
    """The caveats of a document (synthetic data, oracle timing) as a banner above everything else."""
    from shortthehype.caveats import document_caveats

    lines = document_caveats(document)
    if not lines:
        return ""
    items = "".join(f"<li>{e(line)}</li>" for line in lines)
    return f'<div class="caveats" id="sth-caveats" role="note"><ul>{items}</ul></div>'


def warnings_block(lines: Sequence[str], title: str) -> str:
    if not lines:
        return ""
    items = "".join(f"<li>{e(line)}</li>" for line in lines)
    return f'<div class="warn"><strong>{e(title)}</strong><ul>{items}</ul></div>'


def page(title: str, body: Sequence[str], figures: Sequence[Figure], refs: Mapping[str, Any], version: str) -> str:
    """The whole HTML document around the body sections."""
    payload = {"figures": figure_specs(figures), "refs": refs}
    status = '<p id="sth-status">Drawing the figures…</p>' if figures else ""
    plotly = plotly_payload() if figures else ""
    footer = (
        f"Report by shortthehype {e(version)} from its result JSON · figures: plotly.js {e(plotly_version())} "
        "embedded (works offline) · every table number carries the JSON's exact value in its data-value attribute"
    )
    return "".join(
        [
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">",
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f'<meta name="generator" content="shortthehype {e(version)}">',
            f"<title>{e(title)}</title><style>{PAGE_CSS}</style></head>\n<body><main>",
            status,
            "\n".join(body),
            f"<footer>{footer}</footer></main>\n",
            f'<script type="application/json" id="sth-figures">{script_json(payload)}</script>\n',
            f'<script type="application/octet-stream" id="sth-plotly">{plotly}</script>\n',
            f"<script>{PAGE_JS}</script>\n</body></html>\n",
        ]
    )


# ---- backtest ----------------------------------------------------------------------------------


def _run_rows(view: BacktestView) -> list[tuple[str, str, Any]]:
    doc = view.document
    tickers = doc.get("tickers") or []
    rows: list[tuple[str, str, Any]] = [
        ("Strategy kind", str(doc.get("kind", "")), None),
        ("Period", f"{view.dates[0]:%Y-%m-%d} → {view.dates[-1]:%Y-%m-%d} ({len(view.dates):,} bars)", None),
        ("Data source", str(doc.get("source", "")), None),
        ("Tickers", ", ".join(str(t) for t in tickers), None),
        ("Benchmark", f"{view.benchmark} (buy & hold)" if view.benchmark else "none", None),
        ("Engine version", f"shortthehype {doc.get('version', '?')}", None),
        ("Starting value", fmt.money(view.start_value), view.start_value),
        ("Final equity", fmt.money(view.final_equity), view.final_equity),
    ]
    return rows


def _cost_rows(view: BacktestView) -> list[tuple[str, str, Any]]:
    costs = view.document.get("costs") or {}
    rows = []
    total = 0.0
    for key in COST_KEYS:
        value = costs.get(key)
        if value is None:
            continue
        total += float(value)
        label = "Interest paid (< 0: earned)" if key == "interest" else f"{key.capitalize()} paid"
        rows.append((label, f"{fmt.money(value)} ({fmt.percent(float(value) / view.start_value)} of start)", value))
    if rows:
        rows.append(("Total", f"{fmt.money(total)} ({fmt.percent(total / view.start_value)} of start)", total))
    return rows


def header_section(view: BacktestView) -> str:
    doc = view.document
    status = str(doc.get("status", "ok"))
    badge = f'<span class="badge {"bankrupt" if status == "bankrupt" else "ok"}">{e(status)}</span>'
    description = f'<p class="description">{e(doc["description"])}</p>' if doc.get("description") else ""
    params = doc.get("params") or {}
    blocks = [
        f"<div><h3>Run</h3>{kv_table(_run_rows(view))}<h3>Costs paid</h3>{kv_table(_cost_rows(view))}</div>",
        "<div><h3>Parameters</h3>"
        + (kv_table((str(k), fmt.param_text(v), None) for k, v in params.items()) if params else "<p>none</p>")
        + "</div>",
        "<div><h3>Engine and costs</h3>" + kv_table((k, v, None) for k, v in fmt.engine_settings(doc)) + "</div>",
    ]
    warnings = warnings_block([str(w) for w in doc.get("warnings") or []], "Data warnings")
    notes = warnings_block(list(view.notes), "Notes")
    return (
        f'<header class="report" id="sec-header"><h1>{e(view.name)}{badge}</h1>{description}'
        f'<div class="grid">{"".join(blocks)}</div>{warnings}{notes}</header>'
    )


def metrics_section(view: BacktestView) -> str:
    rows = view.metric_rows(report_metric_keys())
    own = {key: value for key, value, _ in rows}
    columns: list[tuple[str, Mapping[str, Any]]] = [(view.name, own)]
    if view.benchmark:
        columns.append((f"{view.benchmark} (buy & hold)", {key: other for key, _, other in rows}))
    note = (
        "Statistics of the equity curve (daily returns, 252 a year); the benchmark column is the benchmark bought "
        "and held over the same dates. Beta, alpha, correlation and information ratio compare the two."
    )
    bankrupt = {view.name} if view.document.get("status") == "bankrupt" else set()
    table = metrics_table(columns, [k for k, _, _ in rows], bankrupt)
    return f'<section id="sec-metrics"><h2>Metrics</h2>{table}<p class="caption">{e(note)}</p></section>'


def _limited(frame: pd.DataFrame, key: str | None) -> tuple[pd.DataFrame, str]:
    """At most REPORT_MAX_TABLE_ROWS rows: the largest |key| (or the first rows), with a note."""
    if len(frame) <= REPORT_MAX_TABLE_ROWS:
        return frame, ""
    if key is not None and key in frame:
        order = np.argsort(-np.abs(frame[key].to_numpy(dtype=np.float64)), kind="stable")[:REPORT_MAX_TABLE_ROWS]
        kept = frame.iloc[np.sort(order)]
        note = f"showing the {REPORT_MAX_TABLE_ROWS:,} of {len(frame):,} with the largest |{key}|; the JSON has all"
    else:
        kept = frame.iloc[:REPORT_MAX_TABLE_ROWS]
        note = f"showing the first {REPORT_MAX_TABLE_ROWS:,} of {len(frame):,}; the JSON has all"
    return kept, note


def trades_section(view: BacktestView) -> str:
    if view.trades is None:
        return ""
    orders = view.document.get("orders") or {}
    count = orders.get("count")
    by_reason = orders.get("by_reason") or {}
    lines = []
    if count is not None:
        detail = ", ".join(f"{reason} ×{n}" for reason, n in by_reason.items())
        lines.append(f"{count:,} order(s)" + (f": {detail}" if detail else ""))
    trades = view.trades
    closed = int((trades["status"] == "closed").sum()) if "status" in trades else 0
    lines.append(f"{len(trades):,} trade(s) ({closed:,} closed, {len(trades) - closed:,} open at the end)")
    kept, note = _limited(trades, "pnl")
    if note:
        lines.append(note)
    summary = "; ".join(lines)
    table = records_table(kept, TRADE_COLUMNS, "trades") if len(trades) else "<p>No trades.</p>"
    explain = (
        "A trade is a round trip from flat to flat (or a reversal); prices are quantity-weighted average fills after "
        "slippage; P&L is net of fees and borrow; open trades are valued at the last close. Click a heading to sort."
    )
    return (
        f'<section id="sec-trades"><h2>Trades</h2><p>{e(summary)}</p>{table}'
        f'<p class="caption">{e(explain)}</p></section>'
    )


def options_section(view: BacktestView) -> str:
    """The option contracts bought in the run (none: no section)."""
    records = option_records(view.document, view.where)
    if records is None:
        return ""
    premium = float(records["premium"].sum())
    pnl = float(records["pnl"].sum())
    summary = (
        f"{len(records):,} contract(s); premium paid {fmt.money(premium)}, P&L {fmt.money(pnl)} "
        f"({fmt.multiple(pnl / premium) if premium > 0 else fmt.MISSING} the premium)"
    )
    table = records_table(records, OPTION_COLUMNS, "options")
    return (
        f'<section id="sec-options"><h2>Option contracts</h2><p>{e(summary)}</p>{table}'
        f'<p class="caption">{e(OPTIONS_EXPLANATION)}</p></section>'
    )


def events_section(view: BacktestView) -> str:
    events = view.events
    if len(events) and "kind" in events:
        counts = events["kind"].value_counts()
        summary = f"{len(events):,} event(s): " + ", ".join(f"{k} ×{n}" for k, n in counts.items())
    else:
        summary = "No events: no margin calls, stops, liquidations, delistings, rejected orders or bankruptcy."
    kept, note = _limited(events, None)
    if note:
        summary += f"; {note}"
    table = records_table(kept, EVENT_COLUMNS, "events") if len(events) else ""
    return f'<section id="sec-events"><h2>Events</h2><p>{e(summary)}</p>{table}</section>'


def render_backtest_html(view: BacktestView) -> str:
    """The HTML report of one backtest (see the module docstring)."""
    figures, refs = backtest_figures(view, REPORT_ROLLING_WINDOW)
    from shortthehype.report.analysis_view import analysis_html

    body = [caveats_banner(view.document), header_section(view), metrics_section(view), analysis_html([view.document])]
    body += [figure_section(f) for f in figures]
    body += [options_section(view), trades_section(view), events_section(view)]
    title = f"{view.name}: {view.dates[0]:%Y-%m-%d} → {view.dates[-1]:%Y-%m-%d}"
    return page(title, body, figures, refs, str(view.document.get("version", "")))


# ---- comparison --------------------------------------------------------------------------------


def _compare_header(view: CompareView) -> str:
    head = "<tr><th>Strategy</th><th>Kind</th><th>Period</th><th>Benchmark</th><th class=\"num\">Final equity</th><th>Status</th></tr>"
    rows = []
    for run in view.runs:
        doc = run.document
        rows.append(
            f"<tr><td>{e(run.name)}</td><td>{e(doc.get('kind', ''))}</td>"
            f"<td>{run.dates[0]:%Y-%m-%d} → {run.dates[-1]:%Y-%m-%d}</td><td>{e(run.benchmark or 'none')}</td>"
            f"{num_cell(fmt.money(run.final_equity), run.final_equity, 'final_equity')}<td>{e(doc.get('status', 'ok'))}</td></tr>"
        )
    warnings = [f"{run.name}: {w}" for run in view.runs for w in run.document.get("warnings") or []]
    notes = [f"{run.name}: {n}" for run in view.runs for n in run.notes]
    return (
        f'<header class="report" id="sec-header"><h1>Comparison of {len(view.runs)} strategies</h1>'
        f'<table id="runs"><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table>'
        f"{warnings_block(warnings, 'Data warnings')}{warnings_block(notes, 'Notes')}</header>"
    )


def _compare_metrics(view: CompareView) -> str:
    keys = report_metric_keys()
    columns: list[tuple[str, Mapping[str, Any]]] = []
    benchmarks: dict[str, dict[str, Any]] = {}
    for run in view.runs:
        rows = run.metric_rows(keys)
        columns.append((run.name, {key: own for key, own, _ in rows}))
        if run.benchmark and run.benchmark not in benchmarks:
            benchmarks[run.benchmark] = {key: other for key, _, other in rows}
    columns += [(f"{ticker} (buy & hold)", values) for ticker, values in benchmarks.items()]
    if len(benchmarks) == 1:
        note = f"Beta, alpha, correlation and information ratio of every column are measured against {next(iter(benchmarks))}."
    else:
        note = "Beta, alpha, correlation and information ratio are measured against each run's own benchmark (see the runs table)."
    caption = f'<p class="caption">{e(note)}</p>' if benchmarks else ""
    bankrupt = {run.name for run in view.runs if run.document.get("status") == "bankrupt"}
    return f'<section id="sec-metrics"><h2>Metrics</h2>{metrics_table(columns, keys, bankrupt)}{caption}</section>'


def _compare_costs(view: CompareView) -> str:
    head = "".join(f'<th class="num" data-type="number">{e(k.capitalize())}</th>' for k in COST_KEYS)
    rows = []
    for run in view.runs:
        costs = run.document.get("costs") or {}
        orders = (run.document.get("orders") or {}).get("count")
        cells = "".join(num_cell(fmt.money(costs.get(k)), costs.get(k)) for k in COST_KEYS)
        trades = len(run.trades) if run.trades is not None else None
        rows.append(
            f"<tr><td>{e(run.name)}</td>{cells}{num_cell('' if orders is None else f'{orders:,}', orders)}"
            f"{num_cell('' if trades is None else f'{trades:,}', trades)}{num_cell(f'{len(run.events):,}', len(run.events))}</tr>"
        )
    return (
        '<section id="sec-costs"><h2>Costs and activity</h2><table class="sortable" id="costs"><thead><tr><th>Strategy</th>'
        f'{head}<th class="num" data-type="number">Orders</th><th class="num" data-type="number">Trades</th>'
        f'<th class="num" data-type="number">Events</th></tr></thead><tbody>{"".join(rows)}</tbody></table></section>'
    )


def _compare_params(view: CompareView) -> str:
    parts = []
    for run in view.runs:
        params = run.document.get("params") or {}
        parts.append(
            f"<details><summary>{e(run.name)}</summary><div class=\"grid\">"
            f"<div><h3>Parameters</h3>{kv_table((str(k), fmt.param_text(v), None) for k, v in params.items())}</div>"
            f"<div><h3>Engine and costs</h3>{kv_table((k, v, None) for k, v in fmt.engine_settings(run.document))}</div>"
            "</div></details>"
        )
    return f'<section id="sec-params"><h2>Settings</h2>{"".join(parts)}</section>'


def render_compare_html(view: CompareView) -> str:
    """The HTML report of several backtests: one metrics table, overlaid figures, costs and settings."""
    figures, refs = compare_figures(view, REPORT_ROLLING_WINDOW)
    from shortthehype.report.analysis_view import analysis_html

    documents = [run.document for run in view.runs]
    body = [caveats_banner(documents), _compare_header(view), _compare_metrics(view), analysis_html(documents)]
    body += [figure_section(f) for f in figures]
    body += [_compare_costs(view), _compare_params(view)]
    title = "Comparison: " + ", ".join(view.names)
    return page(title, body, figures, refs, str(view.runs[0].document.get("version", "")))
