"""``fixed-weights``: constant target weights rebalanced on a calendar."""

from __future__ import annotations

import numpy as np
import pandas as pd

from shortthehype.data.prices import Prices
from shortthehype.errors import SpecError
from shortthehype.params import Param
from shortthehype.schedule import REBALANCE_FREQUENCIES, rebalance_mask
from shortthehype.strategies.base import Params, StrategyKind, register

PARAMS = (
    Param("weights", "weights", None, "Target weight per ticker as a fraction of equity; negative = short; the rest is cash."),
    Param(
        "rebalance",
        "choice",
        "monthly",
        "How often positions are traded back to the targets (period ends; 'once' = buy and hold).",
        choices=tuple(REBALANCE_FREQUENCIES),
    ),
)


def _tickers(params: Params) -> list[str]:
    return list(params["weights"])


def _check(params: Params) -> None:
    if params["weights"] is None:
        raise SpecError("fixed-weights needs parameter 'weights' (e.g. weights = { SPY = 0.6, QQQ = 0.4 })")


def _target_weights(prices: Prices, params: Params) -> pd.DataFrame:
    weights = params["weights"]
    mask = rebalance_mask(prices.index, params["rebalance"])
    row = np.array([weights[t] for t in weights], dtype=np.float64)
    values = np.where(mask[:, None], row[None, :], np.nan)
    return pd.DataFrame(values, index=prices.index, columns=list(weights))


FIXED_WEIGHTS = register(
    StrategyKind(
        name="fixed-weights",
        summary="Constant target weights per ticker, rebalanced daily/weekly/monthly/quarterly/yearly or once.",
        params=PARAMS,
        tickers=_tickers,
        target_weights=_target_weights,
        check=_check,
    )
)
