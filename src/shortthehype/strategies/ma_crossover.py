"""``ma-crossover``: the classic fast/slow simple-moving-average crossover on one ticker.

Signals are vectorbt's, so that ``MA.run_combs`` + ``Portfolio.from_signals``
on the same closes gives the same trades (at exact ties of the two averages
only with ``sma="cumulative"``):

* fast = SMA(close, ``fast``), slow = SMA(close, ``slow``) (NaN until the
  window is full and on any window containing a missing close), summed as
  ``sma`` says: ``"windowed"`` (default) sums each window afresh and is
  exact to ~1e-16 relative; ``"cumulative"`` reproduces vectorbt's rolling
  mean bit for bit (a difference of running sums,
  :func:`shortthehype.signals.rolling_mean`).  The two differ in the last
  bits only, but where SMA(fast) == SMA(slow) exactly in real arithmetic
  that is enough for one to see a cross and the other not: with
  ``sma="cumulative"`` the signals are vectorbt's at such ties too (13 of the
  4,851 pairs of windows 2..100 on 5,000 QQQ bars meet one);
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
execution=close`` fills at t's close as vectorbt does, and with ``--set
sma=cumulative`` too the trades are those of ``MA.run_combs`` +
``Portfolio.from_signals`` at every tie.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from shortthehype.constants import (
    SMA_DEFAULT_METHOD,
    SMA_METHODS,
)
from shortthehype.core.signals_nb import signal_targets_1d_nb
from shortthehype.data.prices import Prices
from shortthehype.errors import SpecError
from shortthehype.fused import CrossoverSweep
from shortthehype.params import Param
from shortthehype.signals import crossed_above, rolling_mean
from shortthehype.strategies.base import Params, StrategyKind, register

__all__ = ["MA_CROSSOVER", "crossover_signals"]

#: Default ticker of ``ma-crossover``: the Nasdaq-100 ETF, the tradeable AI-heavy
#: index with the longest history in the shared data (1999-03-10, before the dotcom peak).
MA_DEFAULT_TICKER = "QQQ"
#: The classic "golden cross" windows of ``ma-crossover`` (trading days).
MA_DEFAULT_FAST = 50
MA_DEFAULT_SLOW = 200

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
    Param(
        "sma",
        "choice",
        SMA_DEFAULT_METHOD,
        "How the moving averages are summed: windowed = each window afresh (exact to ~1e-16 relative); "
        "cumulative = vectorbt's difference of running sums, reproducing vbt.MA.run(close, window).ma bit for bit "
        "(and so its signals where the two averages tie exactly).",
        choices=SMA_METHODS,
    ),
)


def crossover_signals(
    close: pd.Series, fast: int, slow: int, sma: str = SMA_DEFAULT_METHOD
) -> tuple[pd.Series, pd.Series]:
    """``(entries, exits)``: boolean Series of the bars where SMA(fast) crosses above / below SMA(slow).

    ``sma`` is :func:`shortthehype.signals.rolling_mean`'s ``method``
    (``"windowed"`` or ``"cumulative"``, vectorbt's arithmetic).
    """
    fast_ma = rolling_mean(close, fast, method=sma)
    slow_ma = rolling_mean(close, slow, method=sma)
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
    entries, exits = crossover_signals(prices.close[ticker], params["fast"], params["slow"], params["sma"])
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
        check_reads=("fast", "slow"),
        fused=CrossoverSweep(),
    )
)
