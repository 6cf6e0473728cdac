"""Bubble detection with the LPPLS model and the Sornette confidence indicator.

The log-periodic power law singularity model (Johansen, Ledoit & Sornette)
describes a bubble as faster-than-exponential growth toward a critical time
tc, decorated by accelerating oscillations::

    ln p(t) = A + B x^m + C1 x^m cos(ω ln x) + C2 x^m sin(ω ln x),   x = |tc − t|

B < 0 is a (positive) **bubble**, B > 0 an **anti-bubble** (an accelerating
fall).  A fit on a window ``[t1, t2]`` follows Filimonov & Sornette (2013):
A, B, C1, C2 by least squares for each (tc, m, ω), and (tc, m, ω) by a
bounded search (a coarse grid, then Levenberg–Marquardt from the best local
minima of the grid, optionally seeded random starts and, for nested
windows, the fit of the next shorter window; see :class:`LPPLSSearch` and
:mod:`shortthehype.core.lppls_nb`).  The objective is the sum of squared
residuals of ln p.  Everything is deterministic.

The **confidence indicator** on a date t2 (Sornette et al. 2015, "DS LPPLS
confidence") fits nested windows ending at t2 (by default 125, 150, ...,
750 bars) and reports the fraction of them whose fit is a *qualified*
bubble (B < 0 and every filter of :class:`LPPLSFilters` holds); the
anti-bubble indicator is the same with B > 0.  The filters are applied
after fitting, so changing them refits nothing (:func:`qualify`).

Conventions and caveats:

* Time is counted in **bars** (trading days of the series), not calendar
  days; ``tc`` is reported in bars after t2 and as an approximate date
  (t2 plus that many business days).
* A series is the closes of one ticker with missing values dropped (gaps
  are skipped, not filled), or the AI basket index (:func:`bubble_series`).
* The fit on t2 uses the closes up to t2 only: computing the indicator
  over a history never looks ahead.
* Windows longer than the history before t2 are skipped; the indicator is a
  fraction of the windows actually fitted (``n_fits``), NaN when none fit.
* The ``lppls`` package normalises its indicator by the number of fits of
  the same sign (qualified bubbles / fits with B < 0); here the
  denominator is all fitted windows, as in Sornette et al. (2015).
"""

from __future__ import annotations

import hashlib
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from shortthehype.baskets import AI_BASKET, basket_index
from shortthehype.constants import (
    BUBBLE_AI_BASKET,
    LPPLS_FILTER_DAMPING,
    LPPLS_FILTER_M,
    LPPLS_FILTER_OMEGA,
    LPPLS_FILTER_OSCILLATIONS,
    LPPLS_FILTER_REL_ERR,
    LPPLS_FILTER_TC,
    LPPLS_GRID_M_POINTS,
    LPPLS_GRID_OMEGA_STEP,
    LPPLS_GRID_STARTS,
    LPPLS_GRID_TC_FIRST,
    LPPLS_GRID_TC_RATIO,
    LPPLS_DISK_CACHE_BYTES,
    LPPLS_DISK_CACHE_FILES,
    LPPLS_DISK_CACHE_MIN_FITS,
    LPPLS_EXPLORE_ITER,
    LPPLS_MAX_ITER,
    LPPLS_MIN_BARS,
    LPPLS_RANDOM_STARTS,
    LPPLS_SEARCH_M,
    LPPLS_SEARCH_M_LIMIT,
    LPPLS_SEARCH_OMEGA,
    LPPLS_SEARCH_OMEGA_LIMIT,
    LPPLS_SEARCH_TC,
    LPPLS_SEED,
    LPPLS_WINDOW_MAX,
    LPPLS_WINDOW_MIN,
    LPPLS_WARM_START,
    LPPLS_WINDOW_STEP,
)
from shortthehype.data.prices import Prices
from shortthehype.errors import DataError, ParamError, ShortTheHypeError

__all__ = [
    "FILTER_CONDITIONS",
    "FILTER_PRESETS",
    "FIT_FIELDS",
    "FilterPreset",
    "LPPLSFilters",
    "LPPLSFit",
    "LPPLSSearch",
    "NestedFits",
    "basket_members",
    "bubble_series",
    "bubble_tickers",
    "confidence_from_fits",
    "confidence_indicator",
    "evaluation_positions",
    "filter_masks",
    "fit_lppls",
    "lppls_windows",
    "nested_fits",
    "qualification_counts",
    "qualify",
]

#: Columns of a fit record (the kernel's ``F_*`` fields, in order).
FIT_FIELDS = ("tc", "m", "omega", "a", "b", "c1", "c2", "ssr", "rel_err", "n")


def _check_range(name: str, bounds: Sequence[float], *, low: float | None = None, high: float | None = None) -> None:
    try:
        lo, hi = (float(v) for v in bounds)
    except (TypeError, ValueError):
        raise ParamError(f"parameter {name!r} must be a pair (low, high) of numbers, got {bounds!r}") from None
    if not (math.isfinite(lo) and math.isfinite(hi)) or lo > hi:
        raise ParamError(f"parameter {name!r} must be a finite range with low <= high, got ({lo:g}, {hi:g})")
    if low is not None and lo < low:
        raise ParamError(f"parameter {name!r}: low end {lo:g} is below {low:g}")
    if high is not None and hi > high:
        raise ParamError(f"parameter {name!r}: high end {hi:g} is above {high:g}")


@dataclass(frozen=True)
class LPPLSSearch:
    """Bounds and effort of the search over (tc, m, ω); defaults in :mod:`shortthehype.constants`.

    ``tc`` is relative to the window end as a fraction of dt = window length
    − 1 bars (``(-0.2, 0.2)``: tc within t2 ± 0.2·dt).  ``grid_starts`` local
    minima of the coarse grid, ``random_starts`` uniform points drawn from
    ``seed`` and, with ``warm_start``, the fit of the next shorter nested
    window ending on the same bar each get ``explore_iter`` Levenberg–Marquardt
    iterations; the best of them is refined to convergence (at most
    ``max_iter`` iterations) and is the fit.  ``warm_start`` only matters
    for nested windows: a single window has no shorter neighbour.
    """

    tc: tuple[float, float] = LPPLS_SEARCH_TC
    m: tuple[float, float] = LPPLS_SEARCH_M
    omega: tuple[float, float] = LPPLS_SEARCH_OMEGA
    grid_starts: int = LPPLS_GRID_STARTS
    random_starts: int = LPPLS_RANDOM_STARTS
    seed: int = LPPLS_SEED
    explore_iter: int = LPPLS_EXPLORE_ITER
    max_iter: int = LPPLS_MAX_ITER
    warm_start: bool = LPPLS_WARM_START
    tc_first: float = LPPLS_GRID_TC_FIRST
    tc_ratio: float = LPPLS_GRID_TC_RATIO
    m_points: int = LPPLS_GRID_M_POINTS
    omega_step: float = LPPLS_GRID_OMEGA_STEP

    def __post_init__(self) -> None:
        _check_range("tc", self.tc, low=-1.0)
        _check_range("m", self.m, low=0.0, high=LPPLS_SEARCH_M_LIMIT)
        _check_range("omega", self.omega, low=0.0, high=LPPLS_SEARCH_OMEGA_LIMIT)
        if self.m[0] <= 0.0:
            raise ParamError(f"parameter 'm': low end must be > 0 (m = 0 makes B and A indistinguishable), got {self.m[0]:g}")
        for name in ("grid_starts", "random_starts", "explore_iter", "max_iter", "m_points", "seed"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
                raise ParamError(f"parameter {name!r} must be a non-negative integer, got {value!r}")
        if not isinstance(self.warm_start, (bool, np.bool_)):
            raise ParamError(f"parameter 'warm_start' must be true or false, got {self.warm_start!r}")
        if self.grid_starts + self.random_starts < 1:
            raise ParamError("parameters 'grid_starts' + 'random_starts' must be >= 1 (no start, no fit)")
        if self.grid_starts > 0 and self.m_points < 1:
            raise ParamError("parameter 'm_points' must be >= 1 when grid_starts > 0")
        if not (self.tc_first > 0.0 and self.tc_ratio > 1.0 and self.omega_step > 0.0):
            raise ParamError(
                f"grid needs tc_first > 0, tc_ratio > 1 and omega_step > 0, got {self.tc_first:g}, {self.tc_ratio:g}, {self.omega_step:g}"
            )

    def effort(self) -> np.ndarray:
        """The kernel's effort array (fields ``E_*`` of :mod:`shortthehype.core.lppls_nb`)."""
        from shortthehype.core import lppls_nb as nb

        effort = np.zeros(nb.N_EFFORT, dtype=np.int64)
        effort[nb.E_GRID_STARTS] = self.grid_starts
        effort[nb.E_RANDOM_STARTS] = self.random_starts
        effort[nb.E_EXPLORE_ITER] = self.explore_iter
        effort[nb.E_MAX_ITER] = self.max_iter
        effort[nb.E_SEED] = self.seed
        effort[nb.E_WARM_START] = int(self.warm_start)
        return effort

    def kernel_args(self, max_window: int) -> tuple[np.ndarray, np.ndarray, float, float, int, np.ndarray]:
        """(taus, ms, omega0, omega_step, n_omega, bounds) for windows of at most ``max_window`` bars."""
        dt = max_window - 1.0
        taus: list[float] = []
        for side, limit in ((-1.0, -self.tc[0] * dt), (1.0, self.tc[1] * dt)):
            value = self.tc_first
            while value <= limit:
                taus.append(side * value)
                value *= self.tc_ratio
        if not taus:  # a very narrow tc range: one grid point in its middle
            taus.append(0.5 * (self.tc[0] + self.tc[1]) * dt)
        m_lo, m_hi = self.m
        m_points = max(self.m_points, 1)
        ms = m_lo + (np.arange(m_points) + 0.5) * (m_hi - m_lo) / m_points
        om_lo, om_hi = self.omega
        n_omega = max(int(round((om_hi - om_lo) / self.omega_step)), 1)
        om_step = (om_hi - om_lo) / n_omega
        bounds = np.array([self.tc[0], self.tc[1], m_lo, m_hi, om_lo, om_hi], dtype=np.float64)
        return np.array(sorted(taus), dtype=np.float64), ms, om_lo + 0.5 * om_step, om_step, n_omega, bounds


@dataclass(frozen=True)
class LPPLSFilters:
    """Qualification of a fit (every condition must hold); defaults in :mod:`shortthehype.constants`.

    ``tc`` is tc − t2 as a fraction of dt; ``tc_bars`` (optional) also caps
    tc − t2 in bars; ``oscillations_min`` bounds
    ω/(2π)·ln|(tc − t1)/(tc − t2)|; ``damping_min`` bounds m|B|/(ω|C|)
    (C = sqrt(C1² + C2²); C = 0 counts as infinitely damped);
    ``rel_err_max`` bounds the mean |p − p̂|/p̂ over the window (None: no
    such condition).  Named sets from the literature: :data:`FILTER_PRESETS`.
    """

    m: tuple[float, float] = LPPLS_FILTER_M
    omega: tuple[float, float] = LPPLS_FILTER_OMEGA
    tc: tuple[float, float] = LPPLS_FILTER_TC
    oscillations_min: float = LPPLS_FILTER_OSCILLATIONS
    damping_min: float = LPPLS_FILTER_DAMPING
    rel_err_max: float | None = LPPLS_FILTER_REL_ERR
    tc_bars: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        _check_range("m", self.m)
        _check_range("omega", self.omega)
        _check_range("tc", self.tc)
        if self.tc_bars is not None:
            _check_range("tc_bars", self.tc_bars)
        for name in ("oscillations_min", "damping_min", "rel_err_max"):
            value = getattr(self, name)
            if value is None and name == "rel_err_max":
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ParamError(f"filter {name!r} must be a finite number, got {value!r}")


@dataclass(frozen=True)
class FilterPreset:
    """A named set of qualification filters and where it comes from."""

    name: str
    filters: LPPLSFilters
    citation: str


#: Qualification filters from the literature, by name (``bubble --filters NAME``).  Times are in bars.
FILTER_PRESETS: dict[str, FilterPreset] = {
    preset.name: preset
    for preset in (
        FilterPreset(
            "project",
            LPPLSFilters(),
            "this project's default: m and ω ranges of Johansen (2003) and Lin, Ren & Sornette (2014), with the tc, "
            "oscillation, damping and relative-error conditions of Sornette et al. (2015), filter 1",
        ),
        FilterPreset(
            "lppls",
            LPPLSFilters(
                m=(0.0, 1.0), omega=(2.0, 15.0), tc=(-0.5, 0.5), tc_bars=(-60 * 252 / 365.25, 252 * 252 / 365.25),
                oscillations_min=2.5, damping_min=0.5, rel_err_max=None,
            ),
            "defaults of the lppls Python package (Boulder Investment Technologies, 0.6.x, compute_indicators): "
            "0 < m < 1, 2 < ω < 15, max(t2 − 60, t2 − 0.5 dt) < tc < min(t2 + 252, t2 + 0.5 dt) with the package's "
            "calendar-day time converted to bars (× 252/365.25), O > 2.5, D > 0.5, no error condition",
        ),
        FilterPreset(
            "sornette2015",
            LPPLSFilters(m=(0.01, 1.2), omega=(2.0, 25.0), tc=(-0.05, 0.11), oscillations_min=2.5, damping_min=0.8, rel_err_max=0.05),
            "Sornette, Demos, Zhang, Cauwels, Filimonov & Zhang (2015), Real-time prediction and post-mortem analysis of "
            "the Shanghai 2015 stock market bubble and crash, Journal of Investment Strategies 4(4), 77-95, Table 1, "
            "filter condition 1 (tc within 0.95-1.11 window lengths of t1, as in Fantazzini's R package bubble)",
        ),
        FilterPreset(
            "gds2019",
            LPPLSFilters(m=(0.01, 0.99), omega=(2.0, 25.0), tc=(-0.05, 0.1), oscillations_min=2.5, damping_min=0.5, rel_err_max=None),
            "Gerlach, Demos & Sornette (2019), Dissection of Bitcoin's multiscale bubble history from January 2012 to "
            "February 2018, Royal Society Open Science 6: 180643 (filter conditions of a qualified fit); "
            "UNVERIFIED: the values were written from memory of the paper's filter table and not checked against it, "
            "and public implementations citing the paper disagree (docs/distributions.md)",
        ),
    )
}

#: The conditions of :func:`filter_masks`, in the order reports list them.
FILTER_CONDITIONS = ("m", "omega", "tc", "oscillations", "damping", "rel_err")


def lppls_windows(
    minimum: int = LPPLS_WINDOW_MIN, maximum: int = LPPLS_WINDOW_MAX, step: int = LPPLS_WINDOW_STEP
) -> np.ndarray:
    """Window lengths (bars) ``minimum, minimum + step, ..., <= maximum`` as int64.

    Raises ParamError unless ``LPPLS_MIN_BARS <= minimum <= maximum`` and ``step >= 1``.
    """
    for name, value in (("minimum", minimum), ("maximum", maximum), ("step", step)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise ParamError(f"window {name} must be an integer number of bars, got {value!r}")
    if minimum < LPPLS_MIN_BARS:
        raise ParamError(f"smallest window {minimum} bars is below {LPPLS_MIN_BARS} (7 parameters need more data)")
    if maximum < minimum:
        raise ParamError(f"largest window {maximum} bars is smaller than the smallest {minimum}")
    if step < 1:
        raise ParamError(f"window step must be >= 1 bar, got {step}")
    return np.arange(minimum, maximum + 1, step, dtype=np.int64)


def _as_windows(windows: Sequence[int] | np.ndarray | None) -> np.ndarray:
    if windows is None:
        return lppls_windows()
    array = np.asarray(windows)
    if array.ndim != 1 or array.size == 0 or not np.issubdtype(array.dtype, np.integer):
        raise ParamError(f"windows must be a non-empty list of integer bar counts, got {windows!r}")
    array = np.unique(array.astype(np.int64))
    if array[0] < LPPLS_MIN_BARS:
        raise ParamError(f"window of {array[0]} bars is below the minimum {LPPLS_MIN_BARS}")
    return array


def _log_prices(prices: pd.Series | np.ndarray, name: str) -> tuple[np.ndarray, pd.DatetimeIndex | None]:
    if isinstance(prices, pd.Series):
        series = prices.dropna()
        index = pd.DatetimeIndex(series.index) if isinstance(series.index, pd.DatetimeIndex) else None
        values = np.ascontiguousarray(series.to_numpy(dtype=np.float64))
    else:
        values = np.ascontiguousarray(np.asarray(prices, dtype=np.float64))
        if values.ndim != 1:
            raise DataError(f"{name}: expected one series of prices, got an array of shape {values.shape}")
        if not np.isfinite(values).all():
            raise DataError(f"{name}: prices contain NaN or inf (pass a pandas Series to have gaps dropped)")
        index = None
    if values.size and not (values > 0.0).all():
        bad = int(np.flatnonzero(~(values > 0.0))[0])
        where = f"on {index[bad]:%Y-%m-%d}" if index is not None else f"at position {bad}"
        raise DataError(f"{name}: non-positive price {values[bad]:g} {where}; LPPLS fits log prices")
    return np.log(values), index


def _run_kernel(log_prices: np.ndarray, ends: np.ndarray, windows: np.ndarray, search: LPPLSSearch) -> np.ndarray:
    """The fits of every window ending on each bar of ``ends`` (read from disk when this machine made them before)."""
    from shortthehype.core.lppls_nb import N_FIELDS, nested_fits_nb

    shape = (len(ends), len(windows), N_FIELDS)
    kept = len(ends) * len(windows) >= LPPLS_DISK_CACHE_MIN_FITS
    path = _cached_fits_path(log_prices, ends, windows, search) if kept else None
    held = None if path is None else _read_fits(path, shape)
    if held is not None:
        return held
    taus, ms, om0, dom, n_om, bounds = search.kernel_args(int(windows[-1]))
    out = np.empty(shape)
    if len(ends):
        nested_fits_nb(
            log_prices,
            np.ascontiguousarray(ends, dtype=np.int64),
            np.ascontiguousarray(windows, dtype=np.int64),
            taus,
            ms,
            float(om0),
            float(dom),
            int(n_om),
            bounds,
            search.effort(),
            out,
        )
    if path is not None:
        _write_fits(path, out)
    return out


def _cached_fits_path(log_prices: np.ndarray, ends: np.ndarray, windows: np.ndarray, search: LPPLSSearch) -> Path:
    """Where the fits of these inputs are kept: named by a hash of everything they depend on.

    The inputs and the search, the kernels' source (an edited or upgraded kernel fits afresh) and the CPU: fits
    are deterministic on one machine, but another SIMD width may change their last bits.
    """
    import llvmlite.binding as llvm
    import numba

    from shortthehype._numba_setup import kernel_fingerprint
    from shortthehype.data.catalog import resolve_cache_dir

    digest = hashlib.blake2b(digest_size=20)
    for array in (log_prices, ends, windows):
        digest.update(np.ascontiguousarray(array).tobytes())
        digest.update(b"|")
    cpu = (llvm.get_host_cpu_name(), llvm.get_host_cpu_features().flatten())
    machine = (kernel_fingerprint(), numba.__version__, *cpu)
    digest.update(repr((search, machine)).encode())
    return resolve_cache_dir() / "lppls" / f"{digest.hexdigest()}.npy"


def _read_fits(path: Path, shape: tuple[int, ...]) -> np.ndarray | None:
    """The fits kept at ``path`` (marked as just used), or None: absent, unreadable or not of ``shape``."""
    try:
        with open(path, "rb") as handle:
            records = np.load(handle, allow_pickle=False)
    except (OSError, ValueError, EOFError):
        return None
    if records.shape != shape or records.dtype != np.float64:
        return None
    try:
        os.utime(path)
    except OSError:
        pass  # a cache others wrote, read-only to us: still good to read
    return records


def _write_fits(path: Path, records: np.ndarray) -> None:
    """Keep ``records`` at ``path``, and the most recently used files within :data:`LPPLS_DISK_CACHE_FILES` and
    :data:`LPPLS_DISK_CACHE_BYTES` (the newest is always kept); never fails.

    A cache that cannot be written (read-only or full disk) costs the next run its fits, not this one.
    """
    from shortthehype.files import write_atomically

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, lambda handle: np.save(handle, records, allow_pickle=False), option="LPPLS cache")
        files = []
        for held in path.parent.glob("*.npy"):
            state = held.stat()
            files.append((state.st_mtime_ns, state.st_size, held))
        total = 0
        for rank, (_, size, held) in enumerate(sorted(files, reverse=True)):  # the most recently used first
            total += size
            if rank > 0 and (rank >= LPPLS_DISK_CACHE_FILES or total > LPPLS_DISK_CACHE_BYTES):
                held.unlink(missing_ok=True)
    except (OSError, ShortTheHypeError):
        pass


def _date_after(date: pd.Timestamp, bars: float) -> pd.Timestamp | None:
    """``date`` plus ``bars`` business days (fractions rounded to the nearest day); None if not finite."""
    if not math.isfinite(bars):
        return None
    return pd.Timestamp(date) + pd.offsets.BDay(int(round(bars)))


# ---- one window -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LPPLSFit:
    """The best LPPLS fit of one window.

    ``tc`` is in bars after the window's last bar (negative: inside the
    window) and ``tc_date`` that many business days after ``end``.  The
    linear parameters are for x = |tc − t| in bars.  ``ssr`` is the sum of
    squared residuals of ln p; ``rel_err`` the mean |p − p̂|/p̂.
    """

    start: Any
    end: Any
    n: int
    tc: float
    tc_date: pd.Timestamp | None
    m: float
    omega: float
    a: float
    b: float
    c1: float
    c2: float
    ssr: float
    rel_err: float

    @property
    def c(self) -> float:
        """Amplitude of the oscillations, sqrt(C1² + C2²)."""
        return math.hypot(self.c1, self.c2)

    @property
    def damping(self) -> float:
        """m|B| / (ω|C|) (inf when C = 0)."""
        return float(_damping(np.array([self.m]), np.array([self.omega]), np.array([self.b]), np.array([self.c]))[0])

    @property
    def oscillations(self) -> float:
        """ω/(2π) ln|(tc − t1)/(tc − t2)| with t1, t2 the window's first and last bar."""
        return float(_oscillations(np.array([self.tc]), np.array([self.omega]), np.array([self.n - 1.0]))[0])

    @property
    def bubble(self) -> bool:
        """True for a positive bubble (B < 0)."""
        return self.b < 0.0

    def qualified(self, filters: LPPLSFilters | None = None) -> bool:
        """Whether every filter holds (see :class:`LPPLSFilters`)."""
        record = np.array([[self.tc, self.m, self.omega, self.a, self.b, self.c1, self.c2, self.ssr, self.rel_err, self.n]])
        return bool(qualify(record, filters)[0])

    def log_fit(self) -> np.ndarray:
        """The fitted ln p on the window's bars, oldest first."""
        j = np.arange(self.n - 1, -1, -1, dtype=np.float64)  # bars before the end
        from shortthehype.core.lppls_nb import EPS

        x = np.abs(self.tc + j) + EPS
        lx = np.log(x)
        return self.a + x**self.m * (self.b + self.c1 * np.cos(self.omega * lx) + self.c2 * np.sin(self.omega * lx))


def fit_lppls(prices: pd.Series | np.ndarray, *, search: LPPLSSearch | None = None, name: str = "prices") -> LPPLSFit:
    """Fit the LPPLS model to one window of prices (all of ``prices``).

    Parameters
    ----------
    prices
        Positive prices, oldest first: a Series (NaNs dropped; a DatetimeIndex
        gives dates to ``start``, ``end`` and ``tc_date``) or a 1-D array
        (must be finite).
    search
        Search bounds and effort (default :class:`LPPLSSearch`).
    name
        How error messages call the series.

    Returns
    -------
    LPPLSFit
        The best fit found.  Its fields are NaN when no point of the search
        space gives a non-singular least-squares problem (e.g. a constant
        series is fitted exactly with B = C1 = C2 = 0).

    Raises
    ------
    DataError
        Non-positive or (array input) non-finite prices.
    ParamError
        Fewer than ``LPPLS_MIN_BARS`` prices.
    """
    search = search or LPPLSSearch()
    log_prices, index = _log_prices(prices, name)
    n = len(log_prices)
    if n < LPPLS_MIN_BARS:
        raise ParamError(f"{name}: {n} prices; an LPPLS fit needs at least {LPPLS_MIN_BARS}")
    record = _run_kernel(log_prices, np.array([n - 1]), np.array([n], dtype=np.int64), search)[0, 0]
    start = index[0] if index is not None else 0
    end = index[-1] if index is not None else n - 1
    tc_date = _date_after(end, record[0]) if index is not None else None
    values = dict(zip(FIT_FIELDS, (float(v) for v in record)))
    values.pop("n")
    return LPPLSFit(start=start, end=end, n=n, tc_date=tc_date, **values)


# ---- nested windows and the indicator ----------------------------------------------------------


@dataclass(frozen=True)
class NestedFits:
    """Fits of nested windows: ``records[e, w]`` is the fit of ``windows[w]`` bars ending on ``dates[e]``.

    A record's fields are :data:`FIT_FIELDS`; a window longer than the
    history before its end date is all NaN.
    """

    dates: pd.DatetimeIndex
    windows: np.ndarray
    records: np.ndarray
    search: LPPLSSearch = field(default_factory=LPPLSSearch)

    def to_frame(self) -> pd.DataFrame:
        """One row per (date, window) that was fitted, with the fit's fields and its t1/tc dates."""
        e, w = np.nonzero(np.isfinite(self.records[:, :, 0]))
        frame = pd.DataFrame(self.records[e, w], columns=list(FIT_FIELDS))
        frame.insert(0, "window", self.windows[w])
        frame.insert(0, "date", self.dates[e])
        frame["n"] = frame["n"].astype(np.int64)
        frame["tc_date"] = [_date_after(d, t) for d, t in zip(frame["date"], frame["tc"])]
        return frame


def evaluation_positions(n_bars: int, step: int, *, first: int = 0, anchor: str = "end") -> np.ndarray:
    """Bar positions ``first..n_bars-1`` every ``step`` bars.

    ``anchor="end"`` always includes the last bar (the latest value is
    shown); ``anchor="start"`` counts from bar 0 of the series, so the
    positions do not depend on how much data follows (what a backtest needs).
    """
    if isinstance(step, bool) or not isinstance(step, (int, np.integer)) or step < 1:
        raise ParamError(f"parameter 'step' must be an integer >= 1 (bars between evaluations), got {step!r}")
    if n_bars <= first:
        return np.empty(0, dtype=np.int64)
    if anchor == "end":
        return np.arange(n_bars - 1, first - 1, -step, dtype=np.int64)[::-1].copy()
    if anchor == "start":
        begin = first + (-first) % step
        return np.arange(begin, n_bars, step, dtype=np.int64)
    raise ParamError(f"anchor must be 'start' or 'end', got {anchor!r}")


def nested_fits(
    prices: pd.Series,
    *,
    windows: Sequence[int] | np.ndarray | None = None,
    dates: Sequence[Any] | pd.DatetimeIndex | None = None,
    start: Any = None,
    end: Any = None,
    step: int = 1,
    search: LPPLSSearch | None = None,
    name: str | None = None,
) -> NestedFits:
    """Fit every window of ``windows`` ending on each evaluation date.

    Parameters
    ----------
    prices
        Positive closes with a DatetimeIndex, oldest first (NaNs dropped).
    windows
        Window lengths in bars (default :func:`lppls_windows`).
    dates
        Evaluation dates (each must be a date of the series); default: the
        series' dates between ``start`` and ``end`` every ``step`` bars,
        counted back from the last one.
    start, end, step
        The default evaluation dates (history before ``start`` still feeds
        the windows).
    search
        Search bounds and effort.

    Returns
    -------
    NestedFits
        Records per (date, window); the fit on a date uses the closes up to
        that date only.
    """
    label = name or (str(prices.name) if isinstance(prices, pd.Series) and prices.name is not None else "prices")
    if not isinstance(prices, pd.Series) or not isinstance(prices.index, pd.DatetimeIndex):
        raise DataError(f"{label}: nested fits need a pandas Series of prices with a DatetimeIndex")
    search = search or LPPLSSearch()
    window_array = _as_windows(windows)
    log_prices, index = _log_prices(prices, label)
    assert index is not None
    if dates is not None:
        wanted = pd.DatetimeIndex(dates)
        positions = index.get_indexer(wanted)
        if (positions < 0).any():
            missing = wanted[positions < 0][0]
            raise DataError(f"{label}: evaluation date {missing:%Y-%m-%d} is not a date of the series")
    else:
        lo = 0 if start is None else int(index.searchsorted(pd.Timestamp(start), side="left"))
        hi = len(index) if end is None else int(index.searchsorted(pd.Timestamp(end), side="right"))
        positions = evaluation_positions(hi, step, first=lo, anchor="end")
    positions = np.asarray(positions, dtype=np.int64)
    records = _run_kernel(log_prices, positions, window_array, search)
    return NestedFits(dates=index[positions], windows=window_array, records=records, search=search)


def _damping(m: np.ndarray, omega: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(c > 0.0, m * np.abs(b) / (omega * c), np.inf)


def _oscillations(tau: np.ndarray, omega: np.ndarray, dt: np.ndarray) -> np.ndarray:
    from shortthehype.core.lppls_nb import EPS

    with np.errstate(divide="ignore", invalid="ignore"):
        return omega / (2.0 * np.pi) * np.log((np.abs(tau + dt) + EPS) / (np.abs(tau) + EPS))


def filter_masks(records: np.ndarray, filters: LPPLSFilters | None = None) -> dict[str, np.ndarray]:
    """One boolean array per condition of :data:`FILTER_CONDITIONS` (the records' leading shape): the fits that pass it.

    A NaN field fails the conditions that read it.
    """
    filters = filters or LPPLSFilters()
    r = np.asarray(records, dtype=np.float64)
    tau, m, omega, b = r[..., 0], r[..., 1], r[..., 2], r[..., 4]
    c = np.hypot(r[..., 5], r[..., 6])
    dt = r[..., 9] - 1.0
    with np.errstate(invalid="ignore"):
        tc_ok = (filters.tc[0] * dt <= tau) & (tau <= filters.tc[1] * dt)
        if filters.tc_bars is not None:
            tc_ok &= (filters.tc_bars[0] <= tau) & (tau <= filters.tc_bars[1])
        return {
            "m": (filters.m[0] <= m) & (m <= filters.m[1]),
            "omega": (filters.omega[0] <= omega) & (omega <= filters.omega[1]),
            "tc": tc_ok,
            "oscillations": _oscillations(tau, omega, dt) >= filters.oscillations_min,
            "damping": _damping(m, omega, b, c) >= filters.damping_min,
            "rel_err": np.isfinite(r[..., 8]) if filters.rel_err_max is None else r[..., 8] <= filters.rel_err_max,
        }


def qualify(records: np.ndarray, filters: LPPLSFilters | None = None) -> np.ndarray:
    """Boolean array (the records' leading shape): the fits that pass every filter.

    ``records`` has :data:`FIT_FIELDS` on its last axis; a NaN record (no fit)
    never qualifies.
    """
    ok = np.isfinite(np.asarray(records, dtype=np.float64)).all(axis=-1)
    for mask in filter_masks(records, filters).values():
        ok &= mask
    return ok


def qualification_counts(records: np.ndarray, filters: LPPLSFilters | None = None) -> dict[str, Any]:
    """How many fits there were, how many qualified (bubbles, anti-bubbles) and how many each condition rejected.

    ``rejected`` counts, per condition, the fits that fail it (a fit failing
    several conditions counts under each); only fitted windows count.
    """
    r = np.asarray(records, dtype=np.float64)
    fitted = np.isfinite(r).all(axis=-1)
    qualified = qualify(r, filters)
    b = r[..., 4]
    with np.errstate(invalid="ignore"):
        return {
            "fits": int(fitted.sum()),
            "qualified": int(qualified.sum()),
            "qualified_bubble": int((qualified & (b < 0.0)).sum()),
            "qualified_antibubble": int((qualified & (b > 0.0)).sum()),
            "rejected": {name: int((fitted & ~mask).sum()) for name, mask in filter_masks(r, filters).items()},
        }


def confidence_from_fits(fits: NestedFits, filters: LPPLSFilters | None = None) -> pd.DataFrame:
    """The indicator from already computed fits (apply other filters without refitting).

    Returns
    -------
    DataFrame
        Indexed by the evaluation dates: ``bubble`` and ``antibubble`` (the
        fractions of fitted windows that are qualified with B < 0 / B > 0),
        ``n_fits`` (windows fitted; NaN indicators when 0), ``bubble_tc``
        and ``antibubble_tc`` (median critical date of the qualified fits of
        that sign; NaT when there is none).
    """
    records = fits.records
    fitted = np.isfinite(records[:, :, 0])
    qualified = qualify(records, filters)
    b = records[:, :, 4]
    with np.errstate(invalid="ignore"):
        bubble = qualified & (b < 0.0)
        anti = qualified & (b > 0.0)
    n_fits = fitted.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        denominator = np.where(n_fits > 0, n_fits, np.nan)
        frame = pd.DataFrame(
            {
                "bubble": bubble.sum(axis=1) / denominator,
                "antibubble": anti.sum(axis=1) / denominator,
                "n_fits": n_fits.astype(np.int64),
            },
            index=pd.DatetimeIndex(fits.dates, name="date"),
        )
    for column, mask in (("bubble_tc", bubble), ("antibubble_tc", anti)):
        medians = [
            _date_after(date, float(np.median(records[e, mask[e], 0]))) if mask[e].any() else None
            for e, date in enumerate(fits.dates)
        ]
        frame[column] = pd.to_datetime(pd.Series(medians, index=frame.index, dtype=object))
    return frame


def confidence_indicator(
    prices: pd.Series,
    *,
    windows: Sequence[int] | np.ndarray | None = None,
    dates: Sequence[Any] | pd.DatetimeIndex | None = None,
    start: Any = None,
    end: Any = None,
    step: int = 1,
    filters: LPPLSFilters | None = None,
    search: LPPLSSearch | None = None,
    name: str | None = None,
) -> pd.DataFrame:
    """The LPPLS confidence indicators of bubbles and anti-bubbles of ``prices``.

    Parameters are those of :func:`nested_fits` plus ``filters``
    (:class:`LPPLSFilters`).  Returns the frame of
    :func:`confidence_from_fits` with the close on each date added as
    ``price``.

    Edge cases: dates whose history is shorter than the smallest window get
    ``n_fits = 0`` and NaN indicators; an empty date range gives an empty frame.
    """
    fits = nested_fits(
        prices, windows=windows, dates=dates, start=start, end=end, step=step, search=search, name=name
    )
    frame = confidence_from_fits(fits, filters)
    frame.insert(0, "price", prices.reindex(frame.index).to_numpy(dtype=np.float64))
    return frame


def bubble_series(prices: Prices, ticker: str) -> pd.Series:
    """The price series ``bubble`` / ``bubble-timer`` analyse for ``ticker``.

    ``"ai-basket"`` (any case) is the equal-weight, daily-rebalanced index of
    the listed members of :data:`~shortthehype.baskets.AI_BASKET` found in
    ``prices`` (:func:`shortthehype.baskets.basket_index`), from
    the first date any member trades; any other name is that ticker's closes
    with missing days dropped.
    """
    if ticker.strip().lower() == BUBBLE_AI_BASKET:
        members = list(basket_members(prices))
        if not members:
            raise DataError(f"{BUBBLE_AI_BASKET}: none of its members ({', '.join(AI_BASKET)}) is in the prices")
        close = prices.close[members]
        close = close.loc[close.notna().any(axis=1)]
        return basket_index(close).rename(BUBBLE_AI_BASKET)
    key = ticker.strip().upper()
    if key not in prices.tickers:
        raise DataError(f"ticker {key} is not in the prices (have: {', '.join(prices.tickers)})")
    return prices.close[key].dropna().rename(key)


def basket_members(prices: Prices) -> dict[str, pd.Timestamp]:
    """The members of :data:`~shortthehype.baskets.AI_BASKET` with a close in ``prices`` and their first close date.

    These are the members the ``ai-basket`` series of :func:`bubble_series`
    is made of (a member without any close in the range is left out).
    """
    close = prices.close
    return {t: close[t].first_valid_index() for t in AI_BASKET if t in prices.tickers and close[t].notna().any()}


def bubble_tickers(ticker: str) -> list[str]:
    """The tickers to load for :func:`bubble_series`."""
    return list(AI_BASKET) if ticker.strip().lower() == BUBBLE_AI_BASKET else [ticker.strip().upper()]

