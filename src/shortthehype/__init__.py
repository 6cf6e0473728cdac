"""shortthehype: portfolio backtesting with a numba-compiled core."""

from shortthehype import _numba_setup  # noqa: F401  (must run before any kernel module is imported)
from shortthehype.data.prices import Prices
from shortthehype.errors import DataError, ParamError, ShortTheHypeError, SpecError

__version__ = "0.1.0"

__all__ = [
    "DataError",
    "ParamError",
    "Prices",
    "ShortTheHypeError",
    "SpecError",
    "__version__",
]
