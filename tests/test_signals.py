"""Rolling indicators against pandas' rolling windows and numpy closed forms."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from shortthehype.errors import ParamError
from shortthehype.signals import log_returns, rolling_beta, rolling_mean, rolling_volatility

INDEX = pd.bdate_range("2020-01-01", periods=300)


def random_prices(seed: int = 0, n_assets: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    prices = 100 * np.exp(np.cumsum(rng.normal(0, 0.02, size=(len(INDEX), n_assets)), axis=0))
    frame = pd.DataFrame(prices, index=INDEX, columns=[f"A{i}" for i in range(n_assets)])
    frame.iloc[:40, 1] = np.nan  # lists later
    frame.iloc[150, 2] = np.nan  # one missing day
    return frame


@pytest.mark.parametrize("window", [1, 2, 5, 63])
def test_rolling_mean_matches_pandas_without_partial_windows(window):
    prices = random_prices()
    expected = prices.rolling(window, min_periods=window).mean()
    pd.testing.assert_frame_equal(rolling_mean(prices, window), expected, rtol=1e-12, atol=0)


@pytest.mark.parametrize("window", [2, 20, 126])
def test_rolling_volatility_matches_pandas(window):
    prices = random_prices(1)
    expected = np.log(prices / prices.shift(1)).rolling(window, min_periods=window).std() * np.sqrt(252)
    pd.testing.assert_frame_equal(rolling_volatility(prices, window), expected, rtol=1e-10, atol=0)


def test_rolling_beta_matches_covariance_over_variance():
    prices = random_prices(2)
    asset, market = prices["A0"], prices["A2"]
    beta = rolling_beta(asset, market, 60)
    ra, rm = asset.pct_change(fill_method=None), market.pct_change(fill_method=None)
    expected = ra.rolling(60, min_periods=60).cov(rm) / rm.rolling(60, min_periods=60).var()
    pd.testing.assert_series_equal(beta, expected.rename("A0"), rtol=1e-9, atol=1e-12)
    # a window spanning the missing market day is NaN, never a partial window
    assert beta.iloc[150:211].isna().all() and np.isfinite(beta.iloc[212])


def test_beta_of_a_levered_copy_is_the_leverage():
    market = random_prices(3)["A0"]
    levered = market.iloc[0] * (1 + 2.0 * market.pct_change(fill_method=None).fillna(0)).cumprod()
    assert np.allclose(rolling_beta(levered, market, 30).dropna(), 2.0, rtol=1e-10)


def test_log_returns_and_windows_are_validated():
    prices = random_prices()
    assert np.isnan(log_returns(prices).iloc[0]).all()
    assert log_returns(prices["A0"]).iloc[1] == pytest.approx(np.log(prices["A0"].iloc[1] / prices["A0"].iloc[0]))
    with pytest.raises(ParamError, match=r"window must be an integer >= 1, got 0"):
        rolling_mean(prices, 0)
    with pytest.raises(ParamError, match=r"window must be an integer >= 2"):
        rolling_volatility(prices, 1)


def test_rolling_betas_of_many_windows_equal_one_call_per_ticker_and_window():
    """The one-pass, parallel kernel gives every (window, ticker) value of rolling_beta bit for bit (gaps included)."""
    from shortthehype.signals import rolling_betas

    prices = random_prices(seed=3, n_assets=4)
    prices.iloc[40:45, 1] = np.nan  # a trading halt: windows over it are NaN
    reference = prices.pop(prices.columns[-1])
    windows = [2, 5, 21, 63]
    betas = rolling_betas(prices, reference, windows)
    assert betas.shape == (len(windows), len(prices), prices.shape[1])
    for w, window in enumerate(windows):
        for j, ticker in enumerate(prices.columns):
            one = rolling_beta(prices[ticker], reference, window).to_numpy()
            np.testing.assert_array_equal(betas[w, :, j], one)
    assert np.isnan(betas[:, 41:46, 1]).all() and np.isfinite(betas[-1, 100:, 0]).all()
    later = rolling_betas(prices, reference, windows, first=120)  # rows before 120 are not computed
    assert np.isnan(later[:, :120]).all()
    np.testing.assert_array_equal(later[:, 120:], betas[:, 120:])


def test_rolling_volatilities_of_many_windows_equal_one_call_per_window():
    from shortthehype.signals import rolling_volatilities

    prices = random_prices(seed=4, n_assets=3)
    windows = [2, 21, 63]
    vols = rolling_volatilities(prices, windows)
    for w, window in enumerate(windows):
        np.testing.assert_array_equal(vols[w], rolling_volatility(prices, window).to_numpy())
    assert np.isnan(vols[:, :41, 1]).all() and np.isfinite(vols[-1, 200:, 0]).all()


def _window_loops(x, y, window, ddof):
    """The windowed kernels' definition, one window at a time: (mean of x, std of x, beta of y on x).

    Each window is checked for non-finite values and summed in index order
    (two passes for the dispersion), as the kernels must do bit for bit.
    A square is a product here: numba compiles ``v ** 2`` to ``v * v``, while
    Python's ``**`` calls ``pow``, which may round differently.
    """
    n = len(x)
    mean, std, beta = np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan)
    for t in range(window - 1, n):
        span = range(t - window + 1, t + 1)
        sx = sy = 0.0
        for i in span:
            sx += x[i]
            sy += y[i]
        if all(np.isfinite(x[i]) for i in span):
            mean[t] = sx / window
            if window - ddof > 0:
                mx = sx / window
                squares = 0.0
                for i in span:
                    squares += (x[i] - mx) * (x[i] - mx)
                std[t] = np.sqrt(squares / (window - ddof))
        if all(np.isfinite(x[i]) and np.isfinite(y[i]) for i in span):
            mx, my = sx / window, sy / window
            cov = var = 0.0
            for i in span:
                cov += (x[i] - mx) * (y[i] - my)
                var += (x[i] - mx) * (x[i] - mx)
            beta[t] = cov / var if var > 0.0 else np.nan
    return mean, std, beta


def test_rolling_kernels_equal_one_loop_per_window_bit_for_bit():
    """The kernels sum every window together (vectorised over windows): each value is the per-window loop's bits."""
    from shortthehype.core.signals_nb import rolling_beta_1d_nb, rolling_mean_1d_nb, rolling_std_1d_nb

    rng = np.random.default_rng(11)
    for trial in range(60):
        n = int(rng.integers(1, 120))
        x = rng.normal(0.0, 0.02, n) * rng.choice([1.0, 1e-8, 1e6])
        y = 1.3 * x + rng.normal(0.0, 0.01, n)
        if trial % 6 == 0:
            x[:] = 0.5  # no variance: beta is NaN
        for series in (x, y):
            for _ in range(int(rng.integers(0, 3))):
                series[rng.integers(0, n)] = rng.choice([np.nan, np.inf, -np.inf])
        window = int(rng.integers(1, n + 3))  # up to longer than the series
        for ddof in (0, 1):
            mean, std, beta = _window_loops(x, y, window, ddof)
            assert_same_bits(rolling_std_1d_nb(x, window, ddof, np.empty(n)), std)
        assert_same_bits(rolling_mean_1d_nb(x, window, np.empty(n)), mean)
        assert_same_bits(rolling_beta_1d_nb(y, x, window, np.empty(n)), beta)
    x = rng.normal(0.0, 0.02, 30)
    for kernel in (lambda w: rolling_mean_1d_nb(x, w, np.empty(30)), lambda w: rolling_std_1d_nb(x, w, 1, np.empty(30)),
                   lambda w: rolling_beta_1d_nb(x, x, w, np.empty(30))):
        assert np.isnan(kernel(0)).all() and np.isnan(kernel(-3)).all()  # no window: nothing to average


def assert_same_bits(ours, expected):
    """Equal bits where a value is defined (the sign of a zero included), NaN at the same places."""
    assert ours.shape == expected.shape
    defined = ~np.isnan(expected)
    np.testing.assert_array_equal(np.isnan(ours), ~defined)
    np.testing.assert_array_equal(ours[defined].view(np.int64), expected[defined].view(np.int64))
