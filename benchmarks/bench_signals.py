"""Rolling-window indicators: shortthehype's kernels beside pandas' rolling windows, in one process.

What the strategies compute for a sweep, on a seeded random market of 10
tickers x 6,000 bars (one market series beside them):

* ``betas``: hype-hedge's rolling betas, every window of its wide grid
  (20 to 252 bars by 8: 30 windows) for every ticker;
  ``signals.rolling_betas`` against pandas ``rolling(w).cov(m) / rolling(w).var()``.
* ``volatilities``: ai-basket's rolling volatilities (6 windows, 2 to 252 by 50);
  ``signals.rolling_volatilities`` against pandas ``rolling(w).std()`` of the log returns.
* ``means``: the windowed moving average (``sma=windowed``) of every window 2 to 100;
  ``signals.rolling_mean`` against pandas ``rolling(w).mean()``.

Ours sums each window in index order (two passes for the dispersion), so it
is exact to the last bits where pandas keeps running sums; the table gives the
largest difference between the two as a check.  Best of 5 after a warm-up.

Run: ``.venv/bin/python benchmarks/bench_signals.py`` (prints a Markdown table;
``PYTHONPATH=OTHER/src`` measures another checkout with the same script).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import best_time, machine_summary  # noqa: E402

N_BARS, N_TICKERS = 6000, 10
BETA_WINDOWS = list(range(20, 253, 8))
VOL_WINDOWS = list(range(2, 253, 50))
MEAN_WINDOWS = list(range(2, 101))


def market() -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(42)
    index = pd.bdate_range("2003-01-01", periods=N_BARS)
    factor = rng.normal(0.0003, 0.011, N_BARS)
    returns = 1.3 * factor[:, None] + rng.normal(0.0, 0.02, (N_BARS, N_TICKERS))
    close = pd.DataFrame(100 * np.exp(np.cumsum(returns, axis=0)), index=index,
                         columns=[f"T{j}" for j in range(N_TICKERS)])
    return close, pd.Series(100 * np.exp(np.cumsum(factor)), index=index, name="M")


def main() -> None:
    from shortthehype.signals import log_returns, rolling_betas, rolling_mean, rolling_volatilities

    close, reference = market()
    simple = close.pct_change(fill_method=None)
    ref_simple = reference.pct_change(fill_method=None)
    logs = np.log(close / close.shift(1))

    def pandas_betas():
        return np.stack([
            simple.rolling(w, min_periods=w).cov(ref_simple).div(ref_simple.rolling(w, min_periods=w).var(), axis=0)
            .to_numpy() for w in BETA_WINDOWS
        ])

    def pandas_vols():
        return np.stack([(logs.rolling(w, min_periods=w).std() * np.sqrt(252)).to_numpy() for w in VOL_WINDOWS])

    def pandas_means():
        return np.stack([close.rolling(w, min_periods=w).mean().to_numpy() for w in MEAN_WINDOWS])

    cases = {
        "betas": (lambda: rolling_betas(close, reference, BETA_WINDOWS), pandas_betas, len(BETA_WINDOWS)),
        "volatilities": (lambda: rolling_volatilities(close, VOL_WINDOWS), pandas_vols, len(VOL_WINDOWS)),
        "means": (lambda: np.stack([rolling_mean(close, w, "windowed").to_numpy() for w in MEAN_WINDOWS]),
                  pandas_means, len(MEAN_WINDOWS)),
    }
    assert log_returns(close).shape == close.shape
    print(f"Machine: {machine_summary()}\n")
    print(f"| {N_TICKERS} tickers x {N_BARS:,} bars | windows | shortthehype | pandas | ratio | largest difference |")
    print("|---|---|---|---|---|---|")
    for name, (ours, theirs, n_windows) in cases.items():
        t_ours, a = best_time(ours)
        t_theirs, b = best_time(theirs)
        both = np.isfinite(a) & np.isfinite(b)
        assert (np.isfinite(a) == np.isfinite(b)).all(), name
        diff = float(np.max(np.abs(a[both] - b[both]) / np.maximum(np.abs(b[both]), 1e-300)))
        print(f"| {name} | {n_windows} | {t_ours * 1e3:.1f} ms | {t_theirs * 1e3:.1f} ms | "
              f"{t_theirs / t_ours:.1f}x | {diff:.1e} relative |")


if __name__ == "__main__":
    main()
