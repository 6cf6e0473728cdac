"""Run a strategy spec end to end: load prices, compute targets, simulate, measure.

The strategy computes its targets on the whole history up to ``end`` (so
indicators are warmed up before ``start``); the simulation then runs on
``start..end``.  On the first bar of that window the portfolio is brought to
the latest target in force (the last non-NaN target of each ticker at or
before ``start``), so a monthly strategy started mid-month is invested from
day one, as it would have been had it been running all along.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from shortthehype.constants import STALE_DATA_BARS
from shortthehype.data.prices import Prices
from shortthehype.data.rates import resolve_engine_rates
from shortthehype.data.source import PriceSource
from shortthehype.documents import float_list, json_safe
from shortthehype.errors import DataError, ParamError
from shortthehype.params import format_value, json_value
from shortthehype.spec import StrategySpec, load_spec
from shortthehype.strategies.base import kind_report

__all__ = [
    "BacktestRun",
    "PreparedRun",
    "backtest",
    "check_lookahead",
    "coerce_run_date",
    "compare",
    "load_quietly",
    "prepare",
    "prepare_window",
    "resolve_spec",
    "result_document",
    "run_window",
    "spec_needs",
    "split_overrides",
    "window_index",
    "window_positions",
]


@dataclass(frozen=True)
class BacktestRun:
    """One backtest: the spec as run, the prices it saw, the engine's result and the statistics."""

    spec: StrategySpec
    prices: Prices
    weights: pd.DataFrame
    result: Any  # shortthehype.result.Result (imported lazily: it pulls numba kernels)
    benchmark: pd.Series | None
    stats: pd.Series  # float statistics by key (``run.stats["sharpe"]``); see shortthehype.metrics.compute_stats
    warnings: tuple[str, ...] = ()
    #: One record per option contract traded (``shortthehype.option_pricing.contract_records``); empty without options.
    options: tuple[dict[str, Any], ...] = ()
    #: What each engine rate was (``cash_rate``, ``cash_rate_negative``): a series and its source, or a constant.
    rates: Mapping[str, str] = field(default_factory=dict)
    #: What a reader must know before trusting the numbers (synthetic data, oracle timing), see :mod:`shortthehype.caveats`.
    caveats: tuple[str, ...] = ()
    #: The prices the run was prepared from (the whole loaded history): what a kind's report reads before the window.
    history: Prices | None = field(default=None, repr=False)
    #: Where those prices came from (None when the caller passed them): the report loads what they lack from it.
    prices_from: PriceSource | None = None

    @property
    def start(self) -> pd.Timestamp:
        return self.prices.index[0]

    @property
    def end(self) -> pd.Timestamp:
        return self.prices.index[-1]

    def to_dict(self, *, history: Prices | None = None, history_error: str | None = None) -> dict[str, Any]:
        """The JSON document written by ``backtest --json`` and read by ``shortthehype report`` (NaN becomes null).

        Parameters
        ----------
        history : Prices, optional
            Prices over the whole history up to the window's end, for the
            sections a strategy kind adds that look before the window (the
            tickers of its report hooks' ``history_tickers``, see
            :class:`~shortthehype.strategies.base.KindReport`).  Without them
            those sections hold what the window alone determines.
        history_error : str, optional
            Why that history could not be loaded (the kind's sections say so).

        Returns
        -------
        dict
            The keys documented in the README; every per-bar list
            (``benchmark_equity``, ``exposure.*``, ``cumulative_costs.*``) is
            aligned with ``equity.dates``.
        """
        from shortthehype.caveats import caveat_fields

        document = result_document(
            self.result,
            stats=self.stats,
            benchmark=self.benchmark,
            name=self.spec.name,
            kind=self.spec.kind.name,
            description=self.spec.description,
            params=self.spec.params,
            engine=self.spec.engine,
            benchmark_name=self.spec.run.get("benchmark"),
            source=self.prices.source,
            warnings=self.warnings,
        )
        document = {**json_safe(caveat_fields(self.caveats)), **document}
        document["rates"] = dict(self.rates)
        document["options"] = json_safe([dict(record) for record in self.options])
        if self.options:
            symbols = list(dict.fromkeys(str(record["symbol"]) for record in self.options))
            values = self.result.position_values
            document["option_values"] = {symbol: float_list(values[symbol].to_numpy()) for symbol in symbols}
        hooks = kind_report(self.spec.kind.name)
        if hooks is not None and hasattr(hooks, "document_fields"):
            document.update(json_safe(hooks.document_fields(self, history, history_error)))
        return document

    def document(self, prices_from: PriceSource | None = None) -> dict[str, Any]:
        """The result document as its JSON file reads back, with the history the kind's sections need.

        Same as :meth:`to_dict`, plus what needs prices from before the
        window: the tickers the kind's report hooks name, read from the
        prices the run was prepared from when they hold them, else loaded
        from ``prices_from`` (default: the source the run was loaded from;
        nothing is loaded for a run on prices the caller passed).  If they
        cannot be loaded the kind's section says so.  The document is passed
        through JSON once, so rendering it gives the same bytes as rendering
        its file.
        """
        import json

        from shortthehype.errors import ShortTheHypeError

        history, error = None, None
        hooks = kind_report(self.spec.kind.name)
        needed = list(hooks.history_tickers(self.spec.params)) if hasattr(hooks, "history_tickers") else []
        origin = prices_from or self.prices_from
        if needed and self.history is not None and set(needed) <= set(self.history.tickers):
            history = self.history.select(needed).between(None, self.end)
        elif needed and origin is not None:
            try:
                history = load_quietly(needed, self.end, origin)
            except ShortTheHypeError as exc:
                error = str(exc)
        return json.loads(json.dumps(self.to_dict(history=history, history_error=error)))

    def benchmark_stats(self) -> pd.Series | None:
        """Statistics of ``init_cash`` held in the benchmark over the window (None without a benchmark)."""
        from shortthehype.metrics import stats_series

        stats = _benchmark_buy_and_hold(self.benchmark, self.result.init_cash)[1]
        return None if stats is None else stats_series(stats, f"{self.spec.run.get('benchmark')} (buy & hold)")

    def __repr__(self) -> str:
        final = float(self.result.equity.iloc[-1])
        return (
            f"BacktestRun({self.spec.name!r}, {self.start:%Y-%m-%d}..{self.end:%Y-%m-%d}, "
            f"final equity {final:,.2f}, sharpe {self.stats.get('sharpe', float('nan')):.3f}, status {self.result.status})"
        )

    # ---- the notebook API: figures, reports and the extra statistics -----------------------

    def plot(self) -> Any:
        """A plotly figure: equity beside the benchmark, drawdown and exposure (shown inline in a notebook)."""
        from shortthehype.report.notebook import plot_document

        return plot_document(self.to_dict())

    def figures(self) -> dict[str, Any]:
        """Every figure of the HTML report as plotly figures, by name: ``plot()``'s three and the rest, the strategy
        kind's own included (those that look before the window too: see :meth:`document`)."""
        from shortthehype.report.notebook import document_figures

        return document_figures(self.document())

    def report(self, path: str | os.PathLike[str]) -> Path:
        """Write the report to ``path``: HTML (``.html``), Markdown (``.md``) or the figure of :meth:`plot` (``.png``).

        The same report as ``shortthehype backtest --report``: the kind's
        sections that look before the window included (:meth:`document`).
        """
        from shortthehype.report.notebook import write_document

        return write_document(self.document(), path)

    def to_html(self) -> str:
        """The self-contained HTML report as text (the one :meth:`report` writes)."""
        from shortthehype.report import render

        return render(self.document(), "html")


def result_document(
    result: Any,
    *,
    stats: Mapping[str, float] | None = None,
    benchmark: pd.Series | None = None,
    name: str = "strategy",
    kind: str = "custom",
    description: str = "",
    params: Mapping[str, Any] | None = None,
    engine: Mapping[str, Any] | None = None,
    benchmark_name: str | None = None,
    source: str | None = None,
    warnings: Sequence[str] = (),
) -> dict[str, Any]:
    """The result document of an engine :class:`~shortthehype.Result` (the keys of :meth:`BacktestRun.to_dict`).

    ``benchmark`` is a price level on the result's dates (its buy-and-hold is
    drawn beside the equity); ``stats`` default to ``result.stats(benchmark)``.
    """
    from shortthehype import __version__

    if stats is None:
        stats = result.stats(benchmark=benchmark)
    equity = result.equity
    events = result.events
    exposure = result.exposure
    bench_equity, bench_stats = _benchmark_buy_and_hold(benchmark, result.init_cash)  # one pass for both
    orders = result.orders
    if benchmark_name is None and benchmark is not None:
        benchmark_name = str(benchmark.name) if benchmark.name is not None else "benchmark"
    return json_safe(
        {
            "strategy": name,
            "kind": kind,
            "description": description,
            "params": {k: json_value(v) for k, v in (params or {}).items()},
            "engine": {k: json_value(v) for k, v in (engine if engine is not None else {"execution": result.execution, "init_cash": result.init_cash}).items()},
            "tickers": list(result.tickers),
            "benchmark": benchmark_name,
            "source": source,
            "warnings": list(warnings),
            "start": format_value(equity.index[0]),
            "end": format_value(equity.index[-1]),
            "final_equity": float(equity.iloc[-1]),
            "metrics": {k: float(v) for k, v in dict(stats).items()},
            "costs": {k: float(v) for k, v in result.costs.items()},
            "equity": {
                "dates": [d.strftime("%Y-%m-%d") for d in equity.index],
                "values": [float(v) for v in equity.to_numpy()],
            },
            "events": [
                {k: (format_value(v) if isinstance(v, pd.Timestamp) else v) for k, v in row.items()}
                for row in events.to_dict(orient="records")
            ],
            "version": __version__,
            # per-bar series and tables for reports; every list is aligned with equity.dates
            "type": "backtest",
            "status": result.status,
            "benchmark_equity": None if bench_equity is None else float_list(bench_equity.to_numpy()),
            "benchmark_metrics": bench_stats,
            "exposure": {column: float_list(exposure[column].to_numpy()) for column in ("long", "short", "gross", "net")},
            "cumulative_costs": {k: float_list(v.to_numpy()) for k, v in result.cumulative_costs.items()},
            "orders": {
                "count": len(orders),
                "by_reason": {str(k): int(n) for k, n in orders["reason"].value_counts().sort_index().items()},
            },
            "trades": [
                {k: (format_value(v) if isinstance(v, pd.Timestamp) else v) for k, v in row.items()}
                for row in result.trades.to_dict(orient="records")
            ],
        }
    )


def _benchmark_buy_and_hold(
    benchmark: pd.Series | None, init_cash: float
) -> tuple[pd.Series | None, dict[str, float] | None]:
    """``init_cash`` invested in the benchmark at its first price in the window, and its statistics.

    The value is NaN before the benchmark's first price and on dates it has
    none.  The statistics are :func:`shortthehype.metrics.compute_stats` on
    the dates with a price (a return spans a missing day, as the
    ``benchmark_*`` keys of the strategy's statistics do), fully invested
    (exposure 100 %), without trades or turnover.
    """
    if benchmark is None:
        return None, None
    from shortthehype.metrics import compute_stats

    prices = benchmark.astype(np.float64)
    valid = prices.dropna()
    if valid.empty:
        return pd.Series(np.nan, index=prices.index), None
    equity = init_cash * prices / valid.iloc[0]
    held = equity.dropna()
    stats = compute_stats(held, gross_exposure=pd.Series(1.0, index=held.index))
    return equity, stats


def window_index(
    index: pd.DatetimeIndex, start: pd.Timestamp | None, end: pd.Timestamp | None, where: str = ""
) -> pd.DatetimeIndex:
    """The bars of ``index`` in ``start..end`` (None: open on that side); DataError when fewer than two."""
    lo, hi = window_positions(index, start, end, where)
    return index[lo:hi]


def window_positions(
    index: pd.DatetimeIndex, start: pd.Timestamp | None, end: pd.Timestamp | None, where: str = ""
) -> tuple[int, int]:
    """:func:`window_index` as positions: the window is ``index[lo:hi]``."""
    lo = 0 if start is None else int(index.searchsorted(start, side="left"))
    hi = len(index) if end is None else int(index.searchsorted(end, side="right"))
    if hi - lo < 2:
        first = format_value(start) if start is not None else "the first date"
        last = format_value(end) if end is not None else "the last date"
        raise DataError(f"{where}{': ' if where else ''}fewer than two trading days between {first} and {last}: nothing to backtest")
    return lo, hi


def prepare_window(
    weights: pd.DataFrame, index: pd.DatetimeIndex, start: pd.Timestamp | None, end: pd.Timestamp | None
) -> tuple[pd.DatetimeIndex, pd.DataFrame]:
    """Restrict targets to ``start..end``, carrying the targets in force at ``start`` onto its first bar."""
    window = window_index(index, start, end)
    full = weights if weights.index.equals(index) else weights.reindex(index)
    if not all(dtype == np.float64 for dtype in full.dtypes):  # pandas keeps each column's own dtype
        in_force = full.loc[: window[0]].ffill().iloc[-1]
        windowed = full.loc[window].copy()
        windowed.iloc[0] = windowed.iloc[0].fillna(in_force)
        return window, windowed
    values = full.to_numpy()
    lo = int(index.searchsorted(window[0]))
    windowed = values[lo : lo + len(window)].copy()
    first = windowed[0]
    unset = np.flatnonzero(np.isnan(first))
    if len(unset) and lo:
        history = values[:lo, unset]
        known = ~np.isnan(history)
        last = lo - 1 - np.argmax(known[::-1], axis=0)  # the latest row with a target, per column
        first[unset] = np.where(known.any(axis=0), history[last, np.arange(len(unset))], np.nan)
    return window, pd.DataFrame(windowed, index=window, columns=full.columns)


@dataclass(frozen=True)
class PreparedRun:
    """A spec's targets on the whole loaded history, before a window is chosen.

    Targets never depend on the window (a strategy computes them on the whole
    history, so indicators are warmed up), so one preparation serves every
    window: :func:`run_window` simulates it over one.
    """

    spec: StrategySpec
    loaded: Prices
    traded: Prices
    weights: pd.DataFrame
    needed: tuple[str, ...]
    #: The loaded prices of the spec's own tickers (the underlyings of derived instruments).
    underlying: Prices | None = None
    #: The parameters as the kind saw them (:func:`_kind_params`).
    kind_params: Mapping[str, Any] = field(default_factory=dict)
    #: Engine options the kind's instruments require (``target_units``, ``cash_settled``).
    terms: Mapping[str, Any] = field(default_factory=dict)

    @property
    def traded_columns(self) -> list[str]:
        """Columns of the targets whose data ending early ends the backtest (cash-settled options do not)."""
        settled = set(self.terms.get("cash_settled", ()))
        return [c for c in self.weights.columns if c not in settled]

    def window_limits(self, start: pd.Timestamp | None, end: pd.Timestamp | None) -> tuple[pd.Timestamp, pd.Timestamp]:
        """The first and last bar a run over ``start..end`` would simulate (after the stale-data cut of the end)."""
        lo, hi = self.window_bars(start, end)
        return self.traded.index[lo], self.traded.index[hi]

    def window_bars(self, start: pd.Timestamp | None, end: pd.Timestamp | None) -> tuple[int, int]:
        """:meth:`window_limits` as positions in the traded prices' index (both bars included)."""
        end, _ = _common_end(self.traded, self.traded_columns, end)
        lo, hi = window_positions(self.traded.index, start, end, self.spec.where)
        return lo, hi - 1

    def windows_bars(self, starts: Sequence[pd.Timestamp], ends: Sequence[pd.Timestamp]) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`window_bars` of many windows at once (dates, none missing): arrays of first and last bars.

        The stale-data cut of :func:`_common_end`, vectorised: a window ends on
        the last bar of a traded ticker whose data stop at most
        ``STALE_DATA_BARS`` bars before the window's own end, else on that end.
        """
        index = self.traded.index
        n = len(index)
        lo = index.searchsorted(pd.DatetimeIndex(starts), side="left").astype(np.int64)
        last = index.searchsorted(pd.DatetimeIndex(ends), side="right").astype(np.int64) - 1  # the window's own last bar
        rows = self.traded.cached(("last_valid_rows",), lambda: _last_valid_rows(self.traded))
        ended = np.asarray([rows[t] for t in self.traded_columns if rows[t] >= 0], dtype=np.int64)
        # a ticker whose data end after the window's last bar cuts nothing: the minimum with it is that bar
        stale = last[:, None] - ended[None, :] <= STALE_DATA_BARS
        hi = np.minimum(last, np.where(stale, ended[None, :], n).min(axis=1, initial=n))
        for w in np.flatnonzero(hi - lo < 1):  # fewer than two bars: the message of window_bars
            self.window_bars(starts[w], ends[w])
        return lo, hi


def prepare(spec: StrategySpec, prices: Prices) -> PreparedRun:
    """The spec's traded prices and target weights on ``prices`` (which must hold its tickers and benchmark)."""
    needed = tuple(spec_needs(spec))
    missing = [t for t in needed if t not in prices.tickers]
    if missing:
        raise DataError(f"{spec.where}: prices have no data for {', '.join(missing)}")
    kind_params = _kind_params(spec, prices)
    underlying = prices.select(spec.tickers())
    traded = spec.kind.traded_prices(underlying, kind_params)
    weights = spec.kind.target_weights(traded, kind_params)
    terms = dict(spec.kind.engine_terms(kind_params, traded)) if spec.kind.engine_terms else {}
    return PreparedRun(
        spec=spec, loaded=prices, traded=traded, weights=weights, needed=needed, underlying=underlying,
        kind_params=kind_params, terms=terms,
    )


def run_window(prepared: PreparedRun, start: pd.Timestamp | None, end: pd.Timestamp | None) -> BacktestRun:
    """Simulate a prepared spec over ``start..end`` (None: open on that side), as :func:`backtest` does."""
    from shortthehype.caveats import data_caveats
    from shortthehype.engine import simulate

    spec, prices, terms = prepared.spec, prepared.loaded, prepared.terms
    end, notes = _common_end(prepared.traded, prepared.traded_columns, end)
    window, window_weights = prepare_window(prepared.weights, prepared.traded.index, start, end)
    units = list(terms.get("target_units", ()))
    weight_columns = window_weights.drop(columns=units) if units else window_weights
    _check_gross(spec, weight_columns)
    window_prices = prepared.traded.between(window[0], window[-1])
    engine, rates, rate_notes = _engine_with_rates(spec, prices, window_prices.index)
    ratios_rate = _ratios_rate_label(engine.get("cash_rate"))
    if ratios_rate:
        rates = {**rates, "sharpe_risk_free": ratios_rate}
    result = simulate(window_prices, window_weights, **engine, **terms)
    benchmark_ticker = spec.run.get("benchmark")
    benchmark = None
    if benchmark_ticker:
        benchmark = prices.close[benchmark_ticker].reindex(window_prices.index)
    stats = result.stats(benchmark=benchmark)
    stats.name = spec.name
    idle = _never_traded_note(spec, result, weight_columns, window_prices)
    if idle:
        notes = [*notes, idle]
    if spec.kind.window_notes is not None:
        notes = [*notes, *spec.kind.window_notes(prepared.traded, prepared.kind_params, window_prices.index)]
    return BacktestRun(
        spec=spec,
        prices=window_prices,
        weights=window_weights,
        result=result,
        benchmark=benchmark,
        stats=stats,
        warnings=tuple(_window_warnings(prices, window_prices, prepared.needed)) + tuple(notes) + tuple(rate_notes),
        caveats=data_caveats(prices.source),
        options=_option_records(prepared, result),
        rates=rates,
        history=prices,
    )


def _engine_with_rates(spec: StrategySpec, prices: Prices, index: pd.DatetimeIndex) -> tuple[dict[str, Any], dict[str, str], list[str]]:
    """The kind's engine options with the rates read as of each bar of ``index`` (:func:`resolve_engine_rates`).

    Rates given as numbers or series names are resolved once per loaded data set and window.
    """
    from shortthehype.data.rates import RATE_OPTIONS, rate_file_state

    engine = dict(spec.kind.engine_options(spec.engine, spec.params))
    settings = {name: engine[name] for name in RATE_OPTIONS if name in engine}
    if not all(value is None or isinstance(value, (str, int, float)) for value in settings.values()):
        return resolve_engine_rates(engine, prices, index)
    files = tuple(rate_file_state(value, prices) for value in settings.values())
    key = ("engine_rates", *sorted(settings.items()), files, hash(index.asi8.tobytes()), len(index))
    rates, labels, notes = prices.cached(key, lambda: resolve_engine_rates(settings, prices, index))
    return {**engine, **rates}, dict(labels), list(notes)


def _earns_interest(cash_rate: Any) -> bool:
    """Whether a resolved cash rate (a number, or one per bar) is anywhere not 0."""
    if cash_rate is None:
        return False
    values = np.asarray(cash_rate, dtype=np.float64)
    return bool(np.any(values[np.isfinite(values)] != 0.0))


def ratios_rate_note(
    spec: StrategySpec, prices: Prices, values: Sequence[Any] | None = None, *, runs: str, follows: str = ""
) -> tuple[str, ...]:
    """What the ratios of many runs (a sweep's combinations, a study's entries) assume when their cash earns
    interest: the line a sweep or a study adds (none when no run's cash earns any).

    ``values``: the ``cash_rate`` settings of the runs (default: the spec's), resolved for ``prices``; ``runs``
    names one run, ``follows`` what else the ratios decide.
    """
    from shortthehype.data.rates import resolve_engine_rates

    settings = [spec.engine.get("cash_rate")] if values is None else list(values)
    if not any(_earns_interest(resolve_engine_rates({"cash_rate": value}, prices)[0]["cash_rate"]) for value in settings):
        return ()
    return (
        f"{spec.name}: the Sharpe, Sortino and omega ratios use a zero risk-free rate while cash earns interest "
        f"(cash_rate): {runs} that holds more cash scores that interest as return{follows}",
    )


def _ratios_rate_label(cash_rate: Any) -> str | None:
    """What the Sharpe, Sortino and omega ratios of one run assume when its cash earns interest (None when it
    earns none).

    The statistics use a zero risk-free rate (empyrical's and vectorbt's convention), so the interest the engine
    pays on cash counts as return: a run that holds cash shows a higher ratio than its risk taken earned.
    """
    if not _earns_interest(cash_rate):
        return None
    mean = float(np.nanmean(np.asarray(cash_rate, dtype=np.float64)))
    return (
        f"0 in the Sharpe, Sortino and omega ratios, while cash earned {mean * 100:.2f} %/yr on average over the "
        "window: they count that interest as return, so holding cash raises them"
    )


def _option_records(prepared: PreparedRun, result: Any) -> tuple[dict[str, Any], ...]:
    """The run's option contracts (:func:`shortthehype.option_pricing.contract_records`); none for a kind without."""
    kind = prepared.spec.kind
    if kind.contracts is None or prepared.underlying is None:
        return ()
    contracts = kind.contracts(prepared.underlying, prepared.kind_params)
    if not contracts:
        return ()
    from shortthehype.option_pricing import VolModel, contract_records

    return tuple(
        contract_records(
            contracts,
            result,
            prepared.underlying,
            execution=prepared.spec.engine.get("execution", "next_open"),
            volatility=VolModel.from_params(prepared.kind_params),
            rate=prepared.kind_params.get("risk_free"),
        )
    )


def _kind_params(spec: StrategySpec, prices: Prices) -> dict[str, Any]:
    """The kind's parameters as it sees them: an unset ``risk_free`` becomes the run's cash rate.

    A constant cash rate (ACT/360 simple) is converted to the continuous rate
    options are priced with; a dated series is passed as it is
    (:func:`shortthehype.option_pricing.continuous_rates` converts it bar by bar).
    """
    from shortthehype.data.rates import continuous_rate, rate_file_state, resolve_rate

    params = dict(spec.params)
    if "risk_free" in params and params["risk_free"] is None:
        setting = spec.engine.get("cash_rate") or 0.0

        def risk_free() -> float | pd.Series:
            resolved, _ = resolve_rate(setting, prices)  # its notes are the engine's to report
            value = resolved.value
            return value if isinstance(value, pd.Series) else float(continuous_rate(value))

        # A named series is read once per loaded prices and version of its file: the runs of a study or a sweep
        # then share one object, which is how the option pricing recognises a rate it has already converted.
        if isinstance(setting, (str, int, float)):
            params["risk_free"] = prices.cached(("risk-free", setting, rate_file_state(setting, prices)), risk_free)
        else:
            params["risk_free"] = risk_free()
    return params


def backtest(
    spec_or_name: str | os.PathLike[str] | StrategySpec | Mapping[str, Any],
    *,
    overrides: Mapping[str, Any] | None = None,
    prices: Prices | None = None,
    prices_from: PriceSource | None = None,
    source: str | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    offline: bool = False,
) -> BacktestRun:
    """Backtest a strategy spec.

    Parameters
    ----------
    spec_or_name
        A spec path (``strategies/sixty_forty.toml``), a spec name
        (``sixty-forty``), a parsed mapping, or a :class:`StrategySpec`.
    overrides
        Setting name -> value (typed, or strings as given to ``--set``);
        ``start``/``end``/``benchmark`` are settings too.
    prices
        Use these prices instead of loading them (must hold every ticker the
        strategy and the benchmark need).
    prices_from : PriceSource, optional
        Where to load prices from when ``prices`` is None.
    source, data_dir, cache_dir, offline
        The same as loose keywords (:meth:`PriceSource.coerce`; not with ``prices_from``).

    Returns
    -------
    BacktestRun
        The spec as run, the window's prices, the targets, the engine's
        ``Result`` and its statistics (with the benchmark's when one is set).
    """
    spec = resolve_spec(spec_or_name, overrides)
    origin = None
    if prices is None:
        origin = PriceSource.coerce(prices_from, source=source, data_dir=data_dir, cache_dir=cache_dir, offline=offline)
        prices = load_quietly(spec_needs(spec), spec.run.get("end"), origin)
    run = run_window(prepare(spec, prices), spec.run.get("start"), spec.run.get("end"))
    return run if origin is None else replace(run, prices_from=origin)


def resolve_spec(
    spec_or_name: str | os.PathLike[str] | StrategySpec | Mapping[str, Any], overrides: Mapping[str, Any] | None = None
) -> StrategySpec:
    """A spec (path, name, mapping or spec) loaded and with ``overrides`` applied."""
    spec = spec_or_name if isinstance(spec_or_name, StrategySpec) else load_spec(spec_or_name)
    return spec.with_overrides(overrides) if overrides else spec


def spec_needs(spec: StrategySpec) -> list[str]:
    """Tickers to load for a spec: what it trades and its benchmark."""
    benchmark = spec.run.get("benchmark")
    return list(dict.fromkeys(spec.tickers() + ([benchmark] if benchmark else [])))


def _never_traded_note(spec: StrategySpec, result: Any, weights: pd.DataFrame, prices: Prices) -> str | None:
    """Why a run that asked for positions never traded (None when it traded, or never asked)."""
    if len(result.order_records):
        return None
    asked = weights.fillna(0.0).abs().to_numpy() > 0
    if not asked.any():
        return None
    row, column = np.argwhere(asked)[0]
    ticker, day = weights.columns[column], weights.index[row]
    value = abs(float(weights.iat[row, column])) * result.init_cash
    price = prices.close[ticker].loc[day:].dropna()
    if spec.engine.get("integer_shares") and len(price) and float(price.iloc[0]) > value:
        return (
            f"no order was ever executed: with integer_shares, one share of {ticker} ({float(price.iloc[0]):,.2f}) "
            f"costs more than its first target value ({value:,.2f}), so every target rounds to 0 shares"
        )
    if not len(price):
        return f"no order was ever executed: {ticker} has no price on or after its first target ({day:%Y-%m-%d})"
    return f"no order was ever executed although targets were set from {day:%Y-%m-%d} on (see the events)"


def check_lookahead(
    spec_or_name: str | os.PathLike[str] | StrategySpec | Mapping[str, Any],
    *,
    overrides: Mapping[str, Any] | None = None,
    prices: Prices | None = None,
    prices_from: PriceSource | None = None,
    source: str | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    offline: bool = False,
) -> Any:
    """Run :func:`shortthehype.lookahead.check_lookahead` on a spec's strategy over the prices a backtest would load.

    Returns the :class:`~shortthehype.lookahead.LookaheadReport` (``ok`` when no target moved).
    """
    from shortthehype.lookahead import check_lookahead as check

    spec = spec_or_name if isinstance(spec_or_name, StrategySpec) else load_spec(spec_or_name)
    if overrides:
        spec = spec.with_overrides(overrides)
    tickers = spec.tickers()
    if prices is None:
        origin = PriceSource.coerce(prices_from, source=source, data_dir=data_dir, cache_dir=cache_dir, offline=offline)
        prices = load_quietly(tickers, spec.run.get("end"), origin)
    missing = [t for t in tickers if t not in prices.tickers]
    if missing:
        raise DataError(f"{spec.where}: prices have no data for {', '.join(missing)}")
    history = prices.select(tickers).between(None, spec.run.get("end"))
    if len(history) < 3:
        raise DataError(f"{spec.where}: the look-ahead check needs at least 3 bars of prices, got {len(history)}")
    return check(lambda p: spec.kind.target_weights(spec.kind.traded_prices(p, spec.params), spec.params), history)


def load_quietly(tickers: Sequence[str], end: Any, prices_from: PriceSource | None = None) -> Prices:
    """Load full history up to ``end`` without emitting DataWarnings: the run reports those of its window."""
    return (prices_from or PriceSource()).load(tickers, end=end, quiet=True)


def _window_warnings(loaded: Prices, window: Prices, tickers: Sequence[str]) -> list[str]:
    """The loader's notes about this run's ``tickers``, with split-sized moves restricted to the window.

    Warm-up history is loaded in full, so a suspicious move years before the
    window would otherwise be reported on every run; prices loaded once for
    several runs (``compare``) carry notes about tickers a run does not use.
    Only loaded series are checked: instruments a strategy derives (a put
    that expires worthless) are not data.  What does not depend on the window
    is computed once per loaded data set.
    """
    ours = tuple(t for t in tickers if t in loaded.tickers)
    moves = loaded.cached(("dated_moves",), lambda: _dated_moves(loaded))
    notes = loaded.cached(("loader_notes", *ours), lambda: _loader_notes(loaded, ours, moves))
    lo = int(loaded.index.searchsorted(window.index[0], side="left"))
    hi = int(loaded.index.searchsorted(window.index[-1], side="right")) - 1
    return notes + [line for t in ours for before, row, line in moves[t] if before >= lo and row <= hi]


def _dated_moves(loaded: Prices) -> dict[str, list[tuple[int, int, str]]]:
    """Every loaded ticker's split-sized moves with the rows they span (:func:`~shortthehype.data.validate.dated_suspicious_moves`)."""
    from shortthehype.data.validate import dated_suspicious_moves

    return {t: dated_suspicious_moves(loaded.close[t], t) for t in loaded.tickers}


def _loader_notes(loaded: Prices, ours: Sequence[str], moves: Mapping[str, list[tuple[int, int, str]]]) -> list[str]:
    """The loader's notes that mention one of ``ours``, without the split-sized ``moves`` (a run reports its window's)."""
    import re

    all_moves = {line for dated in moves.values() for _, _, line in dated}
    mentions = re.compile("|".join(rf"\b{re.escape(t)}\b" for t in ours)) if ours else None
    return [line for line in loaded.warnings if line not in all_moves and mentions and mentions.search(line)]


def _common_end(
    prices: Prices, traded: pd.Index, end: pd.Timestamp | None
) -> tuple[pd.Timestamp | None, list[str]]:
    """Pull ``end`` back to the last date of a traded ticker whose data stop shortly before the others'."""
    index = prices.index
    latest = index[-1] if end is None else min(index[-1], end)
    latest_pos = int(index.searchsorted(latest, side="right")) - 1
    last_rows = prices.cached(("last_valid_rows",), lambda: _last_valid_rows(prices))
    last_dates = prices.cached(("last_valid_dates",), lambda: {t: index[r] for t, r in last_rows.items() if r >= 0})
    cut, cut_ticker = latest, None
    for ticker in traded:
        row = last_rows[ticker]
        if row < 0 or last_dates[ticker] >= cut:
            continue
        if latest_pos - row <= STALE_DATA_BARS:
            cut, cut_ticker = index[row], ticker
    if cut_ticker is None:
        return end, []
    note = (
        f"{cut_ticker} data end {format_value(cut)}, before the other tickers' "
        f"{format_value(latest)}: the backtest ends on {format_value(cut)} (set end= to choose)"
    )
    return cut, [note]


def _last_valid_rows(prices: Prices) -> dict[str, int]:
    """Row of each ticker's last close (-1: none)."""
    valid = ~np.isnan(prices.close.to_numpy(dtype=np.float64))
    rows = len(valid) - 1 - np.argmax(valid[::-1], axis=0) if len(valid) else np.zeros(valid.shape[1], dtype=np.int64)
    return {t: int(r) if valid[:, k].any() else -1 for k, (t, r) in enumerate(zip(prices.tickers, rows))}


def _check_gross(spec: StrategySpec, weights: pd.DataFrame) -> None:
    max_gross = spec.engine.get("max_gross")
    if max_gross is None or spec.run.get("scale_gross", True):
        return
    gross = weights.abs().sum(axis=1, min_count=1)
    over = gross[gross > max_gross + 1e-12]
    if len(over):
        raise ParamError(
            f"{spec.where}: targets on {format_value(over.index[0])} have gross exposure {over.iloc[0]:.4g} "
            f"> max_gross {max_gross:g} and scale_gross is false"
        )


def split_overrides(overrides: Mapping[str, Any] | None, names: Sequence[str]) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """``--set`` items for every spec, and those written ``NAME.key`` for the spec called NAME only."""
    shared: dict[str, Any] = {}
    own: dict[str, dict[str, Any]] = {name: {} for name in names}
    for key, value in (overrides or {}).items():
        head, dot, rest = str(key).partition(".")
        if dot and head in own:
            if not rest:
                raise ParamError(f"--set {key}: name a setting after {head}. (e.g. {head}.fees=0.001)")
            own[head][rest] = value
        else:
            shared[key] = value
    return shared, own


def compare(
    specs: Sequence[str | os.PathLike[str] | StrategySpec | Mapping[str, Any]],
    *,
    overrides: Mapping[str, Any] | None = None,
    benchmark: str | None = None,
    prices: Prices | None = None,
    prices_from: PriceSource | None = None,
    source: str | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    offline: bool = False,
) -> list[BacktestRun]:
    """Backtest several specs over one window against one benchmark.

    Parameters
    ----------
    specs
        Spec paths, names, mappings or specs (names must differ).
    overrides
        Settings for every spec; a key ``NAME.key`` (``sixty-forty.fees``)
        applies to the spec called NAME only.  ``start``/``end`` without a
        spec name set the window of all of them.
    benchmark
        The benchmark of every column (default: the first spec's, which may
        be none); beta, alpha, correlation and information ratio are
        measured against it.
    prices, prices_from, source, data_dir, cache_dir, offline
        As for :func:`backtest`; prices are loaded once for every ticker.

    Returns
    -------
    list of BacktestRun
        One per spec, all over the same first and last bar: the latest of the
        specs' starts and the earliest of their ends, each end taken after
        the spec's own data limits are known (a traded ticker whose data stop
        early, as TSM's do, ends every column there).

    Raises
    ------
    DataError
        The specs' windows do not overlap by two bars.
    """
    loaded = [s if isinstance(s, StrategySpec) else load_spec(s) for s in specs]
    if not loaded:
        raise ParamError("compare needs at least one strategy spec")
    names = [spec.name for spec in loaded]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise ParamError(f"strategy {duplicated[0]!r} is given twice")
    shared, own = split_overrides(overrides, names)
    start, end = shared.pop("start", None), shared.pop("end", None)
    runs_specs = [resolve_spec(spec, {**shared, **own[spec.name]}) for spec in loaded]
    common = benchmark if benchmark is not None else runs_specs[0].run.get("benchmark")
    runs_specs = [spec.with_overrides({"benchmark": common}) for spec in runs_specs]  # None: no benchmark column at all
    start, end = coerce_run_date("start", start), coerce_run_date("end", end)
    if start is not None and end is not None and start > end:
        raise ParamError(f"start {format_value(start)} is after end {format_value(end)}")
    if prices is None:
        needed = list(dict.fromkeys(t for spec in runs_specs for t in spec_needs(spec)))
        ends = [spec.run["end"] for spec in runs_specs if spec.run.get("end") is not None]
        origin = PriceSource.coerce(prices_from, source=source, data_dir=data_dir, cache_dir=cache_dir, offline=offline)
        prices = load_quietly(needed, end if end is not None else min(ends, default=None), origin)
    prepared = [prepare(spec, prices) for spec in runs_specs]
    limits = [
        p.window_limits(start if start is not None else p.spec.run.get("start"), end if end is not None else p.spec.run.get("end"))
        for p in prepared
    ]
    first = max(lo for lo, _ in limits)
    last = min(hi for _, hi in limits)
    if last <= first:
        late = prepared[int(np.argmax([lo for lo, _ in limits]))].spec.name
        early = prepared[int(np.argmin([hi for _, hi in limits]))].spec.name
        raise DataError(
            f"no common window: {late} starts {format_value(first)}, after {early} ends {format_value(last)}"
        )
    return [run_window(p, first, last) for p in prepared]


def coerce_run_date(name: str, value: Any, option: str | None = None) -> pd.Timestamp | None:
    """A window date given on the command line (``start``/``end``), typed and checked like a spec's; None stays None."""
    from shortthehype.params import RUN_PARAMS

    if value is None:
        return None
    param = next(p for p in RUN_PARAMS if p.name == name)
    return param.coerce(value, where=option or f"--{name}")
