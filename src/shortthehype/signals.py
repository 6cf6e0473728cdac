"""pandas wrappers of the rolling indicators in :mod:`shortthehype.core.signals_nb`.

Each function takes a Series or DataFrame indexed by date and returns the same
shape; the value on date t uses data up to and including t only.  A window
containing a missing value gives NaN (no partial windows).  ``rolling_mean``
sums each window afresh by default; ``method="cumulative"`` reproduces
vectorbt's running-sum mean bit for bit instead.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from shortthehype.constants import SMA_DEFAULT_METHOD, SMA_METHODS
from shortthehype.core import signals_nb as nb
from shortthehype.errors import ParamError, did_you_mean

__all__ = [
    "crossed_above", "log_returns", "rolling_beta", "rolling_betas", "rolling_mean", "rolling_volatilities",
    "rolling_volatility",
]


def _check_window(window: int, name: str = "window", minimum: int = 1) -> int:
    if isinstance(window, bool) or int(window) != window or window < minimum:
        raise ParamError(f"{name} must be an integer >= {minimum}, got {window!r}")
    return int(window)


def _as_2d(data: pd.Series | pd.DataFrame) -> tuple[np.ndarray, bool]:
    frame = data.to_frame() if isinstance(data, pd.Series) else data
    return np.ascontiguousarray(frame.to_numpy(dtype=np.float64)), isinstance(data, pd.Series)


def _wrap(values: np.ndarray, like: pd.Series | pd.DataFrame) -> pd.Series | pd.DataFrame:
    if isinstance(like, pd.Series):
        return pd.Series(values[:, 0], index=like.index, name=like.name)
    return pd.DataFrame(values, index=like.index, columns=like.columns)


def log_returns(prices: pd.Series | pd.DataFrame) -> pd.Series | pd.DataFrame:
    """Daily log returns; NaN on the first row and next to missing prices."""
    values, _ = _as_2d(prices)
    out = np.empty_like(values)
    for j in range(values.shape[1]):
        nb.log_returns_1d_nb(values[:, j], out[:, j])
    return _wrap(out, prices)


def rolling_mean(
    data: pd.Series | pd.DataFrame, window: int, method: str = SMA_DEFAULT_METHOD
) -> pd.Series | pd.DataFrame:
    """Simple moving average over ``window`` rows.

    Parameters
    ----------
    data
        Values indexed by date (one column per series).
    window
        Number of rows averaged (an integer >= 1).
    method
        ``"windowed"`` (default) sums each window afresh: exact to ~1e-16
        relative, NaN wherever the window holds a non-finite value.
        ``"cumulative"`` differences running sums as vectorbt does, and
        equals ``vbt.MA.run(data, window).ma`` bit for bit: its round-off
        grows with the running sum (~1e-12 relative after 5,000 prices), a
        NaN is skipped by the running sum and makes its windows NaN, and an
        infinity makes its windows ±inf and every later row NaN.  Use it to
        reproduce vectorbt where two averages tie exactly.

    Returns
    -------
    Series or DataFrame
        The same shape as ``data``; NaN on the first ``window - 1`` rows.

    Raises
    ------
    ParamError
        ``window`` is not an integer >= 1, or ``method`` is not one of
        :data:`shortthehype.constants.SMA_METHODS`.
    """
    if method not in SMA_METHODS:
        raise ParamError(
            f"method must be one of {', '.join(SMA_METHODS)}, got {method!r}"
            + did_you_mean(str(method), SMA_METHODS)
        )
    values, _ = _as_2d(data)
    out = np.empty_like(values)
    nb.rolling_means_2d_nb(values, _check_window(window), method != "windowed", out)
    return _wrap(out, data)


def rolling_volatility(prices: pd.Series | pd.DataFrame, window: int, periods_per_year: int = 252) -> pd.Series | pd.DataFrame:
    """Annualised standard deviation (ddof=1) of daily log returns over the last ``window`` returns."""
    return _wrap(rolling_volatilities(prices, [window], periods_per_year)[0], prices)


def rolling_volatilities(
    prices: pd.Series | pd.DataFrame, windows: Sequence[int], periods_per_year: int = 252
) -> np.ndarray:
    """:func:`rolling_volatility` of every column for every window: ``(windows, bars, columns)``, the pairs in parallel."""
    returns, _ = _as_2d(log_returns(prices))
    sizes = np.asarray([_check_window(w, minimum=2) for w in windows], dtype=np.int64)
    out = np.empty((len(sizes), *returns.shape))
    nb.rolling_stds_nb(returns, sizes, 1, out)
    return out * np.sqrt(periods_per_year)


def rolling_beta(asset: pd.Series, market: pd.Series, window: int) -> pd.Series:
    """OLS beta of the asset's daily simple returns on the market's, over the last ``window`` returns."""
    betas = rolling_betas(asset.to_frame(), market, [window])[0, :, 0]
    return pd.Series(betas, index=asset.index, name=asset.name)


def rolling_betas(close: pd.DataFrame, reference: pd.Series, windows: Sequence[int], first: int = 0) -> np.ndarray:
    """:func:`rolling_beta` of every column of ``close`` on ``reference`` for every window: ``(windows, bars, columns)``.

    One pass over the returns, the (window, column) pairs in parallel; each
    value from row ``first`` on equals :func:`rolling_beta` of that column
    and window (earlier rows are NaN: not computed).
    """
    values = np.ascontiguousarray(close.to_numpy(dtype=np.float64))
    market = np.ascontiguousarray(reference.reindex(close.index).to_numpy(dtype=np.float64))
    sizes = np.asarray([_check_window(w, minimum=2) for w in windows], dtype=np.int64)
    out = np.empty((len(sizes), *values.shape))
    nb.rolling_betas_nb(values, market, sizes, int(first), out)
    return out


# --- crossovers (ma-crossover; basket engineer) ---


def crossed_above(a: pd.Series, b: pd.Series) -> pd.Series:
    """Boolean Series: True on the bars where ``a`` crosses above ``b``.

    The semantics are vectorbt's ``crossed_above`` (wait=0): a[t] > b[t] and
    a[t-1] <= b[t-1], and ``a`` was strictly below ``b`` at least once since
    either series was last NaN.  So the first bar where both are defined is
    never a cross, and neither is a bar after a NaN.  ``b`` is aligned on
    ``a``'s dates.  Cross below is ``crossed_above(b, a)``.
    """
    first = np.ascontiguousarray(a.to_numpy(dtype=np.float64))
    second = np.ascontiguousarray(b.reindex(a.index).to_numpy(dtype=np.float64))
    out = np.empty(first.shape[0], dtype=np.bool_)
    nb.crossed_above_1d_nb(first, second, out)
    return pd.Series(out, index=a.index, name=a.name)
