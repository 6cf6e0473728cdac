"""``option-contracts``: named European option contracts bought on an entry date and held, sold or settled.

Each contract of ``[params.contracts.NAME]`` is a put or a call on a ticker
with a strike (a price, or ``moneyness`` x the underlying's close on the
purchase decision), an expiry (a date, or ``tenor_days`` after the decision)
and a size (``contracts`` x 100 shares, or a ``premium_budget`` as a fraction
of equity).  Timing, as everywhere, is by *signal* date:

* the purchase decision is taken on the first bar on or after the contract's
  ``entry`` (default: the kind's ``entry``) where the underlying and its
  volatility exist; the engine buys at its next execution point (the next
  open by default) at the model price there;
* on the contract's ``exit`` (default: the kind's ``exit``) it is sold the
  same way; without an exit it is held to its settlement bar (the last
  trading day on or before its expiry), where the engine closes it at its
  intrinsic value without costs; a contract that expires after the data is
  valued at the model price on the last bar.

Prices come from :mod:`shortthehype.option_pricing` (Black–Scholes with a
volatility skew; every assumption is listed there and in docs/options.md).
The instruments are named by their OCC symbols (``PLTR270115P00050000``), so
per-ticker engine options name those symbols.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from shortthehype.core.targets_nb import option_contracts_targets_nb
from shortthehype.data.prices import Prices, side_by_side
from shortthehype.errors import SpecError
from shortthehype.fused import FusedTargets, Prepared
from shortthehype.option_pricing import VOL_MODEL_PARAMS, OptionContract, VolModel, price_contract, same_rate
from shortthehype.params import Param, format_value
from shortthehype.schedule import calendar_dates
from shortthehype.strategies.base import Params, StrategyKind, register

__all__ = ["OPTION_CONTRACTS", "priced_contracts"]

PARAMS = (
    Param("contracts", "contracts", None, "The contracts: [params.contracts.NAME] tables with ticker, type, strike or moneyness, expiry or tenor_days, contracts or premium_budget, and optionally entry, exit, enabled; --set contracts.NAME.FIELD=value."),
    Param("entry", "date", None, "Signal date of the purchase of every contract without its own entry (trades at the next execution point).", optional=True, moves_window=True),
    Param("exit", "date", None, "Signal date of the sale of every contract without its own exit (default: held to expiry).", optional=True),
) + VOL_MODEL_PARAMS


def _enabled(params: Params) -> dict[str, dict[str, Any]]:
    return {name: leg for name, leg in (params["contracts"] or {}).items() if leg["enabled"]}


def _tickers(params: Params) -> list[str]:
    return list(dict.fromkeys(leg["ticker"] for leg in _enabled(params).values()))


def _check(params: Params) -> None:
    if not params["contracts"]:
        raise SpecError("option-contracts needs [params.contracts.NAME] tables (see docs/options.md)")
    legs = _enabled(params)
    if not legs:
        raise SpecError("option-contracts: every contract has enabled = false; enable one (--set contracts.NAME.enabled=true)")
    for name, leg in legs.items():
        entry = leg["entry"] or params["entry"]
        if entry is None:
            raise SpecError(f"option-contracts: contract {name!r} has no entry date; set entry (for all) or contracts.{name}.entry")
        if leg["expiry"] is not None and leg["expiry"] <= entry:
            raise SpecError(
                f"option-contracts: contract {name!r} expiry {format_value(leg['expiry'])} is not after its entry {format_value(entry)}"
            )
        exit_ = leg["exit"] or params["exit"]
        if exit_ is not None and exit_ <= entry:
            raise SpecError(f"option-contracts: contract {name!r} exit {format_value(exit_)} is not after its entry {format_value(entry)}")
    VolModel.from_params(params)


#: Priced contracts kept per price set (the most recent last): a sweep's groups, and the runs of a study, price
#: the same few again and again.
PRICED_KEPT = 64


def priced_contracts(prices: Prices, params: Params) -> list[OptionContract]:
    """Every enabled contract priced on ``prices`` (the underlyings), in the order of the spec."""
    return _priced(prices, params)[1]


def _priced(prices: Prices, params: Params) -> tuple[Any, list[OptionContract], Prices]:
    """(the risk-free rate, the priced contracts, their prices as one price set), kept with ``prices``."""
    rate = params.get("risk_free")  # a number, None, or a dated series (compared by identity)
    model = VolModel.from_params(params)
    key = (json.dumps({k: str(v) for k, v in params.items() if k != "risk_free"}, sort_keys=True, default=str),
           None if isinstance(rate, pd.Series) else rate, model.file_state())

    def price() -> tuple[Any, list[OptionContract], Prices]:
        book = []
        for name, leg in _enabled(params).items():
            book.append(
                price_contract(
                    prices,
                    name=name,
                    ticker=leg["ticker"],
                    option_type=leg["type"],
                    entry=leg["entry"] or params["entry"],
                    strike=leg["strike"],
                    moneyness=leg["moneyness"],
                    expiry=leg["expiry"],
                    tenor_days=leg["tenor_days"],
                    contracts=leg["contracts"],
                    premium_budget=leg["premium_budget"],
                    exit=leg["exit"] or params["exit"],
                    rate=rate,
                    volatility=model,
                )
            )
        symbols = [c.symbol for c in book]
        repeated = sorted({s for s in symbols if symbols.count(s) > 1})
        if repeated:
            raise SpecError(f"option-contracts: two contracts are the same instrument {repeated[0]}; merge them into one")
        return rate, book, side_by_side([c.prices for c in book], source=prices.source, warnings=prices.warnings)

    return prices.recent(("priced-contracts",), key, price, PRICED_KEPT, lambda held: same_rate(held[0], rate))


def _instruments(prices: Prices, params: Params) -> Prices:
    return _priced(prices, params)[2]


def _marks(prices: Prices, params: Params) -> np.ndarray:
    """Per bar and contract: 1 on the purchase decision bar, 0 on the exit bar (before settlement), NaN elsewhere."""
    legs = list(_enabled(params).values())
    index = prices.index
    dates = calendar_dates(index)
    n = len(index)
    values = np.full((n, len(legs)), np.nan)
    for j, (leg, symbol) in enumerate(zip(legs, prices.tickers)):
        close = prices.close[symbol].to_numpy(dtype=np.float64)
        priced = np.flatnonzero(np.isfinite(close))
        if priced.size == 0:
            continue
        decision, last = int(priced[0]), int(priced[-1])
        values[decision, j] = 1.0
        exit_ = leg["exit"] or params["exit"]
        if exit_ is not None:
            exit_bar = int(np.searchsorted(dates, exit_, side="left"))
            if decision < exit_bar <= last:
                values[exit_bar, j] = 0.0
    return values


def _prepare(prices: Prices, params: Params, choices: Mapping[str, Sequence[Any]]) -> Prepared:
    """The purchase and sale bars of the contracts priced in ``prices`` (the traded prices, one column per contract)."""
    def encode(p: Params) -> tuple[list[int], list[float]]:
        return [], [leg["contracts"] * 100.0 if leg["contracts"] is not None else leg["premium_budget"]
                    for leg in _enabled(p).values()]

    return Prepared((_marks(prices, params),), encode, list(prices.tickers))


#: Parameters the contracts' prices depend on: every one of the kind's (each distinct set is priced once).
_PRICED_BY = ("contracts", "entry", "exit", *(param.name for param in VOL_MODEL_PARAMS))

#: The kind's target kernel, shared by ``backtest()`` and the fused sweep: the contracts are priced once per
#: distinct set of their parameters, the engine runs each set with its share-count and settlement terms.
FUSED = FusedTargets(
    params=_PRICED_BY,
    columns=lambda params: list(_enabled(params)),  # the prepared prices name the columns (OCC symbols)
    prepare=_prepare,
    targets_nb=option_contracts_targets_nb,
    sweep_nb="option_contracts_sweep_nb",
    instruments=lambda params: tuple(params[name] for name in _PRICED_BY),
)


def _target_weights(prices: Prices, params: Params) -> pd.DataFrame:
    """Purchase on the decision bar, sale on the exit bar (before settlement); NaN elsewhere."""
    return FUSED.targets(prices, params)


def _engine_terms(params: Params, traded: Prices) -> dict[str, list[str]]:
    legs = list(_enabled(params).values())
    symbols = traded.tickers
    return {
        "target_units": [s for leg, s in zip(legs, symbols) if leg["contracts"] is not None],
        "cash_settled": list(symbols),
    }


OPTION_CONTRACTS = register(
    StrategyKind(
        name="option-contracts",
        summary="Named European puts and calls (strike, expiry, size) bought on an entry date; held to expiry, sold or settled.",
        params=PARAMS,
        tickers=_tickers,
        target_weights=_target_weights,
        check=_check,
        instruments=_instruments,
        engine_terms=_engine_terms,
        contracts=priced_contracts,
        entry_dates=("entry", "exit"),
        fused=FUSED,
    )
)
