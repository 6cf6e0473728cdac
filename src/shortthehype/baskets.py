"""The AI basket and the basket building blocks shared by strategy kinds and the bubble indicator.

Below both :mod:`shortthehype.strategies` and :mod:`shortthehype.lppls`, so
neither imports the other for them.

* **Basket index**: an equal-weight index of the members rebalanced daily:
  I_0 = 1, I_t = I_{t−1} (1 + mean_j r_{j,t}) with r_{j,t} =
  close_{j,t}/close_{j,t−1} − 1 over the tickers that have both closes (a bar
  where none has is flat).
* **Basket weights**: ``equal``, ``inverse_vol`` and ``momentum`` (see
  :mod:`shortthehype.strategies.ai_basket` for the definitions).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from shortthehype.core.targets_nb import basket_index_nb, basket_weights_nb, momentum_nb
from shortthehype.errors import ParamError
from shortthehype.signals import rolling_volatility

__all__ = [
    "AI_BASKET",
    "BASKET_MOMENTUM_WINDOW",
    "BASKET_VOL_WINDOW",
    "WEIGHTINGS",
    "basket_index",
    "basket_weights",
]

#: The default AI basket of the essay's strategies (and the ``ai-basket`` series of ``bubble``).
AI_BASKET = ("NVDA", "MSFT", "GOOGL", "AMZN", "META", "AVGO", "TSM", "ORCL", "AMD", "PLTR")
#: Weighting schemes of the basket.
WEIGHTINGS = ("equal", "inverse_vol", "momentum")
#: Trailing window of the inverse-volatility weighting (about three months of returns).
BASKET_VOL_WINDOW = 63
#: Trailing window of the momentum weighting's total return (about six months).
BASKET_MOMENTUM_WINDOW = 126


def _float_array(frame: pd.DataFrame) -> np.ndarray:
    return np.ascontiguousarray(frame.to_numpy(dtype=np.float64))


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
    out = np.empty(len(close))
    basket_index_nb(_float_array(close), out)
    return pd.Series(out, index=close.index, name="basket")


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
    if weighting not in WEIGHTINGS:
        raise ParamError(f"parameter 'weighting' is {weighting!r}; expected one of {', '.join(WEIGHTINGS)}")
    code = WEIGHTINGS.index(weighting)
    values = _float_array(close)
    vol = _float_array(rolling_volatility(close, vol_window)) if weighting == "inverse_vol" else values
    momentum = values
    if weighting == "momentum":
        momentum = np.empty_like(values)
        momentum_nb(values, momentum_window, momentum)
    out = np.empty_like(values)
    basket_weights_nb(code, values, vol, momentum, float(momentum_tilt), out)
    return pd.DataFrame(out, index=close.index, columns=close.columns)
