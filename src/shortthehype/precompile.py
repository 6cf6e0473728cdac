"""Compile (and cache) the numba kernels ahead of the first real run: ``shortthehype precompile``.

numba compiles each kernel on its first call and caches the machine code on
disk (see :mod:`shortthehype._numba_setup`), so the first backtest, sweep or
bubble fit after an install spends most of its time compiling.  Running one
small workload of each kind here fills the cache; later processes load it.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["PRECOMPILE_STEPS", "precompile"]


def _engine_and_strategies() -> None:
    from shortthehype.demo import run_demo

    run_demo()


def _sweep_kernels() -> None:
    from shortthehype.data import synthetic
    from shortthehype.sweeps import sweep

    prices = synthetic.generate_prices(synthetic.Scenario())
    sweep("ma-crossover", {"fast": [10, 20], "slow": [50, 100]}, overrides={"ticker": "DATA", "benchmark": "MKT"},
          prices=prices, n_blocks=4, workers=1)


def _lppls_kernels() -> None:
    import numpy as np
    import pandas as pd

    from shortthehype.lppls import confidence_indicator, lppls_windows

    days = pd.bdate_range("2020-01-01", periods=160)
    series = pd.Series(100.0 * np.exp(np.linspace(0.0, 0.5, len(days))), index=days, name="demo")
    confidence_indicator(series, windows=lppls_windows(125, 150, 25), start=days[-1], step=1)


#: What :func:`precompile` runs, in order: a label and a workload.
PRECOMPILE_STEPS: tuple[tuple[str, Callable[[], None]], ...] = (
    ("engine, metrics and strategies", _engine_and_strategies),
    ("sweep kernels", _sweep_kernels),
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
