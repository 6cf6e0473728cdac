"""Deflated Sharpe Ratio and PBO: the papers' worked numbers, an independent CSCV, limiting cases."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from shortthehype.errors import ParamError
from shortthehype.overfitting import (
    block_layout,
    block_sums,
    deflated_sharpe,
    deflated_sharpe_ratio,
    expected_max_sharpe,
    pbo_from_block_sums,
    probabilistic_sharpe_ratio,
    probability_of_backtest_overfitting,
)

# ---- deflated Sharpe ratio ---------------------------------------------------------------


def test_dsr_reproduces_the_papers_numerical_example():
    """Bailey & López de Prado (2014), section 'A numerical example': 100 trials, best annualised
    SR 2.5, variance of the annualised trial SRs 1/2, five years of daily returns (T = 1250,
    250 days a year), skewness -3, kurtosis 10 -> SR0 = 0.1132 (per day) and DSR = 0.9004."""
    days = 250
    result = deflated_sharpe(
        sharpe=2.5 / math.sqrt(days), n_obs=1250, n_trials=100, sharpe_variance=0.5 / days, skew=-3.0, kurtosis=10.0
    )
    assert result.expected_max == pytest.approx(0.1132, abs=5e-5)
    assert result.dsr == pytest.approx(0.9004, abs=5e-5)


def _scipy_dsr(sr, t, n, v, skew, kurt):
    """The same formula written with scipy's normal distribution (independent quantiles and CDF)."""
    g = 0.5772156649015329
    sr0 = math.sqrt(v) * ((1 - g) * stats.norm.ppf(1 - 1 / n) + g * stats.norm.ppf(1 - 1 / (n * math.e)))
    z = (sr - sr0) * math.sqrt(t - 1) / math.sqrt(1 - skew * sr + (kurt - 1) / 4 * sr**2)
    return stats.norm.cdf(z)


@pytest.mark.parametrize("seed", range(5))
def test_dsr_equals_a_scipy_implementation(seed):
    rng = np.random.default_rng(seed)
    sr, t, n = rng.uniform(0.0, 0.2), int(rng.integers(100, 5000)), int(rng.integers(2, 10000))
    v, skew, kurt = rng.uniform(1e-5, 1e-2), rng.uniform(-2, 2), rng.uniform(2, 12)
    assert deflated_sharpe_ratio(sr, t, n, v, skew, kurt) == pytest.approx(_scipy_dsr(sr, t, n, v, skew, kurt), abs=1e-12)


def test_psr_closed_form_for_normal_returns():
    # skew 0, kurtosis 3: z = SR sqrt(T - 1) / sqrt(1 + SR^2 / 2)
    z = 0.1 * math.sqrt(100) / math.sqrt(1 + 0.5 * 0.01)
    assert probabilistic_sharpe_ratio(0.1, 101) == pytest.approx(stats.norm.cdf(z), abs=1e-14)
    assert probabilistic_sharpe_ratio(0.1, 101, benchmark=0.1) == pytest.approx(0.5, abs=1e-15)


def test_expected_max_sharpe_is_close_to_a_monte_carlo_maximum():
    """The formula is an approximation of E[max of N normals]: within 2 % for N = 100 and 1000."""
    rng = np.random.default_rng(0)
    variance = 0.04**2
    for n in (100, 1000):
        draws = rng.normal(0.0, math.sqrt(variance), size=(2000, n)).max(axis=1)
        assert expected_max_sharpe(n, variance) == pytest.approx(draws.mean(), rel=0.02)
    assert expected_max_sharpe(1, variance) == 0.0
    assert expected_max_sharpe(10, variance) < expected_max_sharpe(100, variance)


def test_dsr_edge_cases_and_errors():
    assert math.isnan(deflated_sharpe_ratio(float("nan"), 100, 10, 1e-3))
    assert math.isnan(deflated_sharpe_ratio(0.1, 1, 10, 1e-3))  # fewer than 2 returns
    assert math.isnan(deflated_sharpe_ratio(0.1, 100, 10, float("nan")))
    # one trial: no selection, DSR = PSR against 0
    assert deflated_sharpe_ratio(0.1, 101, 1, 1e-3) == pytest.approx(probabilistic_sharpe_ratio(0.1, 101))
    with pytest.raises(ParamError, match="'n_trials'"):
        expected_max_sharpe(0, 1e-3)
    with pytest.raises(ParamError, match="'sharpe_variance'"):
        expected_max_sharpe(10, -1.0)


# ---- probability of backtest overfitting ---------------------------------------------------


def naive_cscv(returns: np.ndarray, n_blocks: int) -> tuple[float, np.ndarray]:
    """CSCV written from the paper's steps on the full return matrix (as pypbo does), with
    scipy's average ranks; a trial without variance on a set gets Sharpe -inf."""
    t, n = returns.shape
    m = returns[t % n_blocks :]
    length = m.shape[0] // n_blocks
    blocks = [m[b * length : (b + 1) * length] for b in range(n_blocks)]

    def sharpe(x):
        sd = x.std(axis=0, ddof=1)
        out = x.mean(axis=0) / np.where(sd > 0, sd, 1.0)
        return np.where(sd > 0, out, -np.inf)

    logits = []
    for train in itertools.combinations(range(n_blocks), n_blocks // 2):
        test = [b for b in range(n_blocks) if b not in train]
        r_in = sharpe(np.concatenate([blocks[b] for b in train]))
        r_out = sharpe(np.concatenate([blocks[b] for b in test]))
        best = int(np.argmax(r_in))
        w = stats.rankdata(r_out)[best] / (n + 1)
        logits.append(math.log(w / (1 - w)))
    logits = np.array(logits)
    return float(np.mean(logits <= 0)), logits


@pytest.mark.parametrize("n_blocks, n_bars, n_trials", [(4, 203, 7), (8, 400, 30), (16, 500, 12)])
def test_pbo_equals_the_naive_cscv(n_blocks, n_bars, n_trials):
    rng = np.random.default_rng(n_blocks)
    returns = rng.normal(0.0005, 0.01, size=(n_bars, n_trials)) + rng.normal(0, 0.0005, size=n_trials)
    returns[:, 3] = 0.0  # a flat trial: no variance anywhere, always ranked last
    expected_pbo, expected_logits = naive_cscv(returns, n_blocks)
    result = probability_of_backtest_overfitting(returns, n_blocks)
    np.testing.assert_allclose(result.logits, expected_logits, rtol=0, atol=1e-12)
    assert result.pbo == expected_pbo
    assert result.n_splits == result.n_splits_total == math.comb(n_blocks, n_blocks // 2)
    assert result.block_len == n_bars // n_blocks


def test_pbo_is_near_one_when_trials_have_identical_full_sample_performance():
    """The paper's noise experiment: every trial's returns have the same full-sample mean and
    standard deviation, so doing better in sample means doing worse out of sample."""
    rng = np.random.default_rng(1)
    noise = rng.normal(size=(1000, 100))
    noise = (noise - noise.mean(axis=0)) / noise.std(axis=0, ddof=1) * 0.01 + 0.0003
    assert probability_of_backtest_overfitting(noise).pbo > 0.95


def test_pbo_of_iid_noise_is_one_half_on_average():
    """For i.i.d. noise the in-sample winner's out-of-sample rank is uniform over data sets; one
    data set's splits are strongly dependent, so the average is taken over many."""
    rng = np.random.default_rng(2)
    values = [probability_of_backtest_overfitting(rng.normal(0, 0.01, size=(320, 20))).pbo for _ in range(40)]
    assert 0.4 < np.mean(values) < 0.6


def test_pbo_is_near_zero_with_one_dominant_strategy():
    rng = np.random.default_rng(3)
    returns = rng.normal(0.0, 0.01, size=(2000, 50))
    returns[:, 17] += 0.004  # daily Sharpe 0.4: the best in every half of the data
    result = probability_of_backtest_overfitting(returns)
    assert result.pbo == 0.0
    assert (result.logits > 0).all()


def test_constant_returns_rank_below_every_defined_sharpe():
    """A one-pass variance of identical nonzero returns is round-off, not a huge Sharpe ratio."""
    rng = np.random.default_rng(4)
    returns = rng.normal(0.0, 0.01, size=(320, 5))
    returns[:, 0] = 0.0003  # constant: undefined Sharpe, never the in-sample best
    sums = block_sums(returns, 16)
    result = pbo_from_block_sums(sums, 20)
    _, naive_logits = naive_cscv(np.where(np.arange(5) == 0, 0.0, returns), 16)
    np.testing.assert_allclose(result.logits, naive_logits, atol=1e-12)


def test_pbo_samples_splits_above_the_evaluation_cap():
    rng = np.random.default_rng(5)
    returns = rng.normal(0.0, 0.01, size=(640, 40)) + np.linspace(0, 0.001, 40)
    full = probability_of_backtest_overfitting(returns)
    sampled = probability_of_backtest_overfitting(returns, max_evaluations=40 * 150, seed=9)
    assert sampled.n_splits == 150 and sampled.sampled and not full.sampled
    again = probability_of_backtest_overfitting(returns, max_evaluations=40 * 150, seed=9)
    np.testing.assert_array_equal(sampled.logits, again.logits)  # seeded
    assert set(np.round(sampled.logits, 12)) <= set(np.round(full.logits, 12))  # a subset of the splits
    assert abs(sampled.pbo - full.pbo) < 0.15


def test_pbo_accepts_a_dataframe_and_needs_two_trials():
    rng = np.random.default_rng(6)
    frame = pd.DataFrame(rng.normal(0, 0.01, size=(64, 3)))
    assert probability_of_backtest_overfitting(frame, 4).pbo == naive_cscv(frame.to_numpy(), 4)[0]
    assert math.isnan(probability_of_backtest_overfitting(frame.iloc[:, :1], 4).pbo)


def test_block_layout_and_errors_name_the_parameter():
    assert block_layout(1250, 16) == (1250 - 16 * 78, 78)
    with pytest.raises(ParamError, match="'n_blocks' must be an even number"):
        block_layout(100, 7)
    with pytest.raises(ParamError, match="at least 2 returns per block: 20 returns cannot be cut into 16 blocks"):
        block_layout(20, 16)
    with pytest.raises(ParamError, match="2-D array"):
        probability_of_backtest_overfitting(np.zeros(100))
    with pytest.raises(ParamError, match=r"shape \(n_trials, n_blocks, 2\)"):
        pbo_from_block_sums(np.zeros((3, 4)), 5)


def test_block_sums_equal_numpy_sums():
    rng = np.random.default_rng(7)
    returns = rng.normal(size=(103, 4))
    returns[50, 2] = np.nan
    sums = block_sums(returns, 4)
    kept = np.nan_to_num(returns[3:])
    for b in range(4):
        chunk = kept[b * 25 : (b + 1) * 25]
        np.testing.assert_allclose(sums[:, b, 0], chunk.sum(axis=0), rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(sums[:, b, 1], (chunk**2).sum(axis=0), rtol=1e-13)
