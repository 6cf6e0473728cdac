"""Rebalance calendars: which bars a strategy sets new targets on."""

from __future__ import annotations

import numpy as np
import pandas as pd

from shortthehype.errors import ParamError

__all__ = ["REBALANCE_FREQUENCIES", "calendar_dates", "rebalance_mask"]

#: Rebalance frequencies and the pandas period that groups bars for each.
REBALANCE_FREQUENCIES = {
    "daily": None,
    "weekly": "W",
    "monthly": "M",
    "quarterly": "Q",
    "yearly": "Y",
    "once": None,
}


def rebalance_mask(index: pd.DatetimeIndex, frequency: str) -> np.ndarray:
    """Boolean mask of the bars on which targets are set.

    The first bar is always a rebalance bar (the portfolio is invested from
    the start); after it, ``weekly``/``monthly``/``quarterly``/``yearly``
    rebalance on the last trading day of each complete period (the period of
    the last bar is not known to be complete, so it is not), so that with
    ``execution="next_open"`` the trade happens on the first trading day of
    the next period.  ``daily`` is every bar, ``once`` the first bar only.
    """
    if frequency not in REBALANCE_FREQUENCIES:
        raise ParamError(
            f"rebalance frequency {frequency!r} is unknown; expected one of {', '.join(REBALANCE_FREQUENCIES)}"
        )
    n = len(index)
    mask = np.zeros(n, dtype=bool)
    if n == 0:
        return mask
    if frequency == "daily":
        mask[:] = True
        return mask
    mask[0] = True
    if frequency == "once":
        return mask
    periods = index.to_period(REBALANCE_FREQUENCIES[frequency])
    codes = np.asarray(periods.asi8)
    mask[:-1] |= codes[:-1] != codes[1:]
    return mask


def calendar_dates(index: pd.DatetimeIndex | np.ndarray) -> pd.DatetimeIndex:
    """``DatetimeIndex(index).normalize()`` (each bar's date at midnight, same unit and name) without the frequency it
    infers on every call, most of its cost (about 0.7 ms on a few thousand bars; option sweeps call it per contract)."""
    index = pd.DatetimeIndex(index)
    if index.tz is not None:
        return index.normalize()
    values = index.to_numpy()
    return pd.DatetimeIndex(values.astype("datetime64[D]").astype(values.dtype), name=index.name)
