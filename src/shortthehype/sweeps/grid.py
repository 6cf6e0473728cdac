"""Grids: typed axes of swept settings, valid and distinct combinations (flat ids, last axis fastest)."""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from shortthehype.documents import json_safe
from shortthehype.errors import ParamError, SpecError, did_you_mean
from shortthehype.params import Param, inactive_params, json_value
from shortthehype.spec import StrategySpec, coerce_sweep_values, follow_window

__all__ = [
    "Axis", "Effective", "build_axes", "decode", "distinct", "effective_grid", "effective_positions", "parse_grid",
    "valid_ids",
]

_FLOAT_ITEM = Param("item", "float", None, "one entry of a mapping")


@dataclass(frozen=True)
class Axis:
    """One swept setting: its name as given (``weights.SPY`` for a mapping entry), section and values."""

    name: str
    section: str  # "params", "engine" or "run"
    values: tuple[Any, ...]

    @property
    def base(self) -> str:
        return self.name.partition(".")[0]


def parse_grid(items: Iterable[str]) -> dict[str, str]:
    """``["fast=2:100:1", "direction=long,longshort"]`` -> ``{"fast": "2:100:1", "direction": "long,longshort"}``.

    Raises
    ------
    ParamError
        An item is not ``key=values`` or a key is given twice.
    """
    grid: dict[str, str] = {}
    for item in items:
        key, sep, values = item.partition("=")
        key = key.strip()
        if not sep or not key or not values.strip():
            raise ParamError(f"--grid {item!r} is not key=values (e.g. fast=2:100:1 or direction=long,longshort)")
        if key in grid:
            raise ParamError(f"--grid {key!r} is given twice; put every value in one list (a,b,c)")
        grid[key] = values.strip()
    return grid


def build_axes(spec: StrategySpec, grid: Mapping[str, Any]) -> tuple[Axis, ...]:
    """Typed, de-duplicated values of every grid key (checked against the spec's settings)."""
    schema = spec.schema()
    axes = []
    for key, raw in grid.items():
        key = str(key)
        name, _, item = key.partition(".")
        if name not in schema:
            raise ParamError(
                f"{spec.where}: cannot sweep unknown parameter {name!r}{did_you_mean(name, schema)} "
                f"(settable: {', '.join(sorted(schema))})"
            )
        section, param = schema[name]
        if item:
            if param.type not in ("weights", "float_or_map"):
                raise ParamError(f"{spec.where}: parameter {name!r} is not a mapping, so {key!r} cannot be swept")
            param = replace(_FLOAT_ITEM, name=key)
            key = f"{name}.{item.upper()}"
        values = coerce_sweep_values(param, raw, f"{spec.where} (grid)")
        unique: dict[tuple[str, str], Any] = {}
        for value in values:  # linear: a dict keyed by content; the first of equal values is kept
            unique.setdefault(_identity(value), value)
        axes.append(Axis(key, section, tuple(unique.values())))
    names = [axis.name for axis in axes]
    for axis in axes:
        if names.count(axis.name) > 1:
            raise ParamError(f"{spec.where}: {axis.name!r} appears twice in the grid")
        if "." in axis.name and axis.base in names:
            raise ParamError(f"{spec.where}: the grid sweeps both {axis.base!r} and its entry {axis.name!r}; keep one")
    if not axes:
        raise ParamError(f"{spec.where}: the grid is empty: give --grid key=values or a [sweep] table in the spec")
    return tuple(axes)


def _identity(value: Any) -> tuple[str, str]:
    """A hashable key equal for equal values of the same type (mappings and lists by content)."""
    return type(value).__name__, json.dumps(json_safe(json_value(value)), sort_keys=True, default=str)


def _same(a: Any, b: Any) -> bool:
    """Two values of one axis are the same setting (same type and equal)."""
    try:
        return bool(a == b) and type(a) is type(b)
    except (TypeError, ValueError):
        return False


def decode(ids: np.ndarray, shape: tuple[int, ...]) -> list[np.ndarray]:
    """Per-axis value positions of flat combination numbers (last axis fastest)."""
    return list(np.unravel_index(np.asarray(ids, dtype=np.int64), shape)) if shape else []


@dataclass(frozen=True)
class Effective:
    """What each combination of the grid's conditional axes amounts to.

    ``axes`` are the positions (in the grid) of the swept strategy parameters
    that can stop applying or move with the window, of the parameters their
    conditions name, and of ``start`` when an entry date is swept.  Row ``r``
    of ``positions`` is sub-combination ``r`` of those axes (C order), each
    axis' position in ``values`` of the value the run uses: -1 where the
    parameter does not apply, a clamped entry date's own position otherwise
    (``values`` extends the axis' grid values with the dates clamping made).
    """

    axes: tuple[int, ...]
    values: tuple[tuple[Any, ...], ...]
    positions: np.ndarray  # (n_sub, len(axes)) int64


def effective_grid(spec: StrategySpec, axes: tuple[Axis, ...]) -> Effective | None:
    """The effective value of every conditional axis in each sub-combination (None: nothing is conditional)."""
    declared = {p.name: p for p in spec.kind.params}
    conditional = {
        a.base for a in axes if a.section == "params" and (declared[a.base].applies or declared[a.base].moves_window)
    }
    if not conditional:
        return None
    needed, todo = set(conditional), list(conditional)
    while todo:
        for condition, _ in declared[todo.pop()].applies:
            if condition not in needed:
                needed.add(condition)
                todo.append(condition)
    if any(declared[name].moves_window for name in conditional):
        needed.add("start")
    chosen = tuple(k for k, a in enumerate(axes) if a.base in needed)
    overridden = spec.overridden | {a.name for a in axes}
    values = [list(axes[k].values) for k in chosen]
    moving = [j for j, k in enumerate(chosen) if axes[k].section == "params" and declared[axes[k].base].moves_window]
    # what decides a row: the conditions (whether a parameter applies) and the dates of the window rule; the other
    # axes keep their own positions, so each distinct set of deciding positions is worked out once
    deciding = {"start"} | {condition for name in needed if name in declared for condition, _ in declared[name].applies}
    deciding |= {axes[chosen[j]].base for j in moving}
    key_at = [j for j, k in enumerate(chosen) if axes[k].base in deciding]
    decided: dict[tuple[int, ...], tuple[set[str], dict[int, int]]] = {}
    rows = []
    for positions in itertools.product(*(range(len(axes[k].values)) for k in chosen)):  # C order
        key = tuple(positions[j] for j in key_at)
        if key not in decided:
            decided[key] = _decide(spec, axes, chosen, positions, overridden, needed, moving, values)
        inactive, moved = decided[key]
        rows.append([-1 if axes[k].base in inactive else moved.get(j, p) for j, (k, p) in enumerate(zip(chosen, positions))])
    return Effective(chosen, tuple(tuple(v) for v in values), np.asarray(rows, dtype=np.int64).reshape(-1, len(chosen)))


def _decide(spec: StrategySpec, axes: tuple[Axis, ...], chosen: tuple[int, ...], positions: tuple[int, ...],
            overridden: set[str], needed: set[str], moving: list[int],
            values: list[list[Any]]) -> tuple[set[str], dict[int, int]]:
    """The parameters that do not apply in sub-combination ``positions`` of the ``chosen`` axes, and the position in
    ``values`` (extended with a date clamping made) of each ``moving`` axis' date after the window rule."""
    params, run = dict(spec.params), dict(spec.run)
    for k, p in zip(chosen, positions):
        axis = axes[k]
        name, _, item = axis.name.partition(".")
        if item:
            params[name] = {**params[name], item: axis.values[p]}
        else:
            (params if axis.section == "params" else run)[name] = axis.values[p]
    params, _, _ = follow_window(spec.kind.params, params, run, overridden)
    inactive = inactive_params(spec.kind.params, params, among=needed)
    moved = {}
    for j in (j for j in moving if axes[chosen[j]].base not in inactive):
        value = params[axes[chosen[j]].name]
        matches = [i for i, seen in enumerate(values[j]) if _same(value, seen)]
        if not matches:
            values[j].append(value)
        moved[j] = matches[0] if matches else len(values[j]) - 1
    return inactive, moved


def effective_positions(effective: Effective | None, ids: np.ndarray, shape: tuple[int, ...]) -> list[np.ndarray]:
    """Per-axis positions of the values the combinations ``ids`` run with (-1: the parameter does not apply)."""
    positions = decode(ids, shape)
    if effective is None or not len(ids):
        return positions
    sub = np.ravel_multi_index([positions[k] for k in effective.axes], [shape[k] for k in effective.axes])
    for j, k in enumerate(effective.axes):
        positions[k] = effective.positions[sub, j]
    return positions


def distinct(effective: Effective | None, ids: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """The first of ``ids`` (sorted) of each distinct effective combination."""
    if effective is None or not len(ids):
        return ids
    if len(ids) == math.prod(shape):  # the whole grid: the first of each class is read off the sub-grid
        return _distinct_whole_grid(effective, shape)
    return _distinct_of(effective, ids, shape)


def _distinct_whole_grid(effective: Effective, shape: tuple[int, ...]) -> np.ndarray:
    """:func:`distinct` of every combination of the grid, without decoding them.

    Two combinations are the same run when their other axes agree and their
    conditional axes have the same effective row; for fixed other axes C
    order is the sub-grid's order, so the first of each is the first
    sub-combination with that row, whatever the other axes hold.
    """
    _, first = np.unique(effective.positions, axis=0, return_index=True)
    keep = np.zeros(len(effective.positions), dtype=bool)
    keep[first] = True
    sub_shape = [shape[k] if k in effective.axes else 1 for k in range(len(shape))]
    return np.flatnonzero(np.broadcast_to(keep.reshape(sub_shape), shape).ravel()).astype(np.int64)


def _distinct_of(effective: Effective, ids: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """:func:`distinct` of any ``ids``: their effective positions decoded and compared."""
    positions = effective_positions(effective, ids, shape)
    # one integer per combination (positions from -1, mixed radix): a 1-D unique is ~10x faster than a row-wise one
    radices = [int(p.max()) + 2 for p in positions]
    if math.prod(radices) < 2**62:
        _, first = np.unique(np.ravel_multi_index([p + 1 for p in positions], radices), return_index=True)
    else:
        _, first = np.unique(np.stack(positions, axis=1), axis=0, return_index=True)
    return ids[np.sort(first)]


def valid_ids(spec: StrategySpec, axes: tuple[Axis, ...], shape: tuple[int, ...]) -> np.ndarray:
    """Flat numbers of the combinations the spec accepts (only strategy parameters and dates can conflict)."""
    checked = [k for k, axis in enumerate(axes) if axis.section in ("params", "run")]
    if not checked:
        return np.arange(math.prod(shape), dtype=np.int64)
    # strategy parameters only (already typed): the kind's cross-parameter check can fail, and a mapping whose
    # entries are swept must still be a valid mapping; the window and the dates play no part
    plain = all(axes[k].section == "params" for k in checked)
    mappings = {axes[k].base for k in checked if "." in axes[k].name}
    if plain and not mappings and spec.kind.check is None:
        return np.arange(math.prod(shape), dtype=np.int64)
    if plain and spec.kind.check_reads is not None:  # the verdict depends on these axes only
        reads = set(spec.kind.check_reads) if spec.kind.check is not None else set()
        checked = [k for k in checked if axes[k].base in reads or axes[k].base in mappings]
    sub_shape = tuple(shape[k] for k in checked)
    names = [axes[k].name for k in checked]
    declared = {param.name: param for param in spec.kind.params}
    # a swept mapping is coerced once per distinct combination of its own entries' values
    mapping_axes = {base: [j for j, k in enumerate(checked) if axes[k].base == base] for base in mappings}
    coerced: dict[tuple[str, tuple[int, ...]], Any] = {}
    ok = np.zeros(math.prod(sub_shape), dtype=bool)
    for flat, positions in enumerate(itertools.product(*(range(n) for n in sub_shape))):  # C order
        combination = {name: axes[k].values[p] for name, k, p in zip(names, checked, positions)}
        try:
            if plain:
                params = dict(spec.params)
                for name, value in combination.items():
                    base, _, item = name.partition(".")
                    if item:
                        current = params[base]
                        params[base] = {**(current if isinstance(current, Mapping) else {}), item: value}
                    else:
                        params[name] = value
                for base, at in mapping_axes.items():
                    key = (base, tuple(positions[j] for j in at))
                    if key not in coerced:
                        try:
                            coerced[key] = declared[base].coerce(params[base], where=f"{spec.where} (override)")
                        except (SpecError, ParamError) as error:
                            coerced[key] = error
                    if isinstance(coerced[key], Exception):
                        raise coerced[key]
                    params[base] = coerced[key]
                if spec.kind.check is not None:
                    spec.kind.check(params)
            else:
                spec.with_overrides(combination)
        except (SpecError, ParamError):
            continue
        ok[flat] = True
    ok = ok.reshape(sub_shape)
    full = ok.reshape([shape[k] if k in checked else 1 for k in range(len(shape))])
    return np.flatnonzero(np.broadcast_to(full, shape).ravel()).astype(np.int64)
