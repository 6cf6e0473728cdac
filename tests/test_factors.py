"""Factor exposures: loadings equal numpy least squares; t-statistics and R² by their textbook formulas."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from shortthehype.factors import factor_exposures, factor_returns, regress


def test_regression_equals_numpy_least_squares_and_textbook_statistics():
    rng = np.random.default_rng(11)
    x = rng.normal(0, 0.01, (400, 3))
    y = 0.0002 + x @ np.array([0.5, -1.2, 0.3]) + rng.normal(0, 0.005, 400)
    fit = regress(y, x)
    design = np.column_stack([np.ones(400), x])
    coef = np.linalg.lstsq(design, y, rcond=None)[0]
    np.testing.assert_allclose(fit["coef"], coef, rtol=1e-12, atol=1e-15)
    resid = y - design @ coef
    se = np.sqrt(resid @ resid / (400 - 4) * np.diag(np.linalg.inv(design.T @ design)))
    np.testing.assert_allclose(fit["t"], coef / se, rtol=1e-9)
    assert fit["r2"] == pytest.approx(1 - resid @ resid / ((y - y.mean()) @ (y - y.mean())), rel=1e-12)
    alpha = coef[0] + resid
    assert fit["residual_sharpe"] == pytest.approx(alpha.mean() / alpha.std(ddof=1) * math.sqrt(252), rel=1e-12)


def test_hype_hedge_loads_on_the_tech_spread_as_numpy_says(shared_prices_dir):
    from shortthehype.bootstrap import run_returns
    from shortthehype.data.load import load_prices
    from shortthehype.runner import backtest

    run = backtest("hype-hedge", overrides={"end": "2025-12-31"}, source="csv", data_dir=shared_prices_dir)
    prices = load_prices(["SPY", "QQQ"], source="csv", data_dir=shared_prices_dir)
    section = factor_exposures(run_returns(run), factor_returns(prices, run.result.equity.index))
    # independently: returns from the CSV closes and the equity curve, least squares by numpy
    spy = pd.read_csv(shared_prices_dir / "SPY.csv", index_col="date", parse_dates=True)["close"]
    qqq = pd.read_csv(shared_prices_dir / "QQQ.csv", index_col="date", parse_dates=True)["close"]
    dates = run.result.equity.index
    y = run.result.equity.pct_change().to_numpy()[1:]
    m = spy.reindex(dates).pct_change().to_numpy()[1:]
    t = qqq.reindex(dates).pct_change().to_numpy()[1:] - m
    coef = np.linalg.lstsq(np.column_stack([np.ones_like(y), m, t]), y, rcond=None)[0]
    assert [row["beta"] for row in section["loadings"]] == pytest.approx(coef[1:], rel=1e-9)
    assert section["alpha_annual"] == pytest.approx(coef[0] * 252, rel=1e-9)
    assert section["loadings"][1]["beta"] < -1 and section["loadings"][1]["t"] < -10  # a short-tech-versus-market bet
    assert abs(run.stats["beta"]) < 0.1  # which its single beta does not show


def test_a_factor_without_prices_in_the_window_is_a_one_line_error(capsys, shared_prices_dir):
    from shortthehype.cli import main

    # ARM listed in 2023: no prices in a 2020 window
    code = main(["backtest", "sixty-forty", "--start", "2020-01-02", "--end", "2020-12-31", "--factors", "ARM",
                 "--source", "csv", "--data-dir", str(shared_prices_dir)])
    err = capsys.readouterr().err
    assert code == 1 and "factor ARM: no prices between 2020-01-02 and 2020-12-31" in err and err.count("\n") == 1


def test_report_shows_factors_and_bootstrap(capsys, tmp_path, shared_prices_dir):
    from shortthehype.cli import main

    page = tmp_path / "r.html"
    code = main(["backtest", "hype-hedge", "--bootstrap", "--samples", "200", "--source", "csv",
                 "--data-dir", str(shared_prices_dir), "--report", str(page)])
    assert code == 0, capsys.readouterr().err
    html = page.read_text()
    assert 'id="sec-factors"' in html and "tech spread (QQQ - SPY)" in html and 'id="sec-bootstrap"' in html
