"""The option contracts of a backtest report: a contracts table and the positions' value over time.

Built from the document's ``options`` records (one per contract, see
:func:`shortthehype.option_pricing.contract_records`) and ``option_values`` (the
value of each option instrument's position at each close); a document
without them has no such section.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from shortthehype.errors import DataError
from shortthehype.report import formatting as fmt

__all__ = ["OPTION_COLUMNS", "OPTIONS_EXPLANATION", "option_records", "option_values"]

#: Contracts table columns: record key, heading, formatter ("date" = an ISO date), numeric.
OPTION_COLUMNS = (
    ("contract", "Contract", None, False),
    ("symbol", "Instrument", None, False),
    ("strike", "Strike", fmt.price, True),
    ("expiry", "Expiry", "date", False),
    ("contracts", "Contracts", fmt.quantity, True),
    ("entry_date", "Entry", "date", False),
    ("entry_price", "Paid / share", fmt.price, True),
    ("premium", "Premium", fmt.money, True),
    ("exit_date", "Exit", "date", False),
    ("exit_price", "Value / share", fmt.price, True),
    ("status", "Status", None, False),
    ("pnl", "P&L", fmt.money, True),
    ("pnl_multiple", "P&L / premium", fmt.multiple, True),
    ("delta", "Delta at entry", fmt.signed, True),
    ("delta_exposure", "Delta exposure", fmt.percent, True),
)

OPTIONS_EXPLANATION = (
    "Paid and value per share are after slippage; premium = shares x price paid (fees excluded); P&L is net of fees, "
    "an open contract at its last model price; P&L / premium of -1 is the whole premium lost. Delta exposure = delta "
    "x shares x underlying price / equity at the entry. Prices are model prices (Black-Scholes with a volatility "
    "skew), not quotes."
)


def option_records(document: Mapping[str, Any], where: str) -> pd.DataFrame | None:
    """The document's option contracts as a table (None when it has none)."""
    records = document.get("options")
    if not records:
        return None
    if not isinstance(records, list) or not all(isinstance(r, Mapping) for r in records):
        raise DataError(f"{where}: options must be a list of objects")
    frame = pd.DataFrame(list(records))
    if {"ticker", "type"} <= set(frame.columns):
        frame["contract"] = frame["ticker"].astype(str) + " " + frame["type"].astype(str)
    return frame


def option_values(document: Mapping[str, Any], dates: Sequence[Any], where: str) -> dict[str, list[float | None]]:
    """Per-bar value of each option instrument's position, aligned with the equity's dates."""
    values = document.get("option_values") or {}
    if not isinstance(values, Mapping):
        raise DataError(f"{where}: option_values must be an object of per-bar lists")
    for name, series in values.items():
        if not isinstance(series, list) or len(series) != len(dates):
            raise DataError(f"{where}: option_values.{name} must be a list as long as equity.dates")
    return dict(values)
