"""Reports of distribution studies (``rolling``, ``montecarlo``): the document, its figures and sections.

A distribution document (``type`` = ``"distribution"``, written by
:meth:`shortthehype.studies.StudyResult.to_document`) holds one row per run
(``rows``: column name -> list) and the distribution table (``summary``).
The report shows the caveats first, the settings, the distribution table,
the total return of every run (by entry date, or by path) and a histogram
of the total returns.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from shortthehype.errors import DataError
from shortthehype.report import formatting as fmt
from shortthehype.report.figures import PALETTE, Figure, base_layout, esc, f8, finite

__all__ = ["SUMMARY_LABELS", "check_distribution", "distribution_figures", "render_distribution_html", "render_distribution_markdown"]

#: Bins of the histogram of total returns.
HISTOGRAM_BINS = 40

SUMMARY_LABELS = {
    "count": "runs",
    "mean": "mean",
    "median": "median",
    "q25": "25 %",
    "q75": "75 %",
    "p5": "5 %",
    "p95": "95 %",
    "share_positive": "share > 0",
    "worst": "worst",
}


def check_distribution(document: Any, where: str = "document") -> Mapping[str, Any]:
    """The document, checked to be a distribution study with rows and a summary (DataError naming ``where`` otherwise)."""
    if not isinstance(document, Mapping) or document.get("type") != "distribution":
        raise DataError(f"{where}: not a distribution study (type 'distribution')")
    rows, summary = document.get("rows"), document.get("summary")
    if not isinstance(rows, Mapping) or "total_return" not in rows or not isinstance(summary, Mapping):
        raise DataError(f"{where}: a distribution study needs 'rows' (with total_return) and 'summary'")
    return document


def summary_cell(metric: str, statistic: str, value: Any) -> str:
    """A cell of the distribution table: counts as integers, shares as percentages, values as the metric is written."""
    if statistic == "count":
        return fmt.MISSING if fmt.is_missing(value) else f"{int(value):,}"
    if statistic == "share_positive":
        return fmt.percent(value)
    return fmt.stat(metric, value)


def _x_axis(document: Mapping[str, Any]) -> tuple[Any, str, dict[str, Any]]:
    """Entry dates for an entry-date study, each path's bubble peak for Monte Carlo (else the run's number)."""
    rows = document["rows"]
    if document.get("study") == "rolling" and "entry" in rows:
        return rows["entry"], "entry date", {"type": "date"}
    if "peak" in rows:
        return rows["peak"], "bubble peak", {"type": "date"}
    return list(range(len(rows["total_return"]))), "run", {"type": "linear"}


def distribution_figures(document: Mapping[str, Any]) -> list[Figure]:
    """The total return of every run, and their histogram."""
    rows = document["rows"]
    returns = finite(np.asarray([np.nan if v is None else v for v in rows["total_return"]], dtype=np.float64))
    x, x_title, x_axis = _x_axis(document)
    by_run = {
        "type": "bar",
        "x": x,
        "y": f8(returns),
        "name": "total return",
        "marker": {"color": [PALETTE[0] if v >= 0 else PALETTE[3] for v in np.nan_to_num(returns)]},
        "hovertemplate": f"{esc(x_title)} %{{x}}<br>total return %{{y:.2%}}<extra></extra>",
    }
    layout = base_layout("total return", y_format=".0%", hovermode="closest",
                         xaxis={**x_axis, "title": {"text": x_title}, "showgrid": True, "gridcolor": "#eeeeee"})
    if x_title == "bubble peak":
        by_run.update({"type": "scatter", "mode": "markers", "marker": {**by_run["marker"], "size": 6}})
    figures = [Figure("by-run", f"Total return by {x_title}", [by_run], layout,
                      caption=f"One bar per run ({len(returns):,}); green: gain, red: loss.")]
    finite_returns = returns[np.isfinite(returns)]
    histogram = {
        "type": "histogram",
        "x": [float(v) for v in finite_returns],
        "nbinsx": HISTOGRAM_BINS,
        "name": "runs",
        "marker": {"color": PALETTE[0]},
        "hovertemplate": "total return %{x}<br>%{y} run(s)<extra></extra>",
    }
    hist_layout = base_layout("runs", hovermode="closest",
                              xaxis={"type": "linear", "tickformat": ".0%", "title": {"text": "total return"}})
    median = (document["summary"].get("total_return") or {}).get("median")
    if not fmt.is_missing(median):
        hist_layout["shapes"] = [{"type": "line", "x0": median, "x1": median, "yref": "paper", "y0": 0, "y1": 1,
                                  "line": {"color": PALETTE[1], "dash": "dash"}}]
    figures.append(Figure("histogram", "Distribution of the total return", [histogram], hist_layout,
                          caption=f"{finite_returns.size:,} run(s) with a finite total return; dashed: the median."))
    return figures


def _title(document: Mapping[str, Any]) -> str:
    study = "entry-date study" if document.get("study") == "rolling" else "Monte Carlo over synthetic bubble paths"
    return f"{document.get('strategy', '?')}: {study}"


def render_distribution_html(document: Mapping[str, Any]) -> str:
    """The HTML report of a distribution study."""
    from shortthehype.report.html import caveats_banner, e, figure_section, kv_table, page, warnings_block

    settings = document.get("settings") or {}
    summary = document["summary"]
    metrics = list(summary)
    head = "<tr><th>statistic</th>" + "".join(f'<th class="num">{e(fmt.stat_label(m))}</th>' for m in metrics) + "</tr>"
    body_rows = []
    for statistic, label in SUMMARY_LABELS.items():
        cells = "".join(
            f'<td class="num" data-value="{e(fmt.number_attr(summary[m].get(statistic)))}" data-key="{e(m + "." + statistic)}">'
            f"{e(summary_cell(m, statistic, summary[m].get(statistic)))}</td>"
            for m in metrics
        )
        body_rows.append(f"<tr><th scope=\"row\">{e(label)}</th>{cells}</tr>")
    header = (
        f'<header class="report" id="sec-header"><h1>{e(_title(document))}</h1>'
        f'<div class="grid"><div><h3>Study</h3>{kv_table([("Strategy kind", str(document.get("kind", "")), None)] + [(str(k), fmt.param_text(v), None) for k, v in settings.items()])}</div></div>'
        f'{warnings_block([str(n) for n in document.get("notes") or []], "Notes")}</header>'
    )
    table = (
        '<section id="sec-distribution"><h2>Distribution</h2>'
        f'<table id="distribution"><thead>{head}</thead><tbody>{"".join(body_rows)}</tbody></table>'
        '<p class="caption">Quantiles over the runs (linear interpolation); share &gt; 0: the fraction of runs above zero; '
        "worst: the smallest value. The JSON and the Parquet file hold every run.</p></section>"
    )
    figures = distribution_figures(document)
    body = [caveats_banner(document), header, table] + [figure_section(f) for f in figures]
    return page(_title(document), body, figures, {}, str(document.get("version", "")))


def render_distribution_markdown(document: Mapping[str, Any]) -> str:
    """The Markdown summary of a distribution study: caveats, settings and the distribution table."""
    from shortthehype.report.markdown import caveat_lines, md, table

    summary = document["summary"]
    metrics = list(summary)
    out = [f"# {md(_title(document))}", ""] + caveat_lines(document)
    settings = document.get("settings") or {}
    out += [table(["Setting", "Value"], [[md(k), md(fmt.param_text(v))] for k, v in settings.items()]), ""]
    rows = [[label] + [summary_cell(m, s, summary[m].get(s)) for m in metrics] for s, label in SUMMARY_LABELS.items()]
    out += ["## Distribution", "", table(["statistic"] + [md(fmt.stat_label(m)) for m in metrics], rows,
                                         [False] + [True] * len(metrics)), ""]
    return "\n".join(out)
