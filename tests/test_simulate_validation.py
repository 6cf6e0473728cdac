"""Input validation of simulate(): one-line errors that name the culprit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from shortthehype.data.prices import Prices
from shortthehype.engine import simulate
from shortthehype.errors import DataError, ParamError, ShortTheHypeError

INDEX = pd.date_range("2024-01-01", periods=5, freq="D", name="date")
CLOSE = pd.DataFrame({"NVDA": [10.0, 11, 12, 13, 14], "PLTR": [np.nan, 5, 6, 7, 8]}, index=INDEX)
WEIGHTS = pd.DataFrame({"NVDA": [0.5], "PLTR": [-0.2]}, index=INDEX[:1])


def error(exc_type, **kwargs):
    prices = kwargs.pop("prices", CLOSE)
    weights = kwargs.pop("weights", WEIGHTS)
    with pytest.raises(exc_type) as info:
        simulate(prices, weights, **kwargs)
    message = str(info.value)
    assert "\n" not in message
    assert isinstance(info.value, ShortTheHypeError)
    return message


@pytest.mark.parametrize(
    ("kwargs", "culprit"),
    [
        ({"fees": -0.001}, "'fees'"),
        ({"fixed_fees": -1.0}, "'fixed_fees'"),
        ({"slippage": -0.01}, "'slippage'"),
        ({"slippage": 1.0}, "'slippage'"),
        ({"borrow_fee": -0.02}, "'borrow_fee'"),
        ({"init_cash": 0.0}, "'init_cash'"),
        ({"init_cash": -5.0}, "'init_cash'"),
        ({"init_cash": float("nan")}, "'init_cash'"),
        ({"maintenance_margin": 0.0}, "'maintenance_margin'"),
        ({"maintenance_margin": 1.5}, "'maintenance_margin'"),
        ({"stop_loss": 0.0}, "'stop_loss'"),
        ({"take_profit": -0.1}, "'take_profit'"),
        ({"trailing_stop": 0.0}, "'trailing_stop'"),
        ({"max_gross": 0.0}, "'max_gross'"),
        ({"cash_rate": float("inf")}, "'cash_rate'"),
        ({"cash_rate_negative": "high"}, "'cash_rate_negative'"),
        ({"integer_shares": "yes"}, "'integer_shares'"),
        ({"fees": {"NVDA": -0.1}}, "fees[NVDA]"),
        ({"stop_loss": {"PLTR": 0.0}}, "stop_loss[PLTR]"),
    ],
)
def test_out_of_range_parameters_are_named(kwargs, culprit):
    message = error(ParamError, **kwargs)
    assert culprit in message


def test_unknown_execution_suggests_the_right_one():
    message = error(ParamError, execution="next_opn")
    assert "'execution'" in message and "did you mean 'next_open'" in message


def test_cost_mapping_with_an_unknown_ticker():
    message = error(ParamError, fees={"NVDA": 0.001, "NVDAA": 0.002})
    assert "'fees'" in message and "'NVDAA'" in message and "did you mean 'NVDA'" in message


def test_weights_on_an_unknown_ticker():
    weights = WEIGHTS.rename(columns={"PLTR": "PLTRR"})
    message = error(DataError, weights=weights)
    assert "'PLTRR'" in message and "did you mean 'PLTR'" in message


def test_weights_must_be_a_dataframe():
    assert "DataFrame" in error(DataError, weights=WEIGHTS.iloc[0])


def test_infinite_weights_are_refused_nan_is_fine():
    weights = WEIGHTS.copy()
    weights.loc[INDEX[0], "PLTR"] = np.inf
    message = error(DataError, weights=weights)
    assert "PLTR" in message and "2024-01-01" in message
    weights.loc[INDEX[0], "PLTR"] = np.nan
    simulate(CLOSE, weights)


def test_weights_dated_after_the_last_bar():
    weights = pd.DataFrame({"NVDA": [0.5]}, index=pd.DatetimeIndex(["2024-02-01"]))
    message = error(DataError, weights=weights)
    assert "2024-02-01" in message and "after the last price bar 2024-01-05" in message


def test_weights_dated_on_a_non_trading_day():
    close = CLOSE.drop(INDEX[2])
    weights = pd.DataFrame({"NVDA": [0.5]}, index=pd.DatetimeIndex(["2024-01-03"]))
    message = error(DataError, prices=close, weights=weights)
    assert "2024-01-03" in message and "not a date of the prices" in message


def test_duplicate_weight_dates_and_columns():
    weights = pd.concat([WEIGHTS, WEIGHTS])
    assert "2024-01-01" in error(DataError, weights=weights)
    dup = pd.DataFrame([[0.1, 0.2]], index=INDEX[:1], columns=["NVDA", "NVDA"])
    assert "NVDA" in error(DataError, weights=dup)


def test_prices_must_be_prices_or_a_frame_and_not_empty():
    assert "Prices" in error(DataError, prices={"NVDA": [1, 2]})
    assert "no rows" in error(DataError, prices=CLOSE.iloc[:0], weights=WEIGHTS.iloc[:0])


def test_gross_above_max_gross_is_scaled_not_refused():
    weights = pd.DataFrame({"NVDA": [3.0], "PLTR": [np.nan]}, index=INDEX[:1])
    r = simulate(CLOSE, weights, max_gross=1.0, execution="close")
    assert r.exposure["gross"].iloc[0] == pytest.approx(1.0)


def test_target_on_the_last_bar_never_trades_with_next_execution():
    weights = pd.DataFrame({"NVDA": [0.5]}, index=INDEX[-1:])
    assert len(simulate(CLOSE, weights).orders) == 0
    assert len(simulate(CLOSE, weights, execution="close").orders) == 1


def test_all_nan_rows_and_unsimulated_tickers_are_ignored():
    weights = pd.DataFrame({"NVDA": [np.nan, 0.5]}, index=INDEX[:2])
    r = simulate(Prices.from_close(CLOSE), weights, execution="close")
    assert r.tickers == ["NVDA"]
    assert list(r.orders["date"]) == [INDEX[1]]
