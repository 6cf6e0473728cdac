"""What a report shows, derived from a result document alone.

A *result document* is the JSON written by ``backtest --json`` (see
:meth:`shortthehype.BacktestRun.to_dict`); a *comparison document* is
``{"runs": [document, ...]}`` as written by ``compare --json`` (a plain JSON
list of documents is accepted too).  Every report format (HTML, PNG,
Markdown) is rendered from the :class:`BacktestView` built here, so every
number a report shows is either in the document or derived from it by the
functions of this module:

* **returns** per bar: ``equity[t] / equity[t-1] - 1`` with ``equity[-1]`` =
  ``metrics.start_value`` (the value the statistics start from:
  ``init_cash``, which the first close already equals unless
  ``execution="close"`` paid costs on the first bar); undefined (NaN) after
  ruin, the first bar with equity <= 0, whose return counts as -100 % — the
  convention of :func:`shortthehype.metrics.returns_from_equity`;
* **drawdown**: equity / running peak (the start value included) - 1, -1 at
  ruin and NaN after it, so its minimum is the ``max_drawdown`` statistic;
* **monthly / yearly returns**: the per-bar returns compounded within each
  calendar month / year (NaN for a period without a defined return);
* **rolling Sharpe ratio and volatility**: :func:`shortthehype.metrics.sharpe_ratio`
  and :func:`~shortthehype.metrics.annual_volatility` over the last
  ``REPORT_ROLLING_WINDOW`` returns; NaN until a full window exists and
  wherever the window holds a missing return; infinite values (constant
  nonzero returns) are shown as missing;
* the **benchmark** is ``init_cash`` bought at its first price in the window
  and held (``benchmark_equity``); its returns span days without a price.

Older documents without the per-bar report sections (exposure, costs,
trades) still render; those sections are then left out with a note.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from shortthehype.constants import REPORT_ROLLING_WINDOW
from shortthehype.documents import document_kind  # re-exported: used by the report command
from shortthehype.errors import DataError
from shortthehype.metrics import period_returns  # re-exported: the report's monthly and yearly tables

__all__ = [
    "BacktestView",
    "CompareView",
    "backtest_view",
    "compare_view",
    "document_kind",
    "drawdown_series",
    "load_document",
    "period_returns",
    "report_metric_keys",
    "rolling_ratios",
]

#: Statistics rows of the strategy-vs-benchmark table that only make sense for the strategy.
RELATIVE_KEYS = ("beta", "alpha", "correlation", "information_ratio")
#: Per-bar exposure and cumulative-cost columns a document may carry.
EXPOSURE_KEYS = ("long", "short", "gross", "net")
COST_KEYS = ("fees", "slippage", "borrow", "interest")


def report_metric_keys() -> tuple[str, ...]:
    """Statistics a report's metrics table lists, in order: every key of ``compute_stats`` and the relative ones."""
    from shortthehype.metrics import STATS_KEYS

    return tuple(STATS_KEYS) + RELATIVE_KEYS


# ---- loading and validation ---------------------------------------------------------------


def load_document(path: str | os.PathLike[str], *, x: str | None = None, y: str | None = None) -> Any:
    """Read a result or comparison document from a JSON file, or a sweep's document from its Parquet results file.

    ``x``/``y`` choose the heatmap axes of a sweep's document (swept settings).

    Raises
    ------
    DataError
        The file is missing, unreadable or not JSON (one line naming it).
    """
    file = Path(path)
    if file.suffix.lower() == ".parquet":  # a sweep's results file (`sweep --out`): its report document
        from shortthehype.sweeps import load_sweep

        return json.loads(json.dumps(load_sweep(file).to_document(x=x, y=y)))
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError(f"{file}: no such result file (write one with `shortthehype backtest SPEC --json {file}`)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{file}: cannot read the result file ({exc.__class__.__name__}: {exc})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"{file}: not a JSON result file (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except RecursionError:
        raise DataError(f"{file}: nested too deeply to be a result file") from None


def _series_values(values: Any, where: str, key: str, n: int) -> np.ndarray:
    if not isinstance(values, list) or len(values) != n:
        got = f"{len(values)} values" if isinstance(values, list) else type(values).__name__
        raise DataError(f"{where}: {key} must be a list of {n} numbers aligned with equity.dates, got {got}")
    try:
        return np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)
    except (TypeError, ValueError):
        raise DataError(f"{where}: {key} holds a value that is not a number") from None


def _number(value: Any) -> float:
    """A JSON number (or null) as a float (null -> NaN)."""
    if value is None:
        return math.nan
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(value)
    return float(value)


# ---- derived series ------------------------------------------------------------------------


def drawdown_series(equity: np.ndarray, start_value: float) -> np.ndarray:
    """Underwater curve: equity / running peak - 1 (the start value counts as the first peak).

    -1 at ruin (the first value <= 0) and NaN after it; NaN equity gives NaN.
    """
    values = np.asarray(equity, dtype=np.float64)
    out = np.full(values.shape, np.nan)
    if values.size == 0:
        return out
    ruined = np.flatnonzero(values <= 0.0)
    stop = ruined[0] if ruined.size else values.size
    head = values[:stop]
    peak = np.fmax.accumulate(np.concatenate(([start_value], head)))[1:]
    out[:stop] = head / peak - 1.0
    if ruined.size:
        out[stop] = -1.0
    return out


def _gap_returns(prices: np.ndarray) -> np.ndarray:
    """Simple returns of a price level that span missing values (NaN where the price is missing or first)."""
    out = np.full(prices.shape, np.nan)
    valid = np.flatnonzero(np.isfinite(prices))
    if valid.size > 1:
        out[valid[1:]] = prices[valid[1:]] / prices[valid[:-1]] - 1.0
    return out


def rolling_ratios(returns: np.ndarray, window: int = REPORT_ROLLING_WINDOW) -> tuple[np.ndarray, np.ndarray]:
    """Annualised Sharpe ratio and volatility of the last ``window`` returns at each bar.

    NaN before the first full window, where the window holds a missing
    return, and where the ratio is infinite (constant nonzero returns).
    """
    from shortthehype.metrics import annual_volatility, sharpe_ratio

    values = np.asarray(returns, dtype=np.float64)
    n = values.shape[0]
    sharpe = np.full(n, np.nan)
    volatility = np.full(n, np.nan)
    if window < 2 or n < window:
        return sharpe, volatility
    missing = np.concatenate(([0], np.cumsum(~np.isfinite(values))))
    complete = (missing[window:] - missing[:-window]) == 0
    columns = np.ascontiguousarray(np.lib.stride_tricks.sliding_window_view(values, window).T)
    with np.errstate(invalid="ignore", divide="ignore"):
        s = np.asarray(sharpe_ratio(columns), dtype=np.float64)
        v = np.asarray(annual_volatility(columns), dtype=np.float64)
    sharpe[window - 1 :] = np.where(complete & np.isfinite(s), s, np.nan)
    volatility[window - 1 :] = np.where(complete & np.isfinite(v), v, np.nan)
    return sharpe, volatility


# ---- views -------------------------------------------------------------------------------


@dataclass(frozen=True)
class BacktestView:
    """A backtest document with its series as pandas objects and the derived series of the report.

    Built by :func:`backtest_view`; ``document`` is the JSON as read, and
    every attribute comes from it (see the module docstring for the derived
    ones).
    """

    document: Mapping[str, Any]
    where: str
    name: str
    dates: pd.DatetimeIndex
    equity: pd.Series
    start_value: float
    returns: pd.Series
    drawdown: pd.Series
    rolling: pd.DataFrame
    monthly: pd.DataFrame
    yearly: pd.Series
    benchmark: str | None = None
    benchmark_equity: pd.Series | None = None
    benchmark_returns: pd.Series | None = None
    benchmark_drawdown: pd.Series | None = None
    benchmark_yearly: pd.Series | None = None
    exposure: pd.DataFrame | None = None
    costs: pd.DataFrame | None = None
    trades: pd.DataFrame | None = None
    events: pd.DataFrame = field(default_factory=pd.DataFrame)
    notes: tuple[str, ...] = ()

    @property
    def metrics(self) -> Mapping[str, Any]:
        return self.document.get("metrics") or {}

    @property
    def final_equity(self) -> float:
        return float(self.document.get("final_equity", self.equity.iloc[-1]))

    def metric_rows(self, keys: Sequence[str]) -> list[tuple[str, float, float]]:
        """``(key, strategy value, benchmark value)`` for each key the document has (NaN where missing).

        The benchmark column is ``benchmark_metrics`` (the statistics of the
        benchmark bought and held); without it, the ``benchmark_*`` keys of the
        strategy's statistics.  Relative statistics (beta, alpha ...) have no
        benchmark value.
        """
        metrics = self.metrics
        bench = self.document.get("benchmark_metrics")
        if bench is not None and not isinstance(bench, Mapping):
            raise DataError(f"{self.where}: benchmark_metrics must be an object of statistics")
        rows = []
        for key in keys:
            if key not in metrics and not (bench and key in bench):
                continue
            try:
                own = _number(metrics.get(key))
                if key in RELATIVE_KEYS or self.benchmark is None:
                    other = math.nan
                elif bench is not None:
                    other = _number(bench.get(key))
                else:
                    other = _number(metrics.get(f"benchmark_{key}"))
            except TypeError as exc:
                raise DataError(f"{self.where}: statistic {key!r} must be a number or null, got {exc.args[0]!r}") from None
            rows.append((key, own, other))
        return rows


def _frame_section(
    document: Mapping[str, Any], key: str, columns: Sequence[str], where: str, dates: pd.DatetimeIndex
) -> pd.DataFrame | None:
    section = document.get(key)
    if section is None:
        return None
    if not isinstance(section, Mapping):
        raise DataError(f"{where}: {key} must be an object of per-bar lists, got {type(section).__name__}")
    data = {c: _series_values(section.get(c), where, f"{key}.{c}", len(dates)) for c in columns}
    return pd.DataFrame(data, index=dates)


#: Keys every record of a document's list must have (the report reads them).
_RECORD_KEYS = {"trades": ("ticker", "direction", "entry_date", "exit_date", "pnl", "return", "status")}


def _records(document: Mapping[str, Any], key: str, where: str, date_columns: Sequence[str]) -> pd.DataFrame | None:
    rows = document.get(key)
    if rows is None:
        return None
    if not isinstance(rows, list) or not all(isinstance(r, Mapping) for r in rows):
        raise DataError(f"{where}: {key} must be a list of objects")
    for number, row in enumerate(rows):
        missing = [k for k in _RECORD_KEYS.get(key, ()) if k not in row]
        if missing:
            raise DataError(f"{where}: {key}[{number}] has no {missing[0]!r}")
    frame = pd.DataFrame(list(rows))
    for column in date_columns:
        if column in frame:
            frame[column] = pd.to_datetime(frame[column], errors="coerce")
    return frame


def backtest_view(document: Mapping[str, Any], where: str = "document") -> BacktestView:
    """Validate a backtest document and derive the series of its report.

    Parameters
    ----------
    document : mapping
        A backtest result document (the JSON of ``backtest --json``).
    where : str
        Name of its file, used in error messages.

    Returns
    -------
    BacktestView

    Raises
    ------
    DataError
        A required key is missing, a date does not parse, a per-bar list is
        not aligned with ``equity.dates``, or an equity value is missing (one
        line naming the file and the key).

    Notes
    -----
    A document of one bar renders (no returns to compound: monthly and
    rolling series are empty or NaN).
    """
    if document_kind(document, where) != "backtest":
        raise DataError(f"{where}: this is a comparison document; it renders with the comparison report")
    curve = document["equity"]
    if not isinstance(curve, Mapping) or "dates" not in curve or "values" not in curve:
        raise DataError(f"{where}: equity must be an object with 'dates' and 'values' lists")
    try:
        dates = pd.DatetimeIndex(pd.to_datetime(curve["dates"], format="%Y-%m-%d"), name="date")
    except (TypeError, ValueError) as exc:
        raise DataError(f"{where}: equity.dates must be YYYY-MM-DD strings ({exc})") from None
    n = len(dates)
    if n == 0:
        raise DataError(f"{where}: equity.dates is empty: nothing to report")
    if not dates.is_monotonic_increasing or not dates.is_unique:
        raise DataError(f"{where}: equity.dates must be sorted and unique")
    values = _series_values(curve["values"], where, "equity.values", n)
    if not np.isfinite(values).all():
        raise DataError(f"{where}: equity.values has a missing value at {dates[~np.isfinite(values)][0]:%Y-%m-%d}")
    metrics = document["metrics"]
    if not isinstance(metrics, Mapping):
        raise DataError(f"{where}: metrics must be an object of statistics")
    engine = document.get("engine") or {}
    start_value = metrics.get("start_value")
    if start_value is None:
        start_value = engine.get("init_cash", values[0])
    try:
        start_value = float(start_value)
    except (TypeError, ValueError):
        raise DataError(f"{where}: metrics.start_value must be a number, got {start_value!r}") from None
    if not start_value > 0:
        raise DataError(f"{where}: metrics.start_value must be > 0, got {start_value!r}")

    from shortthehype.metrics import returns_from_equity

    returns = pd.Series(returns_from_equity(np.concatenate(([start_value], values))), index=dates, name="returns")
    equity = pd.Series(values, index=dates, name="equity")
    drawdown = pd.Series(drawdown_series(values, start_value), index=dates, name="drawdown")
    sharpe, vol = rolling_ratios(returns.to_numpy())
    rolling = pd.DataFrame({"sharpe": sharpe, "volatility": vol}, index=dates)
    monthly_long = period_returns(returns, "M")
    monthly = monthly_long.unstack().reindex(columns=range(1, 13)) if len(monthly_long) else pd.DataFrame(columns=range(1, 13))
    yearly = period_returns(returns, "Y")

    notes: list[str] = []
    benchmark = document.get("benchmark")
    bench_equity = bench_returns = bench_drawdown = bench_yearly = None
    raw = document.get("benchmark_equity")
    if benchmark and raw is not None:
        bench_values = _series_values(raw, where, "benchmark_equity", n)
        bench_equity = pd.Series(bench_values, index=dates, name=str(benchmark))
        bench_returns = pd.Series(_gap_returns(bench_values), index=dates)
        valid = np.isfinite(bench_values)
        bench_dd = np.full(n, np.nan)
        if valid.any():
            bench_dd[valid] = drawdown_series(bench_values[valid], bench_values[valid][0])
        bench_drawdown = pd.Series(bench_dd, index=dates)
        b_sharpe, b_vol = rolling_ratios(bench_returns.to_numpy())
        rolling["benchmark_sharpe"] = b_sharpe
        rolling["benchmark_volatility"] = b_vol
        bench_yearly = period_returns(bench_returns, "Y")
    elif benchmark:
        notes.append(f"the document has no benchmark_equity: the {benchmark} curve is not drawn")

    exposure = _frame_section(document, "exposure", EXPOSURE_KEYS, where, dates)
    costs = _frame_section(document, "cumulative_costs", COST_KEYS, where, dates)
    trades = _records(document, "trades", where, ("entry_date", "exit_date"))
    events = _records(document, "events", where, ("date",))
    if exposure is None or costs is None or trades is None:
        notes.append("this document was written before exposure, cost and trade series were recorded: those sections are left out")
    return BacktestView(
        document=document,
        where=where,
        name=str(document.get("strategy", "strategy")),
        dates=dates,
        equity=equity,
        start_value=start_value,
        returns=returns,
        drawdown=drawdown,
        rolling=rolling,
        monthly=monthly,
        yearly=yearly,
        benchmark=str(benchmark) if benchmark else None,
        benchmark_equity=bench_equity,
        benchmark_returns=bench_returns,
        benchmark_drawdown=bench_drawdown,
        benchmark_yearly=bench_yearly,
        exposure=exposure,
        costs=costs,
        trades=trades,
        events=events if events is not None else pd.DataFrame(columns=["date", "kind", "ticker", "detail"]),
        notes=tuple(notes),
    )


@dataclass(frozen=True)
class CompareView:
    """Several backtest views side by side (a comparison document)."""

    runs: tuple[BacktestView, ...]
    where: str

    @property
    def names(self) -> list[str]:
        return [run.name for run in self.runs]


def compare_view(document: Any, where: str = "document") -> CompareView:
    """Validate a comparison document (``{"runs": [...]}`` or a list) and build a view of each run.

    Raises
    ------
    DataError
        Not a comparison, no runs, or a run that is not a valid backtest
        document (the message names the run by position and strategy).
    """
    runs = document if isinstance(document, list) else (document.get("runs") if isinstance(document, Mapping) else None)
    if not isinstance(runs, list) or not runs:
        raise DataError(f"{where}: a comparison needs a non-empty list of backtest results under 'runs'")
    views = []
    for i, run in enumerate(runs):
        label = run.get("strategy", "?") if isinstance(run, Mapping) else "?"
        views.append(backtest_view(run, where=f"{where} run {i + 1} ({label})"))
    return CompareView(runs=tuple(views), where=where)
