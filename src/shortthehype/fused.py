"""The fused sweep path: a strategy kind's numba kernel runs many combinations at once.

A :class:`~shortthehype.strategies.base.StrategyKind` with a ``fused`` hook
tells the sweep which grids its kernel takes (``unsupported``) and runs a
chunk of combinations (``chunk``); the sweep code never names a kind.  Two
hooks exist:

* :class:`FusedTargets`, for a kind whose targets come from a target kernel
  (:mod:`shortthehype.core.targets_nb`): the kind's ``target_weights`` calls
  the same kernel through :meth:`FusedTargets.targets`, so ``backtest()``
  and the sweep run one implementation.  The sweep prepares the arrays
  shared by every combination once (rebalance calendars, one indicator per
  distinct window), then :mod:`shortthehype.core.fused_nb` runs targets ->
  the engine -> statistics per combination in parallel.
* :class:`CrossoverSweep`, ma-crossover's specialised kernel
  (:func:`shortthehype.core.sweep_nb.ma_crossover_sweep_nb`), which also
  has a one-pass fast path.

Either way a row equals the generic path's (``backtest()`` of the
combination's spec) bit for bit.  What a fused sweep holds in memory: the
prepared arrays (history bars x assets per distinct window of each
indicator), per thread one history of targets and one window of equity,
and per combination one row of statistics and block sums.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from shortthehype.constants import ANNUALIZATION, SWEEP_FUSED_GROUP_CACHE
from shortthehype.data.prices import Prices
from shortthehype.enums import (
    AP_BORROW_FEE,
    AP_FEES,
    AP_FIXED_FEES,
    AP_SLIPPAGE,
    AP_STOP_LOSS,
    AP_TAKE_PROFIT,
    AP_TRAILING_STOP,
)
from shortthehype.errors import DataError, ParamError

if TYPE_CHECKING:
    from shortthehype.spec import StrategySpec
    from shortthehype.sweeps.grid import Axis
    from shortthehype.sweeps.plan import Plan

__all__ = ["FUSED_ENGINE", "CrossoverSweep", "FusedTargets", "Prepared", "choice_index", "rows_on_first_use"]

#: Engine options a fused sweep may vary per combination (scalars; None = off), with their per-asset row.
FUSED_ENGINE = {
    "fees": AP_FEES,
    "fixed_fees": AP_FIXED_FEES,
    "slippage": AP_SLIPPAGE,
    "borrow_fee": AP_BORROW_FEE,
    "stop_loss": AP_STOP_LOSS,
    "take_profit": AP_TAKE_PROFIT,
    "trailing_stop": AP_TRAILING_STOP,
}

ChunkResult = tuple[np.ndarray, np.ndarray, np.ndarray]

#: Prepared parameter sets :meth:`FusedTargets.targets` keeps per loaded data set (each holds history x tickers arrays).
PREPARED_KEPT = 4
#: Sweep groups' prepared arrays kept per loaded data set (each holds history x tickers arrays per distinct
#: indicator window).
SWEEP_PREPARED_KEPT = 4


def _engine_axis_unsupported(axis: Axis) -> str | None:
    if axis.name in FUSED_ENGINE and all(v is None or isinstance(v, float) for v in axis.values):
        return None
    return f"the fused path does not sweep {axis.name!r}"


def _thread_count(n: int) -> int:
    import numba

    return max(1, min(numba.get_num_threads(), n))


# ---- kinds with a target kernel ---------------------------------------------------------------


@dataclass(frozen=True)
class Prepared:
    """A kind's arrays for a set of parameter values, and the encoder of one combination's parameters.

    ``data`` is the tuple the target kernel reads; ``encode(params)`` returns
    the kernel's ``(ip, fp)`` (int64, float64 vectors) for one parameter
    mapping whose values are among those ``data`` was prepared for, and may
    fill the rows of ``data`` that mapping reads on its first use (an
    expensive indicator), so a kernel runs on combinations already encoded;
    ``columns``, when the traded columns depend on the prices (a basket's
    members found in them, contracts named by their symbols), names them
    (None: the kind's ``FusedTargets.columns``).
    """

    data: tuple[Any, ...]
    encode: Callable[[Mapping[str, Any]], tuple[Sequence[int], Sequence[float]]]
    columns: list[str] | None = None


@dataclass(frozen=True)
class FusedTargets:
    """A kind's target kernel and what the pandas layer prepares for it.

    Attributes
    ----------
    params
        Strategy parameters a combination may vary (a mapping parameter: its
        existing entries, ``weights.SPY``); sweeping any other one takes the
        generic path.
    columns
        The tickers the targets name, in kernel column order, from the parameters.
    prepare
        ``prepare(history, params, choices)``: the :class:`Prepared` arrays
        for ``history`` (the tickers' prices) given every value each of
        ``params`` takes (``choices[name]``, maybe repeated).
    targets_nb
        ``targets_nb(data, ip, fp, first, out)`` (:mod:`shortthehype.core.targets_nb`).
    sweep_nb
        The name of the kind's driver in :mod:`shortthehype.core.fused_nb`
        (imported when a sweep runs, so loading a spec stays light).
    layout
        Those of ``params`` that change the tickers traded: the sweep runs
        one kernel call per distinct value (its own prices and window).
    instruments
        For a kind that derives what it trades (``StrategyKind.instruments``,
        ``engine_terms``): ``instruments(params)`` is the key of the
        instruments one combination trades (the values of every parameter
        they depend on); the sweep derives the traded prices and the engine
        terms once per distinct key, as ``backtest()`` does, and runs one
        kernel call per key.  None: such a kind runs generic.
    """

    params: tuple[str, ...]
    columns: Callable[[Mapping[str, Any]], list[str]]
    prepare: Callable[[Prices, Mapping[str, Any], Mapping[str, Sequence[Any]]], Prepared]
    targets_nb: Any
    sweep_nb: str
    layout: tuple[str, ...] = ()
    instruments: Callable[[Mapping[str, Any]], tuple[Any, ...]] | None = None

    def targets(self, prices: Prices, params: Mapping[str, Any]) -> pd.DataFrame:
        """The kind's target weights on every bar of ``prices`` (what ``target_weights`` returns).

        The prepared arrays of the last few parameter sets are kept with the
        prices (:meth:`Prices.cached`): runs of one loaded data set that share
        indicators (a study's entries, a generic sweep's combinations) compute them once.
        """
        key = _plain_key(params)

        def prepare() -> Prepared:
            return self.prepare(prices, params, {name: (params[name],) for name in self.params})

        # a kind's hook lives as long as the process: its id names its store
        prepared = prepare() if key is None else prices.recent(("fused-prepared", id(self)), key, prepare, PREPARED_KEPT)
        columns = self.columns(params) if prepared.columns is None else prepared.columns
        ip, fp = prepared.encode(params)
        out = np.empty((len(prices), len(columns)))
        self.targets_nb(prepared.data, np.asarray(ip, dtype=np.int64), np.asarray(fp, dtype=np.float64), 0, out)
        return pd.DataFrame(out, index=prices.index, columns=columns)

    def unsupported(self, spec: StrategySpec, axes: Sequence[Axis]) -> str | None:
        """Why the fused path cannot run this grid (None: it can)."""
        if (spec.kind.instruments is not None or spec.kind.engine_terms is not None) and self.instruments is None:
            return f"{spec.kind.name} trades derived instruments"
        if spec.engine.get("max_gross") is not None and not spec.run.get("scale_gross", True):
            return "scale_gross = false checks every combination's targets"
        for axis in axes:
            base, _, item = axis.name.partition(".")
            if axis.section == "engine":
                reason = _engine_axis_unsupported(axis)
                if reason:
                    return reason
            elif axis.section != "params" or base not in self.params:
                return f"the fused path does not sweep {axis.name!r}"
            elif item and not (isinstance(spec.params[base], Mapping) and item in spec.params[base]):
                return f"{axis.name!r} adds a ticker to {base!r}"
            elif not item and isinstance(spec.params[base], Mapping) and base not in self.layout and any(
                list(value) != list(spec.params[base]) for value in axis.values
            ):
                return f"{axis.name!r} changes the tickers of {base!r}"
        return None

    def chunk(self, plan: Plan, ids: np.ndarray) -> ChunkResult:
        """Statistics, block sums and windows of the combinations ``ids`` of ``plan``.

        One kernel call per group of combinations that share the values of
        the ``layout`` parameters (the traded tickers or instruments) and the
        backtest window (an entry date swept moves the window's start, as
        :meth:`StrategySpec.with_overrides` does), each on its own prices.
        """
        from shortthehype.constants import N_KERNEL_STATS
        from shortthehype.spec import follow_window

        spec = plan.spec
        n = len(ids)
        out = np.empty((n, N_KERNEL_STATS))
        blocks = np.full((n, plan.n_blocks, 2), np.nan)
        windows = np.empty(n, dtype=object)
        ap_rows = np.asarray([FUSED_ENGINE[a.name] for a in plan.axes if a.section == "engine"], dtype=np.int64)
        overridden = spec.overridden | {a.name for a in plan.axes}
        movers = [p for p in spec.kind.params if p.moves_window]  # the window rule reads only these
        # the rule's outcome (the movers' values, the run settings) for each distinct set of the movers' values
        followed: dict[tuple[Any, ...], tuple[dict[str, Any], dict[str, Any]]] = {}
        groups: dict[str, list[int]] = {}
        keys: dict[tuple[int, ...], tuple[tuple[Any, ...], str]] = {}
        combinations = []
        names = [(base, item, base in FUSED_ENGINE) for base, _, item in (a.name.partition(".") for a in plan.axes)]
        for row, values in enumerate(plan.combinations(ids)):
            params, costs = dict(spec.params), []
            for (base, item, engine), value in zip(names, values):
                if engine:
                    costs.append(np.nan if value is None else value)
                elif item:
                    params[base] = {**params[base], item: value}
                else:
                    params[base] = value
            run = spec.run
            if movers:
                dates = tuple(params.get(p.name) for p in movers)
                if dates not in followed:
                    moved, moved_run, _ = follow_window(movers, params, run, overridden)
                    followed[dates] = ({p.name: moved[p.name] for p in movers if p.name in moved}, moved_run)
                moved_values, run = followed[dates]
                params.update(moved_values)
            instruments = self.instruments(params) if self.instruments is not None else ()
            parts = (*(params[name] for name in self.layout), *instruments, run.get("start"), run.get("end"))
            # combinations mostly share their values' objects (the grid's, the spec's): one repr per distinct set
            identity = tuple(map(id, parts))
            held = keys.get(identity)
            if held is None:
                held = keys[identity] = (parts, repr(parts))  # the parts kept: their ids stay theirs
            groups.setdefault(held[1], []).append(row)
            combinations.append((params, costs, run))
        for key, members in groups.items():
            rows = np.asarray(members, dtype=np.int64)
            params, _, run = combinations[members[0]]
            setup = self._setup(plan, key, params, run)
            self._run(plan, setup, [combinations[r][:2] for r in members], ap_rows, out, blocks, rows)
            windows[rows] = setup["window"]
        return out, blocks, windows

    def _run(self, plan: Plan, setup: dict[str, Any], combinations: list, ap_rows: np.ndarray, out: np.ndarray,
             blocks: np.ndarray, rows: np.ndarray) -> None:
        """The kernel on one group of combinations (same tickers and window): rows ``rows`` of ``out``/``blocks``."""
        from shortthehype.core import fused_nb

        n = len(combinations)
        ip = np.empty((n, setup["n_ip"]), dtype=np.int64)
        fp = np.empty((n, setup["n_fp"]))
        ap_values = np.empty((n, len(ap_rows)))
        max_gross = np.empty(n)  # the engine's gross cap of each combination (a kind's limit may depend on it)
        encode = setup["prepared"].encode
        spec = plan.spec
        for row, (params, costs) in enumerate(combinations):
            ip[row], fp[row] = encode(params)
            ap_values[row] = costs
            cap = spec.kind.engine_options(spec.engine, params).get("max_gross")
            max_gross[row] = np.inf if cap is None else float(cap)
        if not (np.nan_to_num(ap_values[:, ap_rows == AP_SLIPPAGE], nan=0.0) < 1.0).all():
            raise ParamError(f"{plan.spec.where}: parameter 'slippage' must be < 1 in every combination")
        eng = setup["engine"]
        group_out = np.empty((n, out.shape[1]))
        group_blocks = np.full((n, plan.n_blocks, 2), np.nan) if eng.block_len else np.empty((n, 0, 2))
        kernel = getattr(fused_nb, self.sweep_nb)
        kernel(eng, setup["terms"], setup["prepared"].data, ip, fp, setup["ap"], ap_rows, ap_values, max_gross, _thread_count(n),
               group_out, group_blocks)
        out[rows] = group_out
        if eng.block_len:
            blocks[rows] = group_blocks

    def _prepared(self, history: Prices, params: Mapping[str, Any], choices: Mapping[str, Sequence[Any]]) -> Prepared:
        """A sweep group's prepared arrays, kept with the loaded prices for the next sweep of the same values.

        A user who runs the same grid again on the same prices (another
        objective, another random draw, a notebook cell run twice) does not
        compute the indicators again.  The key is what ``prepare`` may read:
        the values every member of the group shares (the layout, the
        instruments, what is not swept; a member's own value of a swept
        parameter is one of its ``choices``) and the distinct choices.
        """
        shared = {name: value for name, value in params.items() if name not in self.params or name in self.layout}
        instruments = _plain_value(self.instruments(params)) if self.instruments is not None else ("none",)
        distinct = {name: tuple(dict.fromkeys(map(_plain_value, values))) for name, values in choices.items()}
        key = _plain_key(shared)
        if key is None or instruments is None or any(None in values for values in distinct.values()):
            return self.prepare(history, params, choices)
        return history.recent(("fused-sweep-prepared", id(self)), (key, instruments, tuple(sorted(distinct.items()))),
                              lambda: self.prepare(history, params, choices), SWEEP_PREPARED_KEPT)

    def _setup(self, plan: Plan, group: str, params: Mapping[str, Any], run: Mapping[str, Any]) -> dict[str, Any]:
        """What every chunk of a group shares (cached on the plan): prepared data, window, engine inputs.

        ``group`` is the group's key, ``params`` and ``run`` one member's parameters and run settings.
        """
        key = "fused:" + group
        setup = plan.cache.get(key)  # one lookup: another thread of a worker may drop the key in between
        if setup is not None:
            return setup
        from shortthehype.core.fused_nb import FusedEngine
        from shortthehype.core.simulate_nb import accrual_factors_nb, last_valid_bar_nb
        from shortthehype.engine import prepare_inputs
        from shortthehype.runner import _common_end, _engine_with_rates, _kind_params, window_positions
        from shortthehype.sweeps.chunks import block_layout_or_none

        spec = plan.spec
        tickers = spec.kind.tickers(params)
        missing = [t for t in tickers if t not in plan.prices.tickers]
        if missing:
            raise DataError(f"{spec.where}: prices have no data for {', '.join(missing)}")
        # the prices of what is traded, as backtest() derives them (the kind's instruments, if any)
        group_spec = replace(spec, params=params)
        kind_params = _kind_params(group_spec, plan.prices)
        history = spec.kind.traded_prices(plan.prices.select(tickers), kind_params)
        swept = {a.name: a.values for a in plan.axes if a.section == "params" and "." not in a.name}
        # the spec's own values too: they size the encoded parameters; a layout parameter has the group's value
        choices = {name: (params[name],) if name in self.layout else (*swept.get(name, ()), params[name])
                   for name in self.params}
        prepared = self._prepared(history, kind_params, choices)
        columns = self.columns(params) if prepared.columns is None else prepared.columns
        ip, fp = prepared.encode(params)
        # engine terms of the instruments (share-count targets, cash settlement), as PreparedRun.terms
        instrument_terms = dict(spec.kind.engine_terms(kind_params, history)) if spec.kind.engine_terms else {}
        settled = set(instrument_terms.get("cash_settled", ()))
        end, _ = _common_end(history, pd.Index([c for c in columns if c not in settled]), run.get("end"))
        lo, stop = window_positions(history.index, run.get("start"), end)  # the window of prepare_window
        hi = stop - 1
        window = history.index[lo:stop]
        template = pd.DataFrame(np.zeros((1, len(columns))), index=window[:1], columns=columns)
        # the engine options backtest() uses: the kind's limits applied, rate series read as of each bar (kept with
        # the loaded prices per window, as for backtest())
        options, _, _ = _engine_with_rates(group_spec, plan.prices, window)
        inputs = prepare_inputs(history.between(window[0], window[-1]), template, **options, **instrument_terms)
        close_mode = inputs.execution == "close"
        n_obs = (hi - lo) + (1 if close_mode else 0)
        block_start, block_len = block_layout_or_none(n_obs, plan.n_blocks)
        accrual = np.empty((2, len(inputs.days)))
        accrual_factors_nb(inputs.days, inputs.terms.cash_rate, inputs.terms.cash_rate_negative, accrual)
        engine = FusedEngine(
            open=inputs.open, high=inputs.high, low=inputs.low, close=inputs.close, days=inputs.days,
            last_valid=last_valid_bar_nb(inputs.close), lo=lo, shift=0 if close_mode else 1,
            prepend_init_cash=close_mode, ann_factor=float(ANNUALIZATION), block_start=block_start,
            block_len=block_len, accrual=accrual,
        )
        held = [k for k in list(plan.cache) if k.startswith("fused:")]  # a copy: threads of a worker share the plan
        for stale in held[: max(0, len(held) - SWEEP_FUSED_GROUP_CACHE + 1)]:
            plan.cache.pop(stale, None)
        setup = plan.cache[key] = {
            "prepared": prepared,
            "n_ip": len(ip),
            "n_fp": len(fp),
            "engine": engine,
            "terms": inputs.terms,
            "ap": np.ascontiguousarray(inputs.asset_params),
            "window": f"{window[0]:%Y-%m-%d}..{window[-1]:%Y-%m-%d}/{n_obs}",
        }
        return setup


def _plain_key(params: Mapping[str, Any]) -> tuple[Any, ...] | None:
    """A hashable key equal for equal parameters (None when a value is not plain data, e.g. a Series)."""
    items = [(name, _plain_value(value)) for name, value in sorted(params.items())]
    return None if any(i is None for _, i in items) else tuple(items)


def _plain_value(value: Any) -> Any:
    """:func:`_plain_key` of one value."""
    if value is None or isinstance(value, (bool, int, float, str, pd.Timestamp, np.integer, np.floating)):
        return (type(value).__name__, value)
    if isinstance(value, (list, tuple)):
        items = [_plain_value(v) for v in value]
        return None if any(i is None for i in items) else ("seq", *items)
    if isinstance(value, Mapping):
        items = [(str(k), _plain_value(v)) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))]
        return None if any(i is None for _, i in items) else ("map", *items)
    return None


def choice_index(values: Sequence[Any]) -> dict[Any, int]:
    """Position of each distinct value (the row of its prepared array)."""
    return {value: k for k, value in enumerate(dict.fromkeys(values))}


def rows_on_first_use(row_of: Mapping[Any, int], fill: Callable[[Any, int], None]) -> Callable[[Any], int]:
    """``key -> row_of[key]``, calling ``fill(key, row)`` the first time a row is asked for.

    For a :class:`Prepared` whose rows are expensive (an indicator, a fit per
    parameter set): its ``encode`` fills only the rows its combinations use.
    """
    filled: set[int] = set()

    def row(key: Any) -> int:
        at = row_of[key]
        if at not in filled:
            fill(key, at)
            filled.add(at)
        return at

    return row


# ---- ma-crossover's specialised kernel ---------------------------------------------------------


class CrossoverSweep:
    """``ma-crossover`` over ``ticker``, ``fast``, ``slow``, ``direction``, ``sma`` and the scalar costs.

    Every moving average is computed once per ticker, window and summation
    method; :func:`shortthehype.core.sweep_nb.ma_crossover_sweep_nb` picks
    rows of them.
    """

    params = ("ticker", "fast", "slow", "direction", "sma")

    def unsupported(self, spec: StrategySpec, axes: Sequence[Axis]) -> str | None:
        """Why the fused path cannot run this grid (None: it can)."""
        for axis in axes:
            if "." in axis.name or (axis.name not in self.params and axis.name not in FUSED_ENGINE):
                return f"the fused path does not sweep {axis.name!r}"
            if axis.name in FUSED_ENGINE:
                reason = _engine_axis_unsupported(axis)
                if reason:
                    return reason
        return None

    def chunk(self, plan: Plan, ids: np.ndarray) -> ChunkResult:
        """Statistics, block sums and windows of the combinations ``ids``, one kernel call per ticker."""
        from shortthehype.constants import N_KERNEL_STATS
        from shortthehype.sweeps.grid import decode

        axes = {a.name: a for a in plan.axes}
        if "ticker" not in axes:
            out, blocks, window = self._ticker(plan, ids, plan.spec.params["ticker"])
            windows = np.empty(len(ids), dtype=object)
            windows.fill(window)  # one shared str (np.full would make a str per row)
            return out, blocks, windows
        position = decode(ids, plan.shape)[[a.name for a in plan.axes].index("ticker")]
        out = np.empty((len(ids), N_KERNEL_STATS))
        blocks = np.empty((len(ids), plan.n_blocks, 2))
        windows = np.empty(len(ids), dtype=object)
        for k, ticker in enumerate(axes["ticker"].values):
            rows = np.flatnonzero(position == k)
            if len(rows):
                out[rows], blocks[rows], windows[rows] = self._ticker(plan, ids[rows], ticker)
        return out, blocks, windows

    @staticmethod
    def _setup(plan: Plan, ticker: str) -> dict[str, Any]:
        """A ticker's window arrays, moving averages and engine inputs, shared by every chunk (cached on the plan)."""
        key = f"fused:{ticker}"
        setup = plan.cache.get(key)  # one lookup: another thread of a worker may drop the key in between
        if setup is not None:
            return setup
        from shortthehype.core.sweep_nb import rolling_means_nb
        from shortthehype.engine import prepare_inputs
        from shortthehype.runner import _engine_with_rates, window_positions
        from shortthehype.sweeps.chunks import block_layout_or_none

        spec = plan.spec
        if ticker not in plan.prices.tickers:
            raise DataError(f"{spec.where}: prices have no data for {ticker}")
        history = plan.prices.select([ticker])
        lo, stop = window_positions(history.index, spec.run.get("start"), spec.run.get("end"))  # prepare_window's
        hi = stop - 1
        window = history.index[lo:stop]
        template = pd.DataFrame(np.zeros((1, 1)), index=window[:1], columns=[ticker])
        engine, _, _ = _engine_with_rates(spec, plan.prices, window)  # as backtest() does, rates kept with the prices
        inputs = prepare_inputs(history.between(window[0], window[-1]), template, **engine)
        windows_needed = set()
        axes = {axis.name: axis for axis in plan.axes}
        for name in ("fast", "slow"):
            values = axes[name].values if name in axes else (spec.params[name],)
            windows_needed.update(int(v) for v in values)
        windows = np.asarray(sorted(windows_needed), dtype=np.int64)
        methods = list(dict.fromkeys(axes["sma"].values if "sma" in axes else (spec.params["sma"],)))
        # the strategy's SMAs over the same history (prices.select as in backtest()): the cumulative
        # method's running sums start at its first bar, so the rows equal the engine's bit for bit
        close = np.ascontiguousarray(history.close[ticker].to_numpy(dtype=np.float64)[: hi + 1])
        ma = np.empty((len(methods) * len(windows), hi + 1))
        for k, method in enumerate(methods):
            rolling_means_nb(close, windows, method == "cumulative", ma[k * len(windows) : (k + 1) * len(windows)])
        n_obs = (hi - lo) + (1 if inputs.execution == "close" else 0)
        start, length = block_layout_or_none(n_obs, plan.n_blocks)
        setup = {
            "inputs": inputs,
            "lo": lo,
            "ma": ma,
            "windows": windows,  # row of (method k, window w): k * len(windows) + position of w
            "methods": methods,
            "block_start": start,
            "block_len": length,
            "window": f"{window[0]:%Y-%m-%d}..{window[-1]:%Y-%m-%d}/{n_obs}",
        }
        plan.cache[key] = setup
        return setup

    def _ticker(self, plan: Plan, ids: np.ndarray, ticker: str) -> tuple[np.ndarray, np.ndarray, str]:
        from shortthehype.constants import N_KERNEL_STATS
        from shortthehype.core.sweep_nb import ma_crossover_sweep_nb
        from shortthehype.sweeps.grid import decode

        setup = self._setup(plan, ticker)
        inputs = setup["inputs"]
        spec = plan.spec
        n = len(ids)
        positions = dict(zip([a.name for a in plan.axes], decode(ids, plan.shape)))
        axes = {a.name: a for a in plan.axes}

        def column(name: str, default: Any) -> np.ndarray:
            if name in axes:
                values = np.asarray(
                    [np.nan if v is None else v for v in axes[name].values] if name in FUSED_ENGINE else axes[name].values,
                    dtype=object,
                )
                return values[positions[name]]
            return np.full(n, default, dtype=object)

        windows, methods = setup["windows"], setup["methods"]
        if "sma" in axes:
            method_of_value = np.asarray([methods.index(v) for v in axes["sma"].values], dtype=np.int64)
            first_row = method_of_value[positions["sma"]] * len(windows)
        else:
            first_row = np.zeros(n, dtype=np.int64)
        fast_idx = first_row + np.searchsorted(windows, column("fast", spec.params["fast"]).astype(np.int64))
        slow_idx = first_row + np.searchsorted(windows, column("slow", spec.params["slow"]).astype(np.int64))
        allow_short = np.asarray(column("direction", spec.params["direction"]) == "longshort", dtype=np.bool_)
        combo_ap = np.ascontiguousarray(np.repeat(inputs.asset_params[:, 0][None, :], n, axis=0))
        for name, row in FUSED_ENGINE.items():
            if name in axes:
                combo_ap[:, row] = column(name, np.nan).astype(np.float64)
        if not (combo_ap[:, AP_SLIPPAGE] < 1.0).all():
            raise ParamError(f"{spec.where}: parameter 'slippage' must be < 1 in every combination")
        out = np.empty((n, N_KERNEL_STATS))
        blocks = np.full((n, plan.n_blocks, 2), np.nan) if setup["block_len"] else np.empty((n, 0, 2))
        close_mode = inputs.execution == "close"
        ma_crossover_sweep_nb(
            inputs.open, inputs.high, inputs.low, inputs.close, inputs.days, setup["ma"], setup["lo"], fast_idx,
            slow_idx, allow_short, combo_ap, inputs.terms, 0 if close_mode else 1, close_mode, float(ANNUALIZATION),
            setup["block_start"], setup["block_len"], _thread_count(n), True, out, blocks,
        )
        if not setup["block_len"]:
            blocks = np.full((n, plan.n_blocks, 2), np.nan)
        return out, blocks, setup["window"]
