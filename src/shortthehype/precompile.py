"""Compile (and cache) the numba kernels ahead of the first real run: ``shortthehype precompile``.

numba compiles each kernel on its first call and caches the machine code on
disk (see :mod:`shortthehype._numba_setup`), so the first backtest, sweep or
bubble fit after an install spends most of its time compiling.  Running one
small workload of each kind here fills the cache; later processes load it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shortthehype.data.prices import Prices
    from shortthehype.spec import StrategySpec

__all__ = ["PRECOMPILE_STEPS", "STUDY_WORKLOAD", "precompile", "synthetic_sweeps"]

_TICKER_TYPES = ("ticker", "tickers", "weights")


def _engine_and_strategies() -> None:
    from shortthehype.demo import run_demo

    run_demo()


def synthetic_sweeps() -> tuple[Prices, list[tuple[StrategySpec, dict[str, Any]]]]:
    """Synthetic prices, and each essay spec mapped onto them with its own grid less the real-ticker settings.

    ``bubble-timer`` and ``option-contracts`` have no synthetic mapping: their
    drivers compile on their first sweep.
    """
    from shortthehype.data import synthetic
    from shortthehype.demo import synthetic_overrides
    from shortthehype.spec import load_spec

    scenario = synthetic.Scenario()
    sweeps = []
    for name, overrides in synthetic_overrides(scenario).items():
        spec = load_spec(name).with_overrides(overrides)
        schema = spec.schema()
        grid = {k: v for k, v in spec.sweep.items() if schema[k.partition(".")[0]][1].type not in _TICKER_TYPES}
        if grid:
            sweeps.append((spec, grid))
    return synthetic.generate_prices(scenario), sweeps


def _sweep_kernels() -> None:
    """Two combinations of each essay spec's grid: every kind's fused driver compiles once."""
    from shortthehype.sweeps import sweep

    prices, sweeps = synthetic_sweeps()
    for spec, grid in sweeps:
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
    ("sweep kernels", _sweep_kernels),
    ("entry-date studies", _study_kernels),
    ("LPPLS bubble fits", _lppls_kernels),
)


def precompile(progress: Callable[[int, int, str], None] | None = None) -> None:
    """Run every step of :data:`PRECOMPILE_STEPS`; ``progress(done, total, label)`` before each and at the end."""
    import warnings

    from shortthehype.errors import DataWarning

    total = len(PRECOMPILE_STEPS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        for done, (label, step) in enumerate(PRECOMPILE_STEPS):
            if progress is not None:
                progress(done, total, label)
            step()
    if progress is not None:
        progress(total, total, "done")
