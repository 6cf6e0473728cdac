"""LPPLS fits: the Filimonov–Sornette calibration, numba only (arrays in, arrays out).

Model (Johansen–Ledoit–Sornette, in the Filimonov–Sornette 2013 form)::

    ln p(t) = A + B x^m + C1 x^m cos(ω ln x) + C2 x^m sin(ω ln x),   x = |tc - t| + EPS

Conventions shared by every kernel here:

* Time is in **bars relative to the window's last bar** t2: bar ``j`` bars
  before t2 sits at ``s = -j``, and ``tau = tc - t2`` (bars; negative = a
  critical time inside the window, as the literature's search space allows).
  So ``x_j = |tau + j| + EPS``.  ``EPS`` (1e-8 bar, as the ``lppls``
  package) keeps ``ln x`` finite when tc falls exactly on a bar.
* ``yrev`` is a window's log prices **newest first** (``yrev[0]`` = t2),
  minus ``yrev[0]``'s value (centring keeps the sums small).
* The linear parameters (A, B, C1, C2) solve the 4x4 normal equations
  ``M beta = r`` by a Jacobi-scaled, unrolled Cholesky (no allocation): the
  scaling makes the solve indifferent to the units of x.  A pivot below
  ``PIVOT_TOL`` (the columns 1, f, g, h nearly dependent) makes the point
  infeasible: SSR = +inf.  A reported SSR is summed from the residuals.
* A search is bounded: ``tau`` in ``[tc_lo, tc_hi] x dt`` (dt = window
  length - 1 bars), ``m`` in ``[m_lo, m_hi]``, ``ω`` in ``[om_lo, om_hi]``.
  It starts with a grid over (tau, m, ω) for every nested window ending at
  the same bar in one pass.  Bar j of any window sits at x_j = |tau + j| +
  EPS whatever the date, so the basis and the factored normal matrices of
  every grid point are computed once per call (:func:`grid_plan_nb`) and a
  date costs two multiply-adds per bar and grid point (:func:`scan_grid_nb`).
  Then Levenberg–Marquardt (variable projection, Kaufman's Jacobian, steps
  projected onto the bounds, Nielsen's damping) runs from the
  ``E_GRID_STARTS`` best local minima of the grid, ``E_RANDOM_STARTS``
  seeded uniform points and, optionally, the fit of the next shorter window
  ending on the same bar (its tau is relative to the same t2, so it is a
  point of this search, and it uses no other data): each start gets
  ``E_EXPLORE_ITER`` iterations, and the best goes on to convergence.
  Everything is deterministic: the random starts come from a splitmix64
  stream seeded by (seed, end bar, window length), whatever the thread
  scheduling.
* A fit record (one row of ``out``) holds the fields ``F_*`` below; tau in
  bars after t2, the linear parameters in the units above (A in log price,
  B, C1, C2 per bar^m), ``F_REL_ERR`` = mean |p - p_fit| / p_fit over the
  window, ``F_N`` = the window's bar count.  A window that cannot be fitted
  (not enough history, a NaN in it) is all NaN.

Round-off and speed: ln, exp, sin and cos come from
:mod:`shortthehype.core.vecmath_nb` (a few ulp, vectorised) and the sums
are re-associated so that LLVM vectorises them (``_SUM_FASTMATH``: a
different summation order, no approximations).  The grid also uses
approximate reciprocals (``_GRID_FASTMATH``), which is harmless because it
only ranks grid points: every reported number comes from the refinement's
evaluation.  Results are deterministic on one machine; across CPUs with a
different vector width the last bits may differ.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from shortthehype.core.vecmath_nb import exp_nb, log_nb, sincos_nb

#: Fields of a fit record.
F_TC = 0
F_M = 1
F_OMEGA = 2
F_A = 3
F_B = 4
F_C1 = 5
F_C2 = 6
F_SSR = 7
F_REL_ERR = 8
F_N = 9
N_FIELDS = 10

#: Added to |tc - t| (bars) so that ln x stays finite when tc falls on a bar.
EPS = 1.0e-8
#: Smallest Cholesky pivot (of the unit-diagonal scaled normal matrix) accepted.
PIVOT_TOL = 1.0e-13
#: Levenberg–Marquardt: first damping and its bounds, relative SSR decrease
#: and step size (fraction of the box) that count as converged.  The damping
#: follows Nielsen (1999): after an accepted step with gain ratio rho (actual
#: over predicted decrease) it is scaled by max(1/3, 1 - (2 rho - 1)^3);
#: after a rejected one by 2, 4, 8, ... (doubling while rejections go on).
LM_LAMBDA0 = 1.0e-3
LM_LAMBDA_MIN = 1.0e-12
LM_LAMBDA_MAX = 1.0e12
LM_RTOL = 1.0e-8
LM_STEP_TOL = 1.0e-11

_GRID_FASTMATH = {"reassoc", "contract", "nsz", "arcp", "afn"}
_SUM_FASTMATH = {"reassoc", "contract"}


# ---- 4x4 normal equations --------------------------------------------------------------


@njit(cache=True)
def chol4_nb(S, C):
    """Jacobi-scaled Cholesky factor of the normal matrix held in sums ``S`` into ``C``; False if singular.

    ``S`` = (n, Σf, Σg, Σh, Σff, Σfg, Σfh, Σgg, Σgh, Σhh, Σy, Σyf, Σyg, Σyh, Σyy);
    ``C`` = (d0, d1, d2, d3, l10, l20, l30, l11, l21, l31, l22, l32, l33) with
    d = 1/sqrt(diag M) and L the Cholesky factor of D M D.
    """
    if not (S[0] > 0.0 and S[4] > 0.0 and S[7] > 0.0 and S[9] > 0.0):
        return False
    d0 = 1.0 / np.sqrt(S[0])
    d1 = 1.0 / np.sqrt(S[4])
    d2 = 1.0 / np.sqrt(S[7])
    d3 = 1.0 / np.sqrt(S[9])
    a10 = S[1] * d1 * d0
    a20 = S[2] * d2 * d0
    a30 = S[3] * d3 * d0
    a21 = S[5] * d2 * d1
    a31 = S[6] * d3 * d1
    a32 = S[8] * d3 * d2
    p11 = 1.0 - a10 * a10
    if not p11 > PIVOT_TOL:
        return False
    l11 = np.sqrt(p11)
    l21 = (a21 - a20 * a10) / l11
    l31 = (a31 - a30 * a10) / l11
    p22 = 1.0 - a20 * a20 - l21 * l21
    if not p22 > PIVOT_TOL:
        return False
    l22 = np.sqrt(p22)
    l32 = (a32 - a30 * a20 - l31 * l21) / l22
    p33 = 1.0 - a30 * a30 - l31 * l31 - l32 * l32
    if not p33 > PIVOT_TOL:
        return False
    C[0] = d0
    C[1] = d1
    C[2] = d2
    C[3] = d3
    C[4] = a10
    C[5] = a20
    C[6] = a30
    C[7] = l11
    C[8] = l21
    C[9] = l31
    C[10] = l22
    C[11] = l32
    C[12] = np.sqrt(p33)
    return True


@njit(cache=True)
def forward4_nb(C, v0, v1, v2, v3):
    """z = L^-1 D v for the factor ``C`` of :func:`chol4_nb` (so that v'M^-1 w = z_v . z_w)."""
    z0 = v0 * C[0]
    z1 = (v1 * C[1] - C[4] * z0) / C[7]
    z2 = (v2 * C[2] - C[5] * z0 - C[8] * z1) / C[10]
    z3 = (v3 * C[3] - C[6] * z0 - C[9] * z1 - C[11] * z2) / C[12]
    return z0, z1, z2, z3


@njit(cache=True)
def solve4_nb(S, C, beta):
    """Least-squares (A, B, C1, C2) from the sums ``S`` into ``beta``; returns the SSR (+inf if singular)."""
    if not chol4_nb(S, C):
        for k in range(4):
            beta[k] = np.nan
        return np.inf
    z0, z1, z2, z3 = forward4_nb(C, S[10], S[11], S[12], S[13])
    b3 = z3 / C[12]
    b2 = (z2 - C[11] * b3) / C[10]
    b1 = (z1 - C[8] * b2 - C[9] * b3) / C[7]
    b0 = z0 - C[4] * b1 - C[5] * b2 - C[6] * b3
    beta[0] = b0 * C[0]
    beta[1] = b1 * C[1]
    beta[2] = b2 * C[2]
    beta[3] = b3 * C[3]
    ssr = S[14] - (z0 * z0 + z1 * z1 + z2 * z2 + z3 * z3)
    return ssr if ssr > 0.0 else 0.0


# ---- exact evaluation --------------------------------------------------------------------


@njit(cache=True, fastmath=_SUM_FASTMATH)
def add_design_sums_nb(f, g, h, start, stop, S):
    """Add the sums over bars ``start..stop-1`` of the design columns' products (1, f, g, h) to ``S[0:10]``.

    ``S`` is laid out as in :func:`chol4_nb`; the y sums ``S[10:15]`` are untouched.
    """
    sf = 0.0
    sg = 0.0
    sh = 0.0
    sff = 0.0
    sfg = 0.0
    sfh = 0.0
    sgg = 0.0
    sgh = 0.0
    shh = 0.0
    for j in range(start, stop):
        fj = f[j]
        gj = g[j]
        hj = h[j]
        sf += fj
        sg += gj
        sh += hj
        sff += fj * fj
        sfg += fj * gj
        sfh += fj * hj
        sgg += gj * gj
        sgh += gj * hj
        shh += hj * hj
    S[0] += stop - start
    S[1] += sf
    S[2] += sg
    S[3] += sh
    S[4] += sff
    S[5] += sfg
    S[6] += sfh
    S[7] += sgg
    S[8] += sgh
    S[9] += shh


@njit(cache=True, fastmath=_SUM_FASTMATH)
def add_data_sums_nb(y, f, g, h, start, stop, S):
    """Add Σy, Σyf, Σyg, Σyh and Σyy over bars ``start..stop-1`` to ``S[10:15]``."""
    sy = 0.0
    syf = 0.0
    syg = 0.0
    syh = 0.0
    syy = 0.0
    for j in range(start, stop):
        yj = y[j]
        sy += yj
        syf += yj * f[j]
        syg += yj * g[j]
        syh += yj * h[j]
        syy += yj * yj
    S[10] += sy
    S[11] += syf
    S[12] += syg
    S[13] += syh
    S[14] += syy


@njit(cache=True, error_model="numpy")
def eval_store_nb(yrev, n, tau, m, omega, S, C, beta, X):
    """SSR of the window ``yrev[:n]`` at (tau, m, ω) with the linear parameters in ``beta``.

    Stores x, ln x, f = x^m, g = f cos(ω ln x), h = f sin(ω ln x) in rows 0-4
    of ``X`` (for :func:`lm_system_nb`) and the normal-equation sums in ``S``.
    The transcendental calls come first and the sums after (accumulators
    kept live across libm calls would be spilled to memory on every call).
    """
    for j in range(n):
        x = abs(tau + j) + EPS
        lx = log_nb(x)
        f = exp_nb(m * lx)
        sin_o, cos_o = sincos_nb(omega * lx)
        X[0, j] = x
        X[1, j] = lx
        X[2, j] = f
        X[3, j] = f * cos_o
        X[4, j] = f * sin_o
    for k in range(15):
        S[k] = 0.0
    add_design_sums_nb(X[2], X[3], X[4], 0, n, S)
    add_data_sums_nb(yrev, X[2], X[3], X[4], 0, n, S)
    if not np.isfinite(solve4_nb(S, C, beta)):
        return np.inf
    return residual_ssr_nb(yrev, X[2], X[3], X[4], n, beta)


@njit(cache=True, fastmath=_SUM_FASTMATH)
def residual_ssr_nb(y, f, g, h, n, beta):
    """Σ (y - A - B f - C1 g - C2 h)² over the first ``n`` bars.

    Summed from the residuals rather than as y'y - r'M^-1 r, whose
    cancellation leaves an error of order eps·y'y: an exact fit gives ~0,
    not ~1e-14.
    """
    total = 0.0
    for j in range(n):
        r = y[j] - beta[0] - beta[1] * f[j] - beta[2] * g[j] - beta[3] * h[j]
        total += r * r
    return total


@njit(cache=True)
def lppls_ssr_nb(yrev, tau, m, omega, beta):
    """Exact SSR of ``yrev`` (newest first, any level) at (tau, m, ω); (A, B, C1, C2) into ``beta``."""
    n = yrev.shape[0]
    X = np.empty((5, n))
    S = np.empty(15)
    C = np.empty(13)
    ref = yrev[0]
    yc = np.empty(n)
    for j in range(n):
        yc[j] = yrev[j] - ref
    ssr = eval_store_nb(yc, n, tau, m, omega, S, C, beta, X)
    beta[0] += ref
    return ssr


@njit(cache=True, fastmath=_SUM_FASTMATH, error_model="numpy")
def lm_system_nb(yrev, n, tau, m, omega, S, C, beta, X, H, G):
    """Gauss–Newton system of the variable-projection problem at the point stored in ``X``.

    ``H`` (3x3) = J'J with Kaufman's Jacobian J = -P⊥ (∂X/∂θ) beta, θ = (tau,
    m, ω); ``G`` (3) = -J'r = (∂X/∂θ beta)'r, so the Gauss–Newton step
    solves H δ = G.  ``S``, ``C``, ``beta`` are those of the evaluation that
    filled ``X``.
    """
    b0 = beta[0]
    b1 = beta[1]
    b2 = beta[2]
    b3 = beta[3]
    # X'd_k (4 per parameter), d_k'd_l, d_k'r
    u0 = 0.0
    u1 = 0.0
    u2 = 0.0
    u3 = 0.0
    v0 = 0.0
    v1 = 0.0
    v2 = 0.0
    v3 = 0.0
    w0 = 0.0
    w1 = 0.0
    w2 = 0.0
    w3 = 0.0
    dtt = 0.0
    dtm = 0.0
    dto = 0.0
    dmm = 0.0
    dmo = 0.0
    doo = 0.0
    rt = 0.0
    rm = 0.0
    ro = 0.0
    for j in range(n):
        x = X[0, j]
        lx = X[1, j]
        f = X[2, j]
        g = X[3, j]
        h = X[4, j]
        trend = b1 * f + b2 * g + b3 * h
        r = yrev[j] - b0 - trend
        osc = b3 * g - b2 * h
        sign = 1.0 if tau + j >= 0.0 else -1.0
        d_t = sign / x * (m * trend + omega * osc)
        d_m = lx * trend
        d_o = lx * osc
        u0 += d_t
        u1 += f * d_t
        u2 += g * d_t
        u3 += h * d_t
        v0 += d_m
        v1 += f * d_m
        v2 += g * d_m
        v3 += h * d_m
        w0 += d_o
        w1 += f * d_o
        w2 += g * d_o
        w3 += h * d_o
        dtt += d_t * d_t
        dtm += d_t * d_m
        dto += d_t * d_o
        dmm += d_m * d_m
        dmo += d_m * d_o
        doo += d_o * d_o
        rt += d_t * r
        rm += d_m * r
        ro += d_o * r
    zt0, zt1, zt2, zt3 = forward4_nb(C, u0, u1, u2, u3)
    zm0, zm1, zm2, zm3 = forward4_nb(C, v0, v1, v2, v3)
    zo0, zo1, zo2, zo3 = forward4_nb(C, w0, w1, w2, w3)
    H[0, 0] = dtt - (zt0 * zt0 + zt1 * zt1 + zt2 * zt2 + zt3 * zt3)
    H[0, 1] = dtm - (zt0 * zm0 + zt1 * zm1 + zt2 * zm2 + zt3 * zm3)
    H[0, 2] = dto - (zt0 * zo0 + zt1 * zo1 + zt2 * zo2 + zt3 * zo3)
    H[1, 1] = dmm - (zm0 * zm0 + zm1 * zm1 + zm2 * zm2 + zm3 * zm3)
    H[1, 2] = dmo - (zm0 * zo0 + zm1 * zo1 + zm2 * zo2 + zm3 * zo3)
    H[2, 2] = doo - (zo0 * zo0 + zo1 * zo1 + zo2 * zo2 + zo3 * zo3)
    H[1, 0] = H[0, 1]
    H[2, 0] = H[0, 2]
    H[2, 1] = H[1, 2]
    G[0] = rt
    G[1] = rm
    G[2] = ro


@njit(cache=True)
def solve3_nb(A, b, out):
    """Solve the 3x3 system A x = b by Cramer's rule into ``out``; False if (nearly) singular."""
    c00 = A[1, 1] * A[2, 2] - A[1, 2] * A[2, 1]
    c01 = A[1, 2] * A[2, 0] - A[1, 0] * A[2, 2]
    c02 = A[1, 0] * A[2, 1] - A[1, 1] * A[2, 0]
    det = A[0, 0] * c00 + A[0, 1] * c01 + A[0, 2] * c02
    scale = abs(A[0, 0] * A[1, 1] * A[2, 2]) + 1e-300
    if not abs(det) > 1e-14 * scale:
        return False
    out[0] = (b[0] * c00 + b[1] * (A[0, 2] * A[2, 1] - A[0, 1] * A[2, 2]) + b[2] * (A[0, 1] * A[1, 2] - A[0, 2] * A[1, 1])) / det
    out[1] = (b[0] * c01 + b[1] * (A[0, 0] * A[2, 2] - A[0, 2] * A[2, 0]) + b[2] * (A[0, 2] * A[1, 0] - A[0, 0] * A[1, 2])) / det
    out[2] = (b[0] * c02 + b[1] * (A[0, 1] * A[2, 0] - A[0, 0] * A[2, 1]) + b[2] * (A[0, 0] * A[1, 1] - A[0, 1] * A[1, 0])) / det
    return True


@njit(cache=True)
def _clip(value, lo, hi):
    if value < lo:
        return lo
    if value > hi:
        return hi
    return value


@njit(cache=True)
def refine_nb(yrev, n, theta, lo, hi, max_iter, S, C, beta, X, S2, C2, beta2, X2, H, G, A, step):
    """Levenberg–Marquardt from ``theta`` = (tau, m, ω) within [lo, hi]; returns the SSR.

    On return ``theta`` holds the best point, ``beta`` its linear parameters
    (of the centred ``yrev``).  Only improvements are accepted, so the
    result is never worse than the start.  Steps are projected onto the box.
    """
    for k in range(3):
        theta[k] = _clip(theta[k], lo[k], hi[k])
    ssr = eval_store_nb(yrev, n, theta[0], theta[1], theta[2], S, C, beta, X)
    if not np.isfinite(ssr):
        return ssr
    lam = LM_LAMBDA0
    nu = 2.0
    need_system = True
    trial = np.empty(3)
    free = np.empty(3)
    rhs = np.empty(3)
    for _ in range(max_iter):
        if need_system:
            lm_system_nb(yrev, n, theta[0], theta[1], theta[2], S, C, beta, X, H, G)
            need_system = False
        # active set: a parameter on a bound whose descent direction points outside stays put
        for a in range(3):
            active = (theta[a] <= lo[a] and G[a] < 0.0) or (theta[a] >= hi[a] and G[a] > 0.0)
            free[a] = 0.0 if active else 1.0
        for a in range(3):
            for b in range(3):
                A[a, b] = H[a, b] * free[a] * free[b]
            A[a, a] = H[a, a] * (1.0 + lam) + 1e-30 if free[a] > 0.0 else 1.0
            rhs[a] = G[a] * free[a]
        if not solve3_nb(A, rhs, step):
            lam *= nu
            nu *= 2.0
            if lam > LM_LAMBDA_MAX:
                break
            continue
        moved = 0.0
        for k in range(3):
            trial[k] = _clip(theta[k] + step[k], lo[k], hi[k])
            width = hi[k] - lo[k]
            moved = max(moved, abs(trial[k] - theta[k]) / (width if width > 0.0 else 1.0))
        if moved < LM_STEP_TOL:
            break
        new = eval_store_nb(yrev, n, trial[0], trial[1], trial[2], S2, C2, beta2, X2)
        if new < ssr:
            # predicted decrease of the Gauss–Newton model: 2 d'G - d'H d (d = the step taken, after clipping)
            predicted = 0.0
            for a in range(3):
                d_a = trial[a] - theta[a]
                hd = H[a, 0] * (trial[0] - theta[0]) + H[a, 1] * (trial[1] - theta[1]) + H[a, 2] * (trial[2] - theta[2])
                predicted += d_a * (2.0 * G[a] - hd)
            rho = (ssr - new) / predicted if predicted > 0.0 else 0.0
            gain = (ssr - new) / ssr if ssr > 0.0 else 0.0
            ssr = new
            for k in range(3):
                theta[k] = trial[k]
            for k in range(15):
                S[k] = S2[k]
            for k in range(13):
                C[k] = C2[k]
            for k in range(4):
                beta[k] = beta2[k]
            for r in range(5):
                for j in range(n):
                    X[r, j] = X2[r, j]
            need_system = True
            lam = max(lam * max(1.0 / 3.0, 1.0 - (2.0 * rho - 1.0) ** 3), LM_LAMBDA_MIN)
            nu = 2.0
            if gain < LM_RTOL:
                break
        else:
            lam *= nu
            nu *= 2.0
            if lam > LM_LAMBDA_MAX:
                break
    return ssr


# ---- the grid over nested windows ------------------------------------------------------------


@njit(cache=True)
def _tau_in_window(tau, n, tc_lo, tc_hi):
    dt = n - 1.0
    return tc_lo * dt <= tau <= tc_hi * dt


@njit(cache=True, error_model="numpy")
def grid_plan_nb(lengths, taus, ms, om0, dom, n_om, tc_lo, tc_hi, basis_f, basis_c0, basis_s0, basis_rc, basis_rs, factors):
    """The part of the grid that does not depend on the prices: the basis and the factored normal matrices.

    Bar j of a window sits at x_j = |tau + j| + EPS bars from tc whatever the
    window's end date, so every date shares, per grid point (tau, m, ω) and
    window length, the design sums and hence the Cholesky factor of the normal
    matrix.  Fills ``basis_f`` (n_tau, n_m, n_max) = x^m, ``basis_c0`` /
    ``basis_s0`` (n_tau, n_max) = cos / sin(om0 ln x), ``basis_rc`` /
    ``basis_rs`` = cos / sin(dom ln x) (one ω step, for the rotation) and
    ``factors`` (n_tau, n_om, n_m, n_windows, 13) = :func:`chol4_nb` factors,
    NaN where tau lies outside the window's bounds or the matrix is singular.
    """
    n_win = lengths.shape[0]
    n_tau = taus.shape[0]
    n_m = ms.shape[0]
    n_max = lengths[n_win - 1]
    lx = np.empty(n_max)
    g = np.empty(n_max)
    h = np.empty(n_max)
    cs = np.empty(n_max)
    sn = np.empty(n_max)
    S = np.zeros(15)
    C = np.empty(13)
    for t in range(n_tau):
        tau = taus[t]
        usable = False
        for w in range(n_win):
            usable = usable or _tau_in_window(tau, lengths[w], tc_lo, tc_hi)
        if not usable:
            factors[t, :, :, :, 0] = np.nan
            continue
        # one loop per output row, so that each vectorises
        for j in range(n_max):
            lx[j] = log_nb(abs(tau + j) + EPS)
        for a in range(n_m):
            f = basis_f[t, a]
            for j in range(n_max):
                f[j] = exp_nb(ms[a] * lx[j])
        c0 = basis_c0[t]
        s0 = basis_s0[t]
        rc = basis_rc[t]
        rs = basis_rs[t]
        for j in range(n_max):
            s0[j], c0[j] = sincos_nb(om0 * lx[j])
        for j in range(n_max):
            rs[j], rc[j] = sincos_nb(dom * lx[j])
        for j in range(n_max):
            cs[j] = c0[j]
            sn[j] = s0[j]
        for o in range(n_om):
            for a in range(n_m):
                f = basis_f[t, a]
                for j in range(n_max):
                    g[j] = f[j] * cs[j]
                    h[j] = f[j] * sn[j]
                for k in range(10):
                    S[k] = 0.0
                start = 0
                for w in range(n_win):
                    stop = lengths[w]
                    add_design_sums_nb(f, g, h, start, stop, S)
                    start = stop
                    if _tau_in_window(tau, stop, tc_lo, tc_hi) and chol4_nb(S, C):
                        for k in range(13):
                            factors[t, o, a, w, k] = C[k]
                    else:
                        factors[t, o, a, w, 0] = np.nan
            for j in range(n_max):
                c = cs[j]
                s = sn[j]
                cs[j] = c * rc[j] - s * rs[j]
                sn[j] = s * rc[j] + c * rs[j]


@njit(cache=True, fastmath=_GRID_FASTMATH)
def scan_grid_nb(yrev, n_avail, lengths, basis_f, basis_c0, basis_s0, basis_rc, basis_rs, factors, grid, yf, cs, sn, wsums):
    """SSR of every grid point for every window length ending at one bar; +inf where the plan has no factor.

    The plan (:func:`grid_plan_nb`) holds everything but the prices, so a
    grid point costs two multiply-adds per bar: Σ y f cos and Σ y f sin (ω
    runs over ``om0 + k dom`` by rotating cos/sin with the angle-addition
    formulas).  ``grid`` has shape (n_windows, n_tau, n_m, n_om); windows
    longer than ``n_avail`` stay +inf.  ``yf`` (n_m, n_max), ``cs``, ``sn``
    (n_max) and ``wsums`` (3 + n_m, n_windows) are scratch.
    """
    n_win, n_tau, n_m, n_om = grid.shape
    for w in range(n_win):
        for t in range(n_tau):
            for a in range(n_m):
                for o in range(n_om):
                    grid[w, t, a, o] = np.inf
    top = 0
    while top < n_win and lengths[top] <= n_avail:
        top += 1
    if top == 0:
        return
    n_max = lengths[top - 1]
    # Σy and Σyy of each window (rows 0, 1 of wsums)
    sy = 0.0
    syy = 0.0
    start = 0
    for w in range(top):
        for j in range(start, lengths[w]):
            sy += yrev[j]
            syy += yrev[j] * yrev[j]
        wsums[0, w] = sy
        wsums[1, w] = syy
        start = lengths[w]
    for t in range(n_tau):
        usable = False
        for o in range(n_om):
            for a in range(n_m):
                for w in range(top):
                    if not np.isnan(factors[t, o, a, w, 0]):
                        usable = True
        if not usable:
            continue
        # y f and Σ y f of each window (rows 2.. of wsums): the same for every ω
        for a in range(n_m):
            s = 0.0
            start = 0
            for w in range(top):
                for j in range(start, lengths[w]):
                    v = yrev[j] * basis_f[t, a, j]
                    yf[a, j] = v
                    s += v
                wsums[2 + a, w] = s
                start = lengths[w]
        for j in range(n_max):
            cs[j] = basis_c0[t, j]
            sn[j] = basis_s0[t, j]
        for o in range(n_om):
            # three m values per pass share the loads of cos and sin (a short last group repeats its last m)
            for a0 in range(0, n_m, 3):
                yf0 = yf[a0]
                yf1 = yf[min(a0 + 1, n_m - 1)]
                yf2 = yf[min(a0 + 2, n_m - 1)]
                g0 = 0.0
                h0 = 0.0
                g1 = 0.0
                h1 = 0.0
                g2 = 0.0
                h2 = 0.0
                start = 0
                for w in range(top):
                    stop = lengths[w]
                    dg0 = 0.0
                    dh0 = 0.0
                    dg1 = 0.0
                    dh1 = 0.0
                    dg2 = 0.0
                    dh2 = 0.0
                    for j in range(start, stop):
                        c = cs[j]
                        s = sn[j]
                        dg0 += yf0[j] * c
                        dh0 += yf0[j] * s
                        dg1 += yf1[j] * c
                        dh1 += yf1[j] * s
                        dg2 += yf2[j] * c
                        dh2 += yf2[j] * s
                    g0 += dg0
                    h0 += dh0
                    g1 += dg1
                    h1 += dh1
                    g2 += dg2
                    h2 += dh2
                    start = stop
                    for k in range(min(3, n_m - a0)):
                        a = a0 + k
                        C = factors[t, o, a, w]
                        if np.isnan(C[0]):
                            continue
                        syg = g0 if k == 0 else (g1 if k == 1 else g2)
                        syh = h0 if k == 0 else (h1 if k == 1 else h2)
                        z0, z1, z2, z3 = forward4_nb(C, wsums[0, w], wsums[2 + a, w], syg, syh)
                        ssr = wsums[1, w] - (z0 * z0 + z1 * z1 + z2 * z2 + z3 * z3)
                        grid[w, t, a, o] = ssr if ssr > 0.0 else 0.0
            for j in range(n_max):
                c = cs[j]
                s = sn[j]
                cs[j] = c * basis_rc[t, j] - s * basis_rs[t, j]
                sn[j] = s * basis_rc[t, j] + c * basis_rs[t, j]


@njit(cache=True)
def grid_minima_nb(cube, k, out_idx, out_ssr):
    """The ``k`` lowest local minima of ``cube`` (n_tau, n_m, n_om) over its 6 face neighbours.

    Writes flat indices into ``out_idx`` (-1 for unused slots) sorted by SSR
    ascending; ties go to the smaller flat index.  Returns how many were found.
    """
    n_tau, n_m, n_om = cube.shape
    for q in range(k):
        out_idx[q] = -1
        out_ssr[q] = np.inf
    found = 0
    for t in range(n_tau):
        for a in range(n_m):
            for o in range(n_om):
                v = cube[t, a, o]
                if not np.isfinite(v):
                    continue
                if t > 0 and cube[t - 1, a, o] < v:
                    continue
                if t + 1 < n_tau and cube[t + 1, a, o] < v:
                    continue
                if a > 0 and cube[t, a - 1, o] < v:
                    continue
                if a + 1 < n_m and cube[t, a + 1, o] < v:
                    continue
                if o > 0 and cube[t, a, o - 1] < v:
                    continue
                if o + 1 < n_om and cube[t, a, o + 1] < v:
                    continue
                if found == k and not v < out_ssr[k - 1]:
                    continue
                # insert, keeping the list sorted
                pos = found if found < k else k - 1
                while pos > 0 and out_ssr[pos - 1] > v:
                    if pos < k:
                        out_ssr[pos] = out_ssr[pos - 1]
                        out_idx[pos] = out_idx[pos - 1]
                    pos -= 1
                out_ssr[pos] = v
                out_idx[pos] = (t * n_m + a) * n_om + o
                if found < k:
                    found += 1
    return found


# ---- seeded random starts -------------------------------------------------------------------


@njit(cache=True)
def splitmix64_nb(state):
    """One step of splitmix64: (new state, 64-bit output) as uint64."""
    state = np.uint64(np.uint64(state) + np.uint64(0x9E3779B97F4A7C15))
    z = state
    z = np.uint64((z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9))
    z = np.uint64((z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB))
    z = np.uint64(z ^ (z >> np.uint64(31)))
    return state, z


@njit(cache=True)
def uniform01_nb(state):
    """(new state, a float in [0, 1)) from the top 53 bits of splitmix64."""
    state, z = splitmix64_nb(state)
    return state, np.float64(z >> np.uint64(11)) * (1.0 / 9007199254740992.0)


# ---- fits ---------------------------------------------------------------------------------------


#: Search effort, an int64 array passed to the fit kernels: the number of
#: grid minima refined, of seeded random starts, the iterations each start
#: gets before the best one is refined to convergence, that refinement's
#: iteration cap, the seed, and whether a nested window also starts from the
#: fit of the next shorter window ending on the same bar (1) or not (0).
E_GRID_STARTS = 0
E_RANDOM_STARTS = 1
E_EXPLORE_ITER = 2
E_MAX_ITER = 3
E_SEED = 4
E_WARM_START = 5
N_EFFORT = 6


@njit(cache=True)
def fit_end_nb(y, end, lengths, taus, ms, om0, dom, n_om, bounds, effort, plan, out):
    """Fit every window ``lengths[w]`` ending at bar ``end`` of the log prices ``y``; records into ``out[w]``.

    ``bounds`` = (tc_lo, tc_hi, m_lo, m_hi, om_lo, om_hi) with tc as
    fractions of dt; ``effort`` as the ``E_*`` fields; ``plan`` from
    :func:`make_plan_nb`.  Per window: every start (the grid's best local
    minima, the seeded random points and, with warm starts, the previous
    window's fit) gets ``E_EXPLORE_ITER`` Levenberg–Marquardt iterations;
    the best is then refined to convergence (at most ``E_MAX_ITER``
    iterations).  Windows longer than the NaN-free history ending at
    ``end`` are all NaN.
    """
    n_win = lengths.shape[0]
    for w in range(n_win):
        for q in range(N_FIELDS):
            out[w, q] = np.nan
    if end < 0 or end >= y.shape[0] or n_win == 0:
        return
    n_starts = effort[E_GRID_STARTS]
    n_random = effort[E_RANDOM_STARTS]
    explore_iter = effort[E_EXPLORE_ITER]
    max_iter = effort[E_MAX_ITER]
    warm = effort[E_WARM_START] != 0
    n_max = lengths[n_win - 1]
    # the NaN-free history ending at `end`, newest first, centred on y[end]
    n_avail = 0
    ref = y[end]
    if not np.isfinite(ref):
        return
    yrev = np.empty(n_max)
    while n_avail < n_max and end - n_avail >= 0 and np.isfinite(y[end - n_avail]):
        yrev[n_avail] = y[end - n_avail] - ref
        n_avail += 1
    if n_avail < lengths[0]:
        return
    n_tau = taus.shape[0]
    n_m = ms.shape[0]
    grid = np.empty((n_win, n_tau, n_m, n_om))
    if n_starts > 0:
        basis_f, basis_c0, basis_s0, basis_rc, basis_rs, factors = plan
        scan_grid_nb(
            yrev, n_avail, lengths, basis_f, basis_c0, basis_s0, basis_rc, basis_rs, factors, grid,
            np.empty((n_m, n_avail)), np.empty(n_avail), np.empty(n_avail), np.empty((3 + n_m, n_win)),
        )
    # refinement scratch
    S = np.empty(15)
    C = np.empty(13)
    X = np.empty((5, n_avail))
    X2 = np.empty((5, n_avail))
    S2 = np.empty(15)
    C2 = np.empty(13)
    beta = np.empty(4)
    beta2 = np.empty(4)
    H = np.empty((3, 3))
    A = np.empty((3, 3))
    G = np.empty(3)
    step = np.empty(3)
    theta = np.empty(3)
    best_theta = np.empty(3)
    previous = np.empty(3)
    have_previous = False
    lo = np.empty(3)
    hi = np.empty(3)
    k = max(n_starts, 1)
    idx = np.empty(k, dtype=np.int64)
    idx_ssr = np.empty(k)
    for w in range(n_win):
        n = lengths[w]
        if n > n_avail:
            continue
        dt = n - 1.0
        lo[0] = bounds[0] * dt
        hi[0] = bounds[1] * dt
        lo[1] = bounds[2]
        hi[1] = bounds[3]
        lo[2] = bounds[4]
        hi[2] = bounds[5]
        best = np.inf
        found = grid_minima_nb(grid[w], k, idx, idx_ssr) if n_starts > 0 else 0
        state = np.uint64(np.uint64(effort[E_SEED]) * np.uint64(0x9E3779B97F4A7C15))
        state = np.uint64(state ^ np.uint64(np.uint64(end) * np.uint64(0xD1B54A32D192ED03)))
        state = np.uint64(state ^ np.uint64(np.uint64(n) * np.uint64(0x8CB92BA72F3D8DD7)))
        n_warm = 1 if warm and have_previous else 0
        for q in range(found + n_random + n_warm):
            if q < found:
                flat = idx[q]
                o = flat % n_om
                a = (flat // n_om) % n_m
                t = flat // (n_om * n_m)
                theta[0] = taus[t]
                theta[1] = ms[a]
                theta[2] = om0 + o * dom
            elif q < found + n_random:
                for p in range(3):
                    state, u = uniform01_nb(state)
                    theta[p] = lo[p] + u * (hi[p] - lo[p])
            else:  # tau is relative to the shared last bar, so the shorter window's fit is a point of this search
                for p in range(3):
                    theta[p] = previous[p]
            ssr = refine_nb(yrev, n, theta, lo, hi, explore_iter, S, C, beta, X, S2, C2, beta2, X2, H, G, A, step)
            if ssr < best:
                best = ssr
                for p in range(3):
                    best_theta[p] = theta[p]
        if not np.isfinite(best):
            continue
        # the best start goes on to convergence; X, beta and theta then describe the fit
        for p in range(3):
            theta[p] = best_theta[p]
        best = refine_nb(yrev, n, theta, lo, hi, max_iter, S, C, beta, X, S2, C2, beta2, X2, H, G, A, step)
        for p in range(3):
            previous[p] = theta[p]
        have_previous = True
        rel = 0.0
        for j in range(n):
            fit = beta[0] + beta[1] * X[2, j] + beta[2] * X[3, j] + beta[3] * X[4, j]
            rel += abs(np.exp(yrev[j] - fit) - 1.0)
        out[w, F_TC] = theta[0]
        out[w, F_M] = theta[1]
        out[w, F_OMEGA] = theta[2]
        out[w, F_A] = beta[0] + ref
        out[w, F_B] = beta[1]
        out[w, F_C1] = beta[2]
        out[w, F_C2] = beta[3]
        out[w, F_SSR] = best
        out[w, F_REL_ERR] = rel / n
        out[w, F_N] = n


@njit(cache=True)
def make_plan_nb(lengths, taus, ms, om0, dom, n_om, bounds, n_starts):
    """The grid plan (:func:`grid_plan_nb`) as a tuple, empty arrays when the grid is not used."""
    n_tau = taus.shape[0]
    n_m = ms.shape[0]
    n_max = lengths[lengths.shape[0] - 1] if n_starts > 0 else 0
    n_win = lengths.shape[0] if n_starts > 0 else 0
    plan = (
        np.empty((n_tau, n_m, n_max)),
        np.empty((n_tau, n_max)),
        np.empty((n_tau, n_max)),
        np.empty((n_tau, n_max)),
        np.empty((n_tau, n_max)),
        np.empty((n_tau, n_om, n_m, n_win, 13)),
    )
    if n_starts > 0:
        grid_plan_nb(lengths, taus, ms, om0, dom, n_om, bounds[0], bounds[1], *plan)
    return plan


@njit(cache=True, parallel=True)
def nested_fits_nb(y, ends, lengths, taus, ms, om0, dom, n_om, bounds, effort, out):
    """:func:`fit_end_nb` for every bar of ``ends`` in parallel; ``out`` has shape (n_ends, n_windows, N_FIELDS)."""
    plan = make_plan_nb(lengths, taus, ms, om0, dom, n_om, bounds, effort[E_GRID_STARTS])
    for e in prange(ends.shape[0]):
        fit_end_nb(y, ends[e], lengths, taus, ms, om0, dom, n_om, bounds, effort, plan, out[e])
