"""What a strategy kind is, and the registry of kinds a spec can name.

A kind turns prices and parameter values into a DataFrame of target weights
(rows = the bars it sets targets on, NaN = no order for that ticker).  The
target on bar t may use data up to and including bar t's close only; the
engine trades it at t+1 by default.  ``check`` validates combinations of
parameters (e.g. ``fast < slow``) with a one-line :class:`SpecError`.

``tickers`` are the series the kind needs loaded.  By default the engine
trades those same tickers; a kind that trades derived instruments (a rolled
put priced from its underlying, say) supplies ``instruments``, which turns
the loaded prices into the prices of what is traded (OHLC of each derived
instrument computed from data up to each bar only).  The target weights'
columns then name those instruments.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from shortthehype.data.prices import Prices
from shortthehype.errors import SpecError, did_you_mean
from shortthehype.params import Param

Params = Mapping[str, Any]


@dataclass(frozen=True)
class StrategyKind:
    """A family of strategies a spec file can instantiate with ``kind = "<name>"``."""

    name: str
    summary: str
    params: tuple[Param, ...]
    tickers: Callable[[Params], list[str]]
    target_weights: Callable[[Prices, Params], pd.DataFrame]
    check: Callable[[Params], None] | None = None
    instruments: Callable[[Prices, Params], Prices] | None = None
    #: For a kind whose parameters depend on the spec itself (``python``: the
    #: user's file declares them): called by the spec loader with the raw
    #: ``[params]`` table and the spec file's path (None for a mapping), it
    #: returns the kind the spec uses.  Raise SpecError for a bad table.
    specialize: Callable[[Mapping[str, Any], Path | None], StrategyKind] | None = None
    #: Date parameters that say when the strategy acts (an entry, an exit):
    #: an entry-date study (:func:`shortthehype.studies.rolling`) moves them
    #: together with the window's start.  Anchors of a model (the dotcom
    #: analogy's dates) are not listed: they stay where they are.
    entry_dates: tuple[str, ...] = ()

    def traded_prices(self, prices: Prices, params: Params) -> Prices:
        """The prices of what the strategy trades (the loaded prices unless the kind derives instruments)."""
        return self.instruments(prices, params) if self.instruments is not None else prices

    def param(self, name: str) -> Param:
        for param in self.params:
            if param.name == name:
                return param
        raise KeyError(name)


_KINDS: dict[str, StrategyKind] = {}


def register(kind: StrategyKind) -> StrategyKind:
    """Add a kind to the registry (names are unique)."""
    if kind.name in _KINDS:
        raise ValueError(f"strategy kind {kind.name!r} is registered twice")
    _KINDS[kind.name] = kind
    return kind


#: Built-in kind name -> module of ``shortthehype.strategies`` that registers it
#: (imported on first use, so loading a spec imports only its own kind).
BUILTIN_KINDS = {
    "fixed-weights": "fixed_weights",
    "ai-basket": "ai_basket",
    "bubble-timer": "bubble_timer",
    "burry-short": "burry_short",
    "dotcom-analog": "dotcom_analog",
    "hype-hedge": "hype_hedge",
    "ma-crossover": "ma_crossover",
    "python": "user_python",
}


def strategy_kind(name: str) -> StrategyKind:
    """The registered kind called ``name``, or a SpecError with a suggestion."""
    if name not in _KINDS and name in BUILTIN_KINDS:
        importlib.import_module(f"shortthehype.strategies.{BUILTIN_KINDS[name]}")
    try:
        return _KINDS[name]
    except KeyError:
        known = sorted(set(_KINDS) | set(BUILTIN_KINDS))
        raise SpecError(f"unknown strategy kind {name!r}{did_you_mean(name, known)} (known: {', '.join(known)})") from None


def strategy_kinds() -> dict[str, StrategyKind]:
    """Every registered kind (imports all built-in kinds)."""
    for module in BUILTIN_KINDS.values():
        importlib.import_module(f"shortthehype.strategies.{module}")
    return dict(_KINDS)
