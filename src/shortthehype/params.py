"""Typed parameters: one schema for spec files, ``--set`` overrides and sweeps.

A :class:`Param` knows its type, default, unit, bounds and documentation, and
turns a TOML value or a command-line string into a checked Python value.  The
engine's options (costs, execution, limits) are declared here once as
:data:`ENGINE_PARAMS`; each strategy kind declares its own parameters the
same way, so the spec loader, the CLI and the docs read one source of truth.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from shortthehype.constants import DEFAULT_INIT_CASH, MAX_COST_FRACTION
from shortthehype.errors import ParamError, did_you_mean

#: Parameter types understood by :class:`Param`.
PARAM_TYPES = (
    "float",  # a real number
    "int",  # an integer
    "bool",  # true/false
    "str",  # free text
    "choice",  # one of ``choices``
    "date",  # an ISO date, stored as pandas.Timestamp
    "ticker",  # one ticker symbol, stored upper-case
    "tickers",  # a list of ticker symbols
    "weights",  # mapping ticker -> float (negative = short)
    "float_or_map",  # a float, or a mapping ticker -> float (per-ticker costs)
)

_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


@dataclass(frozen=True)
class Param:
    """One named, typed, documented parameter.

    ``optional=True`` allows the value ``None`` (written ``"none"`` on the
    command line); bounds apply to numbers and to every value of a mapping.
    """

    name: str
    type: str
    default: Any
    doc: str
    unit: str = ""
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    optional: bool = False

    def __post_init__(self) -> None:
        if self.type not in PARAM_TYPES:
            raise ValueError(f"parameter {self.name!r} has unknown type {self.type!r}")
        if self.type == "choice" and not self.choices:
            raise ValueError(f"choice parameter {self.name!r} needs choices")

    def coerce(self, value: Any, *, where: str = "") -> Any:
        """Return ``value`` converted to this parameter's type, or raise a one-line ParamError."""
        prefix = f"{where}: " if where else ""
        if value is None or (isinstance(value, str) and value.strip().lower() in {"none", "null", ""}):
            if self.optional:
                return None
            raise ParamError(f"{prefix}parameter {self.name!r} needs a value ({self.describe_type()})")
        try:
            converted = _CONVERTERS[self.type](self, value)
        except (TypeError, ValueError) as exc:
            raise ParamError(
                f"{prefix}parameter {self.name!r}: {value!r} is not {self.describe_type()} ({exc})"
            ) from None
        self._check_bounds(converted, prefix)
        return converted

    def describe_type(self) -> str:
        if self.type == "choice":
            return "one of " + ", ".join(self.choices)
        return {
            "float": "a number",
            "int": "an integer",
            "bool": "true or false",
            "str": "text",
            "date": "a date YYYY-MM-DD",
            "ticker": "a ticker symbol",
            "tickers": "a list of tickers (A,B,C)",
            "weights": "a mapping ticker:weight (A:0.5,B:-0.3)",
            "float_or_map": "a number or a mapping ticker:number (A:0.01,B:0.02)",
        }[self.type]

    def _check_bounds(self, value: Any, prefix: str) -> None:
        if self.type not in ("float", "int", "float_or_map", "weights"):
            return
        values = value.values() if isinstance(value, Mapping) else [value]
        for item in values:
            if self.minimum is not None:
                too_small = item <= self.minimum if self.exclusive_minimum else item < self.minimum
                if too_small:
                    relation = ">" if self.exclusive_minimum else ">="
                    raise ParamError(f"{prefix}parameter {self.name!r} must be {relation} {self.minimum:g}, got {item:g}")
            if self.maximum is not None and item > self.maximum:
                raise ParamError(f"{prefix}parameter {self.name!r} must be <= {self.maximum:g}, got {item:g}")


def _to_float(param: Param, value: Any) -> float:
    if isinstance(value, bool):
        raise TypeError("a boolean is not a number")
    number = float(value)
    if number != number or number in (float("inf"), float("-inf")):
        raise ValueError("not finite")
    return number


#: Largest magnitude of an integer parameter (beyond it no count of bars or days can be meant).
_MAX_INT = 2**53


def _to_int(param: Param, value: Any) -> int:
    if isinstance(value, bool):
        raise TypeError("a boolean is not an integer")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError("has a fractional part")
        number = int(value)
    else:
        number = int(str(value).strip())
    if abs(number) > _MAX_INT:
        raise ValueError(f"too large (at most {_MAX_INT:,} in magnitude)")
    return number


def _to_bool(param: Param, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError("expected true or false")


def _to_str(param: Param, value: Any) -> str:
    if not isinstance(value, (str, int, float)):
        raise TypeError(f"got {type(value).__name__}")
    return str(value)


def _to_choice(param: Param, value: Any) -> str:
    text = str(value).strip().lower()
    if text not in param.choices:
        hint = did_you_mean(text, param.choices)
        raise ValueError("unknown choice" + hint)
    return text


def _to_date(param: Param, value: Any) -> pd.Timestamp:
    if isinstance(value, (dt.date, dt.datetime, pd.Timestamp)):
        day = pd.Timestamp(value)
        if day.tzinfo is not None:  # a TOML offset date-time: its calendar date where it was written
            day = day.tz_localize(None)
        return day.normalize()
    text = str(value).strip()
    try:
        return pd.Timestamp(dt.date.fromisoformat(text))
    except ValueError:
        raise ValueError("expected YYYY-MM-DD") from None


def _to_ticker(param: Param, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise TypeError("expected a ticker symbol")
    return value.strip().upper()


def _to_tickers(param: Param, value: Any) -> list[str]:
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)):
        raise TypeError("expected a list")
    tickers = [_to_ticker(param, item) for item in items if not (isinstance(item, str) and not item.strip())]
    if not tickers:
        raise ValueError("the list is empty")
    duplicates = sorted({t for t in tickers if tickers.count(t) > 1})
    if duplicates:
        raise ValueError(f"duplicate ticker(s) {', '.join(duplicates)}")
    return tickers


def _parse_mapping(value: Any) -> dict[str, Any]:
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, str):
        mapping: dict[str, Any] = {}
        for item in value.split(","):
            if not item.strip():
                continue
            key, sep, number = item.partition(":")
            if not sep:
                key, sep, number = item.partition("=")
            if not sep:
                raise ValueError(f"item {item.strip()!r} is not TICKER:VALUE")
            mapping[key] = number
        return mapping
    raise TypeError(f"got {type(value).__name__}")


def _to_weights(param: Param, value: Any) -> dict[str, float]:
    mapping = _parse_mapping(value)
    if not mapping:
        raise ValueError("the mapping is empty")
    result: dict[str, float] = {}
    for key, number in mapping.items():
        ticker = _to_ticker(param, key)
        if ticker in result:
            raise ValueError(f"ticker {ticker} appears twice")
        result[ticker] = _to_float(param, number)
    return result


def _to_float_or_map(param: Param, value: Any) -> float | dict[str, float]:
    if isinstance(value, Mapping) or (isinstance(value, str) and (":" in value or "=" in value)):
        return _to_weights(param, value)
    return _to_float(param, value)


_CONVERTERS = {
    "float": _to_float,
    "int": _to_int,
    "bool": _to_bool,
    "str": _to_str,
    "choice": _to_choice,
    "date": _to_date,
    "ticker": _to_ticker,
    "tickers": _to_tickers,
    "weights": _to_weights,
    "float_or_map": _to_float_or_map,
}


def format_value(value: Any) -> str:
    """Render a parameter value the way a user would type it."""
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, Mapping):
        return ",".join(f"{k}:{format_value(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ",".join(format_value(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    if value is None:
        return "none"
    return str(value)


def json_value(value: Any) -> Any:
    """A JSON-serialisable form of a parameter value (dates as ISO strings)."""
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, Mapping):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_value(v) for v in value]
    return value


#: Options of :func:`shortthehype.simulate` that every spec may set in its
#: ``[engine]`` table or with ``--set``.
ENGINE_PARAMS: tuple[Param, ...] = (
    Param("init_cash", "float", DEFAULT_INIT_CASH, "Starting capital.", "currency", minimum=0.0, exclusive_minimum=True),
    Param("fees", "float_or_map", 0.0, "Proportional fee on traded notional (0.001 = 10 bp; at most 0.5).", "fraction", minimum=0.0, maximum=MAX_COST_FRACTION),
    Param("fixed_fees", "float_or_map", 0.0, "Fixed fee per order.", "currency", minimum=0.0),
    Param("slippage", "float_or_map", 0.0, "Fill price moved against the trader by this fraction (at most 0.5).", "fraction", minimum=0.0, maximum=MAX_COST_FRACTION),
    Param(
        "execution",
        "choice",
        "next_open",
        "When a target set on bar t trades: next_open (t+1 open), next_close (t+1 close), close (t close; look-ahead-prone).",
        choices=("next_open", "next_close", "close"),
    ),
    Param("borrow_fee", "float_or_map", 0.0, "Annual fee on short market value, accrued daily ACT/360.", "fraction/yr", minimum=0.0),
    Param("cash_rate", "float", 0.0, "Annual interest on positive cash, ACT/360.", "fraction/yr"),
    Param("cash_rate_negative", "float", None, "Annual interest on a negative cash balance (default: cash_rate).", "fraction/yr", optional=True),
    Param("max_gross", "float", None, "Cap on gross exposure sum(|w|); targets above it are scaled down.", "x equity", minimum=0.0, exclusive_minimum=True, optional=True),
    Param(
        "maintenance_margin",
        "float",
        None,
        "Positions are cut when equity < this x gross exposure at a close.",
        "fraction",
        minimum=0.0,
        maximum=1.0,
        exclusive_minimum=True,
        optional=True,
    ),
    Param("stop_loss", "float_or_map", None, "Close a position this fraction against its entry price.", "fraction", minimum=0.0, exclusive_minimum=True, optional=True),
    Param("take_profit", "float_or_map", None, "Close a position this fraction in favour of its entry price.", "fraction", minimum=0.0, exclusive_minimum=True, optional=True),
    Param("trailing_stop", "float_or_map", None, "Close a position this fraction off its best price since entry.", "fraction", minimum=0.0, exclusive_minimum=True, optional=True),
    Param("integer_shares", "bool", False, "Round target shares toward zero."),
    Param("renormalize_unlisted", "bool", False, "Spread the weight of not-yet-listed tickers over the listed ones instead of holding it in cash."),
)

#: Spec-level settings, valid in every spec (top level of the TOML file).
RUN_PARAMS: tuple[Param, ...] = (
    Param("start", "date", None, "First bar of the backtest (earlier data is still used for warm-up).", optional=True),
    Param("end", "date", None, "Last bar of the backtest.", optional=True),
    Param("benchmark", "ticker", None, "Ticker whose buy-and-hold the results are compared with.", optional=True),
    Param(
        "scale_gross",
        "bool",
        True,
        "With max_gross set: scale targets above it down (true) or refuse them as an error (false).",
    ),
)
