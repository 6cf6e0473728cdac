"""The LPPLS bubble indicator of a ticker or the AI basket, and its result document.

:func:`bubble_indicator` loads the series (:func:`shortthehype.lppls.bubble_series`),
fits the nested windows once and derives the confidence indicators under the
chosen filters (and, with ``sensitivity``, under every filter preset from the
same fits).  :func:`indicator_document` is the JSON document ``bubble
--json`` writes and every bubble report is rendered from
(:mod:`shortthehype.report.bubble_view`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from shortthehype.constants import BUBBLE_AI_BASKET, BUBBLE_THRESHOLD, LPPLS_WINDOW_MAX, LPPLS_WINDOW_MIN, LPPLS_WINDOW_STEP
from shortthehype.data.prices import Prices
from shortthehype.data.source import PriceSource
from shortthehype.documents import float_list, json_safe
from shortthehype.errors import ParamError

__all__ = ["BUBBLE_LOOKBACK_BARS", "NAMED_SERIES", "BubbleIndicator", "SeriesLabels", "bubble_indicator", "indicator_document", "series_labels"]

#: Bars evaluated when no ``start`` is given (about one year).
BUBBLE_LOOKBACK_BARS = 252


@dataclass(frozen=True)
class SeriesLabels:
    """How a report names an analysed series: its title, what its price line is, and its settings row."""

    title: str
    price: str
    setting: str


#: Series the indicator analyses that are not a ticker's closes (name in lower case -> labels).
NAMED_SERIES = {
    BUBBLE_AI_BASKET: SeriesLabels("AI basket", "the equal-weight AI basket index", f"AI basket ({BUBBLE_AI_BASKET})"),
}


def series_labels(name: str) -> SeriesLabels:
    """The labels of series ``name``: a named series' (:data:`NAMED_SERIES`), else the ticker and its closes."""
    return NAMED_SERIES.get(name.strip().lower(), SeriesLabels(name, "close", name))


@dataclass(frozen=True)
class BubbleIndicator:
    """The indicator of one series: the frame of :func:`shortthehype.lppls.confidence_indicator` and its document."""

    name: str
    series: pd.Series
    frame: pd.DataFrame
    windows: np.ndarray
    step: int
    filters: Any
    preset: str
    qualification: dict[str, Any]
    #: Preset name -> its citation, indicators and qualification counts (None without ``sensitivity``).
    sensitivity: dict[str, Any] | None
    prices: Prices
    document: dict[str, Any]

    def first_fitted(self) -> pd.Timestamp | None:
        """The first bar any fit looks at: the longest window before the first evaluation (None without evaluations)."""
        if not len(self.frame):
            return None
        first = int(self.series.index.get_indexer([self.frame.index[0]])[0])
        return self.series.index[max(first - int(self.windows[-1]), 0)]


def bubble_indicator(
    ticker: str,
    *,
    start: pd.Timestamp | None = None,
    end: pd.Timestamp | None = None,
    windows: Sequence[int] | None = None,
    step: int = 5,
    filters: Any = None,
    preset: str = "project",
    sensitivity: bool = False,
    prices: Prices | None = None,
    prices_from: PriceSource | None = None,
    source: str | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    offline: bool = False,
) -> BubbleIndicator:
    """The LPPLS confidence indicators of ``ticker`` (or ``"ai-basket"``) on every ``step``-th bar of ``start..end``.

    Parameters
    ----------
    ticker
        A ticker, or ``ai-basket`` (the equal-weight index of the basket's listed members).
    start, end
        Evaluation dates (default: the last :data:`BUBBLE_LOOKBACK_BARS` bars up to the latest close).
    windows
        Nested window lengths in bars (default: the project's 125..750 by 25).
    step
        Bars between evaluations, counted back from ``end`` (>= 1).
    filters, preset
        Qualification filters (default: the ``preset``'s, ``project``) and the preset they start from.
    sensitivity
        Also derive the indicator under every filter preset (same fits).
    prices, prices_from, source, data_dir, cache_dir, offline
        The prices to use, or where to load them from (as for :func:`shortthehype.backtest`).

    Raises
    ------
    ParamError
        ``step`` < 1 or ``start`` after ``end``.
    DataError
        The ticker (or every basket member) has no prices.
    """
    from shortthehype.lppls import (
        FILTER_PRESETS,
        LPPLSSearch,
        basket_members,
        bubble_series,
        bubble_tickers,
        confidence_from_fits,
        lppls_windows,
        nested_fits,
        qualification_counts,
    )

    window_array = lppls_windows(LPPLS_WINDOW_MIN, LPPLS_WINDOW_MAX, LPPLS_WINDOW_STEP) if windows is None else np.asarray(windows)
    if filters is None:
        filters = FILTER_PRESETS[preset].filters
    if step < 1:
        raise ParamError(f"step must be >= 1 bar, got {step}")
    if prices is None:
        origin = PriceSource.coerce(prices_from, source=source, data_dir=data_dir, cache_dir=cache_dir, offline=offline)
        prices = origin.load(bubble_tickers(ticker), end=end, quiet=True)  # the warnings are in prices.warnings
    series = bubble_series(prices, ticker)
    if start is None and len(series):
        start = series.index[max(len(series) - BUBBLE_LOOKBACK_BARS, 0)]
    if start is not None and end is not None and start > end:
        raise ParamError(f"start {start:%Y-%m-%d} is after end {end:%Y-%m-%d}")
    search = LPPLSSearch()
    fits = nested_fits(series, windows=window_array, start=start, end=end, step=step, search=search)
    frame = confidence_from_fits(fits, filters)
    frame.insert(0, "price", series.reindex(frame.index).to_numpy(dtype="float64"))
    qualification = qualification_counts(fits.records, filters)
    presets = None
    if sensitivity:
        presets = {}
        for key, under_preset in FILTER_PRESETS.items():
            under = confidence_from_fits(fits, under_preset.filters)
            presets[key] = {
                "citation": under_preset.citation,
                "bubble": under["bubble"].to_numpy(),
                "antibubble": under["antibubble"].to_numpy(),
                "qualification": qualification_counts(fits.records, under_preset.filters),
            }
    name = str(series.name)
    members = basket_members(prices) if ticker.strip().lower() == BUBBLE_AI_BASKET else None
    document = indicator_document(
        name, frame, window_array, step, filters, search,
        source=prices.source, members=members, history=series,
        thresholds={"bubble": BUBBLE_THRESHOLD, "antibubble": BUBBLE_THRESHOLD}, warnings=prices.warnings,
        preset=preset, qualification=qualification, sensitivity=presets,
    )
    return BubbleIndicator(name, series, frame, window_array, step, filters, preset, qualification, presets, prices, document)


def indicator_document(
    name: str,
    frame: pd.DataFrame,
    windows: Any,
    step: int,
    filters: Any,
    search: Any,
    *,
    source: str | None = None,
    members: Mapping[str, Any] | None = None,
    history: pd.Series | None = None,
    thresholds: Mapping[str, float] | None = None,
    warnings: Sequence[str] = (),
    generated_at: str | None = None,
    preset: str | None = None,
    qualification: Mapping[str, Any] | None = None,
    sensitivity: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The JSON document of ``bubble --json`` (NaN/NaT become null); every bubble report is rendered from it.

    Parameters
    ----------
    name, frame, windows, step, filters, search
        The series name, the frame of :func:`shortthehype.lppls.confidence_indicator`
        and the settings that produced it.
    source
        The price source (``Prices.source``).
    members
        AI basket only: member ticker -> its first date with a close (``None`` if none).
    history
        The analysed series' daily level; the part from the first to the last
        evaluation date is stored (the report's price line).
    thresholds
        ``{"bubble": x, "antibubble": y}``: the levels the report marks
        (default: bubble-timer's ``BUBBLE_THRESHOLD`` for both).
    warnings
        Data warnings of the load.
    generated_at
        When the indicator was computed (ISO 8601, UTC); default: now.
    preset, qualification, sensitivity
        The filter preset the filters start from, the counts of
        :func:`shortthehype.lppls.qualification_counts` over every fit, and
        the indicator under every preset (``bubble --sensitivity``); each
        key is left out when not given.

    Returns
    -------
    dict
        ``type = "bubble"`` plus the keys listed in
        :mod:`shortthehype.report.bubble_view`; JSON-serialisable.
    """
    import datetime as _dt
    from dataclasses import asdict

    from shortthehype import __version__

    def day(value: Any) -> str | None:
        return None if value is None or value != value else value.strftime("%Y-%m-%d")

    if history is not None and len(frame):
        history = history.loc[frame.index[0] : frame.index[-1]]
    elif history is not None:
        history = history.iloc[:0]
    if generated_at is None:
        generated_at = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    limits = dict(thresholds) if thresholds is not None else {"bubble": BUBBLE_THRESHOLD, "antibubble": BUBBLE_THRESHOLD}
    extra: dict[str, Any] = {}
    from shortthehype.caveats import caveat_fields, data_caveats

    if data_caveats(source or ""):
        extra.update(caveat_fields(data_caveats(source or "")))
    if preset is not None:
        extra["preset"] = preset
    if qualification is not None:
        extra["qualification"] = json_safe(dict(qualification))
    if sensitivity is not None:
        extra["sensitivity"] = {
            key: {**value, "bubble": float_list(value["bubble"]), "antibubble": float_list(value["antibubble"])}
            for key, value in sensitivity.items()
        }
    return {
        "type": "bubble",
        "kind": "lppls-confidence",
        "series": name,
        "members": None if members is None else {str(t): day(d) for t, d in members.items()},
        "source": source,
        "start": day(frame.index[0]) if len(frame) else None,
        "end": day(frame.index[-1]) if len(frame) else None,
        "windows": [int(w) for w in windows],
        "step": int(step),
        "filters": {k: v for k, v in asdict(filters).items() if not (k == "tc_bars" and v is None)},  # no cap: as before caps existed
        "search": asdict(search),
        "thresholds": {key: float(value) for key, value in limits.items()},
        "dates": [day(d) for d in frame.index],
        "price": float_list(frame["price"]),
        "bubble": float_list(frame["bubble"]),
        "antibubble": float_list(frame["antibubble"]),
        "n_fits": [int(v) for v in frame["n_fits"]],
        "bubble_tc": [day(v) for v in frame["bubble_tc"]],
        "antibubble_tc": [day(v) for v in frame["antibubble_tc"]],
        "history": None
        if history is None
        else {"dates": [day(d) for d in history.index], "values": float_list(history.to_numpy(dtype="float64"))},
        "warnings": [str(w) for w in warnings],
        "generated_at": generated_at,
        "version": __version__,
        **extra,
    }
