"""Static PNG figures of a report, drawn with matplotlib (Agg, no display, no browser).

Why matplotlib and not plotly's own image export: plotly's exporter
(kaleido 1.x) drives a Chrome/Chromium process, which a CI machine or a
user's server may not have, takes seconds to start, and has changed its
installation story twice; matplotlib is already a dependency (of vectorbt),
renders in-process and gives byte-stable files for a given version.  The
PNGs show the same series as the HTML figures (they read the same
:class:`~shortthehype.report.model.BacktestView`); they are static, so the
equity figure uses a log scale when the curve is positive and spans more
than :data:`~shortthehype.report.figures.LOG_SCALE_SPAN` times.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from shortthehype.constants import REPORT_ROLLING_WINDOW
from shortthehype.report.figures import (
    BENCHMARK_COLOR,
    COST_COLORS,
    DRAWDOWN_COLOR,
    EXPOSURE_COLORS,
    PALETTE,
    RETURNS_COLORSCALE,
    STRATEGY_COLOR,
    VOLATILITY_COLOR,
    exposure_range,
    identical_runs,
    percent_label,
    use_log_scale,
)
from shortthehype.report.model import BacktestView, CompareView

__all__ = ["write_backtest_pngs", "write_backtest_summary_png", "write_bubble_png", "write_compare_pngs", "write_sweep_pngs", "write_walkforward_pngs"]

#: Resolution and size of the PNGs (inches x DPI = 1320 x 528 pixels for a line figure).
PNG_DPI = 120
PNG_SIZE = (11.0, 4.4)


def label(text: object) -> str:
    """A user string made literal for matplotlib: ``$`` would start mathtext, a leading ``_`` hides a legend entry."""
    out = str(text).replace("\\", "\\\\").replace("$", r"\$")
    return "\u200b" + out if out.startswith("_") else out


def new_figure(height: float = PNG_SIZE[1], rows: int = 1) -> tuple[Any, Any]:
    """A matplotlib figure of the report's width with ``rows`` stacked axes sharing x (light grid, no top/right spines)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(PNG_SIZE[0], height), dpi=PNG_DPI, layout="constrained")
    axes = fig.subplots(rows, 1, sharex=True, squeeze=False)[:, 0]
    for ax in axes:
        ax.grid(True, color="#e6e6e6", linewidth=0.8)
        ax.set_axisbelow(True)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    return fig, axes


def _log_axis(ax: Any) -> None:
    """Log scale with labelled ticks at 1, 2 and 5 x 10^k (plain numbers with thousands separators)."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    ax.set_yscale("log")
    ax.yaxis.set_major_locator(LogLocator(base=10.0, subs=(1.0, 2.0, 5.0)))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.10g}"))
    ax.yaxis.set_minor_formatter(NullFormatter())


def _percent_axis(ax: Any) -> None:
    from matplotlib.ticker import PercentFormatter

    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))


def save_figure(fig: Any, directory: Path, name: str) -> Path:
    """Save ``fig`` as ``directory/name.png`` (atomically, stable bytes)."""
    return _save_as(fig, directory / f"{name}.png")


def _save_as(fig: Any, path: Path, option: str = "--png") -> Path:
    """Save ``fig`` as a PNG at ``path``, atomically (no timestamp or software tag: stable bytes)."""
    from shortthehype.report import write_atomically

    return write_atomically(
        path, lambda handle: fig.savefig(handle, format="png", dpi=PNG_DPI, metadata={"Software": None}), option=option
    )


def side_legend(ax: Any, ncols: int = 1) -> None:
    """The legend beside the plot, right of the axes, so it never covers the data."""
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, ncols=ncols, borderaxespad=0.0)


def _draw_equity(ax: Any, view: BacktestView) -> None:
    ax.plot(view.dates, view.equity, color=STRATEGY_COLOR, linewidth=1.2, label=label(view.name))
    values = [view.equity.to_numpy()]
    if view.benchmark_equity is not None:
        ax.plot(view.dates, view.benchmark_equity, color=BENCHMARK_COLOR, linewidth=1.0, label=label(f"{view.benchmark} (buy & hold)"))
        values.append(view.benchmark_equity.dropna().to_numpy())
    log = use_log_scale(*values)
    if log:
        _log_axis(ax)
    else:
        from matplotlib.ticker import StrMethodFormatter

        ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))  # 1,200,000, not an offset "1e6"
    ax.set_title(label(f"{view.name}: equity" + (" (log scale)" if log else "")), loc="left")
    side_legend(ax)


def _draw_drawdown(ax: Any, view: BacktestView) -> None:
    ax.fill_between(view.dates, view.drawdown.to_numpy(), 0.0, color=DRAWDOWN_COLOR, alpha=0.35, linewidth=0, label=label(view.name))
    if view.benchmark_drawdown is not None:
        ax.plot(view.dates, view.benchmark_drawdown, color=BENCHMARK_COLOR, linewidth=0.9, linestyle=":",
                label=label(f"{view.benchmark} (buy & hold)"))
    _percent_axis(ax)
    ax.set_title(label(f"{view.name}: drawdown below the running peak"), loc="left")
    side_legend(ax)


def _draw_exposure(ax: Any, view: BacktestView) -> None:
    for column in ("long", "short"):
        ax.fill_between(view.dates, view.exposure[column].to_numpy(), 0.0, color=EXPOSURE_COLORS[column], alpha=0.2,
                        linewidth=0, label=column)
    ax.plot(view.dates, view.exposure["gross"], color=EXPOSURE_COLORS["gross"], linewidth=0.9, linestyle=":", label="gross")
    ax.plot(view.dates, view.exposure["net"], color=EXPOSURE_COLORS["net"], linewidth=1.0, label="net")
    _percent_axis(ax)
    limits = exposure_range(view.exposure)
    if limits is not None:
        ax.set_ylim(*limits)
    ax.set_title(label(f"{view.name}: exposure (fraction of equity)"), loc="left")
    side_legend(ax)


def _equity(view: BacktestView, directory: Path) -> Path:
    fig, (ax,) = new_figure()
    _draw_equity(ax, view)
    return save_figure(fig, directory, "equity")


def _drawdown(view: BacktestView, directory: Path) -> Path:
    fig, (ax,) = new_figure()
    _draw_drawdown(ax, view)
    return save_figure(fig, directory, "drawdown")


def write_backtest_summary_png(view: BacktestView, path: str | os.PathLike[str], *, option: str = "report path") -> Path:
    """One PNG with the figure of ``Result.plot()``: equity beside the benchmark, drawdown and exposure."""
    rows = 3 if view.exposure is not None else 2
    fig, axes = new_figure(height=PNG_SIZE[1] * rows * 0.8, rows=rows)
    _draw_equity(axes[0], view)
    _draw_drawdown(axes[1], view)
    if view.exposure is not None:
        _draw_exposure(axes[2], view)
    return _save_as(fig, Path(path), option=option)


def _monthly(view: BacktestView, directory: Path) -> Path:
    from matplotlib.colors import LinearSegmentedColormap, TwoSlopeNorm

    cmap = LinearSegmentedColormap.from_list("returns", [(stop, color) for stop, color in RETURNS_COLORSCALE])

    months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    z = view.monthly.to_numpy(dtype=np.float64)
    totals = view.yearly.reindex(view.monthly.index).to_numpy(dtype=np.float64)
    years = [str(y) for y in view.monthly.index]
    height = max(2.2, 0.9 + 0.26 * len(years))
    from matplotlib.figure import Figure

    fig = Figure(figsize=(PNG_SIZE[0], height), dpi=PNG_DPI, layout="constrained")
    ax, ax_year = fig.subplots(1, 2, gridspec_kw={"width_ratios": [12, 1.3]}, sharey=True)
    for axis, values, columns in ((ax, z, months), (ax_year, totals.reshape(-1, 1), ["Year"])):
        limit = float(np.nanmax(np.abs(values))) if np.isfinite(values).any() else 0.1
        limit = limit if limit > 0 else 0.1
        norm = TwoSlopeNorm(vmin=-limit, vcenter=0.0, vmax=limit)
        axis.imshow(np.ma.masked_invalid(values), cmap=cmap, norm=norm, aspect="auto", interpolation="nearest")
        axis.set_xticks(range(len(columns)), columns)
        axis.xaxis.tick_top()
        for (i, j), value in np.ndenumerate(values):
            if math.isfinite(value):
                axis.text(j, i, percent_label(value), ha="center", va="center", fontsize=7)
        for side in ("top", "right", "bottom", "left"):
            axis.spines[side].set_visible(False)
    ax.set_yticks(range(len(years)), years)
    ax.set_title(label(f"{view.name}: monthly returns"), loc="left")
    return save_figure(fig, directory, "monthly_returns")


def _rolling(view: BacktestView, directory: Path) -> Path:
    fig, (top, bottom) = new_figure(PNG_SIZE[1] * 1.5, rows=2)
    rolling = view.rolling
    top.plot(view.dates, rolling["sharpe"], color=STRATEGY_COLOR, linewidth=1.0, label=label(view.name))
    bottom.plot(view.dates, rolling["volatility"], color=VOLATILITY_COLOR, linewidth=1.0, label=label(view.name))
    if "benchmark_sharpe" in rolling:
        top.plot(view.dates, rolling["benchmark_sharpe"], color=BENCHMARK_COLOR, linewidth=0.9, linestyle=":", label=label(view.benchmark))
        bottom.plot(view.dates, rolling["benchmark_volatility"], color=BENCHMARK_COLOR, linewidth=0.9, linestyle=":",
                    label=label(view.benchmark))
    top.axhline(0.0, color="#999999", linewidth=0.8)
    _percent_axis(bottom)
    top.set_title(label(f"{view.name}: rolling {REPORT_ROLLING_WINDOW}-day Sharpe ratio"), loc="left")
    bottom.set_title(f"Rolling {REPORT_ROLLING_WINDOW}-day volatility (annualised)", loc="left")
    side_legend(top)
    return save_figure(fig, directory, "rolling")


def _exposure(view: BacktestView, directory: Path) -> Path:
    fig, (ax,) = new_figure()
    _draw_exposure(ax, view)
    return save_figure(fig, directory, "exposure")


def _costs(view: BacktestView, directory: Path) -> Path:
    from matplotlib.ticker import StrMethodFormatter

    fig, (ax,) = new_figure()
    for column in view.costs.columns:
        ax.plot(view.dates, view.costs[column], color=COST_COLORS[column], linewidth=1.1, label=column)
    ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    ax.set_title(label(f"{view.name}: cumulative costs (interest below zero = earned)"), loc="left")
    side_legend(ax)
    return save_figure(fig, directory, "costs")


def write_backtest_pngs(view: BacktestView, directory: str | os.PathLike[str]) -> list[Path]:
    """Write the main figures of a backtest as PNG files into ``directory`` (created if needed).

    Files: ``equity``, ``drawdown``, ``monthly_returns`` (when a month has a
    return), ``rolling``, ``exposure`` and ``costs`` (when the document has
    them), each ``.png``, then the figures the strategy kind adds (its
    report hooks' ``pngs``).
    Existing files of those names are overwritten.
    """
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    paths = [_equity(view, out), _drawdown(view, out)]
    if len(view.monthly):
        paths.append(_monthly(view, out))
    paths.append(_rolling(view, out))
    if view.exposure is not None:
        paths.append(_exposure(view, out))
    if view.costs is not None:
        paths.append(_costs(view, out))
    from shortthehype.strategies.base import kind_report

    hooks = kind_report(view.document.get("kind"))
    if hasattr(hooks, "pngs"):
        paths += hooks.pngs(view, out)
    return paths


def write_compare_pngs(view: CompareView, directory: str | os.PathLike[str]) -> list[Path]:
    """Write a comparison's growth-of-1, drawdown and rolling-Sharpe figures as PNG files."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    growth, (ax_growth,) = new_figure()
    drawdown, (ax_dd,) = new_figure()
    sharpe, (ax_sharpe,) = new_figure()
    twins = identical_runs(view)
    for i, run in enumerate(view.runs):
        color = PALETTE[i % len(PALETTE)]
        style = "--" if any(run.name in group[1:] for group in twins) else "-"  # drawn over its twin, both visible
        name = label(run.name + (" (= " + next(g[0] for g in twins if run.name in g[1:]) + ")" if style == "--" else ""))
        ax_growth.plot(run.dates, run.equity / run.start_value, color=color, linewidth=1.1, linestyle=style, label=name)
        ax_dd.plot(run.dates, run.drawdown, color=color, linewidth=1.0, linestyle=style, label=name)
        ax_sharpe.plot(run.dates, run.rolling["sharpe"], color=color, linewidth=1.0, linestyle=style, label=name)
    log = use_log_scale(*[run.equity / run.start_value for run in view.runs])
    if log:
        _log_axis(ax_growth)
    ax_growth.set_title("Growth of 1" + (" (log scale)" if log else ""), loc="left")
    ax_dd.set_title("Drawdown below the running peak", loc="left")
    ax_sharpe.set_title(f"Rolling {REPORT_ROLLING_WINDOW}-day Sharpe ratio", loc="left")
    _percent_axis(ax_dd)
    for ax in (ax_growth, ax_dd, ax_sharpe):
        side_legend(ax)
    return [save_figure(growth, out, "growth"), save_figure(drawdown, out, "drawdown"), save_figure(sharpe, out, "rolling_sharpe")]


def write_sweep_pngs(view: Any, directory: str | os.PathLike[str]) -> list[Path]:
    """The sweep's objective heatmap over its x/y settings and the histogram of the trials' Sharpe ratios."""
    from shortthehype.report.sweep_view import objective_grid

    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    if view.x is not None:
        xs, ys, z = objective_grid(view)
        fig, (ax,) = new_figure(height=PNG_SIZE[1] * 1.3)
        image = ax.imshow(np.ma.masked_invalid(z), aspect="auto", origin="lower", cmap="RdYlGn", interpolation="nearest")
        ax.set_xticks(range(len(xs)), [label(v) for v in xs], rotation=90 if len(xs) > 20 else 0, fontsize=7)
        ax.set_xlabel(label(view.x))
        if view.y is not None:
            ax.set_yticks(range(len(ys)), [label(v) for v in ys], fontsize=7)
            ax.set_ylabel(label(view.y))
        else:
            ax.set_yticks([])
        ax.grid(False)
        fig.colorbar(image, ax=ax, label=label(f"best {view.objective}"))
        ax.set_title(label(f"{view.name}: {view.objective} over {view.x}" + (f" x {view.y}" if view.y else "")), loc="left")
        paths.append(save_figure(fig, out, "sweep_heatmap"))
    sharpe = view.table["sharpe"].to_numpy(dtype=np.float64) if "sharpe" in view.table else np.array([])
    sharpe = sharpe[np.isfinite(sharpe)]
    if sharpe.size:
        fig, (ax,) = new_figure()
        ax.hist(sharpe, bins=min(60, max(5, sharpe.size // 5)), color=PALETTE[0])
        ax.axvline(sharpe.max(), color=PALETTE[1], linewidth=1.2, label=f"best {sharpe.max():.3f}")
        ax.set_xlabel("Sharpe ratio (annualised)")
        ax.set_ylabel("combinations")
        side_legend(ax)
        ax.set_title(label(f"{view.name}: Sharpe ratios of {sharpe.size:,} combinations"), loc="left")
        paths.append(save_figure(fig, out, "sweep_sharpe"))
    return paths


def write_walkforward_pngs(view: Any, directory: str | os.PathLike[str]) -> list[Path]:
    """In- vs out-of-sample objective per window, and the stitched out-of-sample equity."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    windows = view.windows
    fig, (ax,) = new_figure()
    positions = np.arange(len(windows))
    ax.bar(positions - 0.2, windows["in_sample"], width=0.4, label="in sample", color=PALETTE[0])
    ax.bar(positions + 0.2, windows["out_of_sample"], width=0.4, label="out of sample", color=PALETTE[1])
    ax.set_xticks(positions, [str(d) for d in windows["test_start"]], rotation=45, fontsize=7)
    ax.set_ylabel(label(view.objective))
    ax.axhline(0.0, color="#444444", linewidth=0.8)
    side_legend(ax)
    ax.set_title(label(f"{view.name}: {view.objective} per walk-forward window (test start)"), loc="left")
    paths = [save_figure(fig, out, "walkforward_windows")]
    fig, (ax,) = new_figure()
    ax.plot(view.equity.index, view.equity.to_numpy(), color=PALETTE[0], linewidth=1.2)
    _log_axis(ax)
    ax.set_ylabel("equity (out of sample)")
    ax.set_title(label(f"{view.name}: stitched out-of-sample equity"), loc="left")
    paths.append(save_figure(fig, out, "walkforward_equity"))
    return paths


def write_bubble_png(view: Any, path: str | os.PathLike[str], *, option: str = "report path") -> Path:
    """The bubble report as one PNG: price (log) with both indicators and the shaded threshold runs, then the median tc.

    ``view`` is a :class:`~shortthehype.report.bubble_view.BubbleView`.  The
    lower panel says so when no evaluation has a qualified fit; a document
    without evaluations gives a figure that says so.  Written atomically.
    """
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

    from shortthehype.report.bubble_view import (
        ANTIBUBBLE_COLOR,
        ANTIBUBBLE_FILL,
        BUBBLE_COLOR,
        BUBBLE_FILL,
        INDICATORS,
        MARKER_MAX_POINTS,
        REFERENCE_COLOR,
    )

    frame = view.frame
    fig, (top, bottom) = new_figure(PNG_SIZE[1] * 1.8, rows=2)
    title = view.title + (f": {frame.index[0]:%Y-%m-%d} → {frame.index[-1]:%Y-%m-%d}" if len(frame) else "")
    top.set_title(label(title), loc="left")
    if frame.empty:
        top.text(0.5, 0.5, "no evaluation date in the range", ha="center", va="center", transform=top.transAxes)
        bottom.set_visible(False)
        return _save_as(fig, Path(path), option)
    history = view.history
    levels = history.to_numpy(dtype=np.float64)
    top.plot(history.index, levels, color=STRATEGY_COLOR, linewidth=1.1, label=label(view.name))
    if use_log_scale(levels):  # spans more than LOG_SCALE_SPAN: ticks at 1, 2, 5 x 10^k
        _log_axis(top)
    else:  # a narrow range: matplotlib labels it with minor ticks, written as plain numbers too
        from matplotlib.ticker import FuncFormatter

        top.set_yscale("log")
        plain = FuncFormatter(lambda value, _: f"{value:,.6g}")
        top.yaxis.set_major_formatter(plain)
        top.yaxis.set_minor_formatter(plain)
    top.set_ylabel("price (log scale)")
    right = top.twinx()
    right.set_ylim(0.0, 1.0)
    _percent_axis(right)
    right.set_ylabel("share of nested windows")
    right.spines["top"].set_visible(False)
    fills = {"bubble": BUBBLE_FILL, "antibubble": ANTIBUBBLE_FILL}
    colors = {"bubble": BUBBLE_COLOR, "antibubble": ANTIBUBBLE_COLOR}
    marker = "o" if len(frame) <= MARKER_MAX_POINTS else None
    for column, name in INDICATORS:
        right.plot(frame.index, frame[column].to_numpy(dtype=np.float64), color=colors[column], linewidth=1.0,
                   marker=marker, markersize=2.5, label=f"{name} indicator")
        for start, end in view.runs(column):
            if start == end:  # bands go on the price axis, beneath every line
                top.axvline(start, color=colors[column], alpha=0.5, linewidth=1.5)
            else:
                top.axvspan(start, end, color=_rgba(fills[column]), linewidth=0)
    for level in sorted({view.thresholds[c] for c, _ in INDICATORS}):
        right.axhline(level, color="#555555", linestyle=":", linewidth=0.9)
    lines = top.get_legend_handles_labels()
    more = right.get_legend_handles_labels()
    right.legend(lines[0] + more[0], lines[1] + more[1], loc="upper left", frameon=True, framealpha=0.85, edgecolor="none", ncols=3)
    right.text(1.0, 1.01, label(f"shaded: {view.thresholds_text()}"), transform=right.transAxes, ha="right", va="bottom", fontsize=8)
    if view.has_tc:
        bottom.plot(frame.index, frame.index, color=REFERENCE_COLOR, linestyle="--", linewidth=0.9, label="tc = evaluation date")
        for column, name in INDICATORS:
            tc = frame[f"{column}_tc"]
            known = tc.notna().to_numpy()
            bottom.scatter(frame.index[known], tc[known], s=10, color=colors[column], label=f"median tc of qualified {name}s")
        bottom.legend(loc="upper left", frameon=False)
        bottom.yaxis.set_major_locator(AutoDateLocator())
        bottom.yaxis.set_major_formatter(ConciseDateFormatter(bottom.yaxis.get_major_locator()))
    else:
        bottom.text(0.5, 0.5, "no qualified fit on any evaluation date: no critical time to show", ha="center",
                    va="center", transform=bottom.transAxes)
        bottom.set_yticks([])
    bottom.set_title("Median critical date tc of the qualified fits (approximate: business days after the evaluation)", loc="left")
    return _save_as(fig, Path(path), option)


def _rgba(css: str) -> tuple[float, float, float, float]:
    """A CSS ``rgba(r,g,b,a)`` colour as matplotlib's (r, g, b, a) in 0..1."""
    r, g, b, a = (float(v) for v in css[css.index("(") + 1 : css.index(")")].split(","))
    return (r / 255.0, g / 255.0, b / 255.0, a)
