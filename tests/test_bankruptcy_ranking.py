"""Bankruptcy is a result: a ruined run has no ratios, and every ranking puts it after the solvent runs."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from shortthehype.data.prices import Prices
from shortthehype.metrics import BANKRUPT_UNDEFINED_KEYS, compute_stats
from shortthehype.runner import backtest
from shortthehype.sweeps import sweep
from shortthehype.walk_forward import walkforward

SPEC = {"name": "lev", "kind": "fixed-weights", "params": {"weights": {"SPY": 1.0}, "rebalance": "daily"}}


def crash_prices(n: int = 500, crash_at: int = 300, crash: float = -0.06) -> Prices:
    """A steady climb (+0.4 % a day, a little wiggle) with one crash day: 20x leverage loses 120 % that day."""
    t = np.arange(n)
    returns = 0.004 + 0.002 * np.sin(t)
    returns[crash_at] = crash
    close = 100.0 * np.cumprod(1.0 + returns)
    index = pd.bdate_range("2015-01-01", periods=n)
    return Prices.from_close(pd.DataFrame({"SPY": close}, index=index))


def test_a_ruined_equity_curve_has_no_ratios_but_keeps_its_true_loss():
    equity = pd.Series([100.0, 110.0, 121.0, -12.1], index=pd.bdate_range("2020-01-01", periods=4))
    stats = compute_stats(equity)
    for key in BANKRUPT_UNDEFINED_KEYS:
        if key in stats:
            assert math.isnan(stats[key]), key
    assert stats["total_return"] == pytest.approx(-12.1 / 100.0 - 1.0)  # the true value, below -100 %
    assert stats["max_drawdown"] == pytest.approx(-1.0)
    solvent = compute_stats(equity.iloc[:3])
    assert solvent["sharpe"] > 0 and not math.isnan(solvent["sortino"])


def test_a_bankrupt_backtest_reports_no_sharpe():
    run = backtest(SPEC, prices=crash_prices(), overrides={"weights.SPY": 20.0})
    assert run.result.bankrupt
    assert all(math.isnan(run.stats[k]) for k in ("sharpe", "sortino", "calmar"))
    document = run.to_dict()
    assert document["metrics"]["sharpe"] is None and document["status"] == "bankrupt"


def test_sweeps_rank_bankrupt_runs_after_every_solvent_one():
    prices = crash_prices()
    result = sweep(SPEC, {"weights.SPY": "1:25:1"}, prices=prices, n_blocks=4)
    table = result.table
    bankrupt = table["bankrupt"].to_numpy()
    assert bankrupt.any() and not bankrupt.all()
    assert table.loc[bankrupt, ["sharpe", "sortino", "calmar"]].isna().all().all()
    for objective in ("sharpe", "total_return", "max_drawdown", "cagr"):
        ranked = result.top(len(table), by=objective)
        flags = ranked["bankrupt"].to_numpy()
        assert not flags[: (~bankrupt).sum()].any() and flags[(~bankrupt).sum() :].all(), objective
    assert not result.best["bankrupt"]
    # each row equals its own backtest, bankrupt ones included (NaN where the ratio is undefined)
    for weight in (5.0, 20.0):
        row = table.loc[table["weights.SPY"] == weight].iloc[0]
        run = backtest(SPEC, prices=prices, overrides={"weights.SPY": weight})
        assert bool(row["bankrupt"]) == run.result.bankrupt
        for key in ("sharpe", "total_return"):
            assert (math.isnan(row[key]) and math.isnan(run.stats[key])) or row[key] == pytest.approx(run.stats[key], rel=1e-12)


def test_a_sweep_counts_its_bankrupt_trials_where_it_counts_its_trials(tmp_path):
    """The top rows are solvent, so no table shows the bankrupt ones: the trial counts say how many there were."""
    from shortthehype.report import write_report
    from shortthehype.report.formatting import trial_counts
    from shortthehype.sweeps import load_sweep

    prices = crash_prices()
    result = sweep(SPEC, {"weights.SPY": "1:25:1"}, prices=prices, n_blocks=0, out=tmp_path / "s.parquet")
    # each combination's own backtest says whether it went bankrupt
    k = sum(backtest(SPEC, prices=prices, overrides={"weights.SPY": float(w)}).result.bankrupt for w in range(1, 26))
    assert 0 < k < 25 and not result.top(10)["bankrupt"].any()
    expected = f"25 distinct trials run ({k} of them bankrupt: ranked last, ratios undefined)"
    assert result.metadata()["n_bankrupt"] == k and expected in trial_counts(result.metadata())
    assert load_sweep(tmp_path / "s.parquet").metadata()["n_bankrupt"] == k
    write_report(result.to_document(), tmp_path / "s.md")
    assert expected in (tmp_path / "s.md").read_text()
    write_report(result.to_document(), tmp_path / "s.html")
    assert f"Bankrupt (ranked last, ratios undefined)</th><td class=\"num\" data-value=\"{k}\">{k}</td>" in (tmp_path / "s.html").read_text()
    solvent = sweep(SPEC, {"weights.SPY": "1:3:1"}, prices=prices, n_blocks=0)
    assert solvent.metadata()["n_bankrupt"] == 0 and "bankrupt" not in trial_counts(solvent.metadata())


def test_walk_forward_never_trades_a_bankrupt_choice():
    prices = crash_prices(n=700, crash_at=420)
    result = walkforward(SPEC, {"weights.SPY": "1:25:4"}, prices=prices, train="200d", test="100d", n_blocks=0)
    for window in result.windows:
        run = backtest(SPEC, prices=prices, overrides={**window.params, "start": window.train_start, "end": window.train_end})
        assert not run.result.bankrupt, window


def test_reports_and_terminal_say_bankrupt_where_a_ruined_run_has_no_ratio(shared_prices_dir, tmp_path):
    """The HTML, the Markdown and the terminal table write "bankrupt" for a ruined run's undefined ratios."""
    from shortthehype.cli.render import grid_text, stats_grid
    from shortthehype.report import render
    from shortthehype.runner import backtest

    run = backtest("sixty-forty", source="csv", data_dir=shared_prices_dir,
                   overrides={"weights": "SPY:60", "start": "2003-03-11", "end": "2007-10-09", "cash_rate": "0"})
    assert run.result.bankrupt and math.isnan(run.stats["sharpe"])
    document = run.to_dict()
    html = render(document, "html")
    sharpe_row = html[html.index('data-key="sharpe"'):]
    assert ">bankrupt<" in sharpe_row[: sharpe_row.index("</tr>")]
    markdown = render(document, "md")
    assert any(line.startswith("| Sharpe") and "bankrupt" in line for line in markdown.splitlines())
    table = grid_text([stats_grid({run.spec.name: run.stats}, bankrupt={run.spec.name})], "md")
    assert any(line.startswith("| Sharpe") and "bankrupt" in line for line in table.splitlines())
