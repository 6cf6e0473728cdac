"""Stationary block bootstrap: coverage on i.i.d. normal returns, paired differences, determinism, bad input."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from shortthehype.bootstrap import bootstrap_intervals
from shortthehype.core.bootstrap_nb import stationary_indices_1d_nb
from shortthehype.errors import ParamError

#: Trials of the coverage test; the standard error of a 95 % rate over them is sqrt(.95 * .05 / 300) = 0.0126.
COVERAGE_TRIALS = 300
#: Allowed distance from the nominal 95 %: three standard errors plus 0.5 point for the percentile
#: interval's known small-sample undercoverage.
COVERAGE_TOLERANCE = 0.043


@pytest.mark.parametrize("block_length", [1.0, 21.0])
def test_intervals_cover_the_true_sharpe_at_the_nominal_rate(block_length):
    mu, sigma, n = 0.0005, 0.01, 600  # true annualised Sharpe 0.0005 / 0.01 * sqrt(252) = 0.794
    truth = mu / sigma * math.sqrt(252)
    hits = 0
    for seed in range(COVERAGE_TRIALS):
        returns = pd.Series(np.random.default_rng(seed).normal(mu, sigma, n))
        interval = bootstrap_intervals(returns, samples=300, block_length=block_length, seed=seed)["metrics"]["sharpe"]
        hits += interval["low"] <= truth <= interval["high"]
    assert abs(hits / COVERAGE_TRIALS - 0.95) <= COVERAGE_TOLERANCE, hits / COVERAGE_TRIALS


def test_the_estimate_is_the_statistic_of_the_series_itself():
    returns = pd.Series(np.random.default_rng(3).normal(0.001, 0.02, 300))
    metrics = bootstrap_intervals(returns, samples=200)["metrics"]
    r = returns.to_numpy()
    assert metrics["sharpe"]["estimate"] == pytest.approx(r.mean() / r.std(ddof=1) * math.sqrt(252), rel=1e-12)
    assert metrics["cagr"]["estimate"] == pytest.approx(np.prod(1 + r) ** (252 / 300) - 1, rel=1e-12)
    equity = np.cumprod(1 + r)
    assert metrics["max_drawdown"]["estimate"] == pytest.approx(np.min(equity / np.maximum.accumulate(np.maximum(equity, 1.0)) - 1), rel=1e-12)


def test_one_endless_block_is_a_rotation_which_keeps_sharpe_and_cagr():
    from shortthehype.core.bootstrap_nb import bootstrap_metrics_nb

    r = np.random.default_rng(9).normal(0.001, 0.01, 250)
    draws = bootstrap_metrics_nb(r[:, None].copy(), 50, 1e15, 252.0, 3)  # a block never ends: a circular shift
    assert np.allclose(draws[:, 0, 0], r.mean() / r.std(ddof=1) * math.sqrt(252), rtol=1e-10)
    assert np.allclose(draws[:, 0, 1], np.prod(1 + r) ** (252 / 250) - 1, rtol=1e-10)


def test_paired_differences_keep_the_pairing():
    dates = pd.bdate_range("2020-01-01", periods=500)
    base = pd.Series(np.random.default_rng(5).normal(0.0, 0.01, 500), index=dates)
    same = bootstrap_intervals(base, base.copy(), baseline_name="same", samples=300)["vs"]["metrics"]
    assert all(same[k]["low"] == same[k]["high"] == 0.0 and same[k]["p_beat"] == 0.0 for k in same)
    better = bootstrap_intervals(base + 0.001, base, baseline_name="base", samples=300)["vs"]
    assert better["metrics"]["cagr"]["p_beat"] == 1.0  # every resample of the same bars grows more every day
    assert better["metrics"]["cagr"]["low"] > 0 and better["bars"] == 500


def test_a_seed_gives_the_same_intervals_and_block_lengths_have_the_right_mean():
    returns = pd.Series(np.random.default_rng(1).normal(0.0, 0.01, 400))
    assert bootstrap_intervals(returns, samples=200, seed=7) == bootstrap_intervals(returns, samples=200, seed=7)
    assert bootstrap_intervals(returns, samples=200, seed=7) != bootstrap_intervals(returns, samples=200, seed=8)
    np.random.seed(0)  # numba's generator is separate from numpy's; this only documents that nothing leaks
    out = np.empty(200_000, dtype=np.int64)
    stationary_indices_1d_nb(200_000, 10.0, out)
    starts = 1 + np.count_nonzero(np.diff(out) != 1)  # a wrap from n-1 to 0 continues a block; vanishingly rare here
    assert 200_000 / starts == pytest.approx(10.0, rel=0.03)
    stationary_indices_1d_nb(50, 1e15, out[:50])
    assert all((out[i + 1] - out[i]) % 50 == 1 for i in range(49))  # one block, wrapping around


@pytest.mark.parametrize(
    "kwargs, message",
    [({"samples": 10}, "samples"), ({"block_length": 0.5}, "block length"), ({"confidence": 1.5}, "confidence")],
)
def test_bad_settings_are_one_line_errors(kwargs, message):
    with pytest.raises(ParamError, match=message):
        bootstrap_intervals(pd.Series(np.zeros(50)), **kwargs)


def test_backtest_vs_baseline_in_terminal_and_json(capsys, monkeypatch, tmp_path, shared_prices_dir):
    import json

    import shortthehype.cli
    from shortthehype.cli import main

    monkeypatch.setattr(shortthehype.cli.console, "width", 250)

    path = tmp_path / "b.json"
    code = main(["backtest", "ai-basket", "--end", "2024-12-31", "--vs", "buy-and-hold-qqq", "--samples", "300",
                 "--source", "csv", "--data-dir", str(shared_prices_dir), "--json", str(path)])
    out = capsys.readouterr().out
    assert code == 0 and "P(beats buy-and-hold-qqq)" in out
    document = json.loads(path.read_text())
    boot = document["bootstrap"]
    assert boot["vs"]["baseline"] == "buy-and-hold-qqq" and boot["samples"] == 300
    assert boot["metrics"]["sharpe"]["estimate"] == pytest.approx(document["metrics"]["sharpe"], rel=1e-12)
    assert 0.0 <= boot["vs"]["metrics"]["sharpe"]["p_beat"] <= 1.0
