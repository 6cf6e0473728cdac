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

A kind with a ``risk_free`` parameter left unset (None) receives the run's
cash rate in it (a number, or a dated Series of ACT/360 rates), so that
options are priced with the rate the cash earns.

A kind may add sections to its backtests' result documents and reports:
``report`` names a module of hooks (:class:`KindReport`), imported only when
a document or report is made.  The runner and the report package look the
hooks up by the document's ``kind`` (:func:`kind_report`) and never name a
kind, so a new kind with its own report section lives in its own module(s),
its spec, its docs page and its tests.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol

import pandas as pd

from shortthehype.data.prices import Prices
from shortthehype.errors import SpecError, did_you_mean
from shortthehype.params import Param

__all__ = [
    "BUILTIN_KINDS",
    "FusedPath",
    "KindReport",
    "Params",
    "StrategyKind",
    "kind_report",
    "register",
    "strategy_kind",
    "strategy_kinds",
    "unregister",
]

Params = Mapping[str, Any]


class FusedPath(Protocol):
    """A kind's numba kernel for many combinations at once (:mod:`shortthehype.fused`)."""

    def unsupported(self, spec: Any, axes: Any) -> str | None:
        """Why the kernel cannot run a sweep of ``spec`` over ``axes`` (None: it can)."""

    def chunk(self, plan: Any, ids: Any) -> tuple[Any, Any, Any]:
        """Statistics, PBO block sums and windows of the combinations ``ids`` of a sweep plan."""


class KindReport(Protocol):
    """The report hooks a kind's ``report`` module may define (each one optional).

    ``view`` is the backtest's :class:`~shortthehype.report.model.BacktestView`
    (its ``document`` holds the fields the kind added).
    """

    def history_tickers(self, params: Params) -> Sequence[str]:
        """Tickers whose history before the window :func:`document_fields` needs (loaded by the report's caller)."""

    def document_fields(self, run: Any, history: Prices | None, history_error: str | None) -> Mapping[str, Any]:
        """Keys added to the run's result document (JSON-safe), from the run and the history (None: not loaded,
        ``history_error`` then says why when loading failed)."""

    def figures(self, view: Any) -> list[Any]:
        """Interactive figures (:class:`~shortthehype.report.figures.Figure`) appended to the HTML report."""

    def pngs(self, view: Any, directory: Path) -> list[Path]:
        """PNG figures written into ``directory`` beside the backtest's own."""

    def markdown(self, view: Any) -> list[str]:
        """Lines of Markdown sections appended to the Markdown report (before the trades)."""


@dataclass(frozen=True)
class StrategyKind:
    """A family of strategies a spec file can instantiate with ``kind = "<name>"``."""

    name: str
    summary: str
    params: tuple[Param, ...]
    tickers: Callable[[Params], list[str]]
    target_weights: Callable[[Prices, Params], pd.DataFrame]
    check: Callable[[Params], None] | None = None
    #: The parameters ``check`` reads (None: any of them).  A sweep checks one combination of the swept values
    #: of these and of swept mapping entries, and carries the verdict over the rest of the grid.
    check_reads: tuple[str, ...] | None = None
    instruments: Callable[[Prices, Params], Prices] | None = None
    #: For a kind whose parameters depend on the spec itself (``python``: the
    #: user's file declares them): called by the spec loader with the raw
    #: ``[params]`` table and the spec file's path (None for a mapping), it
    #: returns the kind the spec uses.  Raise SpecError for a bad table.
    specialize: Callable[[Mapping[str, Any], Path | None], StrategyKind] | None = None
    #: Engine options the kind's instruments require, from the parameters and
    #: the traded prices (``target_units`` / ``cash_settled`` for option
    #: contracts); merged into the spec's engine options.
    engine_terms: Callable[[Params, Prices], Mapping[str, Any]] | None = None
    #: The option contracts the kind trades (:class:`shortthehype.option_pricing.OptionContract`),
    #: from the loaded prices and the parameters, for the run's ``options`` records.
    contracts: Callable[[Prices, Params], list[Any]] | None = None
    #: Risk limits the kind's parameters declare, as engine options (``max_gross``:
    #: a gross cap the engine then holds on every bar, not only on rebalance rows).
    engine_limits: Callable[[Params], Mapping[str, float]] | None = None

    def engine_options(self, engine: Mapping[str, Any], params: Params) -> dict[str, Any]:
        """The spec's engine options with the kind's limits applied: the tighter of the two ``max_gross``."""
        options = dict(engine)
        if self.engine_limits is None:
            return options
        for name, limit in self.engine_limits(params).items():
            if name != "max_gross":
                raise SpecError(f"strategy kind {self.name!r} declares an unknown engine limit {name!r}")
            current = options.get(name)
            options[name] = limit if current is None else min(float(current), float(limit))
        return options
    #: Date parameters that say when the strategy acts (an entry, an exit):
    #: an entry-date study (:func:`shortthehype.studies.rolling`) moves them
    #: together with the window's start.  Anchors of a model (the dotcom
    #: analogy's dates) are not listed: they stay where they are.
    entry_dates: tuple[str, ...] = ()
    #: The kind's fused sweep kernel (:class:`shortthehype.fused.FusedTargets`), or None: the
    #: sweep then runs one ``backtest()`` per combination.  The sweep code never names a kind.
    fused: FusedPath | None = None
    #: Dotted name of the kind's report hooks module (:class:`KindReport`), or None: the kind adds no
    #: document fields or report sections.  The runner and the report package never name a kind.
    report: str | None = None
    #: Files whose contents decide the targets besides the parameters (a user strategy's Python file),
    #: from the parameters and the spec file's path: a sweep's resume fingerprint covers them.
    source_files: Callable[[Params, Path | None], Sequence[Path]] | None = None
    #: What a reader must know of the kind's behaviour in a backtest's window (a model that never leaves one state
    #: there, so the window does not test it): lines from the traded prices over the whole history, the
    #: parameters and the window's dates, kept and printed with the run's warnings.
    window_notes: Callable[[Prices, Params, pd.DatetimeIndex], Sequence[str]] | None = None
    #: Settings that time the kind on a synthetic market from its key dates (``bubble_start``, ``peak``,
    #: ...; :attr:`shortthehype.data.synthetic.Scenario.key_dates`), applied after the spec's
    #: ``[synthetic]`` table; ``oracle_timing`` then says how that timing uses hindsight (a caveat).
    synthetic_timing: Callable[[Mapping[str, pd.Timestamp]], Mapping[str, Any]] | None = None
    oracle_timing: str | None = None

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


def unregister(name: str) -> None:
    """Remove a kind from the registry (a kind registered for a test, or by a plugin being unloaded)."""
    _KINDS.pop(name, None)


#: Built-in kind name -> module of ``shortthehype.strategies`` that registers it
#: (imported on first use, so loading a spec imports only its own kind).
BUILTIN_KINDS = {
    "fixed-weights": "fixed_weights",
    "ai-basket": "ai_basket",
    "bubble-timer": "bubble_timer",
    "burry-short": "burry_short",
    "option-contracts": "option_contracts",
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


def kind_report(name: object) -> ModuleType | None:
    """The report hooks module of the kind called ``name`` (None: an unknown kind, or one without hooks)."""
    if not isinstance(name, str) or (name not in _KINDS and name not in BUILTIN_KINDS):
        return None
    kind = strategy_kind(name)
    return importlib.import_module(kind.report) if kind.report else None


def strategy_kinds() -> dict[str, StrategyKind]:
    """Every registered kind (imports all built-in kinds)."""
    for module in BUILTIN_KINDS.values():
        importlib.import_module(f"shortthehype.strategies.{module}")
    return dict(_KINDS)
