"""The csv source: file formats, ticker-to-file mapping, directory defaults, ranges."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from shortthehype.constants import DATE_UNIT, ENV_DATA_DIR
from shortthehype.data.csv_source import list_csv_dir, read_csv_file
from shortthehype.data.load import default_source, load_prices
from shortthehype.errors import DataError, ParamError

HEADER = "date,open,high,low,close,volume\n"


def write(directory: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = directory / name
    path.write_text(text, encoding=encoding)
    return path


def test_yahoo_export_with_adj_close_is_adjusted_by_adj_close_over_close(tmp_path):
    # Row 1 (before a dividend): factor 102.9 / 105 = 0.98, so O/H/L = 98, 107.8, 88.2; close = 102.9.
    # Row 2: Adj Close == Close, factor 1: unchanged.
    write(
        tmp_path,
        "TEST.csv",
        "Date,Open,High,Low,Close,Adj Close,Volume\n"
        "2024-01-02,100,110,90,105,102.9,1000\n"
        "2024-01-03,105,106,100,104,104,2000\n",
    )
    prices = load_prices("TEST", data_dir=tmp_path)
    assert prices.open["TEST"].tolist() == pytest.approx([98.0, 105.0], rel=1e-12)
    assert prices.high["TEST"].tolist() == pytest.approx([107.8, 106.0], rel=1e-12)
    assert prices.low["TEST"].tolist() == pytest.approx([88.2, 100.0], rel=1e-12)
    assert prices.close["TEST"].tolist() == [102.9, 104.0]
    assert prices.volume["TEST"].tolist() == [1000.0, 2000.0]
    assert prices.warnings == ()


def test_adj_close_is_validated_like_a_price(tmp_path):
    write(tmp_path, "TEST.csv", "Date,Open,High,Low,Close,Adj Close,Volume\n2024-01-02,100,110,90,105,,1000\n")
    with pytest.raises(DataError, match="missing \\(NaN\\) adj close on 2024-01-02 \\(line 2\\)"):
        load_prices("TEST", data_dir=tmp_path)


def test_columns_in_any_case_and_order_with_extra_columns(tmp_path):
    write(tmp_path, "A.csv", HEADER + "2024-01-02,10,11,9,10.5,1000\n")
    write(tmp_path, "B.csv", "Volume,CLOSE,ticker,low,High,open,Date,Dividends\n1000,10.5,B,9,11,10,2024-01-02,0\n")
    prices = load_prices(["A", "B"], data_dir=tmp_path)
    for field in ("open", "high", "low", "close", "volume"):
        frame = prices.field(field)
        assert frame["A"].iloc[0] == frame["B"].iloc[0]


def test_utf8_byte_order_mark_is_ignored(tmp_path):
    write(tmp_path, "TEST.csv", HEADER + "2024-01-02,10,11,9,10.5,1000\n", encoding="utf-8-sig")
    assert load_prices("TEST", data_dir=tmp_path).close["TEST"].iloc[0] == 10.5


def test_index_ticker_maps_to_file_without_caret_and_keeps_its_name(tmp_path):
    write(tmp_path, "IXIC.csv", HEADER + "2000-03-10,5060.34,5132.52,5039.35,5048.62,1992170000\n")
    prices = load_prices("^ixic", data_dir=tmp_path)
    assert prices.tickers == ["^IXIC"]
    assert prices.close["^IXIC"].iloc[0] == 5048.62


def test_file_named_with_the_caret_is_found_too(tmp_path):
    write(tmp_path, "^GSPC.csv", HEADER + "2000-03-24,1527.35,1552.87,1516.83,1527.46,1052200000\n")
    assert load_prices("^GSPC", data_dir=tmp_path).close["^GSPC"].iloc[0] == 1527.46
    assert load_prices("GSPC", data_dir=tmp_path).tickers == ["GSPC"]


def test_file_names_match_case_insensitively(tmp_path):
    write(tmp_path, "nvda.csv", HEADER + "2024-01-02,10,11,9,10.5,1000\n")
    assert load_prices("NVDA", data_dir=tmp_path).tickers == ["NVDA"]


def test_tickers_are_upper_cased_and_kept_in_the_requested_order(tmp_path):
    for name in ("A", "B", "C"):
        write(tmp_path, f"{name}.csv", HEADER + "2024-01-02,10,11,9,10.5,1000\n")
    assert load_prices(["c", "a"], data_dir=tmp_path).tickers == ["C", "A"]


def test_none_loads_every_file_of_the_directory(tmp_path):
    for name in ("B", "A"):
        write(tmp_path, f"{name}.csv", HEADER + "2024-01-02,10,11,9,10.5,1000\n")
    write(tmp_path, "README.md", "not data")
    assert load_prices(None, data_dir=tmp_path).tickers == ["A", "B"]


def test_bounds_are_inclusive(tmp_path):
    rows = "".join(f"2024-01-0{d},10,11,9,10,1\n" for d in (2, 3, 4, 5))
    write(tmp_path, "TEST.csv", HEADER + rows)
    prices = load_prices("TEST", start="2024-01-03", end="2024-01-04", data_dir=tmp_path)
    assert list(prices.index) == [pd.Timestamp("2024-01-03"), pd.Timestamp("2024-01-04")]
    one_day = load_prices("TEST", start="2024-01-05", end="2024-01-05", data_dir=tmp_path)
    assert len(one_day) == 1


def test_frame_types(tmp_path):
    write(tmp_path, "TEST.csv", HEADER + "2024-01-02,10,11,9,10.5,1000\n")
    prices = load_prices("TEST", data_dir=tmp_path)
    assert prices.source == "csv" and prices.warnings == ()
    assert prices.index.dtype == np.dtype(f"datetime64[{DATE_UNIT}]") and prices.index.name == "date"
    for field in ("open", "high", "low", "close", "volume"):
        assert prices.field(field).dtypes.eq(np.float64).all()


def test_read_csv_file_returns_the_canonical_frame(tmp_path):
    path = write(tmp_path, "TEST.csv", "Date,Close,High,Low,Open\n2024-01-02,10.5,11,9,10\n")
    frame, warned = read_csv_file(path)
    assert warned == []
    assert list(frame.columns) == ["open", "high", "low", "close", "volume"]
    assert frame.iloc[0, :4].tolist() == [10.0, 11.0, 9.0, 10.5] and np.isnan(frame.iloc[0, 4])


# --------------------------------------------------------------------------- directory defaults


def test_env_var_sets_the_default_directory_and_source(tmp_path, monkeypatch):
    write(tmp_path, "TEST.csv", HEADER + "2024-01-02,10,11,9,10.5,1000\n")
    monkeypatch.setenv(ENV_DATA_DIR, str(tmp_path))
    assert default_source() == "csv"
    prices = load_prices("TEST")
    assert prices.source == "csv" and prices.close["TEST"].iloc[0] == 10.5


def test_data_dir_argument_beats_the_env_var(tmp_path, monkeypatch):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    write(tmp_path / "a", "TEST.csv", HEADER + "2024-01-02,10,11,9,10.5,1000\n")
    write(tmp_path / "b", "TEST.csv", HEADER + "2024-01-02,20,21,19,20.5,1000\n")
    monkeypatch.setenv(ENV_DATA_DIR, str(tmp_path / "a"))
    assert load_prices("TEST", data_dir=tmp_path / "b").close["TEST"].iloc[0] == 20.5


def test_env_var_pointing_nowhere_says_where_the_path_came_from(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV_DATA_DIR, str(tmp_path / "gone"))
    with pytest.raises(DataError, match=f"{tmp_path / 'gone'} does not exist \\(from \\${ENV_DATA_DIR}\\)"):
        load_prices("TEST")


def test_without_directory_the_default_source_is_yahoo(tmp_path):
    assert default_source() == "yahoo"
    # yahoo offline = catalog only: the (empty, isolated) catalog is named in the error.
    with pytest.raises(DataError, match="NVDA is not in the catalog"):
        load_prices("NVDA", offline=True)


def test_csv_source_without_any_directory_is_a_param_error():
    with pytest.raises(ParamError, match=f"pass data_dir \\(--data-dir\\) or set {ENV_DATA_DIR}"):
        load_prices("NVDA", source="csv")


def test_list_csv_dir_reports_bad_files_without_raising(tmp_path):
    write(tmp_path, "GOOD.csv", HEADER + "2024-01-02,10,11,9,10.5,1000\n2024-01-05,10,11,9,10.5,1000\n")
    write(tmp_path, "BAD.csv", HEADER + "2024-01-02,10,9,11,10.5,1000\n")
    infos = {info.ticker: info for info in list_csv_dir(tmp_path)}
    assert infos["GOOD"].rows == 2 and infos["GOOD"].first == pd.Timestamp("2024-01-02")
    assert infos["GOOD"].last == pd.Timestamp("2024-01-05") and infos["GOOD"].error is None
    assert infos["BAD"].error is not None and "high 9 < low 11" in infos["BAD"].error


def test_warnings_are_emitted_once_per_load(tmp_path):
    write(tmp_path, "TEST.csv", HEADER + "2024-01-02,10,10,10,10,1\n2024-01-03,20,20,20,20,1\n")
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        prices = load_prices("TEST", data_dir=tmp_path)
    assert len(record) == 1 and str(record[0].message) == prices.warnings[0]
    assert record[0].filename == __file__, "the warning points at the caller of load_prices"


# ----------------------------------------------------------------------- pyarrow's reader beside pandas'

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from shortthehype.data import csv_source, validate  # noqa: E402

FAST_READ = settings(max_examples=300, deadline=None, derandomize=True,
                     suppress_health_check=[HealthCheck.function_scoped_fixture])
CELLS = st.one_of(
    st.sampled_from(["1.5", "0.040018", "2714688000", "1e5", "-2", ".5", "5.", " 1.5", "1.5 ", "1_000", "NAN", "nan",
                     "NaN", "None", "<NA>", "NA", "null", "", "inf", "Infinity", "2024-01-02", '"1.5"', '"NA"', '""',
                     '"a,b"', "1,5", "\u0661\u0662", "x", "\t2", '"', "1e400"]),
    st.text(alphabet="0123456789.eE+-_ naNA\t", max_size=6),
)
NAMES = st.sampled_from(["date", "open", "close", "Close", "Adj Close", "volume", "", "close", '"q"', " x ", "NA"])
LINE_ENDS = st.sampled_from(["\n", "\r\n", "\r"])


@st.composite
def csv_texts(draw) -> tuple[str, str]:
    names = draw(st.lists(NAMES, min_size=1, max_size=4))
    rows = []
    for _ in range(draw(st.integers(0, 5))):
        if draw(st.integers(0, 9)) == 0:
            rows.append("")  # a blank line
        else:
            width = len(names) + (draw(st.sampled_from([-1, 1])) if draw(st.integers(0, 9)) == 0 else 0)
            rows.append(",".join(draw(CELLS) for _ in range(max(width, 1))))
    end = draw(LINE_ENDS)
    bom = "\ufeff" if draw(st.booleans()) else ""
    last = end if draw(st.booleans()) else ""
    return bom + end.join([",".join(names), *rows]) + last, end


def _pandas_table(path: Path):
    """What ``read_csv_file`` read before pyarrow: the table or the exception's type."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)
            return pd.read_csv(path, dtype=str, skip_blank_lines=False, encoding="utf-8-sig", index_col=False)
    except Exception as exc:  # noqa: BLE001 - any failure means pyarrow must decline too
        return type(exc)


@FAST_READ
@given(case=csv_texts())
def test_pyarrow_reads_a_file_as_pandas_does_or_declines(tmp_path, case):
    text, _ = case
    path = tmp_path / "T.csv"
    path.write_bytes(text.encode("utf-8"))
    fast = csv_source._read_plain_csv(path)
    if fast is None:
        return
    slow = _pandas_table(path)
    assert isinstance(slow, pd.DataFrame), f"pyarrow read a file pandas refuses ({slow}): {text!r}"
    pd.testing.assert_frame_equal(fast, slow)


def test_pyarrow_takes_the_plain_files_and_declines_the_others(tmp_path):
    plain = tmp_path / "P.csv"
    plain.write_text("\ufeffdate,close\r\n2024-01-02,NA\r\n2024-01-03,\r\n2024-01-04,None\r\n", encoding="utf-8")
    table = csv_source._read_plain_csv(plain)
    assert table is not None and table["close"].isna().all()
    plain.write_text("date,close\n2024-01-02,1\n\n2024-01-03,2\n", encoding="utf-8")  # a blank line is a row of NaN
    pd.testing.assert_frame_equal(csv_source._read_plain_csv(plain), _pandas_table(plain))
    for text in ["date,close\n2024-01-02,1,9\n",  # ragged
                 'date,"close"\n2024-01-02,1\n',  # quoted header
                 "date,close,close\n2024-01-02,1,2\n",  # pandas renames the second
                 "date,close\r2024-01-02,1\r"]:
        plain.write_text(text, encoding="utf-8")
        assert csv_source._read_plain_csv(plain) is None, text


def test_pandas_missing_cells_are_pandas_own():
    from pandas._libs.parsers import STR_NA_VALUES

    assert set(csv_source.PANDAS_MISSING_CELLS) == set(STR_NA_VALUES)


@settings(max_examples=400, deadline=None, derandomize=True)
@given(cells=st.lists(st.one_of(st.none(), CELLS, st.from_regex(r"[+-]?\d{1,20}(\.\d{0,20})?([eE][+-]?\d{1,3})?",
                                                                 fullmatch=True)), min_size=1, max_size=8))
def test_arrow_cast_equals_pandas_to_numeric_or_declines(cells):
    column = pd.Series(cells, dtype="str")
    fast = validate._decimal_strings_as_floats(column)
    if fast is None:
        return
    slow = pd.to_numeric(column, errors="coerce")
    assert not (slow.isna() & column.notna()).any(), f"Arrow read cells pandas cannot: {cells!r}"
    np.testing.assert_array_equal(fast.view(np.int64), slow.to_numpy(dtype=np.float64, na_value=np.nan).view(np.int64))


def test_arrow_cast_declines_what_pandas_reads_otherwise():
    for cells in [[" 1.5"], ["1_000"], ["NAN"], ["Infinity ", "1"], ["\u0661"]]:
        assert validate._decimal_strings_as_floats(pd.Series(cells, dtype="str")) is None, cells
    assert validate._decimal_strings_as_floats(pd.Series(["1", "2"], dtype=object)) is None  # only string columns


def test_shared_price_files_read_the_same_by_either_reader(shared_prices_dir):
    for path in sorted(shared_prices_dir.glob("*.csv")):
        fast = csv_source._read_plain_csv(path)
        assert fast is not None, path.name
        pd.testing.assert_frame_equal(fast, _pandas_table(path))
        for label in fast.columns[1:]:
            np.testing.assert_array_equal(validate._decimal_strings_as_floats(fast[label]).view(np.int64),
                                          pd.to_numeric(fast[label]).to_numpy(dtype=np.float64).view(np.int64))


def _dates_by_pandas(column: pd.Series):
    """``_parse_dates`` without Arrow: the index, or the error's type."""
    from unittest import mock

    with mock.patch.object(validate, "_iso_dates", return_value=None):
        try:
            return validate._parse_dates(column, "T.csv", np.arange(2, len(column) + 2))
        except DataError as exc:
            return type(exc)


DATE_CELLS = st.one_of(
    st.none(),
    st.sampled_from(["2024-01-02", "2024-1-2", "2024-02-29", "2023-02-29", "2024-02-30", " 2024-01-03", "2024-01-04 ",
                     "2024-01-05 00:00", "2024-01-05T00:00:00", "2024-01-06 10:30", "0999-12-31", "0000-01-01",
                     "1677-09-21", "2262-04-12", "9999-12-31", "20240102", "2024/01/02", "x", ""]),
    st.builds("{:04d}-{:02d}-{:02d}".format, st.integers(0, 9999), st.integers(0, 13), st.integers(0, 32)),
)


@settings(max_examples=400, deadline=None, derandomize=True)
@given(cells=st.lists(DATE_CELLS, min_size=0, max_size=6))
def test_arrow_dates_equal_the_format_parse_or_decline(cells):
    column = pd.Series(cells, dtype="str")
    fast = validate._iso_dates(column)
    if fast is None:
        return
    slow = _dates_by_pandas(column)
    assert isinstance(slow, pd.DatetimeIndex), f"Arrow read dates the format parse refuses: {cells!r}"
    pd.testing.assert_index_equal(fast, slow, exact=True)
    assert fast.freq is None and fast.tz is None


def test_arrow_dates_decline_what_pandas_reads_otherwise():
    for cells in [["2024-1-2"], [" 2024-01-02"], ["2024-01-02", None], ["0999-12-31"], ["2024-01-02 00:00"]]:
        assert validate._iso_dates(pd.Series(cells, dtype="str")) is None, cells
    assert validate._iso_dates(pd.Series(["2024-01-02"], dtype=object)) is None
