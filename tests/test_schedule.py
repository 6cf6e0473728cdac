"""Rebalance calendars checked against an independent groupby computation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from shortthehype.errors import ParamError
from shortthehype.schedule import rebalance_mask

INDEX = pd.bdate_range("2024-01-01", "2024-12-31")


def period_ends(index: pd.DatetimeIndex, key) -> set[pd.Timestamp]:
    last: dict[object, pd.Timestamp] = {}
    for date, period in zip(index, key(index)):
        last[period] = max(last.get(period, date), date)
    return set(last.values())


@pytest.mark.parametrize(
    ("frequency", "key"),
    [
        ("weekly", lambda ix: [(d.isocalendar().year, d.isocalendar().week) for d in ix]),
        ("monthly", lambda ix: [(d.year, d.month) for d in ix]),
        ("quarterly", lambda ix: [(d.year, d.quarter) for d in ix]),
    ],
)
def test_period_frequencies_rebalance_on_period_ends_plus_first_bar(frequency, key):
    mask = rebalance_mask(INDEX, frequency)
    expected = period_ends(INDEX, key) - {INDEX[-1]} | {INDEX[0]}
    assert set(INDEX[mask]) == expected


def test_monthly_known_dates():
    mask = rebalance_mask(INDEX, "monthly")
    dates = INDEX[mask]
    assert dates[0] == pd.Timestamp("2024-01-01")
    assert pd.Timestamp("2024-01-31") in dates  # Wednesday
    assert pd.Timestamp("2024-03-29") in dates  # last business day of March
    assert pd.Timestamp("2024-06-28") in dates  # June 30 is a Sunday
    assert len(dates) == 12  # first bar + 11 complete month ends (December is the last, incomplete period)


def test_daily_once_and_empty():
    assert rebalance_mask(INDEX, "daily").all()
    once = rebalance_mask(INDEX, "once")
    assert once[0] and once.sum() == 1
    assert rebalance_mask(pd.DatetimeIndex([]), "monthly").shape == (0,)


def test_unknown_frequency_is_an_error():
    with pytest.raises(ParamError, match=r"'fortnightly' is unknown"):
        rebalance_mask(INDEX, "fortnightly")
    assert np.array_equal(rebalance_mask(INDEX[:1], "monthly"), [True])


@pytest.mark.parametrize("unit", ["ns", "us", "s"])
def test_calendar_dates_equal_normalize(unit):
    from shortthehype.schedule import calendar_dates

    rng = np.random.default_rng(3)
    stamps = pd.Timestamp("1999-12-30") + pd.to_timedelta(np.sort(rng.integers(0, 10**9, 300)), unit="s")
    index = pd.DatetimeIndex(stamps, name="date").as_unit(unit)
    got = calendar_dates(index)
    want = index.normalize()
    assert got.equals(want) and got.dtype == want.dtype and got.name == "date"
    assert calendar_dates(index.to_numpy()).equals(want)
    aware = index.tz_localize("America/New_York")
    assert calendar_dates(aware).equals(aware.normalize())
