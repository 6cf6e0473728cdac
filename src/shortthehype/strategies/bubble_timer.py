"""``bubble-timer``: long, short or cash on the LPPLS confidence indicator.

Every ``step`` bars (counted from the series' first bar, so the evaluation
dates never depend on later data) the bubble and anti-bubble confidence
indicators of :mod:`shortthehype.lppls` are computed for the analysed series
— one ticker's closes, or the AI basket index when ``ticker = "ai-basket"``
(:func:`shortthehype.lppls.bubble_series`) — from the closes up to that bar
only.  Then, on an evaluation bar:

* a **bubble signal** fires when ``bubble >= bubble_threshold`` and
  ``bubble >= antibubble``;
* otherwise an **anti-bubble signal** fires when ``antibubble >= antibubble_threshold``.

A signal puts the strategy in its regime for ``max(hold, step)`` bars from
the bar it fired on (a later signal of either kind takes over); outside any
regime it is **neutral**.  The position is the regime's exposure times the
traded weights: ``bubble_exposure`` (default 0 = cash; negative = short),
``antibubble_exposure`` and ``neutral_exposure`` (default 1 = fully long).
A single ticker is traded alone; the AI basket is traded as its listed
members with equal weights (re-set on the ``rebalance`` calendar and on
every regime change, as in ``ai-basket``).

Targets are set on the bar whose close produced the signal and trade at the
next open by default.  Until the first evaluation (a full smallest window,
or ``evaluate_from``) the strategy is neutral.  The indicator is expensive
(26 windows x several local searches per evaluation), so computations are
cached by content: a sweep over thresholds, hold and exposures fits once.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from shortthehype.baskets import AI_BASKET
from shortthehype.constants import (
    BUBBLE_AI_BASKET,
    BUBBLE_THRESHOLD,
    LPPLS_MIN_BARS,
    LPPLS_WINDOW_MAX,
    LPPLS_WINDOW_MIN,
    LPPLS_WINDOW_STEP,
)
from shortthehype.core.targets_nb import (
    REGIME_ANTIBUBBLE,
    REGIME_BUBBLE,
    REGIME_NEUTRAL,
    bubble_regimes_nb,
    bubble_signals_nb,
    bubble_timer_targets_nb,
)
from shortthehype.data.prices import Prices
from shortthehype.errors import SpecError
from shortthehype.fused import FusedTargets, Prepared, choice_index, rows_on_first_use
from shortthehype.kept import RecentValues
from shortthehype.params import Param
from shortthehype.schedule import REBALANCE_FREQUENCIES, rebalance_mask
from shortthehype.strategies.base import Params, StrategyKind, register

__all__ = ["AI_BASKET_TICKERS", "BUBBLE_TIMER", "bubble_regimes", "bubble_signals"]

#: Default series analysed and traded: the Nasdaq-100 ETF (data from 1999-03-10).
DEFAULT_TICKER = "QQQ"
#: Bars between indicator evaluations, and bars a signal's regime lasts.
BUBBLE_STEP = 5
BUBBLE_HOLD = 21
#: Indicator computations kept in memory by bubble-timer (a sweep over its
#: thresholds and exposures refits nothing).
BUBBLE_FIT_CACHE_SIZE = 16

PARAMS = (
    Param("ticker", "ticker", DEFAULT_TICKER, "Ticker analysed and traded, or ai-basket (the AI basket index / its members)."),
    Param("window_min", "int", LPPLS_WINDOW_MIN, "Smallest nested LPPLS window.", "bars", minimum=LPPLS_MIN_BARS),
    Param("window_max", "int", LPPLS_WINDOW_MAX, "Largest nested LPPLS window.", "bars", minimum=LPPLS_MIN_BARS),
    Param("window_step", "int", LPPLS_WINDOW_STEP, "Step between nested window lengths.", "bars", minimum=1),
    Param("step", "int", BUBBLE_STEP, "Bars between indicator evaluations (the position is held in between).", "bars", minimum=1),
    Param(
        "bubble_threshold",
        "float",
        BUBBLE_THRESHOLD,
        "Bubble signal when the bubble indicator reaches this share of windows (and beats the anti-bubble one).",
        "fraction",
        minimum=0.0,
        maximum=1.0,
        exclusive_minimum=True,
    ),
    Param(
        "antibubble_threshold",
        "float",
        BUBBLE_THRESHOLD,
        "Anti-bubble signal when the anti-bubble indicator reaches this share of windows.",
        "fraction",
        minimum=0.0,
        maximum=1.0,
        exclusive_minimum=True,
    ),
    Param("hold", "int", BUBBLE_HOLD, "Bars a signal's regime lasts after it fires (at least until the next evaluation).", "bars", minimum=0),
    Param("bubble_exposure", "float", 0.0, "Exposure in the bubble regime (0 = cash, -1 = fully short).", "x equity"),
    Param("antibubble_exposure", "float", 1.0, "Exposure in the anti-bubble regime.", "x equity"),
    Param("neutral_exposure", "float", 1.0, "Exposure when no signal is in force.", "x equity"),
    Param("evaluate_from", "date", None, "First date the indicator is evaluated (default: once the smallest window fits).", optional=True),
    Param(
        "rebalance",
        "choice",
        "monthly",
        "AI basket only: calendar on which member weights are re-set (besides regime changes).",
        choices=tuple(REBALANCE_FREQUENCIES),
        applies={"ticker": BUBBLE_AI_BASKET.upper()},
    ),
)

#: The tickers ``ticker = "ai-basket"`` loads and trades.
AI_BASKET_TICKERS = AI_BASKET

#: Regime codes of :func:`bubble_regimes`.
NEUTRAL, BUBBLE, ANTIBUBBLE = REGIME_NEUTRAL, REGIME_BUBBLE, REGIME_ANTIBUBBLE


def _tickers(params: Params) -> list[str]:
    from shortthehype.lppls import bubble_tickers

    return bubble_tickers(params["ticker"])


def _check(params: Params) -> None:
    if params["window_min"] > params["window_max"]:
        raise SpecError(
            f"parameter 'window_min' = {params['window_min']} must not exceed 'window_max' = {params['window_max']}"
        )


_FITS = RecentValues(BUBBLE_FIT_CACHE_SIZE)


def _cached_fits(series: pd.Series, positions: np.ndarray, windows: np.ndarray):  # -> NestedFits
    """:func:`shortthehype.lppls.nested_fits` behind a small content-addressed cache."""
    from shortthehype.lppls import LPPLSSearch, NestedFits, nested_fits

    search = LPPLSSearch()
    digest = hashlib.blake2b(digest_size=20)
    for array in (series.to_numpy(dtype=np.float64), positions, windows):
        digest.update(np.ascontiguousarray(array).tobytes())
        digest.update(b"|")
    digest.update(repr(search).encode())
    dates = series.index[positions]

    def fit() -> np.ndarray:
        records = nested_fits(series, windows=windows, dates=dates, search=search).records
        records.flags.writeable = False  # shared by every later caller: none may change it
        return records

    return NestedFits(dates=dates, windows=windows, records=_FITS.get(digest.hexdigest(), fit), search=search)


def _indicator(series: pd.Series, params: Params) -> pd.DataFrame:
    """The confidence indicator (:func:`shortthehype.lppls.confidence_from_fits`) on the evaluation dates."""
    from shortthehype.lppls import confidence_from_fits, evaluation_positions, lppls_windows

    windows = lppls_windows(int(params["window_min"]), int(params["window_max"]), int(params["window_step"]))
    first = int(windows[0]) - 1
    if params.get("evaluate_from") is not None:
        first = max(first, int(series.index.searchsorted(params["evaluate_from"], side="left")))
    positions = evaluation_positions(len(series), int(params["step"]), first=first, anchor="start")
    return confidence_from_fits(_cached_fits(series, positions, windows))


def bubble_signals(series: pd.Series, params: Params) -> pd.DataFrame:
    """The indicator on the evaluation dates of ``params`` (see the module docstring).

    Returns the frame of :func:`shortthehype.lppls.confidence_from_fits`
    plus ``signal``: 1 = bubble, -1 = anti-bubble, 0 = none.
    """
    frame = _indicator(series, params)
    signal = np.empty(len(frame), dtype=np.int64)
    bubble_signals_nb(
        frame["bubble"].to_numpy(dtype=np.float64), frame["antibubble"].to_numpy(dtype=np.float64),
        float(params["bubble_threshold"]), float(params["antibubble_threshold"]), signal,
    )
    frame["signal"] = signal
    return frame


def bubble_regimes(index: pd.DatetimeIndex, signals: pd.Series, duration: int) -> np.ndarray:
    """Regime code per bar of ``index``: a non-zero signal on bar s holds bars s .. s + duration - 1.

    A later signal takes over from an earlier one; bars in no signal's span are 0 (neutral).
    ``signals`` is indexed by dates of ``index``.
    """
    signal = np.zeros(len(index), dtype=np.int64)
    signal[index.get_indexer(signals.index)] = signals.to_numpy(dtype=np.int64)
    regime = np.empty(len(index), dtype=np.int64)
    bubble_regimes_nb(signal, int(duration), regime)
    return regime


def _is_basket(params: Params) -> bool:
    return params["ticker"].strip().lower() == BUBBLE_AI_BASKET


#: Parameters that define the indicator: each distinct set is computed once (and the fits are cached).
_INDICATOR_PARAMS = ("window_min", "window_max", "window_step", "step", "evaluate_from")


def _prepare(prices: Prices, params: Params, choices: Mapping[str, Sequence[Any]]) -> Prepared:
    """The traded closes, the weights' calendars and the indicator per distinct set of its parameters.

    Every set of the indicator parameters' values among ``choices`` that the
    spec check allows (``window_min <= window_max``) has a row, on the bars of
    ``prices`` (NaN off the evaluation bars), computed when a combination
    first uses it (``encode``): a random draw from a wide grid pays for the
    sets it draws, not for all of them.
    """
    from shortthehype.lppls import bubble_series

    columns = _traded(prices, params)
    close = np.ascontiguousarray(prices.close[columns].to_numpy(dtype=np.float64))
    n = len(prices)
    if _is_basket(params):
        calendar_of = choice_index(choices["rebalance"])
        calendars = np.stack([rebalance_mask(prices.index, frequency) for frequency in calendar_of])
    else:
        calendar_of = {}
        calendars = np.zeros((1, n), dtype=bool)
        listed = np.flatnonzero(np.isfinite(close[:, 0]))
        if listed.size:
            calendars[0, listed[0]] = True  # invest on the first close
    indicator_of: dict[tuple[Any, ...], int] = {}
    for values in itertools.product(*(dict.fromkeys(choices[name]) for name in _INDICATOR_PARAMS)):
        if values[0] <= values[1]:
            indicator_of[values] = len(indicator_of)
    bubble = np.full((len(indicator_of), n), np.nan)
    antibubble = np.full((len(indicator_of), n), np.nan)

    def on_bars(values: tuple[Any, ...]) -> np.ndarray:
        frame = _indicator(bubble_series(prices, params["ticker"]), {**params, **dict(zip(_INDICATOR_PARAMS, values))})
        where = prices.index.get_indexer(frame.index)
        rows = np.full((2, n), np.nan)
        rows[0, where] = frame["bubble"].to_numpy(dtype=np.float64)
        rows[1, where] = frame["antibubble"].to_numpy(dtype=np.float64)
        return rows

    def compute(values: tuple[Any, ...], row: int) -> None:
        # kept with the prices (as many as the fits kept): each run of a generic sweep or a study prepares its own
        # parameters afresh
        rows = prices.recent(("bubble-indicator", params["ticker"]), values, lambda: on_bars(values), BUBBLE_FIT_CACHE_SIZE)
        bubble[row], antibubble[row] = rows[0], rows[1]

    indicator_row = rows_on_first_use(indicator_of, compute)

    def encode(p: Params) -> tuple[list[int], list[float]]:
        calendar = calendar_of[p["rebalance"]] if calendar_of else 0
        indicator = indicator_row(tuple(p[name] for name in _INDICATOR_PARAMS))
        return [calendar, indicator, max(int(p["hold"]), int(p["step"]))], [
            p["bubble_threshold"], p["antibubble_threshold"], p["bubble_exposure"], p["antibubble_exposure"],
            p["neutral_exposure"],
        ]

    return Prepared((close, calendars, bubble, antibubble), encode, columns)


#: The kind's target kernel given the precomputed indicator, shared by ``backtest()`` and the fused sweep;
#: ``ticker`` changes what is traded, so a sweep over it runs the kernel once per ticker.
FUSED = FusedTargets(
    params=("ticker", *_INDICATOR_PARAMS, "bubble_threshold", "antibubble_threshold", "hold", "bubble_exposure",
            "antibubble_exposure", "neutral_exposure", "rebalance"),
    columns=_tickers,
    prepare=_prepare,
    targets_nb=bubble_timer_targets_nb,
    sweep_nb="bubble_timer_sweep_nb",
    layout=("ticker",),
)


def _traded(prices: Prices, params: Params) -> list[str]:
    """The tickers traded: the analysed ticker, or the AI basket's members found in ``prices``."""
    return [t for t in _tickers(params) if t in prices.tickers]


def _target_weights(prices: Prices, params: Params) -> pd.DataFrame:
    return FUSED.targets(prices, params)


BUBBLE_TIMER = register(
    StrategyKind(
        name="bubble-timer",
        summary="Long, short or cash on the LPPLS bubble / anti-bubble confidence indicators of a ticker or the AI basket.",
        params=PARAMS,
        tickers=_tickers,
        target_weights=_target_weights,
        check=_check,
        check_reads=("window_min", "window_max"),
        fused=FUSED,
    )
)
