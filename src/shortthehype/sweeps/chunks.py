"""A chunk of combinations run: the kind's fused kernel or one ``backtest()`` each (the generic path)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from shortthehype.constants import ANNUALIZATION, SWEEP_FUSED_SECONDS_PER_BAR
from shortthehype.data.prices import Prices
from shortthehype.errors import ShortTheHypeError
from shortthehype.overfitting import block_layout
from shortthehype.params import format_value
from shortthehype.spec import StrategySpec
from shortthehype.sweeps.grid import effective_positions
from shortthehype.sweeps.plan import Plan
from shortthehype.sweeps.result import SWEEP_METRICS

__all__ = ["Chunk", "block_layout_or_none", "calibrate", "generic_chunk", "run_chunk", "run_one", "stats_curve"]


@dataclass
class Chunk:
    """Results of a chunk of combinations: the table rows, per-block sums, and each trial's bars."""

    ids: np.ndarray
    table: pd.DataFrame
    blocks: np.ndarray  # (n, S, 2), NaN when the trial has too few returns
    windows: np.ndarray  # (n,) str "first..last/n_returns": the PBO needs them all equal


def run_chunk(plan: Plan, ids: np.ndarray) -> Chunk:
    """Backtest the combinations ``ids`` of ``plan`` (the unit of work of every executor)."""
    ids = np.asarray(ids, dtype=np.int64)
    if plan.mode == "fused":
        stats, blocks, windows = plan.spec.kind.fused.chunk(plan, ids)
    else:
        stats, blocks, windows = generic_chunk(plan, ids)
    table = _param_frame(plan, ids)
    for k, name in enumerate(SWEEP_METRICS):
        table[name] = stats[:, k]
    table["bankrupt"] = stats[:, len(SWEEP_METRICS)] != 0
    return Chunk(ids=ids, table=table, blocks=blocks, windows=np.asarray(windows, dtype=object))


def _param_frame(plan: Plan, ids: np.ndarray) -> pd.DataFrame:
    """The swept settings of ``ids`` as each run used them: empty (null) where a parameter does not apply."""
    columns: dict[str, Any] = {"combination": ids}
    effective = plan.effective
    shown = {k: values for k, values in zip(effective.axes, effective.values)} if effective else {}
    nullable = {k: bool((effective.positions[:, j] < 0).any()) for j, k in enumerate(effective.axes)} if effective else {}
    for k, (axis, positions) in enumerate(zip(plan.axes, effective_positions(effective, ids, plan.shape))):
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


def generic_chunk(plan: Plan, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[str]]:
    from shortthehype.constants import N_KERNEL_STATS

    stats = np.empty((len(ids), N_KERNEL_STATS))
    blocks = np.full((len(ids), plan.n_blocks, 2), np.nan)
    windows = []
    names = [axis.name for axis in plan.axes]
    for row, values in enumerate(plan.combinations(ids)):
        combination = dict(zip(names, values))
        spec = plan.spec.with_overrides(combination)
        windows.append(run_one(spec, plan.prices, plan.n_blocks, stats[row], blocks[row], combination))
    return stats, blocks, windows


def run_one(
    spec: StrategySpec, prices: Prices, n_blocks: int, out: np.ndarray, blocks: np.ndarray, combination: Mapping[str, Any]
) -> str:
    """Backtest one spec; statistics into ``out`` (KERNEL_STATS order), block sums into ``blocks``; returns its window."""
    from shortthehype.core.sweep_nb import sweep_stats_nb
    from shortthehype.runner import backtest

    try:
        run = backtest(spec, prices=prices)
    except ShortTheHypeError as exc:
        shown = ", ".join(f"{k}={format_value(v)}" for k, v in combination.items())
        raise type(exc)(f"sweep combination {shown}: {exc}") from None
    curve = stats_curve(run)
    returns = np.empty(len(curve))
    n_obs = len(curve) - 1
    start, length = block_layout_or_none(n_obs, n_blocks)
    status = 1 if run.result.bankrupt else 0
    sweep_stats_nb(curve, returns, float(ANNUALIZATION), status, start, length, out, blocks if length else blocks[:0])
    return f"{run.start:%Y-%m-%d}..{run.end:%Y-%m-%d}/{n_obs}"


def stats_curve(run: Any) -> np.ndarray:
    """The equity curve ``Result.stats`` measures: ``init_cash`` first when the execution is at the close."""
    equity = run.result.equity.to_numpy(dtype=np.float64)
    if run.result.execution == "close":
        equity = np.concatenate([[run.result.init_cash], equity])
    return np.ascontiguousarray(equity)


def block_layout_or_none(n_obs: int, n_blocks: int) -> tuple[int, int]:
    if n_blocks == 0 or n_obs < 2 * n_blocks:
        return 0, 0
    return block_layout(n_obs, n_blocks)


def calibrate(plan: Plan, ids: np.ndarray) -> float:
    """Seconds per combination: a constant per bar for the fused kernel, timed backtests otherwise.

    The first backtest of a process also loads (or, on a new machine,
    compiles) the kernels, once: the second one, of another combination,
    says what the others cost.
    """
    import numba

    if plan.mode == "fused":
        return len(plan.prices) * SWEEP_FUSED_SECONDS_PER_BAR / max(1, numba.get_num_threads())

    def timed(combination_id: int) -> float:
        combination = plan.combination(combination_id)
        tic = time.perf_counter()
        run_one(plan.spec.with_overrides(combination), plan.prices, 0, np.empty(9), np.empty((0, 2)), combination)
        return time.perf_counter() - tic

    first = timed(int(ids[0]))
    return first if len(ids) < 2 else min(first, timed(int(ids[1])))
