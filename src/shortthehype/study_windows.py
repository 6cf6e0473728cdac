"""The fused path of an entry-date study: every window of a spec in one kernel call.

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
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from shortthehype.constants import STUDY_TARGETS_CHUNK_BYTES

__all__ = ["WindowPlan", "plan_windows"]


@dataclass(frozen=True)
class WindowPlan:
    """A study's windows ready for the kernel.

    ``prepared`` is the first window's :class:`~shortthehype.runner.PreparedRun`
    (its prices, columns and engine options are every window's);
    ``targets(ws)`` returns the targets of the windows ``ws`` as ``(sets,
    set of each window)``; ``generic(w)`` runs window ``w`` as ``backtest()``
    does (for a window whose inputs the pandas layer refuses: it raises there).
    """

    prepared: Any
    windows: Sequence[tuple[pd.Timestamp, pd.Timestamp]]
    targets: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]
    generic: Callable[[int], Any]

    def rows(self) -> pd.DataFrame:
        """One row per window (entry, exit, bars, final equity and every statistic), as the generic path's."""
        import numba

        from shortthehype.constants import ANNUALIZATION, VAR_CUTOFF
        from shortthehype.core.windows_nb import WINDOW_DONE, window_stats_nb
        from shortthehype.engine import prepare_inputs
        from shortthehype.metrics import _UNDEFINED_WHEN_RUINED, ALL_STATS_KEYS, STATS_KEYS
        from shortthehype.runner import _engine_with_rates
        from shortthehype.studies import study_row

        prepared, windows = self.prepared, self.windows
        spec, traded = prepared.spec, prepared.traded
        index = traded.index
        bars = np.asarray([prepared.window_bars(entry, exit) for entry, exit in windows], dtype=np.int64).reshape(-1, 2)
        los, his = np.ascontiguousarray(bars[:, 0]), np.ascontiguousarray(bars[:, 1])
        engine, _, _ = _engine_with_rates(spec, prepared.loaded, index)
        columns = prepared.weights.columns
        template = pd.DataFrame(np.zeros((1, len(columns))), index=index[:1], columns=columns)
        inputs = prepare_inputs(traded, template, **engine)
        benchmark = spec.run.get("benchmark")
        bench = np.empty(0)
        if benchmark:
            bench = np.ascontiguousarray(prepared.loaded.close[benchmark].reindex(index).to_numpy(dtype=np.float64))
        close_mode = inputs.execution == "close"
        n = len(windows)
        out = np.empty((n, len(ALL_STATS_KEYS)))
        final = np.empty(n)
        status = np.empty(n, dtype=np.int64)
        per_window = len(index) * len(columns) * 8  # bytes of one set of targets
        step = max(1, STUDY_TARGETS_CHUNK_BYTES // per_window)
        for start in range(0, n, step):
            chunk = slice(start, min(n, start + step))  # a slice: the kernel writes into views of out, final, status
            sets, set_of = self.targets(np.arange(chunk.start, chunk.stop))
            window_stats_nb(
                inputs.open, inputs.high, inputs.low, inputs.close, inputs.days, sets, set_of, inputs.asset_params,
                inputs.terms, los[chunk], his[chunk], 0 if close_mode else 1, close_mode, bench, bool(benchmark), 0.0,
                float(ANNUALIZATION), VAR_CUTOFF, _UNDEFINED_WHEN_RUINED,
                max(1, min(numba.get_num_threads(), chunk.stop - chunk.start)), out[chunk], final[chunk], status[chunk],
            )
        keys = ALL_STATS_KEYS if benchmark else STATS_KEYS
        table = {"entry": index[los], "exit": index[his], "bars": his - los + 1, "final_equity": final,
                 **{key: out[:, k] for k, key in enumerate(keys)}}
        elsewhere = np.flatnonzero(status != WINDOW_DONE)
        if len(elsewhere) == 0:
            return pd.DataFrame(table)
        # the pandas layer refuses these windows' inputs (it raises there); a row it does return takes its place
        rows = pd.DataFrame(table).to_dict(orient="records")
        for w in elsewhere:
            rows[w] = study_row(self.generic(int(w)))
        return pd.DataFrame(rows)


def plan_windows(spec: Any, prices: Any, windows: Sequence[tuple[pd.Timestamp, pd.Timestamp]], *,
                 prepared: Any = None, moved: Callable[[int], Any] | None = None) -> WindowPlan | str:
    """The fused path's plan of ``windows``, or why the study cannot take it.

    Either ``prepared``, the spec prepared on ``prices`` (its entry dates stay
    put and every window runs it), or ``moved(w)``, window ``w``'s spec where
    an entry moves the spec's own entry dates.
    """
    from shortthehype.runner import run_window

    if moved is None:
        reason = _unsupported(prepared)
        if reason:
            return reason
        index = prepared.traded.index
        weights = prepared.weights if prepared.weights.index.equals(index) else prepared.weights.reindex(index)
        one = np.ascontiguousarray(weights.to_numpy(dtype=np.float64))[None]
        return WindowPlan(prepared, windows, lambda ws: (one, np.zeros(len(ws), dtype=np.int64)),
                          lambda w: run_window(prepared, *windows[w]))
    return _plan_moved(spec, prices, windows, moved)


def _unsupported(prepared: Any, instruments: str = "") -> str | None:
    """Why the windows of ``prepared`` cannot take the fused path (None: they can); ``instruments`` ends the
    message about derived instruments."""
    spec = prepared.spec
    if prepared.terms or prepared.traded is not prepared.underlying:
        return f"{spec.kind.name} trades derived instruments{instruments}"
    if not all(dtype == np.float64 for dtype in prepared.weights.dtypes):
        return "the strategy's targets are not all float64"
    if spec.engine.get("max_gross") is not None and not spec.run.get("scale_gross", True):
        return "scale_gross = false checks each entry's targets"
    if np.isinf(prepared.weights.to_numpy()).any():
        return "the strategy's targets hold an infinite weight"
    return None


def _plan_moved(spec: Any, prices: Any, windows: Sequence[tuple[pd.Timestamp, pd.Timestamp]],
                moved: Callable[[int], Any]) -> WindowPlan | str:
    """The plan where each window has its own spec (its entry dates moved): targets from the kind's target kernel."""
    from shortthehype.fused import FusedTargets
    from shortthehype.runner import _kind_params, prepare, run_window

    fused = spec.kind.fused
    if not isinstance(fused, FusedTargets):
        return f"{spec.kind.name}'s entry dates move with each entry and it has no target kernel"
    specs = [moved(w) for w in range(len(windows))]
    prepared = prepare(specs[0], prices)
    reason = _unsupported(prepared, " (priced from each entry)")
    if reason:
        return reason
    options = spec.kind.engine_options(specs[0].engine, specs[0].params)
    if not all(_same_options(s.kind.engine_options(s.engine, s.params), options) for s in specs[1:]):
        return f"{spec.kind.name}'s engine limits change with the entry dates"
    # The kind sees a window's parameters with an unset risk_free resolved from the engine's cash rate and the
    # prices, which every window shares: resolved once, the same object for every window.
    first = _kind_params(specs[0], prices)
    params = [{**first, **{k: v for k, v in s.params.items() if k != "risk_free" or v is not None}} for s in specs]
    choices = {name: tuple(_distinct(p[name] for p in params)) for name in fused.params}
    kernel_data = fused.prepare(prepared.traded, params[0], choices)
    columns = fused.columns(params[0]) if kernel_data.columns is None else kernel_data.columns
    if list(columns) != list(prepared.weights.columns):
        return f"{spec.kind.name}'s traded columns change with the entry dates"
    encoded = [kernel_data.encode(p) for p in params]
    n_bars, n_columns = len(prepared.traded.index), len(columns)

    def targets(ws: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        sets = np.empty((len(ws), n_bars, n_columns))
        for k, w in enumerate(ws):
            ip, fp = encoded[w]
            fused.targets_nb(kernel_data.data, np.asarray(ip, dtype=np.int64), np.asarray(fp, dtype=np.float64), 0,
                             sets[k])
        return sets, np.arange(len(ws), dtype=np.int64)

    return WindowPlan(prepared, windows, targets, lambda w: run_window(prepare(specs[w], prices), *windows[w]))


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
