"""Fade the blow-off: hold QQQ, but short NVDA while its 20-day run-up exceeds 25 %.

A worked example of a user strategy (``kind = "python"``): copy this file and
``my_idea.toml``, change the logic, run ``shortthehype backtest
strategies/my_idea.toml``.

The idea: the essay says AI stocks are priced for perfection, so their
sharpest spikes should not last.  In normal times hold ``long_ticker`` at
100 %.  When ``hype_ticker``'s trailing ``lookback``-bar return
(close_t / close_{t-lookback} - 1) is above ``threshold`` the hype regime
starts: sell ``long_ticker`` and short ``hype_ticker`` at ``short_weight`` of
equity.  When the run-up falls back to ``threshold`` or below, return to
normal.  A bar whose return cannot be computed (``hype_ticker`` not listed
for ``lookback`` bars yet, or a missing close) is normal.

What a strategy file provides:
  PARAMS            its parameters (shortthehype.params.Param): typed, documented,
                    settable with --set and sweepable, like a built-in kind's
  tickers(params)   the series to load (or a constant TICKERS = [...])
  target_weights(prices, params) -> DataFrame
                    rows = dates, columns = traded tickers, NaN = no order; the
                    row of bar t may use closes up to t only (it trades at t+1)
  check(params)     optional: raise SpecError for invalid combinations
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from shortthehype.errors import SpecError
from shortthehype.params import Param

PARAMS = (
    Param("long_ticker", "ticker", "QQQ", "Held at 100 % in normal times."),
    Param("hype_ticker", "ticker", "NVDA", "The stock whose run-ups are faded."),
    Param("lookback", "int", 20, "Bars of the trailing return that measures the run-up.", "bars", minimum=1),
    Param("threshold", "float", 0.25, "Trailing return above which the hype regime starts.", "fraction"),
    Param("short_weight", "float", 0.5, "Short position in hype_ticker during the hype regime.", "x equity", minimum=0.0),
)


def tickers(params):
    return [params["long_ticker"], params["hype_ticker"]]


def check(params):
    if params["long_ticker"] == params["hype_ticker"]:
        raise SpecError(f"long_ticker and hype_ticker are both {params['long_ticker']}; pick two different tickers")


def target_weights(prices, params):
    long_ticker, hype_ticker = params["long_ticker"], params["hype_ticker"]
    hype = prices.close[hype_ticker]
    run_up = hype / hype.shift(params["lookback"]) - 1.0  # uses closes up to t only
    in_hype = (run_up > params["threshold"]).to_numpy()  # NaN compares False: normal

    normal_row = {long_ticker: 1.0, hype_ticker: 0.0}
    hype_row = {long_ticker: 0.0, hype_ticker: -params["short_weight"]}

    weights = pd.DataFrame(np.nan, index=prices.index, columns=[long_ticker, hype_ticker])
    # a row on the first bar and on every bar where the regime changes; NaN (no order) elsewhere
    changes = np.ones(len(in_hype), dtype=bool)
    changes[1:] = in_hype[1:] != in_hype[:-1]
    for date, hyped in zip(prices.index[changes], in_hype[changes]):
        row = hype_row if hyped else normal_row
        weights.loc[date, list(row)] = list(row.values())
    return weights
