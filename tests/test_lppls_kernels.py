"""LPPLS kernels against slow, obviously-correct pure-Python twins (numpy least squares, finite differences)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from shortthehype.core import lppls_nb as K

# ---- twins -----------------------------------------------------------------------------------------


def naive_design(n: int, tau: float, m: float, omega: float) -> np.ndarray:
    """Columns 1, f, g, h of the window's n bars (newest first), one math call at a time."""
    rows = []
    for j in range(n):
        x = abs(tau + j) + K.EPS
        f = x**m
        rows.append([1.0, f, f * math.cos(omega * math.log(x)), f * math.sin(omega * math.log(x))])
    return np.array(rows)


def naive_ssr(yrev: np.ndarray, tau: float, m: float, omega: float) -> tuple[float, np.ndarray]:
    """(SSR, [A, B, C1, C2]) by numpy's least squares on the explicit design matrix."""
    X = naive_design(len(yrev), tau, m, omega)
    beta, *_ = np.linalg.lstsq(X, yrev, rcond=None)
    residual = yrev - X @ beta
    return float(residual @ residual), beta


def naive_minima(cube: np.ndarray, k: int) -> list[int]:
    """Flat indices of the k lowest finite local minima over the 6 face neighbours (ties: smaller index)."""
    found = []
    nt, nm, no = cube.shape
    for t in range(nt):
        for a in range(nm):
            for o in range(no):
                v = cube[t, a, o]
                if not np.isfinite(v):
                    continue
                neighbours = []
                for dt, da, do in ((-1, 0, 0), (1, 0, 0), (0, -1, 0), (0, 1, 0), (0, 0, -1), (0, 0, 1)):
                    tt, aa, oo = t + dt, a + da, o + do
                    if 0 <= tt < nt and 0 <= aa < nm and 0 <= oo < no:
                        neighbours.append(cube[tt, aa, oo])
                if all(not (w < v) for w in neighbours):
                    found.append((v, (t * nm + a) * no + o))
    found.sort()
    return [index for _, index in found[:k]]


def splitmix64_reference(state: int) -> tuple[int, int]:
    mask = (1 << 64) - 1
    state = (state + 0x9E3779B97F4A7C15) & mask
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
    return state, z ^ (z >> 31)


def lppls_path(n: int, tau: float, m: float, omega: float, a: float, b: float, c1: float, c2: float) -> np.ndarray:
    """ln p on bars 0..n-1 (oldest first) for tc = tau bars after the last bar."""
    j = np.arange(n - 1, -1, -1, dtype=np.float64)
    x = np.abs(tau + j) + K.EPS
    return a + x**m * (b + c1 * np.cos(omega * np.log(x)) + c2 * np.sin(omega * np.log(x)))


# ---- the linear solve and the exact objective ------------------------------------------------------


@pytest.mark.parametrize(
    "n, tau, m, omega",
    [
        (5, 3.0, 0.5, 8.0),  # as few bars as unknowns + 1
        (40, 12.5, 0.9, 6.0),
        (40, -7.3, 0.3, 12.0),  # tc inside the window
        (40, -7.0, 0.3, 12.0),  # tc exactly on a bar: ln(EPS)
        (300, 0.5, 0.05, 2.0),  # m near 0: 1 and f nearly collinear
        (300, 60.0, 1.2, 25.0),
    ],
)
def test_ssr_and_linear_parameters_match_numpy_least_squares(n, tau, m, omega):
    rng = np.random.default_rng(n)
    yrev = 4.0 + np.cumsum(rng.normal(0.0, 0.01, n))
    beta = np.empty(4)
    ssr = K.lppls_ssr_nb(yrev, tau, m, omega, beta)
    expected, expected_beta = naive_ssr(yrev, tau, m, omega)
    assert ssr == pytest.approx(expected, rel=1e-7, abs=1e-12)
    # the coefficients are only as well determined as the design is conditioned: compare fits instead
    X = naive_design(n, tau, m, omega)
    np.testing.assert_allclose(X @ beta, X @ expected_beta, rtol=0, atol=1e-7)


def test_exact_fit_has_zero_ssr_and_recovers_the_linear_parameters():
    n, tau, m, omega = 60, 9.0, 0.6, 7.5
    y = lppls_path(n, tau, m, omega, a=5.0, b=-0.2, c1=0.03, c2=-0.02)
    beta = np.empty(4)
    ssr = K.lppls_ssr_nb(np.ascontiguousarray(y[::-1]), tau, m, omega, beta)
    assert ssr < 1e-20
    np.testing.assert_allclose(beta, [5.0, -0.2, 0.03, -0.02], rtol=1e-8, atol=1e-10)


def test_singular_normal_equations_give_infinite_ssr_and_nan_parameters():
    # a constant f column (f = 1 for every bar) duplicates the intercept
    n = 10
    S = np.array([n, n, 0.3, 0.1, n, 0.3, 0.1, 2.0, 0.05, 1.5, 1.0, 1.0, 0.2, 0.1, 3.0], dtype=np.float64)
    beta = np.empty(4)
    assert K.solve4_nb(S, np.empty(13), beta) == np.inf
    assert np.isnan(beta).all()
    zero = S.copy()
    zero[7] = 0.0  # an all-zero g column
    assert K.solve4_nb(zero, np.empty(13), beta) == np.inf


def test_solve3_matches_numpy_and_refuses_singular_systems():
    rng = np.random.default_rng(3)
    A = rng.normal(size=(3, 3))
    A = A @ A.T + np.eye(3)
    b = rng.normal(size=3)
    out = np.empty(3)
    assert K.solve3_nb(A, b, out)
    np.testing.assert_allclose(out, np.linalg.solve(A, b), rtol=1e-12)
    singular = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.0, 1.0, 1.0]])
    assert not K.solve3_nb(singular, b, out)


# ---- Gauss–Newton system: gradient by finite differences --------------------------------------------


@pytest.mark.parametrize("tau, m, omega", [(15.0, 0.5, 8.0), (-3.4, 0.7, 10.0), (40.0, 0.2, 4.0)])
def test_lm_gradient_is_minus_half_the_finite_difference_gradient_of_the_ssr(tau, m, omega):
    rng = np.random.default_rng(11)
    n = 120
    yrev = np.cumsum(rng.normal(0.0, 0.02, n))
    yrev -= yrev[0]
    S, C, beta, X = np.empty(15), np.empty(13), np.empty(4), np.empty((5, n))
    K.eval_store_nb(yrev, n, tau, m, omega, S, C, beta, X)
    H, G = np.empty((3, 3)), np.empty(3)
    K.lm_system_nb(yrev, n, tau, m, omega, S, C, beta, X, H, G)
    theta = np.array([tau, m, omega])
    steps = np.array([1e-5, 1e-6, 1e-6])
    for k in range(3):
        up, down = theta.copy(), theta.copy()
        up[k] += steps[k]
        down[k] -= steps[k]
        derivative = (naive_ssr(yrev, *up)[0] - naive_ssr(yrev, *down)[0]) / (2 * steps[k])
        assert G[k] == pytest.approx(-0.5 * derivative, rel=1e-4, abs=1e-9)
    # J'J is symmetric positive semi-definite
    np.testing.assert_allclose(H, H.T, rtol=1e-12)
    assert np.linalg.eigvalsh(H).min() > -1e-9 * np.abs(H).max()


# ---- the nested grid ---------------------------------------------------------------------------------


def test_grid_scan_equals_separate_naive_fits_of_each_nested_window():
    rng = np.random.default_rng(5)
    yrev = np.cumsum(rng.normal(0.0, 0.01, 90))
    yrev -= yrev[0]
    lengths = np.array([25, 40, 60], dtype=np.int64)
    taus = np.array([-6.0, -0.5, 0.5, 3.0, 9.0])
    ms = np.array([0.3, 0.8])
    om0, dom, n_om = 3.0, 2.5, 4
    tc_lo, tc_hi = -0.2, 0.2
    grid = np.empty((3, 5, 2, n_om))
    n_avail = 50  # the 60-bar window does not fit
    plan = K.make_plan_nb(lengths, taus, ms, om0, dom, n_om, np.array([tc_lo, tc_hi, 0.01, 1.2, 2.0, 25.0]), 1)
    # the plan does not depend on the prices: another series' scan leaves it unchanged
    frozen = [array.copy() for array in plan]
    K.scan_grid_nb(yrev[::-1].copy(), 60, lengths, *plan, grid, np.empty((2, 60)), np.empty(60), np.empty(60), np.empty((5, 3)))
    K.scan_grid_nb(
        yrev, n_avail, lengths, *plan, grid, np.empty((2, n_avail)), np.empty(n_avail), np.empty(n_avail), np.empty((5, 3))
    )
    for before, after in zip(frozen, plan):
        np.testing.assert_array_equal(before, after)
    for w, n in enumerate(lengths):
        for t, tau in enumerate(taus):
            for a, m in enumerate(ms):
                for o in range(n_om):
                    got = grid[w, t, a, o]
                    feasible = tc_lo * (n - 1) <= tau <= tc_hi * (n - 1)
                    if n > n_avail or not feasible:
                        assert got == np.inf
                    else:
                        expected = naive_ssr(yrev[:n], tau, m, om0 + o * dom)[0]
                        assert got == pytest.approx(expected, rel=1e-6, abs=1e-12)


def test_grid_minima_match_the_naive_enumeration():
    rng = np.random.default_rng(2)
    for trial in range(20):
        cube = rng.random((4, 3, 6))
        cube[rng.random(cube.shape) < 0.15] = np.inf
        if trial % 5 == 0:
            cube[0, 0, :2] = 0.5  # a tie
        for k in (1, 3, 8):
            idx, ssr = np.empty(k, dtype=np.int64), np.empty(k)
            found = K.grid_minima_nb(cube, k, idx, ssr)
            expected = naive_minima(cube, k)
            assert found == len(expected)
            assert list(idx[:found]) == expected
            assert (idx[found:] == -1).all()


def test_grid_minima_of_an_all_infinite_cube_is_empty():
    idx, ssr = np.empty(2, dtype=np.int64), np.empty(2)
    assert K.grid_minima_nb(np.full((2, 2, 2), np.inf), 2, idx, ssr) == 0


# ---- seeded random stream ------------------------------------------------------------------------------


def test_splitmix64_matches_the_reference_algorithm():
    # the published first output of splitmix64 seeded with 0
    assert int(K.splitmix64_nb(np.uint64(0))[1]) == 0xE220A8397B1DCDAF
    state_nb, state_py = np.uint64(12345), 12345
    for _ in range(50):
        state_nb, out_nb = K.splitmix64_nb(np.uint64(state_nb))
        state_py, out_py = splitmix64_reference(state_py)
        assert int(state_nb) == state_py and int(out_nb) == out_py
    _, u = K.uniform01_nb(np.uint64(7))
    assert 0.0 <= u < 1.0
    assert u == (splitmix64_reference(7)[1] >> 11) / 2.0**53


# ---- refinement and whole fits --------------------------------------------------------------------------


def _refine(yrev, theta, lo, hi, max_iter=60):
    n = len(yrev)
    S, C, beta, X = np.empty(15), np.empty(13), np.empty(4), np.empty((5, n))
    S2, C2, beta2, X2 = np.empty(15), np.empty(13), np.empty(4), np.empty((5, n))
    ssr = K.refine_nb(
        yrev, n, theta, lo, hi, max_iter, S, C, beta, X, S2, C2, beta2, X2,
        np.empty((3, 3)), np.empty(3), np.empty((3, 3)), np.empty(3),
    )
    return ssr, beta


def test_refinement_converges_to_the_truth_on_noise_free_data_and_stays_in_bounds():
    n, truth = 200, np.array([12.0, 0.45, 7.0])
    y = lppls_path(n, *truth, a=3.0, b=-0.05, c1=0.004, c2=0.003)
    yrev = np.ascontiguousarray(y[::-1] - y[-1])
    lo, hi = np.array([-40.0, 0.01, 2.0]), np.array([40.0, 1.2, 25.0])
    theta = np.array([10.0, 0.5, 7.3])
    start_ssr = naive_ssr(yrev, *theta)[0]
    ssr, _ = _refine(yrev, theta, lo, hi)
    assert ssr < 1e-6 * start_ssr
    np.testing.assert_allclose(theta, truth, rtol=1e-4)
    # a start outside the box is projected in, and the result never leaves it
    theta = np.array([100.0, 2.0, 1.0])
    ssr, _ = _refine(yrev, theta, lo, hi, max_iter=5)
    assert (lo <= theta).all() and (theta <= hi).all()
    assert ssr <= naive_ssr(yrev, 40.0, 1.2, 2.0)[0] * (1 + 1e-9)


def _fit(y, lengths, ends, n_starts=2, n_random=0, seed=0, bounds=(-0.2, 0.2, 0.01, 1.2, 2.0, 25.0), **effort):
    from shortthehype.lppls import LPPLSSearch

    search = LPPLSSearch(
        tc=bounds[:2], m=bounds[2:4], omega=bounds[4:], grid_starts=n_starts, random_starts=n_random, seed=seed, **effort
    )
    taus, ms, om0, dom, n_om, b = search.kernel_args(int(max(lengths)))
    out = np.empty((len(ends), len(lengths), K.N_FIELDS))
    K.nested_fits_nb(
        np.ascontiguousarray(y), np.asarray(ends, dtype=np.int64), np.asarray(lengths, dtype=np.int64),
        taus, ms, om0, dom, n_om, b, search.effort(), out,
    )
    return out


def test_fit_records_are_consistent_with_the_twin_and_nan_where_no_window_fits():
    rng = np.random.default_rng(8)
    y = 3.0 + np.cumsum(rng.normal(0.0005, 0.01, 160))
    y[30] = np.nan  # a gap: windows ending at bar 159 may reach back to bar 31 only
    lengths = [40, 100, 150]
    out = _fit(y, lengths, ends=[159, 20, 159])
    rec = out[0]
    assert np.isnan(out[1]).all()  # 21 bars of history: no window fits
    assert np.isnan(rec[2]).all()  # 150 bars would cross the gap
    for w, n in enumerate(lengths[:2]):
        tau, m, omega, a, b, c1, c2, ssr, rel, count = rec[w]
        assert count == n
        window = y[159 - n + 1 : 160]
        expected_ssr, _ = naive_ssr(np.ascontiguousarray(window[::-1]), tau, m, omega)
        assert ssr == pytest.approx(expected_ssr, rel=1e-9)
        fit = lppls_path(n, tau, m, omega, a, b, c1, c2)
        assert ((window - fit) ** 2).sum() == pytest.approx(ssr, rel=1e-7)
        assert rel == pytest.approx(np.mean(np.abs(np.exp(window - fit) - 1.0)), rel=1e-9)
        assert -0.2 * (n - 1) <= tau <= 0.2 * (n - 1) and 0.01 <= m <= 1.2 and 2.0 <= omega <= 25.0


def test_fits_are_deterministic_and_independent_of_parallel_scheduling():
    rng = np.random.default_rng(9)
    y = 2.0 + np.cumsum(rng.normal(0.001, 0.01, 140))
    ends, lengths = [79, 99, 119, 139], [40, 60, 80]
    first = _fit(y, lengths, ends, n_random=2, seed=42)
    second = _fit(y, lengths, ends, n_random=2, seed=42)
    np.testing.assert_array_equal(first, second)
    one_by_one = np.stack([_fit(y, lengths, [e], n_random=2, seed=42)[0] for e in ends])
    np.testing.assert_array_equal(first, one_by_one)
    # random starts add candidates: with every start refined to convergence, never a worse objective
    full = dict(explore_iter=200, max_iter=200, warm_start=False)
    with_random = _fit(y, lengths, ends, n_random=2, seed=42, **full)
    grid_only = _fit(y, lengths, ends, **full)
    assert (with_random[:, :, K.F_SSR] <= grid_only[:, :, K.F_SSR] * (1 + 1e-12)).all()


def test_warm_start_links_only_windows_ending_on_the_same_bar_through_their_own_data():
    rng = np.random.default_rng(10)
    y = 2.0 + np.cumsum(rng.normal(0.001, 0.01, 140))
    lengths, end = [40, 60, 80], 139
    cold = _fit(y, lengths, [end], warm_start=False)
    alone = _fit(y, [80], [end], warm_start=False)
    np.testing.assert_array_equal(cold[0, 2], alone[0, 0])  # without warm starts every window is its own search
    warm = _fit(y, lengths, [end])
    np.testing.assert_array_equal(warm[0, 0], cold[0, 0])  # the shortest window has no shorter neighbour
    # a window's fit depends on its own bars only: a change older than the 60-bar window moves the 80-bar fit at most
    changed = y.copy()
    changed[end - 70] += 0.5
    moved = _fit(changed, lengths, [end])
    np.testing.assert_array_equal(moved[0, :2], warm[0, :2])
    assert not np.array_equal(moved[0, 2], warm[0, 2])
