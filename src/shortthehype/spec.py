"""Strategy specs: TOML files in ``strategies/`` that users edit.

A spec names a strategy kind and gives its parameters, engine options (costs,
execution, limits), the backtest window, a benchmark and default sweep ranges::

    name = "sixty-forty"
    kind = "fixed-weights"
    description = "60% S&P 500, 40% Nasdaq-100, monthly rebalance."
    benchmark = "SPY"
    start = "2005-01-03"

    [params]            # the kind's parameters
    weights = { SPY = 0.6, QQQ = 0.4 }
    rebalance = "monthly"

    [engine]            # options of shortthehype.simulate
    fees = 0.0005
    slippage = 0.0005

    [sweep]             # default sweep ranges: a list, or "start:stop:step" (stop included)
    rebalance = ["weekly", "monthly", "quarterly"]

    [synthetic]         # optional: the spec on the synthetic market (demo, Monte Carlo), as --set values
    weights = "MKT:0.6,BOND:0.4"

Every setting has one flat name, so ``--set fees=0.001 --set rebalance=weekly
--set weights.SPY=0.5`` override parameters, engine options and run settings
alike.  Unknown names are refused with a "did you mean".

The backtest window follows a date that moves the trade (a parameter declared
with ``moves_window``, such as ``burry-short``'s ``entry``): overriding it sets
``start`` to it unless ``start`` is overridden too.  Wherever such a date
falls before ``start`` (an explicit ``start``, or the spec file's), it is
clamped to ``start``: nothing is decided before the window.
"""

from __future__ import annotations

import math
import os
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from shortthehype.constants import SWEEP_MAX_GRID
from shortthehype.errors import ParamError, SpecError, did_you_mean
from shortthehype.params import (
    CONTRACT_ALTERNATIVES,
    ENGINE_PARAMS,
    RUN_PARAMS,
    Param,
    check_declarations,
    format_value,
    inactive_params,
)
from shortthehype.strategies.base import StrategyKind, strategy_kind
from shortthehype.strategies.locations import strategy_dirs

__all__ = [
    "SpecSummary",
    "StrategySpec",
    "available_specs",
    "coerce_sweep_values",
    "expand_range",
    "follow_window",
    "load_spec",
    "parse_assignments",
    "read_spec_summary",
    "resolve_spec_path",
    "spec_from_mapping",
]

_TOP_LEVEL_KEYS = ("name", "kind", "description", "params", "engine", "sweep", "synthetic") + tuple(p.name for p in RUN_PARAMS)


def available_specs() -> dict[str, Path]:
    """Spec name -> file, over :func:`strategy_dirs` (earlier directories win)."""
    found: dict[str, Path] = {}
    for directory in strategy_dirs():
        for path in sorted(directory.glob("*.toml")):
            try:
                name = _read_toml(path).get("name", path.stem)
            except SpecError:
                name = path.stem
            found.setdefault(str(name), path)
    return found


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise SpecError(f"{path}: spec file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{path}: not valid TOML ({' '.join(str(exc).split())})") from None
    except UnicodeDecodeError as exc:
        raise SpecError(f"{path}: not UTF-8 text (byte {exc.start} cannot be decoded); save the spec as UTF-8") from None
    except RecursionError:
        raise SpecError(f"{path}: nested too deeply to be a spec") from None
    except OSError as exc:
        raise SpecError(f"{path}: cannot read spec ({exc.strerror})") from None


def resolve_spec_path(spec_or_name: str | os.PathLike[str]) -> Path:
    """The file of a spec given as a path or as a name from :func:`available_specs`."""
    text = str(spec_or_name)
    path = Path(text).expanduser()
    if path.suffix == ".toml" or os.sep in text or path.is_file():
        if not path.is_file():
            raise SpecError(f"{path}: spec file not found")
        return path
    specs = available_specs()
    if text in specs:
        return specs[text]
    by_stem = {path.stem: path for path in reversed(list(specs.values()))}
    if text in by_stem:
        return by_stem[text]
    searched = ", ".join(str(d) for d in strategy_dirs()) or "no strategies directory found"
    raise SpecError(f"no strategy spec named {text!r}{did_you_mean(text, specs)} (searched {searched})")


@dataclass(frozen=True)
class SpecSummary:
    """What a spec file says about itself, read without loading its kind (no strategy code runs)."""

    name: str
    kind: str
    description: str


def read_spec_summary(path: Path) -> SpecSummary:
    """Name, kind and description of a spec file; SpecError if it is not a readable TOML spec of a known kind."""
    raw = _read_toml(path)
    if "kind" not in raw:
        raise SpecError(f"{path}: missing key 'kind' (e.g. kind = \"fixed-weights\")")
    try:
        strategy_kind(str(raw["kind"]))  # the registry of built-in kinds: no strategy file is imported
    except SpecError as exc:
        raise SpecError(f"{path}: {exc}") from None
    return SpecSummary(str(raw.get("name") or path.stem), str(raw["kind"]), str(raw.get("description", "")).strip())


@dataclass(frozen=True)
class StrategySpec:
    """A validated strategy spec with every value typed and defaults filled in."""

    name: str
    kind: StrategyKind
    description: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    engine: dict[str, Any] = field(default_factory=dict)
    run: dict[str, Any] = field(default_factory=dict)
    sweep: dict[str, list[Any]] = field(default_factory=dict)
    #: Settings (as ``--set`` values) that map the spec's real tickers onto the synthetic market's, for the demo
    #: and Monte Carlo (:func:`shortthehype.demo.synthetic_overrides`).
    synthetic: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None
    #: Settings given as overrides (``--set``, ``--start``, a sweep's combination), not by the spec file.
    overridden: frozenset[str] = frozenset()
    #: How settings were adjusted to the window (a clamped entry date), one line each.
    notes: tuple[str, ...] = ()

    @property
    def where(self) -> str:
        return str(self.path) if self.path else f"spec {self.name!r}"

    def schema(self) -> dict[str, tuple[str, Param]]:
        """Every settable name -> (section, Param)."""
        return _schema(self.kind)

    def values(self) -> dict[str, Any]:
        """Every setting, flat: run settings, strategy parameters, engine options."""
        return {**self.run, **self.params, **self.engine}

    def tickers(self) -> list[str]:
        return self.kind.tickers(self.params)

    def window_settings(self) -> set[str]:
        """``start`` and the dates that move the window with them (``Param.moves_window``)."""
        return {"start"} | {p.name for p in self.kind.params if p.moves_window}

    def inactive(self) -> set[str]:
        """Strategy parameters that have no effect with this spec's values (see ``Param.applies``)."""
        return inactive_params(self.kind.params, self.params)

    def warnings(self, varied: Iterable[str] = ()) -> list[str]:
        """One line per adjusted setting (a clamped entry) and per override that has no effect.

        An override has no effect when its parameter does not apply (see
        ``Param.applies``); one whose conditions name a setting in ``varied``
        (a sweep's grid) is not reported.
        """
        varied = {name.partition(".")[0] for name in varied}
        lines = [] if varied & self.window_settings() else list(self.notes)
        for name in sorted(self.inactive() & {key.partition(".")[0] for key in self.overridden}):
            param = self.kind.param(name)
            if varied & {condition for condition, _ in param.applies}:
                continue
            now = ", ".join(f"{c} = {format_value(self.params[c])}" for c, _ in param.applies)
            lines.append(f"{self.where}: {name} has no effect: it applies only when {param.describe_applies()} (here {now})")
        return lines

    def with_overrides(self, overrides: Mapping[str, Any]) -> StrategySpec:
        """A copy with ``overrides`` applied (values typed like the spec file's, or CLI strings)."""
        sections = {"params": dict(self.params), "engine": dict(self.engine), "run": dict(self.run)}
        schema = self.schema()
        for key, raw in overrides.items():
            name, _, item = str(key).partition(".")
            if name not in schema:
                raise ParamError(
                    f"{self.where}: unknown parameter {name!r}{did_you_mean(name, schema)} "
                    f"(settable: {', '.join(sorted(schema))})"
                )
            section, param = schema[name]
            if item and param.type == "contracts":
                leg, _, field_name = item.partition(".")
                current = sections[section][name] or {}
                if leg not in current or not field_name:
                    raise ParamError(
                        f"{self.where}: {key!r} must name a contract and a field, as contracts.NAME.FIELD"
                        f" (contracts: {', '.join(current) or 'none'})"
                    )
                table = {k: v for k, v in current[leg].items() if v is not None}
                for pair in CONTRACT_ALTERNATIVES:  # setting one of a pair replaces the other
                    if field_name in pair:
                        table = {k: v for k, v in table.items() if k not in pair}
                if not (isinstance(raw, str) and raw.strip().lower() in {"none", ""}):
                    table[field_name] = raw
                raw = {**current, leg: table}
            elif item:
                if param.type not in ("weights", "float_or_map"):
                    raise ParamError(f"{self.where}: parameter {name!r} is not a mapping, so {key!r} cannot be set")
                current = sections[section][name]
                mapping = dict(current) if isinstance(current, Mapping) else {}
                mapping[item.upper()] = raw
                raw = mapping
            sections[section][name] = param.coerce(raw, where=f"{self.where} (override)")
        overridden = self.overridden | {str(key) for key in overrides}
        params, run, notes = follow_window(self.kind.params, sections["params"], sections["run"], overridden)
        kept = () if self.window_settings() & set(overrides) else self.notes  # earlier notes about the window are stale
        spec = replace(
            self, params=params, engine=sections["engine"], run=run, overridden=overridden,
            notes=tuple(dict.fromkeys(kept + tuple(f"{self.where}: {n}" for n in notes))),
        )
        spec.validate()
        return spec

    def validate(self) -> None:
        """Cross-parameter checks of the kind; raises SpecError/ParamError."""
        if self.kind.check is not None:
            try:
                self.kind.check(self.params)
            except SpecError as exc:
                raise SpecError(f"{self.where}: {exc}") from None
        start, end = self.run.get("start"), self.run.get("end")
        if start is not None and end is not None and start > end:
            raise ParamError(f"{self.where}: start {format_value(start)} is after end {format_value(end)}")


def follow_window(
    kind_params: Iterable[Param], params: Mapping[str, Any], run: Mapping[str, Any], overridden: Iterable[str]
) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """Apply the window rule of the module docstring; returns new params, run settings and notes.

    ``overridden`` names the settings given as overrides: a ``moves_window``
    date among them sets ``start`` (the earliest such date) unless ``start``
    is among them; then every such date before ``start`` is clamped to it.
    """
    params, run, overridden = dict(params), dict(run), set(overridden)
    movers = [p.name for p in kind_params if p.moves_window and params.get(p.name) is not None]
    moved = [params[name] for name in movers if name in overridden]
    if moved and "start" not in overridden:
        run["start"] = min(moved)
    notes = []
    start = run.get("start")
    for name in movers:
        if start is not None and params[name] < start:
            notes.append(
                f"{name} {format_value(params[name])} is before the backtest's start {format_value(start)}: "
                f"moved to {format_value(start)} (nothing is decided before the window)"
            )
            params[name] = start
    return params, run, notes


def _schema(kind: StrategyKind) -> dict[str, tuple[str, Param]]:
    check_declarations(kind.params, f"kind {kind.name!r}")
    schema: dict[str, tuple[str, Param]] = {}
    for section, params in (("run", RUN_PARAMS), ("params", kind.params), ("engine", ENGINE_PARAMS)):
        for param in params:
            if param.name in schema:
                raise ValueError(f"kind {kind.name!r}: parameter name {param.name!r} is used twice")
            schema[param.name] = (section, param)
    return schema


def _coerce_section(
    raw: Any, params: Iterable[Param], section: str, where: str
) -> dict[str, Any]:
    params = tuple(params)
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise SpecError(f"{where}: [{section}] must be a table")
    known = {p.name: p for p in params}
    for key in raw:
        if key not in known:
            raise SpecError(
                f"{where}: unknown key {key!r} in [{section}]{did_you_mean(key, known)} (known: {', '.join(known)})"
            )
    return {p.name: (p.coerce(raw[p.name], where=where) if p.name in raw else p.default) for p in params}


def expand_range(text: str) -> list[str]:
    """``"start:stop:step"`` -> the values as strings, stop included (within round-off)."""
    parts = text.split(":")
    if len(parts) != 3:
        raise ValueError(f"{text!r} is not start:stop:step")
    start, stop, step = (float(p) for p in parts)
    if not all(math.isfinite(v) for v in (start, stop, step)):
        raise ValueError(f"start, stop and step must be finite numbers in {text!r}")
    if step <= 0:
        raise ValueError(f"step must be > 0 in {text!r}")
    if stop < start:
        raise ValueError(f"stop < start in {text!r}")
    count = int((stop - start) / step + 1e-9) + 1
    if count > SWEEP_MAX_GRID:
        raise ValueError(f"{text!r} has {count:,} values, more than the {SWEEP_MAX_GRID:,} a grid may have; use a larger step")
    integral = all(float(p).is_integer() for p in parts)
    values = [start + i * step for i in range(count)]
    return [str(int(round(v))) if integral else repr(round(v, 12)) for v in values]


def _is_numeric_range(text: str) -> bool:
    parts = text.split(":")
    if len(parts) != 3:
        return False
    try:
        [float(p) for p in parts]
    except ValueError:
        return False
    return True


def coerce_sweep_values(param: Param, raw: Any, where: str) -> list[Any]:
    """Sweep values from a list or a ``start:stop:step`` string, each typed and checked."""
    if isinstance(raw, str) and _is_numeric_range(raw) and param.type in ("float", "int", "float_or_map", "rate"):
        try:
            items: list[Any] = expand_range(raw)
        except ValueError as exc:
            raise ParamError(f"{where}: sweep range of {param.name!r}: {exc}") from None
    elif isinstance(raw, str):
        items = [item for item in raw.split(",") if item.strip()]
    elif isinstance(raw, list):
        items = raw
    else:
        raise ParamError(f"{where}: sweep values of {param.name!r} must be a list or 'start:stop:step'")
    if not items:
        raise ParamError(f"{where}: sweep values of {param.name!r} are empty")
    return [param.coerce(item, where=where) for item in items]


def load_spec(spec_or_name: str | os.PathLike[str] | Mapping[str, Any]) -> StrategySpec:
    """Read and validate a spec from a file path, a name, or an already-parsed mapping."""
    if isinstance(spec_or_name, Mapping):
        return spec_from_mapping(spec_or_name)
    path = resolve_spec_path(spec_or_name)
    return spec_from_mapping(_read_toml(path), path=path)


def spec_from_mapping(raw: Mapping[str, Any], *, path: Path | None = None) -> StrategySpec:
    """Validate a parsed spec (the TOML document as a dict)."""
    where = str(path) if path else "spec"
    for key in raw:
        if key not in _TOP_LEVEL_KEYS:
            raise SpecError(f"{where}: unknown key {key!r}{did_you_mean(key, _TOP_LEVEL_KEYS)}")
    if "kind" not in raw:
        raise SpecError(f"{where}: missing key 'kind' (e.g. kind = \"fixed-weights\")")
    kind = strategy_kind(str(raw["kind"]))
    if kind.specialize is not None:
        raw_params = raw.get("params") or {}
        if not isinstance(raw_params, Mapping):
            raise SpecError(f"{where}: [params] must be a table")
        try:
            kind = kind.specialize(raw_params, path)
        except SpecError as exc:
            raise SpecError(f"{where}: {exc}") from None
    name = str(raw.get("name") or (path.stem if path else kind.name))
    schema = _schema(kind)
    run = _coerce_section({k: raw[k] for k in raw if k in {p.name for p in RUN_PARAMS}}, RUN_PARAMS, "top level", where)
    params = _coerce_section(raw.get("params"), kind.params, "params", where)
    engine = _coerce_section(raw.get("engine"), ENGINE_PARAMS, "engine", where)
    sweep_raw = raw.get("sweep") or {}
    if not isinstance(sweep_raw, Mapping):
        raise SpecError(f"{where}: [sweep] must be a table")
    sweep: dict[str, list[Any]] = {}
    for key, values in sweep_raw.items():
        if key not in schema:
            raise SpecError(f"{where}: [sweep] names unknown parameter {key!r}{did_you_mean(key, schema)}")
        sweep[key] = coerce_sweep_values(schema[key][1], values, where)
    synthetic = raw.get("synthetic") or {}
    if not isinstance(synthetic, Mapping):
        raise SpecError(f"{where}: [synthetic] must be a table")
    for key in synthetic:
        base = str(key).partition(".")[0]
        if base not in schema:
            raise SpecError(f"{where}: [synthetic] names unknown parameter {key!r}{did_you_mean(base, schema)}")
    params, run, notes = follow_window(kind.params, params, run, ())
    spec = StrategySpec(
        name=name,
        kind=kind,
        description=str(raw.get("description", "")).strip(),
        params=params,
        engine=engine,
        run=run,
        sweep=sweep,
        synthetic=dict(synthetic),
        path=path,
        notes=tuple(f"{where}: {n}" for n in notes),
    )
    spec.validate()
    return spec


def parse_assignments(items: Iterable[str]) -> dict[str, str]:
    """``["fees=0.001", "weights.SPY=0.5"]`` -> ``{"fees": "0.001", "weights.SPY": "0.5"}``."""
    result: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ParamError(f"--set {item!r} is not key=value")
        result[key.strip()] = value.strip()
    return result
