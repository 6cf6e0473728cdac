"""The entry point :func:`sweep`: plan, execute, collect, then the overfitting statistics."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from shortthehype.caveats import data_caveats
from shortthehype.constants import ANNUALIZATION, PBO_BLOCKS, PBO_MAX_EVALUATIONS, SWEEP_DEFAULT_OBJECTIVE, SWEEP_MAX_GRID, SWEEP_OBJECTIVES
from shortthehype.data.prices import Prices
from shortthehype.data.source import PriceSource
from shortthehype.errors import ParamError, did_you_mean
from shortthehype.overfitting import deflated_sharpe, pbo_from_block_sums_t
from shortthehype.spec import StrategySpec, load_spec
from shortthehype.sweeps.chunks import Chunk, calibrate, stats_curve
from shortthehype.sweeps.executors import Collector, execute, refuse_inside_worker_start
from shortthehype.sweeps.grid import build_axes, distinct, effective_grid, valid_ids
from shortthehype.sweeps.parts import PartStore, fingerprint
from shortthehype.sweeps.plan import Plan, check_budget, choose_path, default_chunk, load_prices, worker_count
from shortthehype.sweeps.result import SweepResult, load_sweep

__all__ = ["sweep"]


def sweep(
    spec_or_name: str | os.PathLike[str] | StrategySpec | Mapping[str, Any],
    grid: Mapping[str, Any] | None = None,
    *,
    overrides: Mapping[str, Any] | None = None,
    prices: Prices | None = None,
    prices_from: PriceSource | None = None,
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
        once otherwise, from ``prices_from`` (a :class:`~shortthehype.data.source.PriceSource`)
        or the loose ``source``/``data_dir``/``cache_dir``/``offline``.
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
    refuse_inside_worker_start()
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
    valid = valid_ids(spec, axes, shape)
    n_invalid = n_grid - len(valid)
    if len(valid) == 0:
        raise ParamError(f"{spec.where}: none of the {n_grid:,} combinations of the grid is valid for {spec.kind.name}")
    effective = effective_grid(spec, axes)
    distinct_ids = distinct(effective, valid, shape)
    ids = distinct_ids
    if random is not None:
        if isinstance(random, bool) or int(random) < 1:
            raise ParamError(f"parameter 'random' must be an integer >= 1, got {random!r}")
        rng = np.random.default_rng(seed)
        ids = np.sort(rng.choice(distinct_ids, size=min(int(random), len(distinct_ids)), replace=False))
    mode = choose_path(spec, axes, path)
    if prices is None:
        origin = PriceSource.coerce(prices_from, source=source, data_dir=data_dir, cache_dir=cache_dir, offline=offline)
        prices = load_prices(spec, axes, shape, valid, origin)
    plan = Plan(spec=spec, prices=prices, axes=axes, mode=mode, n_blocks=int(n_blocks), effective=effective)
    seconds_per_run = calibrate(plan, ids)
    n_workers = worker_count(workers, executor, mode, seconds_per_run * len(ids))
    if chunk_size is not None and (isinstance(chunk_size, bool) or int(chunk_size) < 1):
        raise ParamError(f"parameter 'chunk_size' must be an integer >= 1, got {chunk_size!r}")
    size = int(chunk_size) if chunk_size else default_chunk(plan, len(ids), n_workers)
    chunks = [ids[i : i + size] for i in range(0, len(ids), size)]
    if not force:
        check_budget(plan, len(ids), n_workers, seconds_per_run)

    sweep_fingerprint = fingerprint(plan, ids)
    store = PartStore(Path(out), sweep_fingerprint) if out is not None else None
    done: dict[int, Chunk] = {}
    if store is not None:
        if resume and not store.dir.exists() and store.out.is_file():
            finished = load_sweep(store.out)
            if finished.fingerprint != sweep_fingerprint:
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
        collector = Collector(len(ids), size, plan.n_blocks)
        execute(plan, chunks, done, store, executor, scheduler, n_workers, progress, collector)
    finally:
        if store is not None:
            store.close()
    from shortthehype.runner import ratios_rate_note

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
        fingerprint=sweep_fingerprint,
        n_duplicate=len(valid) - len(distinct_ids),
        warnings=tuple(spec.warnings(varied=[a.name for a in axes]))
        + ratios_rate_note(spec, prices, next((a.values for a in axes if a.name == "cash_rate"), None), runs="a combination",
                           follows="; the ranking, the DSR and the PBO read these ratios"),
        caveats=data_caveats(prices.source),
    )
    _overfitting(result, plan, collector.blocks_t, windows)
    result.seconds = time.perf_counter() - started
    if store is not None:
        store.finish(result)
        result.path = Path(out)
    return result


def _overfitting(result: SweepResult, plan: Plan, blocks_t: np.ndarray, windows: np.ndarray) -> None:
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
    n_obs = len(stats_curve(run)) - 1
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
