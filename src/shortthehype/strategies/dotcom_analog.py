"""``dotcom-analog``: time the AI basket by analogy with the dotcom cycle.

Both modes map each AI-era date onto a dotcom-era date, read the phase of the
dotcom cycle there and hold the AI basket (equal weights over the listed
members, see :mod:`shortthehype.strategies.ai_basket`) accordingly:

======== ============================================ =====================================
phase    mapped dotcom date m                         position
======== ============================================ =====================================
pre      m < dotcom_start                             long ``exposure``
boom     dotcom_start <= m < dotcom_peak - lead_days  long ``exposure``
bust     dotcom_peak - lead_days <= m < dotcom_trough ``after_peak``: short ``short_exposure`` or cash
recovery m >= dotcom_trough                           ``after_trough``: long ``exposure`` or cash
unknown  path mode found no alignment                 long ``exposure`` (no evidence, no action)
======== ============================================ =====================================

The default after the trough is to be long again: the dotcom bust ended in
October 2002 and the Nasdaq rose 50 % in 2003, so an analogy that shorts the
bust and then sits in cash would ignore half of what it is an analogy of.

*Calendar mode*: ``m = dotcom_start + (date - ai_start) × time_scale``
(calendar days; ``time_scale`` = dotcom days per AI day, 2 = the AI cycle runs
twice as fast).  The phase is evaluated on every bar, and the bar where it
changes gets a target row at once (traded at the next open by default).

*Path mode*: on each rebalance date from ``ai_start`` on, the AI basket's
trailing log path (``window`` bars of the equal-weight index
:func:`~shortthehype.strategies.ai_basket.basket_index`) is aligned with the
reference's log closes (the Nasdaq Composite ``IXIC`` between
``reference_start`` and ``reference_end``, truncated to the decision date so
that a backtest set in the dotcom era never sees the dotcom future) by the
exhaustive search of :mod:`shortthehype.core.analog_nb`: every end bar × a
geometric grid of ``scale_steps`` time scales from ``scale_min`` to
``scale_max``; least squares on demeaned log paths (``normalize`` = on
z-scores).  The date of the best end bar is the mapped date; the phase
holds until the next rebalance date.  Before ``ai_start`` the basket is held
long (phase ``pre``).

:func:`implied_phase` returns the mapping over time for reports.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from shortthehype.baskets import AI_BASKET, basket_index
from shortthehype.constants import AI_ERA_START
from shortthehype.core.targets_nb import dotcom_analog_targets_nb, phase_codes_nb
from shortthehype.data.prices import Prices
from shortthehype.errors import DataError, ParamError, SpecError, did_you_mean
from shortthehype.fused import FusedTargets, Prepared, choice_index, rows_on_first_use
from shortthehype.kept import RecentValues
from shortthehype.params import Param, format_value
from shortthehype.schedule import REBALANCE_FREQUENCIES, calendar_dates, rebalance_mask
from shortthehype.strategies.base import Params, StrategyKind, register

__all__ = ["DOTCOM_ANALOG", "MODES", "PHASES", "implied_phase", "scale_grid"]

#: Dotcom cycle anchors (Nasdaq Composite): Netscape IPO, peak close, trough close.
DOTCOM_START = "1995-08-09"
DOTCOM_PEAK = "2000-03-10"
DOTCOM_TROUGH = "2002-10-09"
#: AI-cycle anchor: ChatGPT's launch.
AI_START = AI_ERA_START
#: Reference series of ``dotcom-analog``'s path mode: the Nasdaq Composite
#: (``IXIC.csv`` in a data directory, ``^IXIC`` on Yahoo) over the dotcom cycle.
DOTCOM_REFERENCE_TICKER = "IXIC"
DOTCOM_REFERENCE_START = "1994-01-01"
DOTCOM_REFERENCE_END = "2003-12-31"
#: Path mode's trailing window of the AI basket matched against the reference (two years).
ANALOG_WINDOW = 504
#: Path mode's grid of time scales (reference bars per basket bar): geometric from min to max.
ANALOG_SCALE_MIN = 0.5
ANALOG_SCALE_MAX = 2.0
ANALOG_SCALE_STEPS = 7
#: Trading days per calendar year used only to check, without data, that a path
#: window can fit inside the reference period (a bound, not a statistic).
ANALOG_TRADING_DAYS_PER_YEAR = 252.0
#: Fits of ``dotcom-analog``'s path mode kept in memory (a sweep over the action
#: parameters re-uses the alignment of identical windows).
ANALOG_FIT_CACHE_SIZE = 64

#: How dates are mapped onto the dotcom cycle.
MODES = ("calendar", "path")
#: Phase labels of :func:`implied_phase`.
PHASES = ("pre", "boom", "bust", "recovery", "unknown")

PARAMS = (
    Param("mode", "choice", "calendar", "calendar = fixed date mapping; path = best fit of the basket's recent path on the Nasdaq's.", choices=MODES),
    Param("tickers", "tickers", list(AI_BASKET), "The AI basket (equal weights over the listed members)."),
    Param(
        "rebalance",
        "choice",
        "monthly",
        "Calendar on which the basket is re-weighted (and, in path mode, re-fitted).",
        choices=tuple(REBALANCE_FREQUENCIES),
    ),
    Param("exposure", "float", 1.0, "Long exposure while long the basket.", "x equity", minimum=0.0, exclusive_minimum=True),
    Param("short_exposure", "float", 1.0, "Short exposure during the bust (after_peak = short).", "x equity", minimum=0.0, exclusive_minimum=True, applies={"after_peak": "short"}),
    Param("after_peak", "choice", "short", "Position from the (lead-adjusted) mapped peak to the mapped trough.", choices=("short", "cash")),
    Param("after_trough", "choice", "long", "Position after the mapped trough.", choices=("long", "cash")),
    Param("lead_days", "int", 0, "Act this many dotcom calendar days before the mapped peak.", "days", minimum=0),
    Param("ai_start", "date", pd.Timestamp(AI_START), "AI-cycle anchor (ChatGPT launch); path mode fits from this date on."),
    Param("dotcom_start", "date", pd.Timestamp(DOTCOM_START), "Dotcom anchor mapped onto ai_start (Netscape IPO)."),
    Param("dotcom_peak", "date", pd.Timestamp(DOTCOM_PEAK), "Dotcom peak (Nasdaq Composite record close)."),
    Param("dotcom_trough", "date", pd.Timestamp(DOTCOM_TROUGH), "Dotcom trough (Nasdaq Composite bear-market low close)."),
    Param("time_scale", "float", 1.0, "Calendar mode: dotcom days per AI day (2 = the AI cycle runs twice as fast).", "x", minimum=0.0, exclusive_minimum=True, applies={"mode": "calendar"}),
    Param("reference", "ticker", DOTCOM_REFERENCE_TICKER, "Path mode: the dotcom reference series (Nasdaq Composite).", applies={"mode": "path"}),
    Param("reference_start", "date", pd.Timestamp(DOTCOM_REFERENCE_START), "Path mode: first date of the reference path.", applies={"mode": "path"}),
    Param("reference_end", "date", pd.Timestamp(DOTCOM_REFERENCE_END), "Path mode: last date of the reference path.", applies={"mode": "path"}),
    Param("window", "int", ANALOG_WINDOW, "Path mode: bars of the basket's trailing path that are matched.", "bars", minimum=2, applies={"mode": "path"}),
    Param("scale_min", "float", ANALOG_SCALE_MIN, "Path mode: smallest time scale tried (reference bars per basket bar).", "x", minimum=0.0, exclusive_minimum=True, applies={"mode": "path"}),
    Param("scale_max", "float", ANALOG_SCALE_MAX, "Path mode: largest time scale tried.", "x", minimum=0.0, exclusive_minimum=True, applies={"mode": "path"}),
    Param("scale_steps", "int", ANALOG_SCALE_STEPS, "Path mode: time scales in the geometric grid from scale_min to scale_max.", "", minimum=1, applies={"mode": "path"}),
    Param("normalize", "bool", False, "Path mode: fit z-scored paths (shape only) instead of demeaned log paths (shape and amplitude).", applies={"mode": "path"}),
)

_PARAM_NAMES = {p.name: p for p in PARAMS}


# ---- parameters -----------------------------------------------------------------------


def _resolve(params: Mapping[str, Any]) -> dict[str, Any]:
    """Every parameter typed, defaults filled in, combinations checked (for direct calls)."""
    for key in params:
        if key not in _PARAM_NAMES:
            raise ParamError(
                f"dotcom-analog: unknown parameter {key!r}{did_you_mean(key, _PARAM_NAMES)} (known: {', '.join(_PARAM_NAMES)})"
            )
    resolved = {
        p.name: (p.coerce(params[p.name], where="dotcom-analog") if p.name in params else p.default) for p in PARAMS
    }
    _check(resolved)
    return resolved


def _tickers(params: Params) -> list[str]:
    tickers = list(params["tickers"])
    if params["mode"] == "path" and params["reference"] not in tickers:
        tickers.append(params["reference"])
    return tickers


def _check(params: Params) -> None:
    start, peak, trough = params["dotcom_start"], params["dotcom_peak"], params["dotcom_trough"]
    if not start < peak < trough:
        raise SpecError(
            f"dotcom anchors must be in order dotcom_start < dotcom_peak < dotcom_trough, got "
            f"{format_value(start)}, {format_value(peak)}, {format_value(trough)}"
        )
    boom_days = (peak - start).days
    if params["lead_days"] >= boom_days:
        raise SpecError(
            f"parameter 'lead_days' = {params['lead_days']} reaches back past dotcom_start "
            f"(the boom lasts {boom_days} days); use a smaller lead"
        )
    if params["scale_min"] > params["scale_max"]:
        raise SpecError(f"parameter 'scale_min' = {params['scale_min']:g} is above scale_max = {params['scale_max']:g}")
    if params["scale_steps"] == 1 and params["scale_min"] != params["scale_max"]:
        raise SpecError("parameter 'scale_steps' = 1 needs scale_min = scale_max (one time scale)")
    if params["reference_start"] >= params["reference_end"]:
        raise SpecError(
            f"parameter 'reference_start' {format_value(params['reference_start'])} is not before "
            f"reference_end {format_value(params['reference_end'])}"
        )
    if params["mode"] == "path":
        if params["reference"] in params["tickers"]:
            raise SpecError(f"parameter 'reference' {params['reference']} is also in the basket 'tickers'; remove it from one")
        span_days = (params["reference_end"] - params["reference_start"]).days
        ref_bars = span_days / 365.25 * ANALOG_TRADING_DAYS_PER_YEAR
        needed = (params["window"] - 1) * params["scale_min"] + 1
        if needed > ref_bars:
            raise SpecError(
                f"parameter 'window' = {params['window']} at scale_min {params['scale_min']:g} spans {needed:.0f} "
                f"reference bars, more than the ~{ref_bars:.0f} between reference_start and reference_end"
            )


def scale_grid(scale_min: float, scale_max: float, steps: int) -> np.ndarray:
    """The path mode's time scales: ``steps`` values from ``scale_min`` to ``scale_max``, geometrically spaced."""
    if steps == 1:
        return np.array([float(scale_min)])
    return np.geomspace(float(scale_min), float(scale_max), int(steps))


# ---- phases ---------------------------------------------------------------------------

_EPOCH = pd.Timestamp("1970-01-01")


_EPOCH_ORDINAL = _EPOCH.toordinal()


def _day_numbers(dates: pd.DatetimeIndex) -> np.ndarray:
    """Whole days since 1970-01-01 (resolution-independent: never an int64 view of the dates)."""
    return np.asarray((calendar_dates(dates) - _EPOCH).days, dtype=np.float64)


def _day_number(date: pd.Timestamp) -> float:
    """:func:`_day_numbers` of one date: its calendar day's ordinal from 1970-01-01 (a sweep asks for four per
    combination: a Timestamp's own ``toordinal`` costs 2.9 us, a ``datetime.date``'s 0.8 us)."""
    return float(_dt.date(date.year, date.month, date.day).toordinal() - _EPOCH_ORDINAL)


def _phase_bounds(params: Params) -> tuple[float, float, float]:
    """Day numbers of dotcom_start, the lead-adjusted peak and dotcom_trough: where the phases change."""
    start = _day_number(params["dotcom_start"])
    turn = _day_number(params["dotcom_peak"]) - params["lead_days"]
    trough = _day_number(params["dotcom_trough"])
    return start, turn, trough


def _phase_codes(mapped_days: np.ndarray, params: Params) -> np.ndarray:
    """Index into :data:`PHASES` of each mapped dotcom day number (NaN = unknown)."""
    mapped = np.ascontiguousarray(mapped_days, dtype=np.float64)
    codes = np.empty(mapped.shape, dtype=np.int64)
    phase_codes_nb(mapped, *_phase_bounds(params), codes)
    return codes


def _phase_table(params: Params) -> np.ndarray:
    """Signed exposure to the basket in each phase (the order of :data:`PHASES`)."""
    long_ = params["exposure"]
    by_phase = {
        "pre": long_,
        "boom": long_,
        "bust": -params["short_exposure"] if params["after_peak"] == "short" else 0.0,
        "recovery": long_ if params["after_trough"] == "long" else 0.0,
        "unknown": long_,
    }
    return np.array([by_phase[p] for p in PHASES])


def _phase_exposure(codes: np.ndarray, params: Params) -> np.ndarray:
    """Signed exposure to the basket in each phase."""
    return _phase_table(params)[codes]


def _calendar_days(index: pd.DatetimeIndex, params: Params) -> np.ndarray:
    """Calendar mode: the dotcom day number each date of ``index`` maps onto."""
    elapsed = _day_numbers(index) - _day_number(params["ai_start"])
    return _day_number(params["dotcom_start"]) + elapsed * params["time_scale"]


def _calendar_frame(index: pd.DatetimeIndex, params: Params) -> pd.DataFrame:
    mapped = _calendar_days(index, params)
    codes = _phase_codes(mapped, params)
    mapped_dates = _EPOCH + pd.to_timedelta(np.floor(mapped), unit="D")
    return pd.DataFrame(
        {
            "mapped_date": pd.DatetimeIndex(mapped_dates),
            "phase": np.array(PHASES, dtype=object)[codes],
            "error": np.nan,
            "scale": float(params["time_scale"]),
            "exposure": _phase_exposure(codes, params),
        },
        index=pd.DatetimeIndex(index, name="date"),
    )


_FITS = RecentValues(ANALOG_FIT_CACHE_SIZE)


def _fit_alignments(
    series: np.ndarray,
    bars: np.ndarray,
    window: int,
    ref: np.ndarray,
    ref_lens: np.ndarray,
    scales: np.ndarray,
    normalize: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Kernel call with a small content-addressed cache (sweeps over the action parameters refit nothing)."""
    digest = hashlib.blake2b(digest_size=20)
    for array in (series, bars, ref, ref_lens, scales):
        digest.update(np.ascontiguousarray(array).tobytes())
        digest.update(b"|")
    digest.update(f"{window}|{normalize}".encode())

    def fit() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        from shortthehype.core.analog_nb import best_alignments_nb

        ends = np.empty(len(bars), dtype=np.int64)
        scale_idx = np.empty(len(bars), dtype=np.int64)
        errors = np.empty(len(bars))
        best_alignments_nb(series, bars, window, ref, ref_lens, scales, normalize, ends, scale_idx, errors)
        return ends, scale_idx, errors

    return _FITS.get(digest.hexdigest(), fit)


def _reference_path(close: pd.DataFrame, params: Params) -> pd.Series:
    ticker = params["reference"]
    ref = close[ticker]
    ref = ref[(ref.index >= params["reference_start"]) & (ref.index <= params["reference_end"])].dropna()
    if (ref <= 0).any():
        raise DataError(f"{ticker}: non-positive closes in the reference period; cannot take logs")
    if len(ref) < 2:
        raise DataError(
            f"{ticker} has {len(ref)} close(s) between {format_value(params['reference_start'])} and "
            f"{format_value(params['reference_end'])}: path mode needs the Nasdaq Composite of the dotcom era "
            f"(IXIC.csv in the data directory, or ^IXIC from Yahoo)"
        )
    return ref


def _path_fit(
    close: pd.DataFrame, params: Params
) -> tuple[np.ndarray, pd.DatetimeIndex, np.ndarray, np.ndarray, np.ndarray]:
    """Path mode's best alignment on each decision bar: the bars, the matched reference dates, errors, scales.

    Returns ``(bars, matched, errors, scales, mapped)``: decision bar
    positions, the reference date of each best end bar (NaT where none was
    found), the fit errors, the time scale of each fit (NaN where none) and
    the matched dates as day numbers (NaN where none).
    """
    index = pd.DatetimeIndex(close.index)
    ref = _reference_path(close, params)
    basket = basket_index(close[list(params["tickers"])])
    series = np.ascontiguousarray(np.log(basket.to_numpy(dtype=np.float64)))
    mask = rebalance_mask(index, params["rebalance"]) & (index >= params["ai_start"])
    bars = np.flatnonzero(mask).astype(np.int64)
    # the reference known on each decision date: its closes up to that date only
    ref_lens = np.searchsorted(ref.index.to_numpy(), index[bars].to_numpy(), side="right").astype(np.int64)
    scales = scale_grid(params["scale_min"], params["scale_max"], params["scale_steps"])
    ref_log = np.ascontiguousarray(np.log(ref.to_numpy(dtype=np.float64)))
    ends, scale_idx, errors = _fit_alignments(
        series, bars, int(params["window"]), ref_log, ref_lens, scales, bool(params["normalize"])
    )
    found = ends >= 0
    ref_days = _day_numbers(ref.index)
    mapped = np.where(found, ref_days[np.where(found, ends, 0)], np.nan)
    matched = pd.DatetimeIndex(ref.index[np.where(found, ends, 0)]).where(found)
    return bars, matched, errors, np.where(found, scales[np.where(found, scale_idx, 0)], np.nan), mapped


def _path_frame(close: pd.DataFrame, params: Params) -> pd.DataFrame:
    bars, matched, errors, scales, mapped = _path_fit(close, params)
    codes = _phase_codes(mapped, params)
    return pd.DataFrame(
        {
            "mapped_date": matched,
            "phase": np.array(PHASES, dtype=object)[codes],
            "error": errors,
            "scale": scales,
            "exposure": _phase_exposure(codes, params),
        },
        index=pd.DatetimeIndex(close.index[bars], name="date"),
    )


def _path_days(close: pd.DataFrame, params: Params) -> np.ndarray:
    """Per bar, the mapped day number of the last path-mode decision at or before it (NaN: none yet, or not found)."""
    bars, _, _, _, mapped = _path_fit(close, params)
    out = np.full(len(close), np.nan)
    if len(bars):
        last = np.searchsorted(bars, np.arange(len(close)), side="right") - 1
        out = np.where(last >= 0, mapped[np.maximum(last, 0)], np.nan)
    return out


def _phase_frame(prices: Prices, params: Params) -> pd.DataFrame:
    if params["mode"] == "calendar":
        return _calendar_frame(prices.index, params)
    return _path_frame(prices.close, params)


def implied_phase(prices: Prices, params: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Where each date falls in the dotcom cycle, as the strategy sees it.

    Parameters
    ----------
    prices : Prices
        Closes of the basket tickers (and, in path mode, of the reference,
        ``IXIC`` by default), e.g. ``load_prices(AI_BASKET + ("IXIC",), ...)``.
    params : mapping, optional
        Any of the ``dotcom-analog`` parameters (others take their defaults);
        strings are accepted as on the command line.

    Returns
    -------
    DataFrame
        Indexed by ``date`` (calendar mode: every bar; path mode: every
        decision date, i.e. rebalance dates from ``ai_start`` on) with
        columns ``mapped_date`` (the dotcom date the date maps onto, whole
        days; NaT when path mode found no alignment), ``phase`` (one of
        :data:`PHASES`), ``error`` (path mode: mean squared error of the best
        alignment in log units squared, or 2(1 - correlation) with
        ``normalize``; NaN in calendar mode), ``scale`` (time scale used) and
        ``exposure`` (signed exposure to the basket the phase asks for).

    Raises
    ------
    ParamError, SpecError
        Unknown or invalid parameters (one line naming them).
    DataError
        A ticker is missing from ``prices``, or the reference has no closes in
        its period.
    """
    resolved = _resolve(params or {})
    missing = [t for t in _tickers(resolved) if t not in prices.tickers]
    if missing:
        raise DataError(f"dotcom-analog: prices have no data for {', '.join(missing)}")
    return _phase_frame(prices, resolved)


# ---- the kind ---------------------------------------------------------------------------


#: Parameters that define a path-mode fit (each distinct set is fitted once, the fits are cached).
_FIT_PARAMS = (
    "rebalance", "ai_start", "window", "scale_min", "scale_max", "scale_steps", "normalize", "reference_start",
    "reference_end",
)


def _kept_path_days(prices: Prices, params: Params) -> np.ndarray:
    """:func:`_path_days` of the fit ``params`` name, kept with the prices (as many as the fits kept): each run of
    a generic sweep or a study prepares its own parameters afresh, and a backtest's window notes read it again."""
    return prices.recent(
        ("dotcom-path-days", params["reference"], tuple(params["tickers"])), tuple(params[name] for name in _FIT_PARAMS),
        lambda: _path_days(prices.close, params), ANALOG_FIT_CACHE_SIZE,
    )


def _prepare(prices: Prices, params: Params, choices: Mapping[str, Sequence[Any]]) -> Prepared:
    """The basket's closes, the rebalance calendars, the bars' day numbers and, in path mode, each fit's mapping.

    In path mode every set of the fit parameters' values among ``choices``
    that the spec check allows (``scale_min <= scale_max``) has a row, fitted
    when a combination first uses it (``encode``): a random draw from a wide
    grid pays for the fits it draws, not for all of them.
    """
    close = np.ascontiguousarray(prices.close[list(params["tickers"])].to_numpy(dtype=np.float64))
    calendar_of = choice_index(choices["rebalance"])
    calendars = np.stack([rebalance_mask(prices.index, frequency) for frequency in calendar_of])
    fit_of: dict[tuple[Any, ...], int] = {}
    if params["mode"] == "path":
        for values in itertools.product(*(dict.fromkeys(choices[name]) for name in _FIT_PARAMS)):
            fit = dict(zip(_FIT_PARAMS, values))
            if fit["scale_min"] <= fit["scale_max"]:
                fit_of[values] = len(fit_of)
    path_days = np.empty((len(fit_of), len(prices)))

    def fit(values: tuple[Any, ...], row: int) -> None:
        path_days[row] = _kept_path_days(prices, {**params, **dict(zip(_FIT_PARAMS, values))})

    fit_row = rows_on_first_use(fit_of, fit)

    def encode(p: Params) -> tuple[list[int], list[float]]:
        ai_start = _day_number(p["ai_start"])
        fit = fit_row(tuple(p[name] for name in _FIT_PARAMS)) if p["mode"] == "path" else -1
        return [calendar_of[p["rebalance"]], fit], [ai_start, *_phase_bounds(p), p["time_scale"], *_phase_table(p)]

    return Prepared((close, calendars, _day_numbers(prices.index), path_days), encode)


#: The kind's target kernel in both modes, shared by ``backtest()`` and the fused sweep; path mode adds the
#: reference to the loaded tickers, so ``mode`` is a layout parameter.
FUSED = FusedTargets(
    params=(
        "mode", "rebalance", "exposure", "short_exposure", "after_peak", "after_trough", "lead_days", "ai_start",
        "dotcom_start", "dotcom_peak", "dotcom_trough", "time_scale", "window", "scale_min", "scale_max",
        "scale_steps", "normalize", "reference_start", "reference_end",
    ),
    columns=lambda params: list(params["tickers"]),
    prepare=_prepare,
    targets_nb=dotcom_analog_targets_nb,
    sweep_nb="dotcom_analog_sweep_nb",
    layout=("mode",),
)


def _target_weights(prices: Prices, params: Params) -> pd.DataFrame:
    return FUSED.targets(prices, params)


#: How a window note names each phase (the order of :data:`PHASES`).
_PHASE_WORDS = ("the time before the boom", "the boom", "the bust", "the recovery", "no phase (the fit found no alignment)")


def _window_notes(prices: Prices, params: Params, window: pd.DatetimeIndex) -> list[str]:
    """A window whose every bar maps into phases of one exposure: the run holds one position throughout, so its
    numbers are the basket's (or cash's) and say nothing of the analogy's timing; the default calendar run, whose
    mapped peak falls after the data end, is one.

    Every bar's exposure is its own phase's (a phase change emits a target row at once), so the phases of the
    window's bars decide it.
    """
    if params["mode"] == "calendar":
        mapped = _calendar_days(window, params)
    else:
        lo = prices.index.get_loc(window[0])
        mapped = _kept_path_days(prices, params)[lo : lo + len(window)]
    codes = _phase_codes(mapped, params)
    exposures = _phase_exposure(codes, params)
    if not len(exposures) or (exposures != exposures[0]).any():
        return []
    phases = " and ".join(_PHASE_WORDS[code] for code in sorted(set(codes.tolist())))
    found = mapped[np.isfinite(mapped)]
    span = ""
    if len(found):
        first, last = (f"{_EPOCH + pd.Timedelta(days=int(np.floor(day))):%Y-%m-%d}" for day in (found.min(), found.max()))
        span = f" ({first})" if first == last else f" ({first} to {last})"
    exposure = float(exposures[0])
    held = (
        f"long the basket at {exposure:g}x equity" if exposure > 0
        else f"short the basket at {-exposure:g}x equity" if exposure < 0
        else "in cash"
    )
    turn = params["dotcom_peak"] - pd.Timedelta(days=params["lead_days"])
    named = f"the peak {turn:%Y-%m-%d}" if not params["lead_days"] else f"{turn:%Y-%m-%d}, the peak less lead_days"
    if params["mode"] == "calendar":
        ai_days = (_day_number(turn) - _day_number(params["dotcom_start"])) / params["time_scale"]
        on = params["ai_start"] + pd.Timedelta(days=int(np.ceil(ai_days)))
        side = ", after the window" if on > window[-1] else ", before the window" if on < window[0] else ""
        named += f", maps onto {on:%Y-%m-%d}{side}"
    return [
        f"every bar of the window ({window[0]:%Y-%m-%d} to {window[-1]:%Y-%m-%d}) maps into "
        f"{phases} of the dotcom cycle{span}, so the strategy is {held} throughout and this result does not test "
        f"the analogy's timing (its turn, {named})"
    ]


def _synthetic_timing(key_dates: Mapping[str, pd.Timestamp]) -> dict[str, str]:
    """On a synthetic market: the AI era starts at its bubble's start, and time is scaled so that the mapped
    dotcom peak falls on its peak (what the analogy pays when its timing is right)."""
    bubble_start, peak = key_dates["bubble_start"], key_dates["peak"]
    scale = (pd.Timestamp(DOTCOM_PEAK) - pd.Timestamp(DOTCOM_START)).days / (peak - bubble_start).days
    return {"ai_start": bubble_start.strftime("%Y-%m-%d"), "time_scale": f"{scale:.6f}"}


DOTCOM_ANALOG = register(
    StrategyKind(
        name="dotcom-analog",
        summary="Hold the AI basket until the mapped dotcom peak, then short it (or cash) until the mapped trough.",
        params=PARAMS,
        tickers=_tickers,
        target_weights=_target_weights,
        check=_check,
        check_reads=(
            "dotcom_start", "dotcom_peak", "dotcom_trough", "lead_days", "scale_min", "scale_max", "scale_steps",
            "reference_start", "reference_end", "mode", "reference", "tickers", "window",
        ),
        fused=FUSED,
        report="shortthehype.strategies.dotcom_analog_report",
        window_notes=_window_notes,
        synthetic_timing=_synthetic_timing,
        oracle_timing="is timed by construction: its time scale puts the mapped dotcom peak on the scenario's peak",
    )
)
