"""Monte Carlo over synthetic bubble paths: one strategy, many generated markets.

Each path is a synthetic market (:mod:`shortthehype.data.synthetic`) whose
bubble has its own peak date, run-up, crash depth and crash duration, drawn
uniformly from :data:`DEFAULT_RANGES` (or the ranges given with
``--scenario key=low:high``; ``key=value`` fixes a parameter).  The spec runs
on each path with the essay's tickers mapped onto the synthetic ones exactly
as the demo maps them (:func:`shortthehype.demo.synthetic_table`: hype
names → AIX/GPU/DATA, market → MKT, bond → BOND), from the bubble's start to
the calendar's end; ``dotcom-analog``'s time scale is set from each path's
own peak, so its results are labelled oracle-timed.

Determinism: the scenario draws of path ``p`` come from
``SeedSequence(seed, spawn_key=(p, SCENARIO_STREAM))`` and its prices from
:func:`~shortthehype.data.synthetic.generate_prices` with the same seed and
path, so a seed gives the same rows bit for bit in every process (on one
platform and numpy version), and path ``p`` does not depend on how many
paths run.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np
import pandas as pd

from shortthehype.constants import (
    MONTECARLO_BATCH_PATHS,
    MONTECARLO_DEFAULT_PATHS,
    MONTECARLO_DEFAULT_SEED,
    MONTECARLO_PROCESS_MIN_SECONDS,
    STUDY_TARGETS_CHUNK_BYTES,
)
from shortthehype.errors import ParamError, did_you_mean
from shortthehype.studies import StudyResult, wiped_out_note

__all__ = ["BASE_SCENARIO", "DEFAULT_RANGES", "montecarlo", "parse_scenario", "path_scenario"]

#: The calendar of every path: the demo's scenario, run to the end of 2029 so that late peaks have room to crash.
BASE_SCENARIO = {"calendar_end": "2029-12-31"}

#: Ranges the bubble of each path is drawn from (uniform; dates uniform over calendar days, crash_days
#: uniform over integers).  Peaks from 2025 to mid-2027 ask "what if it bursts in 2026 instead of 2027?";
#: run-ups of +80 % to +250 % bracket the AI leaders' 2023-2025 gains; crash depths of 40-85 % span the
#: 2022 Nasdaq fall (-36 %) to the 2000-2002 one (-78 %) and beyond; 120-500 trading days span a fast
#: crash to the dotcom bust's 2.6 years.
DEFAULT_RANGES: dict[str, tuple[Any, Any]] = {
    "peak": ("2025-01-02", "2027-06-30"),
    "run_up": (0.8, 2.5),
    "crash_depth": (0.4, 0.85),
    "crash_days": (120, 500),
}

#: Stream of the scenario draws in ``SeedSequence(seed, spawn_key=(path, stream))`` (the generator's own streams are 0-5).
SCENARIO_STREAM = 100


def parse_scenario(items: Mapping[str, str]) -> tuple[dict[str, tuple[Any, Any]], dict[str, Any]]:
    """``--scenario`` items -> (ranges, fixed values).

    ``key=low:high`` sets the range of a drawn parameter; ``key=value`` fixes
    any :class:`~shortthehype.data.synthetic.Scenario` parameter (a drawn one
    then stops being drawn).  Numbers are typed like the Scenario's defaults.
    """
    from shortthehype.data.synthetic import Scenario

    settable = [f.name for f in fields(Scenario) if f.init and f.name not in ("assets", "correlation")]
    ranges = dict(DEFAULT_RANGES)
    fixed: dict[str, Any] = {}
    defaults = Scenario()
    for key, text in items.items():
        if key not in settable:
            raise ParamError(
                f"--scenario {key}: unknown scenario parameter{did_you_mean(key, settable)} (drawn: {', '.join(DEFAULT_RANGES)}; "
                f"settable: {', '.join(settable)})"
            )
        typed = _typer(getattr(defaults, key), key)
        low, sep, high = str(text).partition(":")
        if sep and key not in DEFAULT_RANGES:
            raise ParamError(f"--scenario {key}={text}: only {', '.join(DEFAULT_RANGES)} are drawn from a range; give one value")
        try:
            if sep:
                lo, hi = typed(low), typed(high)
                if lo > hi:
                    raise ValueError("low > high")
                ranges[key] = (lo, hi)
            else:
                fixed[key] = typed(text)
                ranges.pop(key, None)
        except ValueError as exc:
            raise ParamError(f"--scenario {key}={text}: not a valid value or low:high range ({exc})") from None
    return ranges, fixed


def _typer(default: Any, key: str) -> Any:
    if isinstance(default, pd.Timestamp):
        return lambda s: pd.Timestamp(str(s).strip()).normalize()
    if isinstance(default, bool):
        raise ParamError(f"--scenario {key}: not settable here")
    if isinstance(default, int):
        return lambda s: int(str(s).strip())
    if isinstance(default, float):
        return lambda s: float(str(s).strip())
    return lambda s: str(s).strip()


def path_scenario(ranges: Mapping[str, tuple[Any, Any]], fixed: Mapping[str, Any], seed: int, path: int) -> Any:
    """The Scenario of path ``path``: :data:`BASE_SCENARIO`, the fixed values, and one uniform draw per range (in sorted key order)."""
    from shortthehype.data.synthetic import Scenario

    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(path, SCENARIO_STREAM)))
    values: dict[str, Any] = {**BASE_SCENARIO, **fixed}
    for key in sorted(ranges):
        lo, hi = ranges[key]
        u = rng.random()
        if isinstance(lo, str) or isinstance(lo, pd.Timestamp):
            lo, hi = pd.Timestamp(lo), pd.Timestamp(hi)
            values[key] = lo + pd.Timedelta(days=math.floor(u * ((hi - lo).days + 1)))
        elif isinstance(lo, int) and not isinstance(lo, bool):
            values[key] = lo + min(math.floor(u * (hi - lo + 1)), hi - lo)
        else:
            values[key] = float(lo) + u * (float(hi) - float(lo))
    return Scenario(**values)


def _mapped_spec(spec: Any, table: Mapping[str, Any] | None, scenario: Any, overrides: Mapping[str, Any]) -> Any:
    """The spec with its tickers mapped onto the synthetic market by ``table`` (as the demo does), then ``overrides``."""
    from shortthehype.demo import synthetic_settings

    settings = None if table is None else synthetic_settings(table, spec.kind, scenario)
    if settings is None:
        if all(t in scenario.tickers for t in spec.tickers()):
            settings = {}
        else:
            raise ParamError(
                f"{spec.where}: no mapping of its tickers ({', '.join(spec.tickers())}) onto the synthetic market; "
                f"name synthetic tickers with --set ({', '.join(scenario.tickers)})"
            )
    start = scenario.key_dates["bubble_start"]
    return spec.with_overrides({**settings, "start": start, **overrides})


def montecarlo(
    spec_or_name: Any,
    *,
    paths: int = MONTECARLO_DEFAULT_PATHS,
    seed: int = MONTECARLO_DEFAULT_SEED,
    scenario: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    workers: int | None = None,
    path: str = "auto",
) -> StudyResult:
    """Run a spec over ``paths`` synthetic bubble markets; one row per path.

    Parameters
    ----------
    spec_or_name
        A spec path, name, mapping or :class:`StrategySpec`; the essay specs
        (by name or kind) are mapped onto the synthetic tickers, any other
        must trade synthetic tickers already.
    paths : int
        Number of paths, >= 1.
    seed : int
        Seed (>= 0); the same seed gives the same rows bit for bit.
    scenario
        ``key -> "low:high"`` ranges or ``key -> "value"`` fixed values (see :func:`parse_scenario`).
    overrides
        ``--set`` settings applied after the mapping.
    workers : int, optional
        Processes to run the paths in (default: every CPU when the paths
        would take more than ``MONTECARLO_PROCESS_MIN_SECONDS`` in one
        process; 1 = this process).  The rows do not depend on it.
    path : {"auto", "fused", "generic"}
        ``fused``: the paths' backtests run in parallel kernel calls
        (:func:`shortthehype.study_windows.run_windows`), a batch of
        generated markets at a time (not for targets that are not all
        numbers, or ``scale_gross = false``); ``generic``: one ``backtest()`` per path;
        ``auto`` (default): fused where it can run.  The rows are the same
        bit for bit.

    Returns
    -------
    StudyResult
        Rows ``path, peak, run_up, crash_depth, crash_days, trough, entry,
        exit, bars, final_equity`` and every statistic; caveats: synthetic
        data (and oracle timing for ``dotcom-analog``).
    """
    import numba

    from shortthehype.demo import synthetic_table
    from shortthehype.runner import resolve_spec
    from shortthehype.studies import STUDY_PATHS

    if path not in STUDY_PATHS:
        raise ParamError(f"--path {path!r}: expected one of {', '.join(STUDY_PATHS)}")
    if isinstance(paths, bool) or not isinstance(paths, (int, np.integer)) or paths < 1:
        raise ParamError(f"--paths must be an integer >= 1, got {paths!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ParamError(f"--seed must be an integer >= 0, got {seed!r}")
    _worker_count(workers, 0.0)  # a bad --workers fails before any path runs
    ranges, fixed = parse_scenario(scenario or {})
    spec = resolve_spec(spec_or_name)
    overrides = dict(overrides or {})
    job = _Job(spec, ranges, fixed, int(seed), overrides, synthetic_table(spec), path, numba.get_num_threads())
    rows, caveats, rate_notes = job.run(range(0, 1))  # the first path alone: it checks the mapping and loads the kernels
    started = time.perf_counter()
    more, _, _ = job.run(range(1, min(2, int(paths))))  # the second times a path (the first's time is mostly loading)
    rows += more
    rest = range(len(rows), int(paths))
    n_workers = _worker_count(workers, (time.perf_counter() - started) * len(rest))
    if n_workers <= 1 or len(rest) == 0 or not _picklable(job):
        more, _, _ = job.run(rest)
        rows += more
    else:
        rows += _run_in_processes(replace(job, kernel_threads=1), rest, n_workers)
    settings: dict[str, Any] = {"paths": int(paths), "seed": int(seed)}
    settings.update({f"range.{k}": f"{_text(lo)}:{_text(hi)}" for k, (lo, hi) in sorted(ranges.items())})
    settings.update({f"fixed.{k}": _text(v) for k, v in fixed.items()})
    settings.update({f"set.{k}": v for k, v in overrides.items()})
    first = path_scenario(ranges, fixed, int(seed), 0)
    notes = (f"Each path: a synthetic market from its bubble start ({first.key_dates['bubble_start']:%Y-%m-%d}) to "
             f"{first.dates[-1]:%Y-%m-%d}, the essay's tickers mapped onto the fictional ones as in the demo.",)
    frame = pd.DataFrame(rows)
    notes += wiped_out_note(frame, "path", "paths") + rate_notes
    return StudyResult("montecarlo", spec.name, spec.kind.name, frame, settings, caveats=caveats, notes=notes)


@dataclass(frozen=True)
class _Job:
    """What every path needs (picklable: worker processes receive it once per chunk)."""

    spec: Any
    ranges: Mapping[str, tuple[Any, Any]]
    fixed: Mapping[str, Any]
    seed: int
    overrides: Mapping[str, Any]
    #: the spec's mapping onto the synthetic market (:func:`shortthehype.demo.synthetic_table`), found once
    synthetic: Mapping[str, Any] | None
    #: ``auto``, ``fused`` or ``generic`` (:func:`montecarlo`'s ``path``)
    path: str = "auto"
    #: numba threads of the fused kernel (1 in a worker process: the processes are the parallelism)
    kernel_threads: int = 1

    def run(self, path_range: range) -> tuple[list[dict[str, Any]], tuple[str, ...], tuple[str, ...]]:
        """The rows of paths ``path_range``, the caveats of their runs and what their ratios assume
        (:func:`shortthehype.runner.ratios_rate_note`)."""
        import numba

        threads = numba.get_num_threads()
        numba.set_num_threads(1)  # one path per generator call: more threads would only spin (the numbers do not change)
        try:
            return self._run(path_range)
        finally:
            numba.set_num_threads(threads)

    def _run(self, path_range: range) -> tuple[list[dict[str, Any]], tuple[str, ...], tuple[str, ...]]:
        from shortthehype.caveats import data_caveats
        from shortthehype.demo import oracle_caveats
        from shortthehype.runner import prepare, ratios_rate_note

        rows: dict[int, dict[str, Any]] = {}
        caveats: tuple[str, ...] = ()
        notes: tuple[str, ...] | None = None
        batch = _Batch()
        for path in path_range:
            market, spec, prices = self._market(path)
            if notes is None:  # the same spec and kind of prices on every path
                notes = ratios_rate_note(spec, prices, runs="a path")
            if self.path == "generic":
                rows[path], caveats = self._generic_row(path, market, spec, prices)
                continue
            prepared = prepare(spec, prices)
            history = self._fused_history(prepared)
            if history is None:
                rows[path], caveats = self._generic_row(path, market, spec, prices)
                continue
            caveats = data_caveats(prices.source) + oracle_caveats(spec)
            if batch.paths and not batch.histories[0].same_terms(history):
                rows.update(self._run_batch(batch))
                batch = _Batch()
            batch.add(path, market, prepared, history)
            if len(batch.paths) >= MONTECARLO_BATCH_PATHS or batch.nbytes >= STUDY_TARGETS_CHUNK_BYTES:
                rows.update(self._run_batch(batch))
                batch = _Batch()
        if batch.paths:
            rows.update(self._run_batch(batch))
        return [rows[path] for path in path_range], caveats, notes or ()

    def _market(self, path: int) -> tuple[Any, Any, Any]:
        """Path ``path``'s scenario, the spec mapped onto it, and its generated prices."""
        from shortthehype.data.synthetic import generate_prices

        market = path_scenario(self.ranges, self.fixed, self.seed, path)
        spec = _mapped_spec(self.spec, self.synthetic, market, self.overrides)
        return market, spec, generate_prices(market, seed=self.seed, path=path)

    def _generic_row(self, path: int, market: Any, spec: Any, prices: Any) -> tuple[dict[str, Any], tuple[str, ...]]:
        """Path ``path``'s row from one ``backtest()``, and the run's caveats."""
        from shortthehype.demo import label_oracle
        from shortthehype.runner import backtest
        from shortthehype.studies import study_row

        run = label_oracle(backtest(spec, prices=prices))
        return {**_scenario_columns(path, market), **study_row(run)}, run.caveats

    def _fused_history(self, prepared: Any) -> Any:
        """The engine inputs of a prepared path for the fused kernel; None where it takes the generic path."""
        from shortthehype.study_windows import fused_refusal, history_inputs

        reason = fused_refusal(prepared)
        if reason is None:
            return history_inputs(prepared)
        if self.path == "fused":
            raise ParamError(f"--path fused: {reason}; use --path generic or auto")
        return None

    def _run_batch(self, batch: _Batch) -> dict[int, dict[str, Any]]:
        """The rows of a batch of prepared paths: one parallel kernel call (a path the pandas layer refuses runs there)."""
        import numba

        from shortthehype.study_windows import KernelOutput, run_windows

        n = len(batch.paths)
        out = KernelOutput.empty(n)
        numba.set_num_threads(self.kernel_threads)
        try:
            run_windows(batch.histories, np.arange(n), np.stack(batch.targets), np.arange(n),
                        np.asarray(batch.los, dtype=np.int64), np.asarray(batch.his, dtype=np.int64), out)
        finally:
            numba.set_num_threads(1)
        first = batch.histories[0]  # every history of a batch has the same calendar (History.same_terms)
        table = pd.DataFrame(out.table(first.inputs.index, np.asarray(batch.los), np.asarray(batch.his),
                                       first.has_bench)).to_dict(orient="records")
        done = out.done
        rows = {}
        for k, (path, market) in enumerate(zip(batch.paths, batch.markets, strict=True)):
            if done[k]:
                rows[path] = {**_scenario_columns(path, market), **table[k]}
            else:  # its inputs make the pandas layer raise: there, with the same message
                again, spec, prices = self._market(path)
                rows[path], _ = self._generic_row(path, again, spec, prices)
        return rows


class _Batch:
    """Prepared paths waiting for one kernel call: their scenarios, engine inputs, targets and windows."""

    def __init__(self) -> None:
        self.paths: list[int] = []
        self.markets: list[Any] = []
        self.histories: list[Any] = []
        self.targets: list[np.ndarray] = []
        self.los: list[int] = []
        self.his: list[int] = []
        self.nbytes = 0

    def add(self, path: int, market: Any, prepared: Any, history: Any) -> None:
        from shortthehype.study_windows import history_targets

        spec = prepared.spec
        lo, hi = prepared.window_bars(spec.run.get("start"), spec.run.get("end"))
        self.paths.append(path)
        self.markets.append(market)
        self.histories.append(history)
        self.targets.append(history_targets(prepared))
        self.los.append(lo)
        self.his.append(hi)
        self.nbytes += history.nbytes


def _scenario_columns(path: int, market: Any) -> dict[str, Any]:
    """A path's first columns: its number and its bubble's drawn shape."""
    key = market.key_dates
    return {"path": path, "peak": key["peak"], "run_up": market.run_up, "crash_depth": market.crash_depth,
            "crash_days": market.crash_days, "trough": key["trough"]}


def _run_in_processes(job: _Job, paths: range, n_workers: int) -> list[dict[str, Any]]:
    """The rows of ``paths`` computed by ``n_workers`` spawned processes (spawn: numba's threads make fork unsafe), in path order."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    size = max(1, math.ceil(len(paths) / (n_workers * 4)))
    chunks = [range(i, min(i + size, paths.stop)) for i in range(paths.start, paths.stop, size)]
    rows: list[dict[str, Any]] = []
    try:
        with ProcessPoolExecutor(max_workers=n_workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            for more, _, _ in pool.map(job.run, chunks):
                rows += more
    except BrokenProcessPool:
        raise ParamError(
            "the Monte Carlo worker processes stopped: a script that calls montecarlo() must do so under "
            '`if __name__ == "__main__":` (worker processes re-import it), or pass workers=1'
        ) from None
    return rows


def _picklable(job: _Job) -> bool:
    """Whether the job can travel to worker processes (a user strategy file's functions may not)."""
    import pickle

    try:
        pickle.dumps(job)
    except Exception:  # noqa: BLE001 - any pickling failure means: run here
        return False
    return True


def _worker_count(workers: int | None, serial_seconds: float) -> int:
    if workers is not None:
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise ParamError(f"--workers must be an integer >= 1, got {workers!r}")
        return workers
    if serial_seconds < MONTECARLO_PROCESS_MIN_SECONDS:
        return 1
    return max(1, os.cpu_count() or 1)


def _text(value: Any) -> str:
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    return f"{value:g}" if isinstance(value, float) else str(value)
