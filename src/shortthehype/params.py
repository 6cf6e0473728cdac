"""Typed parameters: one schema for spec files, ``--set`` overrides and sweeps.

A :class:`Param` knows its type, default, unit, bounds and documentation, and
turns a TOML value or a command-line string into a checked Python value.  The
engine's options (costs, execution, limits) are declared here once as
:data:`ENGINE_PARAMS`; each strategy kind declares its own parameters the
same way, so the spec loader, the CLI and the docs read one source of truth.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from shortthehype.constants import DEFAULT_INIT_CASH, MAX_COST_FRACTION
from shortthehype.errors import ParamError, SpecError, did_you_mean

__all__ = [
    "CONTRACT_ALTERNATIVES",
    "CONTRACT_FIELDS",
    "ENGINE_PARAMS",
    "PARAM_TYPES",
    "Param",
    "RUN_PARAMS",
    "check_declarations",
    "format_value",
    "inactive_params",
    "json_value",
]

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
    "contracts",  # a mapping name -> option contract table (CONTRACT_FIELDS)
    "rate",  # a float, or the name of a rate series ("tbill", "DTB3")
)

_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


@dataclass(frozen=True)
class Param:
    """One named, typed, documented parameter.

    ``optional=True`` allows the value ``None`` (written ``"none"`` on the
    command line); bounds apply to numbers and to every value of a mapping.

    ``applies`` says when the parameter has an effect: a mapping from other
    parameters of the same kind to the value (or tuple of values) each must
    have, all at once, e.g. ``{"instrument": "puts"}``.  Where it does not
    apply, changing it cannot change a backtest: sweeps run such
    combinations once (see :func:`inactive_params`).  ``moves_window`` marks a
    date that moves the trade (an entry): setting it moves the backtest's
    ``start`` with it unless ``start`` is set too (see
    :meth:`shortthehype.spec.StrategySpec.with_overrides`).
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
    applies: Mapping[str, Any] | tuple[tuple[str, tuple[Any, ...]], ...] = ()
    moves_window: bool = False

    def __post_init__(self) -> None:
        if self.type not in PARAM_TYPES:
            raise ValueError(f"parameter {self.name!r} has unknown type {self.type!r}")
        if self.type == "choice" and not self.choices:
            raise ValueError(f"choice parameter {self.name!r} needs choices")
        if self.moves_window and self.type != "date":
            raise ValueError(f"parameter {self.name!r}: only a date can move the backtest window")
        conditions = self.applies.items() if isinstance(self.applies, Mapping) else self.applies
        # stored as a tuple of (name, allowed values) pairs, so that a Param stays hashable
        normalized = tuple(
            (str(name), tuple(allowed) if isinstance(allowed, (tuple, list)) else (allowed,))
            for name, allowed in conditions
        )
        object.__setattr__(self, "applies", normalized)

    def applies_to(self, values: Mapping[str, Any]) -> bool:
        """Whether this parameter's own conditions hold for ``values`` (see :func:`inactive_params`)."""
        return all(values.get(name) in allowed for name, allowed in self.applies)

    def describe_applies(self) -> str:
        """``"instrument = puts"``, ``"instrument = stock and rebalance = keep_weights"``; "" when it always applies."""
        return " and ".join(
            f"{name} = {' or '.join(format_value(v) for v in allowed)}" for name, allowed in self.applies
        )

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
            "contracts": "a table of named option contracts ([params.contracts.NAME] in the spec)",
            "rate": "a number or a rate series name (tbill, DTB3, ^IRX)",
        }[self.type]

    def _check_bounds(self, value: Any, prefix: str) -> None:
        if self.type not in ("float", "int", "float_or_map", "weights", "rate") or isinstance(value, str):
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


#: Keys of one option contract table: name -> (type, required, doc).  Exactly one key of
#: each CONTRACT_ALTERNATIVES pair is given.
CONTRACT_FIELDS: dict[str, tuple[str, str]] = {
    "ticker": ("ticker", "underlying ticker"),
    "type": ("choice", "put or call (default put)"),
    "strike": ("float", "strike price, currency per share"),
    "moneyness": ("float", "strike / underlying close at the purchase decision"),
    "expiry": ("date", "expiry date (settles on the last trading day on or before it)"),
    "tenor_days": ("int", "calendar days from the purchase decision to expiry"),
    "contracts": ("int", "number of contracts (x 100 shares)"),
    "premium_budget": ("float", "premium to spend, fraction of equity at the purchase"),
    "entry": ("date", "signal date of the purchase (default: the kind's entry)"),
    "exit": ("date", "signal date of the sale (default: the kind's exit, else held to expiry)"),
    "enabled": ("bool", "false = listed but not traded (default true)"),
}
CONTRACT_ALTERNATIVES = (("strike", "moneyness"), ("expiry", "tenor_days"), ("contracts", "premium_budget"))


def _to_contracts(param: Param, value: Any) -> dict[str, dict[str, Any]]:
    if not isinstance(value, Mapping) or not value:
        raise TypeError("expected a non-empty table of named contracts")
    field_params = {
        "ticker": Param("ticker", "ticker", None, ""),
        "type": Param("type", "choice", "put", "", choices=("put", "call")),
        "strike": Param("strike", "float", None, "", minimum=0.0, exclusive_minimum=True),
        "moneyness": Param("moneyness", "float", None, "", minimum=0.0, exclusive_minimum=True, maximum=10.0),
        "expiry": Param("expiry", "date", None, ""),
        "tenor_days": Param("tenor_days", "int", None, "", minimum=1),
        "contracts": Param("contracts", "int", None, "", minimum=1),
        "premium_budget": Param("premium_budget", "float", None, "", minimum=0.0, exclusive_minimum=True, maximum=1.0),
        "entry": Param("entry", "date", None, ""),
        "exit": Param("exit", "date", None, ""),
        "enabled": Param("enabled", "bool", True, ""),
    }
    out: dict[str, dict[str, Any]] = {}
    for name, table in value.items():
        where = f"contract {name!r}"
        if not isinstance(table, Mapping):
            raise TypeError(f"{where} must be a table of {', '.join(CONTRACT_FIELDS)}")
        unknown = [k for k in table if k not in CONTRACT_FIELDS]
        if unknown:
            raise ValueError(f"{where} has unknown key {unknown[0]!r}{did_you_mean(str(unknown[0]), CONTRACT_FIELDS)}")
        if "ticker" not in table:
            raise ValueError(f"{where} needs a ticker")
        typed = {
            key: (
                field_params[key].coerce(table[key], where=where)
                if table.get(key) is not None
                else field_params[key].default
            )
            for key in CONTRACT_FIELDS
        }
        for a, b in CONTRACT_ALTERNATIVES:
            if (typed[a] is None) == (typed[b] is None):
                raise ValueError(f"{where} needs exactly one of {a!r} and {b!r}")
        if typed["entry"] is not None and typed["expiry"] is not None and typed["expiry"] <= typed["entry"]:
            raise ValueError(f"{where}: expiry {format_value(typed['expiry'])} is not after entry {format_value(typed['entry'])}")
        if typed["entry"] is not None and typed["exit"] is not None and typed["exit"] <= typed["entry"]:
            raise ValueError(f"{where}: exit {format_value(typed['exit'])} is not after entry {format_value(typed['entry'])}")
        out[str(name)] = typed
    return out


def _to_rate(param: Param, value: Any) -> float | str:
    if isinstance(value, str):
        text = value.strip()
        try:
            return _to_float(param, text)
        except ValueError:
            pass
        if not re.fullmatch(r"\^?[A-Za-z][A-Za-z0-9_.\-]{0,19}", text):
            raise ValueError("expected a number or a series name")
        return text
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
    "contracts": _to_contracts,
    "rate": _to_rate,
}


def inactive_params(params: Iterable[Param], values: Mapping[str, Any], among: Iterable[str] | None = None) -> set[str]:
    """Names of the ``params`` (or of those named in ``among``) that do not apply given ``values`` (name -> typed value).

    A parameter applies when every condition of its ``applies`` holds and the
    parameters its conditions name apply themselves (``rebalance_freq``
    declared for ``rebalance = keep_weights`` does not apply where
    ``rebalance`` itself does not).
    """
    by_name = {p.name: p for p in params}
    memo: dict[str, bool] = {}

    def applies(name: str, seen: tuple[str, ...]) -> bool:
        if name not in memo:
            param = by_name.get(name)
            if param is None or name in seen:
                return True
            memo[name] = param.applies_to(values) and all(
                applies(condition, seen + (name,)) for condition, _ in param.applies
            )
        return memo[name]

    return {name for name in (by_name if among is None else among) if not applies(name, ())}


def check_declarations(params: Iterable[Param], owner: str) -> None:
    """Raise SpecError (ParamError for a value) when an ``applies`` condition names an unknown parameter or a value it cannot take."""
    params = tuple(params)
    by_name = {p.name: p for p in params}
    for param in params:
        for name, allowed in param.applies:
            condition = by_name.get(name)
            if condition is None or condition is param:
                raise SpecError(f"{owner}: parameter {param.name!r} applies when {name!r}, which is not another parameter")
            for value in allowed:
                if value is not None or not condition.optional:
                    if condition.coerce(value, where=owner) != value:
                        raise SpecError(f"{owner}: {param.name!r} applies when {name} = {value!r}, not a typed value")


def format_value(value: Any) -> str:
    """Render a parameter value the way a user would type it."""
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, Mapping) and value and all(isinstance(v, Mapping) for v in value.values()):
        # named tables (option contracts): NAME{key=value ...}, unset keys left out
        return "; ".join(
            f"{name}{{{' '.join(f'{k}={format_value(v)}' for k, v in table.items() if v is not None)}}}"
            for name, table in value.items()
        )
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
    Param("cash_rate", "rate", 0.0, "Annual interest on positive cash (short proceeds included), ACT/360: a number or a rate series (tbill = the 3-month bill of the price source).", "fraction/yr"),
    Param("cash_rate_negative", "rate", None, "Annual interest on a negative cash balance, a number or a rate series (default: cash_rate).", "fraction/yr", optional=True),
    Param("max_gross", "float", None, "Cap on gross exposure / equity: targets above it are scaled down, and a close above it is traded back to it at the next execution.", "x equity", minimum=0.0, exclusive_minimum=True, optional=True),
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
