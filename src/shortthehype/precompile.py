"""Compile (and cache) the numba kernels ahead of the first real run: ``shortthehype precompile``.

numba compiles each kernel on its first call and caches the machine code on
disk (see :mod:`shortthehype._numba_setup`), so the first backtest, sweep or
bubble fit after an install spends most of its time compiling.  Running one
small workload of each kind here fills the cache; later processes load it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shortthehype.data.prices import Prices
    from shortthehype.spec import StrategySpec

__all__ = ["PRECOMPILE_STEPS", "STUDY_WORKLOAD", "precompile", "synthetic_sweeps"]

_TICKER_TYPES = ("ticker", "tickers", "weights")


def _engine_and_strategies() -> None:
    from shortthehype.demo import run_demo

    run_demo()


def _statistics_and_targets() -> None:
    """What the first step compiles besides the engine and can compile beside it: the statistics, the PBO's
    splits and each essay spec's target kernel on the synthetic market (none of them calls the engine)."""
    import numpy as np
    import pandas as pd

    from shortthehype.metrics import compute_stats
    from shortthehype.overfitting import pbo_from_block_sums_t
    from shortthehype.runner import prepare

    prices, sweeps = synthetic_sweeps()
    for spec, _ in sweeps:
        prepare(spec, prices)
    rng = np.random.default_rng(0)
    days = pd.bdate_range("2020-01-01", periods=64)
    equity = pd.Series(100.0 * np.cumprod(1.0 + rng.normal(0.0, 0.01, len(days))), index=days)
    compute_stats(equity, trade_returns=rng.normal(0.0, 0.05, 5), gross_exposure=pd.Series(1.0, index=days),
                  turnover=pd.Series(0.01, index=days), benchmark=equity * 1.01)
    pbo_from_block_sums_t(rng.normal(0.0, 0.01, (4, 2, 6)), 16)


def synthetic_sweeps() -> tuple[Prices, list[tuple[StrategySpec, dict[str, Any]]]]:
    """Synthetic prices, and each essay spec mapped onto them with its own grid less the real-ticker settings.

    ``bubble-timer`` and ``option-contracts`` have no synthetic mapping: their
    drivers compile on their first sweep.
    """
    from shortthehype.data import synthetic

    scenario = synthetic.Scenario()
    return synthetic.generate_prices(scenario), _mapped_grids(scenario)


def _mapped_grids(scenario: Any) -> list[tuple[StrategySpec, dict[str, Any]]]:
    """:func:`synthetic_sweeps`' specs and grids, without generating the prices."""
    from shortthehype.demo import synthetic_overrides
    from shortthehype.spec import load_spec

    sweeps = []
    for name, overrides in synthetic_overrides(scenario).items():
        spec = load_spec(name).with_overrides(overrides)
        schema = spec.schema()
        grid = {k: v for k, v in spec.sweep.items() if schema[k.partition(".")[0]][1].type not in _TICKER_TYPES}
        if grid:
            sweeps.append((spec, grid))
    return sweeps


def _sweep_kernels(names: Sequence[str] | None = None) -> None:
    """Two combinations of each essay spec's grid (of those ``names``, all when None): every kind's fused driver
    compiles once."""
    from shortthehype.sweeps import sweep

    prices, sweeps = synthetic_sweeps()
    for spec, grid in sweeps:
        if names is None or spec.name in names:
            sweep(spec, grid, prices=prices, random=2, seed=0, n_blocks=4, workers=1, force=True)


def _lppls_kernels() -> None:
    import numpy as np
    import pandas as pd

    from shortthehype.lppls import confidence_indicator, lppls_windows

    days = pd.bdate_range("2020-01-01", periods=160)
    series = pd.Series(100.0 * np.exp(np.linspace(0.0, 0.5, len(days))), index=days, name="demo")
    confidence_indicator(series, windows=lppls_windows(125, 150, 25), start=days[-1], step=1)


def _study_kernels() -> None:
    """A small entry-date study on its fused path: the window kernel compiles once."""
    from shortthehype.studies import rolling

    rolling(STUDY_WORKLOAD, every="6m", hold="1y", source="synthetic", path="fused")


#: The spec of :func:`_study_kernels` (on the synthetic market's tickers).
STUDY_WORKLOAD = {"kind": "fixed-weights", "benchmark": "MKT", "params": {"weights": {"AIX": 0.6, "BOND": 0.4}}}

#: What :func:`precompile` runs, in order: a label and a workload.
PRECOMPILE_STEPS: tuple[tuple[str, Callable[[], None]], ...] = (
    ("engine, metrics and strategies", _engine_and_strategies),
    ("statistics and target kernels", _statistics_and_targets),
    ("sweep kernels", _sweep_kernels),
    ("entry-date studies", _study_kernels),
    ("LPPLS bubble fits", _lppls_kernels),
)


#: The steps that do not call the engine: they compile beside the first step, not after it, in this order (what
#: the first step also needs first: it then loads them from the cache).
_WITHOUT_ENGINE = ("statistics and target kernels", "LPPLS bubble fits")


def precompile(progress: Callable[[int, int, str], None] | None = None, workers: int | None = None) -> None:
    """Run every step of :data:`PRECOMPILE_STEPS`; ``progress(done, total, running)`` before the first, as each part
    ends, and at the end.

    numba compiles on one thread, so ``workers`` processes (default: one per
    CPU) compile parts side by side into the shared cache: the first step
    (the engine, which every later step but the LPPLS fits calls) beside the
    LPPLS fits, then the sweep kernels one spec each and the studies.  With
    one worker the steps run here, in order.
    """
    import os

    from shortthehype.errors import ParamError

    if workers is None:
        workers = os.cpu_count() or 1
    elif isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ParamError(f"parameter 'workers' must be an integer >= 1, got {workers!r}")
    if workers <= 1:
        total = len(PRECOMPILE_STEPS)
        for done, (label, step) in enumerate(PRECOMPILE_STEPS):
            if progress is not None:
                progress(done, total, label)
            _run_step(step)
        if progress is not None:
            progress(total, total, "done")
        return
    _precompile_in_processes(progress, workers)


def _run_step(step: Callable[..., None], *args: Any) -> None:
    import warnings

    from shortthehype.errors import DataWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        step(*args)


def _precompile_in_processes(progress: Callable[[int, int, str], None] | None, workers: int) -> None:
    """:func:`precompile` in ``workers`` processes (spawned: numba's threads do not survive a fork).

    A part stops with its parent: Ctrl-C reaches every process of the terminal, and a part whose parent was
    killed exits (a kernel compiled halfway leaves nothing in the cache: numba writes a file whole or not at all).
    """
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait

    from shortthehype.data.synthetic import Scenario
    from shortthehype.sweeps.executors import exit_with_parent

    (first_label, first), *rest = PRECOMPILE_STEPS
    steps = dict(rest)
    beside = [(label, steps[label], ()) for label in _WITHOUT_ENGINE if label in steps]
    after: list[tuple[str, Callable[..., None], tuple[Any, ...]]] = []
    for label, step in rest:
        if label in _WITHOUT_ENGINE:
            continue
        if step is _sweep_kernels:  # one part per spec: the drivers compile side by side
            after += [(f"{label}: {spec.name}", step, ((spec.name,),)) for spec, _ in _mapped_grids(Scenario())]
        else:
            after.append((label, step, ()))
    total = 1 + len(beside) + len(after)
    running: dict[Future[None], str] = {}
    pool = ProcessPoolExecutor(max_workers=min(workers, total), mp_context=multiprocessing.get_context("spawn"),
                               initializer=exit_with_parent)
    try:
        for label, step, args in [(first_label, first, ()), *beside]:
            running[pool.submit(_run_step, step, *args)] = label
        done = 0

        def report() -> None:
            if progress is not None:
                busy = [label for future, label in running.items() if future.running()]
                progress(done, total, "; ".join(busy) or ("done" if not running else "starting"))

        report()
        while running:
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                label = running.pop(future)
                future.result()
                done += 1
                if label == first_label:  # the engine is in the cache: every other part loads it
                    for part_label, step, args in after:
                        running[pool.submit(_run_step, step, *args)] = part_label
            report()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
