"""``hype-hedge`` on the real shared prices: trailing betas from past data only, hedge ratios by hand."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from shortthehype import backtest
from shortthehype.constants import HEDGE_MIN_BETA
from shortthehype.data.load import load_prices
from shortthehype.data.prices import Prices
from shortthehype.errors import ParamError, SpecError
from shortthehype.spec import load_spec
from shortthehype.strategies.burry_short import BURRY_TARGETS

SPLIT = {t: w / sum(BURRY_TARGETS.values()) for t, w in BURRY_TARGETS.items()}


def read_close(shared: Path, ticker: str) -> pd.Series:
    """Closes read straight from the shared file (independent of the package's loader)."""
    return pd.read_csv(shared / f"{ticker}.csv", index_col="date", parse_dates=["date"])["close"]


def ols_beta(asset: pd.Series, reference: pd.Series, end: pd.Timestamp, window: int) -> float:
    """Slope of a least-squares line through the last `window` daily simple returns up to `end` (numpy polyfit)."""
    both = pd.concat([asset, reference], axis=1, join="inner").loc[:end]
    returns = both.pct_change(fill_method=None).iloc[-window:]
    assert len(returns) == window and returns.notna().all().all()
    slope, _ = np.polyfit(returns.iloc[:, 1].to_numpy(), returns.iloc[:, 0].to_numpy(), 1)
    return float(slope)


def targets(spec_overrides: dict, prices: Prices) -> pd.DataFrame:
    spec = load_spec("hype-hedge").with_overrides(spec_overrides) if spec_overrides else load_spec("hype-hedge")
    return spec.kind.target_weights(prices.select(spec.tickers()), spec.params)


@pytest.fixture(scope="module")
def shared(shared_prices_dir):
    return shared_prices_dir


@pytest.fixture(scope="module")
def prices(shared):
    basket = ["MSFT", "GOOGL", "AMZN", "META", "AVGO", "TSM", "ORCL", "AMD"]
    with pytest.warns(Warning):  # AMD has a split-sized move in 2016: a data warning, not an error
        return load_prices(["SPY", "RSP", "PLTR", "NVDA", *basket], source="csv", data_dir=shared)


# ---- the hedge ratio by hand ------------------------------------------------------------------


@pytest.mark.parametrize("window", [63, 126])
def test_hedge_ratio_equals_independent_betas_from_the_shared_closes(shared, prices, window):
    decision = pd.Timestamp("2024-06-28")  # the last trading day of June: a monthly decision bar
    weights = targets({"beta_window": window, "gross_cap": 10.0}, prices)
    row = weights.loc[decision]
    spy = read_close(shared, "SPY")
    beta = {t: ols_beta(read_close(shared, t), spy, decision, window) for t in SPLIT}
    beta_short = sum(SPLIT[t] * beta[t] for t in SPLIT)
    short_notional = 1.0 * 1.0 / beta_short  # long_weight x beta(SPY on SPY) / beta_short
    assert row["SPY"] == pytest.approx(1.0, rel=1e-12)
    for t in SPLIT:
        assert row[t] == pytest.approx(-short_notional * SPLIT[t], rel=1e-9)
    # the book's beta on that day is zero
    assert row["SPY"] * 1.0 + sum(row[t] * beta[t] for t in SPLIT) == pytest.approx(0.0, abs=1e-9)


def test_gross_cap_scales_both_legs_and_keeps_beta_neutrality(shared, prices):
    decision = pd.Timestamp("2024-06-28")
    free = targets({"gross_cap": 10.0}, prices).loc[decision]
    capped = targets({"gross_cap": 1.2}, prices).loc[decision]
    gross = free.abs().sum()
    assert gross > 1.2
    assert capped.abs().sum() == pytest.approx(1.2, rel=1e-12)
    np.testing.assert_allclose(capped.to_numpy(), free.to_numpy() * 1.2 / gross, rtol=1e-12)


def test_basket_long_leg_uses_the_mean_beta_of_its_members(shared, prices):
    decision = pd.Timestamp("2023-03-31")
    basket = ["MSFT", "GOOGL", "AMZN", "META"]
    overrides = {"market": "basket", "basket": ",".join(basket), "split": "equal", "gross_cap": 10.0}
    row = targets(overrides, prices).loc[decision]
    spy = read_close(shared, "SPY")
    beta = {t: ols_beta(read_close(shared, t), spy, decision, 126) for t in basket + list(SPLIT)}
    beta_long = np.mean([beta[t] for t in basket])
    beta_short = 0.5 * beta["PLTR"] + 0.5 * beta["NVDA"]
    for t in basket:
        assert row[t] == pytest.approx(0.25, rel=1e-12)
    for t in SPLIT:
        assert row[t] == pytest.approx(-0.5 * beta_long / beta_short, rel=1e-9)


def test_no_hedge_until_pltr_has_a_full_beta_window(shared, prices):
    weights = targets({}, prices)
    pltr = read_close(shared, "PLTR")
    first_beta_day = pltr.index[126]  # 126 returns need 127 closes
    decisions = weights.dropna(how="all")
    before = decisions.loc[: first_beta_day - pd.Timedelta(days=1)]
    # a short leg without prices (before 2020-09-30) -> flat; listed but no beta yet -> skipped (no row)
    assert (before == 0).all().all()
    assert before.index.max() < pltr.index[0]
    first = decisions.loc[first_beta_day:].index[0]
    spy_days = read_close(shared, "SPY").loc[first_beta_day:].index
    month_end = spy_days[spy_days.to_period("M") != spy_days[0].to_period("M")][0] - pd.Timedelta(days=1)
    assert first == spy_days[spy_days <= month_end][-1]  # the first month end with a beta
    assert (decisions.loc[first, ["PLTR", "NVDA"]] < 0).all() and decisions.loc[first, "SPY"] > 0


def test_targets_use_no_data_after_the_decision_date(prices):
    cut = pd.Timestamp("2024-03-28")
    rng = np.random.default_rng(3)
    factor = pd.Series(np.exp(rng.normal(0, 0.05, len(prices))), index=prices.index).where(prices.index > cut, 1.0)
    frames = {f: prices.field(f).mul(factor, axis=0) for f in ("open", "high", "low", "close")}
    perturbed = Prices(**frames, volume=prices.volume)
    for overrides in ({}, {"market": "basket", "rebalance": "weekly"}):
        a, b = targets(overrides, prices), targets(overrides, perturbed)
        pd.testing.assert_frame_equal(a.loc[:cut], b.loc[:cut])
        assert not a.loc[cut:].equals(b.loc[cut:])  # the perturbation does reach later decisions


def test_unusable_beta_skips_the_decision(prices):
    # against an inverse-SPY reference every leg beta is about -1 < HEDGE_MIN_BETA: once the
    # shorts trade, no decision is taken at all (the "flat" rows before PLTR lists remain)
    close = prices.close[["SPY", "PLTR", "NVDA"]]
    synthetic = Prices.from_close(close.assign(INVERSE=1e4 / close["SPY"]))
    spec = load_spec("hype-hedge").with_overrides({"reference": "INVERSE"})
    weights = spec.kind.target_weights(synthetic, spec.params)
    from shortthehype.strategies.hype_hedge import hedge_betas

    betas = hedge_betas(synthetic, spec.params)
    assert (betas["SPY"].dropna() < HEDGE_MIN_BETA).all()
    decisions = weights.dropna(how="all")
    assert decisions.index.max() < pd.Timestamp("2020-09-30") and (decisions == 0).all().all()
    # the same prices against SPY itself hedge every month end once PLTR has a beta
    normal = targets({}, prices).dropna(how="all")
    assert (normal.loc["2021-04-30":].index.size >= 60) and (normal.loc["2021-04-30":, "PLTR"] < 0).all()


# ---- end to end -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides",
    [{}, {"market": "RSP", "split": "equal"}, {"market": "basket", "beta_window": 252, "rebalance": "quarterly"}],
)
def test_spec_runs_end_to_end_on_the_shared_data(shared, overrides):
    # the basket's AMD had a +52% day in 2016, before this window: the run reports no data warning
    with _no_warning():
        run_ = backtest("hype-hedge", data_dir=shared, source="csv", overrides=overrides)
    assert not any("AMD 2016-04-22" in w for w in run_.warnings)
    result = run_.result
    assert result.status == "ok" and np.isfinite(result.equity).all()
    assert result.equity.index[0] == pd.Timestamp("2021-05-03")
    shorts = result.positions[["PLTR", "NVDA"]]
    assert (shorts.iloc[1:] <= 0).all().all()
    if overrides.get("market") == "RSP":
        # the shared RSP file ends 2026-06-12: the engine closes RSP there, and the next decision
        # (the June month end) finds no long leg to trade and flattens the shorts at the next open
        last_rsp = read_close(shared, "RSP").index[-1]
        assert last_rsp == pd.Timestamp("2026-06-12")
        assert (shorts.iloc[1:].loc[:last_rsp] < 0).all().all()
        assert (shorts.loc["2026-07-01":] == 0).all().all() and (shorts.loc["2026-06-30"] < 0).all()
    else:
        assert (shorts.iloc[-1] < 0).all()
    assert result.costs["borrow"] > 0
    assert set(run_.stats) >= {"total_return", "beta", "benchmark_total_return"}


class _no_warning:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_realised_beta_is_far_below_a_naked_short(shared):
    hedged = backtest("hype-hedge", data_dir=shared, source="csv")
    naked = backtest(
        "burry-short",
        data_dir=shared,
        source="csv",
        overrides={"start": "2021-05-03", "entry": "2021-05-03", "exposure": 0.5, "rebalance": "keep_weights"},
    )
    # the beta of the hedged book's daily returns on SPY is near zero; a 50% naked short's is about -1
    assert hedged.result.status == naked.result.status == "ok"
    assert abs(hedged.stats["beta"]) < 0.15
    assert naked.stats["beta"] < -0.5


def test_spec_file_documents_every_parameter():
    spec = load_spec("hype-hedge")
    text = spec.path.read_text()
    for param in spec.kind.params:
        assert f"#   {param.name}" in text, f"{param.name} is not documented in the spec file"
    assert spec.params["market"] == "SPY" and spec.params["reference"] == "SPY"
    assert spec.params["beta_window"] == 126
    assert set(spec.sweep) >= {"beta_window", "market", "split"}


@pytest.mark.parametrize(
    ("overrides", "error", "pattern"),
    [
        ({"market": "PLTR"}, SpecError, r"PLTR cannot be in both the long leg and 'shorts'"),
        ({"market": "basket", "basket": "MSFT,NVDA"}, SpecError, r"NVDA cannot be in both"),
        ({"shorts": "PLTR,TSLA"}, SpecError, r"split 'burry' has no 13F weight for TSLA"),
        ({"reference": "basket"}, SpecError, r"'reference' must be an index ticker"),
        ({"beta_window": 2}, ParamError, r"parameter 'beta_window' must be >= 5"),
        ({"split": "cap"}, ParamError, r"parameter 'split'"),
    ],
)
def test_invalid_settings_are_one_line_errors_naming_the_parameter(overrides, error, pattern):
    with pytest.raises(error, match=pattern) as info:
        load_spec("hype-hedge").with_overrides(overrides)
    assert "\n" not in str(info.value)
