"""Reports of the LPPLS confidence indicators (``shortthehype bubble --report``): view, figures, HTML and Markdown.

A *bubble document* is what ``shortthehype bubble --json`` writes
(:func:`shortthehype.bubble.indicator_document`, ``type = "bubble"``):
per evaluation date the close (``price``), the ``bubble`` and ``antibubble``
indicators (null when no window could be fitted), ``n_fits`` and the median
critical dates ``bubble_tc`` / ``antibubble_tc`` of the qualified fits (null
when there is none), plus the settings that produced them (``windows``,
``step``, ``filters``, ``search``), the data ``source``, a named series'
``members`` (:data:`shortthehype.bubble.NAMED_SERIES`), the daily ``history`` of the analysed series over the evaluation
range, the signal ``thresholds``, data ``warnings``, ``generated_at`` and the
``version``.  Documents without the optional keys (``history``, ``members``,
``thresholds`` ...) still render: the evaluation prices stand in for the
history and the thresholds default to
:data:`~shortthehype.constants.BUBBLE_THRESHOLD`.

What the report derives (everything else is printed as the document has it):

* **threshold runs** (:func:`threshold_runs`): maximal runs of consecutive
  evaluations whose indicator is at or above its threshold (``>=``, the
  comparison a strategy acting on the indicator fires on); a run is shaded from its first date to
  the next evaluation date (the value stands until it is re-evaluated), or
  to its last date when it ends on the last evaluation;
* **peaks**: the first evaluation with the highest indicator (only when it is
  above zero);
* **monthly maxima** (:func:`monthly_maxima`), as the terminal prints them.

Every user string (series name, members, data source, warnings) is
escaped, in the HTML, the figures and the Markdown; the page is
self-contained (:func:`shortthehype.report.html.page`).
"""

from __future__ import annotations

import functools
import math
import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from shortthehype.bubble import SeriesLabels, series_labels
from shortthehype.constants import BUBBLE_THRESHOLD, REPORT_MAX_TABLE_ROWS
from shortthehype.documents import json_safe
from shortthehype.errors import DataError
from shortthehype.report import formatting as fmt
from shortthehype.report.figures import FIGURE_HEIGHT, LOG_SCALE_SPAN, STRATEGY_COLOR, TOP_MARGIN, Figure, base_layout, line_trace, date_strings, esc, finite

__all__ = [
    "BubbleView",
    "bubble_figures",
    "bubble_view",
    "is_bubble_document",
    "monthly_maxima",
    "render_bubble_html",
    "render_bubble_markdown",
    "reproduce_command",
    "threshold_runs",
]

#: Colours of the bubble and anti-bubble indicators, and of the bands where they reach their thresholds.
BUBBLE_COLOR = "#d1495b"
ANTIBUBBLE_COLOR = "#2e8b57"
BUBBLE_FILL = "rgba(209,73,91,0.13)"
ANTIBUBBLE_FILL = "rgba(46,139,87,0.13)"
REFERENCE_COLOR = "#8c8c8c"
#: Tick spacing of the indicators' 0..1 axis.
INDICATOR_DTICK = 0.25
#: An indicator line gets point markers when it has at most this many evaluations.
MARKER_MAX_POINTS = 150
#: Class attribute of a numeric table cell or heading.
NUM_CLASS = ' class="num"'
#: Per-evaluation columns of a bubble document (lists of the same length as ``dates``).
SERIES_KEYS = ("price", "bubble", "antibubble", "n_fits", "bubble_tc", "antibubble_tc")
#: The two indicators: document key, label.
INDICATORS = (("bubble", "bubble"), ("antibubble", "anti-bubble"))
#: What each qualification filter and search setting means (report tables; unknown keys show no meaning).
FILTER_MEANINGS = {
    "m": "exponent m of the power law within",
    "omega": "log-periodic angular frequency ω within",
    "tc": "critical time tc − t2 within, as a fraction of the window length",
    "oscillations_min": "oscillations ω/(2π)·ln|(tc − t1)/(tc − t2)| at least",
    "damping_min": "damping m|B|/(ω|C|) at least",
    "rel_err_max": "mean relative price error |p − p̂|/p̂ at most (none: no such condition)",
    "tc_bars": "critical time tc − t2 also within, in bars (none: no cap)",
}
SEARCH_MEANINGS = {
    "tc": "tc searched within t2 ± this fraction of the window length",
    "m": "m searched within",
    "omega": "ω searched within",
    "grid_starts": "best local minima of the coarse grid used as starts",
    "random_starts": "seeded uniform random starts",
    "seed": "seed of the random starts",
    "warm_start": "also start from the fit of the next shorter window",
    "explore_iter": "Levenberg–Marquardt iterations of each start",
    "max_iter": "Levenberg–Marquardt iterations refining the best start, at most",
    "tc_first": "grid: first |tc − t2| (bars)",
    "tc_ratio": "grid: ratio between successive |tc − t2|",
    "m_points": "grid: points of m",
    "omega_step": "grid: step of ω",
}


# ---- view -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BubbleView:
    """A bubble document with its per-evaluation series as a DataFrame.

    ``frame`` is indexed by the evaluation dates with the columns
    :data:`SERIES_KEYS` (NaN / NaT for the document's nulls); ``history`` is
    the daily level of the analysed series over the evaluation range.
    """

    document: Mapping[str, Any]
    where: str
    name: str
    frame: pd.DataFrame
    history: pd.Series
    windows: tuple[int, ...]
    step: int
    thresholds: Mapping[str, float]
    members: Mapping[str, str | None]

    @property
    def labels(self) -> SeriesLabels:
        return series_labels(self.name)

    @property
    def title(self) -> str:
        return f"LPPLS bubble indicator: {self.labels.title}"

    def windows_text(self) -> str:
        """``"125:750:25 bars (26 nested windows)"``, or the list when the lengths are not evenly spaced."""
        windows = self.windows
        if not windows:
            return "none"
        steps = {b - a for a, b in zip(windows, windows[1:])}
        count = f"{len(windows)} nested window{'s' if len(windows) != 1 else ''}"
        if len(steps) <= 1:
            step = steps.pop() if steps else 1
            return f"{windows[0]}:{windows[-1]}:{step} bars ({count})"
        return f"{', '.join(str(w) for w in windows)} bars ({count})"

    def range_text(self) -> str:
        dates = self.frame.index
        if not len(dates):
            return "no evaluation date in the range"
        every = "every bar" if self.step == 1 else f"every {self.step} bars"
        return (
            f"{dates[0]:%Y-%m-%d} → {dates[-1]:%Y-%m-%d} ({len(dates):,} evaluation{'s' if len(dates) != 1 else ''}, "
            f"{every}, counted back from the last)"
        )

    def thresholds_text(self) -> str:
        return (
            f"bubble ≥ {fmt.percent(self.thresholds['bubble'], 1)}, anti-bubble ≥ {fmt.percent(self.thresholds['antibubble'], 1)}"
        )

    def summary_rows(self) -> list[tuple[str, pd.Timestamp | None, pd.Series | None]]:
        """``(label, date, row)`` for the latest evaluation and the peaks of both indicators (row None: never above 0)."""
        frame = self.frame
        if frame.empty:
            return []
        rows: list[tuple[str, pd.Timestamp | None, pd.Series | None]] = [("latest", frame.index[-1], frame.iloc[-1])]
        for column, label in INDICATORS:
            values = frame[column]
            if values.notna().any() and values.max() > 0:
                when = values.idxmax()
                rows.append((f"peak {label}", when, frame.loc[when]))
            else:
                rows.append((f"peak {label}", None, None))
        return rows

    def runs(self, column: str) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
        return threshold_runs(self.frame.index, self.frame[column].to_numpy(dtype=np.float64), self.thresholds[column])

    @property
    def has_tc(self) -> bool:
        """Whether any evaluation has a qualified fit (a median critical date)."""
        return bool(self.frame["bubble_tc"].notna().any() or self.frame["antibubble_tc"].notna().any())


def is_bubble_document(document: Any) -> bool:
    """Whether ``document`` is a bubble document (``type = "bubble"``, or an older ``kind = "lppls-confidence"``)."""
    if not isinstance(document, Mapping):
        return False
    kind = document.get("type")
    return kind == "bubble" or (kind is None and document.get("kind") == "lppls-confidence")


def _numbers(values: Any, where: str, key: str, n: int) -> np.ndarray:
    if not isinstance(values, list) or len(values) != n:
        got = f"{len(values)} values" if isinstance(values, list) else type(values).__name__
        raise DataError(f"{where}: {key} must be a list of {n} values aligned with dates, got {got}")
    try:
        return np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)
    except (TypeError, ValueError):
        raise DataError(f"{where}: {key} holds a value that is not a number") from None


def _dates(values: Any, where: str, key: str, n: int | None = None) -> pd.DatetimeIndex:
    if not isinstance(values, list) or (n is not None and len(values) != n):
        got = f"{len(values)} values" if isinstance(values, list) else type(values).__name__
        raise DataError(f"{where}: {key} must be a list of{'' if n is None else f' {n}'} YYYY-MM-DD dates or nulls, got {got}")
    try:
        return pd.DatetimeIndex(pd.to_datetime(pd.Series(values, dtype=object), format="%Y-%m-%d"))
    except (TypeError, ValueError) as exc:
        raise DataError(f"{where}: {key} must hold YYYY-MM-DD dates or nulls ({exc})") from None


def _threshold(value: Any, where: str, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 < float(value) <= 1.0:
        raise DataError(f"{where}: thresholds.{key} must be a number in (0, 1], got {value!r}")
    return float(value)


def bubble_view(document: Mapping[str, Any], where: str = "document") -> BubbleView:
    """Validate a bubble document and build its view.

    Parameters
    ----------
    document : mapping
        A bubble document (the JSON of ``bubble --json``).
    where : str
        Name of its file, for error messages.

    Returns
    -------
    BubbleView
        Renders also when every indicator is null (no window fitted), zero,
        or has no qualified fit (every ``*_tc`` null), and when there is no
        evaluation date at all.

    Raises
    ------
    DataError
        A required key is missing, a date does not parse, a per-evaluation
        list is not aligned with ``dates``, or a threshold is not in (0, 1]
        (one line naming ``where`` and the key).
    """
    if not is_bubble_document(document):
        raise DataError(f"{where}: not a bubble indicator document (type 'bubble', as `shortthehype bubble --json` writes)")
    for key in ("dates", "windows", "step", *SERIES_KEYS):
        if key not in document:
            raise DataError(f"{where}: not a bubble indicator document: the key {key!r} is missing")
    dates = _dates(document["dates"], where, "dates")
    if dates.hasnans or not dates.is_monotonic_increasing or not dates.is_unique:
        raise DataError(f"{where}: dates must be sorted, unique YYYY-MM-DD dates")
    dates = dates.rename("date")
    n = len(dates)
    frame = pd.DataFrame(
        {key: _numbers(document[key], where, key, n) for key in ("price", "bubble", "antibubble", "n_fits")}, index=dates
    )
    for key in ("bubble_tc", "antibubble_tc"):
        frame[key] = _dates(document[key], where, key, n).to_numpy()
    windows = document["windows"]
    if not isinstance(windows, list) or not all(isinstance(w, int) and not isinstance(w, bool) for w in windows):
        raise DataError(f"{where}: windows must be a list of window lengths in bars (integers)")
    step = document["step"]
    if isinstance(step, bool) or not isinstance(step, int) or step < 1:
        raise DataError(f"{where}: step must be an integer >= 1 (bars between evaluations), got {step!r}")
    raw_thresholds = document.get("thresholds") or {}
    if not isinstance(raw_thresholds, Mapping):
        raise DataError(f"{where}: thresholds must be an object with 'bubble' and 'antibubble'")
    thresholds = {key: _threshold(raw_thresholds.get(key, BUBBLE_THRESHOLD), where, key) for key, _ in INDICATORS}
    history_doc = document.get("history")
    if history_doc is None:
        history = frame["price"].rename("history")
    else:
        if not isinstance(history_doc, Mapping):
            raise DataError(f"{where}: history must be an object with 'dates' and 'values' lists")
        history_dates = _dates(history_doc.get("dates"), where, "history.dates")
        history = pd.Series(
            _numbers(history_doc.get("values"), where, "history.values", len(history_dates)), index=history_dates, name="history"
        )
    members = document.get("members") or {}
    if not isinstance(members, Mapping):
        raise DataError(f"{where}: members must be an object of ticker: first date")
    return BubbleView(
        document=document,
        where=where,
        name=str(document.get("series", "series")),
        frame=frame,
        history=history,
        windows=tuple(int(w) for w in windows),
        step=int(step),
        thresholds=thresholds,
        members={str(k): (None if v is None else str(v)) for k, v in members.items()},
    )


# ---- derived series ---------------------------------------------------------------------------


def threshold_runs(dates: pd.DatetimeIndex, values: Any, threshold: float) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """Maximal runs of consecutive evaluations with ``value >= threshold``, as ``(start, end)`` dates.

    ``start`` is the run's first evaluation date; ``end`` is the evaluation
    date after its last one (the value stands until it is re-evaluated), or
    its last date when the run ends on the last evaluation (then ``start``
    may equal ``end``).  NaN never counts as at or above.
    """
    array = np.asarray(values, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        above = array >= threshold
    runs = []
    n = len(above)
    i = 0
    while i < n:
        if not above[i]:
            i += 1
            continue
        j = i
        while j + 1 < n and above[j + 1]:
            j += 1
        runs.append((pd.Timestamp(dates[i]), pd.Timestamp(dates[j + 1] if j + 1 < n else dates[j])))
        i = j + 1
    return runs


def monthly_maxima(frame: pd.DataFrame) -> pd.DataFrame:
    """Per calendar month: the last ``price``, the maxima of ``bubble`` and ``antibubble``, and the evaluations.

    Indexed by monthly periods; a month whose indicators are all NaN has NaN maxima.
    """
    return frame.groupby(frame.index.to_period("M")).agg(
        close=("price", "last"), bubble=("bubble", "max"), antibubble=("antibubble", "max"), evaluations=("n_fits", "size")
    )


def reproduce_command(view: BubbleView) -> str | None:
    """The ``shortthehype bubble`` command line that recomputes the document from the same data, or None.

    None when it cannot be written: no evaluation date, windows not evenly
    spaced, or search settings other than the command's (it has no option
    for them).
    """
    from dataclasses import asdict

    from shortthehype.lppls import LPPLSSearch

    frame = view.frame
    windows = view.windows
    steps = {b - a for a, b in zip(windows, windows[1:])}
    if frame.empty or not windows or len(steps) > 1:
        return None
    search = view.document.get("search")
    if search is not None and json_safe(search) != json_safe(asdict(LPPLSSearch())):
        return None
    parts = ["shortthehype", "bubble", view.name]
    source = view.document.get("source")
    if source:
        parts += ["--source", str(source)]
    parts += ["--start", f"{frame.index[0]:%Y-%m-%d}", "--end", f"{frame.index[-1]:%Y-%m-%d}"]
    parts += ["--windows", f"{windows[0]}:{windows[-1]}:{steps.pop() if steps else 1}", "--step", str(view.step)]
    from shortthehype.lppls import FILTER_PRESETS

    preset = view.document.get("preset")
    if preset not in (None, "project"):
        if preset not in FILTER_PRESETS:
            return None
        parts += ["--filters", str(preset)]
    base = asdict(FILTER_PRESETS[preset or "project"].filters)
    for key, value in (view.document.get("filters") or {}).items():
        if value is None:
            if base.get(key) is not None:
                parts += ["--filter", f"{key}=none"]
            continue
        parts += ["--filter", f"{key}={fmt.param_text(value).replace(', ', ',')}"]
    return " ".join(shlex.quote(p) for p in parts)


# ---- figures ----------------------------------------------------------------------------------


def _indicator_trace(view: BubbleView, column: str, label: str, color: str) -> dict[str, Any]:
    few = len(view.frame) <= MARKER_MAX_POINTS
    return line_trace(
        f"{label} indicator",
        {"$ref": "dates"},
        view.frame[column].to_numpy(dtype=np.float64),
        color,
        hover="%{y:.1%}",
        yaxis="y2",
        mode="lines+markers" if few else "lines",
        marker={"size": 4, "color": color},
    )


def _band_shapes(view: BubbleView) -> list[dict[str, Any]]:
    shapes = []
    for (column, _), fill, color in zip(INDICATORS, (BUBBLE_FILL, ANTIBUBBLE_FILL), (BUBBLE_COLOR, ANTIBUBBLE_COLOR)):
        for start, end in view.runs(column):
            x0, x1 = f"{start:%Y-%m-%d}", f"{end:%Y-%m-%d}"
            if x0 == x1:  # a run on the last evaluation only: a line at that date
                shapes.append({"type": "line", "xref": "x", "yref": "paper", "x0": x0, "x1": x1, "y0": 0, "y1": 1,
                               "line": {"color": color, "width": 2}, "opacity": 0.5, "layer": "below"})
            else:
                shapes.append({"type": "rect", "xref": "x", "yref": "paper", "x0": x0, "x1": x1, "y0": 0, "y1": 1,
                               "fillcolor": fill, "line": {"width": 0}, "layer": "below"})
    levels = sorted({view.thresholds[c] for c, _ in INDICATORS})
    for level in levels:
        shapes.append({"type": "line", "xref": "paper", "yref": "y2", "x0": 0, "x1": 1, "y0": level, "y1": level,
                       "line": {"color": "#555555", "dash": "dot", "width": 1}})
    return shapes


def indicator_figure(view: BubbleView) -> Figure:
    """Figure 1: the daily price (log scale) and both indicators on a 0..1 secondary axis, threshold runs shaded."""
    history = view.history
    data = [
        line_trace(view.name, {"$ref": "history"}, history.to_numpy(dtype=np.float64), STRATEGY_COLOR, hover="%{y:,.2f}"),
        _indicator_trace(view, "bubble", "bubble", BUBBLE_COLOR),
        _indicator_trace(view, "antibubble", "anti-bubble", ANTIBUBBLE_COLOR),
    ]
    values = finite(history.to_numpy(dtype=np.float64))
    values = values[np.isfinite(values) & (values > 0)]
    wide = bool(values.size) and values.max() / values.min() > LOG_SCALE_SPAN
    layout = base_layout("Price (log scale)", height=FIGURE_HEIGHT + 60, shapes=_band_shapes(view))
    layout["yaxis"]["type"] = "log"
    if wide:
        layout["yaxis"]["dtick"] = "D2"
    layout["yaxis2"] = {
        "title": {"text": "Share of nested windows"},
        "overlaying": "y",
        "side": "right",
        "range": [0, 1],
        "tickmode": "linear",  # plotly would otherwise align these ticks with the log axis's gridlines
        "tick0": 0,
        "dtick": INDICATOR_DTICK,
        "tickformat": ".0%",
        "showgrid": False,
        "zeroline": False,
    }
    layout["margin"] = {"l": 70, "r": 70, "t": TOP_MARGIN, "b": 40}
    caption = (
        f"Price: {view.labels.price} on every trading day (left axis, log "
        f"scale). Indicators: share of the {len(view.windows)} nested windows whose fit is a qualified bubble / anti-bubble "
        f"(right axis). Shaded: evaluations at or above the threshold ({view.thresholds_text()}; dotted line), each "
        "until the next evaluation."
    )
    return Figure("indicator", "Price and the LPPLS confidence indicators", data, layout, caption)


def tc_figure(view: BubbleView) -> Figure:
    """Figure 2: the median critical date of the qualified fits against the evaluation date (with the line tc = date)."""
    frame = view.frame

    def day_list(column: str) -> list[str | None]:
        return [None if pd.isna(d) else f"{d:%Y-%m-%d}" for d in frame[column]]

    data = [
        {
            "type": "scatter",
            "mode": "lines",
            "name": "tc = evaluation date",
            "x": {"$ref": "dates"},
            "y": {"$ref": "dates"},
            "line": {"color": REFERENCE_COLOR, "dash": "dash", "width": 1},
            "hoverinfo": "skip",
        }
    ]
    for (column, label), color in zip(INDICATORS, (BUBBLE_COLOR, ANTIBUBBLE_COLOR)):
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": f"median tc of qualified {label}s",
                "x": {"$ref": "dates"},
                "y": day_list(f"{column}_tc"),
                "marker": {"color": color, "size": 6},
                "hovertemplate": "evaluated %{x|%Y-%m-%d}: tc %{y|%Y-%m-%d}<extra>" + esc(label) + "</extra>",
            }
        )
    layout = base_layout("Median critical date tc", hovermode="closest")
    layout["yaxis"]["type"] = "date"
    layout["margin"] = {"l": 90, "r": 20, "t": TOP_MARGIN, "b": 40}  # room for date tick labels beside the axis title
    caption = (
        "For each evaluation date, the median critical time of the qualified fits of each sign, converted to a date by "
        "counting business days after the evaluation date (approximate: holidays are not skipped). Points that stay on "
        "one date while the evaluations move on mean the fits agree; points drifting with the dashed line mean the "
        "predicted end keeps receding."
    )
    return Figure("tc", "Predicted critical dates (median tc of the qualified fits)", data, layout, caption)


def bubble_figures(view: BubbleView) -> tuple[list[Figure], dict[str, list[str]]]:
    """The figures of a bubble report and the date arrays they reference (none without evaluations)."""
    if view.frame.empty:
        return [], {}
    refs = {"dates": date_strings(view.frame.index), "history": date_strings(pd.DatetimeIndex(view.history.index))}
    figures = [indicator_figure(view)]
    if view.has_tc:
        figures.append(tc_figure(view))
    return figures, refs


# ---- shared text --------------------------------------------------------------------------------

percent1 = functools.partial(fmt.percent, digits=1)


def _count(value: Any) -> str:
    return fmt.MISSING if fmt.is_missing(value) else f"{int(value):,}"


def _day(value: Any) -> str:
    return fmt.MISSING if value is None or pd.isna(value) else f"{pd.Timestamp(value):%Y-%m-%d}"


def how_to_read(view: BubbleView) -> list[str]:
    """The "how to read this" paragraphs (plain text)."""
    windows = view.windows
    span = f"{windows[0]} to {windows[-1]} trading days" if windows else "no windows"
    return [
        f"On each evaluation date the LPPLS model is fitted to {len(windows)} nested windows of {span} ending on that "
        "date, using the closes up to that date only. The bubble indicator is the fraction of those windows whose fit is "
        "a qualified bubble: faster-than-exponential growth (B < 0) that passes every qualification filter "
        "(see Settings below). The anti-bubble indicator is the same for an accelerating decline (B > 0). 0 % means no window shows the "
        "pattern; 100 % means every window does. Dates whose history is shorter than the smallest window have no value.",
        "It is a measure of how consistently the price has the shape of a bubble, not a forecast and not a probability "
        "of a crash: a high value says the LPPLS signature is present across time scales; the critical time tc is where "
        "the fits put the end of the regime (a crash or a change of regime), with wide uncertainty. Whether tc converges "
        "over successive evaluations (figure 2) matters more than any single value. The values depend on the filters and "
        "search settings (see Settings): changing them changes the indicator.",
        f"Marked periods: evaluations at or above the thresholds ({view.thresholds_text()}); a strategy timed by the indicator "
        f"acts at {percent1(BUBBLE_THRESHOLD)} by default.",
    ]


def _member_text(view: BubbleView) -> str:
    if not view.members:
        return ""
    items = [f"{t} (from {d})" if d else t for t, d in view.members.items()]
    return ", ".join(items)


def _settings(document: Mapping[str, Any], key: str) -> list[tuple[str, str]]:
    values = document.get(key) or {}
    return [(str(k), fmt.param_text(v)) for k, v in values.items()] if isinstance(values, Mapping) else []


def _header_rows(view: BubbleView) -> list[tuple[str, str]]:
    doc = view.document
    rows = [("Series", view.labels.setting)]
    if view.members:
        rows.append(("Members", f"equal-weight, daily-rebalanced index of {len(view.members)}: {_member_text(view)}"))
    rows += [
        ("Data source", str(doc.get("source") or "not recorded")),
        ("Evaluation range", view.range_text()),
        ("Windows", view.windows_text()),
        ("Thresholds", view.thresholds_text()),
        ("Computed", str(doc.get("generated_at") or "not recorded")),
        ("Engine version", f"shortthehype {doc.get('version', '?')}"),
    ]
    return rows


# ---- HTML -------------------------------------------------------------------------------------

EVALUATION_COLUMNS = (
    ("date", "Date", "date", False),
    ("price", "Price", fmt.money, True),
    ("bubble", "Bubble", percent1, True),
    ("antibubble", "Anti-bubble", percent1, True),
    ("n_fits", "Windows fitted", _count, True),
    ("bubble_tc", "Median tc (bubbles)", "date", False),
    ("antibubble_tc", "Median tc (anti-bubbles)", "date", False),
)


def _settings_table(rows: Sequence[tuple[str, str]], meanings: Mapping[str, str]) -> str:
    from shortthehype.report.html import e

    if not rows:
        return "<p>not recorded</p>"
    body = "".join(
        f'<tr><th scope="row"><code>{e(k)}</code></th><td class="num">{e(v)}</td><td>{e(meanings.get(k, ""))}</td></tr>'
        for k, v in rows
    )
    return f'<table class="kv settings"><tbody>{body}</tbody></table>'


def _header(view: BubbleView) -> str:
    from shortthehype.report.html import e, kv_table, warnings_block

    doc = view.document
    command = reproduce_command(view)
    reproduce = (
        f'<p class="caption">Recompute (with the same data): <code id="reproduce">{e(command)}</code></p>' if command else ""
    )
    return (
        f'<header class="report" id="sec-header"><h1>{e(view.title)}</h1>'
        '<p class="description">Sornette\'s LPPLS confidence indicators of bubbles and anti-bubbles '
        "(Filimonov–Sornette fits over nested windows).</p>"
        f'<h3>Evaluation</h3>{kv_table((k, v, None) for k, v in _header_rows(view))}'
        f"{reproduce}{warnings_block([str(w) for w in doc.get('warnings') or []], 'Data warnings')}</header>"
    )


def qualification_lines(document: Mapping[str, Any]) -> list[str]:
    """What the filters did: fits, qualified fits and the fits each condition rejected (empty for older documents)."""
    from shortthehype.lppls import FILTER_PRESETS

    counts = document.get("qualification")
    if not isinstance(counts, Mapping):
        return []
    preset = str(document.get("preset") or "project")
    rejected = ", ".join(f"{k} {int(v):,}" for k, v in (counts.get("rejected") or {}).items())
    lines = [
        f"Filters: {preset} preset"
        + (f" ({FILTER_PRESETS[preset].citation})" if preset in FILTER_PRESETS else "")
        + (", with the overrides shown under Settings." if json_safe(document.get("filters")) != json_safe(_preset_dict(preset)) else "."),
        f"{int(counts['fits']):,} fits, {int(counts['qualified']):,} qualified (bubble {int(counts['qualified_bubble']):,}, "
        f"anti-bubble {int(counts['qualified_antibubble']):,}); rejected by {rejected} (a fit can fail several conditions).",
    ]
    return lines


def _preset_dict(preset: str) -> dict[str, Any] | None:
    from dataclasses import asdict

    from shortthehype.lppls import FILTER_PRESETS

    return asdict(FILTER_PRESETS[preset].filters) if preset in FILTER_PRESETS else None


def sensitivity_rows(document: Mapping[str, Any]) -> list[list[str]]:
    """One row per preset of ``bubble --sensitivity``: latest and maximum readings, dates over the threshold, qualified fits."""
    presets = document.get("sensitivity")
    if not isinstance(presets, Mapping):
        return []
    threshold = float((document.get("thresholds") or {}).get("bubble", 0.1))
    rows = []
    for key, value in presets.items():
        bubble = np.array([np.nan if v is None else v for v in value.get("bubble") or []], dtype=np.float64)
        anti = np.array([np.nan if v is None else v for v in value.get("antibubble") or []], dtype=np.float64)
        finite = bubble[np.isfinite(bubble)]
        counts = value.get("qualification") or {}
        rows.append([
            str(key),
            percent1(bubble[-1]) if bubble.size else fmt.MISSING,
            percent1(finite.max()) if finite.size else fmt.MISSING,
            f"{int((finite >= threshold).sum()):,} of {finite.size:,}",
            percent1(np.nanmax(anti)) if np.isfinite(anti).any() else fmt.MISSING,
            f"{int(counts.get('qualified', 0)):,} / {int(counts.get('fits', 0)):,}",
            str(value.get("citation", "")),
        ])
    return rows


SENSITIVITY_HEADERS = ("Preset", "Latest bubble", "Max bubble", "Dates with bubble ≥ threshold", "Max anti-bubble",
                       "Qualified / fits", "Source")


def _sensitivity_section(view: BubbleView) -> str:
    from shortthehype.report.html import e

    rows = sensitivity_rows(view.document)
    if not rows:
        return ""
    head = "".join(f"<th>{e(h)}</th>" for h in SENSITIVITY_HEADERS)
    body = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in rows)
    return (
        '<section id="sec-sensitivity"><h2>Filter sensitivity</h2>'
        f'<div class="scroll"><table id="sensitivity"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'
        '<p class="caption">The same fits qualified by each published set of filters: the indicator depends on them.</p></section>'
    )


def _settings_section(view: BubbleView) -> str:
    from shortthehype.report.html import e

    doc = view.document
    counts = "".join(f"<p>{e(line)}</p>" for line in qualification_lines(doc))
    return (
        f'<section id="sec-settings"><h2>Settings</h2>{counts}<div class="grid">'
        f'<div><h3>Qualification filters (every one must hold)</h3>{_settings_table(_settings(doc, "filters"), FILTER_MEANINGS)}</div>'
        f'<div><h3>Search of the nonlinear parameters</h3>{_settings_table(_settings(doc, "search"), SEARCH_MEANINGS)}</div>'
        "</div></section>"
    )


def _latest_section(view: BubbleView) -> str:
    from shortthehype.report.html import e, num_cell

    paragraphs = "".join(f"<p>{e(text)}</p>" for text in how_to_read(view))
    rows = view.summary_rows()
    if not rows:
        return (
            '<section id="sec-latest"><h2>Latest evaluation</h2><p>No evaluation date in the range.</p>'
            f'<h3>How to read this</h3>{paragraphs}</section>'
        )
    head = "".join(
        f'<th scope="col"{NUM_CLASS if numeric else ""}>{e(title)}</th>' for title, numeric in (
            ("", False), ("Date", False), ("Price", True), ("Bubble", True), ("Anti-bubble", True), ("Windows fitted", True),
            ("Median tc (bubbles)", False), ("Median tc (anti-bubbles)", False))
    )
    body = []
    for label, when, row in rows:
        key = label.replace(" ", "_").replace("-", "")
        if row is None:
            body.append(f'<tr data-key="{e(key)}"><th scope="row">{e(label)}</th><td colspan="7">never above 0</td></tr>')
            continue
        body.append(
            f'<tr data-key="{e(key)}"><th scope="row">{e(label)}</th><td class="date">{_day(when)}</td>'
            f"{num_cell(fmt.money(row['price']), _finite(row['price']), f'{key}.price')}"
            f"{num_cell(percent1(row['bubble']), _finite(row['bubble']), f'{key}.bubble')}"
            f"{num_cell(percent1(row['antibubble']), _finite(row['antibubble']), f'{key}.antibubble')}"
            f"{num_cell(_count(row['n_fits']), int(row['n_fits']), f'{key}.n_fits')}"
            f'<td class="date" data-key="{e(key)}.bubble_tc">{_day(row["bubble_tc"])}</td>'
            f'<td class="date" data-key="{e(key)}.antibubble_tc">{_day(row["antibubble_tc"])}</td></tr>'
        )
    return (
        '<section id="sec-latest"><h2>Latest evaluation</h2>'
        f'<table id="latest"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'
        f"{_runs_paragraph(view)}<h3>How to read this</h3>{paragraphs}</section>"
    )


def _finite(value: Any) -> float | None:
    return float(value) if value is not None and math.isfinite(float(value)) else None


def runs_text(view: BubbleView, column: str, label: str) -> str:
    runs = view.runs(column)
    threshold = percent1(view.thresholds[column])
    if not runs:
        return f"{label} indicator never at or above {threshold}"
    spans = ", ".join(f"{a:%Y-%m-%d}" if a == b else f"{a:%Y-%m-%d} → {b:%Y-%m-%d}" for a, b in runs)
    return f"{label} indicator at or above {threshold}: {spans}"


def _runs_paragraph(view: BubbleView) -> str:
    from shortthehype.report.html import e

    items = "".join(f"<li>{e(runs_text(view, c, label.capitalize()))}</li>" for c, label in INDICATORS)
    return f'<ul id="runs">{items}</ul>'


def _evaluations_section(view: BubbleView) -> str:
    from shortthehype.report.html import e, records_table

    frame = view.frame
    if frame.empty:
        return ""
    kept = frame.iloc[-REPORT_MAX_TABLE_ROWS:]
    note = (
        f"showing the latest {len(kept):,} of {len(frame):,} evaluations; the JSON has all. "
        if len(kept) < len(frame) else ""
    )
    table = records_table(kept.reset_index(), EVALUATION_COLUMNS, "evaluations")
    explain = note + "Every evaluation date with its close, both indicators, the windows fitted and the median critical dates. Click a heading to sort."
    return f'<section id="sec-evaluations"><h2>Evaluations</h2>{table}<p class="caption">{e(explain)}</p></section>'


def _no_tc_section(view: BubbleView) -> str:
    if view.frame.empty or view.has_tc:
        return ""
    return (
        '<section id="sec-tc"><h2>Predicted critical dates (median tc of the qualified fits)</h2>'
        "<p>No qualified fit on any evaluation date: there is no critical time to show.</p></section>"
    )


def render_bubble_html(view: BubbleView) -> str:
    """The HTML report of a bubble document: settings, latest evaluation, the two figures, every evaluation."""
    from shortthehype.report.html import figure_section, page

    from shortthehype.report.html import caveats_banner

    figures, refs = bubble_figures(view)
    body = [caveats_banner(view.document), _header(view), _latest_section(view)]
    body += [figure_section(f) for f in figures]
    body += [_no_tc_section(view), _settings_section(view), _sensitivity_section(view), _evaluations_section(view)]
    dates = view.frame.index
    span = f": {dates[0]:%Y-%m-%d} → {dates[-1]:%Y-%m-%d}" if len(dates) else ""
    return page(view.title + span, [b for b in body if b], figures, refs, str(view.document.get("version", "")))


# ---- Markdown ---------------------------------------------------------------------------------


def render_bubble_markdown(view: BubbleView) -> str:
    """The Markdown summary of a bubble document: settings, latest evaluation, marked periods, monthly maxima."""
    from shortthehype.report.markdown import md, table

    from shortthehype.report.markdown import caveat_lines

    doc = view.document
    out = [f"# {md(view.title)}", ""] + caveat_lines(doc)
    out += [table(["", ""], [[md(k), md(v)] for k, v in _header_rows(view)]), ""]
    for line in doc.get("warnings") or []:
        out.append(f"> data warning: {md(line)}")
    if doc.get("warnings"):
        out.append("")
    out += ["## Latest evaluation", ""]
    rows = view.summary_rows()
    if rows:
        body = []
        for label, when, row in rows:
            if row is None:
                body.append([label, "never above 0", "", "", "", "", "", ""])
                continue
            body.append([label, _day(when), fmt.money(row["price"]), percent1(row["bubble"]), percent1(row["antibubble"]),
                         _count(row["n_fits"]), _day(row["bubble_tc"]), _day(row["antibubble_tc"])])
        out += [table(["", "Date", "Price", "Bubble", "Anti-bubble", "Windows fitted", "Median tc (bubbles)",
                       "Median tc (anti-bubbles)"], body, [False, False, True, True, True, True, False, False]), ""]
        out += [f"- {md(runs_text(view, c, label.capitalize()))}" for c, label in INDICATORS]
        out.append("")
    else:
        out += ["No evaluation date in the range.", ""]
    out += ["## How to read this", ""]
    for text in how_to_read(view):
        out += [md(text), ""]
    if rows:
        monthly = monthly_maxima(view.frame)
        month_rows = [[str(p), fmt.money(r["close"]), percent1(r["bubble"]), percent1(r["antibubble"]), f"{int(r['evaluations']):,}"]
                      for p, r in monthly.iterrows()]
        out += ["## Monthly maximum of the indicators", "",
                table(["Month", "Close", "Bubble max", "Anti-bubble max", "Evaluations"], month_rows,
                      [False, True, True, True, True]), ""]
    counts = qualification_lines(doc)
    if counts:
        out += ["## Qualified fits", ""] + [md(line) + "  " for line in counts] + [""]
    sensitivity = sensitivity_rows(doc)
    if sensitivity:
        out += ["## Filter sensitivity", "", table(list(SENSITIVITY_HEADERS), [[md(c) for c in row] for row in sensitivity]), ""]
    for key, title, meanings in (("filters", "Qualification filters", FILTER_MEANINGS), ("search", "Search", SEARCH_MEANINGS)):
        settings = _settings(doc, key)
        if settings:
            out += [f"## {title}", "", table(["Setting", "Value", "Meaning"],
                                             [[md(k), md(v), md(meanings.get(k, ""))] for k, v in settings],
                                             [False, True, False]), ""]
    command = reproduce_command(view)
    if command:
        longest = max((len(run) for run in re.findall(r"`+", command)), default=0)
        fence = "`" * max(3, longest + 1)  # a fence no backtick run in the command can close
        out += ["Recompute (with the same data):", "", fence, command, fence, ""]
    out += [f"Figures: the HTML report (`--report FILE.html`) or a PNG (`--report FILE.png`). shortthehype {md(doc.get('version', '?'))}."]
    return "\n".join(out).rstrip() + "\n"
