"""The yahoo source against recorded yfinance responses (no network).

``yfinance.download`` is replaced by :class:`YahooReplay`, which answers
from frames recorded in yfinance 1.7's exact shape
(``tests/fixtures/data/make_yahoo_fixtures.py``); "today" is pinned.
"""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pandas as pd
import pytest
from fixtures.data.yahoo_replay import YahooReplay, load_recorded

from shortthehype.data import yahoo
from shortthehype.data.catalog import Catalog
from shortthehype.data.load import load_prices
from shortthehype.data.yahoo import fetch_ticker, frame_from_download
from shortthehype.errors import DataError, DownloadError


@pytest.fixture
def replay(monkeypatch):
    import yfinance

    fake = YahooReplay()
    monkeypatch.setattr(yfinance, "download", fake)
    return fake


@pytest.fixture
def today(monkeypatch):
    """Set New York's date; default 2024-10-01, so 2024-09-30 is the last complete day."""

    def set_today(day: str) -> None:
        monkeypatch.setattr(yahoo, "_market_today", lambda: pd.Timestamp(day))

    set_today("2024-10-01")
    return set_today


def recorded_close(name: str = "NVDA.parquet", ticker: str = "NVDA") -> pd.Series:
    frame = load_recorded(name)
    return frame[("Close", ticker)]


def catalog_bytes(tmp_path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(tmp_path.glob("*.parquet"))}


# --------------------------------------------------------------------------- recordings


def test_recordings_have_the_shape_yfinance_returns(shared_prices_dir):
    sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent / "fixtures" / "data"))
    try:
        from make_yahoo_fixtures import build_all
    finally:
        sys.path.pop(0)
    import yfinance  # noqa: F401  (its import adds a warnings filter; import it before ours)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # yfinance's own pandas deprecation warnings
        rebuilt = build_all(shared_prices_dir)
    for name, frame in rebuilt.items():
        pd.testing.assert_frame_equal(load_recorded(name), frame)
    nvda = load_recorded("NVDA.parquet")
    assert nvda.columns.names == ["Price", "Ticker"]
    assert list(nvda.columns.get_level_values(0)) == ["Close", "High", "Low", "Open", "Volume"]
    assert nvda.index.name == "Date" and str(nvda.index.dtype) == "datetime64[s]" and nvda.index.tz is None
    assert nvda[("Volume", "NVDA")].dtype == np.int64


# --------------------------------------------------------------------------- first fetch


def test_first_fetch_downloads_full_adjusted_history(tmp_path, replay, today):
    report = fetch_ticker("nvda", cache_dir=tmp_path)
    assert len(replay.calls) == 1
    call = replay.calls[0]
    assert call["ticker"] == "NVDA" and call["period"] == "max" and "end" not in call and "start" not in call
    assert call["auto_adjust"] is True and call["actions"] is False and call["progress"] is False
    assert call["multi_level_index"] is True and call["group_by"] == "column"
    frame, meta = Catalog(tmp_path).read("NVDA")
    close = recorded_close()
    assert list(frame.index) == list(close.index)
    np.testing.assert_array_equal(frame["close"].to_numpy(), close.to_numpy())
    np.testing.assert_array_equal(frame["volume"].to_numpy(), load_recorded("NVDA.parquet")[("Volume", "NVDA")].to_numpy(np.float64))
    assert (report.action, report.rows, report.rows_added, report.downloads) == ("new", 188, 188, 1)
    assert meta.source == "yahoo" and meta.requested_start is None and meta.complete_through == pd.Timestamp("2024-09-30")
    # Adjusted data: NVDA's 10-for-1 split on 2024-06-10 is no jump (+0.75% per the shared README).
    move = frame.at[pd.Timestamp("2024-06-10"), "close"] / frame.at[pd.Timestamp("2024-06-07"), "close"] - 1
    assert move == pytest.approx(0.0075, abs=0.0005)


def test_end_is_inclusive_and_sent_exclusive_to_yfinance(tmp_path, replay, today):
    fetch_ticker("NVDA", start="2024-03-01", end="2024-03-28", cache_dir=tmp_path)
    assert replay.ranges() == [("2024-03-01", "2024-03-29")]
    frame, meta = Catalog(tmp_path).read("NVDA")
    assert frame.index[0] == pd.Timestamp("2024-03-01") and frame.index[-1] == pd.Timestamp("2024-03-28")
    assert meta.requested_start == pd.Timestamp("2024-03-01") and meta.complete_through == pd.Timestamp("2024-03-28")


def test_bars_dated_today_are_never_stored(tmp_path, replay, today):
    live = load_recorded("NVDA.parquet").iloc[[-1]].copy()
    live.index = pd.DatetimeIndex([pd.Timestamp("2024-10-01")], name="Date").as_unit("s")
    replay.extra_rows["NVDA"] = live
    fetch_ticker("NVDA", cache_dir=tmp_path)
    assert Catalog(tmp_path).read_meta("NVDA").last == pd.Timestamp("2024-09-30")


def test_start_in_the_future_is_an_error(tmp_path, replay, today):
    with pytest.raises(DataError, match=r"nothing to fetch for NVDA in 2024-10-01..end: the last complete day is 2024-09-30"):
        fetch_ticker("NVDA", start="2024-10-01", cache_dir=tmp_path)
    assert replay.calls == []


# --------------------------------------------------------------------------- incremental updates


def test_later_fetch_downloads_only_from_the_last_stored_day(tmp_path, replay, today):
    today("2024-07-01")
    fetch_ticker("NVDA", cache_dir=tmp_path)
    assert Catalog(tmp_path).read_meta("NVDA").last == pd.Timestamp("2024-06-28")
    today("2024-10-01")
    report = fetch_ticker("NVDA", cache_dir=tmp_path)
    assert replay.ranges()[1] == ("2024-06-28", None)  # overlap day included, nothing earlier
    added = int((recorded_close().index > pd.Timestamp("2024-06-28")).sum())
    assert (report.action, report.rows_added, report.rows, report.downloads) == ("extended", added, 188, 1)
    frame, _ = Catalog(tmp_path).read("NVDA")
    np.testing.assert_array_equal(frame["close"].to_numpy(), recorded_close().to_numpy())


def test_fetch_when_up_to_date_downloads_nothing(tmp_path, replay, today):
    fetch_ticker("NVDA", cache_dir=tmp_path)
    before = catalog_bytes(tmp_path)
    report = fetch_ticker("NVDA", cache_dir=tmp_path)
    assert report.action == "up to date" and report.downloads == 0 and len(replay.calls) == 1
    assert catalog_bytes(tmp_path) == before
    fetch_ticker("NVDA", start="2024-05-01", end="2024-06-30", cache_dir=tmp_path)
    assert len(replay.calls) == 1, "a sub-range of what is stored needs no download"


def test_shifted_adjustment_triggers_a_full_redownload(tmp_path, replay, today):
    today("2024-07-01")
    fetch_ticker("NVDA", cache_dir=tmp_path)
    replay.scale["NVDA"] = 0.999  # a new dividend re-scaled every earlier price
    today("2024-10-01")
    report = fetch_ticker("NVDA", cache_dir=tmp_path)
    assert replay.ranges()[1:] == [("2024-06-28", None), (None, None)]
    assert report.action == "refreshed" and report.downloads == 2
    assert "close on 2024-06-28 changed" in report.note
    frame, _ = Catalog(tmp_path).read("NVDA")
    np.testing.assert_allclose(frame["close"].to_numpy(), 0.999 * recorded_close().to_numpy(), rtol=1e-15)


def test_round_off_sized_difference_is_not_a_shift(tmp_path, replay, today):
    today("2024-07-01")
    fetch_ticker("NVDA", cache_dir=tmp_path)
    replay.scale["NVDA"] = 1 + 1e-8
    today("2024-10-01")
    assert fetch_ticker("NVDA", cache_dir=tmp_path).action == "extended"


def test_earlier_start_prepends_up_to_the_first_stored_day(tmp_path, replay, today):
    fetch_ticker("NVDA", start="2024-06-03", cache_dir=tmp_path)
    report = fetch_ticker("NVDA", start="2024-03-01", cache_dir=tmp_path)
    assert replay.ranges()[1] == ("2024-03-01", "2024-06-04")
    close = recorded_close()
    expected = close.loc["2024-03-01":]
    frame, meta = Catalog(tmp_path).read("NVDA")
    assert list(frame.index) == list(expected.index) and report.action == "extended"
    assert meta.requested_start == pd.Timestamp("2024-03-01")
    fetch_ticker("NVDA", start="2024-04-01", cache_dir=tmp_path)
    assert len(replay.calls) == 2


def test_full_history_after_a_partial_fetch(tmp_path, replay, today):
    fetch_ticker("NVDA", start="2024-06-03", cache_dir=tmp_path)
    fetch_ticker("NVDA", cache_dir=tmp_path)
    assert replay.ranges()[1] == (None, "2024-06-04")
    frame, meta = Catalog(tmp_path).read("NVDA")
    assert frame.index[0] == pd.Timestamp("2024-01-02") and meta.requested_start is None


def test_start_before_listing_is_remembered(tmp_path, replay, today):
    today("2021-01-04")
    fetch_ticker("PLTR", start="2020-01-01", cache_dir=tmp_path)
    frame, meta = Catalog(tmp_path).read("PLTR")
    assert frame.index[0] == pd.Timestamp("2020-09-30")  # PLTR's first trading day
    assert meta.requested_start == pd.Timestamp("2020-01-01")
    fetch_ticker("PLTR", start="2020-01-01", cache_dir=tmp_path)
    assert len(replay.calls) == 1, "Yahoo was already asked for 2020-01-01 on: nothing earlier exists"


def test_refresh_downloads_again(tmp_path, replay, today):
    fetch_ticker("NVDA", cache_dir=tmp_path)
    report = fetch_ticker("NVDA", cache_dir=tmp_path, refresh=True)
    assert report.action == "refreshed" and report.note == "refresh requested" and len(replay.calls) == 2


# --------------------------------------------------------------------------- failures


def assert_untouched(tmp_path, before):
    assert catalog_bytes(tmp_path) == before
    assert not list(tmp_path.glob(".*.tmp"))


def test_unknown_ticker_names_ticker_and_yfinance_reason(tmp_path, replay, today):
    with pytest.raises(DownloadError) as info:
        fetch_ticker("ZZZZ", cache_dir=tmp_path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("yahoo download of ZZZZ failed: yfinance returned no rows")
    assert "YFPricesMissingError" in message and "the catalog was not changed" in message
    assert catalog_bytes(tmp_path) == {}


@pytest.mark.parametrize(
    ("make_response", "expected"),
    [
        (lambda: ConnectionError("connection reset by peer"), "ConnectionError: connection reset by peer"),
        (lambda: load_recorded("NVDA.parquet").iloc[:0], "no rows"),
        (lambda: load_recorded("NVDA.parquet").drop(columns=[("Low", "NVDA")]), "missing column(s) low"),
        (lambda: load_recorded("NVDA.parquet").rename(columns={"NVDA": "AMD"}), "has no columns for NVDA (got AMD)"),
        (lambda: "not a frame", "returned str, not a DataFrame"),
    ],
    ids=["exception", "empty", "missing-column", "other-ticker", "not-a-frame"],
)
def test_failed_download_names_the_reason_and_leaves_the_catalog_untouched(tmp_path, replay, today, make_response, expected):
    today("2024-07-01")
    fetch_ticker("NVDA", cache_dir=tmp_path)
    before = catalog_bytes(tmp_path)
    replay.responses["NVDA"] = make_response()
    today("2024-10-01")
    with pytest.raises(DownloadError) as info:
        fetch_ticker("NVDA", cache_dir=tmp_path)
    message = str(info.value)
    assert "\n" not in message and "NVDA" in message and expected in message
    assert_untouched(tmp_path, before)


def test_invalid_row_inside_the_download_is_refused(tmp_path, replay, today):
    bad = load_recorded("NVDA.parquet")
    bad.loc[pd.Timestamp("2024-05-15"), ("Close", "NVDA")] = np.nan
    replay.responses["NVDA"] = bad
    with pytest.raises(DownloadError, match=r"yahoo download of NVDA failed: missing \(NaN\) close on 2024-05-15"):
        fetch_ticker("NVDA", cache_dir=tmp_path)
    assert catalog_bytes(tmp_path) == {}


def test_leading_rows_without_prices_are_dropped_with_a_warning(tmp_path, replay, today):
    # Yahoo's first rows of some old listings have no opening price (AMD before 1983-03-21).
    early = load_recorded("NVDA.parquet")
    early.loc[early.index[:3], ("Open", "NVDA")] = np.nan
    replay.responses["NVDA"] = early
    report = fetch_ticker("NVDA", cache_dir=tmp_path)
    assert Catalog(tmp_path).read_meta("NVDA").first == early.index[3]
    assert report.warnings == ("yahoo NVDA: dropped 3 leading row(s) without a valid open/high/low/close (2024-01-02..2024-01-04)",)


def test_frame_from_download_accepts_flat_columns():
    flat = load_recorded("NVDA.parquet").droplevel("Ticker", axis=1)
    frame, warned = frame_from_download(flat, "NVDA")
    assert warned == [] and len(frame) == 188 and list(frame.columns) == ["open", "high", "low", "close", "volume"]


# --------------------------------------------------------------------------- load_prices


def test_load_prices_yahoo_fetches_into_the_catalog(tmp_path, replay, today):
    prices = load_prices("^ixic", start="2000-01-01", end="2000-12-31", source="yahoo", cache_dir=tmp_path)
    assert replay.ranges() == [("2000-01-01", "2001-01-01")] and replay.calls[0]["ticker"] == "^IXIC"
    assert prices.source == "yahoo" and prices.tickers == ["^IXIC"]
    assert prices.close.at[pd.Timestamp("2000-03-10"), "^IXIC"] == pytest.approx(5048.62, abs=0.005)
    assert (tmp_path / "^IXIC.parquet").is_file()
    again = load_prices("^IXIC", start="2000-03-01", end="2000-03-31", source="yahoo", cache_dir=tmp_path)
    assert len(replay.calls) == 1 and len(again) == 23


def test_offline_reads_the_catalog_only(tmp_path, replay, today):
    with pytest.raises(DataError, match="NVDA is not in the catalog"):
        load_prices("NVDA", source="yahoo", offline=True, cache_dir=tmp_path)
    fetch_ticker("NVDA", end="2024-06-28", cache_dir=tmp_path)
    prices = load_prices("NVDA", source="yahoo", offline=True, cache_dir=tmp_path)
    assert len(replay.calls) == 1 and prices.source == "cache" and prices.index[-1] == pd.Timestamp("2024-06-28")
    same = load_prices("NVDA", source="cache", cache_dir=tmp_path)
    pd.testing.assert_frame_equal(prices.close, same.close)


def test_failed_download_in_load_prices_propagates(tmp_path, replay, today):
    replay.responses["NVDA"] = TimeoutError("read timed out")
    with pytest.raises(DownloadError, match="yahoo download of NVDA failed: TimeoutError: read timed out"):
        load_prices("NVDA", source="yahoo", cache_dir=tmp_path)


def test_yahoo_needs_tickers(tmp_path):
    from shortthehype.errors import ParamError

    with pytest.raises(ParamError, match="source 'yahoo' needs tickers"):
        load_prices(None, source="yahoo", cache_dir=tmp_path)


def test_offline_failure_says_so_and_how_to_work_offline(tmp_path, today, monkeypatch):
    import logging

    import yfinance

    def offline(ticker, **kwargs):  # what yfinance does without a network: log the failure, return an empty frame
        logging.getLogger("yfinance").error(
            f"1 Failed download: ['{ticker}']: Failed to perform, curl: (6) Could not resolve host: "
            "query2.finance.yahoo.com. See https://curl.se/libcurl/c/libcurl-errors.html first for more details. "
            + "retrying " * 60
        )
        return pd.DataFrame()

    monkeypatch.setattr(yfinance, "download", offline)
    with pytest.raises(DownloadError) as info:
        load_prices("PLTR", source="yahoo", cache_dir=tmp_path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("yahoo download of PLTR failed: no connection to Yahoo (yfinance: 1 Failed download: ['PLTR']")
    assert "unknown or delisted" not in message
    assert "--data-dir" in message and "$SHORTTHEHYPE_DATA_DIR" in message and "--source cache" in message
    assert "retrying (...)" in message  # the long log is cut between words
