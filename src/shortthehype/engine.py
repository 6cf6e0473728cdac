"""How the engine trades: :func:`simulate` turns prices and target weights into a :class:`Result`.

This module is the pandas layer: it validates and aligns the inputs, hands
plain float64 arrays to the numba kernel (:mod:`shortthehype.core.simulate_nb`)
and wraps what comes back in a :class:`~shortthehype.result.Result`.  The rules
below are the engine's contract; the kernel implements them and
``tests/reference.py`` re-implements them as a slow per-bar loop.

Targets and timing
------------------
* ``weights`` is a DataFrame of target weights (fractions of equity; negative =
  short) indexed by **signal dates**, which must be dates of the price index
  (an error names the first one that is not).  NaN means "no order for that
  ticker on that date"; rows that are all NaN are ignored.  Tickers of the
  prices that have no column in ``weights`` are not simulated.
* ``execution="next_open"`` (default): a target set on bar t's close trades at
  bar t+1's open.  ``"next_close"``: at bar t+1's close.  ``"close"``: at bar
  t's own close — only honest if the weights were known before that close
  (e.g. computed from the previous bars); otherwise it is look-ahead.  With a
  ``next_*`` mode a target dated on the last bar has no bar to trade on and is
  ignored.
* Order of events inside bar i: (1) interest and borrow accrue for the
  calendar days since bar i-1; (2) with ``next_open``, the execution point at
  the open; (3) stops, against the bar's open/high/low; (4) with ``close`` /
  ``next_close``, the execution point at the close; (5) positions of tickers
  that never trade again are closed at this (their last valid) close;
  (6) mark to market: equity = cash + sum(shares x close), exactly, with the
  last valid close for a ticker that has no price today; (7) the bankruptcy,
  margin and gross-cap checks, which act at the next execution point; (8) trailing
  references take the bar's high (longs) / low (shorts).
* An execution point does, in order: the close-out of a bankrupt account (and
  nothing else), else the rebalance of the target row executing there, then a
  pending margin cut, then a pending gross-cap cut.

Sizing and costs
----------------
* The portfolio is valued at the execution prices (positions without a price
  there at their last valid close): ``value = cash + sum(shares x price)``.
  Every target of the row is sized on this one pre-trade value:
  ``shares = weight x value / price`` (``integer_shares=True`` rounds toward
  zero).  The value is *not* updated for the costs of earlier orders in the
  same bar — the same as vectorbt's default ``update_value=False``.
* A ticker without a price at the execution point cannot trade: its target is
  held in cash, unless ``renormalize_unlisted=True``, which scales the
  tradeable targets of the row by ``sum|w| (row) / sum|w| (tradeable)``.
  ``max_gross`` then caps the row's tradeable ``sum|w|`` by scaling all its
  targets down proportionally (positions in tickers not named in the row are
  not part of the cap).
* ``max_gross`` also holds between rebalances: when gross exposure (sum of
  |position value|) exceeds ``max_gross x equity`` at a close by more than
  ``GROSS_TOLERANCE`` (prices drifted, shorts rallied), the next execution
  point — after its rebalance and margin cut, if any — trades every position
  with a price there by one common factor k so that, after the cut's fees and
  slippage, gross = ``max_gross x equity`` at the execution prices (the margin
  cut's formula with margin = 1 / max_gross).  Its orders have reason
  ``gross_cap`` and it records a ``gross_cap`` event (gross / equity before
  and after).
* Orders that reduce cash needs go first: every sell (long reductions and short
  sales), then the buys (long purchases and short covers) — vectorbt's
  ``call_seq="auto"``.  Buys may not take cash below ``min(0, planned cash)``,
  where planned cash is the value minus the target positions' value (what the
  targets leave before costs; negative for a leveraged long book).  When fees
  and slippage make the buys exceed that, all buys are scaled down by one
  common factor (status ``partial``); when nothing is left they are skipped
  (event ``order_rejected``).
* Fills: buys at ``price x (1 + slippage)``, sells at ``price x (1 - slippage)``;
  fees = ``fees x |size| x fill price + fixed_fees`` per order (vectorbt's
  convention: fees on the slipped notional).  Orders smaller than
  ``ORDER_SIZE_TOLERANCE`` of the position are round-off and skipped.

Shorts, interest, borrow
------------------------
* A short sale credits its proceeds to cash; the liability is marked to market
  at every close (losses are unbounded and equity can become negative: it is
  never clamped).  Cash may be negative (a leveraged long book).
* At bar i, for the calendar days d since bar i-1 (ACT/360,
  ``DAY_COUNT_BASIS``): cash earns ``cash x (cash_rate x d/360)`` when positive and
  pays ``cash x (cash_rate_negative x d/360)`` when negative (default: the same
  rate; the bracket is evaluated first); each short pays ``borrow_fee x |shares|
  x previous close x d/360``.
  Short-sale proceeds are cash, so they earn ``cash_rate`` too.
* A rate is a number or a dated Series of ACT/360 simple annual rates
  (fractions).  A Series is read as of each bar: the rate of bar i is its last
  observation on or before bar i's date, and the days from bar i-1 to bar i
  accrue at the rate of bar i-1 — the rate known when the interval starts, so
  a rate published on bar i never pays for the days before it (no
  look-ahead).  Bars before the series' first observation use its first value
  and bars well after its last (more than ``RATE_MAX_GAP_WEEKDAYS`` weekdays)
  its last value, with one :class:`~shortthehype.errors.DataWarning` naming the
  dates.  Series names (``"tbill"``, ``"DTB3"``) are resolved where the price
  source is known (:func:`shortthehype.backtest`; see
  :mod:`shortthehype.data.rates` for the bill-rate conversion).

Stops
-----
* Per position, from its average entry fill price (adds re-average it,
  reductions keep it): a long's stop is ``entry x (1 - stop_loss)``, its
  take-profit ``entry x (1 + take_profit)`` and its trailing stop
  ``best x (1 - trailing_stop)`` where best is the highest high since entry
  (starting at the entry price; a bar's high counts from the next bar on,
  because the order of high and low inside a bar is unknown).  Shorts mirror
  this with lows.  The tighter of stop-loss and trailing stop is the stop.
* Stops are checked on bars after the bar the position was opened (from flat
  or by reversal).  A level gapped through at the open fills at the open;
  otherwise a touched level fills at the level.  When the stop and the
  take-profit are both touched inside one bar, the stop wins (pessimistic).
  Slippage and fees apply.  After a stop the ticker stays flat until its next
  non-NaN target executes (a target executing later in the same bar counts).

Margin, bankruptcy, delisting
-----------------------------
* ``maintenance_margin=m``: when equity < m x gross exposure (sum of |position
  value|) at a close, a ``margin_call`` event is recorded and at the next
  execution point (after that point's rebalance) every position is cut by the
  same fraction k chosen so that, after the cut's fees and slippage, equity =
  m x gross at the execution prices (k = 0 when only closing everything
  helps).  This is a maintenance rule, not an initial-margin rule: use
  ``max_gross`` to cap what the targets ask for.
* When equity <= 0 at a close (or right after an execution at the open), a
  ``bankruptcy`` event is recorded; at the next execution point every position
  is closed (reason ``liquidation``) and the account stops trading: no more
  rebalances, stops, margin checks or accruals.  The equity curve keeps the
  true (possibly negative) value.
* A ticker whose prices end before the last bar is delisted: a position in it
  is closed at its last valid close, with slippage and fees (event
  ``delisting``).  A NaN inside a ticker's history is a halt: the position is
  kept and valued at the last valid close, but it cannot trade.
* Open, high and low that are NaN on a bar with a valid close are taken as the
  close; on a bar without a close the ticker does not trade at all.
* A price of 0 (a derived instrument that expired worthless, such as a put)
  can only be sold out of: a target of 0 fills at 0; any other target on it is
  held like a target on an unlisted ticker.

Options and other contracts
---------------------------
* ``target_units`` names tickers whose targets are **share counts**, not
  weights (an option position of N contracts x 100 shares): the target is the
  position to hold, as given; ``max_gross`` and ``renormalize_unlisted`` neither
  scale nor count it.  Buys are still limited by the cash available (status
  ``partial`` when scaled down).
* ``cash_settled`` names tickers whose last valid close is a **cash
  settlement** (an option's value at expiry, its intrinsic value): a position
  still held there is closed at that value without slippage or fees (reason
  and event ``settlement``), instead of the delisting rule.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from numbers import Real
from typing import Any

import numpy as np
import pandas as pd

from shortthehype.constants import DEFAULT_EXECUTION, DEFAULT_INIT_CASH, EXECUTION_MODES, MAX_COST_FRACTION, MAX_LEVERAGE, MIN_PRICE
from shortthehype.data.prices import Prices
from shortthehype.data.rates import rate_on_bars
from shortthehype.enums import (
    AP_BORROW_FEE,
    AP_FEES,
    AP_FIXED_FEES,
    AP_SLIPPAGE,
    AP_STOP_LOSS,
    AP_TAKE_PROFIT,
    AP_TRAILING_STOP,
    AP_SETTLES,
    AP_UNITS,
    N_ASSET_PARAMS,
)
from shortthehype.errors import DataError, DataWarning, ParamError, did_you_mean
from shortthehype.result import Result

__all__ = ["simulate", "SimulationInputs", "prepare_inputs"]

CostLike = float | Mapping[str, float]
RateLike = float | pd.Series


def simulate(
    prices: Prices | pd.DataFrame,
    weights: pd.DataFrame,
    *,
    init_cash: float = DEFAULT_INIT_CASH,
    fees: CostLike = 0.0,
    fixed_fees: CostLike = 0.0,
    slippage: CostLike = 0.0,
    execution: str = DEFAULT_EXECUTION,
    borrow_fee: CostLike = 0.0,
    cash_rate: RateLike = 0.0,
    cash_rate_negative: RateLike | None = None,
    max_gross: float | None = None,
    maintenance_margin: float | None = None,
    stop_loss: CostLike | None = None,
    take_profit: CostLike | None = None,
    trailing_stop: CostLike | None = None,
    integer_shares: bool = False,
    renormalize_unlisted: bool = False,
    target_units: Sequence[str] = (),
    cash_settled: Sequence[str] = (),
) -> Result:
    """Simulate a portfolio that trades to target weights; see the module docstring for the rules.

    Parameters
    ----------
    prices : Prices or DataFrame
        Daily OHLC prices (:class:`shortthehype.Prices`), or a DataFrame of
        closes (then open = high = low = close).  NaN = not trading.
    weights : DataFrame
        Target weights, rows = signal dates (must be dates of ``prices``),
        columns = tickers of ``prices``; NaN = no order; negative = short.
    init_cash : float
        Starting cash, > 0.
    fees, fixed_fees, slippage, borrow_fee : float or mapping ticker -> float
        Proportional fee on the fill notional, fixed fee per order (currency),
        slippage fraction (< 1) and annual borrow fee on short value.  A
        mapping names tickers of ``weights``; tickers it leaves out pay 0.
    execution : {"next_open", "next_close", "close"}
        When a target set on bar t trades (``close`` is look-ahead-prone).
    cash_rate, cash_rate_negative : float or Series
        Annual interest on positive / negative cash, ACT/360 simple, as a
        number or a dated Series read as of each bar
        (``cash_rate_negative=None`` uses ``cash_rate``).
    max_gross : float, optional
        Cap on gross exposure / equity (> 0): targets of a row above it are
        scaled down proportionally, and a close above it is traded back to it
        at the next execution point.
    maintenance_margin : float, optional
        In (0, 1]: positions are cut when equity < this x gross exposure at a close.
    stop_loss, take_profit, trailing_stop : float or mapping, optional
        Fractions (> 0) from the average entry price (best price for
        trailing); a mapping sets them per ticker (others have none).
    integer_shares : bool
        Round target shares toward zero.
    renormalize_unlisted : bool
        Spread the targets of tickers without a price over the tradeable ones
        instead of holding them in cash.
    target_units : sequence of str
        Tickers of ``weights`` whose targets are share counts (see the module docstring).
    cash_settled : sequence of str
        Tickers of ``weights`` whose last valid close is a cash settlement.

    Returns
    -------
    Result
        Equity, cash, positions, orders, trades, events and costs on the
        price dates, for the tickers of ``weights``.

    Raises
    ------
    ParamError
        A parameter is out of range or names an unknown ticker (one line
        naming it).
    DataError
        ``weights`` is not a DataFrame of the price dates and tickers, or holds
        infinite weights.

    Notes
    -----
    Edge cases: a weights row dated on the last bar never trades with a
    ``next_*`` execution; targets for a ticker without a price at execution
    stay in cash; equity can go negative (shorts that gap up) and is never
    clamped; after bankruptcy the account is frozen.
    """
    inputs = prepare_inputs(
        prices,
        weights,
        init_cash=init_cash,
        fees=fees,
        fixed_fees=fixed_fees,
        slippage=slippage,
        execution=execution,
        borrow_fee=borrow_fee,
        cash_rate=cash_rate,
        cash_rate_negative=cash_rate_negative,
        max_gross=max_gross,
        maintenance_margin=maintenance_margin,
        stop_loss=stop_loss,
        take_profit=take_profit,
        trailing_stop=trailing_stop,
        integer_shares=integer_shares,
        renormalize_unlisted=renormalize_unlisted,
        target_units=target_units,
        cash_settled=cash_settled,
    )
    return inputs.run()


class SimulationInputs:
    """Validated kernel inputs: plain arrays plus the dates and tickers to put back on the outputs.

    A parameter sweep can build one of these and call the kernel itself with
    other ``row_w`` / ``asset_params`` arrays.
    """

    def __init__(self, **fields: Any) -> None:
        self.__dict__.update(fields)

    @property
    def terms(self) -> Any:
        """The account's terms as the kernels take them (:class:`~shortthehype.core.simulate_nb.AccountTerms`)."""
        from shortthehype.core.simulate_nb import account_terms

        return account_terms(
            self.init_cash, self.cash_rate, self.cash_rate_negative, self.max_gross, self.maintenance_margin,
            self.exec_at_open, self.integer_shares, self.renormalize, n_bars=len(self.index),
        )

    def run(self) -> Result:
        """Run the kernel on these inputs and wrap the outputs in a :class:`Result`."""
        from shortthehype.core.simulate_nb import simulate_arrays

        equity, cash, positions, costs, orders, trades, events, totals, status = simulate_arrays(
            self.open, self.high, self.low, self.close, self.days, self.row_bar, self.row_w, self.asset_params,
            self.terms, record=True,
        )
        return Result(
            index=self.index,
            tickers=self.tickers,
            close=self.close,
            equity=equity,
            cash=cash,
            positions=positions,
            cumulative_costs=costs,
            order_records=orders,
            trade_records=trades,
            event_records=events,
            totals=totals,
            status=status,
            init_cash=self.init_cash,
            execution=self.execution,
        )


def prepare_inputs(
    prices: Prices | pd.DataFrame,
    weights: pd.DataFrame,
    *,
    init_cash: float = DEFAULT_INIT_CASH,
    fees: CostLike = 0.0,
    fixed_fees: CostLike = 0.0,
    slippage: CostLike = 0.0,
    execution: str = DEFAULT_EXECUTION,
    borrow_fee: CostLike = 0.0,
    cash_rate: RateLike = 0.0,
    cash_rate_negative: RateLike | None = None,
    max_gross: float | None = None,
    maintenance_margin: float | None = None,
    stop_loss: CostLike | None = None,
    take_profit: CostLike | None = None,
    trailing_stop: CostLike | None = None,
    integer_shares: bool = False,
    renormalize_unlisted: bool = False,
    target_units: Sequence[str] = (),
    cash_settled: Sequence[str] = (),
) -> SimulationInputs:
    """Validate :func:`simulate`'s arguments and convert them to kernel arrays (same parameters)."""
    if isinstance(prices, pd.DataFrame):
        prices = Prices.from_close(prices)
    if not isinstance(prices, Prices):
        raise DataError(f"prices must be a shortthehype.Prices or a DataFrame of closes, got {type(prices).__name__}")
    if len(prices) == 0:
        raise DataError("prices have no rows: nothing to simulate")
    mode = _check_execution(execution)
    init_cash_f = _number("init_cash", init_cash)
    if not init_cash_f > 0:
        raise ParamError(f"parameter 'init_cash' must be > 0, got {init_cash_f:g}")
    gross_cap = math.inf
    if max_gross is not None:
        gross_cap = _number("max_gross", max_gross)
        if not gross_cap > 0:
            raise ParamError(f"parameter 'max_gross' must be > 0, got {gross_cap:g}")
    margin = 0.0
    if maintenance_margin is not None:
        margin = _number("maintenance_margin", maintenance_margin)
        if not 0.0 < margin <= 1.0:
            raise ParamError(f"parameter 'maintenance_margin' must be in (0, 1], got {margin:g}")

    tickers = _check_weight_columns(weights, prices)
    index = prices.index
    rate = _rate_per_bar("cash_rate", cash_rate, index)
    rate_negative = rate if cash_rate_negative is None else _rate_per_bar("cash_rate_negative", cash_rate_negative, index)
    columns = np.asarray([prices.tickers.index(t) for t in tickers], dtype=np.int64)
    close = _frame_array(prices.close, columns)
    open_, high, low = (_frame_array(getattr(prices, name), columns) for name in ("open", "high", "low"))
    for name, arr in (("close", close), ("open", open_), ("high", high), ("low", low)):
        _check_price_array(name, arr, tickers, index)
    trading = np.isfinite(close)
    for arr in (open_, high, low):
        arr[:] = np.where(trading, np.where(np.isfinite(arr), arr, close), np.nan)

    units = _ticker_flags("target_units", target_units, tickers)
    row_bar, row_w = _target_rows(weights, tickers, index, mode, units)
    ap = np.zeros((N_ASSET_PARAMS, len(tickers)))
    ap[AP_FEES] = _per_ticker("fees", fees, tickers, default=0.0, minimum=0.0, at_most=MAX_COST_FRACTION)
    ap[AP_FIXED_FEES] = _per_ticker("fixed_fees", fixed_fees, tickers, default=0.0, minimum=0.0)
    ap[AP_SLIPPAGE] = _per_ticker("slippage", slippage, tickers, default=0.0, minimum=0.0, at_most=MAX_COST_FRACTION)
    ap[AP_BORROW_FEE] = _per_ticker("borrow_fee", borrow_fee, tickers, default=0.0, minimum=0.0)
    for row, name, value in (
        (AP_STOP_LOSS, "stop_loss", stop_loss),
        (AP_TAKE_PROFIT, "take_profit", take_profit),
        (AP_TRAILING_STOP, "trailing_stop", trailing_stop),
    ):
        ap[row] = _per_ticker(name, value, tickers, default=np.nan, minimum=0.0, exclusive=True)
    ap[AP_UNITS] = units
    ap[AP_SETTLES] = _ticker_flags("cash_settled", cash_settled, tickers)

    local = index.tz_localize(None) if index.tz is not None else index  # calendar days in the index's own zone
    calendar_days = local.to_numpy().astype("datetime64[D]")  # a unit conversion: works at any resolution
    days = np.zeros(len(index))
    days[1:] = np.diff(calendar_days).astype(np.float64)

    return SimulationInputs(
        index=pd.DatetimeIndex(index),
        tickers=tickers,
        open=open_,
        high=high,
        low=low,
        close=close,
        days=days,
        row_bar=row_bar,
        row_w=row_w,
        asset_params=ap,
        init_cash=init_cash_f,
        cash_rate=rate,
        cash_rate_negative=rate_negative,
        max_gross=gross_cap,
        maintenance_margin=margin,
        execution=mode,
        exec_at_open=mode == "next_open",
        integer_shares=_flag("integer_shares", integer_shares),
        renormalize=_flag("renormalize_unlisted", renormalize_unlisted),
    )


# ---- validation helpers -------------------------------------------------------------------


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (Real, np.floating, np.integer)):
        raise ParamError(f"parameter {name!r} must be a number, got {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise ParamError(f"parameter {name!r} must be finite, got {number}")
    return number


def _rate_per_bar(name: str, value: Any, index: pd.DatetimeIndex) -> np.ndarray:
    """A rate setting as one ACT/360 rate per bar (a Series read as of each bar, warning when it falls short)."""
    if isinstance(value, pd.Series):
        per_bar, notes = rate_on_bars(value, index, name)
        for note in notes:
            warnings.warn(note, DataWarning, stacklevel=4)
        return per_bar
    if isinstance(value, str):
        raise ParamError(
            f"parameter {name!r} is the series name {value!r}: simulate() takes a number or a dated Series "
            "(backtest() resolves names; shortthehype.load_rate loads one)"
        )
    return np.full(len(index), _number(name, value))


def _flag(name: str, value: Any) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise ParamError(f"parameter {name!r} must be true or false, got {value!r}")
    return bool(value)


def _check_execution(execution: Any) -> str:
    if not isinstance(execution, str) or execution not in EXECUTION_MODES:
        hint = did_you_mean(str(execution), EXECUTION_MODES)
        raise ParamError(
            f"parameter 'execution' is {execution!r}{hint}; expected one of {', '.join(EXECUTION_MODES)}"
        )
    return execution


def _check_weight_columns(weights: Any, prices: Prices) -> list[str]:
    if not isinstance(weights, pd.DataFrame):
        raise DataError(
            f"weights must be a DataFrame (rows = dates, columns = tickers), got {type(weights).__name__}"
        )
    if weights.shape[1] == 0:
        raise DataError("weights has no columns: name at least one ticker")
    columns = [str(c) for c in weights.columns.tolist()]
    duplicated = sorted({c for c in columns if columns.count(c) > 1})
    if duplicated:
        raise DataError(f"weights has duplicate column(s) {', '.join(duplicated)}")
    known = prices.tickers
    for ticker in columns:
        if ticker not in known:
            raise DataError(
                f"weights column {ticker!r} is not a ticker of the prices{did_you_mean(ticker, known)} "
                f"(prices have {', '.join(known)})"
            )
    return columns


def _frame_array(frame: pd.DataFrame, columns: np.ndarray) -> np.ndarray:
    # fancy indexing makes a fresh, writable, C-ordered copy (pandas 3 may hand out read-only views)
    return np.ascontiguousarray(frame.to_numpy(dtype=np.float64)[:, columns])


def _target_rows(
    weights: pd.DataFrame, tickers: list[str], index: pd.DatetimeIndex, mode: str, units: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Execution bar and weights of every row that has at least one target (``units``: share-count columns)."""
    if not isinstance(weights.index, pd.DatetimeIndex):
        raise DataError(f"weights must be indexed by dates (a DatetimeIndex), got {type(weights.index).__name__}")
    if not weights.index.is_unique:
        first = weights.index[weights.index.duplicated()][0]
        raise DataError(f"weights has duplicate date {first:%Y-%m-%d}: one row per date")
    try:
        values = np.ascontiguousarray(weights.to_numpy(dtype=np.float64))
    except (TypeError, ValueError):
        raise DataError("weights must hold numbers (NaN = no order)") from None
    infinite = np.isinf(values)
    if infinite.any():
        i, j = np.argwhere(infinite)[0]
        raise DataError(
            f"weights for {tickers[j]} on {weights.index[i]:%Y-%m-%d} is {values[i, j]}: weights must be finite (NaN = no order)"
        )
    weight_columns = values if units is None else values[:, units != 1.0]  # share counts are not leverage
    gross = np.nansum(np.abs(weight_columns), axis=1) if weight_columns.size else np.zeros(len(values))
    if (gross > MAX_LEVERAGE).any():
        i = int(np.argmax(gross > MAX_LEVERAGE))
        raise ParamError(
            f"weights on {weights.index[i]:%Y-%m-%d} ask for gross leverage {gross[i]:g} x equity "
            f"(sum of |weights|); at most {MAX_LEVERAGE:g} is accepted"
        )
    positions = np.arange(len(index)) if weights.index.equals(index) else index.get_indexer(weights.index)
    missing = positions < 0
    if missing.any():
        first = weights.index[missing][0]
        if first > index[-1]:
            raise DataError(
                f"weights row dated {first:%Y-%m-%d} is after the last price bar {index[-1]:%Y-%m-%d}"
            )
        raise DataError(
            f"weights row dated {first:%Y-%m-%d} is not a date of the prices "
            f"({int(missing.sum())} such row(s)); date targets on trading days"
        )
    keep = ~np.isnan(values).all(axis=1)
    order = np.argsort(positions[keep], kind="stable")
    bars = positions[keep][order].astype(np.int64)
    rows = values[keep][order]
    if mode != "close":
        bars = bars + 1
        inside = bars < len(index)
        bars, rows = bars[inside], rows[inside]
    return np.ascontiguousarray(bars), np.ascontiguousarray(rows)


def _per_ticker(
    name: str,
    value: Any,
    tickers: list[str],
    *,
    default: float,
    minimum: float,
    exclusive: bool = False,
    below: float | None = None,
    at_most: float | None = None,
) -> np.ndarray:
    """A per-ticker array from a scalar or a ticker -> value mapping (unnamed tickers get ``default``)."""
    out = np.full(len(tickers), default, dtype=np.float64)
    if value is None:
        return out
    if isinstance(value, Mapping):
        for key, item in value.items():
            ticker = str(key)
            if ticker not in tickers:
                raise ParamError(
                    f"parameter {name!r} names ticker {ticker!r}, which is not simulated{did_you_mean(ticker, tickers)}"
                    f" (tickers: {', '.join(tickers)})"
                )
            out[tickers.index(ticker)] = _check_range(f"{name}[{ticker}]", item, minimum, exclusive, below, at_most)
        return out
    out[:] = _check_range(name, value, minimum, exclusive, below, at_most)
    return out


def _ticker_flags(name: str, value: Any, tickers: list[str]) -> np.ndarray:
    """1.0 for the tickers named in ``value`` (a sequence of tickers of ``weights``), 0.0 elsewhere."""
    if isinstance(value, str) or not isinstance(value, (Sequence, set, frozenset, np.ndarray)):
        raise ParamError(f"parameter {name!r} must be a list of tickers, got {value!r}")
    out = np.zeros(len(tickers), dtype=np.float64)
    for item in value:
        ticker = str(item)
        if ticker not in tickers:
            raise ParamError(
                f"parameter {name!r} names ticker {ticker!r}, which is not simulated{did_you_mean(ticker, tickers)}"
                f" (tickers: {', '.join(tickers)})"
            )
        out[tickers.index(ticker)] = 1.0
    return out


def _check_price_array(name: str, values: np.ndarray, tickers: list[str], index: pd.DatetimeIndex) -> None:
    """Prices are NaN (no trading), 0 (a worthless derived instrument) or finite and >= MIN_PRICE; anything else
    (negative, infinite, denormal) is refused naming ticker and date."""
    bad = ~np.isnan(values) & ~(np.isfinite(values) & ((values == 0.0) | (values >= MIN_PRICE)))
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise DataError(
            f"{name} price of {tickers[j]} on {index[i]:%Y-%m-%d} is {values[i, j]:g}: prices must be 0 or finite and "
            f">= {MIN_PRICE:g} (NaN = not trading)"
        )


def _check_range(
    name: str, value: Any, minimum: float, exclusive: bool, below: float | None, at_most: float | None = None
) -> float:
    number = _number(name, value)
    if exclusive and not number > minimum:
        raise ParamError(f"parameter {name!r} must be > {minimum:g}, got {number:g}")
    if not exclusive and number < minimum:
        raise ParamError(f"parameter {name!r} must be >= {minimum:g}, got {number:g}")
    if below is not None and not number < below:
        raise ParamError(f"parameter {name!r} must be < {below:g}, got {number:g}")
    if at_most is not None and number > at_most:
        raise ParamError(f"parameter {name!r} must be <= {at_most:g}, got {number:g}")
    return number
