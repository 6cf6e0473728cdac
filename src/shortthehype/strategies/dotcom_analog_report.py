"""``dotcom-analog``'s sections of the result document and the report (the kind's :class:`~shortthehype.strategies.base.KindReport`).

The document's ``analog`` key holds the implied phase on the window's dates
(the mapped dotcom date, the phase, the time scale and the exposure), the
basket's equal-weight index and, when the history before the window was
loaded, the Nasdaq reference path.  The HTML report draws the basket on its
mapped dotcom dates over the reference and the phase over time; the PNGs add
``dotcom_phase.png``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from shortthehype.baskets import basket_index
from shortthehype.data.prices import Prices
from shortthehype.documents import float_list, json_safe
from shortthehype.params import format_value
from shortthehype.report.figures import (
    BENCHMARK_COLOR,
    STRATEGY_COLOR,
    Figure,
    base_layout,
    date_strings,
    esc,
    f8,
    finite,
    line_trace,
)
from shortthehype.report.model import BacktestView
from shortthehype.report.static import label, new_figure, save_figure, side_legend
from shortthehype.strategies.base import Params
from shortthehype.strategies.dotcom_analog import implied_phase

__all__ = ["PHASE_COLORS", "document_fields", "figures", "history_tickers", "pngs"]

#: Colour of each phase in the figures (HTML and PNG).
PHASE_COLORS = {"pre": "#9e9e9e", "boom": "#2e8b57", "bust": "#d1495b", "recovery": "#1f77b4", "unknown": "#bbbbbb"}


# ---- the document ------------------------------------------------------------------------


def history_tickers(params: Params) -> list[str]:
    """The basket and the reference: the fits of path mode and the overlay need their history before the window."""
    return list(dict.fromkeys(list(params["tickers"]) + [params["reference"]]))


def document_fields(run: Any, history: Prices | None, history_error: str | None = None) -> dict[str, Any]:
    """The ``analog`` section: what the window determines, plus the reference path when ``history`` holds it.

    Without ``history`` the section holds what the window alone determines
    (calendar mode: the whole phase mapping) and ``note`` says what is
    missing; ``history_error`` (why the history could not be loaded) then
    replaces the note.
    """
    section = _analog_section(run, history)
    if history_error:
        section["note"] = f"the dotcom reference history could not be loaded ({history_error})"
    return {"analog": json_safe(section)}


def _analog_section(run: Any, history: Prices | None) -> dict[str, Any]:
    """``dotcom-analog``: the implied phase on the window's dates, the basket's path and the Nasdaq reference."""
    params = run.spec.params
    basket = list(params["tickers"])
    mode = params["mode"]
    reference = params["reference"]
    needed = basket + ([reference] if mode == "path" else [])
    source = history if history is not None and all(t in history.tickers for t in needed) else None
    note = None
    if source is None and mode == "path":
        frame = None
        note = "path mode: the fits need the history before the window; run with the reference data to see the phases"
    else:
        frame = implied_phase(run.prices if source is None else source, params)
        frame = frame.loc[(frame.index >= run.start) & (frame.index <= run.end)]
    close = run.prices.close[[t for t in basket if t in run.prices.tickers]]
    path = basket_index(close)
    ref = None
    if history is not None and reference in history.tickers:
        series = history.close[reference]
        series = series[(series.index >= params["reference_start"]) & (series.index <= params["reference_end"])].dropna()
        if len(series):
            ref = {
                "ticker": reference,
                "dates": [d.strftime("%Y-%m-%d") for d in series.index],
                "values": float_list(series.to_numpy()),
            }
    if ref is None and note is None:
        note = f"the reference {reference} was not loaded: the overlay shows the basket on the mapped dotcom dates only"
    return {
        "mode": mode,
        "anchors": {
            key: format_value(params[key]) for key in ("ai_start", "dotcom_start", "dotcom_peak", "dotcom_trough")
        },
        "lead_days": int(params["lead_days"]),
        "basket": {"dates": [d.strftime("%Y-%m-%d") for d in path.index], "values": float_list(path.to_numpy())},
        "phase": None
        if frame is None
        else {
            "dates": [d.strftime("%Y-%m-%d") for d in frame.index],
            "mapped_dates": [None if pd.isna(d) else d.strftime("%Y-%m-%d") for d in frame["mapped_date"]],
            "phases": [str(p) for p in frame["phase"]],
            "scales": float_list(frame["scale"].to_numpy()),
            "exposure": float_list(frame["exposure"].to_numpy()),
        },
        "reference": ref,
        "note": note,
    }


# ---- the report --------------------------------------------------------------------------


def figures(view: BacktestView) -> list[Figure]:
    """``dotcom-analog``: the basket on its mapped dotcom dates over the Nasdaq path, and the phase over time."""
    analog = view.document.get("analog")
    if not isinstance(analog, Mapping):
        return []
    anchors = analog.get("anchors") or {}
    figures: list[Figure] = []
    phase = analog.get("phase")
    reference = analog.get("reference")
    basket = analog.get("basket") or {}
    shapes = _anchor_shapes(anchors, analog.get("lead_days", 0))
    if phase:
        mapped = pd.to_datetime(pd.Series(phase["mapped_dates"], dtype=object), errors="coerce")
        phase_dates = pd.DatetimeIndex(pd.to_datetime(phase["dates"]))
        basket_series = pd.Series(
            [np.nan if v is None else float(v) for v in basket.get("values", [])],
            index=pd.DatetimeIndex(pd.to_datetime(basket.get("dates", []))),
            dtype=np.float64,
        )
        level = basket_series.reindex(phase_dates).to_numpy(dtype=np.float64)
        ref_series = None
        if reference:
            ref_series = pd.Series(
                [np.nan if v is None else float(v) for v in reference["values"]],
                index=pd.DatetimeIndex(pd.to_datetime(reference["dates"])),
                dtype=np.float64,
            )
        scaled = _scale_onto(level, mapped, ref_series)
        data = []
        if ref_series is not None:
            data.append(
                line_trace(
                    f"{reference['ticker']} (dotcom era)",
                    date_strings(ref_series.index),
                    ref_series.to_numpy(),
                    BENCHMARK_COLOR,
                    hover="%{y:,.2f}",
                )
            )
        known = mapped.notna().to_numpy()
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers" if analog.get("mode") == "path" else "lines",
                "name": esc(f"{view.name}: AI basket on its mapped dates"),
                "x": [d.strftime("%Y-%m-%d") for d in mapped[known]],
                "y": f8(finite(scaled[known])),
                "customdata": [d.strftime("%Y-%m-%d") for d in phase_dates[known]],
                "line": {"color": STRATEGY_COLOR, "width": 2},
                "marker": {"size": 4},
                "hovertemplate": "AI date %{customdata} → dotcom %{x}<br>%{y:,.2f}<extra></extra>",
            }
        )
        caption = (
            "Each AI-era date is drawn at the dotcom date it maps onto; the basket (equal-weight index) is scaled to "
            "the reference level at its first mapped date."
        )
        if ref_series is None:
            caption += " The reference was not in the document: " + (analog.get("note") or "")
        figures.append(
            Figure(
                "analog",
                "Dotcom analogy: the AI basket on the Nasdaq's 1995–2003 path",
                data,
                base_layout("Level (log)", shapes=shapes, yaxis={"type": "log", "dtick": "D2", "tickformat": "~s",
                                                             "title": {"text": "Level (log)"}, "gridcolor": "#eeeeee"}),
                caption,
            )
        )
        phase_data = []
        phases = pd.Series(phase["phases"], index=phase_dates)
        for name, color in PHASE_COLORS.items():
            mask = (phases == name).to_numpy() & known
            if not mask.any():
                continue
            phase_data.append(
                {
                    "type": "scatter",
                    "mode": "markers",
                    "name": name,
                    "x": date_strings(phase_dates[mask]),
                    "y": [d.strftime("%Y-%m-%d") for d in mapped[mask]],
                    "marker": {"color": color, "size": 5},
                    "hovertemplate": "%{x} → %{y}<extra>" + name + "</extra>",
                }
            )
        hlines = [
            {
                "type": "line",
                "xref": "paper",
                "x0": 0,
                "x1": 1,
                "yref": "y",
                "y0": anchors[key],
                "y1": anchors[key],
                "line": {"color": PHASE_COLORS[color], "dash": "dash", "width": 1},
            }
            for key, color in (("dotcom_peak", "bust"), ("dotcom_trough", "recovery"))
            if key in anchors
        ]
        figures.append(
            Figure(
                "phase",
                "Implied dotcom phase",
                phase_data,
                base_layout("Mapped dotcom date", shapes=hlines, hovermode="closest",
                        yaxis={"type": "date", "title": {"text": "Mapped dotcom date"}, "gridcolor": "#eeeeee"}),
                "The dotcom date each AI-era date maps onto, coloured by the phase the strategy acts on "
                "(dashed: dotcom peak and trough).",
            )
        )
    return figures


def _anchor_shapes(anchors: Mapping[str, str], lead_days: int) -> list[dict[str, Any]]:
    shapes = []
    start, peak, trough = anchors.get("dotcom_start"), anchors.get("dotcom_peak"), anchors.get("dotcom_trough")
    if start and peak:
        turn = (pd.Timestamp(peak) - pd.Timedelta(days=int(lead_days or 0))).strftime("%Y-%m-%d")
        shapes.append(_band(start, turn, "rgba(46,139,87,0.08)"))
        if trough:
            shapes.append(_band(turn, trough, "rgba(209,73,91,0.10)"))
    return shapes


def _band(x0: str, x1: str, color: str) -> dict[str, Any]:
    return {"type": "rect", "xref": "x", "yref": "paper", "x0": x0, "x1": x1, "y0": 0, "y1": 1, "fillcolor": color,
            "line": {"width": 0}, "layer": "below"}


def _scale_onto(level: np.ndarray, mapped: pd.Series, reference: pd.Series | None) -> np.ndarray:
    """The basket levels scaled so that the first one with a reference value at its mapped date equals it."""
    if reference is None or reference.dropna().empty:
        return level * 100.0 / level[np.isfinite(level)][0] if np.isfinite(level).any() else level
    ref = reference.dropna()
    for value, date in zip(level, mapped):
        if math.isfinite(value) and pd.notna(date) and ref.index[0] <= date <= ref.index[-1]:
            return level * float(ref.asof(date)) / value
    return level * float(ref.iloc[0]) / level[np.isfinite(level)][0] if np.isfinite(level).any() else level


def _phase_png(view: BacktestView, directory: Path) -> Path | None:
    analog = view.document.get("analog")
    phase = analog.get("phase") if isinstance(analog, dict) else None
    if not phase:
        return None
    fig, (ax,) = new_figure()
    dates = pd.DatetimeIndex(pd.to_datetime(phase["dates"]))
    mapped = pd.to_datetime(pd.Series(phase["mapped_dates"], dtype=object), errors="coerce")
    phases = pd.Series(phase["phases"])
    for name, color in PHASE_COLORS.items():
        mask = ((phases == name) & mapped.notna()).to_numpy()
        if mask.any():
            ax.scatter(dates[mask], mapped[mask], s=6, color=color, label=name)
    anchors = analog.get("anchors") or {}
    for key, color in (("dotcom_peak", PHASE_COLORS["bust"]), ("dotcom_trough", PHASE_COLORS["recovery"])):
        if key in anchors:
            ax.axhline(pd.Timestamp(anchors[key]), color=color, linestyle="--", linewidth=0.9)
    ax.set_title(label(f"{view.name}: implied dotcom phase (mapped dotcom date per date; dashed: peak, trough)"), loc="left")
    side_legend(ax)
    return save_figure(fig, directory, "dotcom_phase")


def pngs(view: BacktestView, directory: Path) -> list[Path]:
    """``dotcom_phase.png``: the implied phase over time (none when the document has no phase)."""
    path = _phase_png(view, directory)
    return [] if path is None else [path]
