"""The vectorisable exp, log and sincos of core/vecmath_nb.py against numpy's (libm) on their stated domains."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numba import njit

from shortthehype.core.vecmath_nb import exp_nb, log_nb, sincos_nb

EPS = np.finfo(np.float64).eps


@njit(cache=True)
def _exp_all(x):
    out = np.empty_like(x)
    for i in range(x.shape[0]):
        out[i] = exp_nb(x[i])
    return out


@njit(cache=True)
def _log_all(x):
    out = np.empty_like(x)
    for i in range(x.shape[0]):
        out[i] = log_nb(x[i])
    return out


@njit(cache=True)
def _sincos_all(x):
    sin = np.empty_like(x)
    cos = np.empty_like(x)
    for i in range(x.shape[0]):
        sin[i], cos[i] = sincos_nb(x[i])
    return sin, cos


def _ulps(got: np.ndarray, want: np.ndarray) -> float:
    return float(np.max(np.abs(got - want) / np.spacing(np.abs(want))))


def test_exp_is_within_two_ulp_on_its_domain():
    rng = np.random.default_rng(1)
    x = np.concatenate([rng.uniform(-700.0, 700.0, 100_000), rng.uniform(-1.0, 1.0, 20_000), [0.0, 1.0, -1.0, 699.9, -699.9]])
    x = np.concatenate([x, np.log(2.0) * np.arange(-20, 21) + 0.5 * np.log(2.0)])  # reduction boundaries
    assert _ulps(_exp_all(x), np.exp(x)) <= 2.0
    assert _exp_all(np.array([0.0]))[0] == 1.0


def test_log_is_within_two_ulp_on_normal_positive_numbers():
    rng = np.random.default_rng(2)
    x = np.concatenate([
        np.exp(rng.uniform(-700.0, 700.0, 100_000)),
        1.0 + rng.uniform(-1e-3, 1e-3, 20_000),  # ln x ~ x - 1: relative accuracy must hold near 1 too
        np.sqrt(2.0) * (1.0 + rng.uniform(-1e-12, 1e-12, 1_000)),  # the reduction's switch point
        [1e-8, 0.5, 2.0, 3.0, 1e300, 2.2250738585072014e-308],
    ])
    want = np.log(x)
    got = _log_all(x)
    away = want != 0.0
    assert _ulps(got[away], want[away]) <= 2.0
    assert _log_all(np.array([1.0]))[0] == 0.0


def test_sincos_is_within_two_ulp_of_one_absolutely():
    rng = np.random.default_rng(3)
    quarter_turns = np.arange(-400, 401) * (np.pi / 2.0)
    x = np.concatenate([
        rng.uniform(-1e6, 1e6, 50_000),
        rng.uniform(-30.0, 30.0, 50_000),
        quarter_turns,
        np.nextafter(quarter_turns, np.inf),
        quarter_turns + np.pi / 4.0,  # where the reduction switches quadrant
        [0.0, -0.0, 1e-300, 5e-324],
    ])
    sin, cos = _sincos_all(x)
    assert np.max(np.abs(sin - np.sin(x))) <= 2.0 * EPS
    assert np.max(np.abs(cos - np.cos(x))) <= 2.0 * EPS
    small = np.abs(x) < 1e-3  # near 0, sin x ~ x: relative accuracy, not only absolute
    nonzero = small & (x != 0.0)
    assert np.all(np.abs(sin[nonzero] - np.sin(x[nonzero])) <= 2.0 * np.spacing(np.abs(np.sin(x[nonzero]))))


@settings(max_examples=300, deadline=None)
@given(st.floats(min_value=1e-300, max_value=1e300), st.floats(min_value=-1e5, max_value=1e5))
def test_identities_hold(x, theta):
    ln = _log_all(np.array([x]))[0]  # |ln x| < 691: inside exp's domain
    # exp amplifies ln's absolute error by x: relative error ~ |ln x| eps
    assert _exp_all(np.array([ln]))[0] == pytest.approx(x, rel=4 * EPS * (1.0 + abs(ln)))
    sin, cos = _sincos_all(np.array([theta]))
    assert sin[0] ** 2 + cos[0] ** 2 == pytest.approx(1.0, abs=4 * EPS)
