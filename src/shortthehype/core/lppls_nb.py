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
  minus ``yrev[0]``'s value: centring makes the sums small, so the sum of
  squared residuals ``SSR = y'y - r'M^-1 r`` loses no precision.
* The linear parameters (A, B, C1, C2) solve the 4x4 normal equations
  ``M beta = r`` by a Jacobi-scaled, unrolled Cholesky (no allocation): the
  scaling makes the solve indifferent to the units of x.  A pivot below
  ``PIVOT_TOL`` (the columns 1, f, g, h nearly dependent) makes the point
  infeasible: SSR = +inf.
* A search is bounded: ``tau`` in ``[tc_lo, tc_hi] x dt`` (dt = window
  length - 1 bars), ``m`` in ``[m_lo, m_hi]``, ``ω`` in ``[om_lo, om_hi]``.
  It is a grid over (tau, m, ω) — evaluated for every nested window ending
  at the same bar in one pass, sums accumulated newest bar first and read at
  each window length — then a Levenberg–Marquardt refinement (variable
  projection, Kaufman's Jacobian, steps projected onto the bounds) from the
  ``n_starts`` best local minima of the grid and from ``n_random`` seeded
  uniform random starts; the best refined point is refined once more (a
  start stopped by ``max_iter`` in a sloppy valley goes on) and wins.  Everything is
  deterministic: the random starts come from a splitmix64 stream seeded by
  (seed, end bar, window length), whatever the thread scheduling.
* A fit record (one row of ``out``) holds the fields ``F_*`` below; tau in
  bars after t2, the linear parameters in the units above (A in log price,
  B, C1, C2 per bar^m), ``F_REL_ERR`` = mean |p - p_fit| / p_fit over the
  window, ``F_N`` = the window's bar count.  A window that cannot be fitted
  (not enough history, a NaN in it) is all NaN.

Round-off: the grid sums use fastmath (re-association, so the compiler
vectorises them) and only rank grid points; every reported SSR comes from
the exact (non-fastmath) evaluation.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

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
#: Levenberg–Marquardt: first damping, its bounds and factors, relative SSR
#: decrease and step size (fraction of the box) that count as converged.
LM_LAMBDA0 = 1.0e-3
LM_LAMBDA_MIN = 1.0e-12
LM_LAMBDA_MAX = 1.0e12
LM_UP = 4.0
LM_DOWN = 3.0
LM_RTOL = 1.0e-10
LM_STEP_TOL = 1.0e-11

_GRID_FASTMATH = {"reassoc", "contract", "nsz", "arcp", "afn"}


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


@njit(cache=True)
def eval_store_nb(yrev, n, tau, m, omega, S, C, beta, X):
    """SSR of the window ``yrev[:n]`` at (tau, m, ω) with the linear parameters in ``beta``.

    Stores x, ln x, f = x^m, g = f cos(ω ln x), h = f sin(ω ln x) in rows 0-4
    of ``X`` (for :func:`lm_system_nb`) and the normal-equation sums in ``S``.
    Two passes: the transcendental calls first, the sums after (accumulators
    kept live across libm calls would be spilled to memory on every call).
    """
    for j in range(n):
        x = abs(tau + j) + EPS
        lx = np.log(x)
        f = np.exp(m * lx)
        X[0, j] = x
        X[1, j] = lx
        X[2, j] = f
        X[3, j] = f * np.cos(omega * lx)
        X[4, j] = f * np.sin(omega * lx)
    sf = 0.0
    sg = 0.0
    sh = 0.0
    sff = 0.0
    sfg = 0.0
    sfh = 0.0
    sgg = 0.0
    sgh = 0.0
    shh = 0.0
    sy = 0.0
    syf = 0.0
    syg = 0.0
    syh = 0.0
    syy = 0.0
    for j in range(n):
        f = X[2, j]
        g = X[3, j]
        h = X[4, j]
        y = yrev[j]
        sf += f
        sg += g
        sh += h
        sff += f * f
        sfg += f * g
        sfh += f * h
        sgg += g * g
        sgh += g * h
        shh += h * h
        sy += y
        syf += y * f
        syg += y * g
        syh += y * h
        syy += y * y
    S[0] = float(n)
    S[1] = sf
    S[2] = sg
    S[3] = sh
    S[4] = sff
    S[5] = sfg
    S[6] = sfh
    S[7] = sgg
    S[8] = sgh
    S[9] = shh
    S[10] = sy
    S[11] = syf
    S[12] = syg
    S[13] = syh
    S[14] = syy
    return solve4_nb(S, C, beta)


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


@njit(cache=True)
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
            lam *= LM_UP
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
            lam = max(lam / LM_DOWN, LM_LAMBDA_MIN)
            if gain < LM_RTOL:
                break
        else:
            lam *= LM_UP
            if lam > LM_LAMBDA_MAX:
                break
    return ssr


# ---- the grid over nested windows ------------------------------------------------------------


@njit(cache=True, fastmath=_GRID_FASTMATH)
def scan_grid_nb(yrev, n_avail, lengths, taus, ms, om0, dom, n_om, tc_lo, tc_hi, grid, F, CS, SN, RC, RS, S, C):
    """SSR of every grid point (tau, m, ω) for every window length; +inf where tau is outside the window's bounds.

    ``grid`` has shape (n_windows, n_tau, n_m, n_om); windows longer than
    ``n_avail`` are left untouched (the caller skips them).  ``F`` (n_m x
    n_avail), ``CS``, ``SN``, ``RC``, ``RS`` (n_avail) are scratch.  ω runs
    over ``om0 + k dom`` by rotating cos/sin with the angle-addition formulas.
    """
    n_win = lengths.shape[0]
    n_tau = taus.shape[0]
    n_m = ms.shape[0]
    for w in range(n_win):
        for t in range(n_tau):
            for a in range(n_m):
                for o in range(n_om):
                    grid[w, t, a, o] = np.inf
    # windows that fit and their shared bounds
    top = 0
    while top < n_win and lengths[top] <= n_avail:
        top += 1
    if top == 0:
        return
    n_max = lengths[top - 1]
    # y sums at each window length
    for t in range(n_tau):
        tau = taus[t]
        feasible = False
        for w in range(top):
            dt = lengths[w] - 1.0
            if tc_lo * dt <= tau <= tc_hi * dt:
                feasible = True
        if not feasible:
            continue
        for j in range(n_max):
            lx = np.log(abs(tau + j) + EPS)
            for a in range(n_m):
                F[a, j] = np.exp(ms[a] * lx)
            CS[j] = np.cos(om0 * lx)
            SN[j] = np.sin(om0 * lx)
            RC[j] = np.cos(dom * lx)
            RS[j] = np.sin(dom * lx)
        for o in range(n_om):
            for a in range(n_m):
                s1 = 0.0
                sf = 0.0
                sg = 0.0
                sh = 0.0
                sff = 0.0
                sfg = 0.0
                sfh = 0.0
                sgg = 0.0
                sgh = 0.0
                shh = 0.0
                sy = 0.0
                syf = 0.0
                syg = 0.0
                syh = 0.0
                syy = 0.0
                start = 0
                for w in range(top):
                    stop = lengths[w]
                    a1 = 0.0
                    af = 0.0
                    ag = 0.0
                    ah = 0.0
                    aff = 0.0
                    afg = 0.0
                    afh = 0.0
                    agg = 0.0
                    agh = 0.0
                    ahh = 0.0
                    ay = 0.0
                    ayf = 0.0
                    ayg = 0.0
                    ayh = 0.0
                    ayy = 0.0
                    for j in range(start, stop):
                        f = F[a, j]
                        g = f * CS[j]
                        h = f * SN[j]
                        y = yrev[j]
                        a1 += 1.0
                        af += f
                        ag += g
                        ah += h
                        aff += f * f
                        afg += f * g
                        afh += f * h
                        agg += g * g
                        agh += g * h
                        ahh += h * h
                        ay += y
                        ayf += y * f
                        ayg += y * g
                        ayh += y * h
                        ayy += y * y
                    s1 += a1
                    sf += af
                    sg += ag
                    sh += ah
                    sff += aff
                    sfg += afg
                    sfh += afh
                    sgg += agg
                    sgh += agh
                    shh += ahh
                    sy += ay
                    syf += ayf
                    syg += ayg
                    syh += ayh
                    syy += ayy
                    start = stop
                    dt = stop - 1.0
                    if not (tc_lo * dt <= tau <= tc_hi * dt):
                        continue
                    S[0] = s1
                    S[1] = sf
                    S[2] = sg
                    S[3] = sh
                    S[4] = sff
                    S[5] = sfg
                    S[6] = sfh
                    S[7] = sgg
                    S[8] = sgh
                    S[9] = shh
                    S[10] = sy
                    S[11] = syf
                    S[12] = syg
                    S[13] = syh
                    S[14] = syy
                    if chol4_nb(S, C):
                        z0, z1, z2, z3 = forward4_nb(C, sy, syf, syg, syh)
                        ssr = syy - (z0 * z0 + z1 * z1 + z2 * z2 + z3 * z3)
                        grid[w, t, a, o] = ssr if ssr > 0.0 else 0.0
            # next ω: rotate (cos, sin) by dom * ln x
            for j in range(n_max):
                c = CS[j]
                s = SN[j]
                CS[j] = c * RC[j] - s * RS[j]
                SN[j] = s * RC[j] + c * RS[j]


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


@njit(cache=True)
def fit_end_nb(y, end, lengths, taus, ms, om0, dom, n_om, bounds, n_starts, n_random, max_iter, seed, out):
    """Fit every window ``lengths[w]`` ending at bar ``end`` of the log prices ``y``; records into ``out[w]``.

    ``bounds`` = (tc_lo, tc_hi, m_lo, m_hi, om_lo, om_hi) with tc as
    fractions of dt.  Windows longer than the NaN-free history ending at
    ``end`` are all NaN.
    """
    n_win = lengths.shape[0]
    for w in range(n_win):
        for q in range(N_FIELDS):
            out[w, q] = np.nan
    if end < 0 or end >= y.shape[0] or n_win == 0:
        return
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
    F = np.empty((n_m, n_avail))
    CS = np.empty(n_avail)
    SN = np.empty(n_avail)
    RC = np.empty(n_avail)
    RS = np.empty(n_avail)
    S = np.empty(15)
    C = np.empty(13)
    scan_grid_nb(yrev, n_avail, lengths, taus, ms, om0, dom, n_om, bounds[0], bounds[1], grid, F, CS, SN, RC, RS, S, C)
    # refinement scratch
    X = np.empty((5, n_avail))
    X2 = np.empty((5, n_avail))
    S2 = np.empty(15)
    C2 = np.empty(13)
    beta = np.empty(4)
    beta2 = np.empty(4)
    best_beta = np.empty(4)
    H = np.empty((3, 3))
    A = np.empty((3, 3))
    G = np.empty(3)
    step = np.empty(3)
    theta = np.empty(3)
    best_theta = np.empty(3)
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
        state = np.uint64(np.uint64(seed) * np.uint64(0x9E3779B97F4A7C15))
        state = np.uint64(state ^ np.uint64(np.uint64(end) * np.uint64(0xD1B54A32D192ED03)))
        state = np.uint64(state ^ np.uint64(np.uint64(n) * np.uint64(0x8CB92BA72F3D8DD7)))
        for q in range(found + n_random):
            if q < found:
                flat = idx[q]
                o = flat % n_om
                a = (flat // n_om) % n_m
                t = flat // (n_om * n_m)
                theta[0] = taus[t]
                theta[1] = ms[a]
                theta[2] = om0 + o * dom
            else:
                for p in range(3):
                    state, u = uniform01_nb(state)
                    theta[p] = lo[p] + u * (hi[p] - lo[p])
            ssr = refine_nb(yrev, n, theta, lo, hi, max_iter, S, C, beta, X, S2, C2, beta2, X2, H, G, A, step)
            if ssr < best:
                best = ssr
                for p in range(3):
                    best_theta[p] = theta[p]
                for p in range(4):
                    best_beta[p] = beta[p]
        if not np.isfinite(best):
            continue
        # polish the winner: a start stopped by max_iter in a sloppy valley goes on from where it was
        for p in range(3):
            theta[p] = best_theta[p]
        ssr = refine_nb(yrev, n, theta, lo, hi, max_iter, S, C, beta, X, S2, C2, beta2, X2, H, G, A, step)
        if ssr < best:
            best = ssr
            for p in range(3):
                best_theta[p] = theta[p]
            for p in range(4):
                best_beta[p] = beta[p]
        # relative error of the price fit
        tau = best_theta[0]
        m = best_theta[1]
        om = best_theta[2]
        rel = 0.0
        for j in range(n):
            x = abs(tau + j) + EPS
            lx = np.log(x)
            fx = np.exp(m * lx)
            fit = best_beta[0] + fx * (best_beta[1] + best_beta[2] * np.cos(om * lx) + best_beta[3] * np.sin(om * lx))
            rel += abs(np.exp(yrev[j] - fit) - 1.0)
        out[w, F_TC] = tau
        out[w, F_M] = m
        out[w, F_OMEGA] = om
        out[w, F_A] = best_beta[0] + ref
        out[w, F_B] = best_beta[1]
        out[w, F_C1] = best_beta[2]
        out[w, F_C2] = best_beta[3]
        out[w, F_SSR] = best
        out[w, F_REL_ERR] = rel / n
        out[w, F_N] = n


@njit(cache=True, parallel=True)
def nested_fits_nb(y, ends, lengths, taus, ms, om0, dom, n_om, bounds, n_starts, n_random, max_iter, seed, out):
    """:func:`fit_end_nb` for every bar of ``ends`` in parallel; ``out`` has shape (n_ends, n_windows, N_FIELDS)."""
    for e in prange(ends.shape[0]):
        fit_end_nb(y, ends[e], lengths, taus, ms, om0, dom, n_om, bounds, n_starts, n_random, max_iter, seed, out[e])
