"""Property tests: loading several CSVs aligns them on the union of their dates, NaN elsewhere, never forward-filled.

Random per-ticker date subsets of a business-day calendar are written as CSV
files and loaded back; the result is compared with a naive dict-based
expectation (each ticker's value on its own dates, NaN on the others) and with
``Prices.from_frames`` on the same frames.
"""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from shortthehype.constants import PRICE_FIELDS
from shortthehype.data.load import load_prices
from shortthehype.data.prices import Prices
from shortthehype.errors import DataError, DataWarning

CALENDAR = pd.bdate_range("2021-01-04", periods=30)
NAMES = ["AAA", "BBB", "CCC", "DDD"]


@st.composite
def ticker_series(draw) -> dict[pd.Timestamp, tuple[float, float, float, float, float]]:
    """One ticker: a non-empty subset of CALENDAR with a valid OHLCV row on each day."""
    days = draw(st.lists(st.integers(0, len(CALENDAR) - 1), min_size=1, max_size=len(CALENDAR), unique=True))
    rows = {}
    for day in sorted(days):
        close = draw(st.floats(50.0, 70.0))  # bounded: no split-sized moves, so no warnings
        open_ = draw(st.floats(50.0, 70.0))
        high = max(open_, close) * (1 + draw(st.floats(0.0, 0.05)))
        low = min(open_, close) * (1 - draw(st.floats(0.0, 0.05)))
        volume = float(draw(st.integers(0, 10**9)))
        rows[CALENDAR[day]] = (open_, high, low, close, volume)
    return rows


def write_csv(path: Path, rows: dict, shuffle_seed: int | None = None) -> None:
    items = list(rows.items())
    if shuffle_seed is not None:
        np.random.default_rng(shuffle_seed).shuffle(items)
    lines = ["date,open,high,low,close,volume"]
    lines += [f"{day.date()}," + ",".join(repr(float(v)) for v in values) for day, values in items]
    path.write_text("\n".join(lines) + "\n")


def to_frame(rows: dict) -> pd.DataFrame:
    index = pd.DatetimeIndex(sorted(rows), name="date").as_unit("us")
    return pd.DataFrame([rows[d] for d in index], index=index, columns=list(PRICE_FIELDS), dtype=np.float64)


@settings(max_examples=40, deadline=None)
@given(
    series=st.lists(ticker_series(), min_size=1, max_size=4),
    bounds=st.tuples(st.integers(0, len(CALENDAR) - 1), st.integers(0, len(CALENDAR) - 1)),
    use_bounds=st.booleans(),
)
def test_alignment_is_the_union_with_nan_and_no_forward_fill(series, bounds, use_bounds):
    names = NAMES[: len(series)]
    data = dict(zip(names, series, strict=True))
    lo, hi = sorted(bounds)
    start, end = (CALENDAR[lo], CALENDAR[hi]) if use_bounds else (None, None)
    in_range = {
        name: {d: v for d, v in rows.items() if (start is None or d >= start) and (end is None or d <= end)}
        for name, rows in data.items()
    }
    with tempfile.TemporaryDirectory() as tmp:
        for name, rows in data.items():
            write_csv(Path(tmp) / f"{name}.csv", rows)
        empty = [name for name in names if not in_range[name]]
        if len(empty) == len(names):
            try:
                load_prices(list(reversed(names)), start=start, end=end, data_dir=tmp)
            except DataError as exc:
                assert all(f"{name} has no rows" in str(exc) for name in empty)
                return
            raise AssertionError("a range in which no ticker has rows must be an error")
        with warnings.catch_warnings():
            # only the tickers without rows in the range warn (their columns are all NaN)
            warnings.simplefilter("ignore", DataWarning)
            prices = load_prices(list(reversed(names)), start=start, end=end, data_dir=tmp)

    # Union of dates, sorted; columns in the requested order.
    union = sorted(set().union(*(rows.keys() for rows in in_range.values())))
    assert list(prices.index) == union
    assert prices.tickers == list(reversed(names))
    # Each ticker: its own values on its dates, NaN on every other date (no forward or back fill).
    for name in names:
        for i, field in enumerate(PRICE_FIELDS):
            column = prices.field(field)[name]
            for day in union:
                if day in in_range[name]:
                    assert column[day] == in_range[name][day][i]
                else:
                    assert np.isnan(column[day])
    # Same as aligning the frames directly.
    expected = Prices.from_frames({name: to_frame(in_range[name]) for name in reversed(names)})
    for field in PRICE_FIELDS:
        pd.testing.assert_frame_equal(prices.field(field), expected.field(field))
    assert sorted(line.split()[0] for line in prices.warnings) == sorted(empty)


@settings(max_examples=15, deadline=None)
@given(rows=ticker_series(), seed=st.integers(0, 2**32 - 1))
def test_row_order_in_the_file_does_not_change_the_result(rows, seed):
    with tempfile.TemporaryDirectory() as tmp:
        write_csv(Path(tmp) / "AAA.csv", rows)
        (Path(tmp) / "shuffled").mkdir()
        write_csv(Path(tmp) / "shuffled" / "AAA.csv", rows, shuffle_seed=seed)
        ordered = load_prices("AAA", data_dir=tmp)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataWarning)
            shuffled = load_prices("AAA", data_dir=Path(tmp) / "shuffled")
    for field in PRICE_FIELDS:
        pd.testing.assert_frame_equal(ordered.field(field), shuffled.field(field))
    assert ordered.warnings == ()
    assert len(shuffled.warnings) == (0 if _shuffled_days(rows, seed) == sorted(rows) else 1)


def _shuffled_days(rows: dict, seed: int) -> list[pd.Timestamp]:
    """The day order write_csv produced for this seed."""
    items = list(rows.items())
    np.random.default_rng(seed).shuffle(items)
    return [day for day, _ in items]


def test_listing_gap_is_nan_not_the_previous_price(tmp_path):
    # Hand example: B lists on day 3 and skips day 5; A trades every day.
    days = CALENDAR[:6]
    write_csv(tmp_path / "A.csv", {d: (10.0 + i, 11.0 + i, 9.0 + i, 10.0 + i, 1.0) for i, d in enumerate(days)})
    write_csv(tmp_path / "B.csv", {d: (20.0 + i, 21.0 + i, 19.0 + i, 20.0 + i, 1.0) for i, d in enumerate(days) if i in (2, 3, 5)})
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)
        close = load_prices(["A", "B"], data_dir=tmp_path).close
    assert close["A"].tolist() == [10.0, 11.0, 12.0, 13.0, 14.0, 15.0]
    b = close["B"].tolist()
    assert np.isnan(b[0]) and np.isnan(b[1]) and b[2] == 22.0 and b[3] == 23.0 and np.isnan(b[4]) and b[5] == 25.0


def test_from_frames_refuses_a_frame_with_a_date_twice():
    days = pd.DatetimeIndex(["2024-01-02", "2024-01-03", "2024-01-03"], name="date")
    frame = pd.DataFrame(1.0, index=days, columns=list(PRICE_FIELDS))
    good = pd.DataFrame(1.0, index=days[:2], columns=list(PRICE_FIELDS))
    try:
        Prices.from_frames({"AAA": good, "BBB": frame})
    except DataError as exc:
        assert str(exc) == "BBB: duplicate date 2024-01-03 (one row per day)"
    else:
        raise AssertionError("a frame with a date twice must be refused")
