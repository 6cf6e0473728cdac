"""Walk-forward: window arithmetic by hand, each window's choice equals its own sweep, the stitched curve
equals the product of the test windows' growth."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import shortthehype.cli.sweep_cmd  # noqa: F401  (registers the commands on the app)
from shortthehype.cli import main
from shortthehype.errors import ParamError
from shortthehype.metrics import compute_stats
from shortthehype.runner import backtest
from shortthehype.sweeps import sweep
from shortthehype.walk_forward import parse_length, walkforward, walkforward_windows

GRID = {"fast": "10:50:20", "slow": "60:200:70"}


@pytest.fixture(scope="module")
def qqq(shared_prices_dir):
    from shortthehype.data.load import load_prices

    return load_prices(["QQQ"], data_dir=shared_prices_dir).between("2004-01-02", "2013-12-31")


def test_calendar_windows_by_hand():
    index = pd.bdate_range("2020-01-01", "2022-12-30")
    windows = walkforward_windows(index, "1y", "6m")
    dates = [tuple(index[p].strftime("%Y-%m-%d") for p in w) for w in windows]
    # test windows: [first bar, first bar >= first + 6 months); training: the bars of [t0, t0 + 1 year) that end
    # on the bar before the test window, t0 the earliest bar whose year reaches the test window's first bar
    assert dates == [
        ("2020-01-01", "2020-12-31", "2021-01-01", "2021-06-30"),
        ("2020-07-01", "2021-06-30", "2021-07-01", "2021-12-31"),
        ("2021-01-01", "2021-12-31", "2022-01-03", "2022-07-01"),  # 2022-01-01 is a Saturday; 07-03 a Sunday
        ("2021-07-02", "2022-07-01", "2022-07-04", "2022-12-30"),  # 2021-07-02 + 1y = Sat 2022-07-02 -> 07-04
    ]
    # every training window is the year before its test window, ending on the bar before it
    def year_on(position):  # first bar at or after the bar `position` + 1 year
        return index.searchsorted(index[position] + pd.DateOffset(years=1))

    for train_first, train_last, test_first, test_last in windows:
        assert train_last == test_first - 1
        assert year_on(train_first) >= test_first
        if train_first > 0:
            assert year_on(train_first - 1) < test_first
    # test windows tile the rest of the data without gaps
    assert [w[2] for w in windows[1:]] == [w[3] + 1 for w in windows[:-1]] and windows[-1][3] == len(index) - 1
    anchored = walkforward_windows(index, "1y", "6m", anchored=True)
    assert [w[0] for w in anchored] == [0] * len(anchored) and [w[2:] for w in anchored] == [w[2:] for w in windows]


def test_bar_windows_and_a_short_last_window():
    index = pd.bdate_range("2020-01-01", periods=400)
    assert walkforward_windows(index, "100d", "120d") == [(0, 99, 100, 219), (120, 219, 220, 339), (240, 339, 340, 399)]
    assert walkforward_windows(index, "100d", "299d") == [(0, 99, 100, 398)]  # a 1-bar remainder is dropped


def test_lengths_and_errors_name_the_parameter():
    assert parse_length("3y") == (3, "y") and parse_length(" 126D ") == (126, "d")
    with pytest.raises(ParamError, match=r"parameter 'train' is '3x': expected a positive number and a unit"):
        walkforward_windows(pd.bdate_range("2020-01-01", periods=10), "3x", "1m")
    with pytest.raises(ParamError, match=r"parameter 'test' is '0m'"):
        walkforward_windows(pd.bdate_range("2020-01-01", periods=10), "3d", "0m")
    with pytest.raises(ParamError, match=r"too short for a 2y training window"):
        walkforward_windows(pd.bdate_range("2020-01-01", periods=300), "2y", "1m")


@pytest.mark.parametrize("execution", ["next_open", "close"])
def test_each_window_trades_its_own_sweeps_best_and_the_curve_chains_them(qqq, execution):
    overrides = {"execution": execution, "fees": 0.001}
    result = walkforward("ma-crossover", GRID, train="3y", test="1y", overrides=overrides, prices=qqq, n_blocks=4)
    assert len(result.windows) == 7 and result.windows[0].train_start == qqq.index[0]
    growth = 1.0
    for w in result.windows:
        found = sweep("ma-crossover", GRID, overrides={**overrides, "start": w.train_start, "end": w.train_end},
                      prices=qqq, n_blocks=4)
        assert w.params == found.best_params and w.in_sample == found.best["sharpe"]
        assert w.dsr == found.dsr.dsr and w.pbo == found.pbo.pbo and w.n_trials == found.n_run == 9
        run = backtest("ma-crossover", overrides={**overrides, **w.params, "start": w.train_end, "end": w.test_end},
                       prices=qqq)
        assert w.out_of_sample == run.stats["sharpe"]
        growth *= run.result.equity.iloc[-1] / 1_000_000.0  # each window starts from init_cash
    assert result.equity.iloc[0] == 1_000_000.0
    assert result.equity.iloc[-1] == pytest.approx(1_000_000.0 * growth, rel=1e-12)
    assert result.equity.index.is_unique and result.equity.index.is_monotonic_increasing
    assert result.equity.index[-1] == result.windows[-1].test_end
    stats = compute_stats(result.equity)
    assert result.stats["sharpe"] == stats["sharpe"] and result.stats["total_return"] == pytest.approx(growth - 1, rel=1e-12)
    table = result.table()
    assert list(table.columns[:6]) == ["train_start", "train_end", "test_start", "test_end", "fast", "slow"]
    assert math.isclose(result.in_sample_mean, table["in_sample_sharpe"].mean())


def test_anchored_training_windows_grow(qqq):
    result = walkforward("ma-crossover", GRID, train="4y", test="2y", anchored=True, prices=qqq, n_blocks=0)
    assert {w.train_start for w in result.windows} == {qqq.index[0]}
    assert [w.test_start for w in result.windows][1:] == [qqq.index[qqq.index.get_loc(w.test_end) + 1] for w in result.windows[:-1]]
    assert all(np.isnan(w.pbo) for w in result.windows)


def test_a_walk_forward_whose_cash_earns_interest_notes_that_its_ratios_count_it(qqq):
    from shortthehype.report import render

    tbill = walkforward("ma-crossover", GRID, train="4y", test="2y", prices=qqq, n_blocks=0)
    assert tbill.notes == (
        "ma-crossover: the Sharpe, Sortino and omega ratios use a zero risk-free rate while cash earns interest "
        "(cash_rate): a combination that holds more cash scores that interest as return; each window's choice and "
        "the stitched statistics read these ratios",
    )
    document = tbill.to_document()
    assert document["notes"] == list(tbill.notes)
    assert tbill.notes[0] in render(document, "md") and "zero risk-free rate" in render(document, "html")
    free = walkforward("ma-crossover", GRID, train="4y", test="2y", prices=qqq, n_blocks=0, overrides={"cash_rate": 0})
    assert free.notes == () and free.to_document()["notes"] == []


def test_dates_cannot_be_swept(qqq):
    with pytest.raises(ParamError, match=r"walk-forward sets 'start' and 'end' itself: remove 'start'"):
        walkforward("ma-crossover", {"start": "2005-01-03,2006-01-03"}, prices=qqq)


def test_walkforward_command(shared_prices_dir, capsys, monkeypatch):
    import shortthehype.cli

    monkeypatch.setattr(shortthehype.cli.console, "width", 250)  # rich reads COLUMNS only when the console is made
    code = main([
        "walkforward", "ma-crossover", "--grid", "fast=10,30", "--grid", "slow=100,200", "--train", "3y", "--test", "1y",
        "--start", "2004-01-02", "--end", "2010-12-31", "--data-dir", str(shared_prices_dir),
    ])
    text = capsys.readouterr().out
    assert code == 0
    assert "walk-forward, rolling 3y training / 1y test, objective sharpe" in text
    assert "2007-01-03 → 2008-01-02" in text or "2007-01-03" in text
    assert "stitched out-of-sample" in text
