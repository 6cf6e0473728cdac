"""shortthehype: portfolio backtesting with a numba-compiled core.

The public API is the names in ``__all__``.  Names backed by numba kernels
are imported on first use, so ``import shortthehype`` stays fast.
"""

import importlib as _importlib
from typing import Any as _Any

from shortthehype import _numba_setup  # noqa: F401  (must run before any kernel module is imported)
from shortthehype.data.prices import Prices
from shortthehype.data.source import PriceSource
from shortthehype.errors import DataError, DownloadError, ParamError, ShortTheHypeError, SpecError

__version__ = "0.1.0"

#: Public name -> module that defines it (imported lazily).
_LAZY = {
    "load_prices": "shortthehype.data.load",
    "load_rate": "shortthehype.data.rates",
    "simulate": "shortthehype.engine",
    "Result": "shortthehype.result",
    "backtest": "shortthehype.runner",
    "BacktestRun": "shortthehype.runner",
    "load_spec": "shortthehype.spec",
    "StrategySpec": "shortthehype.spec",
    "Scenario": "shortthehype.data.synthetic",
    "generate_prices": "shortthehype.data.synthetic",
    "metrics": "shortthehype.metrics",
    "sweep": "shortthehype.sweeps",
    "SweepResult": "shortthehype.sweeps",
    "load_sweep": "shortthehype.sweeps",
    "walkforward": "shortthehype.walk_forward",
    "WalkForwardResult": "shortthehype.walk_forward",
    "overfitting": "shortthehype.overfitting",
    "compare": "shortthehype.runner",
}

__all__ = [
    "BacktestRun",
    "DataError",
    "DownloadError",
    "ParamError",
    "PriceSource",
    "Prices",
    "Result",
    "Scenario",
    "ShortTheHypeError",
    "SpecError",
    "StrategySpec",
    "SweepResult",
    "WalkForwardResult",
    "__version__",
    "backtest",
    "compare",
    "generate_prices",
    "load_prices",
    "load_rate",
    "load_spec",
    "load_sweep",
    "metrics",
    "overfitting",
    "simulate",
    "sweep",
    "walkforward",
]


def __getattr__(name: str) -> _Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'shortthehype' has no attribute {name!r}")
    module = _importlib.import_module(module_name)
    value = module if module_name.endswith("." + name) else getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
