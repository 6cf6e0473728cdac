"""Integer enums and record dtypes shared by the simulation kernel and the pandas layer.

The enums are :class:`enum.IntEnum` so that numba compiles their members as
integer constants inside kernels, while the pandas layer can turn a stored
code back into a readable name (``Reason(3).label`` → ``"take_profit"``).

The record dtypes are the row layouts of the structured arrays the kernel
fills: one order per fill, one trade per round trip, one event per notable
account-level or position-level happening.  Bars and assets are integer
indices into the simulated price matrix; the :class:`shortthehype.Result`
attaches dates and tickers.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np


class _Labelled(IntEnum):
    @property
    def label(self) -> str:
        """The lower-case name used in DataFrames (``Reason.STOP_LOSS.label == "stop_loss"``)."""
        return self.name.lower()


class Side(_Labelled):
    """Direction of a fill."""

    BUY = 0
    SELL = 1


class Reason(_Labelled):
    """Why an order was sent."""

    REBALANCE = 0
    STOP_LOSS = 1
    TAKE_PROFIT = 2
    TRAILING_STOP = 3
    MARGIN_CALL = 4
    LIQUIDATION = 5
    DELISTING = 6
    #: Every position cut by one common factor to bring gross exposure back to max_gross.
    GROSS_CAP = 7
    #: A cash-settled instrument (an option) closed at its settlement value on its last bar, without costs.
    SETTLEMENT = 8


class OrderStatus(_Labelled):
    """Fill status of a recorded order (only fills are recorded)."""

    FILLED = 0
    #: A rebalance buy scaled down because cash (after fees) could not cover it in full.
    PARTIAL = 1


class Direction(_Labelled):
    """Direction of a trade (round trip)."""

    LONG = 0
    SHORT = 1


class TradeStatus(_Labelled):
    """Whether a trade was closed during the simulation or is still open at the last bar."""

    CLOSED = 0
    OPEN = 1


class EventKind(_Labelled):
    """Kind of a recorded event; the meaning of ``value_a``/``value_b`` is given per kind."""

    #: Equity below maintenance_margin x gross at a close. a = equity, b = requirement.
    MARGIN_CALL = 0
    #: All positions closed after a bankruptcy. a = equity after the close-out, b = number of orders.
    LIQUIDATION = 1
    #: A stop-loss fill. a = stop level, b = fill price before slippage (the open on a gap).
    STOP_LOSS = 2
    #: A take-profit fill. a = take-profit level, b = fill price before slippage.
    TAKE_PROFIT = 3
    #: A trailing-stop fill. a = trailing level, b = fill price before slippage.
    TRAILING_STOP = 4
    #: Equity <= 0 at a close or after an execution. a = equity, b = gross exposure (value).
    BANKRUPTCY = 5
    #: A position closed at the last valid close of a ticker that stops trading. a = price, b = shares closed.
    DELISTING = 6
    #: Rebalance buys skipped: no cash left after sells and fees. a = cash available, b = cash needed.
    ORDER_REJECTED = 7
    #: Positions cut by a margin call. a = equity after the cut, b = gross exposure (value) after the cut.
    MARGIN_CUT = 8
    #: Positions cut back to max_gross after a close above it. a = gross / equity before the cut, b = after.
    GROSS_CAP = 9
    #: A cash-settled instrument (an option at expiry) closed at its settlement value. a = value per share, b = shares.
    SETTLEMENT = 10


class SimStatus(_Labelled):
    """Final status of a simulation run."""

    OK = 0
    #: Equity reached zero or below; the account was closed out and stopped trading.
    BANKRUPT = 1


#: One row per fill.  ``size`` is positive (the side says which way); ``price`` is the
#: fill price after slippage; ``fees`` include fixed fees; ``slippage`` is the cost of
#: slippage in currency (``size * |fill price - execution price|``).
order_dt = np.dtype(
    [
        ("bar", np.int64),
        ("asset", np.int64),
        ("side", np.int64),
        ("size", np.float64),
        ("price", np.float64),
        ("fees", np.float64),
        ("slippage", np.float64),
        ("reason", np.int64),
        ("status", np.int64),
    ],
    align=True,
)

#: One row per round trip: from the fill that opens a position (from flat, or by
#: reversing) to the fill that flattens it.  ``size`` is the total quantity entered,
#: ``entry_price``/``exit_price`` are quantity-weighted average fill prices over all
#: entering/exiting fills; ``pnl`` is net of fees and borrow; ``ret`` = pnl / entry
#: notional.  Open trades are valued at the last valid close (``exit_bar`` = last bar).
trade_dt = np.dtype(
    [
        ("asset", np.int64),
        ("direction", np.int64),
        ("entry_bar", np.int64),
        ("exit_bar", np.int64),
        ("size", np.float64),
        ("entry_price", np.float64),
        ("exit_price", np.float64),
        ("pnl", np.float64),
        ("ret", np.float64),
        ("fees", np.float64),
        ("borrow", np.float64),
        ("status", np.int64),
    ],
    align=True,
)

#: One row per event; ``asset`` is -1 for account-level events.
event_dt = np.dtype(
    [
        ("bar", np.int64),
        ("kind", np.int64),
        ("asset", np.int64),
        ("value_a", np.float64),
        ("value_b", np.float64),
    ],
    align=True,
)

#: Indices of the per-asset parameter matrix ``asset_params`` (shape ``(N_ASSET_PARAMS, n_assets)``).
AP_FEES = 0
AP_FIXED_FEES = 1
AP_SLIPPAGE = 2
AP_BORROW_FEE = 3
AP_STOP_LOSS = 4
AP_TAKE_PROFIT = 5
AP_TRAILING_STOP = 6
#: 1.0 when the asset's targets are share counts (an option position of N contracts), 0.0 for weights.
AP_UNITS = 7
#: 1.0 when the asset's last valid close is a cash settlement (an option at expiry): closed there without costs.
AP_SETTLES = 8
N_ASSET_PARAMS = 9

#: Indices of the kernel's running totals (returned as a float64 array of length N_TOTALS).
TOT_FEES = 0
TOT_SLIPPAGE = 1
TOT_BORROW = 2
#: Net interest paid on cash (negative when interest was earned).
TOT_INTEREST = 3
N_TOTALS = 4

__all__ = [
    "AP_BORROW_FEE",
    "AP_FEES",
    "AP_FIXED_FEES",
    "AP_SLIPPAGE",
    "AP_STOP_LOSS",
    "AP_TAKE_PROFIT",
    "AP_TRAILING_STOP",
    "AP_UNITS",
    "AP_SETTLES",
    "N_ASSET_PARAMS",
    "N_TOTALS",
    "TOT_BORROW",
    "TOT_FEES",
    "TOT_INTEREST",
    "TOT_SLIPPAGE",
    "Direction",
    "EventKind",
    "OrderStatus",
    "Reason",
    "Side",
    "SimStatus",
    "TradeStatus",
    "event_dt",
    "order_dt",
    "trade_dt",
]
