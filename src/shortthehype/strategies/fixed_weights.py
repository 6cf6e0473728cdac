"""``fixed-weights``: constant target weights rebalanced on a calendar."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from shortthehype.core.targets_nb import fixed_weights_targets_nb
from shortthehype.data.prices import Prices
from shortthehype.errors import SpecError
from shortthehype.fused import FusedTargets, Prepared, choice_index
from shortthehype.params import Param
from shortthehype.schedule import REBALANCE_FREQUENCIES, rebalance_mask
from shortthehype.strategies.base import Params, StrategyKind, register

__all__ = ["FIXED_WEIGHTS"]

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


def _prepare(prices: Prices, params: Params, choices: Mapping[str, Sequence[Any]]) -> Prepared:
    """One rebalance calendar per distinct frequency among ``choices``."""
    calendar_of = choice_index(choices["rebalance"])
    calendars = np.stack([rebalance_mask(prices.index, frequency) for frequency in calendar_of])
    columns = _tickers(params)

    def encode(p: Params) -> tuple[list[int], list[float]]:
        return [calendar_of[p["rebalance"]]], [p["weights"][t] for t in columns]

    return Prepared((calendars,), encode)


#: The kind's target kernel, shared by ``backtest()`` and the fused sweep (``weights.X`` entries and
#: ``rebalance`` vary per combination).
FUSED = FusedTargets(
    params=("weights", "rebalance"),
    columns=_tickers,
    prepare=_prepare,
    targets_nb=fixed_weights_targets_nb,
    sweep_nb="fixed_weights_sweep_nb",
)


def _target_weights(prices: Prices, params: Params) -> pd.DataFrame:
    return FUSED.targets(prices, params)


FIXED_WEIGHTS = register(
    StrategyKind(
        name="fixed-weights",
        summary="Constant target weights per ticker, rebalanced daily/weekly/monthly/quarterly/yearly or once.",
        params=PARAMS,
        tickers=_tickers,
        target_weights=_target_weights,
        check=_check,
        check_reads=("weights",),
        fused=FUSED,
    )
)
