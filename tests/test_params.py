"""Typed parameters: conversion from TOML values and CLI strings, bounds, messages."""

from __future__ import annotations

import pandas as pd
import pytest

from shortthehype.errors import ParamError
from shortthehype.errors import did_you_mean
from shortthehype.params import ENGINE_PARAMS, Param, format_value


def engine_param(name: str) -> Param:
    return next(p for p in ENGINE_PARAMS if p.name == name)


@pytest.mark.parametrize(
    ("type_", "raw", "expected"),
    [
        ("float", "0.25", 0.25),
        ("float", 3, 3.0),
        ("int", "42", 42),
        ("int", 7.0, 7),
        ("bool", "yes", True),
        ("bool", "off", False),
        ("bool", True, True),
        ("str", "abc", "abc"),
        ("date", "2025-11-03", pd.Timestamp("2025-11-03")),
        ("ticker", " nvda ", "NVDA"),
        ("tickers", "nvda, pltr", ["NVDA", "PLTR"]),
        ("tickers", ["msft"], ["MSFT"]),
        ("weights", "NVDA:-0.2,pltr:-0.6", {"NVDA": -0.2, "PLTR": -0.6}),
        ("weights", {"spy": 0.6, "QQQ": "0.4"}, {"SPY": 0.6, "QQQ": 0.4}),
        ("float_or_map", "0.01", 0.01),
        ("float_or_map", "NVDA:0.02,PLTR=0.05", {"NVDA": 0.02, "PLTR": 0.05}),
    ],
)
def test_coerce_converts_each_type(type_, raw, expected):
    assert Param("x", type_, None, "doc").coerce(raw) == expected


@pytest.mark.parametrize(
    ("type_", "raw"),
    [
        ("float", "abc"),
        ("float", "nan"),
        ("float", True),
        ("int", "1.5"),
        ("int", 2.5),
        ("bool", "maybe"),
        ("date", "03/11/2025"),
        ("tickers", "A,A"),
        ("weights", "NVDA"),
        ("weights", "NVDA:x"),
    ],
)
def test_coerce_rejects_bad_values_naming_the_parameter(type_, raw):
    with pytest.raises(ParamError, match=r"parameter 'speed'") as info:
        Param("speed", type_, None, "doc").coerce(raw, where="my.toml")
    message = str(info.value)
    assert message.startswith("my.toml: ") and "\n" not in message


def test_choice_suggests_the_closest_name():
    execution = engine_param("execution")
    assert execution.coerce("CLOSE") == "close"
    with pytest.raises(ParamError, match=r"did you mean 'next_open'"):
        execution.coerce("next-open")


def test_bounds_are_enforced_on_numbers_and_mappings():
    fees = engine_param("fees")
    with pytest.raises(ParamError, match=r"'fees' must be >= 0, got -0.1"):
        fees.coerce(-0.1)
    with pytest.raises(ParamError, match=r"'fees' must be >= 0, got -0.02"):
        fees.coerce({"NVDA": -0.02})
    with pytest.raises(ParamError, match=r"'init_cash' must be > 0"):
        engine_param("init_cash").coerce(0)
    with pytest.raises(ParamError, match=r"'maintenance_margin' must be <= 1"):
        engine_param("maintenance_margin").coerce(1.5)


def test_optional_accepts_none_and_required_does_not():
    assert engine_param("max_gross").coerce("none") is None
    with pytest.raises(ParamError, match=r"'execution' needs a value"):
        engine_param("execution").coerce(None)


def test_did_you_mean_and_format_value():
    assert did_you_mean("slipage", ["slippage", "fees"]) == "; did you mean 'slippage'?"
    assert did_you_mean("zzz", ["slippage"]) == ""
    assert format_value({"A": 0.5, "B": -0.25}) == "A:0.5,B:-0.25"
    assert format_value(pd.Timestamp("2025-11-03")) == "2025-11-03"
    assert format_value(None) == "none"
    # format_value output parses back to the same value
    weights = Param("w", "weights", None, "doc")
    assert weights.coerce(format_value({"A": 0.5, "B": -0.25})) == {"A": 0.5, "B": -0.25}
