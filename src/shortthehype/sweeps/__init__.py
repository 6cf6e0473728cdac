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

from shortthehype.sweeps.grid import Axis, build_axes, parse_grid
from shortthehype.sweeps.plan import SWEEP_PATHS
from shortthehype.sweeps.result import SWEEP_METRICS, SweepResult, is_empty_cell, load_sweep
from shortthehype.sweeps.run import sweep

__all__ = ["SWEEP_METRICS", "SWEEP_PATHS", "Axis", "SweepResult", "build_axes", "is_empty_cell", "load_sweep", "parse_grid", "sweep"]
