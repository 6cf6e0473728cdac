"""Reproduce the default volatility skew (docs/options.md): a minimax fit to Scion's $1.84 PLTR put.

Run from the repository root:  .venv/bin/python docs/calibrate_skew.py [../shared/data]

For each (skew_slope, skew_curvature) on a grid, the PLTR 2027-01-15 $50 put is priced with the package's own
pricing (default at-the-money model, the T-bill cash rate) on every trading day of October 2025; the fit keeps
the pair whose largest |price / 1.84 - 1| is smallest among the pairs that make a *skew*, not a symmetric
smile: m(z) falls from the put wing through at-the-money to at least z = +1, i.e. curvature <= slope / 2.
(Unconstrained, one quote on one put cannot tell a skew from a smile: the fit drifts to a symmetric smile
that would price far out-of-the-money calls as dear as puts, which equity options do not show.)
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from shortthehype.data.load import load_prices
from shortthehype.option_pricing import VolModel, price_contract

data = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data")
prices = load_prices(["PLTR"], source="csv", data_dir=data / "prices")
bill = pd.read_csv(data / "rates" / "DTB3.csv", index_col="date", parse_dates=["date"])["rate"] / 100
rate = bill / (1 - bill * 91 / 360)  # FRED DTB3 is a discount rate: the ACT/360 money-market yield


def worst_error(slope: float, curvature: float) -> float:
    contract = price_contract(
        prices, name="pltr", ticker="PLTR", option_type="put", entry=pd.Timestamp("2025-10-01"), strike=50.0,
        expiry=pd.Timestamp("2027-01-15"), contracts=50_000, rate=rate,
        volatility=VolModel(slope=slope, curvature=curvature),
    )
    october = contract.prices.close[contract.symbol].loc["2025-10-01":"2025-10-31"]
    return float((october / 1.84 - 1).abs().max())


grid = [
    (s, c)
    for s in np.arange(0.0, 0.4001, 0.005)
    for c in np.arange(0.0, 0.2001, 0.005)
    if c <= s / 2 + 1e-12
]
errors = [worst_error(s, c) for s, c in grid]
best = int(np.argmin(errors))
print(f"best skew_slope={grid[best][0]:.3f} skew_curvature={grid[best][1]:.3f}: worst error {errors[best]:.1%}")
for slope, curvature in ((0.10, 0.045), (0.2, 0.0), (0.0, 0.0)):
    print(f"skew_slope={slope} skew_curvature={curvature}: worst error {worst_error(slope, curvature):.1%}")
