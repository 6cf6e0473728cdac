"""The notebook side of the reports: plotly figures to show inline, reports by suffix, a tear sheet for any returns.

``BacktestRun.plot()`` / ``Result.plot()`` return a :class:`plotly.graph_objects.Figure`
built from the same figure specifications as the HTML report (equity beside
the benchmark, drawdown, exposure), so a notebook and a report never
disagree.  :func:`tearsheet` makes the report of a plain returns series
(quantstats' ``reports.html`` idea): its statistics are
:func:`shortthehype.metrics.compute_stats` on the compounded curve.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from shortthehype.errors import ParamError

__all__ = ["document_figures", "plot_document", "plotly_figure", "sweep_figure", "tearsheet", "write_document"]


def _decode(node: Any, refs: Mapping[str, Any]) -> Any:
    """A report figure spec as plain Python: ``$ref`` resolved, typed arrays decoded to numpy."""
    if isinstance(node, Mapping):
        if set(node) == {"$ref"}:
            return refs[node["$ref"]]
        if set(node) == {"dtype", "bdata"}:
            return np.frombuffer(base64.b64decode(node["bdata"]), dtype=node["dtype"].replace("f8", "<f8"))
        return {k: _decode(v, refs) for k, v in node.items()}
    if isinstance(node, list):
        return [_decode(v, refs) for v in node]
    return node


def plotly_figure(figure: Any, refs: Mapping[str, Any] | None = None) -> Any:
    """One report :class:`~shortthehype.report.figures.Figure` as a plotly ``go.Figure`` (with its title)."""
    import plotly.graph_objects as go

    spec = _decode({"data": figure.data, "layout": figure.layout}, refs or {})
    layout = dict(spec["layout"])
    layout["title"] = {"text": figure.title, "x": 0.0, "xanchor": "left"}
    layout["margin"] = {**layout.get("margin", {}), "t": 80}
    return go.Figure(data=spec["data"], layout=layout)


def plot_document(document: Mapping[str, Any]) -> Any:
    """Equity (beside the benchmark), drawdown and exposure of a result document, stacked on one date axis."""
    from plotly.subplots import make_subplots

    from shortthehype.report.figures import date_strings, drawdown_figure, equity_figure, exposure_figure
    from shortthehype.report.model import backtest_view

    view = backtest_view(document)
    refs = {"dates": date_strings(view.dates)}
    x = {"$ref": "dates"}
    parts = [equity_figure(view, x), drawdown_figure(view, x)]
    if view.exposure is not None:
        parts.append(exposure_figure(view, x))
    fig = make_subplots(
        rows=len(parts), cols=1, shared_xaxes=True, vertical_spacing=0.07,
        subplot_titles=[part.title for part in parts], row_heights=[0.5, 0.25, 0.25][: len(parts)],
    )
    for row, part in enumerate(parts, 1):
        spec = _decode({"data": part.data, "layout": part.layout}, refs)
        for trace in spec["data"]:
            fig.add_trace(trace, row=row, col=1)
        yaxis = {k: v for k, v in spec["layout"]["yaxis"].items() if k in ("type", "tickformat", "dtick", "range", "title")}
        fig.update_yaxes(row=row, col=1, **yaxis)
    fig.update_layout(
        height=300 * len(parts) + 100,
        title={"text": f"{view.name}: {view.dates[0]:%Y-%m-%d} → {view.dates[-1]:%Y-%m-%d}", "x": 0.0, "xanchor": "left"},
        hovermode="x unified",
        paper_bgcolor="#ffffff",
        plot_bgcolor="#ffffff",
        legend={"orientation": "h", "x": 0.0, "y": -0.08, "yanchor": "top"},
    )
    return fig


def document_figures(document: Mapping[str, Any]) -> dict[str, Any]:
    """Every figure of a result document's HTML report, the strategy kind's included, as plotly figures by report key.

    The keys and the order are the report's: ``equity``, ``drawdown``, ``monthly``, ``rolling``, then
    ``exposure``, ``costs`` and ``options`` when the run has them, then the kind's own figures.
    """
    from shortthehype.constants import REPORT_ROLLING_WINDOW
    from shortthehype.report.figures import backtest_figures
    from shortthehype.report.model import backtest_view

    figures, refs = backtest_figures(backtest_view(document), REPORT_ROLLING_WINDOW)
    return {figure.key: plotly_figure(figure, refs) for figure in figures}


def write_document(document: Mapping[str, Any], path: str | os.PathLike[str]) -> Path:
    """Write a result document by the suffix of ``path``: ``.html``, ``.md``, or ``.png`` (the figure of ``plot()``)."""
    from shortthehype.report import format_from_suffix, write_report

    fmt = format_from_suffix(path, option="report path")
    if fmt == "png":
        from shortthehype.report import check_report_path
        from shortthehype.report.model import backtest_view
        from shortthehype.report.static import write_backtest_summary_png

        return write_backtest_summary_png(backtest_view(document), check_report_path(path))
    return write_report(document, path, format=fmt)


def sweep_figure(document: Mapping[str, Any]) -> Any:
    """The objective heatmap of a sweep document (``SweepResult.to_document(x=..., y=...)``) as a plotly figure."""
    from shortthehype.report import sweep_view as sv

    figure = sv.heatmap_figure(sv.sweep_view(document))
    if figure is None:
        raise ParamError("this sweep has no swept setting to plot")
    return plotly_figure(figure)


def tearsheet(
    returns: pd.Series,
    benchmark: pd.Series | None = None,
    *,
    path: str | os.PathLike[str] | None = None,
    name: str | None = None,
    periods_per_year: int | None = None,
) -> str:
    """A report of any daily returns series, optionally beside a benchmark's returns: HTML text (and a file with ``path``).

    Parameters
    ----------
    returns : Series
        Simple per-period returns (0.01 = +1 %) with a DatetimeIndex; NaN
        counts as a zero return.  The equity is ``1`` before the first
        return, compounded.
    benchmark : Series, optional
        The benchmark's simple returns (aligned on the dates; missing = 0).
    path : str or Path, optional
        Also write the report: ``.html``, ``.md`` or ``.png`` by suffix.
    name : str, optional
        The series' name in the report (default: ``returns.name`` or "returns").
    periods_per_year : int, optional
        Annualisation (default 252: daily returns).

    Returns
    -------
    str
        The self-contained HTML page (works offline).
    """
    from shortthehype.constants import ANNUALIZATION
    from shortthehype.metrics import compute_stats

    if not isinstance(returns, pd.Series) or not isinstance(returns.index, pd.DatetimeIndex):
        raise ParamError("tearsheet: returns must be a pandas Series with a DatetimeIndex")
    if len(returns) < 2:
        raise ParamError(f"tearsheet: need at least 2 returns, got {len(returns)}")
    label = name or (str(returns.name) if returns.name is not None else "returns")
    ann = periods_per_year or ANNUALIZATION
    equity = _compound(returns)
    bench_level = None if benchmark is None else _compound(benchmark.reindex(returns.index))
    stats = compute_stats(equity, benchmark=bench_level, periods_per_year=ann)
    document = _returns_document(label, equity, stats, bench_level, benchmark, ann)
    if path is not None:
        write_document(document, path)
    from shortthehype.report import render

    return render(document, "html")


def _compound(returns: pd.Series) -> pd.Series:
    """1 before the first return, then the compounded growth (the first date is one day before the first return)."""
    values = np.concatenate(([1.0], np.cumprod(1.0 + returns.fillna(0.0).to_numpy(dtype=np.float64))))
    index = pd.DatetimeIndex([returns.index[0] - pd.Timedelta(days=1)]).append(pd.DatetimeIndex(returns.index))
    return pd.Series(values, index=index)


def _returns_document(
    label: str, equity: pd.Series, stats: Mapping[str, float], bench_level: pd.Series | None, benchmark: pd.Series | None,
    periods_per_year: int,
) -> dict[str, Any]:
    from shortthehype import __version__
    from shortthehype.metrics import compute_stats

    def floats(values: Sequence[float]) -> list[float | None]:
        return [float(v) if np.isfinite(v) else None for v in values]

    bench_name = None
    bench_metrics = None
    if bench_level is not None:
        bench_name = str(benchmark.name) if benchmark is not None and benchmark.name is not None else "benchmark"
        bench_metrics = compute_stats(bench_level, periods_per_year=periods_per_year)
    return {
        "type": "backtest",
        "strategy": label,
        "kind": "returns",
        "description": "Tear sheet of a returns series (growth of 1).",
        "params": {},
        "engine": {},
        "tickers": [],
        "benchmark": bench_name,
        "source": None,
        "warnings": [],
        "start": f"{equity.index[0]:%Y-%m-%d}",
        "end": f"{equity.index[-1]:%Y-%m-%d}",
        "final_equity": float(equity.iloc[-1]),
        "metrics": {k: (float(v) if np.isfinite(v) else None) for k, v in stats.items()},
        "costs": {"fees": 0.0, "slippage": 0.0, "borrow": 0.0, "interest": 0.0},
        "equity": {"dates": [f"{d:%Y-%m-%d}" for d in equity.index], "values": floats(equity.to_numpy())},
        "events": [],
        "version": __version__,
        "status": "ok",
        "benchmark_equity": None if bench_level is None else floats(bench_level.to_numpy()),
        "benchmark_metrics": None if bench_metrics is None else {k: (float(v) if np.isfinite(v) else None) for k, v in bench_metrics.items()},
        "trades": [],
    }
