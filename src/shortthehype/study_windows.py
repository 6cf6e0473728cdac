"""The fused path of the distribution studies: many windows of one or more histories in one kernel call.

:func:`plan_windows` decides whether a study can take it and prepares what
the kernel reads; :meth:`WindowPlan.rows` runs
:func:`~shortthehype.core.windows_nb.window_stats_nb` and returns the rows,
the same bits as one ``backtest()`` per entry (:func:`shortthehype.studies.rolling`'s
generic path).

The targets of a spec never depend on the window, so a spec whose entry
dates stay put is prepared once and every window reads one set of targets.
Where an entry moves the spec's own entry dates (the kind's ``entry_dates``),
each window has its own spec; its targets come from the kind's target kernel
(:class:`~shortthehype.fused.FusedTargets`), prepared once for the values of
every window and encoded per window, as a fused sweep over those dates does.

A Monte Carlo study (:mod:`shortthehype.montecarlo`) has one history per
generated market: it builds each one's :class:`History` with
:func:`history_inputs` and runs a batch of them, one window each, with
:func:`run_windows`.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from shortthehype.constants import STUDY_TARGETS_CHUNK_BYTES

__all__ = ["History", "KernelOutput", "WindowPlan", "fused_refusal", "history_inputs", "history_targets", "plan_windows",
           "run_windows"]


@dataclass(frozen=True)
class WindowInputs:
    """What the kernel reads for a chunk of windows: their histories (one calendar), targets and bars.

    ``market_of[k]`` is window k's history in ``histories``, or -1 where the
    window runs on the generic path (its inputs differ from the others' in
    what the kernel shares: its row comes from ``backtest()``).
    """

    histories: Sequence[History]
    market_of: np.ndarray
    sets: np.ndarray
    set_of: np.ndarray
    los: np.ndarray
    his: np.ndarray


@dataclass(frozen=True)
class WindowPlan:
    """A study's windows ready for the kernel.

    ``inputs(ws)`` returns the :class:`WindowInputs` of the windows ``ws``;
    ``generic(w)`` runs window ``w`` as ``backtest()`` does (for a window the
    kernel leaves to the pandas layer: it raises there where the pandas layer
    refuses the window's inputs); ``index`` is the calendar of every history;
    ``window_bytes`` what one window's inputs hold (the kernel takes as many
    windows at a time as fit in ``STUDY_TARGETS_CHUNK_BYTES``).
    """

    windows: Sequence[tuple[pd.Timestamp, pd.Timestamp]]
    inputs: Callable[[np.ndarray], WindowInputs]
    generic: Callable[[int], Any]
    index: pd.DatetimeIndex
    has_bench: bool
    window_bytes: int

    def rows(self) -> pd.DataFrame:
        """One row per window (entry, exit, bars, final equity and every statistic), as the generic path's."""
        from shortthehype.core.windows_nb import WINDOW_ELSEWHERE
        from shortthehype.studies import study_row

        n = len(self.windows)
        out = KernelOutput.empty(n)
        los, his = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
        step = max(1, STUDY_TARGETS_CHUNK_BYTES // self.window_bytes)
        for start in range(0, n, step):
            chunk = slice(start, min(n, start + step))  # a slice: the kernel writes into views of the output
            got = self.inputs(np.arange(chunk.start, chunk.stop))
            los[chunk], his[chunk] = got.los, got.his
            part = out.part(chunk)
            kernel = np.flatnonzero(got.market_of >= 0)
            if len(kernel) == len(got.market_of):
                run_windows(got.histories, got.market_of, got.sets, got.set_of, got.los, got.his, part)
                continue
            part.status[:] = WINDOW_ELSEWHERE
            if len(kernel):
                some = KernelOutput.empty(len(kernel))
                run_windows(got.histories, got.market_of[kernel], got.sets, got.set_of[kernel], got.los[kernel],
                            got.his[kernel], some)
                part.stats[kernel], part.final[kernel], part.status[kernel] = some.stats, some.final, some.status
        table = out.table(self.index, los, his, self.has_bench)
        elsewhere = np.flatnonzero(~out.done)
        if len(elsewhere) == 0:
            return pd.DataFrame(table)
        # the kernel left these windows to the pandas layer (which raises where it refuses their inputs)
        rows = pd.DataFrame(table).to_dict(orient="records")
        for w in elsewhere:
            rows[w] = study_row(self.generic(int(w)))
        return pd.DataFrame(rows)


@dataclass(frozen=True)
class History:
    """One history's engine inputs as :func:`run_windows` reads them: every traded bar, the benchmark's closes."""

    inputs: Any
    #: the account's terms (:class:`~shortthehype.core.simulate_nb.AccountTerms`), built once
    terms: Any
    bench: np.ndarray
    has_bench: bool

    def same_terms(self, other: History) -> bool:
        """Whether the kernel can run both histories in one call (the same shape, costs, limits and account terms)."""
        a, b = self.inputs, other.inputs
        return (a.close.shape == b.close.shape and a.index.equals(b.index) and a.execution == b.execution
                and self.has_bench == other.has_bench
                and np.array_equal(a.asset_params, b.asset_params, equal_nan=True)
                and all(getattr(self.terms, name) == getattr(other.terms, name) for name in _SCALAR_TERMS))

    @property
    def nbytes(self) -> int:
        """What a call holds of this history with one set of targets (the four prices and the targets; the days and
        two rates), counted twice: the kernel reads them stacked."""
        return 2 * 8 * (5 * self.inputs.close.size + 3 * len(self.inputs.days))


#: The account terms that are one number per run (the rates are per bar, per history).
_SCALAR_TERMS = ("init_cash", "max_gross", "maintenance_margin", "exec_at_open", "integer_shares", "renormalize")


def history_inputs(prepared: Any) -> History:
    """The engine inputs of a prepared spec's whole traded history (:class:`~shortthehype.runner.PreparedRun`)."""
    from shortthehype.engine import prepare_inputs
    from shortthehype.runner import _engine_with_rates

    spec, traded = prepared.spec, prepared.traded
    index = traded.index
    engine, _, _ = _engine_with_rates(spec, prepared.loaded, index)
    columns = prepared.weights.columns
    template = pd.DataFrame(np.zeros((1, len(columns))), index=index[:1], columns=columns)
    inputs = prepare_inputs(traded, template, **engine, **prepared.terms)
    benchmark = spec.run.get("benchmark")
    bench = np.empty(0)
    if benchmark:
        bench = np.ascontiguousarray(prepared.loaded.close[benchmark].reindex(index).to_numpy(dtype=np.float64))
    return History(inputs, inputs.terms, bench, bool(benchmark))


@dataclass(frozen=True)
class KernelOutput:
    """What :func:`run_windows` writes per window: every statistic, the last equity, whether its row is written."""

    stats: np.ndarray
    final: np.ndarray
    status: np.ndarray

    @classmethod
    def empty(cls, n: int) -> KernelOutput:
        from shortthehype.metrics import ALL_STATS_KEYS

        return cls(np.empty((n, len(ALL_STATS_KEYS))), np.empty(n), np.empty(n, dtype=np.int64))

    def part(self, rows: slice) -> KernelOutput:
        """Views of ``rows`` (the kernel writes through them)."""
        return KernelOutput(self.stats[rows], self.final[rows], self.status[rows])

    @property
    def done(self) -> np.ndarray:
        """Per window: whether the kernel wrote its row (else the pandas layer must run it)."""
        from shortthehype.core.windows_nb import WINDOW_DONE

        return self.status == WINDOW_DONE

    def table(self, index: pd.DatetimeIndex, los: np.ndarray, his: np.ndarray, has_bench: bool) -> dict[str, Any]:
        """The study's columns: entry, exit, bars, final equity and every statistic (the benchmark's with one)."""
        from shortthehype.metrics import ALL_STATS_KEYS, STATS_KEYS

        keys = ALL_STATS_KEYS if has_bench else STATS_KEYS
        return {"entry": index[los], "exit": index[his], "bars": his - los + 1, "final_equity": self.final,
                **{key: self.stats[:, k] for k, key in enumerate(keys)}}



def run_windows(histories: Sequence[History], market_of: np.ndarray, sets: np.ndarray, set_of: np.ndarray,
                los: np.ndarray, his: np.ndarray, out: KernelOutput) -> None:
    """Window w: bars ``los[w]..his[w]`` of ``histories[market_of[w]]`` with the targets ``sets[set_of[w]]``, into ``out``.

    The histories must share their terms (:meth:`History.same_terms`); one kernel call runs every window in parallel.
    """
    import numba

    from shortthehype.constants import ANNUALIZATION, VAR_CUTOFF
    from shortthehype.core.windows_nb import window_stats_nb
    from shortthehype.metrics import _UNDEFINED_WHEN_RUINED

    def stacked(read: Callable[[Any], np.ndarray]) -> np.ndarray:
        if len(histories) == 1:
            return _writable(read(histories[0])[None])  # a view where it can: one history is not copied
        return np.stack([read(h) for h in histories])

    first = histories[0]
    inputs = first.inputs
    close_mode = inputs.execution == "close"
    cash_rate, cash_rate_negative = stacked(lambda h: h.terms.cash_rate), stacked(lambda h: h.terms.cash_rate_negative)
    terms = first.terms._replace(cash_rate=cash_rate[0], cash_rate_negative=cash_rate_negative[0])  # its scalars
    window_stats_nb(
        stacked(lambda h: h.inputs.open), stacked(lambda h: h.inputs.high), stacked(lambda h: h.inputs.low),
        stacked(lambda h: h.inputs.close), stacked(lambda h: h.inputs.days), cash_rate, cash_rate_negative,
        stacked(lambda h: h.bench) if first.has_bench else np.empty((1, 0)), market_of, _writable(sets), set_of,
        inputs.asset_params, terms, los, his, 0 if close_mode else 1, close_mode, first.has_bench, 0.0,
        float(ANNUALIZATION), VAR_CUTOFF, _UNDEFINED_WHEN_RUINED, max(1, min(numba.get_num_threads(), len(los))),
        out.stats, out.final, out.status,
    )


def _writable(array: np.ndarray) -> np.ndarray:
    """``array``, or a copy where it is read-only (prices and rates read from pandas often are): numba compiles its
    kernels once per read-only flag, so the kernel sees writable arrays only and compiles once."""
    return array if array.flags.writeable else array.copy()


def plan_windows(spec: Any, prices: Any, windows: Sequence[tuple[pd.Timestamp, pd.Timestamp]], *,
                 prepared: Any = None, moved: Callable[[int], Any] | None = None) -> WindowPlan | str:
    """The fused path's plan of ``windows``, or why the study cannot take it.

    Either ``prepared``, the spec prepared on ``prices`` (its entry dates stay
    put and every window runs it), or ``moved(w)``, window ``w``'s spec where
    an entry moves the spec's own entry dates.
    """
    from shortthehype.runner import prepare, run_window

    if moved is None:
        reason = fused_refusal(prepared)
        if reason:
            return reason
        history = history_inputs(prepared)
        one = history_targets(prepared)[None]

        def inputs(ws: np.ndarray) -> WindowInputs:
            los, his = _bars(prepared, windows, ws)
            none = np.zeros(len(ws), dtype=np.int64)
            return WindowInputs([history], none, one, none, los, his)

        return WindowPlan(windows, inputs, lambda w: run_window(prepared, *windows[w]), prepared.traded.index,
                          history.has_bench, _targets_bytes(prepared))
    first = prepare(moved(0), prices)
    reason = fused_refusal(first)
    if reason:
        return reason
    plan = _plan_moved(spec, prices, windows, moved, first)
    return plan if plan is not None else _plan_each(prices, windows, moved, first)


def fused_refusal(prepared: Any) -> str | None:
    """Why the windows of ``prepared`` cannot take the fused path (None: they can)."""
    spec = prepared.spec
    if not all(dtype == np.float64 for dtype in prepared.weights.dtypes):
        return "the strategy's targets are not all float64"
    if spec.engine.get("max_gross") is not None and not spec.run.get("scale_gross", True):
        return "scale_gross = false checks each run's targets"
    if np.isinf(prepared.weights.to_numpy()).any():
        return "the strategy's targets hold an infinite weight"
    return None


def history_targets(prepared: Any) -> np.ndarray:
    """The prepared targets on every traded bar, as the kernel reads them."""
    index = prepared.traded.index
    weights = prepared.weights if prepared.weights.index.equals(index) else prepared.weights.reindex(index)
    return np.ascontiguousarray(weights.to_numpy(dtype=np.float64))


def _targets_bytes(prepared: Any) -> int:
    return len(prepared.traded.index) * prepared.weights.shape[1] * 8


def _bars(prepared: Any, windows: Sequence[tuple[pd.Timestamp, pd.Timestamp]], ws: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The first and last bar of the windows ``ws`` (:meth:`PreparedRun.windows_bars`)."""
    from shortthehype.studies import EntryWindows

    if isinstance(windows, EntryWindows):
        return prepared.windows_bars(windows.entries[ws], windows.exits[ws])
    picked = [windows[w] for w in ws]
    return prepared.windows_bars([entry for entry, _ in picked], [exit for _, exit in picked])


def _plan_moved(spec: Any, prices: Any, windows: Sequence[tuple[pd.Timestamp, pd.Timestamp]],
                moved: Callable[[int], Any], prepared: Any) -> WindowPlan | None:
    """The plan where each window has its own spec (its entry dates moved) and its targets come from the kind's
    target kernel, on one history; None where they cannot (no target kernel, derived instruments priced from each
    entry, engine options or traded columns that change with the entry dates)."""
    from shortthehype.fused import FusedTargets
    from shortthehype.runner import _kind_params, prepare, run_window

    fused = spec.kind.fused
    if not isinstance(fused, FusedTargets) or prepared.terms or prepared.traded is not prepared.underlying:
        return None
    specs = [moved(w) for w in range(len(windows))]
    options = spec.kind.engine_options(specs[0].engine, specs[0].params)
    if not all(_same_options(s.kind.engine_options(s.engine, s.params), options) for s in specs[1:]):
        return None
    # The kind sees a window's parameters with an unset risk_free resolved from the engine's cash rate and the
    # prices, which every window shares: resolved once, the same object for every window.
    first = _kind_params(specs[0], prices)
    params = [{**first, **{k: v for k, v in s.params.items() if k != "risk_free" or v is not None}} for s in specs]
    choices = {name: tuple(_distinct(p[name] for p in params)) for name in fused.params}
    kernel_data = fused.prepare(prepared.traded, params[0], choices)
    columns = fused.columns(params[0]) if kernel_data.columns is None else kernel_data.columns
    if list(columns) != list(prepared.weights.columns):
        return None
    encoded = [kernel_data.encode(p) for p in params]
    n_bars, n_columns = len(prepared.traded.index), len(columns)
    history = history_inputs(prepared)

    def inputs(ws: np.ndarray) -> WindowInputs:
        sets = np.empty((len(ws), n_bars, n_columns))
        for k, w in enumerate(ws):
            ip, fp = encoded[w]
            fused.targets_nb(kernel_data.data, np.asarray(ip, dtype=np.int64), np.asarray(fp, dtype=np.float64), 0,
                             sets[k])
        los, his = _bars(prepared, windows, ws)
        return WindowInputs([history], np.zeros(len(ws), dtype=np.int64), sets, np.arange(len(ws), dtype=np.int64),
                            los, his)

    return WindowPlan(windows, inputs, lambda w: run_window(prepare(specs[w], prices), *windows[w]),
                      prepared.traded.index, history.has_bench, _targets_bytes(prepared))


def _plan_each(prices: Any, windows: Sequence[tuple[pd.Timestamp, pd.Timestamp]], moved: Callable[[int], Any],
               first: Any) -> WindowPlan:
    """The plan where each window's spec is prepared on its own (its instruments priced from its entry, say):
    one history per window, as many windows per kernel call as fit in memory.  A window whose history differs
    from the first's in what the kernel shares (calendar, costs, account terms), or whose targets the kernel
    cannot take, runs on the generic path."""
    from shortthehype.runner import prepare, run_window

    base = history_inputs(first)

    def inputs(ws: np.ndarray) -> WindowInputs:
        histories, sets, market_of = [], [], np.full(len(ws), -1, dtype=np.int64)
        los, his = np.zeros(len(ws), dtype=np.int64), np.zeros(len(ws), dtype=np.int64)
        for k, w in enumerate(ws):
            prepared = first if w == 0 else prepare(moved(w), prices)
            if fused_refusal(prepared) is not None:
                continue
            history = base if w == 0 else history_inputs(prepared)
            if not history.same_terms(base):
                continue
            market_of[k] = len(histories)
            histories.append(history)
            sets.append(history_targets(prepared))
            (los[k],), (his[k],) = _bars(prepared, windows, np.array([w]))
        stacked = np.stack(sets) if sets else np.empty((0, *base.inputs.close.shape))
        return WindowInputs(histories or [base], market_of, stacked, np.maximum(market_of, 0), los, his)

    return WindowPlan(windows, inputs, lambda w: run_window(prepare(moved(w), prices), *windows[w]),
                      first.traded.index, base.has_bench, base.nbytes)


def _same_options(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Whether two windows' engine options are the same (a dated series: the same object)."""
    return a.keys() == b.keys() and all(
        a[k] is b[k] or (not isinstance(a[k], (pd.Series, pd.DataFrame, np.ndarray)) and a[k] == b[k]) for k in a
    )


def _distinct(values: Any) -> list[Any]:
    """The values in first-seen order, each once: equal values (dates, numbers, strings, mappings of them), or the
    same object (a dated rate series)."""
    seen: dict[Any, Any] = {}
    for value in values:
        if isinstance(value, Mapping):
            key: Any = ("mapping", tuple(value.items()))
        elif isinstance(value, Hashable) and not isinstance(value, (pd.Series, pd.DataFrame, np.ndarray)):
            key = ("value", value)
        else:
            key = ("object", id(value))
        try:
            seen.setdefault(key, value)
        except TypeError:  # a mapping of unhashable values: the same object only
            seen.setdefault(("object", id(value)), value)
    return list(seen.values())
