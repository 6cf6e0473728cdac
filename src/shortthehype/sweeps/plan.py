"""The sweep plan (what a chunk of combinations needs; shipped once to each worker), path choice and budgets."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from shortthehype.constants import (
    SWEEP_FUSED_CHUNK_WORK,
    SWEEP_GENERIC_CHUNK,
    SWEEP_MAX_MEMORY_FRACTION,
    SWEEP_MAX_SECONDS,
    SWEEP_PROCESS_MIN_SECONDS,
)
from shortthehype.data.prices import Prices
from shortthehype.data.source import PriceSource
from shortthehype.errors import ParamError, did_you_mean
from shortthehype.spec import StrategySpec, load_spec
from shortthehype.sweeps.grid import Axis, Effective, decode
from shortthehype.sweeps.result import SWEEP_METRICS

__all__ = [
    "SWEEP_PATHS", "Plan", "check_budget", "choose_path", "default_chunk", "fused_unsupported",
    "load_prices", "worker_count",
]

#: Values of ``sweep(path=...)`` / ``--path``.
SWEEP_PATHS = ("auto", "fused", "generic")


@dataclass
class Plan:
    spec: StrategySpec
    prices: Prices
    axes: tuple[Axis, ...]
    mode: str  # "fused" or "generic"
    n_blocks: int
    effective: Effective | None = None
    cache: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(axis.values) for axis in self.axes)

    def combination(self, combo_id: int) -> dict[str, Any]:
        """Axis name -> value of one combination."""
        return dict(zip((axis.name for axis in self.axes), self.combinations(np.asarray([combo_id]))[0]))

    def combinations(self, ids: np.ndarray) -> list[tuple[Any, ...]]:
        """The values of each of ``ids`` in the order of ``axes``, decoded together (cheaper than one by one)."""
        positions = decode(ids, self.shape)
        columns = [[axis.values[p] for p in column.tolist()] for axis, column in zip(self.axes, positions)]
        return list(zip(*columns)) if columns else [() for _ in range(len(ids))]

    def __getstate__(self) -> dict[str, Any]:
        from shortthehype.strategies.base import strategy_kind

        spec = self.spec
        # a kind is shipped by name; one specialised to a file (kind "python") is rebuilt from the spec file
        from_file = strategy_kind(spec.kind.name) is not spec.kind
        if from_file and spec.path is None:
            raise TypeError(f"the {spec.kind.name!r} kind of {spec.where} cannot be rebuilt in another process")
        return {
            "from_file": from_file,
            "spec": {
                "kind": spec.kind.name,
                "name": spec.name,
                "description": spec.description,
                "params": spec.params,
                "engine": spec.engine,
                "run": spec.run,
                "sweep": spec.sweep,
                "synthetic": spec.synthetic,
                "path": spec.path,
                "overridden": spec.overridden,
                "notes": spec.notes,
            },
            "prices": self.prices,
            "axes": self.axes,
            "mode": self.mode,
            "n_blocks": self.n_blocks,
            "effective": self.effective,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        from shortthehype.strategies.base import strategy_kind

        fields = dict(state["spec"])
        fields["kind"] = load_spec(fields["path"]).kind if state["from_file"] else strategy_kind(fields["kind"])
        self.spec = StrategySpec(**fields)
        self.prices = state["prices"]
        self.axes = state["axes"]
        self.mode = state["mode"]
        self.n_blocks = state["n_blocks"]
        self.effective = state["effective"]
        self.cache = {}


def fused_unsupported(spec: StrategySpec, axes: Sequence[Axis]) -> str | None:
    """Why the fused path cannot run this grid (None: the kind's kernel takes it)."""
    if spec.kind.fused is None:
        return f"kind {spec.kind.name!r} has no fused kernel"
    return spec.kind.fused.unsupported(spec, axes)


def choose_path(spec: StrategySpec, axes: Sequence[Axis], path: str) -> str:
    """``"fused"`` or ``"generic"``, as ``path`` (auto, fused, generic) asks."""
    if path not in SWEEP_PATHS:
        raise ParamError(f"unknown path {path!r}{did_you_mean(str(path), SWEEP_PATHS)} (expected one of {', '.join(SWEEP_PATHS)})")
    if path == "generic":
        return "generic"
    reason = fused_unsupported(spec, axes)
    if reason is None:
        return "fused"
    if path == "fused":
        raise ParamError(f"{spec.where}: --path fused cannot run this sweep: {reason}")
    return "generic"


def worker_count(workers: int | None, executor: str, mode: str, serial_seconds: float) -> int:
    """Local worker processes: as asked, else the CPU count when the work is worth starting them."""
    if workers is not None:
        if isinstance(workers, bool) or int(workers) < 1:
            raise ParamError(f"parameter 'workers' must be an integer >= 1, got {workers!r}")
        return int(workers)
    if executor == "dask" or mode == "fused" or serial_seconds < SWEEP_PROCESS_MIN_SECONDS:
        return 1
    return os.cpu_count() or 1



def default_chunk(plan: Plan, n: int, n_workers: int) -> int:
    if plan.mode == "fused":
        return max(1, SWEEP_FUSED_CHUNK_WORK // max(1, len(plan.prices)))
    return max(1, min(SWEEP_GENERIC_CHUNK, math.ceil(n / (4 * n_workers))))


def load_prices(
    spec: StrategySpec, axes: tuple[Axis, ...], shape: tuple[int, ...], valid: np.ndarray, prices_from: PriceSource,
) -> Prices:
    """Load every ticker any valid combination needs, once, up to the latest end of the grid."""
    ticker_axes = [k for k, axis in enumerate(axes) if axis.section == "params"]
    needed: list[str] = []
    seen: set[tuple[int, ...]] = set()
    positions = decode(valid, shape)
    for row in range(len(valid)):
        key = tuple(int(positions[k][row]) for k in ticker_axes)
        if key in seen:
            continue
        seen.add(key)
        combination = {axes[k].name: axes[k].values[p] for k, p in zip(ticker_axes, key)}
        for ticker in spec.with_overrides(combination).tickers():
            if ticker not in needed:
                needed.append(ticker)
    ends = [spec.run.get("end")]
    for axis in axes:
        if axis.name == "end":
            ends = list(axis.values)
    end = None if any(e is None for e in ends) else max(ends)
    return prices_from.load(needed, end=end)


def check_budget(plan: Plan, n: int, n_workers: int, seconds_per_run: float) -> None:
    """Refuse sweeps estimated beyond SWEEP_MAX_SECONDS or SWEEP_MAX_MEMORY_FRACTION of the memory."""
    columns = len(plan.axes) + len(SWEEP_METRICS) + 2
    memory = n * (8 * columns + 16 * plan.n_blocks + 64)
    total = _physical_memory()
    if total and memory > SWEEP_MAX_MEMORY_FRACTION * total:
        raise ParamError(
            f"the sweep's {n:,} result rows would need about {memory / 2**30:.1f} GiB "
            f"(> {SWEEP_MAX_MEMORY_FRACTION:.0%} of this machine's {total / 2**30:.1f} GiB): "
            f"narrow the grid, use --random N, or pass --force"
        )
    seconds = seconds_per_run * n / (1 if plan.mode == "fused" else max(1, n_workers))
    if seconds > SWEEP_MAX_SECONDS:
        raise ParamError(
            f"the sweep's {n:,} combinations would take about {_duration(seconds)} "
            f"(more than {_duration(SWEEP_MAX_SECONDS)}): narrow the grid, use --random N, or pass --force"
        )


def _physical_memory() -> int:
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return 0


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
