"""The LPPLS fit and confidence indicator: synthetic recovery, the ``lppls`` package, filters, no look-ahead."""

from __future__ import annotations

import math
import random

import numpy as np
import pandas as pd
import pytest

from shortthehype.baskets import AI_BASKET
from shortthehype.constants import LPPLS_MIN_BARS
from shortthehype.data.prices import Prices
from shortthehype.errors import DataError, ParamError
from shortthehype.lppls import (
    FIT_FIELDS,
    LPPLSFilters,
    LPPLSSearch,
    NestedFits,
    basket_members,
    bubble_series,
    confidence_from_fits,
    confidence_indicator,
    evaluation_positions,
    fit_lppls,
    lppls_windows,
    nested_fits,
    qualify,
)


def lppls_log_path(n: int, tc: float, m: float, omega: float, a: float, b: float, c1: float, c2: float) -> np.ndarray:
    """ln p on bars t = 0..n-1 for a critical time tc (bars, same origin)."""
    x = np.abs(tc - np.arange(n, dtype=np.float64)) + 1e-8
    return a + x**m * (b + c1 * np.cos(omega * np.log(x)) + c2 * np.sin(omega * np.log(x)))


def as_series(log_prices: np.ndarray, start: str = "2001-01-01") -> pd.Series:
    return pd.Series(np.exp(log_prices), index=pd.bdate_range(start, periods=len(log_prices)), name="SYN")


# ---- recovery on synthetic bubbles --------------------------------------------------------------------

#: (n bars, tc bars after the last bar, m, ω, noise std of ln p)
RECOVERY_CASES = [
    (400, 20.0, 0.5, 8.0, 0.005),
    (500, 35.0, 0.35, 6.5, 0.01),
    (300, 10.0, 0.7, 10.0, 0.005),
    (600, 45.0, 0.6, 12.0, 0.01),
]


@pytest.mark.parametrize("n, tc_after, m, omega, noise", RECOVERY_CASES)
def test_fit_recovers_tc_and_m_of_a_noisy_synthetic_bubble(n, tc_after, m, omega, noise):
    """Stated tolerances under 0.5-1 % noise on ln p: tc within 5 % of the window (dt), m within 0.15
    (m is the sloppiest parameter: B and m trade off along a flat valley of the objective)."""
    from shortthehype.core.lppls_nb import lppls_ssr_nb

    rng = np.random.default_rng(int(n + 100 * m))
    amplitude = 0.15 / (n**m)  # B x^m spans about 0.15 in ln p over the window
    clean = lppls_log_path(n, n - 1 + tc_after, m, omega, 4.0, -amplitude, 0.08 * amplitude, 0.06 * amplitude)
    noisy = clean + rng.normal(0.0, noise, n)
    fit = fit_lppls(as_series(noisy))
    dt = n - 1
    assert abs(fit.tc - tc_after) <= 0.05 * dt
    assert abs(fit.m - m) <= 0.15
    assert fit.b < 0 and fit.bubble
    # the search found a point at least as good as the true (tc, m, ω) with their best linear parameters
    at_truth = lppls_ssr_nb(np.ascontiguousarray(noisy[::-1]), tc_after, m, omega, np.empty(4))
    assert fit.ssr <= at_truth * (1 + 1e-9)


def test_noise_free_synthetic_bubble_is_recovered_exactly():
    n, tc_after, m, omega = 250, 15.0, 0.45, 7.0
    clean = lppls_log_path(n, n - 1 + tc_after, m, omega, 2.0, -0.01, 0.001, -0.0008)
    fit = fit_lppls(clean.copy() * 0 + np.exp(clean))
    assert fit.ssr < 1e-12
    assert fit.tc == pytest.approx(tc_after, rel=1e-4)
    assert fit.m == pytest.approx(m, rel=1e-4)
    assert fit.omega == pytest.approx(omega, rel=1e-4)
    assert fit.b == pytest.approx(-0.01, rel=1e-3)
    np.testing.assert_allclose(fit.log_fit(), clean, atol=1e-7)
    assert fit.start == 0 and fit.end == n - 1 and fit.tc_date is None


def test_fit_dates_and_derived_quantities():
    n, tc_after, m, omega = 200, 10.0, 0.5, 8.0
    clean = lppls_log_path(n, n - 1 + tc_after, m, omega, 3.0, -0.02, 0.002, 0.001)
    series = as_series(clean, "2020-01-01")
    fit = fit_lppls(series)
    assert fit.start == series.index[0] and fit.end == series.index[-1]
    assert fit.tc_date == series.index[-1] + pd.offsets.BDay(round(fit.tc))
    # closed forms of the filters' quantities
    assert fit.c == pytest.approx(math.hypot(fit.c1, fit.c2))
    assert fit.damping == pytest.approx(fit.m * abs(fit.b) / (fit.omega * fit.c))
    dt = n - 1
    expected_o = fit.omega / (2 * math.pi) * math.log((fit.tc + dt) / fit.tc)
    assert fit.oscillations == pytest.approx(expected_o, rel=1e-9)


# ---- against the lppls package ----------------------------------------------------------------------


def _lppls_package_windows() -> list[np.ndarray]:
    """Real Nasdaq-like and synthetic windows (deterministic)."""
    rng = np.random.default_rng(2024)
    windows = []
    for k in range(14):  # synthetic bubbles with noise
        n = int(rng.integers(120, 260))
        m, omega = rng.uniform(0.2, 0.8), rng.uniform(6.0, 12.0)
        amp = 0.2 / n**m
        clean = lppls_log_path(n, n - 1 + rng.uniform(5, 0.15 * n), m, omega, 3.0, -amp, 0.1 * amp, -0.05 * amp)
        windows.append(clean + rng.normal(0.0, 0.01, n))
    for k in range(14):  # random walks with drift: no bubble at all
        n = int(rng.integers(120, 260))
        windows.append(4.0 + np.cumsum(rng.normal(0.0008, 0.012, n)))
    return windows


@pytest.mark.slow
def test_objective_is_at_most_the_lppls_packages_on_95_percent_of_windows():
    """Same windows, same objective (SSR of ln p, time in bars); lppls 0.6.24's fit (one Nelder–Mead
    from random starts, unbounded) is compared where its solution lies inside our search space — an
    optimum outside the space (m > 1.2, ω > 25, tc farther than 0.2·dt) is a different model class."""
    import lppls.lppls as lppls_module  # a dev dependency: the comparison must run, never skip
    search = LPPLSSearch()
    comparable = wins = 0
    for i, y in enumerate(_lppls_package_windows()):
        n = len(y)
        t = np.arange(n, dtype=np.float64)
        random.seed(i)
        np.random.seed(i)
        model = lppls_module.LPPLS(np.array([t, y]))
        tc, m, w, a, b, c, c1, c2, _, _ = model.fit(25)
        if tc == 0 and m == 0:
            continue  # the package found nothing
        theirs = float(((lppls_module.LPPLS.lppls(t, tc, m, w, a, b, c1, c2) - y) ** 2).sum())
        tau = tc - (n - 1)
        inside = (
            search.tc[0] * (n - 1) <= tau <= search.tc[1] * (n - 1)
            and search.m[0] <= m <= search.m[1]
            and search.omega[0] <= w <= search.omega[1]
        )
        if not inside:
            continue
        ours = fit_lppls(np.exp(y), search=search).ssr
        comparable += 1
        wins += ours <= theirs * (1 + 1e-6)
    assert comparable >= 10, f"only {comparable} comparable windows: the comparison says nothing"
    assert wins >= 0.95 * comparable, f"{wins}/{comparable}"


# ---- filters ---------------------------------------------------------------------------------------------


def _record(**values: float) -> np.ndarray:
    """A qualified bubble fit of a 201-bar window (dt = 200), with fields overridden."""
    base = dict(tc=10.0, m=0.5, omega=8.0, a=5.0, b=-0.1, c1=0.006, c2=0.008, ssr=0.3, rel_err=0.02, n=201.0)  # C = 0.01
    base.update(values)
    return np.array([base[f] for f in FIT_FIELDS])


def test_the_base_record_passes_every_filter_by_hand():
    # O = 8/(2π) ln(210/10) = 3.876 >= 2.5; D = 0.5·0.1/(8·0.01) = 0.625 < 0.8 -> damping fails by default
    assert not qualify(_record())
    assert qualify(_record(), LPPLSFilters(damping_min=0.6))
    assert qualify(_record(b=-1.0))  # D = 0.5·1/(8·0.01) = 6.25


@pytest.mark.parametrize(
    "change, passes",
    [
        (dict(m=0.09), False),
        (dict(m=0.1), True),  # D = 0.1·1/(8·0.01) = 1.25
        (dict(m=0.1, b=-0.6), False),  # D = 0.75 < 0.8
        (dict(m=0.91), False),
        (dict(omega=5.9), False),
        (dict(omega=13.1), False),
        (dict(tc=-10.0), True),  # -0.05·dt = -10: on the bound
        (dict(tc=-10.5), False),
        (dict(tc=20.0), True),  # +0.1·dt
        (dict(tc=20.5), False),
        (dict(rel_err=0.0501), False),
        (dict(tc=200.0 * 0.1, omega=6.0), False),  # O = 6/(2π) ln(220/20) = 2.29 < 2.5
        (dict(c1=0.0, c2=0.0), True),  # no oscillation: infinitely damped
        (dict(ssr=np.nan), False),
    ],
)
def test_each_filter_on_its_own(change, passes):
    values = dict(b=-1.0)
    values.update(change)
    assert bool(qualify(_record(**values))) is passes


def test_confidence_counts_qualified_fits_of_each_sign_over_all_fitted_windows():
    good_bubble = _record(b=-1.0)
    good_anti = _record(b=1.0)
    bad = _record(b=-1.0, m=0.05)
    missing = np.full(len(FIT_FIELDS), np.nan)
    records = np.stack(
        [
            np.stack([good_bubble, good_bubble, bad, good_anti]),  # 2/4 bubble, 1/4 anti
            np.stack([missing, missing, good_anti, bad]),  # 2 fitted: 0 bubble, 1/2 anti
            np.stack([missing] * 4),  # nothing fitted
        ]
    )
    dates = pd.bdate_range("2024-01-01", periods=3)
    frame = confidence_from_fits(NestedFits(dates=dates, windows=np.array([201, 201, 201, 201]), records=records))
    np.testing.assert_allclose(frame["bubble"].to_numpy()[:2], [0.5, 0.0])
    np.testing.assert_allclose(frame["antibubble"].to_numpy()[:2], [0.25, 0.5])
    assert frame["n_fits"].tolist() == [4, 2, 0]
    assert np.isnan(frame["bubble"].iloc[2]) and np.isnan(frame["antibubble"].iloc[2])
    assert frame["bubble_tc"].iloc[0] == dates[0] + pd.offsets.BDay(10)
    assert pd.isna(frame["bubble_tc"].iloc[1])


# ---- the indicator on prices ---------------------------------------------------------------------------


def _bubble_then_noise(seed: int = 1) -> pd.Series:
    rng = np.random.default_rng(seed)
    n = 260
    amp = 0.25 / n**0.5
    # damping m|B|/(ω|C|) = 0.5 / (8 · 0.05) = 1.25 and every other filter holds for the true parameters
    bubble = lppls_log_path(n, n + 8.0, 0.5, 8.0, 4.0, -amp, 0.04 * amp, 0.03 * amp)
    after = bubble[-1] + np.cumsum(rng.normal(-0.002, 0.01, 60))
    return as_series(np.concatenate([bubble + rng.normal(0.0, 0.003, n), after]))


def test_indicator_uses_no_future_data():
    series = _bubble_then_noise()
    windows = lppls_windows(60, 120, 20)
    dates = series.index[[150, 200, 255]]
    full = confidence_indicator(series, windows=windows, dates=dates)
    cut = confidence_indicator(series.iloc[:256], windows=windows, dates=dates)
    changed = series.copy()
    changed.iloc[256:] *= np.linspace(0.5, 3.0, len(series) - 256)
    perturbed = confidence_indicator(changed, windows=windows, dates=dates)
    pd.testing.assert_frame_equal(full, cut)
    pd.testing.assert_frame_equal(full, perturbed)


def test_indicator_flags_a_synthetic_bubble_near_its_critical_time_and_not_a_random_walk():
    series = _bubble_then_noise()
    windows = lppls_windows(60, 200, 20)
    near_tc = confidence_indicator(series, windows=windows, dates=series.index[[255, 259]])
    # the true parameters qualify on the windows long enough for tc (bar 268) to be within 0.1·dt:
    # from bar 255 (tc 13 bars ahead) windows of 140..200 bars = 4/8, from bar 259 (9 ahead) 100..200 = 6/8
    amp = 0.25 / 260**0.5
    for end, expected in ((255, 0.5), (259, 0.75)):
        truth = np.array([[268.0 - end, 0.5, 8.0, 4.0, -amp, 0.04 * amp, 0.03 * amp, 0.0, 0.0, n] for n in windows])
        assert qualify(truth).mean() == expected
        # fits on noisy data may differ from the truth on at most one window
        assert abs(near_tc.loc[series.index[end], "bubble"] - expected) <= 1 / len(windows) + 1e-12
    assert (near_tc["antibubble"] == 0.0).all()
    rng = np.random.default_rng(3)
    walk = as_series(4.0 + np.cumsum(rng.normal(0.0, 0.01, 300)))
    flat = confidence_indicator(walk, windows=windows, dates=walk.index[[250, 299]])
    assert (flat["bubble"] <= 0.2).all()


def test_default_dates_windows_and_edges():
    series = _bubble_then_noise()
    windows = lppls_windows(100, 140, 20)
    frame = confidence_indicator(series, windows=windows, start=series.index[95], step=50)
    # counted back from the last bar; bars with less history than the smallest window have no fit
    assert frame.index[-1] == series.index[-1]
    assert list(np.diff(series.index.get_indexer(frame.index))) == [50] * (len(frame) - 1)
    early = frame[series.index.get_indexer(frame.index) < 99]
    assert (early["n_fits"] == 0).all() and early["bubble"].isna().all()
    assert frame["price"].iloc[-1] == series.iloc[-1]
    empty = confidence_indicator(series, windows=windows, start="2030-01-01")
    assert empty.empty
    nested = nested_fits(series, windows=windows, dates=series.index[[200]])
    rows = nested.to_frame()
    assert list(rows["window"]) == [100, 120, 140] and (rows["n"] == rows["window"]).all()


def test_nested_fits_are_kept_on_disk_per_inputs_search_and_kernels(monkeypatch, tmp_path):
    """A second process fitting the same windows reads the first one's fits; other inputs or another search fit
    afresh; a damaged file is fitted again; an unwritable cache costs the fits, not the call."""
    import shortthehype._numba_setup as setup
    import shortthehype.core.lppls_nb as kernels
    import shortthehype.lppls as lppls
    from shortthehype.lppls import LPPLSSearch

    monkeypatch.setenv("SHORTTHEHYPE_CACHE_DIR", str(tmp_path))
    series, windows = _bubble_then_noise(), lppls_windows(60, 100, 20)
    dates = series.index[[150, 200]]
    nested_fits(series, windows=windows, dates=dates)
    assert not (tmp_path / "lppls").exists()  # a few fits (precompile's) always reach the kernel
    monkeypatch.setattr(lppls, "LPPLS_DISK_CACHE_MIN_FITS", 3)
    real, calls = kernels.nested_fits_nb, []

    def counted(*args):
        calls.append(1)
        return real(*args)

    monkeypatch.setattr(kernels, "nested_fits_nb", counted)
    first = nested_fits(series, windows=windows, dates=dates)
    again = nested_fits(series, windows=windows, dates=dates)
    assert len(calls) == 1 and np.array_equal(first.records, again.records, equal_nan=True)
    files = sorted((tmp_path / "lppls").glob("*.npy"))
    assert len(files) == 1
    nested_fits(series, windows=windows, dates=series.index[[150, 201]])
    nested_fits(series, windows=windows, dates=dates, search=LPPLSSearch(explore_iter=9))
    nested_fits(series, windows=windows[:2], dates=series.index[[150]])  # 2 fits: not kept
    calls.pop()
    assert len(calls) == 3 and len(list((tmp_path / "lppls").glob("*.npy"))) == 3
    files[0].write_bytes(b"not an array")
    repaired = nested_fits(series, windows=windows, dates=dates)
    assert len(calls) == 4 and np.array_equal(repaired.records, first.records, equal_nan=True)
    monkeypatch.setattr(lppls, "LPPLS_DISK_CACHE_FILES", 2)
    nested_fits(series, windows=windows, dates=series.index[[160]])
    assert len(list((tmp_path / "lppls").glob("*.npy"))) == 2  # the most recently used
    size = min(f.stat().st_size for f in (tmp_path / "lppls").glob("*.npy"))  # one date: as the next file
    monkeypatch.setattr(lppls, "LPPLS_DISK_CACHE_FILES", 64)
    monkeypatch.setattr(lppls, "LPPLS_DISK_CACHE_BYTES", size + size // 2)
    nested_fits(series, windows=windows, dates=series.index[[161]])
    assert len(list((tmp_path / "lppls").glob("*.npy"))) == 1  # within the bytes, the newest
    monkeypatch.setattr(setup, "kernel_fingerprint", lambda: "an edited kernel")
    nested_fits(series, windows=windows, dates=series.index[[160]])
    assert len(calls) == 7
    blocked = tmp_path / "blocked"
    blocked.mkdir()
    (blocked / "lppls").write_text("a file where the cache's folder would be")
    monkeypatch.setenv("SHORTTHEHYPE_CACHE_DIR", str(blocked))
    unwritable = nested_fits(series, windows=windows, dates=dates)
    assert len(calls) == 8 and np.array_equal(unwritable.records, first.records, equal_nan=True)


def test_evaluation_positions():
    assert list(evaluation_positions(10, 3)) == [0, 3, 6, 9]
    assert list(evaluation_positions(11, 3)) == [1, 4, 7, 10]
    assert list(evaluation_positions(11, 3, first=4, anchor="start")) == [6, 9]
    assert list(evaluation_positions(3, 1, first=5)) == []


# ---- user errors ------------------------------------------------------------------------------------------


def test_errors_name_the_culprit():
    with pytest.raises(DataError, match=r"^SYN: non-positive price 0 on 2001-01-03"):
        fit_lppls(pd.Series([1.0, 2.0, 0.0] + [1.0] * 30, index=pd.bdate_range("2001-01-01", periods=33), name="SYN"), name="SYN")
    with pytest.raises(ParamError, match=rf"^prices: 5 prices; an LPPLS fit needs at least {LPPLS_MIN_BARS}"):
        fit_lppls(np.ones(5))
    with pytest.raises(DataError, match="NaN or inf"):
        fit_lppls(np.array([1.0, np.nan] * 20))
    with pytest.raises(ParamError, match=r"smallest window 10 bars is below 20"):
        lppls_windows(10, 100, 5)
    with pytest.raises(ParamError, match=r"largest window 50 bars is smaller than the smallest 60"):
        lppls_windows(60, 50, 5)
    with pytest.raises(ParamError, match=r"parameter 'step' must be an integer >= 1"):
        evaluation_positions(10, 0)
    with pytest.raises(ParamError, match=r"parameter 'm': low end must be > 0"):
        LPPLSSearch(m=(0.0, 1.0))
    with pytest.raises(ParamError, match=r"parameter 'omega' must be a finite range with low <= high"):
        LPPLSSearch(omega=(10.0, 5.0))
    with pytest.raises(ParamError, match=r"'grid_starts' \+ 'random_starts' must be >= 1"):
        LPPLSSearch(grid_starts=0, random_starts=0)
    with pytest.raises(ParamError, match=r"parameter 'omega': high end 5000 is above 1000"):
        LPPLSSearch(omega=(2.0, 5000.0))
    with pytest.raises(ParamError, match=r"parameter 'm': high end 20 is above 10"):
        LPPLSSearch(m=(0.1, 20.0))
    with pytest.raises(ParamError, match=r"parameter 'explore_iter' must be a non-negative integer"):
        LPPLSSearch(explore_iter=-1)
    with pytest.raises(ParamError, match=r"parameter 'warm_start' must be true or false"):
        LPPLSSearch(warm_start="yes")
    with pytest.raises(ParamError, match=r"filter 'damping_min' must be a finite number"):
        LPPLSFilters(damping_min=float("nan"))
    series = _bubble_then_noise()
    with pytest.raises(DataError, match=r"^SYN: evaluation date 2030-01-01 is not a date of the series"):
        nested_fits(series, windows=[60], dates=["2030-01-01"])
    with pytest.raises(ParamError, match=r"window of 5 bars is below the minimum"):
        nested_fits(series, windows=[5, 60])


# ---- the AI basket series ---------------------------------------------------------------------------------


def test_ai_basket_series_is_the_equal_weight_index_of_the_listed_members():
    index = pd.bdate_range("2020-01-01", periods=4)
    close = pd.DataFrame({"NVDA": [10.0, 11.0, 12.1, 12.1], "MSFT": [np.nan, 100.0, 90.0, 99.0], "SPY": [1.0, 2.0, 3.0, 4.0]}, index=index)
    series = bubble_series(Prices.from_close(close), "AI-Basket")
    # day 2: NVDA +10 % alone; day 3: mean(+10 %, -10 %) = 0; day 4: mean(0, +10 %) = +5 %
    np.testing.assert_allclose(series.to_numpy(), [1.0, 1.1, 1.1, 1.155])
    assert series.name == "ai-basket"
    assert set(AI_BASKET) >= {"NVDA", "MSFT"}
    assert bubble_series(Prices.from_close(close), "spy").tolist() == [1.0, 2.0, 3.0, 4.0]
    with pytest.raises(DataError, match=r"^ticker QQQ is not in the prices"):
        bubble_series(Prices.from_close(close), "QQQ")
    with pytest.raises(DataError, match=r"^ai-basket: none of its members"):
        bubble_series(Prices.from_close(close[["SPY"]]), "ai-basket")
    # the members are those with a close: an all-NaN column (a member listed after the range) is left out
    close["AMD"] = np.nan
    assert basket_members(Prices.from_close(close)) == {"NVDA": index[0], "MSFT": index[1]}
    np.testing.assert_allclose(bubble_series(Prices.from_close(close), "ai-basket").to_numpy(), [1.0, 1.1, 1.1, 1.155])


# ---- real data -----------------------------------------------------------------------------------------------


def test_nasdaq_composite_into_march_2000_fits_as_a_bubble(shared_prices_dir):
    from shortthehype.data.load import load_prices

    close = load_prices("IXIC", "1998-01-01", "2000-03-10", source="csv", data_dir=shared_prices_dir).close["IXIC"]
    fit = fit_lppls(close)
    # the Nasdaq's run-up to its 2000-03-10 peak was faster than exponential: B < 0
    assert fit.b < 0
    assert fit.n == len(close.dropna())
