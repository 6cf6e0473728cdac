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
from collections import OrderedDict

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
from shortthehype.data.prices import Prices
from shortthehype.errors import SpecError
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
NEUTRAL, BUBBLE, ANTIBUBBLE = 0, 1, -1


def _tickers(params: Params) -> list[str]:
    from shortthehype.lppls import bubble_tickers

    return bubble_tickers(params["ticker"])


def _check(params: Params) -> None:
    if params["window_min"] > params["window_max"]:
        raise SpecError(
            f"parameter 'window_min' = {params['window_min']} must not exceed 'window_max' = {params['window_max']}"
        )


_FIT_CACHE: OrderedDict[str, np.ndarray] = OrderedDict()


def _cached_fits(series: pd.Series, positions: np.ndarray, windows: np.ndarray):  # -> NestedFits
    """:func:`shortthehype.lppls.nested_fits` behind a small content-addressed cache."""
    from shortthehype.lppls import LPPLSSearch, NestedFits, nested_fits

    search = LPPLSSearch()
    digest = hashlib.blake2b(digest_size=20)
    for array in (series.to_numpy(dtype=np.float64), positions, windows):
        digest.update(np.ascontiguousarray(array).tobytes())
        digest.update(b"|")
    digest.update(repr(search).encode())
    key = digest.hexdigest()
    dates = series.index[positions]
    if key in _FIT_CACHE:
        _FIT_CACHE.move_to_end(key)
        return NestedFits(dates=dates, windows=windows, records=_FIT_CACHE[key], search=search)
    fits = nested_fits(series, windows=windows, dates=dates, search=search)
    _FIT_CACHE[key] = fits.records
    while len(_FIT_CACHE) > BUBBLE_FIT_CACHE_SIZE:
        _FIT_CACHE.popitem(last=False)
    return fits


def bubble_signals(series: pd.Series, params: Params) -> pd.DataFrame:
    """The indicator on the evaluation dates of ``params`` (see the module docstring).

    Returns the frame of :func:`shortthehype.lppls.confidence_from_fits`
    plus ``signal``: 1 = bubble, -1 = anti-bubble, 0 = none.
    """
    from shortthehype.lppls import confidence_from_fits, evaluation_positions, lppls_windows

    windows = lppls_windows(int(params["window_min"]), int(params["window_max"]), int(params["window_step"]))
    first = int(windows[0]) - 1
    if params.get("evaluate_from") is not None:
        first = max(first, int(series.index.searchsorted(params["evaluate_from"], side="left")))
    positions = evaluation_positions(len(series), int(params["step"]), first=first, anchor="start")
    fits = _cached_fits(series, positions, windows)
    frame = confidence_from_fits(fits)
    bubble = frame["bubble"].to_numpy(dtype=np.float64)
    anti = frame["antibubble"].to_numpy(dtype=np.float64)
    with np.errstate(invalid="ignore"):
        fire_bubble = (bubble >= params["bubble_threshold"]) & (bubble >= anti)
        fire_anti = (anti >= params["antibubble_threshold"]) & ~fire_bubble
    frame["signal"] = np.where(fire_bubble, BUBBLE, np.where(fire_anti, ANTIBUBBLE, NEUTRAL)).astype(np.int64)
    return frame


def bubble_regimes(index: pd.DatetimeIndex, signals: pd.Series, duration: int) -> np.ndarray:
    """Regime code per bar of ``index``: a non-zero signal on bar s holds bars s .. s + duration - 1.

    A later signal takes over from an earlier one; bars in no signal's span are 0 (neutral).
    ``signals`` is indexed by dates of ``index``.
    """
    n = len(index)
    regime = np.zeros(n, dtype=np.int64)
    fired = signals[signals != NEUTRAL]
    if n == 0 or fired.empty:
        return regime
    where = index.get_indexer(fired.index)
    last_bar = np.full(n, -1, dtype=np.int64)
    last_code = np.zeros(n, dtype=np.int64)
    last_bar[where] = where
    last_code[where] = fired.to_numpy(dtype=np.int64)
    last_bar = np.maximum.accumulate(last_bar)
    code_at = np.where(last_bar >= 0, last_code[np.maximum(last_bar, 0)], 0)
    active = (last_bar >= 0) & (np.arange(n) - last_bar < duration)
    regime[active] = code_at[active]
    return regime


def _target_weights(prices: Prices, params: Params) -> pd.DataFrame:
    from shortthehype.constants import BUBBLE_AI_BASKET
    from shortthehype.lppls import bubble_series
    from shortthehype.strategies.ai_basket import basket_weights, side_targets

    series = bubble_series(prices, params["ticker"])
    signals = bubble_signals(series, params)["signal"]
    duration = max(int(params["hold"]), int(params["step"]))
    regime = bubble_regimes(prices.index, signals, duration)
    exposure = np.where(
        regime == BUBBLE,
        params["bubble_exposure"],
        np.where(regime == ANTIBUBBLE, params["antibubble_exposure"], params["neutral_exposure"]),
    ).astype(np.float64)
    if params["ticker"].strip().lower() == BUBBLE_AI_BASKET:
        members = [t for t in _tickers(params) if t in prices.tickers]
        weights = basket_weights(prices.close[members], "equal")
        calendar = rebalance_mask(prices.index, params["rebalance"])
    else:
        ticker = str(series.name)
        listed = prices.close[ticker].notna().to_numpy()
        weights = pd.DataFrame({ticker: np.where(listed, 1.0, np.nan)}, index=prices.index)
        calendar = np.zeros(len(prices.index), dtype=bool)
        first = np.flatnonzero(listed)
        if first.size:
            calendar[first[0]] = True  # invest on the first close
    return side_targets(weights, exposure, calendar)


BUBBLE_TIMER = register(
    StrategyKind(
        name="bubble-timer",
        summary="Long, short or cash on the LPPLS bubble / anti-bubble confidence indicators of a ticker or the AI basket.",
        params=PARAMS,
        tickers=_tickers,
        target_weights=_target_weights,
        check=_check,
    )
)
