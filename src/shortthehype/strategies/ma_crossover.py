"""``ma-crossover``: the classic fast/slow simple-moving-average crossover on one ticker.

Signals are vectorbt's, so that ``MA.run_combs`` + ``Portfolio.from_signals``
on the same closes gives the same trades:

* fast = SMA(close, ``fast``), slow = SMA(close, ``slow``) (NaN until the
  window is full and on any window containing a missing close);
* an **entry** on bar t when fast crosses above slow: fast[t] > slow[t],
  fast[t-1] <= slow[t-1] and fast was strictly below slow at least once since
  either average was last undefined (:func:`shortthehype.signals.crossed_above`);
  an **exit** when fast crosses below slow (the mirror image);
* ``direction = "long"``: an entry targets 1.0 (all equity long), an exit 0.0
  (cash); ``"longshort"``: an exit targets -1.0 (all equity short) instead;
* a signal that would not change the side held (an exit while already in
  cash, a repeated entry after the averages touched) emits nothing, as
  ``from_signals`` ignores it.  Every other bar is NaN (no order).

A target on bar t's close trades at t+1's open by default; ``--set
execution=close`` fills at t's close as vectorbt does.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from shortthehype.constants import MA_DEFAULT_FAST, MA_DEFAULT_SLOW, MA_DEFAULT_TICKER
from shortthehype.core.signals_nb import signal_targets_1d_nb
from shortthehype.data.prices import Prices
from shortthehype.errors import SpecError
from shortthehype.params import Param
from shortthehype.signals import crossed_above, rolling_mean
from shortthehype.strategies.base import Params, StrategyKind, register

__all__ = ["MA_CROSSOVER", "crossover_signals"]

PARAMS = (
    Param("ticker", "ticker", MA_DEFAULT_TICKER, "The one ticker traded."),
    Param("fast", "int", MA_DEFAULT_FAST, "Window of the fast simple moving average.", "bars", minimum=1),
    Param("slow", "int", MA_DEFAULT_SLOW, "Window of the slow simple moving average (> fast).", "bars", minimum=2),
    Param(
        "direction",
        "choice",
        "long",
        "long = long on a cross above, cash on a cross below; longshort = short instead of cash.",
        choices=("long", "longshort"),
    ),
)


def crossover_signals(close: pd.Series, fast: int, slow: int) -> tuple[pd.Series, pd.Series]:
    """``(entries, exits)``: boolean Series of the bars where SMA(fast) crosses above / below SMA(slow)."""
    fast_ma = rolling_mean(close, fast)
    slow_ma = rolling_mean(close, slow)
    return crossed_above(fast_ma, slow_ma), crossed_above(slow_ma, fast_ma)


def _tickers(params: Params) -> list[str]:
    return [params["ticker"]]


def _check(params: Params) -> None:
    if params["fast"] >= params["slow"]:
        raise SpecError(
            f"parameter 'fast' = {params['fast']} must be smaller than 'slow' = {params['slow']} (fast < slow)"
        )


def _target_weights(prices: Prices, params: Params) -> pd.DataFrame:
    ticker = params["ticker"]
    entries, exits = crossover_signals(prices.close[ticker], params["fast"], params["slow"])
    out = np.empty(len(entries))
    signal_targets_1d_nb(
        entries.to_numpy(dtype=np.bool_), exits.to_numpy(dtype=np.bool_), params["direction"] == "longshort", out
    )
    return pd.DataFrame({ticker: out}, index=prices.index)


MA_CROSSOVER = register(
    StrategyKind(
        name="ma-crossover",
        summary="Fast/slow SMA crossover on one ticker: long on a cross above, cash (or short) on a cross below.",
        params=PARAMS,
        tickers=_tickers,
        target_weights=_target_weights,
        check=_check,
    )
)
