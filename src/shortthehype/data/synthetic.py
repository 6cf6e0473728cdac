"""Seeded synthetic markets with a bubble-then-crash regime (``source="synthetic"``).

A :class:`Scenario` describes a fictional market: a few assets (tickers such as
``AIX`` or ``GPU`` that are made up, so no one mistakes them for real data), each
with an annual drift and volatility, Student-t innovations scaled to unit
variance, GARCH(1,1) volatility clustering and a *bubble beta*; a correlation
structure (a one-factor model, or a full matrix); and a bubble regime: a log-linear
run-up from ``bubble_start`` to ``peak``, a log-linear crash of ``crash_depth``
over ``crash_days`` trading days, then a recovery drift.  Asset ``i`` rides the
regime with exponent ``bubble_beta[i]``: over the crash its drift component falls
by ``1 - (1 - crash_depth) ** bubble_beta[i]`` (exactly ``crash_depth`` for beta 1).

:func:`generate_paths` draws many paths at once as arrays; :func:`generate_prices`
and :func:`load_synthetic` return one path as a :class:`~shortthehype.data.prices.Prices`.

Whole-module caveats:

* **Determinism.**  Every random number is drawn here, in Python, from numpy
  generators seeded by ``SeedSequence(seed, spawn_key=(path, stream))``; the
  kernel (:mod:`shortthehype.core.synthetic_nb`) is deterministic.  So the same
  ``(scenario, seed, path)`` gives the same numbers bit for bit in any process
  on the same platform and numpy version (numpy does not promise identical
  streams across its versions), path ``p`` does not depend on how many paths are
  generated with it, and extending ``calendar_end`` leaves earlier bars unchanged.
* **Units.**  Drifts are annual *log* drifts (continuously compounded; 0.08
  means a median growth of ``exp(0.08)`` per 252 bars); volatilities are annual
  (fractions, ``0.30`` = 30 %); one year is ``ANNUALIZATION`` = 252 bars.  No
  Itô/Jensen correction is applied, so the mean simple return exceeds the
  drift by about half the variance.
* **Calendar.**  Business days (``pandas.bdate_range``, Monday to Friday): no
  exchange holidays.
* **Realised vs configured.**  ``crash_depth`` and ``run_up`` describe the
  deterministic regime path; a noisy path's realised drawdown scatters around
  them (the log noise is symmetric, so the median path matches the drift
  component measured between the peak and trough dates).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace
from numbers import Integral, Real
from typing import Any

import numpy as np
import pandas as pd

from shortthehype.constants import (
    ANNUALIZATION,
    PRICE_FIELDS,
    SYNTHETIC_CORR_TOL,
    SYNTHETIC_DEFAULT_SEED,
    SYNTHETIC_PATH_CHUNK,
)
from shortthehype.core.synthetic_nb import simulate_paths_nb
from shortthehype.data.prices import Prices
from shortthehype.errors import DataError, ParamError, did_you_mean

__all__ = [
    "DEFAULT_ASSETS",
    "RUN_UP_UNITS",
    "Scenario",
    "SyntheticAsset",
    "bubble_path",
    "describe",
    "generate_paths",
    "generate_prices",
    "load_synthetic",
]

#: Units of :attr:`Scenario.run_up`.
RUN_UP_UNITS = ("total", "log", "annual")

# One independent random stream per kind of draw (SeedSequence spawn_key = (path, stream)).
_STREAM_NORMAL = 0  # numerators of the Student-t innovations
_STREAM_GAMMA = 1  # chi-square denominators of the Student-t innovations
_STREAM_GAP = 2  # overnight gap (Brownian-bridge position at the open)
_STREAM_HIGH = 3  # Exp(1) draws of the intraday maximum
_STREAM_LOW = 4  # Exp(1) draws of the intraday minimum
_STREAM_VOLUME = 5  # log-normal volume noise


# --------------------------------------------------------------------------- validation helpers


def _number(owner: str, name: str, value: Any, what: str, *, allow_inf: bool = False) -> float:
    """``value`` as a float, or a one-line ParamError naming ``owner.name``."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise ParamError(f"{owner}{name}={value!r} must be a number ({what})")
    out = float(value)
    if math.isnan(out) or (math.isinf(out) and not allow_inf):
        raise ParamError(f"{owner}{name}={value!r} must be finite ({what})")
    return out


def _date(owner: str, name: str, value: Any) -> pd.Timestamp:
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise ParamError(f"{owner}{name}={value!r} is not a date (use 'YYYY-MM-DD')") from exc
    if stamp is pd.NaT or pd.isna(stamp):
        raise ParamError(f"{owner}{name}={value!r} is not a date (use 'YYYY-MM-DD')")
    if stamp.tzinfo is not None:
        raise ParamError(f"{owner}{name}={value!r} must be a naive date (no time zone)")
    return stamp.normalize()


def _check_range(
    owner: str,
    name: str,
    value: float,
    what: str,
    *,
    lo: float | None = None,
    hi: float | None = None,
    lo_open: bool = False,
    hi_open: bool = False,
) -> None:
    """A one-line ParamError unless ``value`` lies in the interval (open or closed at each end)."""
    bad_lo = lo is not None and (value <= lo if lo_open else value < lo)
    bad_hi = hi is not None and (value >= hi if hi_open else value > hi)
    if bad_lo or bad_hi:
        left = "(" if lo_open else "["
        right = ")" if hi_open else "]"
        interval = f"{left}{'-inf' if lo is None else lo}, {'inf' if hi is None else hi}{right}"
        raise ParamError(f"{owner}{name}={value!r} must be in {interval} ({what})")


# --------------------------------------------------------------------------- parameters


@dataclass(frozen=True)
class SyntheticAsset:
    """One fictional asset of a synthetic :class:`Scenario`.

    Parameters
    ----------
    ticker : str
        Name of the column in the generated prices (non-empty, no surrounding spaces).
    drift : float, default 0.07
        Annual log drift outside the regime (fraction per 252 bars; 0.07 ~ 7 %/yr
        median growth).  Any finite value.
    vol : float, default 0.25
        Annual volatility of the noise (fraction, 0.25 = 25 %), the unconditional
        volatility of the GARCH process.  ``>= 0``; 0 makes the asset follow its
        drift and regime exactly (no noise).
    bubble_beta : float, default 1.0
        Exponent with which the asset rides the bubble regime: its log price gets
        ``bubble_beta`` times the regime's log path.  1 follows the regime exactly;
        1.5 a hype name; 0.2 a defensive; 0 ignores it; negative moves against it.
    factor_loading : float, default 0.7
        Loading on the common market factor of the one-factor correlation model,
        in ``[-1, 1]``; the correlation of assets ``i`` and ``j`` is
        ``loading_i * loading_j``.  Ignored when :attr:`Scenario.correlation` is given.
    dof : float, default 5.0
        Degrees of freedom of the asset's Student-t innovation, ``> 2`` (finite
        variance); ``inf`` gives normal innovations.  Lower is fatter-tailed
        (excess kurtosis ``6 / (dof - 4)`` for ``dof > 4``).
    garch_alpha : float, default 0.07
        GARCH(1,1) reaction to the last squared shock, ``>= 0``.
    garch_beta : float, default 0.90
        GARCH(1,1) persistence of the conditional variance, ``>= 0``;
        ``garch_alpha + garch_beta < 1`` (stationary variance).  Both 0 give
        constant volatility (no clustering).
    start_price : float, default 100.0
        Close of the virtual bar before the first bar (currency), ``> 0``.
    base_volume : float, default 1e6
        Volume on a day without a price shock (shares), ``> 0``.
    """

    ticker: str
    drift: float = 0.07
    vol: float = 0.25
    bubble_beta: float = 1.0
    factor_loading: float = 0.7
    dof: float = 5.0
    garch_alpha: float = 0.07
    garch_beta: float = 0.90
    start_price: float = 100.0
    base_volume: float = 1e6

    def __post_init__(self) -> None:
        if not isinstance(self.ticker, str) or not self.ticker or self.ticker != self.ticker.strip():
            raise ParamError(
                f"SyntheticAsset.ticker={self.ticker!r} must be a non-empty string without surrounding spaces"
            )
        owner = f"SyntheticAsset {self.ticker!r}: "
        values = {
            "drift": _number(owner, "drift", self.drift, "annual log drift"),
            "vol": _number(owner, "vol", self.vol, "annual volatility"),
            "bubble_beta": _number(owner, "bubble_beta", self.bubble_beta, "exponent on the bubble regime"),
            "factor_loading": _number(owner, "factor_loading", self.factor_loading, "market-factor loading"),
            "dof": _number(owner, "dof", self.dof, "Student-t degrees of freedom", allow_inf=True),
            "garch_alpha": _number(owner, "garch_alpha", self.garch_alpha, "GARCH shock coefficient"),
            "garch_beta": _number(owner, "garch_beta", self.garch_beta, "GARCH persistence"),
            "start_price": _number(owner, "start_price", self.start_price, "price before the first bar"),
            "base_volume": _number(owner, "base_volume", self.base_volume, "shares on a quiet day"),
        }
        _check_range(owner, "vol", values["vol"], "annual volatility", lo=0.0)
        _check_range(owner, "factor_loading", values["factor_loading"], "market-factor loading", lo=-1.0, hi=1.0)
        dof_what = "Student-t degrees of freedom; finite variance needs > 2"
        _check_range(owner, "dof", values["dof"], dof_what, lo=2.0, lo_open=True)
        _check_range(owner, "garch_alpha", values["garch_alpha"], "GARCH shock coefficient", lo=0.0)
        _check_range(owner, "garch_beta", values["garch_beta"], "GARCH persistence", lo=0.0)
        persistence = values["garch_alpha"] + values["garch_beta"]
        if persistence >= 1.0:
            raise ParamError(
                f"{owner}garch_alpha + garch_beta = {persistence!r} must be < 1 (stationary variance); lower garch_beta"
            )
        _check_range(owner, "start_price", values["start_price"], "price before the first bar", lo=0.0, lo_open=True)
        _check_range(owner, "base_volume", values["base_volume"], "shares on a quiet day", lo=0.0, lo_open=True)
        for name, value in values.items():
            object.__setattr__(self, name, value)


#: The default cast of fictional assets: hype names that ride the bubble hardest,
#: a "DATA" name with bubble beta 1 (it follows the regime exactly, like the
#: Nasdaq in 2000), a broad market, a defensive and a bond-like asset.
#: The hype names use t(6) shocks with GARCH(0.05, 0.92): with heavier tails or a
#: larger shock coefficient, beta^2 + 2 alpha beta + alpha^2 kappa (kappa the
#: shocks' fourth moment) nears 1 and volatility bursts give +100% days that no
#: real 55%-vol stock shows.
DEFAULT_ASSETS: tuple[SyntheticAsset, ...] = (
    SyntheticAsset("AIX", drift=0.08, vol=0.55, bubble_beta=1.6, factor_loading=0.70, dof=6.0,
                   garch_alpha=0.05, garch_beta=0.92, start_price=20.0, base_volume=8e6),
    SyntheticAsset("GPU", drift=0.10, vol=0.45, bubble_beta=1.4, factor_loading=0.75, dof=6.0,
                   garch_alpha=0.05, garch_beta=0.92, start_price=40.0, base_volume=2e7),
    SyntheticAsset("DATA", drift=0.08, vol=0.32, bubble_beta=1.0, factor_loading=0.80, dof=6.0,
                   garch_alpha=0.05, garch_beta=0.92, start_price=100.0, base_volume=5e6),
    SyntheticAsset("MKT", drift=0.07, vol=0.17, bubble_beta=0.6, factor_loading=0.95, dof=6.0,
                   start_price=250.0, base_volume=8e7),
    SyntheticAsset("DEF", drift=0.06, vol=0.14, bubble_beta=0.2, factor_loading=0.55, dof=6.0,
                   start_price=60.0, base_volume=1e7),
    SyntheticAsset("BOND", drift=0.03, vol=0.06, bubble_beta=-0.05, factor_loading=-0.20, dof=8.0,
                   garch_alpha=0.05, garch_beta=0.90, start_price=100.0, base_volume=5e6),
)  # fmt: skip


@dataclass(frozen=True)
class Scenario:
    """All parameters of a synthetic market; the defaults tell the AI-bubble story.

    The defaults: six fictional assets (:data:`DEFAULT_ASSETS`) on business days
    from 2019-01-01 to 2026-12-31; a bubble from 2023-01-03 (after the ChatGPT
    launch) that lifts a bubble-beta-1 asset by +150 % to a peak on 2025-06-30, a
    crash of 78 % (the Nasdaq's 2000-03-10 to 2002-10-09 fall) over 330 trading
    days to a trough in early October 2026, then a 10 %/yr recovery drift.  A
    strategy entering in 2025 meets the top and the whole crash.

    Parameters
    ----------
    assets : tuple of SyntheticAsset, default DEFAULT_ASSETS
        The assets, in column order; tickers must be unique.  A list is accepted
        and stored as a tuple.
    correlation : square matrix or None, default None
        Correlation of the assets' innovations, ``(n_assets, n_assets)`` in asset
        order: symmetric, unit diagonal, entries in ``[-1, 1]``, positive
        semi-definite.  None uses the one-factor model built from each asset's
        ``factor_loading``.  Stored as a tuple of tuples.
    factor_dof : float, default 5.0
        Student-t degrees of freedom of the common factor (one-factor model only),
        ``> 2``; ``inf`` for normal.
    calendar_start, calendar_end : date-like, default "2019-01-01", "2026-12-31"
        First and last calendar day of the business-day calendar (inclusive).
    bubble_start : date-like, default "2023-01-03"
        Last pre-bubble day: the run-up happens on the bars after it.  Snapped
        forward to the next business day; ``>= calendar_start``.
    peak : date-like, default "2025-06-30"
        Top of the regime; snapped forward to a business day; at least one bar
        after ``bubble_start``.
    run_up : float, default 1.5
        Size of the bubble leg for a bubble-beta-1 asset, ``>= 0``, in
        ``run_up_unit``.
    run_up_unit : {"total", "log", "annual"}, default "total"
        ``"total"``: total simple gain of the leg (1.5 = +150 %, price x2.5);
        ``"log"``: total log gain; ``"annual"``: annualised growth during the leg
        (0.45 = +45 % per 252 bars, compounded).
    crash_depth : float, default 0.78
        Peak-to-trough fall of the regime for a bubble-beta-1 asset, a fraction in
        ``(0, 1)``.
    crash_days : int, default 330
        Trading days from the peak to the trough, ``>= 1``; the trough must fall
        on or before the last bar.
    recovery_drift : float, default 0.10
        Annual log drift of the regime after the trough (any finite value).
    crash_vol_multiplier : float, default 1.5
        Volatility of every asset's noise during the crash leg, as a multiple of
        its GARCH volatility, ``> 0`` (1 = no crash volatility regime).
    overnight_fraction : float, default 0.25
        Share of a day's variance that happens overnight (close to open), in
        ``[0, 1]``: 0 opens at the previous close, 1 makes the whole day's move a gap.
    volume_sensitivity : float, default 0.6
        Volume rises by this multiple of the absolute shock measured in the
        asset's unconditional daily volatilities, ``>= 0``.
    volume_noise : float, default 0.3
        Standard deviation of the log-normal (unit-mean) volume noise, ``>= 0``.

    Raises
    ------
    ParamError
        One line naming the parameter, for any invalid value or inconsistent
        dates (e.g. peak before bubble start, trough after the calendar end).

    Notes
    -----
    The regime is applied in log space, so asset ``i``'s drift component falls by
    ``1 - (1 - crash_depth) ** bubble_beta_i`` over the crash.
    """

    assets: tuple[SyntheticAsset, ...] = DEFAULT_ASSETS
    correlation: tuple[tuple[float, ...], ...] | None = None
    factor_dof: float = 5.0
    calendar_start: Any = "2019-01-01"
    calendar_end: Any = "2026-12-31"
    bubble_start: Any = "2023-01-03"
    peak: Any = "2025-06-30"
    run_up: float = 1.5
    run_up_unit: str = "total"
    crash_depth: float = 0.78
    crash_days: int = 330
    recovery_drift: float = 0.10
    crash_vol_multiplier: float = 1.5
    overnight_fraction: float = 0.25
    volume_sensitivity: float = 0.6
    volume_noise: float = 0.3
    _dates: pd.DatetimeIndex = field(init=False, repr=False, compare=False)
    _bars: tuple[int, int, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        owner = "Scenario."
        set_ = lambda name, value: object.__setattr__(self, name, value)  # noqa: E731

        assets = self.assets
        if isinstance(assets, SyntheticAsset) or not isinstance(assets, (tuple, list)) or not assets:
            raise ParamError(f"Scenario.assets must be a non-empty tuple of SyntheticAsset, got {assets!r:.80}")
        for asset in assets:
            if not isinstance(asset, SyntheticAsset):
                raise ParamError(f"Scenario.assets must hold SyntheticAsset items, got {asset!r:.80}")
        tickers = [a.ticker for a in assets]
        duplicates = sorted({t for t in tickers if tickers.count(t) > 1})
        if duplicates:
            raise ParamError(f"Scenario.assets has duplicate ticker(s) {', '.join(duplicates)}; tickers must be unique")
        set_("assets", tuple(assets))
        n_assets = len(assets)

        if self.correlation is not None:
            set_("correlation", _validated_correlation(self.correlation, n_assets))
        factor_dof = _number(owner, "factor_dof", self.factor_dof, "Student-t dof of the market factor", allow_inf=True)
        factor_what = "Student-t dof of the market factor; needs > 2"
        _check_range(owner, "factor_dof", factor_dof, factor_what, lo=2.0, lo_open=True)
        set_("factor_dof", factor_dof)

        for name in ("calendar_start", "calendar_end", "bubble_start", "peak"):
            set_(name, _date(owner, name, getattr(self, name)))
        if self.calendar_end <= self.calendar_start:
            raise ParamError(
                f"Scenario.calendar_end={self.calendar_end.date()} must be after "
                f"calendar_start={self.calendar_start.date()}"
            )
        dates = pd.bdate_range(self.calendar_start, self.calendar_end, name="date")
        if len(dates) < 3:
            raise ParamError(
                f"Scenario.calendar_end={self.calendar_end.date()} leaves fewer than 3 business days after "
                f"calendar_start={self.calendar_start.date()}; a bubble needs a start, a peak and a trough"
            )
        if self.bubble_start < self.calendar_start:
            raise ParamError(
                f"Scenario.bubble_start={self.bubble_start.date()} is before "
                f"calendar_start={self.calendar_start.date()}"
            )
        if self.peak > dates[-1]:
            raise ParamError(
                f"Scenario.peak={self.peak.date()} is after the last bar {dates[-1].date()} (calendar_end)"
            )
        start_bar = int(dates.searchsorted(self.bubble_start, side="left"))
        peak_bar = int(dates.searchsorted(self.peak, side="left"))
        if peak_bar <= start_bar:
            raise ParamError(
                f"Scenario.peak={self.peak.date()} must be at least one trading day after "
                f"bubble_start={self.bubble_start.date()}"
            )

        run_up = _number(owner, "run_up", self.run_up, f"size of the bubble leg in {self.run_up_unit!r} units")
        _check_range(owner, "run_up", run_up, "size of the bubble leg; a bubble does not fall", lo=0.0)
        set_("run_up", run_up)
        if self.run_up_unit not in RUN_UP_UNITS:
            raise ParamError(f"Scenario.run_up_unit={self.run_up_unit!r} must be one of {', '.join(RUN_UP_UNITS)}")
        depth_what = "peak-to-trough fraction, e.g. 0.78"
        depth = _number(owner, "crash_depth", self.crash_depth, depth_what)
        _check_range(owner, "crash_depth", depth, depth_what, lo=0.0, hi=1.0, lo_open=True, hi_open=True)
        set_("crash_depth", depth)
        if isinstance(self.crash_days, bool) or not isinstance(self.crash_days, Integral):
            raise ParamError(
                f"Scenario.crash_days={self.crash_days!r} must be an integer (trading days from peak to trough)"
            )
        crash_days = int(self.crash_days)
        if crash_days < 1:
            raise ParamError(f"Scenario.crash_days={crash_days} must be >= 1 (trading days from peak to trough)")
        set_("crash_days", crash_days)
        trough_bar = peak_bar + crash_days
        if trough_bar > len(dates) - 1:
            raise ParamError(
                f"Scenario.crash_days={crash_days} puts the trough {trough_bar - len(dates) + 1} bar(s) after "
                f"the last bar {dates[-1].date()}; shorten crash_days or move calendar_end later"
            )

        for name, what, lo, lo_open in (
            ("recovery_drift", "annual log drift after the trough", None, False),
            ("crash_vol_multiplier", "volatility multiple during the crash", 0.0, True),
            ("overnight_fraction", "share of daily variance overnight", 0.0, False),
            ("volume_sensitivity", "volume response to |shock|", 0.0, False),
            ("volume_noise", "log-normal volume noise", 0.0, False),
        ):
            value = _number(owner, name, getattr(self, name), what)
            hi = 1.0 if name == "overnight_fraction" else None
            _check_range(owner, name, value, what, lo=lo, hi=hi, lo_open=lo_open)
            set_(name, value)

        set_("_dates", dates)
        set_("_bars", (start_bar, peak_bar, trough_bar))

    # ------------------------------------------------------------------ derived facts

    @property
    def tickers(self) -> list[str]:
        """The asset tickers, in column order."""
        return [a.ticker for a in self.assets]

    @property
    def dates(self) -> pd.DatetimeIndex:
        """The business-day calendar from ``calendar_start`` to ``calendar_end`` (index name ``date``)."""
        return self._dates

    @property
    def key_dates(self) -> dict[str, pd.Timestamp]:
        """Trading days of the regime's turns: ``bubble_start``, ``peak`` and ``trough`` (after snapping)."""
        start_bar, peak_bar, trough_bar = self._bars
        dates = self._dates
        return {"bubble_start": dates[start_bar], "peak": dates[peak_bar], "trough": dates[trough_bar]}

    @property
    def run_up_log(self) -> float:
        """Total log gain of the bubble leg for a bubble-beta-1 asset."""
        start_bar, peak_bar, _ = self._bars
        if self.run_up_unit == "total":
            return math.log1p(self.run_up)
        if self.run_up_unit == "log":
            return self.run_up
        return math.log1p(self.run_up) * (peak_bar - start_bar) / ANNUALIZATION


def _validated_correlation(value: Any, n_assets: int) -> tuple[tuple[float, ...], ...]:
    try:
        matrix = np.array(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ParamError(f"Scenario.correlation must be a numeric {n_assets}x{n_assets} matrix") from exc
    if matrix.shape != (n_assets, n_assets):
        raise ParamError(
            f"Scenario.correlation has shape {matrix.shape}; expected ({n_assets}, {n_assets}), one row per asset"
        )
    if not np.isfinite(matrix).all():
        raise ParamError("Scenario.correlation has non-finite entries")
    if np.abs(matrix - matrix.T).max() > SYNTHETIC_CORR_TOL:
        raise ParamError("Scenario.correlation is not symmetric")
    if np.abs(np.diag(matrix) - 1.0).max() > SYNTHETIC_CORR_TOL:
        raise ParamError("Scenario.correlation must have 1 on its diagonal")
    if np.abs(matrix).max() > 1.0 + SYNTHETIC_CORR_TOL:
        raise ParamError("Scenario.correlation has entries outside [-1, 1]")
    smallest = float(np.linalg.eigvalsh(matrix).min())
    if smallest < -SYNTHETIC_CORR_TOL:
        raise ParamError(
            f"Scenario.correlation is not positive semi-definite (smallest eigenvalue {smallest:.3g}); "
            "it cannot be a correlation matrix"
        )
    return tuple(tuple(float(x) for x in row) for row in matrix)


# --------------------------------------------------------------------------- model arrays


def _regime_arrays(scenario: Scenario) -> tuple[np.ndarray, np.ndarray]:
    """Per-bar increments of the regime's log path (bubble beta 1) and the noise scale, both ``(n_bars,)``."""
    n_bars = len(scenario.dates)
    start_bar, peak_bar, trough_bar = scenario._bars
    dg = np.zeros(n_bars)
    dg[start_bar + 1 : peak_bar + 1] = scenario.run_up_log / (peak_bar - start_bar)
    dg[peak_bar + 1 : trough_bar + 1] = math.log1p(-scenario.crash_depth) / (trough_bar - peak_bar)
    dg[trough_bar + 1 :] = scenario.recovery_drift / ANNUALIZATION
    vol_scale = np.ones(n_bars)
    vol_scale[peak_bar + 1 : trough_bar + 1] = scenario.crash_vol_multiplier
    return dg, vol_scale


def _innovation_structure(scenario: Scenario) -> tuple[np.ndarray, np.ndarray]:
    """Loadings ``(n_assets, n_sources)`` with ``L @ L.T`` = the correlation, and each source's Student-t dof."""
    asset_dofs = np.array([a.dof for a in scenario.assets])
    if scenario.correlation is None:
        loading = np.array([a.factor_loading for a in scenario.assets])
        idio = np.sqrt(np.maximum(1.0 - loading * loading, 0.0))
        loadings = np.column_stack([loading, np.diag(idio)])
        dofs = np.concatenate([[scenario.factor_dof], asset_dofs])
    else:
        # symmetric square root: works for singular (PSD) matrices, where Cholesky fails
        values, vectors = np.linalg.eigh(np.array(scenario.correlation))
        loadings = (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T
        dofs = asset_dofs
    return np.ascontiguousarray(loadings), dofs


def _draw_path(seed: int, path: int, n_bars: int, dofs: np.ndarray, n_assets: int, out: dict[str, np.ndarray]) -> None:
    """Fill ``out[...]`` (views of one path) with that path's random inputs.

    Each kind of draw has its own stream and is drawn row-major (bar by bar), so
    adding bars at the end never shifts the draws of earlier bars.
    """

    def rng(stream: int) -> np.random.Generator:
        return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(path, stream))))

    n_sources = len(dofs)
    finite = np.isfinite(dofs)
    numer = rng(_STREAM_NORMAL).standard_normal((n_bars, n_sources))
    shape = np.where(finite, dofs / 2.0, 1.0)  # placeholder shape for normal sources; their draws are unused
    gamma = rng(_STREAM_GAMMA).standard_gamma(shape, size=(n_bars, n_sources))
    # unit-variance Student t: N / sqrt(chi2_dof / dof) * sqrt((dof - 2) / dof) = N * sqrt((dof - 2) / (2 G))
    scale = np.where(finite, np.sqrt(np.where(finite, dofs - 2.0, 1.0) / (2.0 * gamma)), 1.0)
    out["e"][...] = numer * scale
    out["u_gap"][...] = rng(_STREAM_GAP).standard_normal((n_bars, n_assets))
    out["x_high"][...] = rng(_STREAM_HIGH).standard_exponential((n_bars, n_assets))
    out["x_low"][...] = rng(_STREAM_LOW).standard_exponential((n_bars, n_assets))
    out["n_vol"][...] = rng(_STREAM_VOLUME).standard_normal((n_bars, n_assets))


def _check_int(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise ParamError(f"{name}={value!r} must be an integer >= {minimum}")
    if value < minimum:
        raise ParamError(f"{name}={value!r} must be an integer >= {minimum}")
    return int(value)


# --------------------------------------------------------------------------- public API


def bubble_path(scenario: Scenario | None = None) -> pd.Series:
    """The regime's deterministic log path: the log price change of a bubble-beta-1 asset with no drift or noise.

    Parameters
    ----------
    scenario : Scenario, optional
        Defaults to ``Scenario()``.

    Returns
    -------
    pandas.Series
        Cumulative log regime on the scenario's calendar: 0 up to
        ``bubble_start``, ``run_up_log`` at the peak, ``run_up_log +
        log(1 - crash_depth)`` at the trough.  Asset ``i``'s drift component is
        ``start_price * exp(drift * (t + 1) / 252 + bubble_beta * path)``.
    """
    scenario = Scenario() if scenario is None else scenario
    dg, _ = _regime_arrays(scenario)
    return pd.Series(np.cumsum(dg), index=scenario.dates, name="bubble_log_path")


def generate_paths(
    scenario: Scenario | None = None,
    n_paths: int = 1,
    seed: int = SYNTHETIC_DEFAULT_SEED,
    *,
    first_path: int = 0,
) -> dict[str, np.ndarray]:
    """Simulate ``n_paths`` independent OHLCV paths of a scenario.

    Parameters
    ----------
    scenario : Scenario, optional
        Defaults to ``Scenario()``.
    n_paths : int, default 1
        Number of paths, ``>= 0`` (0 gives empty arrays).
    seed : int, default SYNTHETIC_DEFAULT_SEED (0)
        Non-negative seed.  The same seed and path index always give the same
        numbers, bit for bit, on the same platform and numpy version.
    first_path : int, default 0
        Index of the first path: paths ``first_path .. first_path + n_paths - 1``
        are generated.  Path ``p`` is the same whichever call generates it, so
        large Monte-Carlo runs can be split into batches.

    Returns
    -------
    dict
        ``open, high, low, close, volume``: float64 ``(n_paths, n_bars, n_assets)``
        (prices in currency units, volume in shares, not rounded);
        ``dates``: ``datetime64`` ``(n_bars,)``; ``tickers``: str ``(n_assets,)``.

    Raises
    ------
    ParamError
        If ``scenario`` is not a Scenario, or ``n_paths``, ``seed`` or
        ``first_path`` is not a non-negative integer.

    Notes
    -----
    Memory: the outputs take ``40 * n_paths * n_bars * n_assets`` bytes (about
    0.5 MB per path for the default scenario); random inputs are drawn in
    batches of ``SYNTHETIC_PATH_CHUNK`` paths.
    """
    scenario = Scenario() if scenario is None else scenario
    if not isinstance(scenario, Scenario):
        raise ParamError(f"scenario must be a Scenario, got {type(scenario).__name__}")
    n_paths = _check_int("n_paths", n_paths, 0)
    seed = _check_int("seed", seed, 0)
    first_path = _check_int("first_path", first_path, 0)

    dates = scenario.dates
    n_bars, n_assets = len(dates), len(scenario.assets)
    dg, vol_scale = _regime_arrays(scenario)
    loadings, dofs = _innovation_structure(scenario)
    n_sources = len(dofs)
    assets = scenario.assets
    h0 = np.array([a.vol**2 / ANNUALIZATION for a in assets])
    alpha = np.array([a.garch_alpha for a in assets])
    beta = np.array([a.garch_beta for a in assets])
    omega = h0 * (1.0 - alpha - beta)
    model = dict(
        log_p0=np.log(np.array([a.start_price for a in assets])),
        mu=np.array([a.drift / ANNUALIZATION for a in assets]),
        bubble_beta=np.array([a.bubble_beta for a in assets]),
        dg=dg,
        vol_scale=vol_scale,
        omega=omega,
        alpha=alpha,
        beta=beta,
        h0=h0,
        loadings=loadings,
        overnight=scenario.overnight_fraction,
        base_volume=np.array([a.base_volume for a in assets]),
        volume_sens=scenario.volume_sensitivity,
        volume_noise=scenario.volume_noise,
    )

    result = {name: np.empty((n_paths, n_bars, n_assets)) for name in PRICE_FIELDS}
    for chunk_start in range(0, n_paths, SYNTHETIC_PATH_CHUNK):
        chunk = range(chunk_start, min(chunk_start + SYNTHETIC_PATH_CHUNK, n_paths))
        draws = {
            "e": np.empty((len(chunk), n_bars, n_sources)),
            **{name: np.empty((len(chunk), n_bars, n_assets)) for name in ("u_gap", "x_high", "x_low", "n_vol")},
        }
        for j, p in enumerate(chunk):
            _draw_path(seed, first_path + p, n_bars, dofs, n_assets, {k: v[j] for k, v in draws.items()})
        outputs = simulate_paths_nb(**model, **draws)
        for name, array in zip(PRICE_FIELDS, outputs, strict=True):
            result[name][chunk.start : chunk.stop] = array
    result["dates"] = dates.to_numpy()
    result["tickers"] = np.array(scenario.tickers, dtype=str)
    return result


def generate_prices(scenario: Scenario | None = None, seed: int = SYNTHETIC_DEFAULT_SEED, path: int = 0) -> Prices:
    """One simulated path as a :class:`Prices` container (``source="synthetic"``).

    Parameters
    ----------
    scenario : Scenario, optional
        Defaults to ``Scenario()``.
    seed : int, default SYNTHETIC_DEFAULT_SEED (0)
        Non-negative seed.
    path : int, default 0
        Path index; equals ``generate_paths(scenario, n, seed)[...][path]`` for any ``n > path``.

    Returns
    -------
    Prices
        One float64 column per ticker on the scenario's full calendar, no NaN.

    Raises
    ------
    ParamError
        As :func:`generate_paths`.
    """
    if isinstance(path, bool) or not isinstance(path, Integral) or path < 0:
        raise ParamError(f"path={path!r} must be an integer >= 0")
    arrays = generate_paths(scenario, 1, seed, first_path=int(path))
    index = pd.DatetimeIndex(arrays["dates"], name="date")
    columns = pd.Index([str(t) for t in arrays["tickers"]], name="ticker")
    frames = {name: pd.DataFrame(arrays[name][0], index=index, columns=columns) for name in PRICE_FIELDS}
    return Prices(**frames, source="synthetic")


def _scenario_with_overrides(overrides: dict[str, Any]) -> Scenario:
    base = overrides.pop("scenario", None)
    if base is None:
        base = Scenario()
    elif not isinstance(base, Scenario):
        raise ParamError(f"scenario={base!r:.60} must be a Scenario")
    valid = [f.name for f in fields(Scenario) if f.init]
    for key in overrides:
        if key not in valid:
            hint = did_you_mean(key, valid + ["scenario"])
            raise ParamError(f"unknown synthetic scenario parameter {key!r}{hint} (valid: {', '.join(valid)})")
    return replace(base, **overrides) if overrides else base


def load_synthetic(
    tickers: list[str] | None = None,
    start: Any = None,
    end: Any = None,
    *,
    seed: int | None = None,
    path: int = 0,
    **scenario_overrides: Any,
) -> Prices:
    """Synthetic prices for ``load_prices(source="synthetic")``.

    Generates one path on the scenario's full calendar, then selects tickers and
    slices dates, so neither changes any number.

    Parameters
    ----------
    tickers : list of str or None, default None
        Tickers to return, in this order; None returns every scenario ticker.
        A single string is accepted as one ticker.
    start, end : date-like or None, default None
        Inclusive date bounds; None keeps the calendar's first / last bar.  Must
        lie within ``[calendar_start, calendar_end]``; extend the calendar with
        the ``calendar_start`` / ``calendar_end`` overrides.
    seed : int or None, default None
        Non-negative seed; None uses ``SYNTHETIC_DEFAULT_SEED`` (0), so the data
        is reproducible like a file.
    path : int, default 0
        Path index (another path is another independent draw with the same seed).
    **scenario_overrides
        :class:`Scenario` fields to override (e.g. ``crash_depth=0.5``), applied
        to ``Scenario()`` or to the Scenario passed as ``scenario=``.

    Returns
    -------
    Prices
        ``source="synthetic"``, no NaN.

    Raises
    ------
    ParamError
        Unknown override (with a "did you mean"), an invalid value, or a
        ``start`` / ``end`` that is not a date or with ``start > end``.
    DataError
        Unknown or duplicate ticker (the message lists the available ones), or a
        ``start`` / ``end`` outside the scenario's calendar.
    """
    scenario = _scenario_with_overrides(dict(scenario_overrides))
    available = scenario.tickers
    if tickers is None:
        wanted = available
    else:
        wanted = [tickers] if isinstance(tickers, str) else list(tickers)
        if not wanted:
            raise DataError(f"no tickers requested; available synthetic tickers: {', '.join(available)}")
        unknown = [t for t in wanted if t not in available]
        if unknown:
            raise DataError(
                f"unknown synthetic ticker(s) {', '.join(map(str, unknown))}; available: {', '.join(available)}"
            )
        duplicates = sorted({t for t in wanted if wanted.count(t) > 1})
        if duplicates:
            raise DataError(f"ticker(s) requested twice: {', '.join(duplicates)}")
    lo = None if start is None else _date("", "start", start)
    hi = None if end is None else _date("", "end", end)
    if lo is not None and hi is not None and lo > hi:
        raise ParamError(f"start={lo.date()} is after end={hi.date()}")
    if lo is not None and lo < scenario.calendar_start:
        raise DataError(
            f"start={lo.date()} is before the synthetic calendar's first day {scenario.calendar_start.date()}; "
            f"pass calendar_start='{lo.date()}' to extend it"
        )
    if hi is not None and hi > scenario.calendar_end:
        raise DataError(
            f"end={hi.date()} is after the synthetic calendar's last day {scenario.calendar_end.date()}; "
            f"pass calendar_end='{hi.date()}' to extend it"
        )
    prices = generate_prices(scenario, SYNTHETIC_DEFAULT_SEED if seed is None else seed, path)
    prices = prices.select(wanted).between(lo, hi)
    if len(prices) == 0:
        raise DataError(f"no synthetic business days between start={lo and lo.date()} and end={hi and hi.date()}")
    return prices


def describe(scenario: Scenario | None = None) -> str:
    """A short human summary of a scenario (a few lines, for the demo and reports).

    Parameters
    ----------
    scenario : Scenario, optional
        Defaults to ``Scenario()``.

    Returns
    -------
    str
        The calendar, the regime's key dates and sizes, and one line per asset
        with its drift, volatility, bubble beta and the crash drawdown of its
        drift component (``1 - (1 - crash_depth) ** bubble_beta``).
    """
    scenario = Scenario() if scenario is None else scenario
    dates, key = scenario.dates, scenario.key_dates
    start_bar, peak_bar, trough_bar = scenario._bars
    gain = math.expm1(scenario.run_up_log)
    keep = 1.0 - scenario.crash_depth
    correlation = (
        "given correlation matrix"
        if scenario.correlation is not None
        else f"one-factor correlation (factor t dof {scenario.factor_dof:g})"
    )
    lines = [
        f"Synthetic market (fictional tickers, not real data): {len(scenario.assets)} assets, "
        f"{len(dates)} business days {dates[0].date()} to {dates[-1].date()}; "
        f"GARCH(1,1) Student-t noise, {correlation}.",
        f"Bubble: {key['bubble_start'].date()} -> peak {key['peak'].date()} ({peak_bar - start_bar} bars), "
        f"{gain:+.0%} for bubble beta 1; crash {-scenario.crash_depth:.0%} over {trough_bar - peak_bar} bars "
        f"to {key['trough'].date()} (noise x{scenario.crash_vol_multiplier:g}); "
        f"then {scenario.recovery_drift:+.0%}/yr recovery drift.",
    ]
    for asset in scenario.assets:
        lines.append(
            f"  {asset.ticker:<6} drift {asset.drift:+.0%}/yr  vol {asset.vol:.0%}  "
            f"bubble beta {asset.bubble_beta:+.2f}  "
            f"bubble {math.expm1(asset.bubble_beta * scenario.run_up_log):+.0%}  "
            f"crash {keep**asset.bubble_beta - 1.0:+.0%}"
        )
    return "\n".join(lines)
