"""The notebook API: Stats, returns that agree with the statistics, the added tables, plots, reports and reprs.

The added statistics are checked against empyrical (rolling Sharpe and beta,
calendar returns) or hand computations on tiny named fixtures (drawdown
periods, per-trade statistics).
"""

from __future__ import annotations

import math

import empyrical
import numpy as np
import pandas as pd
import pytest

import shortthehype as sth
from shortthehype import metrics
from shortthehype.engine import simulate
from shortthehype.report import tearsheet

DATES = pd.bdate_range("2024-01-01", periods=8)


@pytest.fixture(scope="module")
def sixty_forty(request):
    shared = request.getfixturevalue("shared_prices_dir")
    return sth.backtest("sixty-forty", overrides={"end": "2010-12-31"}, source="csv", data_dir=shared)


# ---- Stats and returns ---------------------------------------------------------------------


def test_stats_is_a_series_with_dict_access_and_a_readable_repr(sixty_forty):
    stats = sixty_forty.stats
    assert isinstance(stats, pd.Series) and stats.name == "sixty-forty"
    assert stats["sharpe"] == stats.get("sharpe") == dict(stats)["sharpe"] and "cagr" in stats
    text = repr(stats)
    total = next(line for line in text.splitlines() if line.startswith("total_return"))
    assert total.split()[-1] == f"{stats['total_return'] * 100:,.2f}%"
    assert "e+06" not in text and len(text.splitlines()) == len(stats) + 1


@pytest.mark.parametrize("execution", ["close", "next_open"])
def test_result_returns_are_the_ones_the_statistics_use(execution):
    close = pd.DataFrame({"A": [10.0, 10.5, 10.2, 10.8, 11.0, 10.7, 11.3, 11.1]}, index=DATES)
    result = simulate(close, pd.DataFrame({"A": [1.0]}, index=DATES[:1]), execution=execution, fees=0.001)
    stats = result.stats()
    assert metrics.sharpe_ratio(result.returns) == pytest.approx(stats["sharpe"], rel=1e-12)
    assert metrics.total_return(result.returns) == pytest.approx(stats["total_return"], rel=1e-12)
    equity = result.equity.to_numpy()
    if execution == "close":  # the first close already paid the fee: its return counts
        assert len(result.returns) == len(DATES)
        assert result.returns.iloc[0] == pytest.approx(equity[0] / result.init_cash - 1)
    else:  # the first bar holds cash only: no leading 0.0
        assert len(result.returns) == len(DATES) - 1 and result.returns.index[0] == DATES[1]
        assert result.returns.iloc[0] == pytest.approx(equity[1] / equity[0] - 1)


# ---- drawdown periods ------------------------------------------------------------------------


def test_drawdown_table_by_hand():
    equity = pd.Series([100.0, 110.0, 99.0, 105.0, 110.0, 120.0, 90.0, 95.0], index=DATES)
    table = metrics.drawdown_table(equity)
    # deepest first: 120 -> 90 (not recovered, 2 bars to the end), then 110 -> 99 (back at 110 three bars after the peak)
    assert list(table["peak"]) == [DATES[5], DATES[1]]
    assert list(table["trough"]) == [DATES[6], DATES[2]]
    assert pd.isna(table["recovery"][0]) and table["recovery"][1] == DATES[4]
    assert table["depth"].tolist() == pytest.approx([90 / 120 - 1, 99 / 110 - 1])
    assert table["length"].tolist() == [2, 3]
    assert len(metrics.drawdown_table(equity, top=1)) == 1
    assert metrics.drawdown_table(pd.Series([1.0, 2.0, 3.0], index=DATES[:3])).empty


def test_drawdown_table_agrees_with_the_run_statistics(sixty_forty):
    table = sixty_forty.result.drawdowns(top=1000)
    stats = sixty_forty.stats
    assert table["depth"].iloc[0] == pytest.approx(stats["max_drawdown"], rel=1e-12)
    assert table["length"].max() == stats["max_drawdown_duration"]
    assert (table["depth"].diff().dropna() >= 0).all()  # deepest first


def test_drawdown_table_stops_at_ruin():
    equity = pd.Series([100.0, 50.0, -10.0, 20.0], index=DATES[:4])
    table = metrics.drawdown_table(equity)
    assert table["depth"].tolist() == [-1.0] and table["trough"][0] == DATES[2] and pd.isna(table["recovery"][0])


# ---- calendar and rolling statistics against empyrical -----------------------------------------


def test_monthly_returns_match_empyrical(sixty_forty):
    returns = sixty_forty.result.returns
    table = sixty_forty.result.monthly_returns()
    expected = empyrical.aggregate_returns(returns, "monthly")
    for (year, month), value in expected.items():
        assert table.loc[year, month] == pytest.approx(value, rel=1e-10, abs=1e-14)
    yearly = empyrical.aggregate_returns(returns, "yearly")
    np.testing.assert_allclose(table["year"].to_numpy(), yearly.to_numpy(), rtol=1e-10)
    assert list(table.columns) == [*range(1, 13), "year"]


def test_rolling_sharpe_and_beta_match_empyrical(sixty_forty):
    result = sixty_forty.result
    returns = result.returns
    sharpe = result.rolling_sharpe(63)
    expected = empyrical.roll_sharpe_ratio(returns, window=63)
    assert sharpe.iloc[:62].isna().all()
    np.testing.assert_allclose(sharpe.iloc[62:].to_numpy(), np.asarray(expected, dtype=float)[-len(returns) + 62 :], rtol=1e-9)
    bench = sixty_forty.benchmark
    beta = result.rolling_beta(bench, 63)
    bench_returns = bench.pct_change().reindex(returns.index)
    expected_beta = empyrical.roll_beta(returns, bench_returns, window=63)
    np.testing.assert_allclose(beta.iloc[62:].to_numpy(), np.asarray(expected_beta, dtype=float)[-len(returns) + 62 :], rtol=1e-9)


# ---- per-trade statistics --------------------------------------------------------------------


def test_trade_stats_by_hand():
    trades = pd.DataFrame(
        {
            "return": [0.10, -0.05, 0.20, -0.10, 0.0],
            "pnl": [100.0, -50.0, 200.0, -100.0, 0.0],
            "entry_date": pd.to_datetime(["2024-01-01", "2024-01-05", "2024-02-01", "2024-03-01", "2024-04-01"]),
            "exit_date": pd.to_datetime(["2024-01-03", "2024-01-15", "2024-02-11", "2024-03-02", "2024-04-05"]),
        }
    )
    stats = metrics.trade_stats(trades)
    assert stats["n_trades"] == 5 and stats["win_rate"] == pytest.approx(0.4)
    assert stats["avg_win"] == pytest.approx(0.15) and stats["avg_loss"] == pytest.approx(-0.075)
    assert stats["best_trade"] == 0.20 and stats["worst_trade"] == -0.10
    # expectancy = 0.4 x 0.15 + 0.4 x (-0.075) + 0.2 x 0 = 0.03
    assert stats["expectancy"] == pytest.approx(0.03)
    # pnl mean 30; deviations 70, -80, 170, -130, -30 -> sample variance 58,000 / 4 = 14,500
    assert stats["sqn"] == pytest.approx(math.sqrt(5) * 30 / math.sqrt(14_500))
    assert stats["avg_holding_days"] == pytest.approx((2 + 10 + 10 + 1 + 4) / 5)
    empty = metrics.trade_stats(trades.iloc[:0])
    assert empty["n_trades"] == 0 and math.isnan(empty["sqn"]) and math.isnan(empty["avg_win"])


def test_result_trade_stats_use_the_closed_trades(shared_prices_dir):
    run = sth.backtest("ma-crossover", overrides={"start": "2015-01-02", "end": "2020-12-31"}, source="csv", data_dir=shared_prices_dir)
    trades = run.result.trades
    closed = trades[trades["status"] == "closed"]
    stats = run.result.trade_stats()
    assert stats["n_trades"] == len(closed) == run.stats["n_trades"] > 2
    assert stats["expectancy"] == pytest.approx(closed["return"].mean(), rel=1e-12)
    assert stats["win_rate"] == pytest.approx(run.stats["win_rate"], rel=1e-12)
    assert stats["best_trade"] == closed["return"].max()
    assert stats["avg_holding_days"] == pytest.approx((closed["exit_date"] - closed["entry_date"]).dt.days.mean())


# ---- figures, reports, tear sheet, reprs --------------------------------------------------------


def test_plot_and_report_by_suffix(sixty_forty, tmp_path):
    figure = sixty_forty.plot()
    names = [trace.name for trace in figure.data]
    assert "sixty-forty" in names and "SPY (buy &amp; hold)" in names and {"long", "short", "gross", "net"} <= set(names)
    equity = next(t for t in figure.data if t.name == "sixty-forty" and t.yaxis in (None, "y"))
    np.testing.assert_allclose(np.asarray(equity.y, dtype=float), sixty_forty.result.equity.to_numpy(), rtol=1e-15)
    html = sixty_forty.report(tmp_path / "r.html").read_text()
    assert "sixty-forty" in html and "Plotly" in html and html == sixty_forty.to_html()
    assert "Sharpe" in sixty_forty.report(tmp_path / "r.md").read_text()
    assert sixty_forty.report(tmp_path / "r.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(sth.ParamError):
        sixty_forty.report(tmp_path / "r.txt")


def test_a_bare_simulate_result_has_plot_report_and_document(tmp_path):
    from shortthehype.report import report_document

    close = pd.DataFrame({"A": [10.0, 10.5, 10.2, 10.8, 11.0, 10.7, 11.3, 11.1]}, index=DATES)
    result = simulate(close, pd.DataFrame({"A": [1.0]}, index=DATES[:1]))
    document = report_document(result)
    assert document["final_equity"] == result.equity.iloc[-1] and document["metrics"]["sharpe"] == result.stats()["sharpe"]
    assert result.report(tmp_path / "bare.html").stat().st_size > 10_000
    assert len(result.plot(benchmark=close["A"]).data) >= 6


def test_tearsheet_of_a_returns_series(tmp_path):
    returns = pd.Series([0.01, -0.02, 0.015, 0.0, 0.03, -0.01], index=DATES[:6], name="mine")
    benchmark = pd.Series([0.005, -0.01, 0.01, 0.002, 0.01, 0.0], index=DATES[:6], name="SPY")
    html = tearsheet(returns, benchmark, path=tmp_path / "t.md")
    assert "mine" in html and "SPY" in html
    text = (tmp_path / "t.md").read_text()
    total = np.prod(1 + returns.to_numpy()) - 1
    assert f"{total * 100:,.2f}%" in text
    assert f"{empyrical.sharpe_ratio(returns):,.3f}" in text
    with pytest.raises(sth.ParamError, match="DatetimeIndex"):
        tearsheet(pd.Series([0.1, 0.2]))


def test_short_reprs(sixty_forty, shared_prices_dir):
    for obj in (sixty_forty, sixty_forty.result, sixty_forty.prices):
        text = repr(obj)
        assert len(text) < 200 and "\n" not in text, text
    sweep = sth.sweep("sixty-forty", {"rebalance": ["weekly", "monthly"], "fees": [0.0, 0.001]},
                      overrides={"end": "2008-12-31"}, source="csv", data_dir=shared_prices_dir, n_blocks=0)
    assert len(repr(sweep)) < 200 and "2 of" not in repr(sweep) and "4 of 4 combinations" in repr(sweep)
    figure = sweep.plot(x="rebalance", y="fees")
    (heatmap,) = figure.data
    assert heatmap.type == "heatmap" and list(heatmap.x) == ["weekly", "monthly"]
    best = sweep.table.set_index(["rebalance", "fees"])["sharpe"]
    assert np.asarray(heatmap.z, dtype=float)[0][0] == pytest.approx(best[("weekly", 0.0)])


def test_a_run_remembers_where_its_prices_came_from_for_its_report(shared_prices_dir):
    from shortthehype.data.source import PriceSource
    from shortthehype.report import report_document

    run = sth.backtest("dotcom-analog", source="csv", data_dir=shared_prices_dir)
    assert run.prices_from == PriceSource(source="csv", data_dir=shared_prices_dir)
    mine = run.document()
    assert mine["analog"]["reference"] is not None  # the Nasdaq overlay of the CLI report
    assert mine == report_document(run, source="csv", data_dir=shared_prices_dir)  # what `backtest --report` renders
