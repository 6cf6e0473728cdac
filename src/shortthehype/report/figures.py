"""The interactive figures of a report, as plotly figure specifications (plain dicts).

Each builder takes a view from :mod:`shortthehype.report.model` and returns a
:class:`Figure`: plotly ``data`` and ``layout`` ready for ``Plotly.newPlot``,
with two space savers that the page script undoes before plotting:

* number arrays are plotly's typed-array form ``{"dtype": "f8", "bdata":
  base64}`` (exact float64, about 11 characters a value instead of 18);
* the date axis of a run is stored once and referenced from every trace as
  ``{"$ref": name}`` (see :func:`resolve`).

Every user-provided string placed in a figure (strategy, ticker and
benchmark names) is HTML-escaped, because plotly interprets a subset of HTML
in trace names and titles.

Missing values (NaN) are gaps in lines.  Dates are ``YYYY-MM-DD`` strings.
"""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from shortthehype.report.model import BacktestView, CompareView

__all__ = ["Figure", "backtest_figures", "compare_figures", "exposure_range", "identical_runs", "resolve"]

#: Trace colours: strategy, benchmark, then further strategies of a comparison.
STRATEGY_COLOR = "#1f4e79"
BENCHMARK_COLOR = "#8c8c8c"
PALETTE = ("#1f4e79", "#d1495b", "#2e8b57", "#edae49", "#6a4c93", "#00798c", "#8c564b", "#e377c2")
#: One palette for the HTML figures and the PNGs (report.static imports these).
DRAWDOWN_COLOR = "#c0392b"
VOLATILITY_COLOR = "#d1495b"
EXPOSURE_COLORS = {"long": "#2e8b57", "short": "#d1495b", "gross": "#333333", "net": "#1f77b4"}
EXPOSURE_FILLS = {"long": "rgba(46,139,87,0.18)", "short": "rgba(209,73,91,0.18)"}
COST_COLORS = {"fees": "#1f77b4", "slippage": "#ff7f0e", "borrow": "#d62728", "interest": "#2ca02c"}
#: Height of a figure in pixels (the monthly heatmap grows with the number of years).
FIGURE_HEIGHT = 380
#: Top margin in pixels: plotly's toolbar (about 30 px, top right) above the legend, the Linear/Log buttons and
#: top-side axis labels, which sit in the rest of the margin just above the plot, so none of them is covered.
TOP_MARGIN = 70
#: Tick labels of a ratio axis: plain numbers without SI suffixes (d3-format).
RATIO_TICKFORMAT = "~g"
HEATMAP_ROW_HEIGHT = 22
#: A value chart (equity, growth) opens on a log scale when its values are positive and span more than this factor.
LOG_SCALE_SPAN = 10.0
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"


@dataclass
class Figure:
    """One figure of a report: an HTML id, a heading, plotly data and layout, and a one-line caption."""

    key: str
    title: str
    data: list[dict[str, Any]]
    layout: dict[str, Any]
    caption: str = ""
    refs: dict[str, list[str]] = field(default_factory=dict)

    def spec(self) -> dict[str, Any]:
        return {"id": f"fig-{self.key}", "data": self.data, "layout": self.layout}


def esc(text: object) -> str:
    """HTML-escape a user-provided string for plotly text (names, titles)."""
    return html.escape(str(text), quote=True)


def f8(values: Any) -> dict[str, str]:
    """A float array in plotly's typed-array form (little-endian float64, base64)."""
    array = np.ascontiguousarray(np.asarray(values, dtype="<f8"))
    return {"dtype": "f8", "bdata": base64.b64encode(array.tobytes()).decode("ascii")}


def finite(values: Any) -> np.ndarray:
    """Values with +-inf replaced by NaN (a gap), as floats."""
    array = np.asarray(values, dtype=np.float64).copy()
    array[~np.isfinite(array)] = np.nan
    return array


def date_strings(index: pd.DatetimeIndex) -> list[str]:
    return [d.strftime("%Y-%m-%d") for d in index]


def resolve(spec: Mapping[str, Any], refs: Mapping[str, Any]) -> dict[str, Any]:
    """The figure spec with every ``{"$ref": name}`` replaced by ``refs[name]`` (what the page script does)."""

    def walk(node: Any) -> Any:
        if isinstance(node, Mapping):
            if set(node) == {"$ref"}:
                return refs[node["$ref"]]
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return walk(spec)


def base_layout(y_title: str = "", *, height: int = FIGURE_HEIGHT, y_format: str | None = None, **extra: Any) -> dict[str, Any]:
    layout: dict[str, Any] = {
        "height": height,
        "margin": {"l": 70, "r": 20, "t": TOP_MARGIN, "b": 40},
        "font": {"family": FONT, "size": 12},
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "hovermode": "x unified",
        "legend": {"orientation": "h", "x": 0, "y": 1.0, "xanchor": "left", "yanchor": "bottom"},
        # automargin: the margins grow to fit long tick labels (dates, categories) and the axis titles, never clip them
        "xaxis": {"type": "date", "showgrid": True, "gridcolor": "#eeeeee", "linecolor": "#999999", "automargin": True},
        "yaxis": {"title": {"text": y_title}, "showgrid": True, "gridcolor": "#eeeeee", "zerolinecolor": "#bbbbbb",
                  "automargin": True},
    }
    if y_format:
        layout["yaxis"]["tickformat"] = y_format
    for axis in ("xaxis", "yaxis"):  # merged, so a caller's axis keeps automargin
        if axis in extra:
            layout[axis] = {"automargin": True, **extra.pop(axis)}
    layout.update(extra)
    return layout


def line_trace(name: str, x: Any, y: Any, color: str, *, hover: str, dash: str | None = None, **extra: Any) -> dict[str, Any]:
    trace: dict[str, Any] = {
        "type": "scatter",
        "mode": "lines",
        "name": esc(name),
        "x": x,
        "y": f8(finite(y)),
        "line": {"color": color, "width": 1.6},
        "hovertemplate": hover + "<extra>" + esc(name) + "</extra>",
    }
    if dash:
        trace["line"]["dash"] = dash
    trace.update(extra)
    return trace


def _set_scale(layout: dict[str, Any], log: bool, *, ratio: bool = False) -> None:
    """Open a value axis on a log (ticks at 1, 2, 5 x 10^k) or linear scale.

    Money gets SI tick labels (2M, 10M); a ratio (growth of 1) plain numbers
    (0.5, 2), since SI would write 0.5 as ``500m``.
    """
    layout["yaxis"]["type"] = "log" if log else "linear"
    layout["yaxis"]["tickformat"] = RATIO_TICKFORMAT if ratio else "~s"
    if log:
        layout["yaxis"]["dtick"] = "D2"


def _log_toggle(log: bool = False) -> list[dict[str, Any]]:
    return [
        {
            "type": "buttons",
            "direction": "right",
            "x": 1.0,
            "xanchor": "right",
            "y": 1.0,
            "yanchor": "bottom",
            "pad": {"b": 4},
            "showactive": True,
            "active": 1 if log else 0,
            "buttons": [
                {"label": "Linear", "method": "relayout", "args": [{"yaxis.type": "linear", "yaxis.dtick": None}]},
                {"label": "Log", "method": "relayout", "args": [{"yaxis.type": "log", "yaxis.dtick": "D2"}]},
            ],
        }
    ]


# ---- backtest ---------------------------------------------------------------------------------


def use_log_scale(*curves: Any) -> bool:
    """Whether a value chart starts on a log scale: every value positive and max / min above LOG_SCALE_SPAN."""
    values = np.concatenate([np.asarray(c, dtype=np.float64) for c in curves])
    values = values[np.isfinite(values)]
    return bool(values.size) and bool((values > 0).all()) and values.max() / values.min() > LOG_SCALE_SPAN


def equity_figure(view: BacktestView, x: Any) -> Figure:
    data = [line_trace(view.name, x, view.equity, STRATEGY_COLOR, hover="%{y:,.2f}")]
    curves = [view.equity]
    if view.benchmark_equity is not None:
        data.append(
            line_trace(f"{view.benchmark} (buy & hold)", x, view.benchmark_equity, BENCHMARK_COLOR, hover="%{y:,.2f}")
        )
        curves.append(view.benchmark_equity)
    log = use_log_scale(*curves)
    layout = base_layout("Equity", updatemenus=_log_toggle(log))
    _set_scale(layout, log)
    caption = "Account value at each close"
    if view.benchmark_equity is not None:
        caption += f"; the benchmark is the same starting capital in {view.benchmark} bought on its first price and held"
    return Figure("equity", "Equity", data, layout, caption + ". Linear or log scale: the buttons top right.")


def drawdown_figure(view: BacktestView, x: Any) -> Figure:
    data = [
        line_trace(view.name, x, view.drawdown, DRAWDOWN_COLOR, hover="%{y:.2%}", fill="tozeroy", fillcolor="rgba(192,57,43,0.25)")
    ]
    if view.benchmark_drawdown is not None:
        data.append(line_trace(f"{view.benchmark} (buy & hold)", x, view.benchmark_drawdown, BENCHMARK_COLOR, hover="%{y:.2%}", dash="dot"))
    return Figure(
        "drawdown",
        "Drawdown (underwater)",
        data,
        base_layout("Below the running peak", y_format=".0%"),
        "Equity below its running peak (the starting capital counts as the first peak); -100 % at ruin.",
    )


#: Diverging colour scale of the return heatmaps: losses red, gains green, zero white.
RETURNS_COLORSCALE = [[0.0, "#b2182b"], [0.25, "#ef8a62"], [0.5, "#f7f7f7"], [0.75, "#91cf60"], [1.0, "#1a9850"]]


def percent_label(value: float) -> str:
    """A return as a heatmap label with one decimal (``-0.0%`` is written ``0.0%``); '' when missing."""
    if not math.isfinite(value):
        return ""
    text = f"{value * 100:.1f}%"
    return "0.0%" if text == "-0.0%" else text


def _percent_text(values: np.ndarray) -> list[list[str]]:
    return [[percent_label(v) for v in row] for row in values]


def monthly_figure(view: BacktestView) -> Figure:
    months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    years = [str(y) for y in view.monthly.index]
    z = view.monthly.to_numpy(dtype=np.float64) if len(years) else np.empty((0, 12))
    totals = view.yearly.reindex(view.monthly.index).to_numpy(dtype=np.float64).reshape(-1, 1)
    limit = float(np.nanmax(np.abs(z))) if np.isfinite(z).any() else 0.1
    year_limit = float(np.nanmax(np.abs(totals))) if np.isfinite(totals).any() else 0.1
    scale = RETURNS_COLORSCALE
    data = [
        {
            "type": "heatmap",
            "x": months,
            "y": years,
            "z": [[v if math.isfinite(v) else None for v in row] for row in z],
            "text": _percent_text(z),
            "texttemplate": "%{text}",
            "textfont": {"size": 10},
            "colorscale": scale,
            "zmin": -limit,
            "zmax": limit,
            "showscale": False,
            "hovertemplate": "%{y} %{x}: %{z:.2%}<extra></extra>",
            "xgap": 1,
            "ygap": 1,
        },
        {
            "type": "heatmap",
            "x": ["Year"],
            "y": years,
            "z": [[v if math.isfinite(v) else None for v in row] for row in totals],
            "text": _percent_text(totals),
            "texttemplate": "%{text}",
            "textfont": {"size": 10},
            "colorscale": scale,
            "zmin": -year_limit,
            "zmax": year_limit,
            "showscale": False,
            "xaxis": "x2",
            "hovertemplate": "%{y}: %{z:.2%}<extra></extra>",
            "xgap": 1,
            "ygap": 1,
        },
    ]
    layout = base_layout(height=max(FIGURE_HEIGHT // 2, 90 + HEATMAP_ROW_HEIGHT * len(years)))
    layout.update(
        {
            "hovermode": "closest",
            "xaxis": {"domain": [0.0, 0.88], "type": "category", "side": "top", "showgrid": False},
            "xaxis2": {"domain": [0.9, 1.0], "type": "category", "side": "top", "showgrid": False, "anchor": "y"},
            "yaxis": {"type": "category", "autorange": "reversed", "showgrid": False},
            "margin": {"l": 60, "r": 20, "t": TOP_MARGIN, "b": 20},
        }
    )
    return Figure(
        "monthly",
        "Monthly returns",
        data,
        layout,
        "Daily returns compounded within each month; the last column compounds the year (own colour scale).",
    )


def rolling_figure(view: BacktestView, x: Any, window: int) -> Figure:
    rolling = view.rolling
    data = [line_trace(f"{view.name} Sharpe", x, rolling["sharpe"], STRATEGY_COLOR, hover="%{y:.2f}")]
    if "benchmark_sharpe" in rolling:
        data.append(line_trace(f"{view.benchmark} Sharpe", x, rolling["benchmark_sharpe"], BENCHMARK_COLOR, hover="%{y:.2f}", dash="dot"))
    data.append(line_trace(f"{view.name} volatility", x, rolling["volatility"], VOLATILITY_COLOR, hover="%{y:.1%}", yaxis="y2"))
    if "benchmark_volatility" in rolling:
        data.append(
            line_trace(f"{view.benchmark} volatility", x, rolling["benchmark_volatility"], "#e8a0a8", hover="%{y:.1%}", dash="dot", yaxis="y2")
        )
    layout = base_layout("Sharpe ratio", height=FIGURE_HEIGHT + 120)
    layout["yaxis"]["domain"] = [0.54, 1.0]
    layout["yaxis2"] = {
        "title": {"text": "Volatility"},
        "domain": [0.0, 0.46],
        "tickformat": ".0%",
        "showgrid": True,
        "gridcolor": "#eeeeee",
        "anchor": "x",
        "rangemode": "tozero",
    }
    layout["xaxis"]["anchor"] = "y2"
    return Figure(
        "rolling",
        f"Rolling {window}-day Sharpe ratio and volatility",
        data,
        layout,
        f"Annualised over the last {window} daily returns (about six months); missing until a full window exists.",
    )


def exposure_range(exposure: pd.DataFrame) -> tuple[float, float] | None:
    """A y range for the exposure chart when a few bars dwarf the rest (equity near zero before a ruin), else None.

    The range spans the 1st to 99th percentile of every exposure value (and
    zero), padded by 10 %; it is used only when the full range is more than
    three times as wide, so ordinary charts keep plotly's automatic range.
    """
    values = exposure.to_numpy(dtype=np.float64).ravel()
    values = values[np.isfinite(values)]
    if values.size == 0:
        return None
    lo, hi = np.percentile(values, [1.0, 99.0])
    lo, hi = min(float(lo), 0.0), max(float(hi), 0.0)
    span = hi - lo
    if span <= 0 or float(values.max() - values.min()) <= 3.0 * span:
        return None
    return lo - 0.1 * span, hi + 0.1 * span


def exposure_figure(view: BacktestView, x: Any) -> Figure:
    assert view.exposure is not None
    data = [
        line_trace(column, x, view.exposure[column], EXPOSURE_COLORS[column], hover="%{y:.1%}", fill="tozeroy",
              fillcolor=EXPOSURE_FILLS[column])
        for column in ("long", "short")
    ]
    data += [
        line_trace("gross", x, view.exposure["gross"], EXPOSURE_COLORS["gross"], hover="%{y:.1%}", dash="dot"),
        line_trace("net", x, view.exposure["net"], EXPOSURE_COLORS["net"], hover="%{y:.1%}"),
    ]
    layout = base_layout("Fraction of equity", y_format=".0%")
    caption = "Position values at each close over equity: long, short (negative), gross = long - short, net = long + short."
    limits = exposure_range(view.exposure)
    if limits is not None:
        layout["yaxis"]["range"] = list(limits)
        extreme = float(np.nanmax(np.abs(finite(view.exposure.to_numpy()))))
        caption += (f" The axis shows the usual range: as equity neared zero the exposure reached {extreme:,.0%}"
                    " of it (hover for the values).")
    return Figure("exposure", "Exposure", data, layout, caption)


def options_figure(view: BacktestView, x: Any) -> Figure | None:
    """The value of each option position at each close (none without option contracts)."""
    from shortthehype.report.options_view import option_values

    values = option_values(view.document, view.dates, view.where)
    if not values:
        return None
    data = [
        line_trace(name, x, finite([np.nan if v is None else v for v in series]), PALETTE[i % len(PALETTE)],
                   hover="%{y:,.2f}")
        for i, (name, series) in enumerate(values.items())
    ]
    return Figure(
        "option-values",
        "Option positions",
        data,
        base_layout("Position value"),
        "Value of each option position at each close (contracts x 100 x model price); 0 when not held. "
        "The contracts table gives the premium paid and the P&L.",
    )


def costs_figure(view: BacktestView, x: Any) -> Figure:
    assert view.costs is not None
    data = [line_trace(column, x, view.costs[column], COST_COLORS[column], hover="%{y:,.2f}") for column in view.costs.columns]
    return Figure(
        "costs",
        "Costs over time",
        data,
        base_layout("Cumulative, currency"),
        "Cumulative fees, slippage, short borrow and net cash interest paid (interest below zero was earned).",
    )


def backtest_figures(view: BacktestView, window: int) -> tuple[list[Figure], dict[str, list[str]]]:
    """Every figure of a backtest report, and the shared arrays they reference."""
    refs = {"dates": date_strings(view.dates)}
    x = {"$ref": "dates"}
    figures = [equity_figure(view, x), drawdown_figure(view, x)]
    if len(view.monthly):
        figures.append(monthly_figure(view))
    figures.append(rolling_figure(view, x, window))
    if view.exposure is not None:
        figures.append(exposure_figure(view, x))
    if view.costs is not None:
        figures.append(costs_figure(view, x))
    options = options_figure(view, x)
    if options is not None:
        figures.append(options)
    figures += kind_figures(view)
    return figures, refs


def kind_figures(view: BacktestView) -> list[Figure]:
    """The figures the run's strategy kind adds (its report hooks' ``figures``; none for most kinds)."""
    from shortthehype.strategies.base import kind_report

    hooks = kind_report(view.document.get("kind"))
    return list(hooks.figures(view)) if hasattr(hooks, "figures") else []


# ---- comparison ------------------------------------------------------------------------------


def compare_figures(view: CompareView, window: int) -> tuple[list[Figure], dict[str, list[str]]]:
    """Growth, drawdown, rolling Sharpe and yearly returns of every run of a comparison."""
    refs: dict[str, list[str]] = {}
    growth, drawdown, sharpe = [], [], []
    benchmarks: dict[str, tuple[str, BacktestView]] = {}
    twins = identical_runs(view)
    for i, run in enumerate(view.runs):
        name = f"dates{i}"
        refs[name] = date_strings(run.dates)
        x = {"$ref": name}
        color = PALETTE[i % len(PALETTE)]
        dash = "dash" if any(run.name in group[1:] for group in twins) else None  # drawn over its twin, both visible
        growth.append(line_trace(run.name, x, run.equity / run.start_value, color, hover="%{y:.3f}", dash=dash))
        drawdown.append(line_trace(run.name, x, run.drawdown, color, hover="%{y:.2%}", dash=dash))
        sharpe.append(line_trace(run.name, x, run.rolling["sharpe"], color, hover="%{y:.2f}", dash=dash))
        if run.benchmark_equity is not None and run.benchmark not in benchmarks:
            benchmarks[run.benchmark] = (name, run)
    for ticker, (name, run) in benchmarks.items():
        first = run.benchmark_equity.dropna()
        base = float(first.iloc[0]) if len(first) else math.nan
        growth.append(
            line_trace(f"{ticker} (buy & hold)", {"$ref": name}, run.benchmark_equity / base, BENCHMARK_COLOR, hover="%{y:.3f}", dash="dot")
        )
    years = sorted({int(y) for run in view.runs for y in run.yearly.index})
    bars = [
        {
            "type": "bar",
            "name": esc(run.name),
            "x": [str(y) for y in years],
            "y": f8(finite(run.yearly.reindex(years).to_numpy(dtype=np.float64))),
            "marker": {"color": PALETTE[i % len(PALETTE)]},
            "hovertemplate": "%{x}: %{y:.2%}<extra>" + esc(run.name) + "</extra>",
        }
        for i, run in enumerate(view.runs)
    ]
    same = "".join(f" {' and '.join(group)} have identical equity: their lines coincide (the later ones dashed)." for group in twins)
    figures = [
        Figure("growth", "Growth of 1", growth, _growth_layout(view),
               "Each run's equity divided by its starting value; benchmarks bought and held. Linear or log scale: the buttons top right."
               + same),
        Figure("drawdown", "Drawdown (underwater)", drawdown, base_layout("Below the running peak", y_format=".0%"),
               "Equity below its running peak; -100 % at ruin." + same),
        Figure("rolling", f"Rolling {window}-day Sharpe ratio", sharpe, base_layout("Sharpe ratio"),
               f"Annualised over the last {window} daily returns." + same),
        Figure("yearly", "Calendar-year returns", bars,
               base_layout("Return", y_format=".0%", barmode="group", hovermode="closest",
                       xaxis={"type": "category", "showgrid": False}),
               "Daily returns compounded within each calendar year (partial first and last years)."),
    ]
    return figures, refs


def identical_runs(view: CompareView) -> list[list[str]]:
    """Names of runs whose equity curves are identical (same dates and values), in groups of two or more."""
    groups: dict[tuple[Any, ...], list[str]] = {}
    for run in view.runs:
        key = (tuple(date_strings(run.dates)), run.equity.to_numpy(dtype=np.float64).tobytes())
        groups.setdefault(key, []).append(run.name)
    return [names for names in groups.values() if len(names) > 1]


def _growth_layout(view: CompareView) -> dict[str, Any]:
    log = use_log_scale(*[run.equity / run.start_value for run in view.runs])
    layout = base_layout("Value / starting value", updatemenus=_log_toggle(log))
    _set_scale(layout, log, ratio=True)
    return layout


def figure_specs(figures: Sequence[Figure]) -> list[dict[str, Any]]:
    return [figure.spec() for figure in figures]
