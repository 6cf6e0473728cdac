"""The array paths of ``backtest()``'s pandas layer against their plain pandas twins, and caching that never shows.

Each function below that ends in ``_pandas`` is the obviously-correct
formulation (label-based pandas, as the code read before it worked on row
positions); the tests compare the two on real and constructed data, edge
cases included (late listings, targets before the window, a window starting
on the first bar, mixed dtypes).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from shortthehype import backtest
from shortthehype.constants import PRICE_FIELDS, STALE_DATA_BARS
from shortthehype.data.load import load_prices
from shortthehype.data.prices import Prices
from shortthehype.errors import DataError
from shortthehype.data.rates import rate_on_bars
from shortthehype.data.validate import suspicious_moves
from shortthehype.enums import TradeStatus
from shortthehype.runner import _common_end, _window_warnings, prepare_window, spec_needs, resolve_spec


def _frames_equal(a: Prices, b: dict[str, pd.DataFrame]) -> None:
    for name in PRICE_FIELDS:
        pd.testing.assert_frame_equal(getattr(a, name), b[name])


def select_pandas(prices: Prices, tickers: list[str]) -> dict[str, pd.DataFrame]:
    frames = {name: getattr(prices, name)[tickers] for name in PRICE_FIELDS}
    keep = frames["close"].notna().any(axis=1)
    return {name: frame.loc[keep] for name, frame in frames.items()}


def between_pandas(prices: Prices, start, end) -> dict[str, pd.DataFrame]:
    mask = np.ones(len(prices), dtype=bool)
    if start is not None:
        mask &= prices.index >= pd.Timestamp(start)
    if end is not None:
        mask &= prices.index <= pd.Timestamp(end)
    return {name: getattr(prices, name).loc[mask] for name in PRICE_FIELDS}


def prepare_window_pandas(weights, index, start, end):
    mask = np.ones(len(index), dtype=bool)
    if start is not None:
        mask &= index >= start
    if end is not None:
        mask &= index <= end
    window = index[mask]
    full = weights.reindex(index)
    in_force = full.loc[: window[0]].ffill().iloc[-1]
    windowed = full.loc[window].copy()
    windowed.iloc[0] = windowed.iloc[0].fillna(in_force)
    return window, windowed


def window_warnings_pandas(loaded: Prices, window: Prices, tickers) -> list[str]:
    import re

    ours = [t for t in tickers if t in loaded.tickers]
    all_moves = {line for t in loaded.tickers for line in suspicious_moves(loaded.close[t], t)}
    mentions = re.compile("|".join(rf"\b{re.escape(t)}\b" for t in ours)) if ours else None
    notes = [line for line in loaded.warnings if line not in all_moves and mentions and mentions.search(line)]
    inside = loaded.close.loc[window.index[0] : window.index[-1]]
    return notes + [line for t in ours for line in suspicious_moves(inside[t], t)]


def common_end_pandas(prices: Prices, traded, end):
    index = prices.index
    latest = index[-1] if end is None else min(index[-1], end)
    latest_pos = index.get_indexer([latest], method="pad")[0]
    cut, cut_ticker = latest, None
    for ticker in traded:
        last = prices.close[ticker].last_valid_index()
        if last is None or last >= cut:
            continue
        if latest_pos - index.get_loc(last) <= STALE_DATA_BARS:
            cut, cut_ticker = last, ticker
    return cut if cut_ticker else end, cut_ticker


@pytest.fixture(scope="module")
def real(shared_prices_dir):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_prices(["NVDA", "PLTR", "TSM", "AMD", "QQQ"], data_dir=shared_prices_dir)


def _market(n: int = 60, seed: int = 3) -> Prices:
    """Three tickers: B lists on bar 10, C stops 3 bars before the end and jumps +80 % on bar 30."""
    rng = np.random.default_rng(seed)
    index = pd.DatetimeIndex(pd.bdate_range("2024-01-01", periods=n), name="date")
    close = pd.DataFrame(100.0 * np.cumprod(1 + rng.normal(0, 0.01, (n, 3)), axis=0), index=index, columns=["A", "B", "C"])
    close.loc[index[:10], "B"] = np.nan
    close.loc[index[-3:], "C"] = np.nan
    close.loc[index[30]:, "C"] *= 1.8
    close.columns.name = "ticker"
    prices = Prices.from_close(close)
    line = suspicious_moves(close["C"], "C")
    return Prices(**{f: getattr(prices, f) for f in PRICE_FIELDS}, warnings=("B: listed late", "C: a note", *line))


@pytest.mark.parametrize("tickers", [["PLTR", "NVDA"], ["TSM"], ["QQQ", "AMD", "PLTR"]])
def test_select_and_between_equal_pandas(real, tickers):
    chosen = real.select(tickers)
    _frames_equal(chosen, select_pandas(real, tickers))
    assert real.select(tickers) is chosen  # once per loaded data set
    for start, end in ((None, None), ("2021-01-05", "2023-02-01"), ("2020-09-30", None), (None, "1999-01-04"),
                       ("2030-01-01", None)):
        _frames_equal(chosen.between(start, end), between_pandas(chosen, start, end))


@pytest.mark.parametrize("tickers", [["PLTR", "NVDA"], ["TSM"], ["QQQ", "AMD", "PLTR"]])
def test_columns_of_and_side_by_side_equal_pandas(real, tickers):
    from shortthehype.data.prices import side_by_side

    chosen = real.columns_of(tickers)
    _frames_equal(chosen, {name: getattr(real, name)[tickers] for name in PRICE_FIELDS})  # every date kept
    assert real.columns_of(real.tickers) is real
    rest = [t for t in real.tickers if t not in tickers]
    joined = side_by_side([chosen, real.columns_of(rest)], source="csv", warnings=("a note",))
    _frames_equal(joined, {name: pd.concat([getattr(real, name)[tickers], getattr(real, name)[rest]], axis=1)
                           for name in PRICE_FIELDS})
    assert joined.source == "csv" and joined.warnings == ("a note",)
    with pytest.raises(DataError, match="not in these prices: XYZ"):
        real.columns_of(["PLTR", "XYZ"])
    with pytest.raises(DataError, match="not on the same dates"):
        side_by_side([chosen, chosen.between("2021-01-05", None)])


def test_side_by_side_keeps_the_dtypes_of_mixed_columns(real):
    from shortthehype.data.prices import side_by_side

    frames = {name: getattr(real.columns_of(["TSM"]), name) for name in PRICE_FIELDS}
    frames["volume"] = frames["volume"].fillna(0).astype(np.int64)
    whole = side_by_side([Prices(**frames), real.columns_of(["AMD"])])
    assert whole.volume.dtypes.tolist() == [np.int64, np.float64]
    pd.testing.assert_series_equal(whole.close["AMD"], real.close["AMD"])


def test_threads_sharing_prices_keep_and_read_their_stores_without_errors():
    """Prices.recent from many threads at once (a notebook's thread pool, a dask worker's threads): every call
    returns its own key's value, and the store never holds more than it keeps."""
    from threads import errors_in_threads

    prices = _market()

    def work(thread: int) -> None:
        for i in range(5000):
            key = (thread * 7 + i) % 5
            assert prices.recent(("shared",), key, lambda: key * 10, 2) == key * 10
            assert len(prices.recent_store(("shared",), 2)) <= 2

    errors = errors_in_threads(work)
    assert not errors, errors[:3]


def test_backtests_in_threads_on_one_price_set_equal_the_same_backtests_one_by_one(real):
    """What docs/notebook.md says: threads may share a loaded price set (its kept arrays churn: 8 parameter sets,
    4 kept)."""
    from concurrent.futures import ThreadPoolExecutor

    cases = [{"rebalance": rebalance, "weights.NVDA": weight, "weights.PLTR": -0.2}
             for rebalance in ("daily", "weekly", "monthly", "quarterly") for weight in (-0.1, -0.3)]

    def equity(overrides: dict) -> pd.Series:
        return backtest("static-hype-hedge", prices=real, overrides=overrides).result.equity

    expected = [equity(case) for case in cases]
    with ThreadPoolExecutor(max_workers=8) as pool:
        for _ in range(3):
            for got, want in zip(pool.map(equity, cases), expected):
                pd.testing.assert_series_equal(got, want)


def test_select_survives_pickling_without_its_memo(real):
    import pickle

    chosen = real.select(["PLTR"])
    chosen.cached(("something derived",), lambda: 1)
    assert chosen.tickers == ["PLTR"]
    back = pickle.loads(pickle.dumps(chosen))
    assert {"_derived", "_tickers"} <= set(chosen.__dict__) and not {"_derived", "_tickers"} & set(back.__dict__)
    assert back.tickers == ["PLTR"]
    _frames_equal(back, {name: getattr(chosen, name) for name in PRICE_FIELDS})
    with pytest.raises(ValueError, match="read-only"):  # unpickled arrays are read-only again
        back.close.iloc[0, 0] = 1.0


def test_recent_keeps_the_most_recently_asked_values_and_recomputes_what_no_longer_holds():
    prices = Prices.from_close(pd.DataFrame({"X": [1.0, 2.0]}, index=pd.bdate_range("2024-01-02", periods=2)))
    computed = []

    def ask(key, current=None):
        return prices.recent(("test",), key, lambda: computed.append(key) or f"value {key}", 2, current)

    assert [ask("a"), ask("b"), ask("a")] == ["value a", "value b", "value a"] and computed == ["a", "b"]
    ask("c")  # three keys, two kept: "b" was asked for least recently
    assert [ask("a"), ask("c")] == ["value a", "value c"] and computed == ["a", "b", "c"]
    assert len(prices.recent_store(("test",), 2)) == 2
    ask("a", current=lambda held: False)  # a kept value that no longer holds is computed again
    assert computed == ["a", "b", "c", "a"]
    assert ask("b") == "value b" and computed == ["a", "b", "c", "a", "b"]


@pytest.mark.parametrize("start_bar, end_bar", [(0, None), (5, 40), (25, 59), (12, 13)])
def test_prepare_window_equals_pandas(start_bar, end_bar):
    rng = np.random.default_rng(start_bar)
    index = pd.DatetimeIndex(pd.bdate_range("2023-01-02", periods=60))
    values = rng.uniform(-1, 1, (60, 4))
    values[rng.uniform(size=values.shape) < 0.7] = np.nan  # sparse targets, some columns unset for long stretches
    values[:, 3] = np.nan
    values[2, 3] = 0.25  # set once, long before most windows
    weights = pd.DataFrame(values, index=index, columns=["w", "x", "y", "z"])
    start = index[start_bar]
    end = None if end_bar is None else index[end_bar]
    window, got = prepare_window(weights, index, start, end)
    want_window, want = prepare_window_pandas(weights, index, start, end)
    pd.testing.assert_index_equal(window, want_window)
    pd.testing.assert_frame_equal(got, want)
    # a window starting between dates, and targets on a subset of the dates (reindexed)
    subset = weights.iloc[::3]
    between = index[start_bar] + pd.Timedelta(hours=1)
    if end_bar is None or end_bar - start_bar >= 3:
        window, got = prepare_window(subset, index, between, end)
        pd.testing.assert_frame_equal(got, prepare_window_pandas(subset, index, between, end)[1])


def test_prepare_window_keeps_column_dtypes():
    index = pd.DatetimeIndex(pd.bdate_range("2023-01-02", periods=10))
    weights = pd.DataFrame({"a": np.arange(10), "b": np.full(10, np.nan)}, index=index)
    _, got = prepare_window(weights, index, index[3], None)
    pd.testing.assert_frame_equal(got, prepare_window_pandas(weights, index, index[3], None)[1])


@pytest.mark.parametrize("first, last", [(0, 59), (0, 29), (30, 59), (31, 56), (5, 40)])
def test_window_warnings_equal_pandas(first, last):
    loaded = _market()
    window = loaded.between(loaded.index[first], loaded.index[last])
    for tickers in (["A", "B", "C"], ["C"], ["A"]):
        assert _window_warnings(loaded, window, tickers) == window_warnings_pandas(loaded, window, tickers)
    inside = first < 30 <= last
    assert any(line.startswith("C ") and "exceeds" in line for line in _window_warnings(loaded, window, ["C"])) is inside


@pytest.mark.parametrize("end_bar", [None, 59, 58, 56, 50, 0])
def test_common_end_equals_pandas(end_bar):
    prices = _market()
    end = None if end_bar is None else prices.index[end_bar]
    got, notes = _common_end(prices, pd.Index(["A", "B", "C"]), end)
    want, cut = common_end_pandas(prices, ["A", "B", "C"], end)
    assert got == want
    assert bool(notes) is (cut is not None)


def test_rates_already_on_the_bars_are_read_as_given():
    index = pd.DatetimeIndex(pd.bdate_range("2024-01-01", periods=30))
    rates = pd.Series(np.linspace(0.01, 0.05, 30), index=index)
    fast, notes = rate_on_bars(rates, index)
    shifted, _ = rate_on_bars(rates, index + pd.Timedelta(hours=1))  # the general path: as of each bar
    np.testing.assert_array_equal(fast, shifted)
    assert notes == []


@pytest.mark.parametrize("name", ["ai-basket", "hype-hedge", "burry-short", "sixty-forty"])
def test_repeated_backtests_equal_fresh_ones(shared_prices_dir, name):
    """What is kept with the loaded prices never changes a result: runs with other parameters in between, and
    runs on a fresh copy of the prices, give the same statistics and targets."""
    spec = resolve_spec(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prices = load_prices(spec_needs(spec), end=spec.run.get("end"), source="csv", data_dir=shared_prices_dir)
    first = backtest(spec, prices=prices)
    other = {"ai-basket": {"weighting": "inverse_vol", "trend_window": 50}, "hype-hedge": {"beta_window": 30},
             "burry-short": {"exposure": 0.5}, "sixty-forty": {"rebalance": "weekly"}}[name]
    backtest(spec, overrides=other, prices=prices)
    again = backtest(spec, prices=prices)
    copy = Prices(**{f: getattr(prices, f).copy() for f in PRICE_FIELDS}, source=prices.source,
                  warnings=prices.warnings, origin=prices.origin)
    fresh = backtest(spec, prices=copy)
    for run in (again, fresh):
        pd.testing.assert_series_equal(run.stats, first.stats)
        pd.testing.assert_frame_equal(run.weights, first.weights)
        assert run.warnings == first.warnings
        assert run.rates == first.rates


def _copied(prices: Prices) -> Prices:
    return Prices(**{f: getattr(prices, f).copy() for f in PRICE_FIELDS}, source=prices.source,
                  warnings=prices.warnings, origin=prices.origin)


@pytest.mark.parametrize("change", ["assign", "divide", "insert-and-drop"])
def test_prices_changed_in_place_are_never_read_from_what_was_kept(shared_prices_dir, change):
    """A column replaced in place after a run (the changes pandas allows on read-only arrays) gives the results
    of the new prices, not those kept from the old ones."""
    spec = resolve_spec("ai-basket")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prices = load_prices(spec_needs(spec), end=spec.run.get("end"), source="csv", data_dir=shared_prices_dir)
        before = backtest(spec, prices=prices)
        ticker = prices.tickers[0]
        if change == "assign":
            prices.close[ticker] = prices.close[ticker] * 0.5
        elif change == "divide":
            prices.open /= 2.0  # a frame assigned back to its own field: allowed
            prices.high /= 2.0
            frame = prices.low
            frame /= 2.0
            frame = prices.close
            frame /= 2.0
        else:
            halved = prices.close[ticker] * 0.5
            prices.close.drop(columns=[ticker], inplace=True)
            prices.close.insert(0, ticker, halved)
        after = backtest(spec, prices=prices)
        fresh = backtest(spec, prices=_copied(prices))
    pd.testing.assert_series_equal(after.stats, fresh.stats)
    pd.testing.assert_frame_equal(after.weights, fresh.weights)
    if change != "divide":  # halving every price changes no return
        assert after.stats["total_return"] != before.stats["total_return"]


IN_PLACE_CHANGES = {
    "column assigned": lambda d: d.__setitem__("X", d["X"] * 2.0),
    "column inserted": lambda d: d.insert(0, "Z", 1.0),
    "column dropped": lambda d: d.drop(columns=["X"], inplace=True),
    "divided in place": lambda d: d.__itruediv__(2.0),
    "new index": lambda d: setattr(d, "index", d.index + pd.Timedelta(days=1)),
    "new columns": lambda d: setattr(d, "columns", ["P", "Q"]),
    "renamed in place": lambda d: d.rename(columns={"X": "P"}, inplace=True),
    "sorted in place": lambda d: d.sort_index(ascending=False, inplace=True),
    "clipped in place": lambda d: d.clip(0.0, 1.5, inplace=True),
    "interpolated in place": lambda d: d.interpolate(inplace=True),
    "filled in place": lambda d: d.fillna(0.0, inplace=True),
    "forward-filled in place": lambda d: d.ffill(inplace=True),
    "masked in place": lambda d: d.mask(d > 1.5, 0.0, inplace=True),
    "replaced in place": lambda d: d.replace(1.0, 7.0, inplace=True),
    "updated": lambda d: d.update(pd.DataFrame({"X": [9.0]}, index=d.index[:1])),
    "iloc": lambda d: d.iloc.__setitem__((0, 0), 5.0),
    "loc": lambda d: d.loc.__setitem__((d.index[0], "X"), 5.0),
    "iat": lambda d: d.iat.__setitem__((0, 0), 5.0),
    "whole column by loc": lambda d: d.loc.__setitem__((slice(None), "X"), 5.0),
    "through to_numpy": lambda d: d.to_numpy().__setitem__((0, 0), 5.0),
}


@pytest.mark.parametrize("change", sorted(IN_PLACE_CHANGES))
def test_every_change_in_place_raises_or_is_seen(change):
    """What is kept with prices relies on pandas: a frame changed in place either refuses (read-only arrays) or
    gets a new block manager, new blocks or a new axis. A pandas release that changed either would fail here."""
    index = pd.bdate_range("2024-01-02", periods=4)
    prices = Prices.from_close(pd.DataFrame({"X": [1.0, np.nan, 2.0, 3.0], "Y": [1.0, 1.0, 1.0, 1.0]}, index=index))
    kept = prices.cached(("kept",), lambda: "before")
    assert kept == "before"
    before = prices.close.copy()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pandas 3 deprecates some of these inplace keywords
            IN_PLACE_CHANGES[change](prices.close)
    except (ValueError, TypeError):
        pd.testing.assert_frame_equal(prices.close, before)  # refused, and nothing changed
        return
    assert prices.cached(("kept",), lambda: "after") == "after"


def test_fields_cannot_be_assigned_another_frame(real):
    from dataclasses import FrozenInstanceError

    with pytest.raises(FrozenInstanceError, match="'close'"):
        real.close = real.close.copy()
    with pytest.raises(FrozenInstanceError, match="'source'"):
        real.source = "csv"


def test_values_written_in_place_raise(real):
    for write in (lambda: real.close.iloc.__setitem__((0, 0), 1.0),
                  lambda: real.open.loc.__setitem__((real.index[-1], "NVDA"), 1.0),
                  lambda: real.close.to_numpy().__setitem__((0, 0), 1.0)):
        with pytest.raises(ValueError):
            write()
    own = pd.DataFrame({"X": [1.0, 2.0]}, index=pd.bdate_range("2024-01-02", periods=2))
    Prices.from_close(own)
    own.iloc[0, 0] = 5.0  # the caller's frame is the caller's: from_close copies it
    assert own.iloc[0, 0] == 5.0


def test_a_frame_changed_twice_through_a_name_of_its_own_is_seen_both_times():
    index = pd.bdate_range("2024-01-02", periods=3)
    prices = Prices.from_close(pd.DataFrame({"X": [1.0, 2.0, 4.0], "Y": [1.0, 1.0, 1.0]}, index=index))
    close = prices.close
    close["X"] = close["X"] * 2.0
    assert prices.cached(("last",), lambda: prices.close.iloc[-1].tolist()) == [8.0, 1.0]
    close["Y"] = close["Y"] * 3.0  # the frame the prices hold, seen again after the first change
    assert prices.close is close
    assert prices.cached(("last",), lambda: prices.close.iloc[-1].tolist()) == [8.0, 3.0]
    with pytest.raises(ValueError):
        close.iloc[0, 0] = 0.0


def test_tickers_follow_the_columns():
    prices = Prices.from_close(pd.DataFrame({"X": [1.0, 2.0], "Y": [3.0, 4.0]}, index=pd.bdate_range("2024-01-02", periods=2)))
    assert prices.tickers == ["X", "Y"]
    prices.close.columns = ["Z", "Y"]
    assert prices.tickers == ["Z", "Y"]


def test_a_selection_changed_in_place_is_made_again(real):
    chosen = real.select(["NVDA", "AMD"])
    chosen.close["NVDA"] = chosen.close["NVDA"] * 2.0
    again = real.select(["NVDA", "AMD"])
    assert again is not chosen
    _frames_equal(again, select_pandas(real, ["NVDA", "AMD"]))
    assert real.select(["NVDA", "AMD"]) is again


def test_stats_exposure_reads_what_the_exposure_frame_says(shared_prices_dir):
    """``Result.stats`` takes the held bars as arrays; the same statistics come from the public frames."""
    from shortthehype.metrics import compute_stats

    spec = resolve_spec("burry-short")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prices = load_prices(spec_needs(spec), end=spec.run.get("end"), source="csv", data_dir=shared_prices_dir)
    for execution in ("next_open", "close"):
        run = backtest(spec, overrides={"execution": execution}, prices=prices)
        result = run.result
        closed = result.trade_records["status"] == TradeStatus.CLOSED
        want = compute_stats(result._stats_equity(), trade_returns=result.trade_records["ret"][closed],
                             gross_exposure=result.exposure["gross"], turnover=result.turnover, benchmark=run.benchmark)
        got = result.stats(benchmark=run.benchmark)
        assert dict(got) == pytest.approx(want, nan_ok=True, rel=0, abs=0)
