"""Run a strategy spec end to end: load prices, compute targets, simulate, measure.

The strategy computes its targets on the whole history up to ``end`` (so
indicators are warmed up before ``start``); the simulation then runs on
``start..end``.  On the first bar of that window the portfolio is brought to
the latest target in force (the last non-NaN target of each ticker at or
before ``start``), so a monthly strategy started mid-month is invested from
day one, as it would have been had it been running all along.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from shortthehype.constants import STALE_DATA_BARS
from shortthehype.data.prices import Prices
from shortthehype.errors import DataError, ParamError
from shortthehype.params import format_value, json_value
from shortthehype.spec import StrategySpec, load_spec


@dataclass(frozen=True)
class BacktestRun:
    """One backtest: the spec as run, the prices it saw, the engine's result and the statistics."""

    spec: StrategySpec
    prices: Prices
    weights: pd.DataFrame
    result: Any  # shortthehype.result.Result (imported lazily: it pulls numba kernels)
    benchmark: pd.Series | None
    stats: dict[str, float]
    warnings: tuple[str, ...] = ()

    @property
    def start(self) -> pd.Timestamp:
        return self.prices.index[0]

    @property
    def end(self) -> pd.Timestamp:
        return self.prices.index[-1]

    def to_dict(self, *, history: Prices | None = None) -> dict[str, Any]:
        """The JSON document written by ``backtest --json`` and read by ``shortthehype report`` (NaN becomes null).

        Parameters
        ----------
        history : Prices, optional
            Prices over the whole history up to the window's end, for the
            sections that look before the window: with ``dotcom-analog`` they
            give the Nasdaq reference path and, in path mode, the basket's
            trailing path the fits use (tickers: the basket and the
            ``reference``).  Without them the ``analog`` section holds what the
            window alone determines (calendar mode: the whole phase mapping).

        Returns
        -------
        dict
            The keys documented in the README; every per-bar list
            (``benchmark_equity``, ``exposure.*``, ``cumulative_costs.*``) is
            aligned with ``equity.dates``.
        """
        from shortthehype import __version__

        equity = self.result.equity
        events = self.result.events
        document = _json_safe(
            {
                "strategy": self.spec.name,
                "kind": self.spec.kind.name,
                "description": self.spec.description,
                "params": {k: json_value(v) for k, v in self.spec.params.items()},
                "engine": {k: json_value(v) for k, v in self.spec.engine.items()},
                "tickers": self.prices.tickers,
                "benchmark": self.spec.run.get("benchmark"),
                "source": self.prices.source,
                "warnings": list(self.warnings),
                "start": format_value(self.start),
                "end": format_value(self.end),
                "final_equity": float(equity.iloc[-1]),
                "metrics": dict(self.stats),
                "costs": {k: float(v) for k, v in self.result.costs.items()},
                "equity": {
                    "dates": [d.strftime("%Y-%m-%d") for d in equity.index],
                    "values": [float(v) for v in equity.to_numpy()],
                },
                "events": [
                    {k: (format_value(v) if isinstance(v, pd.Timestamp) else v) for k, v in row.items()}
                    for row in events.to_dict(orient="records")
                ],
                "version": __version__,
            }
        )
        document.update(_json_safe(self._report_sections(history)))
        return document

    def benchmark_stats(self) -> dict[str, float] | None:
        """Statistics of ``init_cash`` held in the benchmark over the window (None without a benchmark)."""
        return _benchmark_buy_and_hold(self.benchmark, self.result.init_cash)[1]

    def _report_sections(self, history: Prices | None) -> dict[str, Any]:
        """Per-bar series and tables for reports (see :meth:`to_dict`); keys added after the original ones."""
        result = self.result
        exposure = result.exposure
        bench_equity, bench_stats = _benchmark_buy_and_hold(self.benchmark, result.init_cash)  # one pass for both
        orders = result.orders
        sections: dict[str, Any] = {
            "type": "backtest",
            "status": result.status,
            "benchmark_equity": None if bench_equity is None else _floats(bench_equity.to_numpy()),
            "benchmark_metrics": bench_stats,
            "exposure": {column: _floats(exposure[column].to_numpy()) for column in ("long", "short", "gross", "net")},
            "cumulative_costs": {k: _floats(v.to_numpy()) for k, v in result.cumulative_costs.items()},
            "orders": {
                "count": len(orders),
                "by_reason": {str(k): int(n) for k, n in orders["reason"].value_counts().sort_index().items()},
            },
            "trades": [
                {k: (format_value(v) if isinstance(v, pd.Timestamp) else v) for k, v in row.items()}
                for row in result.trades.to_dict(orient="records")
            ],
        }
        if self.spec.kind.name == "dotcom-analog":
            sections["analog"] = _analog_section(self, history)
        return sections


def _floats(values: np.ndarray) -> list[float | None]:
    """A float array as a JSON list (non-finite values become null)."""
    return [float(v) if math.isfinite(v) else None for v in np.asarray(values, dtype=np.float64)]


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


def _analog_section(run: BacktestRun, history: Prices | None) -> dict[str, Any]:
    """``dotcom-analog``: the implied phase on the window's dates, the basket's path and the Nasdaq reference."""
    from shortthehype.strategies.ai_basket import basket_index
    from shortthehype.strategies.dotcom_analog import implied_phase

    params = run.spec.params
    basket = list(params["tickers"])
    mode = params["mode"]
    reference = params["reference"]
    needed = basket + ([reference] if mode == "path" else [])
    source = history if history is not None and all(t in history.tickers for t in needed) else None
    note = None
    if source is None and mode == "path":
        frame = None
        note = "path mode: the fits need the history before the window; run with the reference data to see the phases"
    else:
        frame = implied_phase(run.prices if source is None else source, params)
        frame = frame.loc[(frame.index >= run.start) & (frame.index <= run.end)]
    close = run.prices.close[[t for t in basket if t in run.prices.tickers]]
    path = basket_index(close)
    ref = None
    if history is not None and reference in history.tickers:
        series = history.close[reference]
        series = series[(series.index >= params["reference_start"]) & (series.index <= params["reference_end"])].dropna()
        if len(series):
            ref = {
                "ticker": reference,
                "dates": [d.strftime("%Y-%m-%d") for d in series.index],
                "values": _floats(series.to_numpy()),
            }
    if ref is None and note is None:
        note = f"the reference {reference} was not loaded: the overlay shows the basket on the mapped dotcom dates only"
    return {
        "mode": mode,
        "anchors": {
            key: format_value(params[key]) for key in ("ai_start", "dotcom_start", "dotcom_peak", "dotcom_trough")
        },
        "lead_days": int(params["lead_days"]),
        "basket": {"dates": [d.strftime("%Y-%m-%d") for d in path.index], "values": _floats(path.to_numpy())},
        "phase": None
        if frame is None
        else {
            "dates": [d.strftime("%Y-%m-%d") for d in frame.index],
            "mapped_dates": [None if pd.isna(d) else d.strftime("%Y-%m-%d") for d in frame["mapped_date"]],
            "phases": [str(p) for p in frame["phase"]],
            "scales": _floats(frame["scale"].to_numpy()),
            "exposure": _floats(frame["exposure"].to_numpy()),
        },
        "reference": ref,
        "note": note,
    }


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (np.floating, np.integer)):
        return _json_safe(value.item())
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


def prepare_window(
    weights: pd.DataFrame, index: pd.DatetimeIndex, start: pd.Timestamp | None, end: pd.Timestamp | None
) -> tuple[pd.DatetimeIndex, pd.DataFrame]:
    """Restrict targets to ``start..end``, carrying the targets in force at ``start`` onto its first bar."""
    mask = np.ones(len(index), dtype=bool)
    if start is not None:
        mask &= index >= start
    if end is not None:
        mask &= index <= end
    window = index[mask]
    if len(window) < 2:
        lo = format_value(start) if start is not None else "the first date"
        hi = format_value(end) if end is not None else "the last date"
        raise DataError(f"fewer than two trading days between {lo} and {hi}: nothing to backtest")
    full = weights.reindex(index)
    in_force = full.loc[: window[0]].ffill().iloc[-1]
    windowed = full.loc[window].copy()
    windowed.iloc[0] = windowed.iloc[0].fillna(in_force)
    return window, windowed


def backtest(
    spec_or_name: str | os.PathLike[str] | StrategySpec | Mapping[str, Any],
    *,
    overrides: Mapping[str, Any] | None = None,
    prices: Prices | None = None,
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
    source, data_dir, cache_dir, offline
        Passed to :func:`shortthehype.load_prices` when ``prices`` is None.

    Returns
    -------
    BacktestRun
        The spec as run, the window's prices, the targets, the engine's
        ``Result`` and its statistics (with the benchmark's when one is set).
    """
    from shortthehype.engine import simulate

    spec = spec_or_name if isinstance(spec_or_name, StrategySpec) else load_spec(spec_or_name)
    if overrides:
        spec = spec.with_overrides(overrides)
    tickers = spec.tickers()
    benchmark_ticker = spec.run.get("benchmark")
    start, end = spec.run.get("start"), spec.run.get("end")
    needed = list(dict.fromkeys(tickers + ([benchmark_ticker] if benchmark_ticker else [])))
    if prices is None:
        prices = _load_quietly(needed, end, source, data_dir, cache_dir, offline)
    missing = [t for t in needed if t not in prices.tickers]
    if missing:
        raise DataError(f"{spec.where}: prices have no data for {', '.join(missing)}")
    strategy_prices = spec.kind.traded_prices(prices.select(tickers), spec.params)
    weights = spec.kind.target_weights(strategy_prices, spec.params)
    end, notes = _common_end(strategy_prices, weights.columns, end)
    window, window_weights = prepare_window(weights, strategy_prices.index, start, end)
    _check_gross(spec, window_weights)
    window_prices = strategy_prices.between(window[0], window[-1])
    result = simulate(window_prices, window_weights, **spec.engine)
    benchmark = None
    if benchmark_ticker:
        benchmark = prices.close[benchmark_ticker].reindex(window_prices.index)
    stats = result.stats(benchmark=benchmark)
    idle = _never_traded_note(spec, result, window_weights, window_prices)
    if idle:
        notes = [*notes, idle]
    return BacktestRun(
        spec=spec,
        prices=window_prices,
        weights=window_weights,
        result=result,
        benchmark=benchmark,
        stats=stats,
        warnings=tuple(_window_warnings(prices, window_prices, needed)) + tuple(notes),
    )


def _never_traded_note(spec: StrategySpec, result: Any, weights: pd.DataFrame, prices: Prices) -> str | None:
    """Why a run that asked for positions never traded (None when it traded, or never asked)."""
    if len(result.orders):
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
        prices = _load_quietly(tickers, spec.run.get("end"), source, data_dir, cache_dir, offline)
    missing = [t for t in tickers if t not in prices.tickers]
    if missing:
        raise DataError(f"{spec.where}: prices have no data for {', '.join(missing)}")
    history = prices.select(tickers).between(None, spec.run.get("end"))
    if len(history) < 3:
        raise DataError(f"{spec.where}: the look-ahead check needs at least 3 bars of prices, got {len(history)}")
    return check(lambda p: spec.kind.target_weights(spec.kind.traded_prices(p, spec.params), spec.params), history)


def _load_quietly(tickers, end, source, data_dir, cache_dir, offline) -> Prices:
    """Load full history up to ``end`` without emitting DataWarnings: the run reports those of its window."""
    import warnings

    from shortthehype.data.load import load_prices
    from shortthehype.errors import DataWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        return load_prices(tickers, end=end, source=source, data_dir=data_dir, cache_dir=cache_dir, offline=offline)


def _window_warnings(loaded: Prices, window: Prices, tickers: Sequence[str]) -> list[str]:
    """The loader's notes about this run's ``tickers``, with split-sized moves restricted to the window.

    Warm-up history is loaded in full, so a suspicious move years before the
    window would otherwise be reported on every run; prices loaded once for
    several runs (``compare``) carry notes about tickers a run does not use.
    Only loaded series are checked: instruments a strategy derives (a put
    that expires worthless) are not data.
    """
    import re

    from shortthehype.data.validate import suspicious_moves

    ours = [t for t in tickers if t in loaded.tickers]
    all_moves = {line for t in loaded.tickers for line in suspicious_moves(loaded.close[t], t)}
    mentions = re.compile("|".join(rf"\b{re.escape(t)}\b" for t in ours)) if ours else None
    notes = [line for line in loaded.warnings if line not in all_moves and mentions and mentions.search(line)]
    inside = loaded.close.loc[window.index[0] : window.index[-1]]
    return notes + [line for t in ours for line in suspicious_moves(inside[t], t)]


def _common_end(
    prices: Prices, traded: pd.Index, end: pd.Timestamp | None
) -> tuple[pd.Timestamp | None, list[str]]:
    """Pull ``end`` back to the last date of a traded ticker whose data stop shortly before the others'."""
    index = prices.index
    latest = index[-1] if end is None else min(index[-1], end)
    latest_pos = index.get_indexer([latest], method="pad")[0]
    cut, cut_ticker = latest, None
    for ticker in traded:
        last = prices.close[ticker].last_valid_index()
        if last is None or last >= cut:
            continue
        if latest_pos - index.get_loc(last) <= STALE_DATA_BARS:
            cut, cut_ticker = last, ticker
    if cut_ticker is None:
        return end, []
    note = (
        f"{cut_ticker} data end {format_value(cut)}, before the other tickers' "
        f"{format_value(latest)}: the backtest ends on {format_value(cut)} (set end= to choose)"
    )
    return cut, [note]


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


def compare(
    specs: Sequence[str | os.PathLike[str] | StrategySpec | Mapping[str, Any]],
    *,
    overrides: Mapping[str, Any] | None = None,
    prices: Prices | None = None,
    source: str | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    offline: bool = False,
) -> list[BacktestRun]:
    """Backtest several specs over the same window.

    The window is ``start``/``end`` from ``overrides`` when given, else the
    latest of the specs' own starts and the earliest of their ends (a spec
    without one is open on that side).  Prices are loaded once for every
    ticker of every spec; ``overrides`` apply to every spec (names a spec does
    not have are an error, as for :func:`backtest`).
    """
    loaded = [s if isinstance(s, StrategySpec) else load_spec(s) for s in specs]
    if not loaded:
        raise ParamError("compare needs at least one strategy spec")
    names = [spec.name for spec in loaded]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise ParamError(f"strategy {duplicated[0]!r} is given twice")
    overrides = dict(overrides or {})
    window = {}
    starts = [s.run["start"] for s in loaded if s.run.get("start") is not None]
    ends = [s.run["end"] for s in loaded if s.run.get("end") is not None]
    window["start"] = overrides.pop("start", max(starts) if starts else None)
    window["end"] = overrides.pop("end", min(ends) if ends else None)
    if prices is None:
        needed: list[str] = []
        for spec in loaded:
            needed += spec.tickers() + ([spec.run["benchmark"]] if spec.run.get("benchmark") else [])
        end = window["end"]
        prices = _load_quietly(list(dict.fromkeys(needed)), end, source, data_dir, cache_dir, offline)
    return [backtest(spec, overrides={**overrides, **window}, prices=prices) for spec in loaded]
