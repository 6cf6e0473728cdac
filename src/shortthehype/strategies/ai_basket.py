"""``ai-basket``: long a basket of AI stocks, optionally behind a trend filter.

Definitions (every value on bar t uses closes up to t only):

* **Members** on bar t are the basket tickers with a close on t (a ticker
  that lists later enters at the first rebalance on or after its first
  close; one that stops trading leaves).  ``inverse_vol`` and ``momentum``
  further need the ticker's full trailing window (``vol_window`` returns /
  ``momentum_window`` bars), so a new listing joins those weightings once it
  has that much history.
* **Weights** (sum 1 over the members, 0 for non-members, then times
  ``exposure``): ``equal`` = 1/m; ``inverse_vol`` = (1/σ_i) / Σ(1/σ_j) with σ
  the annualised standard deviation of daily log returns over ``vol_window``
  returns; ``momentum`` = (1 − λ)/m + λ · rank_i / (m(m+1)/2) where rank 1 is
  the lowest and m the highest trailing total return close_t/close_{t−L} − 1
  over L = ``momentum_window`` bars (ties share their average rank) and
  λ = ``momentum_tilt`` (0 = equal weights, 1 = weights proportional to rank).
* **Basket index** (the trend filter's series): an equal-weight index of the
  members rebalanced daily: I_0 = 1, I_t = I_{t−1} (1 + mean_j r_{j,t}) with
  r_{j,t} = close_{j,t}/close_{j,t−1} − 1 over the tickers that have both
  closes (a bar where none has is flat).
* **Trend filter** (``trend_window`` N > 0): invested while I_t > SMA_N(I)_t,
  in cash while I_t < SMA_N(I)_t; a bar where they are equal keeps the
  previous state, and the N − 1 bars before the average exists are invested.
  The filter is evaluated every bar: on the bar it switches, a target row is
  emitted (all zeros when leaving, today's basket weights when coming back),
  in addition to the rows of the rebalance calendar.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from shortthehype.baskets import (
    AI_BASKET,
    BASKET_MOMENTUM_WINDOW,
    BASKET_VOL_WINDOW,
    WEIGHTINGS,
    basket_index,
    basket_weights,
)
from shortthehype.core.targets_nb import ai_basket_targets_nb, momentum_nb, side_targets_nb, trend_side_nb
from shortthehype.data.prices import Prices
from shortthehype.errors import SpecError
from shortthehype.fused import FusedTargets, Prepared, choice_index
from shortthehype.params import Param
from shortthehype.schedule import REBALANCE_FREQUENCIES, rebalance_mask
from shortthehype.signals import rolling_mean, rolling_volatilities
from shortthehype.strategies.base import Params, StrategyKind, register

__all__ = ["AI_BASKET_KIND", "WEIGHTINGS", "basket_index", "basket_weights", "side_targets", "trend_side"]

PARAMS = (
    Param("tickers", "tickers", list(AI_BASKET), "The basket; tickers that list later join when they list."),
    Param(
        "weighting",
        "choice",
        "equal",
        "equal = 1/m; inverse_vol = proportional to 1/trailing volatility; momentum = tilted toward trailing-return winners.",
        choices=WEIGHTINGS,
    ),
    Param(
        "rebalance",
        "choice",
        "monthly",
        "How often the basket is traded back to its weights (last trading day of each period).",
        choices=tuple(REBALANCE_FREQUENCIES),
    ),
    Param("exposure", "float", 1.0, "Gross long exposure while invested (1 = fully invested).", "x equity", minimum=0.0, exclusive_minimum=True),
    Param("vol_window", "int", BASKET_VOL_WINDOW, "Returns in the trailing volatility of inverse_vol.", "bars", minimum=2, applies={"weighting": "inverse_vol"}),
    Param("momentum_window", "int", BASKET_MOMENTUM_WINDOW, "Bars of the trailing total return ranked by momentum.", "bars", minimum=1, applies={"weighting": "momentum"}),
    Param(
        "momentum_tilt",
        "float",
        1.0,
        "Momentum weights: 0 = equal, 1 = proportional to the return rank (in between: a blend).",
        "fraction",
        minimum=0.0,
        maximum=1.0,
        applies={"weighting": "momentum"},
    ),
    Param(
        "trend_window",
        "int",
        0,
        "Trend filter: cash while the basket index closes below its N-bar moving average (0 = off).",
        "bars",
        minimum=0,
    ),
)


# ---- building blocks shared with dotcom-analog (the basket index and weights: shortthehype.baskets) ------------------------------------------


def _float_array(frame: pd.DataFrame) -> np.ndarray:
    return np.ascontiguousarray(frame.to_numpy(dtype=np.float64))


def trend_side(index: pd.Series, window: int) -> np.ndarray:
    """1.0 on bars where the trend filter is invested, 0.0 where it is in cash.

    Invested while ``index > SMA_window(index)``, in cash while below; a bar
    where they are equal keeps the previous state; invested until the moving
    average exists.  ``window = 0`` is always invested.
    """
    out = np.ones(len(index))
    if window:
        level = index.to_numpy(dtype=np.float64)
        trend_side_nb(level, rolling_mean(index, window).to_numpy(dtype=np.float64), out)
    return out


def side_targets(weights: pd.DataFrame, side: np.ndarray, rebalance: np.ndarray) -> pd.DataFrame:
    """Target rows ``side[t] × weights[t]`` on rebalance bars and on bars where ``side`` changes; NaN elsewhere.

    ``side`` is the signed exposure per bar (e.g. 1 = long the basket, 0 =
    cash, -0.5 = short half the equity).  A row with side 0 is all zeros even
    when the weights are undefined; a row whose weights are undefined and
    side non-zero stays NaN (no order).
    """
    out = np.empty(weights.shape)
    side_targets_nb(_float_array(weights), np.asarray(side, dtype=np.float64), np.asarray(rebalance, dtype=np.bool_), out)
    return pd.DataFrame(out, index=weights.index, columns=weights.columns)


# ---- the kind ---------------------------------------------------------------------------


def _tickers(params: Params) -> list[str]:
    return list(params["tickers"])


def _check(params: Params) -> None:
    if params["trend_window"] == 1:
        raise SpecError("parameter 'trend_window' = 1 compares the index with itself; use 0 (off) or >= 2")


def _prepare(prices: Prices, params: Params, choices: Mapping[str, Sequence[Any]]) -> Prepared:
    """Closes, calendars, the basket index and each indicator once per distinct window among ``choices``."""
    close_frame = prices.close[list(params["tickers"])]
    close = _float_array(close_frame)
    n, k = close.shape
    calendar_of = choice_index(choices["rebalance"])
    calendars = np.stack([rebalance_mask(prices.index, frequency) for frequency in calendar_of])
    index = basket_index(close_frame)
    trend_of = choice_index([w for w in choices["trend_window"] if w > 0])
    trend_means = np.empty((len(trend_of), n))
    for window, row in trend_of.items():
        trend_means[row] = rolling_mean(index, window).to_numpy(dtype=np.float64)
    weightings = set(choices["weighting"])
    vol_of = choice_index(choices["vol_window"] if "inverse_vol" in weightings else ())
    vols = rolling_volatilities(close_frame, list(vol_of)) if vol_of else np.empty((0, n, k))
    momentum_of = choice_index(choices["momentum_window"] if "momentum" in weightings else ())
    momenta = np.empty((len(momentum_of), n, k))
    for window, row in momentum_of.items():
        momentum_nb(close, window, momenta[row])

    def encode(p: Params) -> tuple[list[int], list[float]]:
        weighting = p["weighting"]
        trend = p["trend_window"]
        return [
            WEIGHTINGS.index(weighting),
            calendar_of[p["rebalance"]],
            trend_of[trend] if trend > 0 else -1,
            vol_of[p["vol_window"]] if weighting == "inverse_vol" else 0,
            momentum_of[p["momentum_window"]] if weighting == "momentum" else 0,
        ], [p["exposure"], p["momentum_tilt"]]

    data = (close, calendars, index.to_numpy(dtype=np.float64), trend_means, vols, momenta)
    return Prepared(data, encode)


#: The kind's target kernel, shared by ``backtest()`` and the fused sweep.
FUSED = FusedTargets(
    params=("weighting", "rebalance", "exposure", "vol_window", "momentum_window", "momentum_tilt", "trend_window"),
    columns=_tickers,
    prepare=_prepare,
    targets_nb=ai_basket_targets_nb,
    sweep_nb="ai_basket_sweep_nb",
)


def _target_weights(prices: Prices, params: Params) -> pd.DataFrame:
    return FUSED.targets(prices, params)


AI_BASKET_KIND = register(
    StrategyKind(
        name="ai-basket",
        summary="Long an AI basket (equal / inverse-vol / momentum weights), late listings join, optional trend filter to cash.",
        params=PARAMS,
        tickers=_tickers,
        target_weights=_target_weights,
        check=_check,
        check_reads=("trend_window",),
        fused=FUSED,
    )
)
