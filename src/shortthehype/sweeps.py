"""Parameter sweeps: backtest every combination of a grid, rank them, and measure the overfitting.

``sweep(spec, {"fast": "2:100:1", "slow": "2:100:1"})`` runs one backtest per
combination of the grid's values and returns a :class:`SweepResult` whose
``table`` has one row per combination: the swept parameters, then the
metrics named as in the backtest JSON (``end_value``, ``total_return``,
``cagr``, ``annual_volatility``, ``sharpe``, ``sortino``, ``max_drawdown``,
``calmar``) and ``bankrupt``.  Every value equals what
:func:`shortthehype.backtest` gives for that combination (the same prices,
window, engine and metric kernels).

How combinations run
--------------------
* **Fused** (a kind with a ``fused`` kernel, :mod:`shortthehype.fused`:
  ``ma-crossover``, ``fixed-weights``, ``ai-basket``, ``hype-hedge``,
  ``dotcom-analog`` in calendar mode, swept over the parameters its kernel takes and the scalar costs ``fees``, ``fixed_fees``,
  ``slippage``, ``borrow_fee``, ``stop_loss``, ``take_profit``,
  ``trailing_stop``): one numba kernel, parallel over combinations.  Every
  indicator is computed once per distinct window; memory grows with threads
  x bars, never with combinations.  ``path="generic"`` forces the other path.
* **Generic** (any other spec or parameter, user strategies included):
  each combination is ``spec.with_overrides(combination)`` run through
  :func:`shortthehype.backtest` on prices loaded once; chunks of combinations
  go to worker processes (the prices are shipped once per worker) or, with
  ``executor="dask"``, to dask.distributed workers running the same chunk
  function.

Grids, invalid combinations, budgets
------------------------------------
Grid values are lists, ``"v1,v2,v3"`` or ``"start:stop:step"`` (stop
included), typed and checked like ``--set`` values; any setting of the spec
can be swept (strategy parameters, engine options, ``start``/``end``;
``weights.SPY`` sets one entry of a mapping).  Combinations the strategy
declares invalid (``ma-crossover`` with ``fast >= slow``) are skipped and
counted.  A grid whose estimated run time or result memory is beyond
``SWEEP_MAX_SECONDS`` / ``SWEEP_MAX_MEMORY_FRACTION`` of the machine's
memory, or whose product exceeds ``SWEEP_MAX_GRID``, is refused with the
estimate unless ``force=True``.

Distinct trials
---------------
A parameter that does not apply to a combination (``Param.applies``:
``moneyness`` with ``instrument = "stock"``) cannot change its backtest, and
an entry date before an explicit ``start`` is clamped to it (the window rule
of :mod:`shortthehype.spec`).  Combinations that are the same once that is
taken into account run once: the first of them in grid order stands for all,
its row shows the values the run used (empty where a parameter does not
apply) and ``n_duplicate`` counts the others.  ``random`` draws among the
distinct combinations.

Results on disk
---------------
With ``out=...`` every finished chunk is written at once (atomically) to
``<out>.parts/``; an interrupted sweep (Ctrl-C, a killed process) keeps
them, and ``resume=True`` runs only the missing chunks.  Each part carries
the sweep's fingerprint, its combination ids and a checksum; a resume keeps
only the parts that match and recomputes any other (truncated, damaged,
copied).  The fingerprint covers the spec, the grid and the prices, never the
chunk size or the machine's speed: a resume reuses the stored chunking.  At
the end the parts are merged into the single Parquet file ``out`` (one row
group per chunk; the sweep's settings, overfitting statistics and a checksum
of the rows in its metadata) and the parts directory is removed.  A resumed
sweep's file equals an uninterrupted run's.

Overfitting statistics
----------------------
Every sweep reports the Deflated Sharpe Ratio of the best combination and
the PBO by CSCV (:mod:`shortthehype.overfitting`): N = every distinct
combination run, per-period Sharpe ratios; the best combination's skewness and raw
kurtosis come from re-running it with :func:`shortthehype.backtest`.  The PBO
needs all trials on the same bars, so it is NaN when a sweep varies the
dates or the tickers' listing windows (the reason is in ``pbo_note``).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
import pickle
import shutil
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from shortthehype.constants import (
    ANNUALIZATION,
    PBO_BLOCKS,
    PBO_MAX_EVALUATIONS,
    SWEEP_DEFAULT_OBJECTIVE,
    SWEEP_FUSED_CHUNK_WORK,
    SWEEP_FUSED_SECONDS_PER_BAR,
    SWEEP_GENERIC_CHUNK,
    SWEEP_MAX_GRID,
    SWEEP_MAX_MEMORY_FRACTION,
    SWEEP_MAX_SECONDS,
    SWEEP_OBJECTIVES,
    SWEEP_PROCESS_MIN_SECONDS,
)
from shortthehype.data.prices import Prices
from shortthehype.errors import DataError, ParamError, ShortTheHypeError, SpecError, did_you_mean
from shortthehype.overfitting import DeflatedSharpe, PBOResult, block_layout, deflated_sharpe, pbo_from_block_sums_t
from shortthehype.params import Param, format_value, inactive_params, json_value
from shortthehype.caveats import data_caveats
from shortthehype.ranking import rank_rows
from shortthehype.spec import StrategySpec, coerce_sweep_values, follow_window, load_spec

__all__ = ["SWEEP_METRICS", "SWEEP_PATHS", "SweepResult", "is_empty_cell", "load_sweep", "parse_grid", "sweep"]

#: Metric columns of a sweep table, in order (names as in the backtest JSON's metrics).
SWEEP_METRICS = ("end_value", "total_return", "cagr", "annual_volatility", "sharpe", "sortino", "max_drawdown", "calmar")
#: Key of the sweep's settings in the Parquet file's metadata.
PARQUET_METADATA_KEY = b"shortthehype.sweeps"
#: Values of ``sweep(path=...)`` / ``--path``.
SWEEP_PATHS = ("auto", "fused", "generic")
_FLOAT_ITEM = Param("item", "float", None, "one entry of a mapping")


# ---- grids ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Axis:
    """One swept setting: its name as given (``weights.SPY`` for a mapping entry), section and values."""

    name: str
    section: str  # "params", "engine" or "run"
    values: tuple[Any, ...]

    @property
    def base(self) -> str:
        return self.name.partition(".")[0]


def parse_grid(items: Iterable[str]) -> dict[str, str]:
    """``["fast=2:100:1", "direction=long,longshort"]`` -> ``{"fast": "2:100:1", "direction": "long,longshort"}``.

    Raises
    ------
    ParamError
        An item is not ``key=values`` or a key is given twice.
    """
    grid: dict[str, str] = {}
    for item in items:
        key, sep, values = item.partition("=")
        key = key.strip()
        if not sep or not key or not values.strip():
            raise ParamError(f"--grid {item!r} is not key=values (e.g. fast=2:100:1 or direction=long,longshort)")
        if key in grid:
            raise ParamError(f"--grid {key!r} is given twice; put every value in one list (a,b,c)")
        grid[key] = values.strip()
    return grid


def build_axes(spec: StrategySpec, grid: Mapping[str, Any]) -> tuple[Axis, ...]:
    """Typed, de-duplicated values of every grid key (checked against the spec's settings)."""
    schema = spec.schema()
    axes = []
    for key, raw in grid.items():
        key = str(key)
        name, _, item = key.partition(".")
        if name not in schema:
            raise ParamError(
                f"{spec.where}: cannot sweep unknown parameter {name!r}{did_you_mean(name, schema)} "
                f"(settable: {', '.join(sorted(schema))})"
            )
        section, param = schema[name]
        if item:
            if param.type not in ("weights", "float_or_map"):
                raise ParamError(f"{spec.where}: parameter {name!r} is not a mapping, so {key!r} cannot be swept")
            param = replace(_FLOAT_ITEM, name=key)
            key = f"{name}.{item.upper()}"
        values = coerce_sweep_values(param, raw, f"{spec.where} (grid)")
        unique: dict[tuple[str, str], Any] = {}
        for value in values:  # linear: a dict keyed by content; the first of equal values is kept
            unique.setdefault(_identity(value), value)
        axes.append(Axis(key, section, tuple(unique.values())))
    names = [axis.name for axis in axes]
    for axis in axes:
        if names.count(axis.name) > 1:
            raise ParamError(f"{spec.where}: {axis.name!r} appears twice in the grid")
        if "." in axis.name and axis.base in names:
            raise ParamError(f"{spec.where}: the grid sweeps both {axis.base!r} and its entry {axis.name!r}; keep one")
    if not axes:
        raise ParamError(f"{spec.where}: the grid is empty: give --grid key=values or a [sweep] table in the spec")
    return tuple(axes)


def _identity(value: Any) -> tuple[str, str]:
    """A hashable key equal for equal values of the same type (mappings and lists by content)."""
    return type(value).__name__, json.dumps(_json_safe(json_value(value)), sort_keys=True, default=str)


def _same(a: Any, b: Any) -> bool:
    """Two values of one axis are the same setting (same type and equal)."""
    try:
        return bool(a == b) and type(a) is type(b)
    except (TypeError, ValueError):
        return False


def _decode(ids: np.ndarray, shape: tuple[int, ...]) -> list[np.ndarray]:
    """Per-axis value positions of flat combination numbers (last axis fastest)."""
    return list(np.unravel_index(np.asarray(ids, dtype=np.int64), shape)) if shape else []


@dataclass(frozen=True)
class _Effective:
    """What each combination of the grid's conditional axes amounts to.

    ``axes`` are the positions (in the grid) of the swept strategy parameters
    that can stop applying or move with the window, of the parameters their
    conditions name, and of ``start`` when an entry date is swept.  Row ``r``
    of ``positions`` is sub-combination ``r`` of those axes (C order), each
    axis' position in ``values`` of the value the run uses: -1 where the
    parameter does not apply, a clamped entry date's own position otherwise
    (``values`` extends the axis' grid values with the dates clamping made).
    """

    axes: tuple[int, ...]
    values: tuple[tuple[Any, ...], ...]
    positions: np.ndarray  # (n_sub, len(axes)) int64


def _effective_grid(spec: StrategySpec, axes: tuple[Axis, ...]) -> _Effective | None:
    """The effective value of every conditional axis in each sub-combination (None: nothing is conditional)."""
    declared = {p.name: p for p in spec.kind.params}
    conditional = {
        a.base for a in axes if a.section == "params" and (declared[a.base].applies or declared[a.base].moves_window)
    }
    if not conditional:
        return None
    needed, todo = set(conditional), list(conditional)
    while todo:
        for condition, _ in declared[todo.pop()].applies:
            if condition not in needed:
                needed.add(condition)
                todo.append(condition)
    if any(declared[name].moves_window for name in conditional):
        needed.add("start")
    chosen = tuple(k for k, a in enumerate(axes) if a.base in needed)
    overridden = spec.overridden | {a.name for a in axes}
    values = [list(axes[k].values) for k in chosen]
    rows = []
    for positions in itertools.product(*(range(len(axes[k].values)) for k in chosen)):  # C order
        params, run = dict(spec.params), dict(spec.run)
        for k, p in zip(chosen, positions):
            axis = axes[k]
            name, _, item = axis.name.partition(".")
            if item:
                params[name] = {**params[name], item: axis.values[p]}
            else:
                (params if axis.section == "params" else run)[name] = axis.values[p]
        params, _, _ = follow_window(spec.kind.params, params, run, overridden)
        inactive = inactive_params(spec.kind.params, params)
        row = []
        for j, (k, p) in enumerate(zip(chosen, positions)):
            axis = axes[k]
            if axis.base in inactive:
                row.append(-1)
            elif axis.section == "params" and declared[axis.base].moves_window:
                value = params[axis.name]
                matches = [i for i, seen in enumerate(values[j]) if _same(value, seen)]
                if not matches:
                    values[j].append(value)
                row.append(matches[0] if matches else len(values[j]) - 1)
            else:
                row.append(p)
        rows.append(row)
    return _Effective(chosen, tuple(tuple(v) for v in values), np.asarray(rows, dtype=np.int64).reshape(-1, len(chosen)))


def _effective_positions(effective: _Effective | None, ids: np.ndarray, shape: tuple[int, ...]) -> list[np.ndarray]:
    """Per-axis positions of the values the combinations ``ids`` run with (-1: the parameter does not apply)."""
    positions = _decode(ids, shape)
    if effective is None or not len(ids):
        return positions
    sub = np.ravel_multi_index([positions[k] for k in effective.axes], [shape[k] for k in effective.axes])
    for j, k in enumerate(effective.axes):
        positions[k] = effective.positions[sub, j]
    return positions


def _distinct(effective: _Effective | None, ids: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """The first of ``ids`` (sorted) of each distinct effective combination."""
    if effective is None or not len(ids):
        return ids
    keys = np.stack(_effective_positions(effective, ids, shape), axis=1)
    _, first = np.unique(keys, axis=0, return_index=True)
    return ids[np.sort(first)]


# ---- the sweep plan (what a chunk needs; shipped once to each worker) ----------------------


@dataclass
class _Plan:
    spec: StrategySpec
    prices: Prices
    axes: tuple[Axis, ...]
    mode: str  # "fused" or "generic"
    n_blocks: int
    effective: _Effective | None = None
    cache: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(axis.values) for axis in self.axes)

    def combination(self, combo_id: int) -> dict[str, Any]:
        positions = np.unravel_index(int(combo_id), self.shape)
        return {axis.name: axis.values[int(p)] for axis, p in zip(self.axes, positions)}

    def __getstate__(self) -> dict[str, Any]:
        from shortthehype.strategies.base import strategy_kind

        spec = self.spec
        # a kind is shipped by name; one specialised to a file (kind "python") is rebuilt from the spec file
        from_file = strategy_kind(spec.kind.name) is not spec.kind
        if from_file and spec.path is None:
            raise TypeError(f"the {spec.kind.name!r} kind of {spec.where} cannot be rebuilt in another process")
        return {
            "from_file": from_file,
            "spec": {
                "kind": spec.kind.name,
                "name": spec.name,
                "description": spec.description,
                "params": spec.params,
                "engine": spec.engine,
                "run": spec.run,
                "sweep": spec.sweep,
                "path": spec.path,
                "overridden": spec.overridden,
                "notes": spec.notes,
            },
            "prices": self.prices,
            "axes": self.axes,
            "mode": self.mode,
            "n_blocks": self.n_blocks,
            "effective": self.effective,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        from shortthehype.strategies.base import strategy_kind

        fields = dict(state["spec"])
        fields["kind"] = load_spec(fields["path"]).kind if state["from_file"] else strategy_kind(fields["kind"])
        self.spec = StrategySpec(**fields)
        self.prices = state["prices"]
        self.axes = state["axes"]
        self.mode = state["mode"]
        self.n_blocks = state["n_blocks"]
        self.effective = state["effective"]
        self.cache = {}


@dataclass
class _Chunk:
    """Results of a chunk of combinations: the table rows, per-block sums, and each trial's bars."""

    ids: np.ndarray
    table: pd.DataFrame
    blocks: np.ndarray  # (n, S, 2), NaN when the trial has too few returns
    windows: np.ndarray  # (n,) str "first..last/n_returns": the PBO needs them all equal


def run_chunk(plan: _Plan, ids: np.ndarray) -> _Chunk:
    """Backtest the combinations ``ids`` of ``plan`` (the unit of work of every executor)."""
    ids = np.asarray(ids, dtype=np.int64)
    if plan.mode == "fused":
        stats, blocks, windows = plan.spec.kind.fused.chunk(plan, ids)
    else:
        stats, blocks, windows = _generic_chunk(plan, ids)
    table = _param_frame(plan, ids)
    for k, name in enumerate(SWEEP_METRICS):
        table[name] = stats[:, k]
    table["bankrupt"] = stats[:, len(SWEEP_METRICS)] != 0
    return _Chunk(ids=ids, table=table, blocks=blocks, windows=np.asarray(windows, dtype=object))


def _param_frame(plan: _Plan, ids: np.ndarray) -> pd.DataFrame:
    """The swept settings of ``ids`` as each run used them: empty (null) where a parameter does not apply."""
    columns: dict[str, Any] = {"combination": ids}
    effective = plan.effective
    shown = {k: values for k, values in zip(effective.axes, effective.values)} if effective else {}
    nullable = {k: bool((effective.positions[:, j] < 0).any()) for j, k in enumerate(effective.axes)} if effective else {}
    for k, (axis, positions) in enumerate(zip(plan.axes, _effective_positions(effective, ids, plan.shape))):
        column = _axis_column(shown.get(k, axis.values), nullable.get(k, False))
        columns[axis.name] = column(positions)
    return pd.DataFrame(columns)


def _axis_column(values: Sequence[Any], nullable: bool = False) -> Callable[[np.ndarray], Any]:
    """Positions (-1 = null) -> a column of ``values``: bool, int64, float64, datetime64[us] or categorical text.

    With ``nullable`` a bool or int column is pandas' nullable ``boolean`` /
    ``Int64`` (fixed per axis, so that every chunk has the same dtype).
    """
    if all(isinstance(v, (bool, np.bool_)) for v in values):
        table, masked = np.asarray(values, dtype=bool), pd.arrays.BooleanArray
    elif all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values):
        table, masked = np.asarray(values, dtype=np.int64), pd.arrays.IntegerArray
    elif all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) for v in values):
        table = np.append(np.asarray(values, dtype=np.float64), np.nan)  # position -1: NaN
        return lambda positions: table[positions]
    elif all(isinstance(v, pd.Timestamp) for v in values):
        dates = pd.DatetimeIndex(list(values) + [pd.NaT]).as_unit("us")  # position -1: NaT
        return lambda positions: dates[positions]
    else:  # text (choices, tickers, lists, mappings): categories in the grid's order, the same in every chunk
        text = [format_value(v) for v in values]
        categories = list(dict.fromkeys(text))
        codes = np.asarray([categories.index(t) for t in text] + [-1], dtype=np.int64)  # position -1: null
        return lambda positions: pd.Categorical.from_codes(codes[positions], categories=categories)
    if nullable:
        return lambda positions: masked(table[np.maximum(positions, 0)], positions < 0)
    return lambda positions: table[positions]



# ---- the generic path: one backtest per combination ----------------------------------------


def _generic_chunk(plan: _Plan, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[str]]:
    from shortthehype.core.sweep_nb import N_SWEEP_STATS

    stats = np.empty((len(ids), N_SWEEP_STATS))
    blocks = np.full((len(ids), plan.n_blocks, 2), np.nan)
    windows = []
    for row, combo_id in enumerate(ids):
        combination = plan.combination(int(combo_id))
        spec = plan.spec.with_overrides(combination)
        windows.append(_run_one(spec, plan.prices, plan.n_blocks, stats[row], blocks[row], combination))
    return stats, blocks, windows


def _run_one(
    spec: StrategySpec, prices: Prices, n_blocks: int, out: np.ndarray, blocks: np.ndarray, combination: Mapping[str, Any]
) -> str:
    """Backtest one spec; statistics into ``out`` (SWEEP_STATS order), block sums into ``blocks``; returns its window."""
    from shortthehype.core.sweep_nb import sweep_stats_nb
    from shortthehype.runner import backtest

    try:
        run = backtest(spec, prices=prices)
    except ShortTheHypeError as exc:
        shown = ", ".join(f"{k}={format_value(v)}" for k, v in combination.items())
        raise type(exc)(f"sweep combination {shown}: {exc}") from None
    curve = _stats_curve(run)
    returns = np.empty(len(curve))
    n_obs = len(curve) - 1
    start, length = _layout_or_none(n_obs, n_blocks)
    status = 1 if run.result.bankrupt else 0
    sweep_stats_nb(curve, returns, float(ANNUALIZATION), status, start, length, out, blocks if length else blocks[:0])
    return f"{run.start:%Y-%m-%d}..{run.end:%Y-%m-%d}/{n_obs}"


def _stats_curve(run: Any) -> np.ndarray:
    """The equity curve ``Result.stats`` measures: ``init_cash`` first when the execution is at the close."""
    equity = run.result.equity.to_numpy(dtype=np.float64)
    if run.result.execution == "close":
        equity = np.concatenate([[run.result.init_cash], equity])
    return np.ascontiguousarray(equity)


def _layout_or_none(n_obs: int, n_blocks: int) -> tuple[int, int]:
    if n_blocks == 0 or n_obs < 2 * n_blocks:
        return 0, 0
    return block_layout(n_obs, n_blocks)


# ---- the fused path: the kind's own kernel (shortthehype.fused) ------------------------------


def _fused_unsupported(spec: StrategySpec, axes: Sequence[Axis]) -> str | None:
    """Why the fused path cannot run this grid (None: the kind's kernel takes it)."""
    if spec.kind.fused is None:
        return f"kind {spec.kind.name!r} has no fused kernel"
    return spec.kind.fused.unsupported(spec, axes)


# ---- results ---------------------------------------------------------------------------------


@dataclass
class SweepResult:
    """Everything a sweep found: one table row per combination run, the best, the overfitting statistics.

    ``table`` has the ``combination`` number (position in the grid, last key
    fastest), one column per swept setting, the :data:`SWEEP_METRICS` and
    ``bankrupt``, sorted by combination.  ``dsr``/``pbo`` are None when no
    combination has a defined objective.
    """

    spec_name: str
    kind: str
    table: pd.DataFrame
    objective: str
    grid: dict[str, list[Any]]
    n_grid: int  #: size of the full grid (product of the value counts)
    n_invalid: int  #: combinations the strategy declared invalid (skipped)
    n_run: int  #: distinct combinations backtested (the trials the DSR and PBO count)
    mode: str  #: "fused" or "generic"
    seconds: float
    dsr: DeflatedSharpe | None = None
    pbo: PBOResult | None = None
    pbo_note: str = ""
    random: int | None = None
    seed: int | None = None
    window: str = ""
    path: Path | None = None
    fingerprint: str = ""
    #: valid combinations identical to another once the parameters that do not apply are left out and entry
    #: dates are clamped to the window (not run again)
    n_duplicate: int = 0
    #: settings fixed for the whole sweep that have no effect, or were adjusted to the window (one line each)
    warnings: tuple[str, ...] = ()
    #: what a reader must know first (synthetic prices), see :mod:`shortthehype.caveats`
    caveats: tuple[str, ...] = ()

    @property
    def n_distinct(self) -> int:
        """Distinct effective combinations of the grid (``n_run`` unless ``random`` drew fewer)."""
        return self.n_grid - self.n_invalid - self.n_duplicate

    def __repr__(self) -> str:
        best = self.best
        found = "no defined objective" if best is None else f"best {self.objective} {best[self.objective]:.4g} at {self.best_params}"
        return f"SweepResult({self.spec_name!r}, {self.n_run:,} of {self.n_grid:,} combinations, {found})"

    def plot(self, x: str | None = None, y: str | None = None) -> Any:
        """A plotly heatmap of the best objective over two swept settings (a line over one); default: the first two."""
        from shortthehype.report.notebook import sweep_figure

        return sweep_figure(self.to_document(x=x, y=y))

    @property
    def parameter_columns(self) -> list[str]:
        return list(self.grid)

    @property
    def best(self) -> pd.Series | None:
        """The solvent row with the highest objective (NaN objectives and bankrupt runs never win), or None."""
        values = self.table[self.objective].where(~self._bankrupt())
        if values.notna().sum() == 0:
            return None
        return self.table.loc[values.idxmax()]

    def _bankrupt(self) -> pd.Series:
        if "bankrupt" not in self.table.columns:
            return pd.Series(False, index=self.table.index)
        return self.table["bankrupt"].astype(bool)

    @property
    def best_params(self) -> dict[str, Any]:
        """The best combination as a setting -> value mapping (for ``backtest(..., overrides=...)``).

        Parameters that do not apply to it (empty in the table) are left out.
        """
        best = self.best
        if best is None:
            return {}
        return {name: _plain(best[name]) for name in self.grid if not is_empty_cell(best[name])}

    def top(self, k: int = 10, by: str | None = None, ascending: bool = False) -> pd.DataFrame:
        """The ``k`` best rows by ``by`` (default: the objective); NaN last, bankrupt runs after every solvent one."""
        column = by or self.objective
        if column not in self.table.columns:
            raise ParamError(f"cannot sort by {column!r}{did_you_mean(column, self.table.columns)}")
        if isinstance(k, bool) or int(k) < 0:
            raise ParamError(f"--top must be an integer >= 0, got {k!r}")
        return rank_rows(self.table, column, ascending=ascending).head(int(k))

    def metadata(self) -> dict[str, Any]:
        """The JSON document stored in the Parquet file (everything but the table)."""
        from shortthehype import __version__

        from shortthehype.caveats import caveat_fields

        return _json_safe(
            {
                **caveat_fields(self.caveats),
                "strategy": self.spec_name,
                "kind": self.kind,
                "objective": self.objective,
                "grid": {k: [json_value(v) for v in vs] for k, vs in self.grid.items()},
                "n_grid": self.n_grid,
                "n_invalid": self.n_invalid,
                "n_duplicate": self.n_duplicate,
                "n_run": self.n_run,
                "mode": self.mode,
                "seconds": self.seconds,
                "random": self.random,
                "seed": self.seed,
                "window": self.window,
                "dsr": self.dsr.to_dict() if self.dsr else None,
                "pbo": self.pbo.to_dict() if self.pbo else None,
                "pbo_note": self.pbo_note,
                "best": {k: json_value(v) for k, v in self.best_params.items()},
                "fingerprint": self.fingerprint,
                "version": __version__,
            }
        )


    def to_document(self, *, x: str | None = None, y: str | None = None) -> dict[str, Any]:
        """The sweep as a report document: :meth:`metadata`, ``type = "sweep"`` and the whole table.

        ``table`` is ``{"columns": [...], "data": {column: [values]}}`` (missing
        values are null, categories their values); ``heatmap`` names the two
        swept settings of the report's objective heatmap (None: the first two).
        Render it with :func:`shortthehype.report.render`.
        """
        data = {}
        for name in self.table.columns:
            column = self.table[name]
            values = column.astype(object).tolist() if isinstance(column.dtype, pd.CategoricalDtype) else column.tolist()
            data[str(name)] = [
                None if is_empty_cell(v) else json_value(v) if isinstance(v, (list, dict, tuple)) else v for v in values
            ]
        return _json_safe(
            {
                "type": "sweep",
                **self.metadata(),
                "heatmap": {"x": x, "y": y},
                "table": {"columns": [str(c) for c in self.table.columns], "data": data},
            }
        )


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return value


def is_empty_cell(value: Any) -> bool:
    """An empty table cell (None, NaN, NaT, pd.NA): the parameter does not apply to that combination."""
    return pd.api.types.is_scalar(value) and bool(pd.isna(value))


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, np.generic):
        return _json_safe(value.item())
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    return value


def load_sweep(path: str | os.PathLike[str]) -> SweepResult:
    """Read a sweep's Parquet file (written by :func:`sweep` with ``out=``) back into a :class:`SweepResult`.

    The overfitting statistics come from the file's metadata (``pbo.logits``
    is not stored: it is empty).
    """
    import pyarrow.parquet as pq

    file = Path(path)
    if not file.is_file():
        raise DataError(f"{file}: sweep results file not found")
    try:
        parquet = pq.ParquetFile(file)
        raw = (parquet.schema_arrow.metadata or {}).get(PARQUET_METADATA_KEY)
        table = parquet.read().to_pandas()
    except Exception as exc:  # noqa: BLE001 - pyarrow raises several types for a damaged file
        message = " ".join(str(exc).split())
        raise DataError(f"{file}: not a readable Parquet file ({type(exc).__name__}: {message})") from None
    if raw is None:
        raise DataError(f"{file}: not a shortthehype sweep results file (no sweep metadata)")
    try:
        meta = json.loads(raw)
        if not isinstance(meta, dict):
            raise ValueError("not a JSON object")
        return _sweep_from_metadata(meta, table, file)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise DataError(f"{file}: the sweep metadata is damaged ({type(exc).__name__}: {exc})") from None


def _sweep_from_metadata(meta: dict[str, Any], table: pd.DataFrame, file: Path) -> SweepResult:
    if meta.get("checksum") is not None:
        from shortthehype.files import frame_checksum

        if frame_checksum(table) != meta["checksum"]:
            raise DataError(f"{file}: the results are damaged (checksum mismatch: the rows changed after they were written)")
    dsr = DeflatedSharpe(**{k: (math.nan if v is None else v) for k, v in meta["dsr"].items()}) if meta.get("dsr") else None
    pbo = None
    if meta.get("pbo"):
        p = meta["pbo"]
        pbo = PBOResult(
            pbo=math.nan if p["pbo"] is None else p["pbo"], logits=np.empty(0), n_trials=p["n_trials"],
            n_blocks=p["n_blocks"], block_len=p["block_len"], n_splits=p["n_splits"], n_splits_total=p["n_splits_total"],
        )
    return SweepResult(
        spec_name=meta["strategy"], kind=meta["kind"], table=table, objective=meta["objective"], grid=meta["grid"],
        n_grid=meta["n_grid"], n_invalid=meta["n_invalid"], n_run=meta["n_run"], mode=meta["mode"],
        seconds=meta["seconds"] or 0.0, dsr=dsr, pbo=pbo, pbo_note=meta.get("pbo_note", ""),
        random=meta.get("random"), seed=meta.get("seed"), window=meta.get("window", ""), path=file,
        fingerprint=meta.get("fingerprint", ""), n_duplicate=meta.get("n_duplicate", 0),
        caveats=tuple(meta.get("caveats") or ()),
    )


# ---- the public entry point ----------------------------------------------------------------


def sweep(
    spec_or_name: str | os.PathLike[str] | StrategySpec | Mapping[str, Any],
    grid: Mapping[str, Any] | None = None,
    *,
    overrides: Mapping[str, Any] | None = None,
    prices: Prices | None = None,
    source: str | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    offline: bool = False,
    objective: str = SWEEP_DEFAULT_OBJECTIVE,
    random: int | None = None,
    seed: int | None = None,
    out: str | os.PathLike[str] | None = None,
    resume: bool = False,
    executor: str = "local",
    scheduler: str | None = None,
    workers: int | None = None,
    chunk_size: int | None = None,
    n_blocks: int = PBO_BLOCKS,
    force: bool = False,
    progress: Callable[[int, int], None] | None = None,
    path: str = "auto",
) -> SweepResult:
    """Backtest every combination of ``grid`` and rank them by ``objective``.

    Parameters
    ----------
    spec_or_name
        A spec path, name, parsed mapping or :class:`StrategySpec`.
    grid
        Setting name -> values: a list, ``"v1,v2"`` or ``"start:stop:step"``
        (stop included).  Default: the spec's ``[sweep]`` table.
    overrides
        Settings applied to every combination (as ``--set``).
    prices
        Prices to use (must hold every ticker any combination needs); loaded
        once otherwise, with ``source``/``data_dir``/``cache_dir``/``offline``.
    objective
        One of ``sharpe, cagr, calmar, sortino, total_return, max_drawdown``
        (all maximised; a drawdown is negative, so the shallowest wins).
    random, seed
        Backtest ``random`` combinations drawn without replacement from the distinct
        valid ones (seeded) instead of all of them.
    out
        Parquet file of the results (streamed in chunks; see the module doc).
    resume
        Complete the interrupted sweep whose chunks are in ``<out>.parts/``
        (it must be the same sweep: same spec, grid and prices; its chunking is reused).
    executor, scheduler, workers
        ``"local"`` (worker processes for the generic path, numba threads for
        the fused one) or ``"dask"`` (a dask.distributed scheduler at
        ``scheduler``, e.g. ``"tcp://10.0.0.5:8786"``; None starts a local
        cluster).  ``workers``: local processes (default: the CPU count).
    chunk_size
        Combinations per chunk (default: about a second of work).
    n_blocks
        S of the PBO's CSCV (even; 0 disables the PBO).
    force
        Run grids the budget check refuses.
    progress
        Called as ``progress(done, total)`` after each chunk.
    path
        ``"auto"`` (the fused path when the kind's kernel takes the grid),
        ``"fused"`` (an error when it cannot) or ``"generic"`` (one
        ``backtest()`` per combination).  Both give the same rows.

    Returns
    -------
    SweepResult

    Raises
    ------
    ParamError
        Unknown grid keys or objective, invalid values, no valid combination,
        a grid over budget (the message has the estimate), a resume that does
        not match the unfinished sweep.
    DataError
        Missing prices, or a combination's backtest failed (named in the message).
    """
    _refuse_inside_worker_start()
    started = time.perf_counter()
    spec = spec_or_name if isinstance(spec_or_name, StrategySpec) else load_spec(spec_or_name)
    if overrides:
        spec = spec.with_overrides(overrides)
    spec = replace(spec, run={**spec.run, "benchmark": None})
    if objective not in SWEEP_OBJECTIVES:
        raise ParamError(
            f"unknown objective {objective!r}{did_you_mean(objective, SWEEP_OBJECTIVES)} "
            f"(expected one of {', '.join(SWEEP_OBJECTIVES)})"
        )
    if executor not in ("local", "dask"):
        raise ParamError(f"unknown executor {executor!r}{did_you_mean(executor, ('local', 'dask'))} (local or dask)")
    if n_blocks and (n_blocks < 2 or n_blocks % 2):
        raise ParamError(f"parameter 'n_blocks' must be an even number >= 2 (or 0 to skip the PBO), got {n_blocks}")
    if resume and out is None:
        raise ParamError("--resume needs --out: the results file whose unfinished parts are completed")
    if scheduler is not None and executor != "dask":
        raise ParamError("--scheduler is the address of a dask scheduler: add --executor dask (or drop --scheduler)")
    if out is not None:
        from shortthehype.files import check_writable

        check_writable(out, option="--out")
    axes = build_axes(spec, grid if grid else spec.sweep)
    shape = tuple(len(a.values) for a in axes)
    n_grid = math.prod(shape)
    if n_grid > SWEEP_MAX_GRID and not force:
        raise ParamError(
            f"the grid has {n_grid:,} combinations (more than {SWEEP_MAX_GRID:,}): narrow it, use --random N, or pass --force"
        )
    valid = _valid_ids(spec, axes, shape)
    n_invalid = n_grid - len(valid)
    if len(valid) == 0:
        raise ParamError(f"{spec.where}: none of the {n_grid:,} combinations of the grid is valid for {spec.kind.name}")
    effective = _effective_grid(spec, axes)
    distinct = _distinct(effective, valid, shape)
    ids = distinct
    if random is not None:
        if isinstance(random, bool) or int(random) < 1:
            raise ParamError(f"parameter 'random' must be an integer >= 1, got {random!r}")
        rng = np.random.default_rng(seed)
        ids = np.sort(rng.choice(distinct, size=min(int(random), len(distinct)), replace=False))
    mode = _choose_path(spec, axes, path)
    if prices is None:
        prices = _load_prices(spec, axes, shape, valid, source, data_dir, cache_dir, offline)
    plan = _Plan(spec=spec, prices=prices, axes=axes, mode=mode, n_blocks=int(n_blocks), effective=effective)
    seconds_per_run = _calibrate(plan, ids)
    n_workers = _worker_count(workers, executor, mode, seconds_per_run * len(ids))
    if chunk_size is not None and (isinstance(chunk_size, bool) or int(chunk_size) < 1):
        raise ParamError(f"parameter 'chunk_size' must be an integer >= 1, got {chunk_size!r}")
    size = int(chunk_size) if chunk_size else _default_chunk(plan, len(ids), n_workers)
    chunks = [ids[i : i + size] for i in range(0, len(ids), size)]
    if not force:
        _check_budget(plan, len(ids), n_workers, seconds_per_run)

    fingerprint = _fingerprint(plan, ids)
    store = _PartStore(Path(out), fingerprint) if out is not None else None
    done: dict[int, _Chunk] = {}
    if store is not None:
        if resume and not store.dir.exists() and store.out.is_file():
            finished = load_sweep(store.out)
            if finished.fingerprint != fingerprint:
                raise ParamError(
                    f"{store.out}: holds the results of a different sweep (spec, grid or prices); nothing to resume"
                )
            return finished
        stored_size = store.stored_chunk_size() if resume else None
        if stored_size is not None and stored_size != size:  # the chunking is the unfinished sweep's, not this machine's
            size = stored_size
            chunks = [ids[i : i + size] for i in range(0, len(ids), size)]
        done = store.open(resume, chunks)
    try:
        collector = _Collector(len(ids), size, plan.n_blocks)
        _execute(plan, chunks, done, store, executor, scheduler, n_workers, progress, collector)
    finally:
        if store is not None:
            store.close()
    table = collector.table()
    windows = collector.windows
    result = SweepResult(
        spec_name=spec.name,
        kind=spec.kind.name,
        table=table,
        objective=objective,
        grid={a.name: list(a.values) for a in axes},
        n_grid=n_grid,
        n_invalid=n_invalid,
        n_run=len(ids),
        mode=mode,
        seconds=0.0,
        random=None if random is None else int(random),
        seed=seed,
        window=str(windows[0]) if len(set(windows)) == 1 else "varies",
        fingerprint=fingerprint,
        n_duplicate=len(valid) - len(distinct),
        warnings=tuple(spec.warnings(varied=[a.name for a in axes])),
        caveats=data_caveats(prices.source),
    )
    _overfitting(result, plan, collector.blocks_t, windows)
    result.seconds = time.perf_counter() - started
    if store is not None:
        store.finish(result)
        result.path = Path(out)
    return result


def _choose_path(spec: StrategySpec, axes: Sequence[Axis], path: str) -> str:
    """``"fused"`` or ``"generic"``, as ``path`` (auto, fused, generic) asks."""
    if path not in SWEEP_PATHS:
        raise ParamError(f"unknown path {path!r}{did_you_mean(str(path), SWEEP_PATHS)} (expected one of {', '.join(SWEEP_PATHS)})")
    if path == "generic":
        return "generic"
    reason = _fused_unsupported(spec, axes)
    if reason is None:
        return "fused"
    if path == "fused":
        raise ParamError(f"{spec.where}: --path fused cannot run this sweep: {reason}")
    return "generic"


def _worker_count(workers: int | None, executor: str, mode: str, serial_seconds: float) -> int:
    """Local worker processes: as asked, else the CPU count when the work is worth starting them."""
    if workers is not None:
        if isinstance(workers, bool) or int(workers) < 1:
            raise ParamError(f"parameter 'workers' must be an integer >= 1, got {workers!r}")
        return int(workers)
    if executor == "dask" or mode == "fused" or serial_seconds < SWEEP_PROCESS_MIN_SECONDS:
        return 1
    return os.cpu_count() or 1


def _calibrate(plan: _Plan, ids: np.ndarray) -> float:
    """Seconds per combination: a constant per bar for the fused kernel, one timed backtest otherwise."""
    import numba

    if plan.mode == "fused":
        return len(plan.prices) * SWEEP_FUSED_SECONDS_PER_BAR / max(1, numba.get_num_threads())
    combination = plan.combination(int(ids[0]))
    tic = time.perf_counter()
    _run_one(plan.spec.with_overrides(combination), plan.prices, 0, np.empty(9), np.empty((0, 2)), combination)
    return time.perf_counter() - tic


def _default_chunk(plan: _Plan, n: int, n_workers: int) -> int:
    if plan.mode == "fused":
        return max(1, SWEEP_FUSED_CHUNK_WORK // max(1, len(plan.prices)))
    return max(1, min(SWEEP_GENERIC_CHUNK, math.ceil(n / (4 * n_workers))))


def _valid_ids(spec: StrategySpec, axes: tuple[Axis, ...], shape: tuple[int, ...]) -> np.ndarray:
    """Flat numbers of the combinations the spec accepts (only strategy parameters and dates can conflict)."""
    checked = [k for k, axis in enumerate(axes) if axis.section in ("params", "run")]
    if not checked:
        return np.arange(math.prod(shape), dtype=np.int64)
    sub_shape = tuple(shape[k] for k in checked)
    names = [axes[k].name for k in checked]
    # plain strategy parameters (already typed): only the kind's cross-parameter check can fail
    plain = all(axes[k].section == "params" and "." not in axes[k].name for k in checked)
    if plain and spec.kind.check is None:
        return np.arange(math.prod(shape), dtype=np.int64)
    ok = np.zeros(math.prod(sub_shape), dtype=bool)
    for flat, values in enumerate(itertools.product(*(axes[k].values for k in checked))):  # C order
        combination = dict(zip(names, values))
        try:
            if plain:
                spec.kind.check({**spec.params, **combination})
            else:
                spec.with_overrides(combination)
        except (SpecError, ParamError):
            continue
        ok[flat] = True
    ok = ok.reshape(sub_shape)
    full = ok.reshape([shape[k] if k in checked else 1 for k in range(len(shape))])
    return np.flatnonzero(np.broadcast_to(full, shape).ravel()).astype(np.int64)


def _load_prices(
    spec: StrategySpec, axes: tuple[Axis, ...], shape: tuple[int, ...], valid: np.ndarray, source: Any, data_dir: Any,
    cache_dir: Any, offline: bool,
) -> Prices:
    """Load every ticker any valid combination needs, once, up to the latest end of the grid."""
    from shortthehype.data.load import load_prices

    ticker_axes = [k for k, axis in enumerate(axes) if axis.section == "params"]
    needed: list[str] = []
    seen: set[tuple[int, ...]] = set()
    positions = _decode(valid, shape)
    for row in range(len(valid)):
        key = tuple(int(positions[k][row]) for k in ticker_axes)
        if key in seen:
            continue
        seen.add(key)
        combination = {axes[k].name: axes[k].values[p] for k, p in zip(ticker_axes, key)}
        for ticker in spec.with_overrides(combination).tickers():
            if ticker not in needed:
                needed.append(ticker)
    ends = [spec.run.get("end")]
    for axis in axes:
        if axis.name == "end":
            ends = list(axis.values)
    end = None if any(e is None for e in ends) else max(ends)
    return load_prices(needed, end=end, source=source, data_dir=data_dir, cache_dir=cache_dir, offline=offline)


def _check_budget(plan: _Plan, n: int, n_workers: int, seconds_per_run: float) -> None:
    """Refuse sweeps estimated beyond SWEEP_MAX_SECONDS or SWEEP_MAX_MEMORY_FRACTION of the memory."""
    columns = len(plan.axes) + len(SWEEP_METRICS) + 2
    memory = n * (8 * columns + 16 * plan.n_blocks + 64)
    total = _physical_memory()
    if total and memory > SWEEP_MAX_MEMORY_FRACTION * total:
        raise ParamError(
            f"the sweep's {n:,} result rows would need about {memory / 2**30:.1f} GiB "
            f"(> {SWEEP_MAX_MEMORY_FRACTION:.0%} of this machine's {total / 2**30:.1f} GiB): "
            f"narrow the grid, use --random N, or pass --force"
        )
    seconds = seconds_per_run * n / (1 if plan.mode == "fused" else max(1, n_workers))
    if seconds > SWEEP_MAX_SECONDS:
        raise ParamError(
            f"the sweep's {n:,} combinations would take about {_duration(seconds)} "
            f"(more than {_duration(SWEEP_MAX_SECONDS)}): narrow the grid, use --random N, or pass --force"
        )


def _physical_memory() -> int:
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return 0


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


# ---- overfitting statistics ------------------------------------------------------------------


def _overfitting(result: SweepResult, plan: _Plan, blocks_t: np.ndarray, windows: np.ndarray) -> None:
    table = result.table
    best = result.best
    if best is None:
        result.pbo_note = f"no combination has a defined {result.objective}"
        return
    per_period = table["sharpe"].to_numpy(dtype=np.float64) / math.sqrt(ANNUALIZATION)
    finite = per_period[np.isfinite(per_period)]
    variance = float(np.var(finite, ddof=1)) if len(finite) > 1 else math.nan
    combination = result.best_params
    from shortthehype.runner import backtest

    run = backtest(plan.spec.with_overrides(combination), prices=plan.prices)
    stats = run.stats
    n_obs = len(_stats_curve(run)) - 1
    result.dsr = deflated_sharpe(
        sharpe=float(best["sharpe"]) / math.sqrt(ANNUALIZATION),
        n_obs=n_obs,
        n_trials=result.n_run,
        sharpe_variance=variance,
        skew=stats["skew"],
        kurtosis=stats["kurtosis"] + 3.0,
    )
    if plan.n_blocks == 0:
        result.pbo_note = "PBO not computed (n_blocks = 0)"
    elif len(set(windows)) != 1:
        result.pbo_note = "PBO needs every combination on the same bars; this sweep varies the backtest window"
    elif np.isnan(blocks_t).any():
        result.pbo_note = f"PBO needs at least {2 * plan.n_blocks} returns ({plan.n_blocks} blocks of 2)"
    else:
        length = int(str(windows[0]).rsplit("/", 1)[1]) // plan.n_blocks
        # a bankrupt trial ranks last in every split: all-zero block sums have no Sharpe ratio (score -inf)
        blocks_t[:, :, table["bankrupt"].to_numpy(dtype=bool)] = 0.0
        result.pbo = pbo_from_block_sums_t(blocks_t, length, max_evaluations=PBO_MAX_EVALUATIONS, seed=0)
        if result.pbo.sampled:
            result.pbo_note = f"PBO from a random {result.pbo.n_splits:,} of the {result.pbo.n_splits_total:,} CSCV splits"


# ---- execution and the on-disk parts ---------------------------------------------------------


class _Collector:
    """Every chunk's rows, block sums and windows copied into arrays for the whole sweep as chunks finish.

    Nothing of a chunk is kept after its copy, so the peak memory is one copy
    of the results plus one chunk (no concatenation at the end).
    """

    def __init__(self, n: int, size: int, n_blocks: int) -> None:
        self.n = n
        self.size = size
        self.blocks_t = np.empty((n_blocks, 2, n))  # block-major, as the CSCV reads it
        self.windows = np.empty(n, dtype=object)
        self.columns: dict[str, np.ndarray] = {}
        self.categories: dict[str, pd.Index] = {}
        self.masks: dict[str, np.ndarray] = {}  # nullable bool/int columns: where the value is missing
        self.done: set[int] = set()
        self.finished = 0

    def keep(self, index: int, chunk: _Chunk) -> None:
        rows = slice(index * self.size, index * self.size + len(chunk.ids))
        self.blocks_t[:, :, rows] = chunk.blocks.transpose(1, 2, 0)
        self.windows[rows] = chunk.windows
        for name in chunk.table.columns:
            column = chunk.table[name]
            if isinstance(column.dtype, pd.CategoricalDtype):
                categories = self.categories.setdefault(name, column.cat.categories)
                if not column.cat.categories.equals(categories):  # e.g. a part read back from disk
                    column = column.cat.set_categories(categories)
                values = column.cat.codes.to_numpy()
            elif isinstance(column.dtype, (pd.Int64Dtype, pd.BooleanDtype)):
                self.masks.setdefault(name, np.zeros(self.n, dtype=bool))[rows] = column.isna().to_numpy()
                values = column.to_numpy(dtype=column.dtype.numpy_dtype, na_value=0)
            else:
                values = column.to_numpy()
            if name not in self.columns:
                self.columns[name] = np.empty(self.n, dtype=values.dtype)
            self.columns[name][rows] = values
        self.done.add(index)
        self.finished += len(chunk.ids)

    def table(self) -> pd.DataFrame:
        data: dict[str, Any] = {}
        for name, values in self.columns.items():
            if name in self.categories:
                data[name] = pd.Categorical.from_codes(values, categories=self.categories[name])
            elif name in self.masks:
                masked = pd.arrays.BooleanArray if values.dtype == bool else pd.arrays.IntegerArray
                data[name] = masked(values, self.masks[name])
            else:
                data[name] = values
        return pd.DataFrame(data, copy=False)


def _execute(
    plan: _Plan,
    chunks: list[np.ndarray],
    done: dict[int, _Chunk],
    store: _PartStore | None,
    executor: str,
    scheduler: str | None,
    n_workers: int,
    progress: Callable[[int, int], None] | None,
    collector: _Collector,
) -> None:
    """Run the chunks not in ``done`` (writing each to ``store``) and hand every chunk to ``collector``."""
    for index, chunk in done.items():
        collector.keep(index, chunk)
    done.clear()
    if progress is not None:
        progress(collector.finished, collector.n)
    todo = [i for i in range(len(chunks)) if i not in collector.done]

    def collect(index: int, chunk: _Chunk) -> None:
        if store is not None:
            store.write(index, chunk)
        collector.keep(index, chunk)
        if progress is not None:
            progress(collector.finished, collector.n)

    if not todo:
        return
    if executor == "dask":
        _execute_dask(plan, chunks, todo, scheduler, collect)
    elif n_workers > 1 and len(todo) > 1 and _picklable(plan):
        _execute_processes(plan, chunks, todo, n_workers, collect)
    else:
        for index in todo:
            collect(index, run_chunk(plan, chunks[index]))


def _picklable(plan: _Plan) -> bool:
    try:
        pickle.loads(pickle.dumps(plan))
    except Exception:  # noqa: BLE001 - any failure means: run in this process
        return False
    return True


_UNGUARDED_SCRIPT = (
    "the sweep's worker processes stopped: a script that calls sweep() must do so under "
    "`if __name__ == \"__main__\":` (worker processes re-import it), or pass workers=1"
)


def _refuse_inside_worker_start() -> None:
    """A worker process that re-imports a script calling sweep() at top level stops at once (the parent then says why).

    Without this the worker would run the whole sweep again and wait forever
    on worker processes of its own, and so would its parent.
    """
    import multiprocessing

    if getattr(multiprocessing.current_process(), "_inheriting", False):
        raise ParamError(_UNGUARDED_SCRIPT)


_WORKER_PLAN: _Plan | None = None


def _init_worker(plan_file: str) -> None:
    import signal

    global _WORKER_PLAN
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's: it stops handing out chunks
    _exit_with_parent()
    _WORKER_PLAN = pickle.loads(Path(plan_file).read_bytes())


def _exit_with_parent(interval: float = 0.5) -> None:
    """Stop this worker process as soon as its parent is gone (killed with SIGKILL, say): no orphan keeps running."""
    import threading

    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(interval)
            if os.getppid() != parent:  # re-parented: the sweep that started us has died
                os._exit(1)

    threading.Thread(target=watch, name="shortthehype-parent-watch", daemon=True).start()


def _worker_chunk(ids: np.ndarray) -> _Chunk:
    assert _WORKER_PLAN is not None
    return run_chunk(_WORKER_PLAN, ids)


def _execute_processes(
    plan: _Plan, chunks: list[np.ndarray], todo: list[int], n_workers: int, collect: Callable[[int, _Chunk], None]
) -> None:
    import multiprocessing
    import tempfile
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    # the plan (prices included) goes to the workers through a file, not the spawn pipe: a worker that dies
    # while starting (a script without a __main__ guard) must not leave the parent blocked writing megabytes into it
    handle, plan_file = tempfile.mkstemp(prefix="shortthehype-sweep-", suffix=".pickle")
    try:
        with os.fdopen(handle, "wb") as stream:
            pickle.dump(plan, stream)
        pool = ProcessPoolExecutor(
            max_workers=min(n_workers, len(todo)),
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(plan_file,),
        )
        try:
            pending = {pool.submit(_worker_chunk, chunks[i]): i for i in todo}
            while pending:
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    index = pending.pop(future)
                    collect(index, future.result())
        except BrokenProcessPool:
            raise ParamError(_UNGUARDED_SCRIPT) from None
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    finally:
        os.unlink(plan_file)


def _execute_dask(
    plan: _Plan, chunks: list[np.ndarray], todo: list[int], scheduler: str | None, collect: Callable[[int, _Chunk], None]
) -> None:
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise ParamError("--executor dask needs dask.distributed: pip install 'dask[distributed]'") from None
    cluster = None
    if scheduler:
        try:
            client = Client(scheduler, timeout="30s")
        except Exception as exc:  # noqa: BLE001 - a bad address raises ValueError/TypeError, a dead one OSError
            message = " ".join(str(exc).split())
            raise ParamError(f"cannot reach the dask scheduler at {scheduler!r} ({type(exc).__name__}: {message})") from None
    else:
        try:
            cluster = LocalCluster(
                n_workers=min(os.cpu_count() or 1, len(todo)), threads_per_worker=1, processes=True,
                dashboard_address=None,
            )
        except RuntimeError as exc:
            raise ParamError(
                f"could not start a local dask cluster ({exc}); a script that calls sweep() must do so under "
                "`if __name__ == \"__main__\":` (dask's worker processes re-import it)"
            ) from None
        client = Client(cluster)
    try:
        shared = client.scatter(plan, broadcast=True)
        futures = {client.submit(run_chunk, shared, chunks[i], pure=False): i for i in todo}
        for future, chunk in as_completed(list(futures), with_results=True):
            collect(futures[future], chunk)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _fingerprint(plan: _Plan, ids: np.ndarray) -> str:
    """A hash of everything that decides the sweep's rows: spec (and a strategy file's text), grid, prices, combinations.

    Never anything that depends on timing or the machine (the chunk size is a
    storage detail: a resume reuses the stored one).
    """
    spec = plan.spec
    document = {
        "kind": spec.kind.name,
        "values": {k: json_value(v) for k, v in spec.values().items()},
        "axes": [[a.name, [json_value(v) for v in a.values]] for a in plan.axes],
        "n_blocks": plan.n_blocks,
        "mode": plan.mode,
    }
    digest = hashlib.sha256(json.dumps(_json_safe(document), sort_keys=True, default=str).encode())
    digest.update(np.ascontiguousarray(ids).tobytes())
    prices = plan.prices
    digest.update(json.dumps([str(c) for c in prices.close.columns]).encode())
    digest.update(np.asarray(prices.close.index.strftime("%Y-%m-%d").tolist(), dtype="U10").tobytes())
    for frame in (prices.open, prices.high, prices.low, prices.close):
        digest.update(np.ascontiguousarray(frame.to_numpy(dtype=np.float64)).tobytes())
    strategy_file = _strategy_file(spec)
    if strategy_file is not None:
        digest.update(strategy_file.read_bytes())
    return digest.hexdigest()


def _strategy_file(spec: StrategySpec) -> Path | None:
    """The Python file of a ``python`` spec (its text decides the results too), else None."""
    if spec.kind.name != "python" or not spec.params.get("file"):
        return None
    from shortthehype.strategies.user_python import load_user_strategy

    return load_user_strategy(spec.params["file"], spec.path.parent if spec.path is not None else None).path


#: Key of a part's Parquet metadata: one checksum over the sweep's fingerprint, the chunk's ids, its rows and arrays.
_PART_KEY = b"shortthehype.part"


class _PartStore:
    """``<out>.parts/``: one Parquet file (rows) and one .npz (block sums, windows) per finished chunk.

    ``manifest.json`` holds the fingerprint and the chunk size; each part's
    Parquet metadata holds one checksum over the sweep's fingerprint, the ids
    its chunk must hold, its rows, block sums and windows.  A resume keeps a
    part only when its ids and that checksum match, and recomputes any other
    (truncated, damaged, copied from another chunk or another sweep).  One
    process at a time works on a parts directory (``<out>.parts.lock``).
    """

    def __init__(self, out: Path, fingerprint: str) -> None:
        self.out = out
        self.dir = out.with_name(out.name + ".parts")
        self.manifest = self.dir / "manifest.json"
        self.fingerprint = fingerprint
        self.chunks: list[np.ndarray] = []
        self._lock: Any = None

    def stored_chunk_size(self) -> int | None:
        """The chunk size of the unfinished sweep in the parts directory (None if there is none or it is unreadable)."""
        try:
            stored = json.loads(self.manifest.read_text())
        except (OSError, ValueError):
            return None
        if not isinstance(stored, dict) or stored.get("fingerprint") != self.fingerprint:
            return None
        size = stored.get("chunk_size")
        return size if isinstance(size, int) and not isinstance(size, bool) and size >= 1 else None

    def open(self, resume: bool, chunks: list[np.ndarray]) -> dict[int, _Chunk]:
        """Lock the parts directory, check or create it, and return the verified finished chunks."""
        import filelock

        from shortthehype.files import write_atomically

        self.chunks = chunks
        if self.dir.exists() and not resume:
            raise ParamError(
                f"{self.dir}: an unfinished sweep is there; pass --resume to complete it, or delete the directory"
            )
        lock = filelock.FileLock(self.out.with_name(self.out.name + ".parts.lock"))
        try:
            lock.acquire(timeout=0)
        except filelock.Timeout:
            raise ParamError(f"{self.out}: another process is running this sweep; wait for it or stop it") from None
        except OSError as exc:
            raise ParamError(f"--out {self.out}: cannot create files there ({exc.strerror or exc})") from None
        self._lock = lock
        if self.dir.exists():
            try:
                stored = json.loads(self.manifest.read_text())
            except (OSError, ValueError):
                stored = None  # a full disk or a kill before the manifest: the parts carry their own fingerprint
            if isinstance(stored, dict) and stored.get("fingerprint") != self.fingerprint:
                raise ParamError(
                    f"{self.dir}: the unfinished sweep there differs from this one (spec, grid or prices); "
                    f"run the same command to resume, or delete the directory"
                )
        else:
            try:
                self.dir.mkdir()
            except OSError as exc:
                raise ParamError(f"--out {self.out}: cannot create {self.dir} ({exc.strerror or exc})") from None
        size = len(chunks[0]) if chunks else 0
        write_atomically(
            self.manifest, json.dumps({"fingerprint": self.fingerprint, "chunk_size": size, "n_chunks": len(chunks)}),
            option="--out",
        )
        return {i: chunk for i in range(len(chunks)) if (chunk := self._read(i)) is not None}

    def close(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def _paths(self, index: int) -> tuple[Path, Path]:
        return self.dir / f"part-{index:06d}.parquet", self.dir / f"part-{index:06d}.npz"

    def _checksum(self, index: int, table: pd.DataFrame, blocks: np.ndarray, windows: np.ndarray) -> str:
        from shortthehype.files import frame_checksum

        return frame_checksum(
            table, self.fingerprint.encode(), np.ascontiguousarray(self.chunks[index]).tobytes(),
            np.ascontiguousarray(blocks, dtype=np.float64).tobytes(), "\x1f".join(str(w) for w in windows).encode(),
        )

    def _read(self, index: int) -> _Chunk | None:
        """Part ``index`` if it is whole and is what that chunk must hold; a bad part is deleted (it is recomputed)."""
        import pyarrow.parquet as pq

        table_path, arrays_path = self._paths(index)
        if not table_path.is_file():
            return None
        try:
            parquet = pq.ParquetFile(table_path)
            recorded = (parquet.schema_arrow.metadata or {}).get(_PART_KEY, b"")
            table = parquet.read().to_pandas()
            with np.load(arrays_path, allow_pickle=False) as arrays:
                blocks, windows = arrays["blocks"], arrays["windows"].astype(object)
            ids = table["combination"].to_numpy()
            good = (
                recorded.decode() == self._checksum(index, table, blocks, windows)
                and np.array_equal(ids, self.chunks[index])
                and len(blocks) == len(windows) == len(ids)
            )
        except Exception:  # noqa: BLE001 - a truncated, empty or foreign file of any kind: recompute the chunk
            good = False
        if not good:
            table_path.unlink(missing_ok=True)
            arrays_path.unlink(missing_ok=True)
            return None
        return _Chunk(ids=ids, table=table, blocks=blocks, windows=windows)

    def write(self, index: int, chunk: _Chunk) -> None:
        """Write a finished chunk atomically: the arrays first, then the rows (whose file marks the chunk done)."""
        import io

        import pyarrow as pa
        import pyarrow.parquet as pq

        from shortthehype.files import write_atomically

        table_path, arrays_path = self._paths(index)
        windows = np.asarray(chunk.windows, dtype=str)
        buffer = io.BytesIO()
        np.savez(buffer, blocks=chunk.blocks, windows=windows)
        write_atomically(arrays_path, buffer.getvalue(), option="--out")
        table = pa.Table.from_pandas(chunk.table, preserve_index=False)
        checksum = self._checksum(index, table.to_pandas(), chunk.blocks, windows.astype(object))
        table = table.replace_schema_metadata({**(table.schema.metadata or {}), _PART_KEY: checksum.encode()})
        write_atomically(table_path, lambda handle: pq.write_table(table, handle), option="--out")

    def finish(self, result: SweepResult) -> None:
        """Merge the parts into ``out`` (one row group per chunk; metadata and checksum), atomically; remove the parts."""
        import pyarrow.parquet as pq

        from shortthehype.files import write_atomically

        schema = pq.read_schema(self._paths(0)[0])
        metadata = {k: v for k, v in (schema.metadata or {}).items() if k != _PART_KEY}
        metadata[PARQUET_METADATA_KEY] = json.dumps(results_metadata(result)).encode()
        schema = schema.with_metadata(metadata)

        def merge(handle: Any) -> None:
            with pq.ParquetWriter(handle, schema) as writer:
                for index in range(len(self.chunks)):
                    writer.write_table(pq.read_table(self._paths(index)[0]).cast(schema))

        write_atomically(self.out, merge, option="--out")
        shutil.rmtree(self.dir, ignore_errors=True)
        self.close()
        self.out.with_name(self.out.name + ".parts.lock").unlink(missing_ok=True)


def results_metadata(result: SweepResult) -> dict[str, Any]:
    """The JSON record of a results file: :meth:`SweepResult.metadata` plus the checksum of its rows."""
    from shortthehype.files import frame_checksum

    return {**result.metadata(), "checksum": frame_checksum(result.table)}
