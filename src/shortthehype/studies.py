"""Distributions instead of anecdotes: a strategy run many times, one row per run.

:func:`rolling` (an *entry-date study*) runs a spec from every entry date on
a calendar (``every``), each held for ``hold``; :mod:`shortthehype.montecarlo`
runs it over many synthetic markets.  Both return a :class:`StudyResult`:
one row per run (window and every statistic of :meth:`Result.stats`), the
distribution of the headline statistics (:func:`summarise`), a JSON document
that ``shortthehype report`` renders, and a Parquet file.

Every row is an ordinary backtest: an entry-date row equals ``backtest`` with
the same ``start``/``end`` (and the kind's entry dates moved with them, see
:attr:`StrategyKind.entry_dates`).  Targets do not depend on the window, so a
spec whose kind has no entry date set is prepared once and only simulated per
entry; otherwise each entry prepares its own targets.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from shortthehype.caveats import caveat_fields
from shortthehype.constants import DISTRIBUTION_QUANTILES, STUDY_DEFAULT_EVERY, STUDY_DEFAULT_HOLD, WALKFORWARD_UNITS
from shortthehype.data.prices import Prices
from shortthehype.data.source import PriceSource
from shortthehype.errors import DataError, ParamError
from shortthehype.params import format_value, json_value
from shortthehype.spec import StrategySpec

__all__ = [
    "DISTRIBUTION_METRICS",
    "EntryWindows",
    "STUDY_PATHS",
    "StudyResult",
    "entry_windows",
    "rolling",
    "shifted_settings",
    "study_row",
    "summarise",
    "wiped_out_note",
]

#: The statistics whose distribution a study reports (keys of ``Result.stats``).
DISTRIBUTION_METRICS = ("total_return", "cagr", "max_drawdown", "sharpe")

#: Rows of the distribution table, in order.
SUMMARY_ROWS = ("count", "mean", "median", "q25", "q75", "p5", "p95", "share_positive", "worst")


def summarise(rows: pd.DataFrame, metrics: Sequence[str] = DISTRIBUTION_METRICS) -> pd.DataFrame:
    """The distribution of each metric over the rows: one column per metric, :data:`SUMMARY_ROWS` as the index.

    Quantiles are numpy's linear interpolation over the finite values
    (``p5``/``p95`` the 5 % and 95 % points); ``count`` counts finite values;
    ``share_positive`` is the fraction of finite values above zero; ``worst``
    is the smallest (for every metric here, lower is worse).  A metric
    without a finite value gives NaN.
    """
    out = {}
    for metric in metrics:
        values = rows[metric].to_numpy(dtype=np.float64) if metric in rows else np.array([])
        values = values[np.isfinite(values)]
        if values.size == 0:
            out[metric] = [0.0] + [math.nan] * (len(SUMMARY_ROWS) - 1)
            continue
        q = np.quantile(values, DISTRIBUTION_QUANTILES)
        out[metric] = [float(values.size), float(values.mean()), *map(float, q), float((values > 0).mean()), float(values.min())]
    return pd.DataFrame(out, index=pd.Index(SUMMARY_ROWS, name="statistic"))


def wiped_out_note(rows: pd.DataFrame, run: str, runs: str) -> tuple[str, ...]:
    """How many runs were wiped out, whose ratios are undefined and so left out of the Sharpe ratio's distribution.

    A run whose equity reached zero or below on some bar has no Sharpe ratio
    (NaN) and a maximum drawdown of exactly -100 % (its return on that bar
    counts as everything lost); a run merely without dispersion has no
    Sharpe ratio either, but a drawdown above -100 %.  Total return, CAGR and
    the drawdown count every run.  ``run``/``runs``: what a row is, singular
    and plural ("entry", "entries").
    """
    if rows.empty or not {"sharpe", "max_drawdown"} <= set(rows.columns):
        return ()
    wiped = int(((rows["max_drawdown"].to_numpy(dtype=np.float64) <= -1.0) & rows["sharpe"].isna().to_numpy()).sum())
    if wiped == 0:
        return ()
    return (
        f"{wiped} of {len(rows)} {runs} were wiped out (equity at or below zero on some bar): the Sharpe ratio is "
        f"undefined for them, so its column summarises the other {len(rows) - wiped}; total return, CAGR and max "
        f"drawdown count every {run}",
    )


@dataclass(frozen=True)
class StudyResult:
    """The runs of a study (``rolling`` or ``montecarlo``), one row each, and what produced them."""

    study: str
    strategy: str
    kind: str
    rows: pd.DataFrame
    settings: dict[str, Any]
    caveats: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())

    def summary(self) -> pd.DataFrame:
        """:func:`summarise` of the rows."""
        return summarise(self.rows)

    def to_document(self) -> dict[str, Any]:
        """The JSON document of the study (``type`` = ``"distribution"``), read by ``shortthehype report``."""
        from shortthehype import __version__
        from shortthehype.documents import json_safe

        summary = self.summary()
        columns = {}
        for column in self.rows.columns:
            values = self.rows[column]
            if pd.api.types.is_datetime64_any_dtype(values):
                columns[column] = [d.strftime("%Y-%m-%d") for d in values]
            else:
                columns[column] = [json_value(v.item() if hasattr(v, "item") else v) for v in values]
        return json_safe(
            {
                **caveat_fields(self.caveats),
                "type": "distribution",
                "study": self.study,
                "strategy": self.strategy,
                "kind": self.kind,
                "settings": {k: json_value(v) for k, v in self.settings.items()},
                "notes": list(self.notes),
                "summary": {metric: {row: summary.at[row, metric] for row in SUMMARY_ROWS} for metric in summary.columns},
                "rows": columns,
                "version": __version__,
            }
        )

    def to_parquet(self, path: str | os.PathLike[str]) -> None:
        """Write the rows to Parquet (atomically), with the study's settings and caveats in the file's metadata."""
        import json

        import pyarrow as pa
        import pyarrow.parquet as pq

        from shortthehype.report import write_atomically

        table = pa.Table.from_pandas(self.rows, preserve_index=False)
        meta = {"study": self.study, "strategy": self.strategy, "kind": self.kind,
                "settings": {k: json_value(v) for k, v in self.settings.items()}, **caveat_fields(self.caveats)}
        table = table.replace_schema_metadata({**(table.schema.metadata or {}), b"shortthehype": json.dumps(meta).encode()})
        write_atomically(path, lambda handle: pq.write_table(table, handle), option="--out")


# --------------------------------------------------------------------------- entry-date studies


def _offset(length: tuple[int, str]) -> pd.DateOffset:
    count, unit = length
    return pd.DateOffset(**{WALKFORWARD_UNITS[unit]: count})


class EntryWindows(Sequence[tuple[pd.Timestamp, pd.Timestamp]]):
    """A study's (entry, exit) dates: a sequence of pairs, kept as two date indexes (``entries``, ``exits``).

    A study of daily entries has thousands: the kernel's path reads the
    indexes whole, and a pair is made only when one is asked for.
    """

    def __init__(self, entries: pd.DatetimeIndex, exits: pd.DatetimeIndex) -> None:
        self.entries, self.exits = entries, exits

    def __len__(self) -> int:
        return len(self.entries)

    def __getitem__(self, w: Any) -> Any:
        if isinstance(w, slice):
            return EntryWindows(self.entries[w], self.exits[w])
        return self.entries[w], self.exits[w]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and list(self) == list(other)

    def __repr__(self) -> str:
        return f"EntryWindows({len(self)} windows)"


def entry_windows(
    index: pd.DatetimeIndex,
    first: pd.Timestamp,
    last: pd.Timestamp | None,
    every: str,
    hold: str,
) -> EntryWindows:
    """(entry, exit) bars of an entry-date study on the trading days ``index``.

    Entries are the first trading day on or after ``first``, ``first +
    every``, ``first + 2 every`` ... up to ``last`` (default: the latest entry
    whose hold fits in the data); ``every``/``hold`` are lengths like ``1m``,
    ``2w``, ``1y`` (calendar) or ``63d`` (trading days).  Each exit is the last
    bar of the hold: ``n`` bars after the entry (``d``), else the last bar on
    or before entry + hold.

    Raises
    ------
    ParamError
        A bad length, ``first`` after ``last``, a hold longer than the data
        from the first entry, or an explicit ``last`` whose hold runs past the
        data's end.
    """
    from shortthehype.walk_forward import parse_length

    step, length = parse_length(every, "--every"), parse_length(hold, "--hold")
    if last is not None and first > last:
        raise ParamError(f"--from {format_value(first)} is after --to {format_value(last)}")
    n = len(index)
    first_position = int(index.searchsorted(first, side="left"))
    if step[1] == "d":
        positions = np.arange(first_position, n, step[0], dtype=np.int64)
    else:  # first + k x every, each snapped forward to a trading day, while one exists
        found = [first_position]
        while found[-1] < n:
            found.append(int(index.searchsorted(first + _offset((step[0] * len(found), step[1])), side="left")))
        positions = np.asarray(found[:-1], dtype=np.int64)
    starts = index[positions]
    if last is not None:
        after = np.flatnonzero(starts > last)
        if len(after):
            positions, starts = positions[: after[0]], starts[: after[0]]
    if len(positions) == 0:
        raise ParamError(f"no trading day between --from {format_value(first)} and --to {format_value(last)}")
    if length[1] == "d":
        stops = positions + length[0]
        past = stops >= n
    else:
        ends = starts + _offset(length)
        stops = np.asarray(index.searchsorted(ends, side="right"), dtype=np.int64) - 1
        past = np.asarray(ends > index[-1])
    fits = len(positions) if not past.any() else int(np.argmax(past))
    short = np.flatnonzero(stops[:fits] <= positions[:fits])
    if len(short):
        raise ParamError(f"--hold {hold}: shorter than one bar from {format_value(starts[short[0]])}")
    if fits == 0:
        raise ParamError(
            f"--hold {hold}: held from the first entry {format_value(starts[0])} it ends after the "
            f"data's last day {format_value(index[-1])}; shorten --hold or start earlier with --from"
        )
    if fits < len(positions) and last is not None:
        raise ParamError(
            f"--to {format_value(last)}: an entry on {format_value(starts[fits])} held {hold} ends after the "
            f"data's last day {format_value(index[-1])}; the latest entry that fits is {format_value(starts[fits - 1])}"
        )
    return EntryWindows(starts[:fits], index[stops[:fits]])


def shifted_settings(spec: StrategySpec, entry: pd.Timestamp, exit: pd.Timestamp) -> dict[str, Any]:
    """The overrides of one entry: ``start``/``end``, and the kind's entry dates moved by the same offset as ``start``.

    The offset is measured from the spec's ``start`` (or, without one, from the
    earliest entry date the spec sets); entry dates left unset stay unset.
    """
    settings: dict[str, Any] = {"start": entry, "end": exit}
    dates = {name: spec.params[name] for name in spec.kind.entry_dates if spec.params.get(name) is not None}
    if dates:
        anchor = spec.run.get("start") or min(dates.values())
        settings.update({name: value + (entry - anchor) for name, value in dates.items()})
    return settings


def _first_common_date(prices: Prices, tickers: Sequence[str]) -> pd.Timestamp:
    """The first date on which every one of ``tickers`` has a close."""
    firsts = [prices.close[t].first_valid_index() for t in tickers]
    missing = [t for t, d in zip(tickers, firsts, strict=True) if d is None]
    if missing:
        raise DataError(f"no prices for {', '.join(missing)}")
    return max(firsts)


def study_row(run: Any) -> dict[str, Any]:
    """A study's row of one run: its window, bars, final equity and every statistic."""
    return {"entry": run.start, "exit": run.end, "bars": len(run.result.equity),
            "final_equity": float(run.result.equity.iloc[-1]), **run.stats}


#: How an entry-date study runs its entries: ``fused`` (every window in one kernel call, in parallel), ``generic``
#: (one backtest per entry) or ``auto`` (fused where it can run).
STUDY_PATHS = ("auto", "fused", "generic")


def rolling(
    spec_or_name: Any,
    *,
    every: str = STUDY_DEFAULT_EVERY,
    hold: str = STUDY_DEFAULT_HOLD,
    first: Any = None,
    last: Any = None,
    overrides: Mapping[str, Any] | None = None,
    prices: Prices | None = None,
    prices_from: PriceSource | None = None,
    source: str | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    offline: bool = False,
    path: str = "auto",
) -> StudyResult:
    """An entry-date study: the spec run from every entry date, each held ``hold``; one row per entry.

    Parameters
    ----------
    spec_or_name
        A spec path, name, mapping or :class:`StrategySpec`.
    every, hold : str
        Entry spacing and holding length: ``1m``, ``2w``, ``1y`` (calendar) or ``63d`` (trading days).
    first, last : date-like, optional
        First and last entry date.  Default first: the first day on which
        every ticker the spec needs (its benchmark included) has a price;
        default last: the latest entry whose hold fits in the data.
    overrides
        ``--set`` settings applied to the spec first (``start``/``end`` are
        set per entry and cannot be given).
    prices, prices_from, source, data_dir, cache_dir, offline
        As for :func:`shortthehype.backtest`.
    path : {"auto", "fused", "generic"}
        ``fused``: the entries in parallel kernel calls
        (:mod:`shortthehype.study_windows`; not for targets that are not
        all numbers, or ``scale_gross = false``); ``generic``: one backtest per entry;
        ``auto`` (default): fused where it can run.  The rows are the same
        bit for bit.

    Returns
    -------
    StudyResult
        Rows ``entry, exit, bars, final_equity`` and every statistic of the
        run (``total_return``, ``cagr``, ``sharpe``, ``max_drawdown``, ...).
    """
    from shortthehype.caveats import data_caveats
    from shortthehype.runner import coerce_run_date, load_quietly, prepare, ratios_rate_note, resolve_spec, run_window, spec_needs
    from shortthehype.study_windows import WindowPlan, plan_windows

    if path not in STUDY_PATHS:
        raise ParamError(f"--path {path!r}: expected one of {', '.join(STUDY_PATHS)}")
    overrides = dict(overrides or {})
    for key in ("start", "end"):
        if key in overrides:
            raise ParamError(f"--set {key}: an entry-date study sets the window of each entry; use --from/--to")
    spec = resolve_spec(spec_or_name, overrides)
    if prices is None:
        origin = PriceSource.coerce(prices_from, source=source, data_dir=data_dir, cache_dir=cache_dir, offline=offline)
        prices = load_quietly(spec_needs(spec), None, origin)
    first_day = _first_common_date(prices, spec_needs(spec)) if first is None else coerce_run_date("start", first, "--from")
    last_day = coerce_run_date("end", last, "--to")
    windows = entry_windows(prices.index, first_day, last_day, every, hold)
    moves = any(spec.params.get(name) is not None for name in spec.kind.entry_dates)

    def moved(w: int) -> StrategySpec:
        return spec.with_overrides(shifted_settings(spec, *windows[w]))

    prepared = None if moves else prepare(spec, prices)
    plan = None
    if path != "generic":
        plan = plan_windows(spec, prices, windows, prepared=prepared, moved=moved if moves else None)
    if path == "fused" and isinstance(plan, str):
        raise ParamError(f"--path fused: {plan}; use --path generic or auto")
    if isinstance(plan, WindowPlan):
        frame, caveats = plan.rows(), data_caveats(prices.source)
    else:
        rows, caveats = [], ()
        for w, (entry, exit) in enumerate(windows):
            run = run_window(prepared, entry, exit) if prepared is not None else run_window(prepare(moved(w), prices), entry, exit)
            rows.append(study_row(run))
            caveats = run.caveats
        frame = pd.DataFrame(rows)
    settings = {"every": every, "hold": hold, "from": windows[0][0], "to": windows[-1][0], "entries": len(windows),
                "moved": ["start", "end"] + [k for k in spec.kind.entry_dates if spec.params.get(k) is not None],
                **{f"set.{k}": v for k, v in overrides.items()}}
    notes = wiped_out_note(frame, "entry", "entries") + ratios_rate_note(spec, prices, runs="an entry")
    return StudyResult("rolling", spec.name, spec.kind.name, frame, settings, caveats=caveats, notes=notes)
