"""No look-ahead, for every shipped spec: targets up to a date ignore every price after it.

Prices after the cut are multiplied by random factors (a different future);
the strategy's targets on every bar up to and including the cut must not move.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from shortthehype.data.load import load_prices
from shortthehype.data.prices import Prices
from shortthehype.spec import load_spec

SPECS = sorted((Path(__file__).resolve().parents[1] / "strategies").glob("*.toml"))
CUT = pd.Timestamp("2024-03-28")
#: Settings that give a spec targets before the cut (or a cheaper analog search), per spec file ...
ADJUST = {
    "burry_short": {"entry": "2023-06-01"},
    "burry_puts": {"entry": "2023-06-01"},
    "dotcom_analog": {"scale_steps": "3"},
    "bubble_timer": {"evaluate_from": "2023-01-03"},
}
#: ... and the variants checked besides each spec's defaults.
VARIANTS = {
    "burry_short": [{"entry": "2023-06-01", "instrument": "puts"}],
    "burry_puts": [{"entry": "2023-06-01", "contracts.nvda.enabled": "true", "exit": "2024-01-02"}],
    "dotcom_analog": [{"mode": "path", "scale_steps": "3"}],
    "ai_basket": [{"trend_window": "100", "weighting": "momentum"}],
}
CASES = [(path, ADJUST.get(path.stem, {})) for path in SPECS]
CASES += [(path, variant) for path in SPECS for variant in VARIANTS.get(path.stem, [])]


def perturbed_after(prices: Prices, cut: pd.Timestamp, seed: int = 0) -> Prices:
    rng = np.random.default_rng(seed)
    after = prices.index > cut
    factors = np.exp(np.cumsum(rng.normal(0.0, 0.05, size=(int(after.sum()), len(prices.tickers))), axis=0))
    frames = {}
    for name in ("open", "high", "low", "close"):
        frame = prices.field(name).copy()
        frame.loc[after] = frame.loc[after].to_numpy() * factors
        frames[name] = frame
    return Prices(**frames, volume=prices.volume, source=prices.source)


@pytest.mark.filterwarnings("ignore::shortthehype.errors.DataWarning")
@pytest.mark.parametrize(
    ("path", "overrides"), CASES, ids=[f"{p.stem}-{'-'.join(o.values()) or 'default'}" for p, o in CASES]
)
def test_targets_up_to_a_date_ignore_later_prices(path, overrides, shared_prices_dir):
    spec = load_spec(path).with_overrides(overrides)
    prices = load_prices(spec.tickers(), end="2025-06-30", source="csv", data_dir=shared_prices_dir)

    def targets(p: Prices) -> pd.DataFrame:
        return spec.kind.target_weights(spec.kind.traded_prices(p, spec.params), spec.params)

    base = targets(prices).loc[:CUT]
    other = targets(perturbed_after(prices, CUT)).loc[:CUT]
    assert base.notna().to_numpy().any(), "the spec set no target before the cut: the check would be empty"
    pd.testing.assert_frame_equal(base, other, check_exact=True)
