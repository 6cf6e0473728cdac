"""``Result``: the outputs of one simulation with dates and tickers attached.

The kernel returns plain arrays (equity, cash, shares per bar) and record
arrays (orders, trades, events); ``Result`` keeps them as they are and builds
the pandas views lazily, on first access.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from shortthehype.constants import ANNUALIZATION, REPORT_ROLLING_WINDOW
from shortthehype.enums import (
    TOT_BORROW,
    TOT_FEES,
    TOT_INTEREST,
    TOT_SLIPPAGE,
    Direction,
    EventKind,
    OrderStatus,
    Reason,
    Side,
    SimStatus,
    TradeStatus,
)
from shortthehype.errors import ParamError

__all__ = ["Result"]


class Result:
    """What a simulation produced, on the price dates and the simulated tickers.

    Attributes
    ----------
    equity, cash : Series
        Account value and cash at every close (equity = cash + sum of shares x
        close, with the last valid close for tickers without a price that day).
        Equity can be negative; it is never clamped.
    positions : DataFrame
        Shares held at every close (negative = short).
    order_records, trade_records, event_records : ndarray
        The kernel's structured arrays (dtypes in :mod:`shortthehype.enums`).
    status : str
        ``"ok"`` or ``"bankrupt"`` (the account was closed out).
    """

    def __init__(
        self,
        *,
        index: pd.DatetimeIndex,
        tickers: list[str],
        close: np.ndarray,
        equity: np.ndarray,
        cash: np.ndarray,
        positions: np.ndarray,
        cumulative_costs: np.ndarray,
        order_records: np.ndarray,
        trade_records: np.ndarray,
        event_records: np.ndarray,
        totals: np.ndarray,
        status: int,
        init_cash: float,
        execution: str,
    ) -> None:
        self.index = index
        self.tickers = list(tickers)
        self._close = close
        self._equity = equity
        self._cash = cash
        self._positions = positions
        self._cumulative_costs = cumulative_costs
        self.order_records = order_records
        self.trade_records = trade_records
        self.event_records = event_records
        self._totals = totals
        self.status = SimStatus(status).label
        self.init_cash = float(init_cash)
        self.execution = execution

    def __repr__(self) -> str:
        return (
            f"Result({len(self.index)} bars {self.index[0]:%Y-%m-%d}..{self.index[-1]:%Y-%m-%d}, "
            f"{len(self.tickers)} tickers, final equity {self._equity[-1]:,.2f}, "
            f"{len(self.order_records)} orders, status {self.status})"
        )

    # ---- per-bar series -------------------------------------------------------------------

    @cached_property
    def equity(self) -> pd.Series:
        return pd.Series(self._equity, index=self.index, name="equity")

    @cached_property
    def cash(self) -> pd.Series:
        return pd.Series(self._cash, index=self.index, name="cash")

    @cached_property
    def positions(self) -> pd.DataFrame:
        return self._frame(self._positions)

    @cached_property
    def position_values(self) -> pd.DataFrame:
        """Value of each position at each close: shares x close (the last valid close where the close is NaN); 0 when flat."""
        return self._frame(self._position_values())

    @cached_property
    def returns(self) -> pd.Series:
        """Per-bar returns of the equity, exactly the ones :meth:`stats` uses.

        ``equity[i] / equity[i-1] - 1`` from the second bar on; with
        ``execution="close"`` also the first bar's ``equity[0] / init_cash - 1``
        (costs paid at the first close).  NaN after ruin (see
        :func:`shortthehype.metrics.returns_from_equity`).  So
        ``metrics.sharpe_ratio(result.returns)`` equals ``result.stats()["sharpe"]``.
        """
        from shortthehype.metrics import returns_from_equity

        returns = returns_from_equity(self._stats_equity())
        returns.index = self.index[len(self.index) - len(returns) :]
        return returns.rename("returns")

    @cached_property
    def weights(self) -> pd.DataFrame:
        """Actual weights: position value / equity (NaN where equity <= 0)."""
        return self._frame(self._position_values() / self._positive_equity[:, None])

    @cached_property
    def exposure(self) -> pd.DataFrame:
        """Long (>= 0), short (<= 0), gross and net position value as fractions of equity (NaN where equity <= 0)."""
        return pd.DataFrame(self._exposure, index=self.index)

    @cached_property
    def turnover(self) -> pd.Series:
        """Traded notional (at fill prices) / equity per bar; 0 on bars without trades."""
        return pd.Series(self._turnover, index=self.index, name="turnover")

    # ---- records --------------------------------------------------------------------------

    @cached_property
    def orders(self) -> pd.DataFrame:
        """One row per fill: date, ticker, side, size, price (after slippage), fees, slippage cost, reason, status."""
        recs = self.order_records
        return pd.DataFrame(
            {
                "date": self.index[recs["bar"]],
                "ticker": self._names(recs["asset"]),
                "side": _labels(Side, recs["side"]),
                "size": recs["size"],
                "price": recs["price"],
                "fees": recs["fees"],
                "slippage": recs["slippage"],
                "reason": _labels(Reason, recs["reason"]),
                "status": _labels(OrderStatus, recs["status"]),
            }
        )

    @cached_property
    def trades(self) -> pd.DataFrame:
        """Round trips (flat to flat); open ones are valued at the last valid close and marked ``open``."""
        recs = self.trade_records
        return pd.DataFrame(
            {
                "ticker": self._names(recs["asset"]),
                "direction": _labels(Direction, recs["direction"]),
                "entry_date": self.index[recs["entry_bar"]],
                "exit_date": self.index[recs["exit_bar"]],
                "entry_price": recs["entry_price"],
                "exit_price": recs["exit_price"],
                "size": recs["size"],
                "pnl": recs["pnl"],
                "return": recs["ret"],
                "fees": recs["fees"],
                "borrow": recs["borrow"],
                "status": _labels(TradeStatus, recs["status"]),
            }
        )

    @cached_property
    def events(self) -> pd.DataFrame:
        """Margin calls, cuts, gross-cap cuts, stops, bankruptcy, liquidation, delistings, rejected buys: date, kind, ticker, detail."""
        recs = self.event_records
        tickers = [self.tickers[a] if a >= 0 else None for a in recs["asset"]]
        details = [_event_detail(int(k), float(a), float(b)) for k, a, b in zip(recs["kind"], recs["value_a"], recs["value_b"])]
        return pd.DataFrame(
            {
                "date": self.index[recs["bar"]],
                "kind": _labels(EventKind, recs["kind"]),
                "ticker": pd.Series(tickers, dtype=object),
                "detail": pd.Series(details, dtype=object),
            }
        )

    @property
    def costs(self) -> dict[str, float]:
        """Totals paid: fees, slippage, borrow, and net interest (negative when interest was earned)."""
        return {
            "fees": float(self._totals[TOT_FEES]),
            "slippage": float(self._totals[TOT_SLIPPAGE]),
            "borrow": float(self._totals[TOT_BORROW]),
            "interest": float(self._totals[TOT_INTEREST]),
        }

    @cached_property
    def cumulative_costs(self) -> pd.DataFrame:
        """Running cost totals after each bar (currency): fees, slippage, borrow, net interest paid.

        The last row equals :attr:`costs`; interest is negative when cash earned it.
        """
        columns = ["fees", "slippage", "borrow", "interest"]
        order = [TOT_FEES, TOT_SLIPPAGE, TOT_BORROW, TOT_INTEREST]
        return pd.DataFrame(self._cumulative_costs[:, order], index=self.index, columns=columns)

    @property
    def bankrupt(self) -> bool:
        return self.status == SimStatus.BANKRUPT.label

    # ---- statistics -----------------------------------------------------------------------

    def stats(
        self,
        benchmark: pd.Series | str | None = None,
        *,
        risk_free: float = 0.0,
        periods_per_year: int = ANNUALIZATION,
    ) -> pd.Series:
        """Summary statistics from :func:`shortthehype.metrics.compute_stats`, as a float Series by key.

        ``benchmark`` is a price-level Series (aligned on the dates) or the name
        of a simulated ticker (its closes).  With ``execution="close"`` the
        equity series starts with ``init_cash`` one day before the first bar, so
        that costs paid on the first bar count; otherwise the first close already
        equals ``init_cash``.
        """
        from shortthehype.metrics import compute_stats, stats_series

        benchmark = self._benchmark_level(benchmark)
        closed = self.trade_records["status"] == TradeStatus.CLOSED
        equity = self._stats_equity()
        # per-bar inputs as arrays on the statistics' bars (none before the first bar: NaN, as a reindex gives)
        before = len(equity) - len(self.index)
        stats = compute_stats(
            equity,
            trade_returns=self.trade_records["ret"][closed],
            gross_exposure=np.concatenate([np.full(before, np.nan), self._held]),
            turnover=np.concatenate([np.full(before, np.nan), self._turnover]),
            benchmark=benchmark,
            risk_free=risk_free,
            periods_per_year=periods_per_year,
        )
        return stats_series(stats, "stats")

    def _benchmark_level(self, benchmark: pd.Series | str | None) -> pd.Series | None:
        """A benchmark price level: the Series given, or a simulated ticker's closes by name."""
        if not isinstance(benchmark, str):
            return benchmark
        if benchmark not in self.tickers:
            raise ParamError(f"benchmark {benchmark!r} is not a simulated ticker ({', '.join(self.tickers)})")
        return pd.Series(self._close[:, self.tickers.index(benchmark)], index=self.index, name=benchmark)

    def _stats_equity(self) -> pd.Series:
        """The equity the statistics use: with ``execution="close"``, ``init_cash`` a day before the first bar first."""
        if self.execution != "close":
            return self.equity
        start = pd.Series([self.init_cash], index=pd.DatetimeIndex([self.index[0] - pd.Timedelta(days=1)]))
        return pd.concat([start, self.equity]).rename("equity")

    # ---- tables of the notebook API ---------------------------------------------------------

    def drawdowns(self, top: int = 5) -> pd.DataFrame:
        """The ``top`` deepest drawdowns: peak, trough, recovery dates, depth and length (:func:`shortthehype.metrics.drawdown_table`)."""
        from shortthehype.metrics import drawdown_table

        return drawdown_table(self._stats_equity(), top)

    def monthly_returns(self) -> pd.DataFrame:
        """Compounded returns by year (rows) and month (columns 1..12), plus the year's (:func:`shortthehype.metrics.monthly_returns`)."""
        from shortthehype.metrics import monthly_returns

        return monthly_returns(self.returns)

    def rolling_sharpe(self, window: int = REPORT_ROLLING_WINDOW) -> pd.Series:
        """Annualised Sharpe ratio of the last ``window`` bars at each bar."""
        from shortthehype.metrics import rolling_sharpe

        return rolling_sharpe(self.returns, window)

    def rolling_beta(self, benchmark: pd.Series | str, window: int = REPORT_ROLLING_WINDOW) -> pd.Series:
        """Beta over the last ``window`` bars to a benchmark price level (or a simulated ticker's closes)."""
        from shortthehype.metrics import returns_from_equity, rolling_beta

        level = self._benchmark_level(benchmark).reindex(self.index).ffill()
        return rolling_beta(self.returns, returns_from_equity(level), window)

    def trade_stats(self) -> pd.Series:
        """Closed round trips: win rate, average win / loss, expectancy, SQN, best / worst trade, average holding time."""
        from shortthehype.metrics import trade_stats

        recs = self.trade_records[self.trade_records["status"] == TradeStatus.CLOSED]
        frame = pd.DataFrame(
            {
                "return": recs["ret"],
                "pnl": recs["pnl"],
                "entry_date": self.index[recs["entry_bar"]],
                "exit_date": self.index[recs["exit_bar"]],
                "holding_bars": recs["exit_bar"] - recs["entry_bar"],
            }
        )
        return trade_stats(frame)

    # ---- figures and reports --------------------------------------------------------------

    def plot(self, benchmark: pd.Series | None = None) -> Any:
        """A plotly figure: equity (beside ``benchmark``'s buy-and-hold, a price level), drawdown and exposure."""
        from shortthehype.report.notebook import plot_document

        return plot_document(self._document(benchmark))

    def report(self, path: str | Any, benchmark: pd.Series | None = None) -> Any:
        """Write the report: HTML (``.html``), Markdown (``.md``) or the figure of :meth:`plot` (``.png``)."""
        from shortthehype.report.notebook import write_document

        return write_document(self._document(benchmark), path)

    def to_html(self, benchmark: pd.Series | None = None) -> str:
        """The self-contained HTML report as text."""
        from shortthehype.report import render

        return render(self._document(benchmark), "html")

    def _document(self, benchmark: pd.Series | None) -> dict[str, Any]:
        from shortthehype.runner import result_document

        if benchmark is not None:
            benchmark = benchmark.reindex(self.index)
        return result_document(self, benchmark=benchmark)

    # ---- helpers --------------------------------------------------------------------------

    def _frame(self, values: np.ndarray) -> pd.DataFrame:
        frame = pd.DataFrame(values, index=self.index, columns=self.tickers)
        frame.columns.name = "ticker"
        return frame

    def _position_values(self) -> np.ndarray:
        return self._marked_values.copy()

    @cached_property
    def _marked_values(self) -> np.ndarray:
        marks = pd.DataFrame(self._close).ffill().to_numpy()
        return np.where(self._positions != 0, self._positions * marks, 0.0)

    @cached_property
    def _positive_equity(self) -> np.ndarray:
        return np.where(self._equity > 0, self._equity, np.nan)

    @cached_property
    def _exposure(self) -> dict[str, np.ndarray]:
        values = self._marked_values
        long = np.where(values > 0, values, 0.0).sum(axis=1)
        short = np.where(values < 0, values, 0.0).sum(axis=1)
        equity = self._positive_equity
        return {
            "long": long / equity,
            "short": short / equity,
            "gross": (long - short) / equity,
            "net": (long + short) / equity,
        }

    @cached_property
    def _held_and_turnover(self) -> tuple[np.ndarray, np.ndarray]:
        """Per bar: 1.0 with a position of nonzero value, 0.0 without; traded notional / equity (both NaN where
        equity <= 0), from the kernel the entry-date study's windows use too
        (:func:`~shortthehype.core.metrics_nb.held_and_turnover_nb`).

        The held flag is zero exactly where :attr:`exposure`'s gross is (its long minus its short, each a sum of
        same-signed values, is zero only when every value is), which is all the ``exposure`` statistic reads.
        """
        from shortthehype.core.metrics_nb import held_and_turnover_nb

        held, traded = np.empty(len(self.index)), np.empty(len(self.index))
        held_and_turnover_nb(np.ascontiguousarray(self._close), np.ascontiguousarray(self._positions),
                             np.ascontiguousarray(self._equity), self.order_records, 0, held, traded)
        return held, traded

    @property
    def _held(self) -> np.ndarray:
        return self._held_and_turnover[0]

    @property
    def _turnover(self) -> np.ndarray:
        return self._held_and_turnover[1]

    def _names(self, assets: np.ndarray) -> pd.Series:
        return pd.Series([self.tickers[a] for a in assets], dtype=object)


def _labels(enum: Any, codes: np.ndarray) -> pd.Series:
    return pd.Series([enum(int(c)).label for c in codes], dtype=object)


def _event_detail(kind: int, a: float, b: float) -> str:
    """One readable line per event from its two numbers (meanings in :class:`EventKind`)."""
    if kind == EventKind.MARGIN_CALL:
        return f"equity {a:,.2f} < maintenance requirement {b:,.2f}"
    if kind == EventKind.MARGIN_CUT:
        return f"positions cut to equity {a:,.2f}, gross exposure {b:,.2f}"
    if kind == EventKind.GROSS_CAP:
        return f"positions cut from gross {a:.4g}x to {b:.4g}x equity (max_gross)"
    if kind == EventKind.LIQUIDATION:
        return f"{int(b)} position(s) closed out; equity {a:,.2f}"
    if kind == EventKind.BANKRUPTCY:
        return f"equity {a:,.2f} <= 0 with gross exposure {b:,.2f}"
    if kind == EventKind.DELISTING:
        return f"{b:g} shares closed at the last close {a:.4f}"
    if kind == EventKind.SETTLEMENT:
        return f"{b:g} shares settled at {a:.4f} (intrinsic value at expiry, no costs)"
    if kind == EventKind.ORDER_REJECTED:
        return f"buys skipped: cash available {a:,.2f} < needed {b:,.2f}"
    gap = " (gapped: filled at the open)" if a != b else ""
    return f"level {a:.4f}, filled at {b:.4f} before slippage{gap}"
