"""Walk-forward optimisation: choose parameters on a training window, trade them on the next window.

``walkforward(spec, grid, train="3y", test="6m")`` cuts the backtest period
into consecutive test windows.  Before each one it sweeps ``grid`` over the
training window that ends on the bar before (rolling: the ``train`` length;
``anchored=True``: everything from the first bar), picks the combination
with the best ``objective`` and backtests it over the test window.  The
out-of-sample equity is the test windows' returns chained together.

Conventions:

* Lengths are a number and a unit: ``d`` (trading days, i.e. bars), ``w``
  (weeks), ``m`` (months), ``y`` (years).  Calendar lengths are measured on
  dates: a training window ``[t0, t0 + 3 years)``.  The last test window may
  be shorter; one with fewer than two bars is dropped.
* Indicators warm up on all data before a window (the runner's rule), so a
  window's first targets are those the strategy would have had by then; the
  parameters chosen for a window only use data up to the end of its training
  window.
* Each test window is a fresh backtest started from cash on the last training
  bar (the switch to the new parameters pays a full round trip of costs):
  with ``execution="next_open"`` its first trades fill at the open of the
  test window's first bar; with ``"close"`` at the training window's last
  close, the value before that trade being ``init_cash``.  Consecutive test
  windows meet on one bar, whose returns are compounded.
* In-sample objective: the best value of the training sweep.  Out-of-sample
  objective: the same metric of the test window's backtest.  The stitched
  statistics are :func:`shortthehype.metrics.compute_stats` of the chained
  curve.  Every window also reports its training sweep's DSR and PBO.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from shortthehype.constants import PBO_BLOCKS, SWEEP_DEFAULT_OBJECTIVE, WALKFORWARD_UNITS
from shortthehype.caveats import data_caveats
from shortthehype.data.prices import Prices
from shortthehype.data.source import PriceSource
from shortthehype.errors import DataError, ParamError
from shortthehype.params import format_value
from shortthehype.spec import StrategySpec, load_spec

__all__ = ["WalkForwardResult", "WalkForwardWindow", "parse_length", "walkforward", "walkforward_windows"]

_LENGTH = re.compile(r"^\s*(\d+)\s*([dwmy])\s*$", re.IGNORECASE)


def parse_length(text: str, name: str = "length") -> tuple[int, str]:
    """``"3y"`` -> ``(3, "y")``; units ``d`` (bars), ``w``, ``m``, ``y``.

    Raises
    ------
    ParamError
        Not a positive number followed by one of the units.
    """
    match = _LENGTH.match(str(text))
    if not match or int(match.group(1)) < 1:
        raise ParamError(
            f"parameter {name!r} is {text!r}: expected a positive number and a unit, "
            f"one of {', '.join(f'{u} ({w})' for u, w in WALKFORWARD_UNITS.items())}, e.g. 3y or 126d"
        )
    return int(match.group(1)), match.group(2).lower()


def _advance(index: pd.DatetimeIndex, position: int, length: tuple[int, str]) -> int:
    """Position of the first bar at or after ``length`` from bar ``position`` (len(index) if past the end)."""
    count, unit = length
    if unit == "d":
        return position + count
    offset = pd.DateOffset(**{WALKFORWARD_UNITS[unit]: count})
    return int(index.searchsorted(index[position] + offset, side="left"))


def walkforward_windows(
    index: pd.DatetimeIndex, train: str, test: str, anchored: bool = False
) -> list[tuple[int, int, int, int]]:
    """``(train_first, train_last, test_first, test_last)`` bar positions of every window.

    Test windows follow each other without gaps; each training window ends on
    the bar before its test window and spans ``train`` (or, anchored, starts
    at bar 0).  A final test window shorter than ``test`` is kept when it has
    at least two bars.

    Raises
    ------
    ParamError
        Bad lengths, or the data is too short for one training and one test window.
    """
    train_len = parse_length(train, "train")
    test_len = parse_length(test, "test")
    n = len(index)
    windows = []
    test_first = _advance(index, 0, train_len)
    while test_first < n:
        test_end = min(_advance(index, test_first, test_len), n)
        if test_end - test_first < 2:
            break
        train_last = test_first - 1
        if anchored:
            train_first = 0
        else:
            train_first = test_first
            # the training window is the `train` length ending at test_first
            lo, hi = 0, test_first
            while lo < hi:  # first bar whose window reaches test_first
                mid = (lo + hi) // 2
                if _advance(index, mid, train_len) >= test_first:
                    hi = mid
                else:
                    lo = mid + 1
            train_first = lo
        windows.append((train_first, train_last, test_first, test_end - 1))
        test_first = test_end
    if not windows:
        raise ParamError(
            f"the data ({index[0]:%Y-%m-%d} to {index[-1]:%Y-%m-%d}, {n} bars) is too short for a "
            f"{train} training window followed by a test window"
        )
    return windows


@dataclass(frozen=True)
class WalkForwardWindow:
    """One step: the training and test windows, the parameters chosen, and how they did."""

    train_start: pd.Timestamp
    train_end: pd.Timestamp
    test_start: pd.Timestamp
    test_end: pd.Timestamp
    params: dict[str, Any]
    in_sample: float  #: the objective of the chosen combination on the training window
    out_of_sample: float  #: the same objective on the test window
    n_trials: int
    dsr: float
    pbo: float


@dataclass
class WalkForwardResult:
    """Every window's choice and the stitched out-of-sample equity with its statistics."""

    spec_name: str
    objective: str
    train: str
    test: str
    anchored: bool
    windows: list[WalkForwardWindow]
    equity: pd.Series  #: chained out-of-sample equity, starting at init_cash before the first test bar
    stats: pd.Series  #: compute_stats of ``equity`` (a :class:`~shortthehype.metrics.Stats`)
    grid: dict[str, list[Any]] = field(default_factory=dict)
    #: what a reader must know first (synthetic prices), see :mod:`shortthehype.caveats`
    caveats: tuple[str, ...] = ()
    #: what the numbers assume (the ratios' zero risk-free rate when cash earns interest), one line each
    notes: tuple[str, ...] = ()

    def __repr__(self) -> str:
        kind = "anchored" if self.anchored else "rolling"
        value = self.stats.get(self.objective, float("nan"))
        return (
            f"WalkForwardResult({self.spec_name!r}, {len(self.windows)} {kind} windows of {self.train} / {self.test}, "
            f"stitched out-of-sample {self.objective} {value:.4g})"
        )

    def table(self) -> pd.DataFrame:
        """One row per window: dates, chosen parameters, in- and out-of-sample objective, DSR, PBO."""
        rows = []
        for w in self.windows:
            row = {
                "train_start": w.train_start,
                "train_end": w.train_end,
                "test_start": w.test_start,
                "test_end": w.test_end,
                **{k: (format_value(v) if isinstance(v, (list, dict)) else v) for k, v in w.params.items()},
                f"in_sample_{self.objective}": w.in_sample,
                f"out_of_sample_{self.objective}": w.out_of_sample,
                "n_trials": w.n_trials,
                "dsr": w.dsr,
                "pbo": w.pbo,
            }
            rows.append(row)
        return pd.DataFrame(rows)

    def to_document(self) -> dict[str, Any]:
        """The walk-forward as a report document (``type = "walkforward"``); missing values are null.

        Windows carry their dates (YYYY-MM-DD), chosen ``params``, ``in_sample``
        and ``out_of_sample`` objective, ``n_trials``, ``dsr`` and ``pbo``; ``equity``
        is the stitched out-of-sample curve and ``stats`` its statistics.
        """
        from shortthehype import __version__
        from shortthehype.params import json_value
        from shortthehype.documents import json_safe

        windows = [
            {
                "train_start": w.train_start, "train_end": w.train_end, "test_start": w.test_start, "test_end": w.test_end,
                "params": {k: json_value(v) for k, v in w.params.items()},
                "in_sample": w.in_sample, "out_of_sample": w.out_of_sample, "n_trials": w.n_trials, "dsr": w.dsr, "pbo": w.pbo,
            }
            for w in self.windows
        ]
        from shortthehype.caveats import caveat_fields

        return json_safe(
            {
                **caveat_fields(self.caveats),
                "type": "walkforward",
                "strategy": self.spec_name,
                "objective": self.objective,
                "train": self.train,
                "test": self.test,
                "anchored": self.anchored,
                "grid": {k: [json_value(v) for v in vs] for k, vs in self.grid.items()},
                "windows": windows,
                "in_sample_mean": self.in_sample_mean,
                "out_of_sample_mean": self.out_of_sample_mean,
                "equity": {"dates": [d.strftime("%Y-%m-%d") for d in self.equity.index],
                           "values": [float(v) for v in self.equity.to_numpy()]},
                "stats": {k: float(v) for k, v in self.stats.items()},
                "notes": list(self.notes),
                "version": __version__,
            }
        )

    @property
    def in_sample_mean(self) -> float:
        """Mean of the windows' in-sample objectives."""
        return float(np.nanmean([w.in_sample for w in self.windows])) if self.windows else float("nan")

    @property
    def out_of_sample_mean(self) -> float:
        """Mean of the windows' out-of-sample objectives."""
        return float(np.nanmean([w.out_of_sample for w in self.windows])) if self.windows else float("nan")


def walkforward(
    spec_or_name: str | os.PathLike[str] | StrategySpec | Mapping[str, Any],
    grid: Mapping[str, Any] | None = None,
    *,
    train: str = "3y",
    test: str = "6m",
    anchored: bool = False,
    overrides: Mapping[str, Any] | None = None,
    prices: Prices | None = None,
    prices_from: PriceSource | None = None,
    source: str | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    offline: bool = False,
    objective: str = SWEEP_DEFAULT_OBJECTIVE,
    n_blocks: int = PBO_BLOCKS,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> WalkForwardResult:
    """Walk-forward optimisation of ``grid`` (see the module docstring for the conventions).

    Parameters
    ----------
    spec_or_name, grid, overrides, prices, prices_from, source, data_dir, cache_dir, offline, objective
        As for :func:`shortthehype.sweeps.sweep` (``start``/``end`` bound the whole walk).
    train, test
        Window lengths, e.g. ``"3y"``, ``"6m"``, ``"126d"``.
    anchored
        Training windows all start at the first bar (expanding) instead of rolling.
    n_blocks
        S of each training sweep's PBO (0 to skip it; short windows give NaN).
    workers
        Local worker processes of each training sweep.
    progress
        Called as ``progress(windows_done, windows_total)``.

    Returns
    -------
    WalkForwardResult

    Raises
    ------
    ParamError
        Bad lengths or grid; data too short for one window.
    DataError
        Missing prices.
    """
    from shortthehype.metrics import compute_stats, stats_series
    from shortthehype.runner import backtest, ratios_rate_note
    from shortthehype.sweeps import build_axes, sweep
    from shortthehype.sweeps.chunks import stats_curve
    from shortthehype.sweeps.grid import valid_ids
    from shortthehype.sweeps.plan import load_prices

    spec = spec_or_name if isinstance(spec_or_name, StrategySpec) else load_spec(spec_or_name)
    if overrides:
        spec = spec.with_overrides(overrides)
    spec = replace(spec, run={**spec.run, "benchmark": None})
    axes = build_axes(spec, grid if grid else spec.sweep)
    for axis in axes:
        if axis.name in ("start", "end"):
            raise ParamError(f"walk-forward sets 'start' and 'end' itself: remove {axis.name!r} from the grid")
    if prices is None:
        shape = tuple(len(a.values) for a in axes)
        origin = PriceSource.coerce(prices_from, source=source, data_dir=data_dir, cache_dir=cache_dir, offline=offline)
        prices = load_prices(spec, axes, shape, valid_ids(spec, axes, shape), origin)
    calendar = prices.select(spec.tickers()).index
    start, end = spec.run.get("start"), spec.run.get("end")
    calendar = calendar[(calendar >= start) if start is not None else np.ones(len(calendar), bool)]
    calendar = calendar[(calendar <= end) if end is not None else np.ones(len(calendar), bool)]
    if len(calendar) < 4:
        raise DataError(f"{spec.where}: fewer than 4 trading days to walk forward over")
    windows = walkforward_windows(calendar, train, test, anchored)
    grid_values = {a.name: list(a.values) for a in axes}
    results: list[WalkForwardWindow] = []
    pieces: list[pd.Series] = []
    if progress is not None:
        progress(0, len(windows))
    for number, (train_first, train_last, test_first, test_last) in enumerate(windows, start=1):
        dates = {"start": calendar[train_first], "end": calendar[train_last]}
        found = sweep(spec, grid_values, overrides=dates, prices=prices, objective=objective, n_blocks=n_blocks,
                      workers=workers, force=True)
        best = found.best
        if best is None:
            raise DataError(
                f"{spec.where}: no combination has a defined {objective} on the training window "
                f"{dates['start']:%Y-%m-%d} to {dates['end']:%Y-%m-%d}"
            )
        params = found.best_params
        run = backtest(spec.with_overrides({**params, "start": calendar[train_last], "end": calendar[test_last]}),
                       prices=prices)
        curve = stats_curve(run)
        dates_of_curve = run.result.equity.index
        if len(curve) > len(dates_of_curve):  # init_cash before the first bar (execution at the close)
            returns = pd.Series(curve[1:] / curve[:-1] - 1.0, index=dates_of_curve)
        else:
            returns = pd.Series(curve[1:] / curve[:-1] - 1.0, index=dates_of_curve[1:])
        pieces.append(returns)
        results.append(
            WalkForwardWindow(
                train_start=calendar[train_first],
                train_end=calendar[train_last],
                test_start=calendar[test_first],
                test_end=calendar[test_last],
                params=params,
                in_sample=float(best[objective]),
                out_of_sample=float(run.stats[objective]),
                n_trials=found.n_run,
                dsr=found.dsr.dsr if found.dsr else float("nan"),
                pbo=found.pbo.pbo if found.pbo else float("nan"),
            )
        )
        if progress is not None:
            progress(number, len(windows))
    chained = pd.concat(pieces)
    growth = (1.0 + chained).groupby(level=0, sort=True).prod()  # boundary bars: compound both windows
    init_cash = float(spec.engine["init_cash"])
    first = calendar[windows[0][1]]  # the last training bar: the value before the first test return
    if growth.index[0] <= first:  # execution at the close trades on that bar: start a day earlier (as Result.stats)
        first = growth.index[0] - pd.Timedelta(days=1)
    equity = pd.concat([pd.Series([init_cash], index=pd.DatetimeIndex([first])), init_cash * growth.cumprod()])
    equity.name = "out_of_sample_equity"
    return WalkForwardResult(
        spec_name=spec.name,
        objective=objective,
        train=train,
        test=test,
        anchored=anchored,
        windows=results,
        equity=equity,
        stats=stats_series(compute_stats(equity), "stitched out of sample"),
        grid=grid_values,
        caveats=data_caveats(prices.source),
        notes=ratios_rate_note(spec, prices, grid_values.get("cash_rate"), runs="a combination",
                               follows="; each window's choice and the stitched statistics read these ratios"),
    )
