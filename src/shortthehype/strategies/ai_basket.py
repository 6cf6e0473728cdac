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

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from shortthehype.constants import AI_BASKET, BASKET_MOMENTUM_WINDOW, BASKET_VOL_WINDOW
from shortthehype.data.prices import Prices
from shortthehype.errors import ParamError, SpecError
from shortthehype.params import Param
from shortthehype.schedule import REBALANCE_FREQUENCIES, rebalance_mask
from shortthehype.signals import rolling_mean, rolling_volatility
from shortthehype.strategies.base import Params, StrategyKind, register

__all__ = ["AI_BASKET_KIND", "WEIGHTINGS", "basket_index", "basket_weights", "side_targets", "trend_side"]

#: Weighting schemes of the basket.
WEIGHTINGS = ("equal", "inverse_vol", "momentum")

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


# ---- building blocks shared with dotcom-analog ------------------------------------------


def _close_array(close: pd.DataFrame) -> np.ndarray:
    return np.ascontiguousarray(close.to_numpy(dtype=np.float64))


def basket_index(close: pd.DataFrame) -> pd.Series:
    """Equal-weight, daily-rebalanced index of the listed members; 1.0 on the first bar.

    Parameters
    ----------
    close : DataFrame
        Closes (rows = dates, columns = basket tickers; NaN = not trading).

    Returns
    -------
    Series
        I_0 = 1 and I_t = I_{t-1} (1 + mean of the members' simple returns on
        t), a member counting on t when it has a close on t and t-1.  A bar
        where no member has a return leaves the index unchanged, so the
        index is defined (finite, > 0 while no member loses 100 %) on every bar.
    """
    values = _close_array(close)
    growth = np.ones(values.shape[0])
    if values.shape[0] > 1:
        with np.errstate(invalid="ignore", divide="ignore"):
            returns = values[1:] / values[:-1] - 1.0
        valid = np.isfinite(returns)
        count = valid.sum(axis=1)
        total = np.where(valid, returns, 0.0).sum(axis=1)
        growth[1:] = 1.0 + np.divide(total, count, out=np.zeros_like(total), where=count > 0)
    return pd.Series(np.cumprod(growth), index=close.index, name="basket")


def basket_weights(
    close: pd.DataFrame,
    weighting: str = "equal",
    *,
    vol_window: int = BASKET_VOL_WINDOW,
    momentum_window: int = BASKET_MOMENTUM_WINDOW,
    momentum_tilt: float = 1.0,
) -> pd.DataFrame:
    """The basket's weights on every bar (see the module docstring for the definitions).

    Returns
    -------
    DataFrame
        Same shape as ``close``: each row sums to 1 over its members and is
        0 for the other tickers; a row is all NaN when no ticker qualifies
        (e.g. before any has a full volatility window).

    Raises
    ------
    ParamError
        Unknown ``weighting``, a window below its minimum (``vol_window`` >= 2,
        ``momentum_window`` >= 1) or ``momentum_tilt`` outside [0, 1].
    """
    if isinstance(momentum_window, bool) or int(momentum_window) != momentum_window or momentum_window < 1:
        raise ParamError(f"parameter 'momentum_window' must be an integer >= 1, got {momentum_window!r}")
    if not 0.0 <= momentum_tilt <= 1.0:
        raise ParamError(f"parameter 'momentum_tilt' must be in [0, 1], got {momentum_tilt!r}")
    momentum_window = int(momentum_window)
    values = _close_array(close)
    if weighting == "equal":
        members = np.isfinite(values)
        raw = members.astype(np.float64)
    elif weighting == "inverse_vol":
        vol = _close_array(rolling_volatility(close, vol_window))
        members = np.isfinite(vol) & (vol > 0.0) & np.isfinite(values)
        with np.errstate(divide="ignore"):
            raw = np.where(members, 1.0 / np.where(members, vol, 1.0), 0.0)
    elif weighting == "momentum":
        past = np.full_like(values, np.nan)
        if momentum_window < values.shape[0]:
            past[momentum_window:] = values[:-momentum_window]
        with np.errstate(invalid="ignore", divide="ignore"):
            momentum = values / past - 1.0
        members = np.isfinite(momentum)
        ranks = pd.DataFrame(np.where(members, momentum, np.nan)).rank(axis=1, method="average")
        rank = np.nan_to_num(ranks.to_numpy(dtype=np.float64), nan=0.0)
        m = members.sum(axis=1, keepdims=True).astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            rank_share = rank / (m * (m + 1.0) / 2.0)
            raw = np.where(members, (1.0 - momentum_tilt) / m + momentum_tilt * rank_share, 0.0)
    else:
        raise ParamError(f"parameter 'weighting' is {weighting!r}; expected one of {', '.join(WEIGHTINGS)}")
    total = raw.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        weights = np.where(total > 0.0, raw / np.where(total > 0.0, total, 1.0), np.nan)
    return pd.DataFrame(weights, index=close.index, columns=close.columns)


def trend_side(index: pd.Series, window: int) -> np.ndarray:
    """1.0 on bars where the trend filter is invested, 0.0 where it is in cash.

    Invested while ``index > SMA_window(index)``, in cash while below; a bar
    where they are equal keeps the previous state; invested until the moving
    average exists.  ``window = 0`` is always invested.
    """
    n = len(index)
    if window == 0:
        return np.ones(n)
    level = index.to_numpy(dtype=np.float64)
    average = rolling_mean(index, window).to_numpy(dtype=np.float64)
    state = np.where(level > average, 1.0, np.where(level < average, 0.0, np.nan))
    return pd.Series(state).ffill().fillna(1.0).to_numpy()


def side_targets(weights: pd.DataFrame, side: np.ndarray, rebalance: np.ndarray) -> pd.DataFrame:
    """Target rows ``side[t] × weights[t]`` on rebalance bars and on bars where ``side`` changes; NaN elsewhere.

    ``side`` is the signed exposure per bar (e.g. 1 = long the basket, 0 =
    cash, -0.5 = short half the equity).  A row with side 0 is all zeros even
    when the weights are undefined; a row whose weights are undefined and
    side non-zero stays NaN (no order).
    """
    n = len(side)
    changed = np.zeros(n, dtype=bool)
    if n > 1:
        changed[1:] = side[1:] != side[:-1]
    emit = np.asarray(rebalance, dtype=bool) | changed
    values = weights.to_numpy(dtype=np.float64) * side[:, None]
    values = np.where((side == 0.0)[:, None], 0.0, values)
    values = np.where(emit[:, None], values, np.nan)
    return pd.DataFrame(values, index=weights.index, columns=weights.columns)


# ---- the kind ---------------------------------------------------------------------------


def _tickers(params: Params) -> list[str]:
    return list(params["tickers"])


def _check(params: Params) -> None:
    if params["trend_window"] == 1:
        raise SpecError("parameter 'trend_window' = 1 compares the index with itself; use 0 (off) or >= 2")


def _weights_of(close: pd.DataFrame, params: Mapping[str, Any]) -> pd.DataFrame:
    return basket_weights(
        close,
        params["weighting"],
        vol_window=params["vol_window"],
        momentum_window=params["momentum_window"],
        momentum_tilt=params["momentum_tilt"],
    )


def _target_weights(prices: Prices, params: Params) -> pd.DataFrame:
    close = prices.close[list(params["tickers"])]
    weights = _weights_of(close, params)
    side = trend_side(basket_index(close), params["trend_window"]) * params["exposure"]
    return side_targets(weights, side, rebalance_mask(prices.index, params["rebalance"]))


AI_BASKET_KIND = register(
    StrategyKind(
        name="ai-basket",
        summary="Long an AI basket (equal / inverse-vol / momentum weights), late listings join, optional trend filter to cash.",
        params=PARAMS,
        tickers=_tickers,
        target_weights=_target_weights,
        check=_check,
    )
)
