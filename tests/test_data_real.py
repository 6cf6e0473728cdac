"""Facts about the real price files, taken from ../shared/data/README.md (an independent record).

Every file is loaded through the csv source with all validation on; the
README's table, index levels, split-date moves and its list of one-day moves
beyond ±45% must be reproduced exactly.
"""

from __future__ import annotations

import os
import re
import warnings

import numpy as np
import pandas as pd
import pytest
from fixtures.data.shared_facts import README_TABLE

from shortthehype.data.csv_source import list_csv_dir
from shortthehype.data.load import load_prices
from shortthehype.errors import DataWarning

#: The README's one-day moves beyond ±45% (all real market moves).
EXPECTED_WARNINGS = {
    ("AAPL", "2000-09-29", "-51.9%"),
    ("AMD", "2016-04-22", "+52.3%"),
    ("ARM", "2024-02-08", "+47.9%"),
}

#: Close-to-close moves on split dates listed in the README (percent): split-adjusted files show no jump.
SPLIT_DAY_MOVES = {
    ("NVDA", "2021-07-20"): -0.89,
    ("NVDA", "2024-06-10"): 0.75,
    ("AAPL", "2020-08-31"): 3.39,
    ("TSLA", "2020-08-31"): 12.57,
    ("TSLA", "2022-08-25"): -0.35,
    ("GOOGL", "2022-07-18"): -2.46,
    ("AMZN", "2022-06-06"): 1.99,
    ("AVGO", "2024-07-15"): 0.80,
    ("SMCI", "2024-10-01"): -2.62,
    ("CSCO", "2000-03-23"): 7.79,
    ("MSFT", "2003-02-18"): 3.35,
    ("ORCL", "2000-10-13"): 13.10,
}


@pytest.fixture(scope="module")
def everything(shared_prices_dir):
    """All shared files loaded at once (aligned on the union of dates), with the warnings emitted."""
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        prices = load_prices(None, data_dir=shared_prices_dir)
    return prices, [w for w in record if issubclass(w.category, DataWarning)]


def test_readme_table_is_transcribed_correctly(shared_prices_dir):
    readme = shared_prices_dir.parent / "README.md"
    if not readme.is_file():
        if os.environ.get("CI"):
            pytest.fail(f"{readme} is missing (CI must have ../shared/data/README.md)")
        pytest.skip("README.md not next to the price files")
    rows = re.findall(r"^\| prices/(\w+)\.csv \| [^|]+ \| (\d{4}-\d\d-\d\d) \| (\d{4}-\d\d-\d\d) \| (\d+) \|", readme.read_text(), re.M)
    assert {stem: (first, last, int(n)) for stem, first, last, n in rows} == README_TABLE


def test_every_file_matches_the_readme_table(everything):
    prices, _ = everything
    assert sorted(prices.tickers) == sorted(README_TABLE)
    for ticker, (first, last, rows) in README_TABLE.items():
        close = prices.close[ticker].dropna()
        assert (str(close.index[0].date()), str(close.index[-1].date()), len(close)) == (first, last, rows), ticker


def test_csv_listing_matches_the_readme_table(shared_prices_dir):
    infos = {info.ticker: info for info in list_csv_dir(shared_prices_dir)}
    assert {t: (str(i.first.date()), str(i.last.date()), i.rows) for t, i in infos.items()} == README_TABLE
    assert all(info.error is None for info in infos.values())


def test_only_the_documented_large_moves_warn(everything):
    prices, emitted = everything
    found = set()
    for line in prices.warnings:
        match = re.fullmatch(r"(\w+) (\d{4}-\d\d-\d\d): one-day close-to-close move ([+-]\d+\.\d%) exceeds ±45% \(an unadjusted split\?\)", line)
        assert match, f"unexpected warning: {line}"
        found.add(match.groups())
    assert found == EXPECTED_WARNINGS and len(prices.warnings) == 3
    assert sorted(str(w.message) for w in emitted) == sorted(prices.warnings)


def test_nasdaq_dotcom_peak_and_trough(everything):
    prices, _ = everything
    close = prices.close["IXIC"]
    assert close[pd.Timestamp("2000-03-10")] == pytest.approx(5048.62, abs=0.005)
    assert close[pd.Timestamp("2002-10-09")] == pytest.approx(1114.11, abs=0.005)
    assert close.loc["1994":"2004"].idxmax() == pd.Timestamp("2000-03-10")
    assert close.loc["2000":"2004"].idxmin() == pd.Timestamp("2002-10-09")


def test_sp500_dotcom_peak_and_trough(everything):
    prices, _ = everything
    close = prices.close["GSPC"]
    assert close[pd.Timestamp("2000-03-24")] == pytest.approx(1527.46, abs=0.005)
    assert close[pd.Timestamp("2002-10-09")] == pytest.approx(776.76, abs=0.005)


def test_index_ticker_reads_the_caretless_file(shared_prices_dir):
    prices = load_prices("^IXIC", start="2000-03-10", end="2000-03-10", data_dir=shared_prices_dir)
    assert prices.tickers == ["^IXIC"] and prices.close.iloc[0, 0] == pytest.approx(5048.62, abs=0.005)


def test_pltr_first_trading_day_and_nan_before(everything):
    prices, _ = everything
    pltr = prices.close["PLTR"]
    assert pltr.first_valid_index() == pd.Timestamp("2020-09-30")
    assert pltr.loc[:"2020-09-29"].isna().all(), "never filled before listing"


def test_split_days_show_no_jump(everything):
    prices, _ = everything
    for (ticker, day), percent in SPLIT_DAY_MOVES.items():
        close = prices.close[ticker].dropna()
        i = close.index.get_loc(pd.Timestamp(day))
        move = (close.iloc[i] / close.iloc[i - 1] - 1) * 100
        assert move == pytest.approx(percent, abs=0.006), (ticker, day)


def test_september_2001_closure_is_absent_not_filled(everything):
    prices, _ = everything
    closed = pd.date_range("2001-09-11", "2001-09-14")
    assert not prices.index.isin(closed).any()


def test_every_file_trades_exactly_on_spy_days_from_1993(everything):
    # README: within its own date range every file has exactly SPY's trading days (1993-01-29 on).
    prices, _ = everything
    spy_days = prices.close["SPY"].dropna().index
    for ticker in prices.tickers:
        days = prices.close[ticker].dropna().index
        lo, hi = max(days[0], spy_days[0]), min(days[-1], spy_days[-1])
        mine = days[(days >= lo) & (days <= hi)]
        spy = spy_days[(spy_days >= lo) & (spy_days <= hi)]
        assert mine.equals(spy), ticker


def test_flat_rows_and_zero_volume_load_as_is(everything):
    prices, _ = everything
    day = pd.Timestamp("2015-01-02")  # AMD: volume 0 and O=H=L=C in the Yahoo sources
    assert prices.volume.at[day, "AMD"] == 0.0
    values = [prices.field(f).at[day, "AMD"] for f in ("open", "high", "low", "close")]
    assert len(set(values)) == 1 and np.isfinite(values[0])
