"""Validation rules of the data layer, one by one (shortthehype.data.validate via the csv source).

Each refused input must raise a one-line ``DataError`` (or ``ParamError``)
that names the culprit: the file, the column, the date, the line, the value.
Expected values are hand-computed from the tiny files written here.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from shortthehype.data.load import load_prices
from shortthehype.data.validate import (
    check_ohlcv,
    normalize_ticker,
    normalize_tickers,
    parse_date_param,
    suspicious_moves,
)
from shortthehype.errors import DataError, DataWarning, ParamError

HEADER = "date,open,high,low,close,volume\n"
GOOD_ROWS = (
    "2024-01-02,10,11,9,10.5,1000\n"
    "2024-01-03,10.5,12,10,11,2000\n"
    "2024-01-04,11,11.5,10.5,11.2,1500\n"
)


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text)
    return path


def load(directory: Path, ticker: str = "TEST", **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        return load_prices(ticker, data_dir=directory, **kwargs)


def error_of(directory: Path, ticker: str = "TEST", exc: type[Exception] = DataError, **kwargs) -> str:
    with pytest.raises(exc) as info:
        load(directory, ticker, **kwargs)
    message = str(info.value)
    assert "\n" not in message, "error messages must be one line"
    return message


# --------------------------------------------------------------------------- files and directories


def test_missing_file_names_directory_and_suggests_close_match(tmp_path):
    write(tmp_path, "NVDA.csv", HEADER + GOOD_ROWS)
    write(tmp_path, "PLTR.csv", HEADER + GOOD_ROWS)
    message = error_of(tmp_path, "NVDX")
    assert str(tmp_path) in message and "NVDX.csv" in message
    assert "did you mean 'NVDA'?" in message


def test_missing_file_without_close_match_has_no_suggestion(tmp_path):
    write(tmp_path, "NVDA.csv", HEADER + GOOD_ROWS)
    message = error_of(tmp_path, "QQQ")
    assert "QQQ.csv" in message and "did you mean" not in message


def test_data_dir_that_does_not_exist(tmp_path):
    missing = tmp_path / "nope"
    message = error_of(missing)
    assert str(missing) in message and "does not exist" in message


def test_data_dir_that_is_a_file(tmp_path):
    path = write(tmp_path, "file.txt", "x")
    assert "not a directory" in error_of(path)


def test_directory_without_csv_files(tmp_path):
    write(tmp_path, "notes.txt", "hello")
    message = error_of(tmp_path)
    assert str(tmp_path) in message and "no *.csv files" in message


def test_two_files_for_the_same_ticker_are_refused(tmp_path):
    write(tmp_path, "nvda.csv", HEADER + GOOD_ROWS)
    write(tmp_path, "NVDA.CSV", HEADER + GOOD_ROWS)
    message = error_of(tmp_path, "NVDA")
    assert "nvda.csv" in message and "NVDA.CSV" in message


def test_empty_file(tmp_path):
    path = write(tmp_path, "TEST.csv", "")
    message = error_of(tmp_path)
    assert str(path) in message and "is empty" in message


def test_header_without_rows(tmp_path):
    path = write(tmp_path, "TEST.csv", HEADER)
    message = error_of(tmp_path)
    assert str(path) in message and "no data rows" in message


def test_only_blank_lines_after_header(tmp_path):
    write(tmp_path, "TEST.csv", HEADER + "\n\n")
    assert "no data rows" in error_of(tmp_path)


def test_malformed_csv(tmp_path):
    path = write(tmp_path, "TEST.csv", HEADER + "2024-01-02,1,1,1,1,1,7,8,9\n")
    message = error_of(tmp_path)
    assert str(path) in message and "malformed CSV" in message


# --------------------------------------------------------------------------- columns


def test_missing_columns_are_named(tmp_path):
    path = write(tmp_path, "TEST.csv", "date,open,close\n2024-01-02,1,1\n")
    message = error_of(tmp_path)
    assert str(path) in message and "missing column(s) high, low" in message


def test_missing_date_column_is_named(tmp_path):
    write(tmp_path, "TEST.csv", "day,open,high,low,close\n2024-01-02,1,1,1,1\n")
    assert "missing column(s) date" in error_of(tmp_path)


def test_two_columns_with_the_same_meaning(tmp_path):
    write(tmp_path, "TEST.csv", "date,open,high,low,close,Close\n2024-01-02,1,1,1,1,1\n")
    message = error_of(tmp_path)
    assert "'close'" in message and "'Close'" in message


# --------------------------------------------------------------------------- dates


def test_unparsable_date_names_file_value_and_line(tmp_path):
    path = write(tmp_path, "TEST.csv", HEADER + "2024-01-02,1,1,1,1,1\n2024-13-45,1,1,1,1,1\n")
    message = error_of(tmp_path)
    assert str(path) in message and "'2024-13-45'" in message and "line 3" in message


def test_non_iso_date_is_refused(tmp_path):
    write(tmp_path, "TEST.csv", HEADER + "01/02/2024,1,1,1,1,1\n")
    message = error_of(tmp_path)
    assert "'01/02/2024'" in message and "line 2" in message and "YYYY-MM-DD" in message


def test_empty_date_cell(tmp_path):
    write(tmp_path, "TEST.csv", HEADER + "2024-01-02,1,1,1,1,1\n,1,1,1,1,1\n")
    message = error_of(tmp_path)
    assert "empty cell" in message and "line 3" in message


def test_line_numbers_count_blank_lines(tmp_path):
    write(tmp_path, "TEST.csv", HEADER + "2024-01-02,1,1,1,1,1\n\n\nbad,1,1,1,1,1\n")
    assert "line 5" in error_of(tmp_path)


def test_intraday_timestamps_are_refused(tmp_path):
    write(tmp_path, "TEST.csv", HEADER + "2024-01-02 00:00:00,1,1,1,1,1\n2024-01-02 09:30:00,1,1,1,1,1\n")
    message = error_of(tmp_path)
    assert "intraday" in message and "line 3" in message


def test_midnight_timestamps_with_offsets_keep_the_local_date(tmp_path):
    # yfinance's DataFrame.to_csv writes tz-aware midnights; DST changes the offset.
    write(
        tmp_path,
        "TEST.csv",
        HEADER + "2024-03-08 00:00:00-05:00,1,1,1,1,1\n2024-03-11 00:00:00-04:00,1,1,1,1,1\n",
    )
    prices = load(tmp_path)
    assert list(prices.index) == [pd.Timestamp("2024-03-08"), pd.Timestamp("2024-03-11")]


def test_duplicate_dates_are_refused_naming_the_date_and_lines(tmp_path):
    path = write(tmp_path, "TEST.csv", HEADER + GOOD_ROWS + "2024-01-03,11,12,10,11,100\n")
    message = error_of(tmp_path)
    assert str(path) in message and "duplicate date 2024-01-03" in message and "lines 3, 5" in message


def test_unsorted_dates_are_sorted_with_a_warning(tmp_path):
    write(tmp_path, "TEST.csv", HEADER + "2024-01-03,11,11,11,11,1\n2024-01-02,10,10,10,10,1\n2024-01-04,12,12,12,12,1\n")
    with pytest.warns(DataWarning, match="not in ascending order"):
        prices = load_prices("TEST", data_dir=tmp_path)
    assert list(prices.close["TEST"]) == [10.0, 11.0, 12.0]
    assert prices.index.is_monotonic_increasing
    assert len(prices.warnings) == 1
    assert "2024-01-02 at line 3 follows 2024-01-03" in prices.warnings[0]


# --------------------------------------------------------------------------- prices


@pytest.mark.parametrize("column", ["open", "high", "low", "close"])
def test_nan_price_names_file_column_and_date(tmp_path, column):
    row = {"open": "10", "high": "11", "low": "9", "close": "10"}
    row[column] = ""
    path = write(tmp_path, "TEST.csv", HEADER + GOOD_ROWS + f"2024-01-05,{row['open']},{row['high']},{row['low']},{row['close']},5\n")
    message = error_of(tmp_path)
    assert str(path) in message and f"missing (NaN) {column} on 2024-01-05 (line 5)" in message


def test_null_and_nan_text_are_missing(tmp_path):
    write(tmp_path, "TEST.csv", HEADER + "2024-01-02,null,null,null,null,null\n")
    assert "missing (NaN) open on 2024-01-02" in error_of(tmp_path)


@pytest.mark.parametrize(("column", "value"), [("open", "0"), ("low", "-1.5"), ("close", "0.0")])
def test_non_positive_price_names_file_column_and_date(tmp_path, column, value):
    row = {"open": "10", "high": "11", "low": "9", "close": "10"}
    row[column] = value
    path = write(tmp_path, "TEST.csv", HEADER + f"2024-01-02,{row['open']},{row['high']},{row['low']},{row['close']},5\n")
    message = error_of(tmp_path)
    assert str(path) in message and f"non-positive {column} {float(value):g} on 2024-01-02" in message


def test_infinite_price(tmp_path):
    write(tmp_path, "TEST.csv", HEADER + "2024-01-02,10,inf,9,10,5\n")
    assert "non-finite (inf) high on 2024-01-02" in error_of(tmp_path)


def test_unparsable_number_names_column_value_and_line(tmp_path):
    path = write(tmp_path, "TEST.csv", HEADER + "2024-01-02,10,11,9,10,5\n2024-01-03,10,11,9,1O.5,5\n")
    message = error_of(tmp_path)
    assert str(path) in message and "close value '1O.5' on 2024-01-03 (line 3)" in message


def test_high_below_low_names_file_and_date(tmp_path):
    path = write(tmp_path, "TEST.csv", HEADER + GOOD_ROWS + "2024-01-05,10,9,11,10,5\n")
    message = error_of(tmp_path)
    assert str(path) in message and "high 9 < low 11 on 2024-01-05" in message


def test_open_outside_high_low_is_a_warning(tmp_path):
    write(tmp_path, "TEST.csv", HEADER + "2024-01-02,12,11,9,10,5\n2024-01-03,10,11,9,10,5\n")
    with pytest.warns(DataWarning, match=r"1 row\(s\) with open or close outside \[low, high\], first on 2024-01-02"):
        prices = load_prices("TEST", data_dir=tmp_path)
    assert prices.open["TEST"].iloc[0] == 12.0


def test_flat_rows_and_zero_volume_are_valid(tmp_path):
    # As in the real files: GSPC's close-only history (O=H=L=C, volume 0).
    write(tmp_path, "TEST.csv", HEADER + "1927-12-30,17.66,17.66,17.66,17.66,0\n1928-01-03,17.76,17.76,17.76,17.76,0\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        prices = load_prices("TEST", data_dir=tmp_path)
    assert prices.warnings == ()
    assert list(prices.volume["TEST"]) == [0.0, 0.0]


# --------------------------------------------------------------------------- volume


def test_negative_volume_is_refused(tmp_path):
    path = write(tmp_path, "TEST.csv", HEADER + "2024-01-02,10,11,9,10,-5\n")
    message = error_of(tmp_path)
    assert str(path) in message and "invalid volume -5 on 2024-01-02" in message


def test_missing_volume_cell_is_nan_without_error(tmp_path):
    write(tmp_path, "TEST.csv", HEADER + "2024-01-02,10,11,9,10,\n2024-01-03,10,11,9,10,7\n")
    prices = load(tmp_path)
    assert np.isnan(prices.volume["TEST"].iloc[0]) and prices.volume["TEST"].iloc[1] == 7.0


def test_missing_volume_column_is_nan_without_error(tmp_path):
    write(tmp_path, "TEST.csv", "date,open,high,low,close\n2024-01-02,10,11,9,10\n")
    prices = load(tmp_path)
    assert prices.volume["TEST"].isna().all() and prices.warnings == ()


# --------------------------------------------------------------------------- ranges


def test_start_after_end_is_refused_naming_both(tmp_path):
    write(tmp_path, "TEST.csv", HEADER + GOOD_ROWS)
    message = error_of(tmp_path, start="2024-02-01", end="2024-01-01")
    assert "start 2024-02-01 is after end 2024-01-01" in message


def test_a_ticker_without_rows_in_the_range_is_all_nan_with_a_warning(tmp_path):
    # OTHER delisted before the range (or lists after it): NaN there, like any day it does not trade
    write(tmp_path, "TEST.csv", HEADER + GOOD_ROWS)
    write(tmp_path, "OTHER.csv", HEADER + "2023-06-01,1,1,1,1,1\n")
    with pytest.warns(DataWarning, match=r"OTHER has no rows in 2024-01-01\.\.2024-01-31 \(its data runs 2023-06-01\.\.2023-06-01\)"):
        prices = load_prices(["TEST", "OTHER"], start="2024-01-01", end="2024-01-31", source="csv", data_dir=tmp_path)
    assert prices.close["OTHER"].isna().all() and prices.close["TEST"].notna().any()
    assert any("OTHER has no rows" in line for line in prices.warnings)


def test_range_without_rows_for_every_ticker_is_refused_naming_each(tmp_path):
    write(tmp_path, "TEST.csv", HEADER + GOOD_ROWS)
    write(tmp_path, "OTHER.csv", HEADER + "2023-06-01,1,1,1,1,1\n")
    message = error_of(tmp_path, ["TEST", "OTHER"], start="2025-01-01", end="2025-01-31")
    assert message.startswith("no ticker has rows in the range")
    assert "OTHER has no rows in 2025-01-01..2025-01-31" in message and "its data runs 2023-06-01..2023-06-01" in message
    assert "TEST has no rows" in message


def test_range_between_two_trading_days(tmp_path):
    write(tmp_path, "TEST.csv", HEADER + "2024-01-02,1,1,1,1,1\n2024-01-09,1,1,1,1,1\n")
    assert "TEST has no rows in 2024-01-03..2024-01-08" in error_of(tmp_path, start="2024-01-03", end="2024-01-08")


def test_unparsable_start_is_a_param_error_naming_start(tmp_path):
    write(tmp_path, "TEST.csv", HEADER + GOOD_ROWS)
    message = error_of(tmp_path, exc=ParamError, start="2024-02-30")
    assert "start='2024-02-30'" in message


# --------------------------------------------------------------------------- suspicious moves


def test_split_sized_moves_warn_with_ticker_and_date(tmp_path):
    # Closes 100 -> 40 (-60.0%) -> 40 -> 80 (+100.0%): two warnings.
    write(
        tmp_path,
        "TEST.csv",
        HEADER
        + "2024-01-02,100,100,100,100,1\n2024-01-03,40,40,40,40,1\n2024-01-04,40,40,40,40,1\n2024-01-05,80,80,80,80,1\n",
    )
    with pytest.warns(DataWarning) as record:
        prices = load_prices("test", data_dir=tmp_path)
    assert prices.warnings == (
        "TEST 2024-01-03: one-day close-to-close move -60.0% exceeds ±45% (an unadjusted split?)",
        "TEST 2024-01-05: one-day close-to-close move +100.0% exceeds ±45% (an unadjusted split?)",
    )
    assert [str(w.message) for w in record] == list(prices.warnings)


def test_moves_are_checked_within_the_loaded_range_only(tmp_path):
    write(tmp_path, "TEST.csv", HEADER + "2024-01-02,100,100,100,100,1\n2024-01-03,40,40,40,40,1\n2024-01-04,41,41,41,41,1\n")
    assert load(tmp_path, start="2024-01-03").warnings == ()


@pytest.mark.parametrize(("new", "warns"), [(145.5, True), (144.5, False), (54.5, True), (55.5, False)])
def test_suspicious_move_threshold(new, warns):
    close = pd.Series([100.0, new], index=pd.to_datetime(["2024-01-02", "2024-01-03"]))
    assert bool(suspicious_moves(close, "X")) is warns


def test_suspicious_moves_skip_nan_rows():
    # NaN (not yet listed / a gap in the union calendar) is skipped: 100 -> 101 is the move.
    close = pd.Series([np.nan, 100.0, np.nan, 101.0], index=pd.date_range("2024-01-01", periods=4))
    assert suspicious_moves(close, "X") == []
    assert suspicious_moves(close.iloc[:2], "X") == []


# --------------------------------------------------------------------------- tickers, dates, sources


@pytest.mark.parametrize(("raw", "expected"), [(" nvda ", "NVDA"), ("^ixic", "^IXIC"), ("brk-b", "BRK-B"), ("eurusd=x", "EURUSD=X")])
def test_normalize_ticker(raw, expected):
    assert normalize_ticker(raw) == expected


@pytest.mark.parametrize("raw", ["", "NVDA,PLTR", "../etc", "NV DA", "^^X", 5])
def test_invalid_tickers_are_param_errors_naming_the_value(raw):
    with pytest.raises(ParamError) as info:
        normalize_ticker(raw)
    assert repr(raw) in str(info.value)


def test_duplicate_tickers_after_upper_casing():
    with pytest.raises(ParamError, match="NVDA is listed twice"):
        normalize_tickers(["nvda", "NVDA"])


def test_empty_ticker_list():
    with pytest.raises(ParamError, match="tickers is empty"):
        normalize_tickers([])


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-01-02", "2024-01-02"),
        (pd.Timestamp("2024-01-02 15:30", tz="America/New_York"), "2024-01-02"),
        (np.datetime64("2024-01-02"), "2024-01-02"),
        (__import__("datetime").date(2024, 1, 2), "2024-01-02"),
    ],
)
def test_parse_date_param(value, expected):
    assert parse_date_param(value, "start") == pd.Timestamp(expected)


@pytest.mark.parametrize("value", ["yesterday", "2024-02-30", 20240102, ""])
def test_parse_date_param_rejects_non_dates(value):
    with pytest.raises(ParamError, match="end"):
        parse_date_param(value, "end")


def test_unknown_source_suggests_the_close_one(tmp_path):
    with pytest.raises(ParamError, match=r"unknown source 'yahooo'.*did you mean 'yahoo'\?"):
        load_prices("X", source="yahooo")


def test_options_of_another_source_are_refused(tmp_path):
    write(tmp_path, "TEST.csv", HEADER + GOOD_ROWS)
    with pytest.raises(ParamError, match="unknown option.*'csv'.*seed"):
        load_prices("TEST", data_dir=tmp_path, seed=3)


# --------------------------------------------------------------------------- check_ohlcv on typed frames


def frame(rows: dict[str, list[float]], dates: list[str]) -> pd.DataFrame:
    return pd.DataFrame(rows, index=pd.DatetimeIndex(pd.to_datetime(dates), name="date"))


def test_check_ohlcv_names_the_origin_without_lines():
    f = frame({"open": [1.0], "high": [1.0], "low": [2.0], "close": [1.0], "volume": [0.0]}, ["2024-01-02"])
    with pytest.raises(DataError, match=r"^yahoo NVDA: high 1 < low 2 on 2024-01-02$"):
        check_ohlcv(f, "yahoo NVDA")


def test_check_ohlcv_refuses_an_empty_frame():
    f = frame({"open": [], "high": [], "low": [], "close": [], "volume": []}, [])
    with pytest.raises(DataError, match="catalog file x has no rows"):
        check_ohlcv(f, "catalog file x")


def test_check_ohlcv_accepts_nan_volume_and_returns_same_values():
    f = frame({"open": [1.0, 2.0], "high": [1.5, 2.5], "low": [0.5, 1.5], "close": [1.2, 2.2], "volume": [np.nan, 3.0]}, ["2024-01-02", "2024-01-03"])
    out, warned = check_ohlcv(f, "x")
    assert warned == [] and out.equals(f)
