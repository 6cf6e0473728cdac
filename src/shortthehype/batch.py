"""Simulate many portfolios that differ only in their target weights.

:func:`simulate_batch` validates one template with the same rules as
:func:`shortthehype.simulate` and then runs every weight set through the
numba kernel in parallel, returning one row of statistics per portfolio.
The statistics equal ``simulate(...).stats()`` of each portfolio (the same
equity curve and metric kernels); only the statistics are kept, so a batch
of any size needs memory for a few equity curves per thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numba
import numpy as np
import pandas as pd

from shortthehype.constants import ANNUALIZATION
from shortthehype.data.prices import Prices
from shortthehype.errors import DataError


def simulate_batch(
    prices: Prices | pd.DataFrame,
    dates: Sequence[Any] | pd.DatetimeIndex,
    weights: np.ndarray,
    *,
    tickers: Sequence[str] | None = None,
    **options: Any,
) -> pd.DataFrame:
    """Statistics of one portfolio per weight set.

    Parameters
    ----------
    prices
        As for :func:`shortthehype.simulate`.
    dates
        Signal dates of the target rows (ascending trading days of ``prices``).
    weights
        Array ``(n_portfolios, len(dates), len(tickers))`` of target weights
        (NaN = no order); every row of every portfolio must hold at least one
        target.
    tickers
        Columns of ``weights`` (default: every ticker of ``prices``).
    **options
        Any keyword of :func:`shortthehype.simulate` (costs, execution, limits).

    Returns
    -------
    DataFrame
        One row per portfolio with ``end_value, total_return, cagr,
        annual_volatility, sharpe, sortino, max_drawdown, calmar`` and the
        kernel's ``status`` code (0 = ran to the end).
    """
    from shortthehype.constants import KERNEL_STATS, N_KERNEL_STATS
    from shortthehype.core.batch_nb import simulate_batch_nb
    from shortthehype.core.simulate_nb import last_valid_bar_nb
    from shortthehype.engine import prepare_inputs

    columns = list(tickers) if tickers is not None else list((prices.close if isinstance(prices, Prices) else prices).columns)
    index = pd.DatetimeIndex(pd.to_datetime(list(dates)))
    batch = np.asarray(weights, dtype=np.float64)
    if batch.ndim != 3 or batch.shape[1:] != (len(index), len(columns)):
        raise DataError(
            f"weights must have shape (n_portfolios, {len(index)} dates, {len(columns)} tickers), got {batch.shape}"
        )
    if not index.is_monotonic_increasing or not index.is_unique:
        raise DataError("batch dates must be ascending and unique")
    empty_rows = np.isnan(batch).all(axis=2)
    if empty_rows.any():
        p, r = np.argwhere(empty_rows)[0]
        raise DataError(f"portfolio {p} has no target on {index[r]:%Y-%m-%d}: every row needs at least one target")
    if np.isinf(batch).any():
        raise DataError("batch weights must be finite (NaN = no order)")
    template = pd.DataFrame(np.zeros((len(index), len(columns))), index=index, columns=columns)
    inputs = prepare_inputs(prices, template, **options)
    order = [columns.index(t) for t in inputs.tickers]
    # prepare_inputs keeps the rows in date order and drops the trailing ones that cannot execute
    row_w_batch = np.ascontiguousarray(batch[:, : len(inputs.row_bar), :][:, :, order])
    out = np.empty((batch.shape[0], N_KERNEL_STATS))
    simulate_batch_nb(
        inputs.open, inputs.high, inputs.low, inputs.close, inputs.days, last_valid_bar_nb(inputs.close),
        inputs.row_bar, row_w_batch, inputs.asset_params, inputs.terms, inputs.execution == "close",
        float(ANNUALIZATION),
        max(1, min(numba.get_num_threads(), batch.shape[0])), out,
    )
    frame = pd.DataFrame(out, columns=list(KERNEL_STATS))
    frame["status"] = frame["status"].astype(np.int64)
    frame.index.name = "portfolio"
    return frame
