"""Tests of the synthetic market generator (data/synthetic.py, core/synthetic_nb.py).

Statistical tests use fixed seeds, so they are deterministic; each tolerance is
a multiple (4 or more) of a standard error derived from the sample itself or
from a closed form, so a correct generator passes with overwhelming probability
for *any* seed and a wrong model (wrong variance scaling, missing correlation,
no clustering) fails by many standard errors.
"""

from __future__ import annotations

import hashlib
import math
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import shortthehype.data.synthetic as synthetic
from shortthehype.constants import ANNUALIZATION, PRICE_FIELDS
from shortthehype.core.synthetic_nb import bridge_max_nb, bridge_min_nb, simulate_path_nb, simulate_paths_nb
from shortthehype.data.prices import Prices
from shortthehype.data.synthetic import (
    DEFAULT_ASSETS,
    Scenario,
    SyntheticAsset,
    bubble_path,
    describe,
    generate_paths,
    generate_prices,
    load_synthetic,
)
from shortthehype.errors import DataError, ParamError

N_STAT_PATHS = 200


# --------------------------------------------------------------------------- helpers


def log_returns(close: np.ndarray) -> np.ndarray:
    """Close-to-close log returns along the bar axis of ``(n_paths, n_bars, n_assets)``."""
    return np.diff(np.log(close), axis=1)


def short_scenario(**overrides) -> Scenario:
    """A three-month calendar with a small bubble: cheap for property tests."""
    base = dict(
        calendar_start="2024-01-01",
        calendar_end="2024-03-29",
        bubble_start="2024-01-10",
        peak="2024-02-15",
        crash_days=20,
    )
    base.update(overrides)
    return Scenario(**base)


def flat_assets(n: int = 3, **kw) -> tuple[SyntheticAsset, ...]:
    """``n`` identical assets without bubble exposure, drift or factor loading (unless overridden)."""
    params = dict(drift=0.0, vol=0.2, bubble_beta=0.0, factor_loading=0.0)
    params.update(kw)
    return tuple(SyntheticAsset(f"A{i}", **params) for i in range(n))


def ratio_with_se(num: np.ndarray, den: np.ndarray) -> tuple[float, float]:
    """sum(num) / sum(den) over iid paths, and its delta-method standard error."""
    ratio = num.sum() / den.sum()
    se = math.sqrt(np.var(num - ratio * den, ddof=1) / num.size) / den.mean()
    return float(ratio), se


# --------------------------------------------------------------------------- the slow twin


def simulate_path_naive(
    log_p0, mu, bubble_beta, dg, vol_scale, omega, alpha, beta, h0, loadings,
    overnight, base_volume, volume_sens, volume_noise, e, u_gap, x_high, x_low, n_vol,
):  # fmt: skip
    """Obviously-correct pure-Python twin of ``simulate_path_nb``: one bar at a time with ``math``."""
    n_bars, n_assets = u_gap.shape
    out = {name: [[math.nan] * n_assets for _ in range(n_bars)] for name in PRICE_FIELDS}
    for i in range(n_assets):
        h = float(h0[i])
        log_close_prev = float(log_p0[i])
        for t in range(n_bars):
            z = sum(float(loadings[i][k]) * float(e[t][k]) for k in range(len(loadings[i])))
            eps = math.sqrt(h) * z
            shock = vol_scale[t] * eps
            r = mu[i] + bubble_beta[i] * dg[t] + shock
            log_close = log_close_prev + r
            day_var = vol_scale[t] ** 2 * h
            # Brownian bridge from the previous close to the close: the open sits at the overnight share of variance
            gap_sd = math.sqrt(overnight * (1 - overnight) * day_var)
            log_open = log_close_prev + overnight * r + gap_sd * u_gap[t][i]
            intraday_var = (1 - overnight) * day_var
            gap = log_close - log_open
            log_high = (log_open + log_close + math.sqrt(gap * gap + 2 * intraday_var * x_high[t][i])) / 2
            log_low = (log_open + log_close - math.sqrt(gap * gap + 2 * intraday_var * x_low[t][i])) / 2
            o, c = math.exp(log_open), math.exp(log_close)
            hi, lo = math.exp(log_high), math.exp(log_low)
            for price in (o, c):  # explicit comparisons so NaN behaves as in the kernel
                if price > hi:
                    hi = price
                if price < lo:
                    lo = price
            sigma = math.sqrt(h0[i])
            rel = abs(shock) / sigma if sigma > 0 else 0.0
            vol = base_volume[i] * (1 + volume_sens * rel) * math.exp(volume_noise * n_vol[t][i] - volume_noise**2 / 2)
            for name, value in zip(PRICE_FIELDS, (o, hi, lo, c, vol), strict=True):
                out[name][t][i] = value
            h = omega[i] + alpha[i] * eps**2 + beta[i] * h
            log_close_prev = log_close
    return tuple(np.array(out[name], dtype=float).reshape(n_bars, n_assets) for name in PRICE_FIELDS)


def random_kernel_inputs(rng, n_paths=2, n_bars=7, n_assets=3, n_sources=4, overnight=0.3):
    h0 = rng.uniform(1e-5, 4e-4, n_assets)
    alpha = rng.uniform(0.0, 0.2, n_assets)
    beta = rng.uniform(0.0, 0.75, n_assets)
    return dict(
        log_p0=np.log(rng.uniform(5, 500, n_assets)),
        mu=rng.normal(0, 1e-3, n_assets),
        bubble_beta=rng.normal(1, 0.5, n_assets),
        dg=rng.normal(0, 0.01, n_bars),
        vol_scale=rng.uniform(0.5, 2.0, n_bars),
        omega=h0 * (1 - alpha - beta),
        alpha=alpha,
        beta=beta,
        h0=h0,
        loadings=rng.normal(0, 0.6, (n_assets, n_sources)),
        overnight=overnight,
        base_volume=rng.uniform(1e3, 1e7, n_assets),
        volume_sens=0.7,
        volume_noise=0.4,
        e=rng.standard_t(4, (n_paths, n_bars, n_sources)),
        u_gap=rng.standard_normal((n_paths, n_bars, n_assets)),
        x_high=rng.standard_exponential((n_paths, n_bars, n_assets)),
        x_low=rng.standard_exponential((n_paths, n_bars, n_assets)),
        n_vol=rng.standard_normal((n_paths, n_bars, n_assets)),
    )


def assert_kernel_matches_twin(inputs):
    got = simulate_paths_nb(**inputs)
    per_path = ("e", "u_gap", "x_high", "x_low", "n_vol")
    for p in range(inputs["u_gap"].shape[0]):
        shared = {k: v for k, v in inputs.items() if k not in per_path}
        want = simulate_path_naive(**shared, **{k: inputs[k][p] for k in per_path})
        for name, g, w in zip(PRICE_FIELDS, got, want, strict=True):
            np.testing.assert_allclose(g[p], w, rtol=1e-12, atol=0, equal_nan=True, err_msg=f"{name}, path {p}")


# --------------------------------------------------------------------------- kernel vs twin


class TestKernelTwin:
    def test_random_small_input(self):
        assert_kernel_matches_twin(random_kernel_inputs(np.random.default_rng(1)))

    @pytest.mark.parametrize("overnight", [0.0, 1.0])
    def test_overnight_extremes(self, overnight):
        assert_kernel_matches_twin(random_kernel_inputs(np.random.default_rng(2), overnight=overnight))

    def test_single_bar_and_single_asset(self):
        inputs = random_kernel_inputs(np.random.default_rng(3), n_paths=1, n_bars=1, n_assets=1, n_sources=1)
        assert_kernel_matches_twin(inputs)

    def test_zero_volatility_asset_and_no_garch(self):
        inputs = random_kernel_inputs(np.random.default_rng(4))
        inputs["h0"][1] = 0.0
        inputs["alpha"][:] = 0.0
        inputs["beta"][:] = 0.0
        inputs["omega"][:] = inputs["h0"]
        assert_kernel_matches_twin(inputs)
        volume = simulate_paths_nb(**inputs)[4]
        assert np.isfinite(volume[..., 1]).all() and (volume[..., 1] > 0).all()

    def test_bridge_extremes_invert_the_closed_form_survival(self):
        # Brownian bridge a -> b with variance v: P(max > m) = exp(-2 (m - a)(m - b) / v) for m >= max(a, b)
        # (reflection principle), so M = S^-1(U) satisfies 2 (M - a)(M - b) / v = -log U = the Exp(1) draw.
        rng = np.random.default_rng(8)
        for a, b, v, x in zip(rng.normal(size=50), rng.normal(size=50), rng.uniform(1e-4, 2, 50),
                              rng.standard_exponential(50), strict=True):  # fmt: skip
            hi, lo = bridge_max_nb(a, b, v, x), bridge_min_nb(a, b, v, x)
            assert hi >= max(a, b) and lo <= min(a, b)
            assert 2 * (hi - a) * (hi - b) / v == pytest.approx(x, rel=1e-9, abs=1e-12)
            assert 2 * (a - lo) * (b - lo) / v == pytest.approx(x, rel=1e-9, abs=1e-12)
        assert bridge_max_nb(1.0, 2.0, 0.0, 3.0) == 2.0 and bridge_min_nb(1.0, 2.0, 0.0, 3.0) == 1.0

    def test_nan_innovation_poisons_the_rest_of_the_path_only(self):
        inputs = random_kernel_inputs(np.random.default_rng(5), n_sources=3, n_assets=3)
        inputs["loadings"] = np.eye(3)
        inputs["e"][0, 3, 1] = np.nan
        assert_kernel_matches_twin(inputs)
        close = simulate_paths_nb(**inputs)[3]
        # 0 * NaN is NaN, so every asset of that path is NaN from bar 3 on (GARCH state poisoned); other paths are not
        assert np.isnan(close[0, 3:]).all() and np.isfinite(close[0, :3]).all()
        assert np.isfinite(close[1]).all()

    def test_zero_paths(self):
        inputs = random_kernel_inputs(np.random.default_rng(6), n_paths=0)
        for array in simulate_paths_nb(**inputs):
            assert array.shape == (0, 7, 3)

    def test_single_path_kernel_writes_into_given_outputs(self):
        inputs = random_kernel_inputs(np.random.default_rng(7), n_paths=1)
        per_path = ("e", "u_gap", "x_high", "x_low", "n_vol")
        outs = [np.full((7, 3), -1.0) for _ in PRICE_FIELDS]
        simulate_path_nb(**{k: (v[0] if k in per_path else v) for k, v in inputs.items()}, **dict(
            zip(("out_open", "out_high", "out_low", "out_close", "out_volume"), outs, strict=True)))  # fmt: skip
        for got, want in zip(outs, simulate_paths_nb(**inputs), strict=True):
            np.testing.assert_array_equal(got, want[0])


# --------------------------------------------------------------------------- determinism


def digest(arrays: dict[str, np.ndarray]) -> str:
    hasher = hashlib.sha256()
    for name in PRICE_FIELDS:
        hasher.update(np.ascontiguousarray(arrays[name]).tobytes())
    return hasher.hexdigest()


class TestDeterminism:
    def test_same_seed_is_bit_identical(self):
        a = generate_paths(Scenario(), 3, 42)
        b = generate_paths(Scenario(), 3, 42)
        for name in PRICE_FIELDS:
            np.testing.assert_array_equal(a[name], b[name])

    def test_different_seeds_and_paths_differ(self):
        a = generate_paths(Scenario(), 2, 1)["close"]
        b = generate_paths(Scenario(), 2, 2)["close"]
        assert not np.any(a[:, 5:] == b[:, 5:])  # continuous draws: no bar coincides
        assert not np.any(a[0, 5:] == a[1, 5:])

    def test_bit_identical_in_a_fresh_process(self):
        code = (
            "import hashlib, numpy as np\n"
            "from shortthehype.data.synthetic import Scenario, generate_paths\n"
            "a = generate_paths(Scenario(), 3, 42)\n"
            "h = hashlib.sha256()\n"
            "for n in ('open', 'high', 'low', 'close', 'volume'): h.update(np.ascontiguousarray(a[n]).tobytes())\n"
            "print(h.hexdigest())\n"
        )
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
        assert out.stdout.strip() == digest(generate_paths(Scenario(), 3, 42))

    def test_path_does_not_depend_on_batch_or_chunking(self, monkeypatch):
        scenario = short_scenario()
        whole = generate_paths(scenario, 5, 9)
        alone = generate_paths(scenario, 1, 9, first_path=3)
        monkeypatch.setattr(synthetic, "SYNTHETIC_PATH_CHUNK", 2)
        chunked = generate_paths(scenario, 5, 9)
        prices = generate_prices(scenario, seed=9, path=3)
        for name in PRICE_FIELDS:
            np.testing.assert_array_equal(chunked[name], whole[name])
            np.testing.assert_array_equal(alone[name][0], whole[name][3])
            np.testing.assert_array_equal(getattr(prices, name).to_numpy(), whole[name][3])

    def test_extending_the_calendar_keeps_earlier_bars(self):
        short = generate_paths(short_scenario(), 2, 5)
        longer = generate_paths(short_scenario(calendar_end="2024-06-28"), 2, 5)
        n = short["close"].shape[1]
        for name in PRICE_FIELDS:
            np.testing.assert_array_equal(longer[name][:, :n], short[name])

    def test_selecting_tickers_and_slicing_dates_does_not_change_numbers(self):
        full = generate_prices(seed=3)
        part = load_synthetic(["MKT", "AIX"], "2025-03-01", "2025-09-30", seed=3)
        for name in PRICE_FIELDS:
            want = getattr(full, name).loc["2025-03-01":"2025-09-30", ["MKT", "AIX"]]
            pd.testing.assert_frame_equal(getattr(part, name), want)


# --------------------------------------------------------------------------- shapes and OHLCV sanity


@pytest.fixture(scope="module")
def default_paths():
    return generate_paths(Scenario(), N_STAT_PATHS, 2024)


class TestShapesAndOHLCV:
    def test_shapes_dtypes_and_calendar(self):
        scenario = Scenario()
        out = generate_paths(scenario, 4, 0)
        dates = pd.bdate_range("2019-01-01", "2026-12-31")
        for name in PRICE_FIELDS:
            assert out[name].shape == (4, len(dates), 6) and out[name].dtype == np.float64
        np.testing.assert_array_equal(pd.DatetimeIndex(out["dates"]), dates)
        assert list(out["tickers"]) == ["AIX", "GPU", "DATA", "MKT", "DEF", "BOND"]
        assert (pd.DatetimeIndex(out["dates"]).day_of_week < 5).all()

    def test_zero_paths(self):
        out = generate_paths(short_scenario(), 0, 0)
        assert out["close"].shape == (0, len(short_scenario().dates), len(DEFAULT_ASSETS))

    def test_ohlc_consistent_positive_finite(self, default_paths):
        o, h, l, c, v = (default_paths[name] for name in PRICE_FIELDS)
        for array in (o, h, l, c, v):
            assert np.isfinite(array).all() and (array > 0).all()
        assert (h >= np.maximum(o, c)).all() and (l <= np.minimum(o, c)).all()
        # real intraday ranges: strict almost everywhere, not just clamped to the open/close
        assert (h > np.maximum(o, c)).mean() > 0.99 and (l < np.minimum(o, c)).mean() > 0.99

    def test_open_gaps_from_previous_close(self, default_paths):
        o, c = default_paths["open"], default_paths["close"]
        gap = np.log(o[:, 1:] / c[:, :-1])
        ret = np.log(c[:, 1:] / c[:, :-1])
        assert (gap != 0).mean() > 0.99
        # Brownian bridge: cov(gap, return) / var(return) = overnight_fraction (0.25 by default)
        slope = np.array([np.cov(gap[..., i].ravel(), ret[..., i].ravel())[0, 1] / ret[..., i].var() for i in range(6)])
        np.testing.assert_allclose(slope, Scenario().overnight_fraction, atol=0.02)

    def test_intraday_extremes_follow_brownian_motion(self):
        # overnight 0, normal shocks, no GARCH/drift/regime: the intraday log path is a Brownian motion with
        # variance v = vol**2 / 252 from the open (= previous close).  Its maximum M satisfies E[M] = sqrt(2 v / pi)
        # and E[M**2] = v (reflection principle); the minimum mirrors it.  4 standard errors from the sample.
        scenario = Scenario(assets=flat_assets(3, dof=math.inf, garch_alpha=0.0, garch_beta=0.0),
                            overnight_fraction=0.0, crash_vol_multiplier=1.0)  # fmt: skip
        out = generate_paths(scenario, 100, 31)
        np.testing.assert_array_equal(out["open"][:, 1:], out["close"][:, :-1])  # no gap
        v = 0.2**2 / ANNUALIZATION
        for m in (np.log(out["high"] / out["open"]).ravel(), np.log(out["open"] / out["low"]).ravel()):
            assert abs(m.mean() - math.sqrt(2 * v / math.pi)) < 4 * m.std() / math.sqrt(m.size)
            assert abs((m**2).mean() - v) < 4 * (m**2).std() / math.sqrt(m.size)

    def test_volume_is_the_closed_form_of_the_shock(self):
        scenario = short_scenario(volume_noise=0.0, volume_sensitivity=0.8, crash_vol_multiplier=1.0)
        out = generate_paths(scenario, 2, 1)
        regime = np.diff(np.concatenate([[0.0], bubble_path(scenario).to_numpy()]))
        start = np.array([a.start_price for a in scenario.assets])
        log_close = np.log(out["close"])
        ret = np.diff(np.concatenate([np.broadcast_to(np.log(start), (2, 1, 6)), log_close], axis=1), axis=1)
        for i, asset in enumerate(scenario.assets):
            shock = ret[..., i] - asset.drift / ANNUALIZATION - asset.bubble_beta * regime
            sigma = asset.vol / math.sqrt(ANNUALIZATION)
            want = asset.base_volume * (1 + 0.8 * np.abs(shock) / sigma)
            np.testing.assert_allclose(out["volume"][..., i], want, rtol=1e-7)

    def test_volume_rises_with_absolute_return(self, default_paths):
        ret = np.abs(log_returns(default_paths["close"]))
        volume = default_paths["volume"][:, 1:]
        for i in range(6):
            rank_corr = pd.Series(ret[..., i].ravel()).corr(pd.Series(volume[..., i].ravel()), method="spearman")
            assert rank_corr > 0.2, (i, rank_corr)

    @settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        overnight=st.floats(0.0, 1.0),
        vol=st.floats(0.0, 1.0),
        dof=st.one_of(st.floats(2.5, 50.0), st.just(math.inf)),
        crash_mult=st.floats(0.1, 4.0),
        seed=st.integers(0, 2**32),
    )
    def test_ohlc_invariants_hold_for_any_parameters(self, overnight, vol, dof, crash_mult, seed):
        scenario = short_scenario(
            assets=flat_assets(2, vol=vol, dof=dof, bubble_beta=1.5, factor_loading=0.5),
            overnight_fraction=overnight,
            crash_vol_multiplier=crash_mult,
        )
        o, h, l, c, v = (generate_paths(scenario, 2, seed)[name] for name in PRICE_FIELDS)
        assert (o > 0).all() and (c > 0).all() and (l > 0).all() and (v > 0).all()
        assert (h >= np.maximum(o, c)).all() and (l <= np.minimum(o, c)).all()


# --------------------------------------------------------------------------- the bubble


class TestBubble:
    def test_regime_path_is_exact(self):
        scenario = Scenario()
        path = bubble_path(scenario)
        key = scenario.key_dates
        assert key == {
            "bubble_start": pd.Timestamp("2023-01-03"),
            "peak": pd.Timestamp("2025-06-30"),
            "trough": pd.bdate_range("2025-06-30", periods=331)[-1],
        }
        assert (path.loc[: key["bubble_start"]] == 0).all()
        assert path[key["peak"]] == pytest.approx(math.log(2.5), rel=1e-13)  # run_up +150%
        assert path.max() == pytest.approx(math.log(2.5), rel=1e-13)
        assert math.exp(path[key["trough"]] - path[key["peak"]]) == pytest.approx(1 - 0.78, rel=1e-12)
        # log-linear legs: constant increments within each leg, recovery at 10%/yr (log) afterwards
        steps = path.diff()
        assert np.allclose(steps.loc["2023-01-04":key["peak"]], math.log(2.5) / 649, rtol=1e-12)
        after = steps.loc[key["trough"] :].iloc[1:]
        assert np.allclose(after, 0.10 / 252, rtol=1e-12)

    @pytest.mark.parametrize(
        ("unit", "run_up", "want_log"),
        [("total", 1.0, math.log(2.0)), ("log", 0.7, 0.7), ("annual", 0.5, math.log(1.5) * 26 / 252)],
    )
    def test_run_up_units(self, unit, run_up, want_log):
        # short_scenario: bubble_start Wed 2024-01-10 to peak Thu 2024-02-15 = 15 January + 11 February business days
        scenario = short_scenario(run_up=run_up, run_up_unit=unit)
        path = bubble_path(scenario)
        assert path["2024-02-15"] - path["2024-01-10"] == pytest.approx(want_log, rel=1e-12)

    def test_noiseless_assets_hit_the_configured_depth_exactly(self):
        betas = (1.0, 1.5, 0.2, -0.5)
        assets = tuple(SyntheticAsset(f"B{i}", drift=0.0, vol=0.0, bubble_beta=b) for i, b in enumerate(betas))
        scenario = Scenario(assets=assets, crash_depth=0.6)
        close = generate_prices(scenario, seed=123).close
        key = scenario.key_dates
        for ticker, b in zip(scenario.tickers, betas, strict=True):
            fall = close.at[key["trough"], ticker] / close.at[key["peak"], ticker]
            assert fall == pytest.approx(0.4**b, rel=1e-12)
            # the whole close path is start_price * exp(beta * regime)
            np.testing.assert_allclose(close[ticker], 100.0 * np.exp(b * bubble_path(scenario)), rtol=1e-12)
        beta_one = close["B0"]
        drawdown = 1 - beta_one.loc[key["trough"]] / beta_one.cummax().loc[key["trough"]]
        assert drawdown == pytest.approx(0.6, rel=1e-12)

    @pytest.mark.parametrize("ticker", ["DATA", "AIX"])
    def test_median_noisy_crash_matches_the_drift_component(self, default_paths, ticker):
        # The noise is sign-symmetric (t innovations; GARCH variance depends on eps**2 only), so the sum of the
        # noise over the crash is symmetric about 0 and the *median* crash log return is exactly the drift
        # component's: bubble_beta * log(1 - depth) + drift * crash_days / 252.  Tolerance: 4 standard errors
        # of a sample median, 1.2533 * sd / sqrt(n) (normal approximation of the sum of 330 daily shocks).
        scenario = Scenario()
        i = scenario.tickers.index(ticker)
        asset = scenario.assets[i]
        bars = [scenario.dates.get_loc(scenario.key_dates[k]) for k in ("peak", "trough")]
        crash = np.log(default_paths["close"][:, bars[1], i] / default_paths["close"][:, bars[0], i])
        want = asset.bubble_beta * math.log(1 - 0.78) + asset.drift * 330 / ANNUALIZATION
        se = 1.2533 * crash.std(ddof=1) / math.sqrt(crash.size)
        assert abs(np.median(crash) - want) < 4 * se, (np.median(crash), want, se)
        assert 4 * se < abs(want) / 4  # the test has teeth: a missing or halved regime is far outside

    def test_crash_volatility_multiplier(self, default_paths):
        # noise during the crash leg is crash_vol_multiplier (1.5) times the GARCH volatility
        scenario = Scenario()
        bars = [scenario.dates.get_loc(scenario.key_dates[k]) for k in ("peak", "trough")]
        ret = log_returns(default_paths["close"])[..., 3]  # MKT
        calm = ret[:, 50 : bars[0] - 100].std()
        crash = ret[:, bars[0] + 50 : bars[1]].std()
        assert crash / calm == pytest.approx(1.5, rel=0.1)


# --------------------------------------------------------------------------- tails, clustering, correlation


@pytest.fixture(scope="module")
def calm_paths():
    """Default assets with the bubble switched off (bubble beta 0, no crash vol regime)."""
    scenario = Scenario(
        assets=tuple(replace(a, bubble_beta=0.0) for a in DEFAULT_ASSETS),
        crash_vol_multiplier=1.0,
    )
    return scenario, generate_paths(scenario, N_STAT_PATHS, 77)


def unit_t_moment(dof: float, order: int) -> float:
    """E[z**order] of a unit-variance Student t (order even, < dof)."""
    k = order // 2
    raw = dof**k * math.gamma(k + 0.5) * math.gamma(dof / 2 - k) / (math.sqrt(math.pi) * math.gamma(dof / 2))
    return raw * ((dof - 2) / dof) ** k


class TestStylisedFacts:
    def test_fat_tails_in_default_scenario(self, calm_paths):
        scenario, out = calm_paths
        ret = log_returns(out["close"]).reshape(-1, len(scenario.assets))
        ret = ret - ret.mean(axis=0)
        excess_kurtosis = (ret**4).mean(axis=0) / (ret**2).mean(axis=0) ** 2 - 3
        assert (excess_kurtosis > 1.0).all(), excess_kurtosis

    @pytest.mark.parametrize("dof", [10.0, math.inf])
    def test_innovations_are_unit_variance_student_t(self, dof):
        # no GARCH, no factor: daily log returns are vol/sqrt(252) * unit-variance t(dof) exactly, so
        # variance = vol**2/252 and excess kurtosis = 6/(dof - 4) (0 for normal).  Standard errors from the
        # t moments (delta method): var(m2_hat) = (mu4 - 1)/n, var(k_hat) ~ (mu8 - mu4**2 - 4 mu4 mu6 + 4 mu4**3)/n.
        scenario = Scenario(assets=flat_assets(3, dof=dof, garch_alpha=0.0, garch_beta=0.0), crash_vol_multiplier=1.0)
        ret = log_returns(generate_paths(scenario, N_STAT_PATHS, 8)["close"]).reshape(-1, 3)
        z = ret / (0.2 / math.sqrt(ANNUALIZATION))
        n = z.shape[0]
        if math.isinf(dof):
            mu4, mu6, mu8 = 3.0, 15.0, 105.0
        else:
            mu4, mu6, mu8 = (unit_t_moment(dof, k) for k in (4, 6, 8))
        se_var = math.sqrt((mu4 - 1) / n)
        se_kurt = math.sqrt((mu8 - mu4**2 - 4 * mu4 * mu6 + 4 * mu4**3) / n)
        np.testing.assert_allclose((z**2).mean(axis=0), 1.0, atol=5 * se_var)
        np.testing.assert_allclose((z**4).mean(axis=0) / (z**2).mean(axis=0) ** 2 - 3, mu4 - 3, atol=5 * se_kurt)

    def test_volatility_clustering_matches_garch_closed_form(self):
        # GARCH(1,1): eps**2 is ARMA(1,1) with phi = a + b, theta = -b, so the lag-1 autocorrelation of squared
        # returns is a (1 - a b - b**2) / (1 - 2 a b - b**2) whatever the innovation law (Bollerslev 1988).
        # Estimated as a ratio of sums over iid paths, centred on the known mean h0, after a 200-bar burn-in;
        # 4 delta-method standard errors.  Normal innovations keep the 8th moment finite.
        a, b = 0.1, 0.8
        scenario = Scenario(assets=flat_assets(3, dof=math.inf, garch_alpha=a, garch_beta=b), crash_vol_multiplier=1.0)
        ret = log_returns(generate_paths(scenario, N_STAT_PATHS, 13)["close"])[:, 200:]
        sq = ret**2 - 0.2**2 / ANNUALIZATION
        num = (sq[:, 1:] * sq[:, :-1]).sum(axis=1).ravel()
        den = (sq * sq).sum(axis=1).ravel()
        rho1, se = ratio_with_se(num, den)
        want = a * (1 - a * b - b * b) / (1 - 2 * a * b - b * b)
        assert abs(rho1 - want) < 4 * se, (rho1, want, se)
        assert rho1 > 10 * se  # clearly positive

    def test_no_clustering_without_garch(self):
        assets = flat_assets(3, dof=math.inf, garch_alpha=0.0, garch_beta=0.0)
        scenario = Scenario(assets=assets, crash_vol_multiplier=1.0)
        ret = log_returns(generate_paths(scenario, N_STAT_PATHS, 13)["close"])
        sq = ret**2 - 0.2**2 / ANNUALIZATION
        rho1, se = ratio_with_se((sq[:, 1:] * sq[:, :-1]).sum(axis=1).ravel(), (sq * sq).sum(axis=1).ravel())
        assert abs(rho1) < 4 * se

    def test_default_scenario_clusters_volatility(self, calm_paths):
        scenario, out = calm_paths
        ret = log_returns(out["close"])
        for i, asset in enumerate(scenario.assets):
            sq = (ret[..., i] - asset.drift / ANNUALIZATION) ** 2 - asset.vol**2 / ANNUALIZATION
            rho1, se = ratio_with_se((sq[:, 1:] * sq[:, :-1]).sum(axis=1), (sq * sq).sum(axis=1))
            assert rho1 > 0.05 and rho1 > 4 * se, (asset.ticker, rho1, se)


def per_path_correlations(ret: np.ndarray) -> np.ndarray:
    """Correlation matrix of each path's returns: ``(n_paths, n_assets, n_assets)``."""
    return np.stack([np.corrcoef(path.T) for path in ret])


class TestCorrelation:
    def assert_correlation(self, ret, want, *, extra_tol=0.0):
        # mean of iid per-path sample correlations; 4 standard errors (the O(1/n_bars) bias of a sample
        # correlation, < 1e-3 here, is negligible next to that)
        per_path = per_path_correlations(ret)
        mean = per_path.mean(axis=0)
        se = per_path.std(axis=0, ddof=1) / math.sqrt(per_path.shape[0])
        np.fill_diagonal(se, 1.0)
        assert (np.abs(mean - want) < 4 * se + extra_tol).all(), (mean - want, se)
        return mean

    def test_one_factor_model_without_garch(self):
        loadings = (0.9, 0.6, -0.3, 0.0)
        assets = tuple(
            SyntheticAsset(f"C{i}", drift=0.0, bubble_beta=0.0, factor_loading=loading, dof=8.0, garch_alpha=0.0,
                           garch_beta=0.0)
            for i, loading in enumerate(loadings)
        )
        scenario = Scenario(assets=assets, factor_dof=8.0)
        want = np.outer(loadings, loadings)
        np.fill_diagonal(want, 1.0)
        self.assert_correlation(log_returns(generate_paths(scenario, N_STAT_PATHS, 21)["close"]), want)

    def test_correlation_matrix_including_a_singular_one(self):
        want = np.array([[1.0, 0.5, -0.4], [0.5, 1.0, 0.1], [-0.4, 0.1, 1.0]])
        scenario = Scenario(assets=flat_assets(3, dof=8.0, garch_alpha=0.0, garch_beta=0.0), correlation=want)
        self.assert_correlation(log_returns(generate_paths(scenario, N_STAT_PATHS, 22)["close"]), want)
        # perfectly correlated twins (PSD, not positive definite): identical shocks
        twins = Scenario(assets=flat_assets(2, dof=6.0), correlation=[[1.0, 1.0], [1.0, 1.0]])
        close = generate_paths(twins, 2, 3)["close"]
        np.testing.assert_allclose(close[..., 0], close[..., 1], rtol=1e-12)

    def test_default_scenario_with_garch(self, calm_paths):
        # Constant-conditional-correlation GARCH: corr(r_i, r_j) = C_ij * E[s_i s_j] / sqrt(E[s_i^2] E[s_j^2])
        # with s the conditional volatilities, so Cauchy-Schwarz gives |corr| <= |C_ij|, equal when the
        # volatilities move together.  Check closeness (0.05 allowance for that attenuation) and the bound.
        scenario, out = calm_paths
        loading = np.array([a.factor_loading for a in scenario.assets])
        want = np.outer(loading, loading)
        np.fill_diagonal(want, 1.0)
        mean = self.assert_correlation(log_returns(out["close"]), want, extra_tol=0.05)
        off = ~np.eye(6, dtype=bool)
        assert (np.abs(mean[off]) <= np.abs(want[off]) + 0.01).all()


# --------------------------------------------------------------------------- validation


def asset(**kw):
    return SyntheticAsset("ZZZ", **kw)


INVALID_ASSETS = [
    (dict(vol=-0.1), "vol"),
    (dict(vol=math.nan), "vol"),
    (dict(drift=math.inf), "drift"),
    (dict(drift="0.1"), "drift"),
    (dict(bubble_beta=True), "bubble_beta"),
    (dict(factor_loading=1.2), "factor_loading"),
    (dict(dof=2.0), "dof"),
    (dict(garch_alpha=-0.01), "garch_alpha"),
    (dict(garch_beta=-0.5), "garch_beta"),
    (dict(garch_alpha=0.2, garch_beta=0.8), "garch_alpha + garch_beta"),
    (dict(start_price=0.0), "start_price"),
    (dict(base_volume=-1.0), "base_volume"),
]


@pytest.mark.parametrize(("kwargs", "param"), INVALID_ASSETS)
def test_asset_validation_names_the_parameter(kwargs, param):
    with pytest.raises(ParamError) as info:
        asset(**kwargs)
    message = str(info.value)
    assert f"{param}=" in message or f"{param} =" in message
    assert "'ZZZ'" in message and "\n" not in message


@pytest.mark.parametrize("ticker", ["", " AIX", 7])
def test_asset_ticker_validation(ticker):
    with pytest.raises(ParamError, match="ticker"):
        SyntheticAsset(ticker)


INVALID_SCENARIOS = [
    (dict(crash_depth=0.0), "crash_depth"),
    (dict(crash_depth=1.0), "crash_depth"),
    (dict(crash_depth=1.2), "crash_depth"),
    (dict(crash_depth=-0.3), "crash_depth"),
    (dict(peak="2022-06-01"), "peak"),
    (dict(peak="2023-01-03"), "peak"),  # same day as bubble_start: no run-up bar
    (dict(peak="2027-03-01"), "peak"),
    (dict(bubble_start="2018-06-01"), "bubble_start"),
    (dict(bubble_start="not a date"), "bubble_start"),
    (dict(calendar_start="2026-12-31", calendar_end="2019-01-01"), "calendar_end"),
    (dict(calendar_end="2026-02-27"), "crash_days"),  # trough after the last bar
    (dict(crash_days=2000), "crash_days"),
    (dict(crash_days=0), "crash_days"),
    (dict(crash_days=10.5), "crash_days"),
    (dict(run_up=-0.2), "run_up"),
    (dict(run_up_unit="percent"), "run_up_unit"),
    (dict(recovery_drift=math.nan), "recovery_drift"),
    (dict(crash_vol_multiplier=0.0), "crash_vol_multiplier"),
    (dict(overnight_fraction=1.5), "overnight_fraction"),
    (dict(volume_sensitivity=-1.0), "volume_sensitivity"),
    (dict(volume_noise=-0.1), "volume_noise"),
    (dict(factor_dof=1.0), "factor_dof"),
    (dict(assets=()), "assets"),
    (dict(assets=(asset(), asset())), "assets"),
    (dict(assets=("AIX",)), "assets"),
    (dict(correlation=np.eye(5)), "correlation"),  # wrong shape for 6 assets
    (dict(correlation=np.full((6, 6), -0.5) + 1.5 * np.eye(6)), "correlation"),  # not PSD (eigenvalue -1.5)
    (dict(correlation=np.eye(6) + np.triu(np.full((6, 6), 0.1), 1)), "correlation"),  # not symmetric
    (dict(correlation=2 * np.eye(6)), "correlation"),  # diagonal not 1
]


@pytest.mark.parametrize(("kwargs", "param"), INVALID_SCENARIOS)
def test_scenario_validation_names_the_parameter(kwargs, param):
    with pytest.raises(ParamError) as info:
        Scenario(**kwargs)
    message = str(info.value)
    assert f"Scenario.{param}" in message and "\n" not in message


def test_not_psd_message_says_so():
    bad = np.full((6, 6), -0.5) + 1.5 * np.eye(6)
    with pytest.raises(ParamError, match="positive semi-definite"):
        Scenario(correlation=bad)


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        (dict(n_paths=-1), "n_paths"),
        (dict(seed=-3), "seed"),
        (dict(seed=1.5), "seed"),
        (dict(first_path=True), "first_path"),
    ],
)
def test_generate_paths_arguments(kwargs, param):
    with pytest.raises(ParamError, match=param):
        generate_paths(short_scenario(), **kwargs)


def test_generate_prices_path_argument():
    with pytest.raises(ParamError, match="path"):
        generate_prices(short_scenario(), path=-1)


def test_scenario_is_hashable_and_comparable():
    assert Scenario() == Scenario(correlation=None)
    assert hash(Scenario()) == hash(Scenario())
    assert Scenario(crash_depth=0.5) != Scenario()
    assert Scenario(peak=pd.Timestamp("2025-06-30")) == Scenario()


# --------------------------------------------------------------------------- load_synthetic and describe


class TestLoadSynthetic:
    def test_all_tickers_by_default(self):
        prices = load_synthetic(None, None, None)
        assert isinstance(prices, Prices) and prices.source == "synthetic"
        assert prices.tickers == ["AIX", "GPU", "DATA", "MKT", "DEF", "BOND"]
        assert prices.index[0] == pd.Timestamp("2019-01-01") and prices.index[-1] == pd.Timestamp("2026-12-31")
        assert prices.close.notna().all().all()

    def test_seed_none_is_the_default_seed_and_seed_matters(self):
        a = load_synthetic(["AIX"], seed=None).close
        pd.testing.assert_frame_equal(a, load_synthetic(["AIX"], seed=0).close)
        assert not a.equals(load_synthetic(["AIX"], seed=1).close)
        assert not a.equals(load_synthetic(["AIX"], path=1).close)

    def test_unknown_ticker_lists_available(self):
        with pytest.raises(DataError) as info:
            load_synthetic(["AIX", "NVDA"])
        message = str(info.value)
        assert "NVDA" in message and "AIX, GPU, DATA, MKT, DEF, BOND" in message and "\n" not in message

    def test_duplicate_and_empty_tickers(self):
        with pytest.raises(DataError, match="AIX"):
            load_synthetic(["AIX", "AIX"])
        with pytest.raises(DataError, match="available"):
            load_synthetic([])

    def test_single_string_ticker(self):
        assert load_synthetic("MKT").tickers == ["MKT"]

    def test_overrides_reach_the_scenario(self):
        prices = load_synthetic(["DATA"], crash_depth=0.5, seed=4)
        pd.testing.assert_frame_equal(prices.close, generate_prices(Scenario(crash_depth=0.5), seed=4).close[["DATA"]])

    def test_scenario_override_with_further_overrides(self):
        base = Scenario(assets=flat_assets(2))
        prices = load_synthetic(None, scenario=base, crash_days=100)
        assert prices.tickers == ["A0", "A1"]
        pd.testing.assert_frame_equal(prices.close, generate_prices(replace(base, crash_days=100)).close)

    def test_unknown_override_suggests_the_name(self):
        with pytest.raises(ParamError) as info:
            load_synthetic(None, crash_dept=0.5)
        message = str(info.value)
        assert "'crash_dept'" in message and "did you mean 'crash_depth'" in message and "\n" not in message

    def test_invalid_override_value_names_the_parameter(self):
        with pytest.raises(ParamError, match="crash_depth"):
            load_synthetic(None, crash_depth=2.0)

    def test_dates_outside_the_calendar(self):
        with pytest.raises(DataError, match="calendar_start='2015-01-01'"):
            load_synthetic(None, "2015-01-01")
        with pytest.raises(DataError, match="calendar_end='2030-01-01'"):
            load_synthetic(None, None, "2030-01-01")
        longer = load_synthetic(["MKT"], "2015-01-01", calendar_start="2015-01-01")
        assert longer.index[0] == pd.Timestamp("2015-01-01")

    def test_bad_date_bounds(self):
        with pytest.raises(ParamError, match="start"):
            load_synthetic(None, "yesterday-ish")
        with pytest.raises(ParamError, match="after end"):
            load_synthetic(None, "2025-05-01", "2025-04-01")
        with pytest.raises(DataError, match="no synthetic business days"):
            load_synthetic(None, "2025-05-03", "2025-05-04")  # a weekend


def test_describe_tells_the_story():
    text = describe()
    assert "fictional" in text
    for ticker in Scenario().tickers:
        assert ticker in text
    assert "2023-01-03" in text and "2025-06-30" in text and str(Scenario().key_dates["trough"].date()) in text
    assert "+150%" in text and "-78%" in text
    # AIX (bubble beta 1.6): 2.5 ** 1.6 - 1 = +333%, 0.22 ** 1.6 - 1 = -91% (hand computation)
    aix = next(line for line in text.splitlines() if line.strip().startswith("AIX"))
    assert "+333%" in aix and "-91%" in aix
    assert "correlation matrix" in describe(Scenario(correlation=np.eye(6)))


def test_module_all_is_complete():
    for name in synthetic.__all__:
        assert hasattr(synthetic, name), name
